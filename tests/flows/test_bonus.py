"""Bonuses and partial releases (issue 13, parts 2 and 3), in English and Russian:
every amount in every message the parties get is checked against the ledger
(the postings of the bonus's or milestone's own transactions)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from domain import ledger
from domain.config import MarketConfig
from domain.fees import settlement
from domain.states import DisputeStage, DisputeStatus, MilestoneStatus
from handlers.callbacks import encode
from tests.flows.harness import Harness, Person
from tests.flows.test_offers import (
    all_of,
    confirm_paid,
    contract,
    deal,
    fund,
    label,
    milestones,
    money_harness,
    news,
)
from tests.flows.test_work import before_settled, submit

AMOUNT = re.compile(r"\$[\d,]+\.\d\d")


@pytest.fixture
def h(db, clock) -> Harness:
    return money_harness(db, clock)


def amounts(text: str) -> set[int]:
    """Every money amount a message shows, in cents."""
    return {int(a[1:].replace(",", "").replace(".", "")) for a in AMOUNT.findall(text)}


async def postings(h: Harness, key: str) -> dict[str, int]:
    async with h.db.uow() as uow:
        return {p.account: p.amount for p in await uow.ledger.postings_of(key)}


async def wallet(h: Harness, who: Person) -> int:
    async with h.db.uow() as uow:
        return await uow.ledger.balance(ledger.freelancer_account(who.id))


async def bonus_ids(h: Harness, cid: int) -> list[int]:
    return [m.id for m in await all_of(h, "milestones", contract_id=cid, kind="bonus")]


async def give_bonus(h: Harness, carla: Person, cid: int, amount: str) -> tuple[str, str]:
    """Card → 🎁 Bonus → the amount → Pay: (the quote's text, the checkout message's)."""
    lang = carla.language_code or "en"
    await h.press_data(carla, encode("ct", "view", cid))
    await h.press(carla, label("bonus.btn.start", lang))
    await h.send(carla, amount)
    quote = h.last(carla)
    text = quote.text  # the checkout's link replaces it
    pay = quote.buttons[0][0]  # type: ignore[index]
    await h.press_data(carla, pay["data"], quote.message_id)
    return text, h.last(carla).text


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_bonus_is_paid_like_a_funding_and_lands_in_the_balance(h, lang):
    carla, fred, cid, _ = await deal(h, client_lang=lang, freelancer_lang=lang)
    quote, checkout = await give_bonus(h, carla, cid, "40")
    [bid] = await bonus_ids(h, cid)
    [payment] = await all_of(h, "payments", milestone_id=bid)
    assert payment.amount == 4_200 and payment.status == "pending"  # the client fee on top
    before = await wallet(h, fred)

    assert await confirm_paid(h, bid)
    fund_ = await postings(h, ledger.fund_key(bid))
    settle = await postings(h, ledger.settle_key(bid))
    to_fred = settle[ledger.freelancer_account(fred.id)]
    fees = settle[ledger.PLATFORM_FEES]
    total = fund_[ledger.escrow_account(bid)]
    assert (total, to_fred, fees) == (4_200, 3_600, 600)
    assert await wallet(h, fred) == before + to_fred
    # The quote and the checkout said what the ledger then moved.
    assert amounts(quote) == {4_000, total - 4_000, total, to_fred}
    assert amounts(checkout) == {total}
    fred_news = h.last(fred)
    assert amounts(fred_news.text) == {4_000, to_fred}
    assert fred_news.button(label("work.btn.balance", lang))
    assert amounts(h.last(carla).text) == {4_000, total, total - 4_000, to_fred}
    # Not a milestone: the card lists Part 1 only, and the bonuses paid apart.
    await h.press_data(fred, encode("ct", "view", cid))
    card = h.last(fred).text
    assert label("bonus.card.paid", lang, total="$40.00") in card
    assert "1." in card and "2." not in card

    # The webhook again: nothing moves twice, nobody is told twice.
    told = len(h.chat(fred))
    assert not await news(h).succeeded("sandbox", payment.external_id)
    assert await wallet(h, fred) == before + to_fred
    await h.deliver()
    assert len(h.chat(fred)) == told


async def test_a_bonus_on_an_ended_contract_and_who_may_give_one(h):
    carla, fred, cid, [mid] = await deal(h)
    await fund(h, carla, mid)
    await h.press_data(carla, encode("wk", "release", mid))
    await h.press_data(carla, encode("ct", "end_contract", cid))
    await h.press(carla, label("contracts.btn.end_confirm"))
    assert str((await contract(h, cid)).status) == "ended"
    # The freelancer has no bonus button, and pressing one anyway is refused.
    await h.press_data(fred, encode("ct", "view", cid))
    assert h.last(fred).button(label("bonus.btn.start")) is None
    await h.press_data(fred, encode("bn", "start", cid))
    assert await bonus_ids(h, cid) == []
    await h.send(fred, "10")
    assert await bonus_ids(h, cid) == []

    await h.press_data(carla, encode("ct", "view", cid))
    await h.press(carla, label("bonus.btn.start"))
    await h.send(carla, "abc")  # refused like any amount
    assert "not an amount I can read" in h.last(carla).text
    assert await bonus_ids(h, cid) == []
    await h.send(carla, "-5")
    assert label("error.amount_negative") in h.last(carla).text
    assert await bonus_ids(h, cid) == []
    await h.send(carla, "25.50")
    pay = h.last(carla).buttons[0][0]  # type: ignore[index]
    await h.press_data(carla, pay["data"], h.last(carla).message_id)
    await h.press_data(carla, pay["data"], h.last(carla).message_id)  # a second tap
    [bid] = await bonus_ids(h, cid)
    assert len(await all_of(h, "payments", milestone_id=bid)) == 1
    assert await confirm_paid(h, bid)
    settle = await postings(h, ledger.settle_key(bid))
    # 25.50 less 10 % (2.55) = 22.95; the platform keeps 2.55 + 1.28 (5 %, half up).
    assert settle[ledger.freelancer_account(fred.id)] == 2_295
    assert settle[ledger.PLATFORM_FEES] == 383
    assert amounts(h.last(fred).text) == {2_550, 2_295}


# --- partial release -------------------------------------------------------------------


async def offer_part(
    h: Harness, carla: Person, mid: int, share: str, reason: str
) -> tuple[str, str]:
    """Review → ✂️ Release part → the amount → the reason → Send: (confirmation, offer)."""
    lang = carla.language_code or "en"
    await h.press_data(carla, encode("wk", "view", mid))
    await h.press(carla, label("partial.btn.start", lang))
    await h.send(carla, share)
    await h.send(carla, reason)
    confirm = h.last(carla).text
    await h.press(carla, label("partial.btn.send", lang))
    return confirm, h.last(carla).text


async def submitted_deal(h: Harness, lang: str):  # type: ignore[no-untyped-def]
    carla, fred, cid, [mid] = await deal(h, client_lang=lang, freelancer_lang=lang)
    await fund(h, carla, mid)
    await submit(h, fred, mid, "Here is the logo and the page.")
    return carla, fred, cid, mid


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_partial_release_accepted_pays_part_and_refunds_the_rest(h, lang):
    carla, fred, cid, mid = await submitted_deal(h, lang)
    confirm, _ = await offer_part(h, carla, mid, "60", "Only the logo was delivered")
    [m] = await milestones(h, cid)
    assert m.status is MilestoneStatus.PARTIAL  # its clock: the offer's deadline
    assert m.auto_release_at == h.clock.now() + timedelta(days=MarketConfig().partial_offer_days)
    offer = h.last(fred)
    assert "Only the logo was delivered" in offer.text
    shown = amounts(offer.text)
    await h.press(fred, label("partial.btn.accept", lang))

    settle = await postings(h, ledger.settle_key(mid))
    to_fred = settle[ledger.freelancer_account(fred.id)]
    refund = settle[ledger.gateway_account("sandbox")]
    fees = settle[ledger.PLATFORM_FEES]
    # 60 less 10 % = 54; back: 40 and its 5 % fee = 42; the platform: 6 + 3.
    assert (to_fred, refund, fees) == (5_400, 4_200, 900)
    assert (await milestones(h, cid))[0].status is MilestoneStatus.SPLIT
    assert amounts(confirm) == {6_000, 10_000, to_fred, refund, 4_000, refund - 4_000}
    assert shown == amounts(confirm)
    # The news of the money, then the offer to end the contract (its last milestone).
    assert amounts(before_settled(h, fred)) == {to_fred}
    assert await wallet(h, fred) == to_fred
    assert amounts(before_settled(h, carla)) == {6_000, to_fred, refund}
    # The rest goes back through the refund gateway call, once.
    [call] = await all_of(h, "gateway_calls", kind="refund", milestone_id=mid)
    assert call.amount == refund and call.key == f"refund:milestone:{mid}"


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_partial_release_declined_becomes_a_dispute_on_its_clock(h, lang):
    carla, fred, cid, mid = await submitted_deal(h, lang)
    confirm, _ = await offer_part(h, carla, mid, "30", "Half of the pages are missing")
    # Nothing settles on a decline: the figures shown are the one settlement rule's.
    split = settlement(10_000, 3_000, h.config.client_fee_bp, h.config.freelancer_fee_bp)
    rest = 10_000 - 3_000
    figures = {3_000, 10_000, split.to_freelancer, split.to_client, rest, split.to_client - rest}
    assert amounts(confirm) == amounts(h.last(fred).text) == figures
    await h.press(fred, label("partial.btn.decline", lang))
    await h.send(fred, "too short")  # a dispute's reason has 10 characters or more
    assert (await milestones(h, cid))[0].status is MilestoneStatus.PARTIAL
    await h.send(fred, "Every page was delivered as agreed in the offer.")
    [m] = await milestones(h, cid)
    assert m.status is MilestoneStatus.DISPUTED
    [dispute] = await all_of(h, "disputes", milestone_id=mid)
    assert dispute.status is DisputeStatus.OPEN and dispute.opened_by == fred.id
    assert dispute.stage is DisputeStage.RESPONSE and dispute.due_at is not None
    assert h.last(fred).button(label("partial.btn.dispute", lang))
    # The client hears of the dispute from the dispute machinery; no money moved.
    assert any("Every page was delivered" in t for t in h.texts(carla))
    assert await postings(h, ledger.settle_key(mid)) == {}
    # The old Accept button is stale now.
    await h.press_data(fred, encode("bn", "accept", mid, 3_000))
    assert (await milestones(h, cid))[0].status is MilestoneStatus.DISPUTED


async def test_partial_release_is_refused_for_the_whole_amount_or_the_wrong_person(h):
    carla, fred, cid, mid = await submitted_deal(h, "en")
    await h.press_data(carla, encode("bn", "partial", mid))
    await h.send(carla, "100")  # the whole amount is a release, not a partial one
    assert label("error.partial_too_much") in h.last(carla).text
    await h.send(carla, "150")
    assert (await milestones(h, cid))[0].status is MilestoneStatus.SUBMITTED
    await h.press_data(fred, encode("bn", "partial", mid))
    assert (await milestones(h, cid))[0].status is MilestoneStatus.SUBMITTED
    # A share changed under the freelancer's eyes is not accepted.
    await h.send(carla, "/cancel")
    await offer_part(h, carla, mid, "50", "Half is done")
    await h.press_data(fred, encode("bn", "accept", mid, 4_000))
    assert (await milestones(h, cid))[0].status is MilestoneStatus.PARTIAL
    await h.press_data(fred, encode("bn", "accept", mid, 5_000))
    assert (await milestones(h, cid))[0].status is MilestoneStatus.SPLIT


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_partial_release_taken_back_puts_the_work_under_review_again(h, lang):
    """The client takes the offer back before an answer: nothing moves, the review
    window starts again, the freelancer hears it and their Accept is refused."""
    carla, fred, cid, mid = await submitted_deal(h, lang)
    await offer_part(h, carla, mid, "60", "Only the logo was delivered")
    offer = h.last(fred)
    await h.press(carla, label("partial.btn.withdraw", lang))
    [m] = await milestones(h, cid)
    assert m.status is MilestoneStatus.SUBMITTED and m.partial_share is None
    assert m.auto_release_at == h.clock.now() + timedelta(days=MarketConfig().auto_release_days)
    day = m.auto_release_at.date().isoformat()
    assert day in h.last(carla).text
    assert label("work.btn.approve", lang) in h.last(carla).labels()
    told = label("partial.notify.withdrawn", lang, name=carla.name, title=m.title, date=day)
    assert h.last(fred).text == told  # the name escaped in the HTML, whole in the text
    accept = offer.button(label("partial.btn.accept", lang))
    assert accept is not None
    await h.press_data(fred, accept["data"], offer.message_id)  # too late
    assert h.last_answer(fred).text == label("error.partial_gone", lang)
    assert await postings(h, ledger.settle_key(mid)) == {}
    await h.press_data(carla, encode("bn", "withdraw", mid))  # twice: refused, nothing moves
    [m] = await milestones(h, cid)
    assert m.status is MilestoneStatus.SUBMITTED


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_an_unanswered_partial_release_lapses_and_the_work_is_released_later(h, lang):
    carla, fred, cid, mid = await submitted_deal(h, lang)
    await offer_part(h, carla, mid, "60", "Only the logo was delivered")
    days = MarketConfig().partial_offer_days
    h.clock.advance(days=days, seconds=-1)
    await h.tick()
    assert (await milestones(h, cid))[0].status is MilestoneStatus.PARTIAL  # not yet
    h.clock.advance(seconds=1)
    await h.tick()
    [m] = await milestones(h, cid)
    assert m.status is MilestoneStatus.SUBMITTED and m.partial_share is None
    day = m.auto_release_at.date().isoformat()
    assert day in h.last(carla).text and day in h.last(fred).text
    assert label("work.btn.approve", lang) in h.last(carla).labels()
    h.clock.advance(days=MarketConfig().auto_release_days)
    await h.tick()  # nobody acted: released in full, as any reviewed work
    assert (await milestones(h, cid))[0].status is MilestoneStatus.RELEASED
    assert await wallet(h, fred) == 9_000  # $100 less 10 %


async def test_only_the_client_takes_a_partial_release_back(h):
    carla, fred, cid, mid = await submitted_deal(h, "en")
    await offer_part(h, carla, mid, "60", "Only the logo was delivered")
    await h.press_data(fred, encode("bn", "withdraw", mid))
    assert (await milestones(h, cid))[0].status is MilestoneStatus.PARTIAL
    await h.press_data(carla, encode("ct", "view", cid))  # the card offers it too
    await h.press(carla, label("partial.btn.withdraw_n", "en", n=1))
    assert (await milestones(h, cid))[0].status is MilestoneStatus.SUBMITTED
