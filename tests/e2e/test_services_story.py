"""Issue 15's story through the real frameworks (aiogram and python-telegram-bot,
long polling) against the Bot API emulator, with the real Runtime and the sandbox
payment page: Felix publishes a service with three packages (the /services wizard),
Clara finds it by search (/catalog), buys Standard with an extra, answers the
question, pays on the page; Felix accepts, delivers; Clara asks for a revision,
Felix delivers again, Clara accepts; both review. The ledger and the messages agree
on every amount. Then, each from a card opened by its deep link (/start
service_<id>) and paid on the page: the seller declines; the seller stays silent
past the acceptance hours (the runtime's clock is the system's, so the deadline is
brought forward in its row and the runtime's own tick acts); a late order is
cancelled by the buyer from /orders — each refunded in full, ledger and messages
agreeing.

The Stripe variant (the same purchase paid through Stripe Checkout, the stand-in in
front of localstripe, and declined by the seller: the refund through the Refunds
API) is tests/payments/test_stripe_services.py, as the other Stripe stories are
played there."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest

from domain import ledger
from domain.services import ServiceOrderStatus
from domain.states import ContractStatus, MilestoneStatus
from tests.e2e.story_steps import Message, labels, pay_on_page, visible
from tests.e2e.test_capabilities import World, world
from tests.flows.test_offers import label
from tests.flows.test_services import WORDS

__all__ = ["world"]

pytestmark = pytest.mark.asyncio(loop_scope="module")

AMOUNT = re.compile(r"\$[\d,]+\.\d\d")
W = WORDS["en"]
QUESTION = "What is the name of your brand?"


def amounts(text: str) -> set[int]:
    return {int(a[1:].replace(",", "").replace(".", "")) for a in AMOUNT.findall(text)}


def first_category(message: Message) -> str:
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for b in row:
            if str(b.get("callback_data", "")).startswith("svc:category"):
                return str(b["text"])
    raise AssertionError(f"no category button: {labels(message)}")


async def publish(w: World, felix: int, title: str) -> None:
    """The /services wizard, as a freelancer types it: three packages, one extra.
    Each step waits for the bot's answer before the next (as a person reads it)."""
    s = w.stage

    async def say(text: str, *expect: str) -> Message:
        await s.send(felix, text)
        return await s.sees(felix, *expect)

    async def tap(label_: str, *expect: str) -> Message:
        await s.press(felix, label_)
        return await s.sees(felix, *expect)

    await s.send(felix, "/services")
    await tap(W["new"], "step 1 of 8")
    await say(title, "Step 2 of 8")
    category = await say(
        "I draw clean, memorable logos for small brands, with vector files.", "Step 3 of 8"
    )
    await tap(first_category(category), "Step 4 of 8")
    await say("logo design, branding", "Chosen:", "Logo design")
    await tap(W["done"], "package's name")
    for k, (name, price, days, revisions) in enumerate(
        (("Basic", "50", "3", "1"), ("Standard", "120", "5", "2"), ("Premium", "300", "7", "3"))
    ):
        if k:
            await tap(W["add_package"], "package's name")
        await say(name, "included")
        await say(f"{name}: two concepts, vector files and a PNG", "price")
        await say(price, "Delivery time")
        await say(days, "revisions")
        await tap(revisions, f"({k + 1} of 3)")
    await tap(W["continue"], "Step 6 of 8")
    await tap(W["add_extra"], "extra's name")
    await say("Source files", "price of")
    await say("20", "delivery time")
    await tap(W["faster"], "Source files")
    await tap(W["continue"], "Step 7 of 8")
    await say("https://dribbble.com/felix", "dribbble.com/felix")
    await tap(W["continue"], "Step 8 of 8")
    await say(QUESTION, QUESTION)
    await tap(W["continue"], "Preview")
    await tap(W["publish"], W["published"])


async def review(w: World, who: int, other: str, client_side: bool) -> None:
    """End and rate in one tap, then the stars, three sub-ratings, private feedback."""
    s = w.stage
    await s.press(who, label("contracts.btn.end_and_rate"), fresh=False)
    await s.press(who, "⭐⭐⭐⭐⭐")
    await s.sees(who, "(1 of 3)")
    for k, score in enumerate(("5", "4", "5"), start=1):
        if k > 1:
            await s.sees(who, f"({k} of 3)")
        await s.press(who, score)
    await s.sees(who, "0 to 10")
    await s.press(who, "9")
    await s.sees(who, "why did the contract end")
    await s.press(who, "✅ The work was done")
    await s.sees(who, "Add a few words")
    await s.send(who, f"Working with {other} was a pleasure.")
    await s.sees(who, "stays hidden") if client_side else await s.sees_any(
        who, "stays hidden", "open", "Reviews on"
    )


async def test_publish_find_buy_deliver_revise_accept_and_review(world: World) -> None:
    s = world.stage
    felix = await world.join("Felix", "freelancer")
    clara = await world.join("Clara", "client")
    title = "A minimalist logo for your brand"
    await publish(world, felix, title)

    # Clara finds it by search and opens its card.
    await s.send(clara, "/catalog")
    await s.press(clara, label("catalog.btn.search"))
    await s.send(clara, "minimalist logo")
    results = await s.sees(clara, title)
    [hit] = [b for b in labels(results) if title in b]
    await s.press(clara, hit)
    await s.sees(clara, title, "$120.00", "Source files")

    # Standard with the extra, the answer, the total with the fee, paid on the page.
    await s.press(clara, label("svc.btn.buy", tier="🥈 Standard", price="$120.00"))
    await s.press(clara, label("ord.btn.extra_off", title="Source files", price="$20.00"))
    await s.sees(clara, "$140.00")
    await s.press(clara, label("ord.btn.next"))
    await s.sees(clara, QUESTION)
    await s.send(clara, "Acme <Coffee> & Co")
    total = visible(await s.sees(clara, "Your order", "Total to pay"))
    assert "Acme <Coffee> & Co" in total and "4 days" in total  # Standard's 5, one faster
    assert {14_000, 700, 14_700} <= amounts(total)
    await s.press(clara, label("ord.btn.pay", total="$147.00"))
    page, done = await pay_on_page(await s.url_of(clara, label("funding.btn.open_checkout")))
    assert "$147.00" in page and "Paid" in done
    paid = visible(await s.sees(clara, "Paid $147.00 into escrow"))
    news = visible(await s.sees(felix, "New order", QUESTION, "Acme <Coffee> & Co"))

    async with world.db.uow() as uow:
        [order] = await uow.service_orders.find(buyer_id=clara, limit=1)
        order = replace(order)
        contract = replace(await uow.contracts.get(order.contract_id))
        [m] = await uow.milestones.find(contract_id=contract.id)
        mid = m.id
        funded = {p.account: p.amount for p in await uow.ledger.postings_of(ledger.fund_key(mid))}
    assert order.status is ServiceOrderStatus.AWAITING_ACCEPTANCE and order.total == 14_000
    assert contract.job_id is None and funded[ledger.escrow_account(mid)] == 14_700
    assert amounts(paid) == {14_700}
    assert {14_000, 12_600} <= amounts(news)  # what Felix receives after the 10 % fee

    # Felix accepts and delivers; Clara asks for a revision; Felix delivers again.
    await s.press(felix, label("ord.btn.accept"))
    await s.sees(felix, "You accepted the order")
    await s.sees(clara, "accepted your order")
    await s.press(felix, label("ord.btn.deliver"))
    await s.send(felix, "Three concepts, see the links inside.")
    await s.press(felix, label("work.btn.send"))
    await s.sees(clara, "Three concepts")
    await s.sees(clara, "ask for changes 2 times (of 2)")
    await s.press(clara, label("work.btn.changes"), fresh=False)
    await s.send(clara, "Please make the blue darker.")
    await s.sees(felix, "Please make the blue darker.")
    await s.press(felix, label("work.btn.resubmit"))
    await s.send(felix, "Darker blue, as asked.")
    await s.press(felix, label("work.btn.send"))
    await s.sees(clara, "Darker blue")
    await s.sees(clara, "ask for changes 1 time (of 2)")

    # Clara accepts: released to Felix less his fee; the order is completed.
    await s.press(clara, label("work.btn.approve"), fresh=False)
    await s.press(clara, label("work.btn.release_confirm"))
    released = visible(await s.sees(felix, "$126.00"))
    async with world.db.uow() as uow:
        settled = {
            p.account: p.amount for p in await uow.ledger.postings_of(ledger.settle_key(mid))
        }
        done_order = replace(await uow.service_orders.get(order.id))
        milestone = replace(await uow.milestones.get(mid))
        assert await uow.ledger.total() == 0
        assert await uow.ledger.balance(ledger.escrow_account(mid)) == 0
    assert settled[ledger.freelancer_account(felix)] == 12_600
    assert settled[ledger.PLATFORM_FEES] == 2_100  # $14 + $7
    assert 12_600 in amounts(released)
    assert done_order.status is ServiceOrderStatus.COMPLETED and done_order.revisions_used == 1
    assert milestone.status is MilestoneStatus.RELEASED

    # Both review.
    await review(world, clara, "Felix", client_side=True)
    await review(world, felix, "Clara", client_side=False)
    async with world.db.uow() as uow:
        ended = replace(await uow.contracts.get(order.contract_id))
        reviews = await uow.reviews.find(contract_id=order.contract_id)
    assert ended.status is ContractStatus.ENDED and len(reviews) == 2

    # /orders: Felix's earnings from the service.
    await s.send(felix, "/orders")
    await s.sees(felix, "Earned per service", title, "$126.00")


# --- decline, silence, a late order: each refunds in full --------------------------------


async def bought(w: World, buyer: str, seller: str) -> tuple[int, int, int, int]:
    """A seeded service opened by its deep link, Standard with Source files bought and
    paid on the page: (buyer, seller, order id, milestone id)."""
    from tests.flows.test_service_orders import seed_service

    s = w.stage
    felix = await w.join(seller, "freelancer")
    clara = await w.join(buyer, "client")
    sid = await seed_service(w.db, w.clock, felix)
    await s.send(clara, f"/start service_{sid}")
    await s.press(clara, label("svc.btn.buy", tier="🥈 Standard", price="$100.00"))
    await s.press(clara, label("ord.btn.extra_off", title="Source files", price="$20.00"))
    await s.sees(clara, "$120.00")
    await s.press(clara, label("ord.btn.next"))
    await s.sees(clara, "What is the brand's name?")
    await s.send(clara, "Acme")
    await s.sees(clara, "Total to pay", "$126.00")
    await s.press(clara, label("ord.btn.pay", total="$126.00"))
    await pay_on_page(await s.url_of(clara, label("funding.btn.open_checkout")))
    await s.sees(clara, "Paid $126.00 into escrow")
    await s.sees(felix, "New order", "Acme")
    async with w.db.uow() as uow:
        [order] = await uow.service_orders.find(buyer_id=clara, limit=1)
        [m] = await uow.milestones.find(contract_id=order.contract_id, kind="work")
        return clara, felix, order.id, m.id  # type: ignore[return-value]


async def refunded_in_full(w: World, oid: int, mid: int, status: ServiceOrderStatus) -> None:
    async with w.db.uow() as uow:
        order = await uow.service_orders.get(oid)
        settled = {
            p.account: p.amount for p in await uow.ledger.postings_of(ledger.settle_key(mid))
        }
        [call] = await uow.gateway_calls.find(key=f"refund:milestone:{mid}")
        assert order.status is status
        assert settled == {
            ledger.escrow_account(mid): -12_600,
            ledger.gateway_account("sandbox"): 12_600,
        }
        assert (call.amount, call.status) == (12_600, "done")
        assert await uow.ledger.total() == 0


async def test_the_seller_declines_and_the_buyer_gets_everything_back(world: World) -> None:
    s = world.stage
    clara, felix, oid, mid = await bought(world, "Dora", "Egon")
    await s.press(felix, label("ord.btn.decline"), fresh=False)
    await s.sees(felix, "Decline the order", "$126.00")
    await s.press(felix, label("ord.btn.confirm_decline"))
    await s.sees(felix, "You declined the order")
    told = visible(await s.sees(clara, "declined your order"))
    assert amounts(told) == {12_600}
    await refunded_in_full(world, oid, mid, ServiceOrderStatus.DECLINED)


async def test_silence_refunds_when_the_acceptance_hours_end(world: World) -> None:
    s = world.stage
    clara, felix, oid, mid = await bought(world, "Fay", "Gus")
    async with world.db.uow() as uow:  # the runtime's clock is the system's: 24 h are up
        order = await uow.service_orders.get_for_update(oid)
        order.accept_by = world.clock.now() - timedelta(seconds=1)
        await uow.commit()
    for who in (clara, felix):
        s._mark(who)
    assert await world.rt._tick() > 0
    told = visible(await s.sees(clara, "did not accept your order", "in time"))
    assert amounts(told) == {12_600}
    await s.sees(felix, "You did not accept the order")
    await refunded_in_full(world, oid, mid, ServiceOrderStatus.EXPIRED)


async def test_a_late_order_is_cancelled_by_the_buyer(world: World) -> None:
    s = world.stage
    clara, felix, oid, mid = await bought(world, "Hana", "Ivo")
    await s.press(felix, label("ord.btn.accept"), fresh=False)
    await s.sees(clara, "accepted your order")
    async with world.db.uow() as uow:  # the delivery time is up, nothing delivered
        order = await uow.service_orders.get_for_update(oid)
        order.due_at = world.clock.now() - timedelta(seconds=1)
        await uow.commit()
    await s.send(clara, "/orders")
    listing = await s.sees(clara, "Buying")
    await s.press(clara, next(b for b in labels(listing) if f"#{oid}" in b))
    await s.sees(clara, "Late: delivery was due")
    await s.press(clara, label("ord.btn.cancel_late"))
    await s.press(clara, label("ord.btn.confirm_late"))
    await s.sees(clara, "The order is cancelled")
    await s.sees(felix, "cancelled the order", "$126.00")
    await refunded_in_full(world, oid, mid, ServiceOrderStatus.CANCELLED)
