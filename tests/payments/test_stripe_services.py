"""Issue 15 with GIGBOT_PAYMENTS=stripe: a service order is paid by Stripe Checkout
through the one funding path (the stand-in and localstripe play Stripe; its signed
webhook confirms it, twice: funded once); the seller accepts, delivers, the buyer
asks for a revision and accepts: released to the seller's balance. A second order
declined by the seller is refunded in full through the Refunds API, once."""

from __future__ import annotations

from localstripe import resources as ls_resources

from domain import ledger
from domain.services import ServiceOrderStatus
from domain.states import MilestoneStatus
from handlers.callbacks import encode
from tests.flows.test_offers import all_of, label
from tests.flows.test_service_orders import buy, people, seed_service
from tests.payments.stripe_chat import (
    balances,
    checkout_url,
    milestone_status,
    stripe_harness,
    wallet,
)

SO = ServiceOrderStatus


async def _paid_in_checkout(h, env, clara) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Pay on the total's screen → the Checkout link → paid; Stripe's event twice."""
    await h.press(clara, label("ord.btn.pay", total="$126.00"))
    orders = await all_of(h, "service_orders", buyer_id=clara.id, order_by="-id")
    order = orders[0]
    [m] = await all_of(h, "milestones", contract_id=order.contract_id, kind="work")
    [payment] = await all_of(h, "payments", milestone_id=m.id)
    assert payment.amount == 12_600  # $120 and the client fee, charged by Checkout
    assert checkout_url(h, clara) == env.standin.sessions[payment.external_id]["url"]
    completed = await env.standin.pay_session(payment.external_id)
    for _ in range(2):  # delivered again: paid once
        assert await env.standin.deliver(completed) == 200
    await h.deliver()
    assert await milestone_status(h, m.id) is MilestoneStatus.FUNDED
    return order.id, m.id


async def test_a_service_order_paid_by_checkout_delivered_and_released(chat_env, db, clock):
    env = chat_env
    h = stripe_harness(env, db, clock)
    clara, felix = await people(h)
    sid = await seed_service(db, clock, felix.id)
    await buy(h, clara, sid)
    oid, mid = await _paid_in_checkout(h, env, clara)
    assert "Acme &amp; &lt;Co&gt;" in h.last(felix).html
    books = await balances(h)
    assert books[ledger.escrow_account(mid)] == 12_600

    await h.press(felix, label("ord.btn.accept"))
    await h.press(felix, label("ord.btn.deliver"))
    await h.send(felix, "Three concepts.")
    await h.press(felix, label("work.btn.send"))
    await h.press_data(clara, encode("wk", "request_changes", mid))
    await h.send(clara, "Darker, please.")
    await h.press_data(felix, encode("wk", "submit", mid))
    await h.send(felix, "Darker.")
    await h.press(felix, label("work.btn.send"))
    await h.press_data(clara, encode("wk", "approve", mid))
    await h.press_data(clara, encode("wk", "release", mid))
    [order] = await all_of(h, "service_orders", id=oid)
    assert order.status is SO.COMPLETED
    assert await wallet(h, felix) == 10_800  # $120 less 10 %; waits for Connect onboarding
    books = await balances(h)
    assert books[ledger.escrow_account(mid)] == 0 and books[ledger.PLATFORM_FEES] == 1_800
    assert sum(books.values()) == 0
    assert env.standin.violations == []


async def test_a_declined_order_is_refunded_through_the_refunds_api_once(chat_env, db, clock):
    env = chat_env
    h = stripe_harness(env, db, clock)
    clara, felix = await people(h)
    sid = await seed_service(db, clock, felix.id)
    await buy(h, clara, sid)
    oid, mid = await _paid_in_checkout(h, env, clara)
    await h.press(felix, label("ord.btn.decline"))
    await h.press(felix, label("ord.btn.confirm_decline"))
    await h.engine.calls.make_due()  # a retry finds the refund made: the same key
    refunds = [o for k, o in ls_resources.store.items() if k.startswith("refund:")]
    assert [r.amount for r in refunds] == [12_600]
    [call] = await all_of(h, "gateway_calls", kind="refund")
    assert (call.key, call.status, call.amount) == (f"refund:milestone:{mid}", "done", 12_600)
    [order] = await all_of(h, "service_orders", id=oid)
    assert order.status is SO.DECLINED
    books = await balances(h)
    assert books[ledger.escrow_account(mid)] == 0 and sum(books.values()) == 0
    assert env.standin.violations == []
