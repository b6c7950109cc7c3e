"""Buying a service (issue 15, ORDERS) through the real engine on SQLite, in English
and Russian: the package, extras, the seller's questions, the total with the fee,
paying into escrow, the seller's Accept / Decline, delivery, revisions (then a paid
extra revision), approval, a late order cancelled, /orders. Every amount shown is
checked against the ledger."""

from __future__ import annotations

import re

import pytest

from domain import ledger
from domain.fees import funding_quote, settlement
from domain.services import (
    Service,
    ServiceExtra,
    ServiceOrderStatus,
    ServicePackage,
    ServiceStatus,
)
from domain.states import ContractStatus, MilestoneStatus
from handlers.callbacks import encode
from tests.flows.harness import Harness, Person
from tests.flows.test_offers import all_of, confirm_paid, join_as, label, money_harness

AMOUNT = re.compile(r"\$[\d,]+\.\d\d")
QUESTION = "What is the brand's name?"
PACKAGES = (  # tier, name, price, days, revisions
    ("basic", "Sketch", 5_000, 5, 0),
    ("standard", "Logo", 10_000, 3, 1),
    ("premium", "Brand kit", 20_000, 2, 3),
)


@pytest.fixture
def h(db, clock) -> Harness:
    return money_harness(db, clock)


async def seed_service(db, clock, seller_id: int, questions: tuple[str, ...] = (QUESTION,)) -> int:  # type: ignore[no-untyped-def]
    """A published service with three packages and two extras, written as the
    services flow (CORE) leaves it; the id."""
    now = clock.now()
    async with db.uow() as uow:
        service = await uow.services.add(
            Service(
                seller_id=seller_id,
                title="A logo <for> your brand & more",
                description="Hand-drawn logos with three concepts to choose from.",
                category="design",
                status=ServiceStatus.ACTIVE,
                currency="USD",
                questions=list(questions),
                created_at=now,
                published_at=now,
                updated_at=now,
            )
        )
        for tier, name, price, days, revisions in PACKAGES:
            await uow.service_packages.add(
                ServicePackage(
                    service_id=service.id,  # type: ignore[arg-type]
                    tier=tier,
                    name=name,
                    included=f"{name}: vector files",
                    price=price,
                    delivery_days=days,
                    revisions=revisions,
                )
            )
        for k, (title, price, delta) in enumerate(
            (("Source files", 2_000, 0), ("Express delivery", 3_000, -1)), start=1
        ):
            await uow.service_extras.add(
                ServiceExtra(
                    service_id=service.id,  # type: ignore[arg-type]
                    position=k,
                    title=title,
                    price=price,
                    days_delta=delta,
                )
            )
        await uow.commit()
    return service.id  # type: ignore[return-value]


async def people(h: Harness, lang: str = "en") -> tuple[Person, Person]:
    clara = h.person("Clara <B>", lang=lang)
    felix = h.person("Felix 🦊", lang=lang)
    await join_as(h, clara, "client")
    await join_as(h, felix, "freelancer")
    return clara, felix


async def buy(
    h: Harness, clara: Person, sid: int, tier: str = "standard", answer: str = "Acme & <Co>"
) -> str:
    """The card's package button → Source files → Continue → the answer: the total's text."""
    lang = clara.language_code or "en"
    await h.press_data(clara, encode("ord", "buy", sid, tier))  # a card's button ("buy": old code)
    await h.press(clara, label("ord.btn.extra_off", lang, title="Source files", price="$20.00"))
    assert h.last(clara).button(
        label("ord.btn.extra_on", lang, title="Source files", price="$20.00")
    )
    await h.press(clara, label("ord.btn.next", lang))
    assert QUESTION in h.last(clara).text
    await h.send(clara, answer)
    return h.last(clara).text


async def pay(h: Harness, clara: Person) -> tuple[int, int, int]:
    """Pay on the total's screen, the gateway confirms: (order, contract, milestone) ids."""
    lang = clara.language_code or "en"
    await h.press(clara, label("ord.btn.pay", lang, total="$126.00"))
    [order] = await all_of(h, "service_orders", buyer_id=clara.id)
    [m] = await all_of(h, "milestones", contract_id=order.contract_id)
    assert await confirm_paid(h, m.id)
    return order.id, order.contract_id, m.id


async def order(h: Harness, oid: int):  # type: ignore[no-untyped-def]
    [found] = await all_of(h, "service_orders", id=oid)
    return found


async def ledger_sums_to_zero(h: Harness) -> None:
    async with h.db.uow() as uow:
        balances = await uow.ledger.balances("")
    assert sum(balances.values()) == 0
    assert all(v >= 0 for k, v in balances.items() if k.startswith(("escrow:", "freelancer:")))


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_buy_accept_deliver_revise_approve(h, lang):
    clara, felix = await people(h, lang)
    sid = await seed_service(h.db, h.clock, felix.id)
    total_text = await buy(h, clara, sid)
    q = funding_quote(12_000, 500)
    assert q.total == 12_600
    for shown in ("$100.00", "$20.00", "$120.00", "$6.00", "$126.00"):
        assert shown in total_text
    assert "Acme &amp; &lt;Co&gt;" in h.last(clara).html  # the answer, escaped

    oid, cid, mid = await pay(h, clara)
    o = await order(h, oid)
    assert o.status is ServiceOrderStatus.AWAITING_ACCEPTANCE and o.total == 12_000
    assert o.package_delivery_days == 3 and o.revisions_allowed == 1
    [c] = await all_of(h, "contracts", id=cid)
    assert c.job_id is None and c.status is ContractStatus.OFFERED
    async with h.db.uow() as uow:
        assert await uow.ledger.balance(ledger.escrow_account(mid)) == 12_600
    news = h.last(felix)
    assert QUESTION in news.text and "Acme &amp; &lt;Co&gt;" in news.html
    assert "$108.00" in news.text  # $120 less the 10 % fee
    await h.press(felix, label("ord.btn.accept", lang))
    o = await order(h, oid)
    assert o.status is ServiceOrderStatus.IN_PROGRESS and o.due_at is not None
    [c] = await all_of(h, "contracts", id=cid)
    assert c.status is ContractStatus.ACTIVE and c.auto_release_days == 3
    assert label("ord.btn.deliver", lang) in h.last(felix).labels()

    # Delivery, one revision (the package's), a second delivery, then the paid extra.
    await h.press(felix, label("ord.btn.deliver", lang))
    await h.send(felix, "Here are three concepts.")
    await h.press(felix, label("work.btn.send", lang))
    assert (await order(h, oid)).status is ServiceOrderStatus.DELIVERED
    await h.press_data(clara, encode("wk", "request_changes", mid))
    await h.send(clara, "Please make it blue.")
    o = await order(h, oid)
    assert o.revisions_used == 1 and o.status is ServiceOrderStatus.IN_PROGRESS
    await h.press_data(felix, encode("wk", "submit", mid))
    await h.send(felix, "Blue now.")
    await h.press(felix, label("work.btn.send", lang))
    # The revisions are used: asking again is refused, the paid extra is offered.
    paid_extra = label("ord.btn.extra_revision", lang, price="$20.00")
    assert paid_extra in h.last(clara).labels()
    await h.press_data(clara, encode("wk", "request_changes", mid))
    await h.send(clara, "And green?")
    assert h.last(clara).text == label("error.order_revisions_used", lang)
    assert (await order(h, oid)).revisions_used == 1

    await h.send(clara, "/orders")
    await h.press(clara, h.last(clara).labels()[0])  # the order's card
    await h.press(clara, paid_extra)
    assert "$21.00" in h.last(clara).text  # $20 + 5 %
    await h.press(clara, label("ord.btn.pay", lang, total="$21.00"))
    [extra] = await all_of(h, "milestones", contract_id=cid, kind="revision")
    assert await confirm_paid(h, extra.id)
    o = await order(h, oid)
    assert o.revisions_allowed == 2
    async with h.db.uow() as uow:  # held in escrow with the order, not the seller's yet
        assert await uow.ledger.balance(ledger.freelancer_account(felix.id)) == 0
        assert await uow.ledger.balance(ledger.escrow_account(extra.id)) == 2_100
    # The contract card numbers it after the order's milestone, with its own label,
    # and gives it no buttons of its own (it follows the order).
    await h.press_data(felix, encode("ct", "view", cid))
    card = h.last(felix)
    assert f"2. 🔒 {label('ord.milestone.revision', lang)} — $20.00" in card.text
    assert "#0" not in card.text and not any("#2" in b for b in card.labels())
    # Forged buttons to settle it alone are refused, in the person's language.
    await h.press_data(clara, encode("wk", "release", extra.id))
    await h.press_data(felix, encode("wk", "confirm_refund", extra.id))
    for who in (clara, felix):
        answer = h.last_answer(who)
        refused = label("error.order_revision_follows", lang)
        assert refused in (h.last(who).text, answer.text if answer else None)
    async with h.db.uow() as uow:
        assert await uow.ledger.balance(ledger.escrow_account(extra.id)) == 2_100
    await h.press(clara, label("ord.btn.request_changes", lang))
    await h.send(clara, "Green, please.")
    assert (await order(h, oid)).revisions_used == 2
    await h.press_data(felix, encode("wk", "submit", mid))
    await h.send(felix, "Green.")
    await h.press(felix, label("work.btn.send", lang))

    await h.press_data(clara, encode("wk", "approve", mid))
    await h.press_data(clara, encode("wk", "release", mid))
    o = await order(h, oid)
    assert o.status is ServiceOrderStatus.COMPLETED
    # The revision was released with the order; both are told.
    for who in (clara, felix):
        assert any(
            "$18.00" in text and "🔁" in text and "Felix" in text for text in h.texts(who)[-5:]
        )
    net = settlement(12_000, 12_000, 500, 1000).to_freelancer
    async with h.db.uow() as uow:
        assert await uow.ledger.balance(ledger.freelancer_account(felix.id)) == 1_800 + net
    await ledger_sums_to_zero(h)

    # /orders: nothing under way; the earnings of the service.
    await h.send(felix, "/orders")
    assert "$126.00" in h.last(felix).text  # $108 + $18: the order and its extra revision


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_decline_refunds_everything(h, lang):
    clara, felix = await people(h, lang)
    sid = await seed_service(h.db, h.clock, felix.id)
    await buy(h, clara, sid)
    oid, _, mid = await pay(h, clara)
    await h.press(felix, label("ord.btn.decline", lang))
    await h.press(felix, label("ord.btn.confirm_decline", lang))
    o = await order(h, oid)
    assert o.status is ServiceOrderStatus.DECLINED
    [m] = await all_of(h, "milestones", id=mid)
    assert m.status is MilestoneStatus.REFUNDED
    [call] = await all_of(h, "gateway_calls", key=f"refund:milestone:{mid}")
    assert call.amount == 12_600
    assert "$126.00" in h.last(clara).text
    # The buyer's notice offers to order it again: the card, this package first.
    await h.press(clara, label("ord.btn.order_again", lang))
    assert "A logo &lt;for&gt; your brand" in h.last(clara).html
    await ledger_sums_to_zero(h)
    # A second tap on Accept or Decline changes nothing.
    await h.press_data(felix, encode("ord", "accept", oid))
    await h.press_data(felix, encode("ord", "confirm_decline", oid))
    assert len(await all_of(h, "gateway_calls", key=f"refund:milestone:{mid}")) == 1


async def test_silence_refunds_after_the_acceptance_hours(h):
    clara, felix = await people(h)
    sid = await seed_service(h.db, h.clock, felix.id)
    await buy(h, clara, sid)
    oid, _, _ = await pay(h, clara)
    h.clock.advance(hours=23, minutes=59)
    await h.tick()
    assert (await order(h, oid)).status is ServiceOrderStatus.AWAITING_ACCEPTANCE
    h.clock.advance(minutes=1)
    await h.tick()
    assert (await order(h, oid)).status is ServiceOrderStatus.EXPIRED
    assert "$126.00" in h.last(clara).text
    assert label("ord.btn.order_again", "en") in h.last(clara).labels()
    await h.press_data(felix, encode("ord", "accept", oid))  # too late: refused
    assert (await order(h, oid)).status is ServiceOrderStatus.EXPIRED
    await ledger_sums_to_zero(h)


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_the_seller_is_reminded_before_the_window_ends(h, lang):
    clara, felix = await people(h, lang)
    sid = await seed_service(h.db, h.clock, felix.id)
    await buy(h, clara, sid)
    oid, _, _ = await pay(h, clara)
    seen = len(h.texts(felix))
    h.clock.advance(hours=16)
    await h.tick()
    await h.tick()
    news = h.texts(felix)[seen:]
    assert len(news) == 1 and "⏰" in news[0] and "Clara" in news[0]
    assert {"en": "8 hours left", "ru": "осталось 8 часов"}[lang] in news[0]
    await h.press(felix, label("ord.btn.accept", lang))  # its own buttons work
    assert (await order(h, oid)).status is ServiceOrderStatus.IN_PROGRESS


async def test_late_delivery_lets_the_buyer_cancel(h):
    clara, felix = await people(h)
    sid = await seed_service(h.db, h.clock, felix.id)
    await buy(h, clara, sid)
    oid, cid, mid = await pay(h, clara)
    await h.press(felix, label("ord.btn.accept"))
    await h.press_data(clara, encode("ord", "cancel_late", oid))  # not late yet
    assert h.last_answer(clara).text == label("error.order_not_late")
    h.clock.advance(days=3, minutes=1)
    await h.press_data(clara, encode("ord", "view", oid))
    await h.press(clara, label("ord.btn.cancel_late"))
    await h.press(clara, label("ord.btn.confirm_late"))
    o = await order(h, oid)
    assert o.status is ServiceOrderStatus.CANCELLED
    [c] = await all_of(h, "contracts", id=cid)
    assert c.status is ContractStatus.ENDED
    [call] = await all_of(h, "gateway_calls", key=f"refund:milestone:{mid}")
    assert call.amount == 12_600
    await ledger_sums_to_zero(h)


async def test_double_tap_on_pay_places_one_order(h):
    clara, felix = await people(h)
    sid = await seed_service(h.db, h.clock, felix.id)
    await buy(h, clara, sid)
    screen = h.last(clara)
    pay_data = screen.button(label("ord.btn.pay", total="$126.00"))["data"]  # type: ignore[index]
    await h.press_data(clara, pay_data, screen.message_id)
    await h.press_data(clara, pay_data, screen.message_id)
    assert len(await all_of(h, "service_orders")) == 1
    assert len(await all_of(h, "payments")) == 1


async def test_own_service_and_stale_buttons_are_refused(h):
    clara, felix = await people(h)
    sid = await seed_service(h.db, h.clock, felix.id)
    await h.press_data(felix, encode("ord", "buy", sid, "standard"))
    assert h.last_answer(felix).text == label("error.order_own_service")
    await h.press_data(clara, encode("ord", "buy", sid, "gold"))
    assert h.last_answer(clara).text == label("error.order_package_gone")
    await h.press_data(clara, encode("ord", "view", 999))
    assert h.last_answer(clara).text == label("error.order_not_found")
    assert not await all_of(h, "service_orders")


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_the_purchase_forgives_and_cancels(h, lang):
    clara, felix = await people(h, lang)
    sid = await seed_service(h.db, h.clock, felix.id)
    await h.press_data(clara, encode("ord", "purchase", sid, "basic"))
    extras = h.last(clara).labels()
    await h.send(clara, "hello?")  # typed on the extras screen: the screen again
    assert h.last(clara).labels() == extras
    await h.press(clara, label("ord.btn.next", lang))
    await h.upload(clara, "file-1")  # a file for an answer: asked in words
    assert h.last(clara).text == label("ord.answer_text_only", lang)
    await h.send(clara, "x" * 1001)  # too long: refused, the question stays
    await h.send(clara, "<b>Acme</b>")
    total = h.last(clara)
    assert "&lt;b&gt;Acme&lt;/b&gt;" in total.html and "$52.50" in total.text  # $50 + 5 %
    await h.press(clara, label("btn.cancel", lang))
    assert h.last(clara).text == label("ord.cancelled", lang)
    await h.press_data(clara, encode("ord", "pay_order"), total.message_id)  # stale now
    assert not await all_of(h, "service_orders")
    # A paused service sells nothing, even from a purchase under way.
    await h.press_data(clara, encode("ord", "purchase", sid, "basic"))
    async with h.db.uow() as uow:
        service = await uow.services.get(sid)
        service.status = ServiceStatus.PAUSED
        await uow.commit()
    await h.press(clara, label("ord.btn.next", lang))
    assert h.last_answer(clara).text == label("error.order_unavailable", lang)


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_an_unpaid_order_is_not_in_the_sellers_lists(h, lang):
    """Until it is paid an order is the buyer's business: the seller's /contracts does
    not list it (nor once it is dropped unpaid); paid, it is there with Accept."""
    clara, felix = await people(h, lang)
    sid = await seed_service(h.db, h.clock, felix.id)
    await buy(h, clara, sid)
    await h.press(clara, label("ord.btn.pay", lang, total="$126.00"))
    [o] = await all_of(h, "service_orders", buyer_id=clara.id)
    await h.send(felix, "/contracts")
    assert h.last(felix).text == label("contracts.list.empty", lang)
    await h.send(clara, "/contracts")  # the buyer sees it
    assert label("contracts.list.empty", lang) != h.last(clara).text
    [m] = await all_of(h, "milestones", contract_id=o.contract_id)
    assert await confirm_paid(h, m.id)
    await h.send(felix, "/contracts")
    assert label("contracts.list.empty", lang) != h.last(felix).text
    await h.press(felix, h.last(felix).labels()[0])
    assert label("ord.btn.accept", lang) in h.last(felix).labels()

    # A second order, never paid and dropped: never in the seller's lists.
    await buy(h, clara, sid)
    await h.press(clara, label("ord.btn.pay", lang, total="$126.00"))
    h.clock.advance(hours=24)
    await h.tick()
    async with h.db.uow() as uow:
        from domain.usecases import queries

        shown = [c.id for c in await queries.my_contracts(uow, felix.id)]
        buyers = [c.id for c in await queries.my_contracts(uow, clara.id)]
    assert shown == [o.contract_id] and len(buyers) == 2
    # The buyer is told it was dropped, with the way to order it again.
    dropped = h.last(clara)
    assert dropped.labels() == [label("ord.btn.order_again", lang)]
    await h.press(clara, label("ord.btn.order_again", lang))
    assert "A logo &lt;for&gt; your brand" in h.last(clara).html


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_order_again_opens_the_card_with_the_same_package_first(h, lang):
    """An ended order's contract offers 🔁 Order again (not a job's Hire again): the
    service's card, the package bought last time first; an old Hire again button does
    the same; a service no longer on sale is said to be gone."""
    clara, felix = await people(h, lang)
    sid = await seed_service(h.db, h.clock, felix.id)
    await buy(h, clara, sid)
    oid, cid, mid = await pay(h, clara)
    await h.press(felix, label("ord.btn.accept", lang))
    await h.press_data(felix, encode("wk", "submit", mid))
    await h.send(felix, "Done.")
    await h.press(felix, label("work.btn.send", lang))
    await h.press_data(clara, encode("wk", "approve", mid))
    await h.press_data(clara, encode("wk", "release", mid))
    await h.press_data(clara, encode("ct", "confirm_end", cid))
    [c] = await all_of(h, "contracts", id=cid)
    assert c.status is ContractStatus.ENDED

    await h.press_data(clara, encode("ct", "view", cid))
    card = h.last(clara)
    assert label("ord.btn.order_again", lang) in card.labels()
    assert label("sv.btn.hire_again", lang) not in card.labels()
    await h.press(clara, label("ord.btn.order_again", lang))
    again = h.last(clara)
    assert "A logo &lt;for&gt; your brand" in again.html
    tier = label("svc.tier.standard", lang)
    assert again.labels()[0] == label("ord.btn.buy_again", lang, tier=f"🥈 {tier}", price="$100.00")
    assert len([b for b in again.labels() if "$" in b]) == 3  # every package still there
    await h.press(clara, again.labels()[0])  # one tap: the purchase of that package
    assert label("ord.btn.next", lang) in h.last(clara).labels()
    await h.press(clara, label("btn.cancel", lang))

    await h.press_data(clara, encode("sv", "rehire", cid))  # an old Hire again: the same
    assert h.last(clara).labels()[0] == again.labels()[0]
    await h.press_data(clara, encode("ord", "view", oid))  # the order's card has it too
    assert label("ord.btn.order_again", lang) in h.last(clara).labels()

    async with h.db.uow() as uow:
        service = await uow.services.get(sid)
        service.status = ServiceStatus.PAUSED
        await uow.commit()
    await h.press(clara, label("ord.btn.order_again", lang))
    gone = h.last(clara)
    assert gone.html == label(
        "ord.again.gone", lang, title="A logo &lt;for&gt; your brand &amp; more"
    )
    assert not gone.labels()
    await h.press_data(felix, encode("ord", "again", oid))  # the seller: not theirs to buy
    assert h.last_answer(felix).text == label("error.order_not_found", lang)
