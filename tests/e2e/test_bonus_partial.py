"""Issue 13 through the real frameworks (aiogram and python-telegram-bot, long
polling) against the Bot API emulator, with the real Runtime and the sandbox
payment page: a bonus paid on the page, a partial release accepted and one
declined into a dispute — every amount in every message the parties get checked
against the ledger's postings."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from domain import ledger
from domain.states import DisputeStatus, MilestoneStatus
from tests.e2e.story_steps import pay_on_page, visible
from tests.e2e.test_capabilities import World, open_contract, world

__all__ = ["world"]

pytestmark = pytest.mark.asyncio(loop_scope="module")

AMOUNT = re.compile(r"\$[\d,]+\.\d\d")


def amounts(text: str) -> set[int]:
    return {int(a[1:].replace(",", "").replace(".", "")) for a in AMOUNT.findall(text)}


async def postings(w: World, key: str) -> dict[str, int]:
    async with w.db.uow() as uow:
        return {p.account: p.amount for p in await uow.ledger.postings_of(key)}


async def milestone(w: World, milestone_id: int):  # type: ignore[no-untyped-def]
    async with w.db.uow() as uow:
        return replace(await uow.milestones.get(milestone_id))


async def test_a_bonus_paid_on_the_payment_page(world: World) -> None:
    s = world.stage
    bea = await world.join("Bea", "client")
    cal = await world.join("Cal", "freelancer")
    await world.hired(bea, cal, "Bonus contract", (10_000,))
    await open_contract(world, bea, "Bonus contract")
    await s.press(bea, "🎁 Bonus")
    await s.sees(bea, "A bonus for Cal")
    await s.send(bea, "40")
    quote = visible(await s.sees(bea, "Bonus: $40.00", "Total to pay: $42.00"))
    await s.press(bea, "💳 Pay $42.00")
    page, done = await pay_on_page(await s.url_of(bea, "💳 Open payment page"))
    assert "$42.00" in page and "Paid" in done
    to_cal = visible(await s.sees(cal, "Bea sent you a bonus"))
    to_bea = visible(await s.sees(bea, "Your bonus of $40.00 to Cal is paid"))

    async with world.db.uow() as uow:
        [bonus] = await uow.milestones.find(kind="bonus", order_by="-id", limit=1)
        bid = bonus.id
    funded = await postings(world, ledger.fund_key(bid))
    settled = await postings(world, ledger.settle_key(bid))
    total = funded[ledger.escrow_account(bid)]
    net = settled[ledger.freelancer_account(cal)]
    assert (total, net, settled[ledger.PLATFORM_FEES]) == (4_200, 3_600, 600)
    assert amounts(quote) == {4_000, total - 4_000, total, net}
    assert amounts(to_cal) == {4_000, net}
    assert amounts(to_bea) == {4_000, total, total - 4_000, net}


async def test_a_partial_release_accepted_and_one_declined_into_a_dispute(world: World) -> None:
    s = world.stage
    dee = await world.join("Dee", "client")
    eli = await world.join("Eli", "freelancer")
    _, [m1, m2] = await world.hired(dee, eli, "Partial contract", (10_000, 5_000))
    for mid in (m1, m2):
        await world.funded(dee, mid)
        await world.submitted(eli, mid)

    # #1: $60.00 of $100.00, accepted.
    await open_contract(world, dee, "Partial contract")
    await s.press(dee, "📦 Review #1")
    await s.press(dee, "✂️ Release part")
    await s.sees(dee, "Release part")
    await s.send(dee, "60")
    await s.sees(dee, "Why $60.00")
    await s.send(dee, "Only the logo was delivered")
    confirm = visible(await s.sees(dee, "Release $60.00 of $100.00"))
    await s.press(dee, "✂️ Send the offer")
    offer = visible(await s.sees(eli, "Dee offers to release $60.00 of $100.00"))
    assert "Only the logo was delivered" in offer
    await s.press(eli, "✅ Accept")
    accepted = visible(await s.sees(eli, "Accepted:"))
    told = visible(await s.sees(dee, "Eli accepted your partial release"))
    settled = await postings(world, ledger.settle_key(m1))
    net = settled[ledger.freelancer_account(eli)]
    refund = settled[ledger.gateway_account("sandbox")]
    assert (net, refund, settled[ledger.PLATFORM_FEES]) == (5_400, 4_200, 900)
    assert amounts(confirm) == amounts(offer) == {6_000, 10_000, net, refund, 4_000, 200}
    assert amounts(accepted) == {net}
    assert amounts(told) == {6_000, net, refund}
    assert (await milestone(world, m1)).status is MilestoneStatus.SPLIT

    # #2: $20.00 of $50.00, declined: a dispute on its clock; no money moves.
    await open_contract(world, dee, "Partial contract")
    await s.press(dee, "📦 Review #2")
    await s.press(dee, "✂️ Release part")
    await s.send(dee, "20")
    await s.send(dee, "Two of the five pages are usable")
    await s.press(dee, "✂️ Send the offer")
    offer = visible(await s.sees(eli, "Dee offers to release $20.00 of $50.00"))
    # 20 less 10 % = 18; back: 30 and its 5 % fee (1.50) = 31.50.
    assert amounts(offer) == {2_000, 5_000, 1_800, 3_150, 3_000, 150}
    await s.press(eli, "⚖️ Decline (dispute)")
    await s.send(eli, "All five pages were delivered as agreed.")
    await s.sees(eli, "a dispute is open")
    await s.sees(dee, "All five pages were delivered as agreed.")
    assert (await milestone(world, m2)).status is MilestoneStatus.DISPUTED
    async with world.db.uow() as uow:
        [dispute] = await uow.disputes.find(milestone_id=m2)
        assert dispute.status is DisputeStatus.OPEN and dispute.due_at is not None
        assert not await uow.ledger.has(ledger.settle_key(m2))
