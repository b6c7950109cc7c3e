"""A Stripe payment that arrives when its milestone no longer needs it is refunded
through the Refunds API (localstripe), once, whichever webhook reports it; a
refund Stripe refuses stays due, the admins are told, and reconciliation
refunds it later. The escrow and the ledger never see that money."""

from __future__ import annotations

from localstripe import resources as ls_resources

from bot.payments.stripe_gateway import NAME
from domain.states import MilestoneStatus
from domain.usecases.payments import REFUND_DUE, late_refund_id, late_refund_key
from tests.flows.harness import Harness
from tests.flows.test_offers import all_of, deal
from tests.payments.market import CONFIG
from tests.payments.stripe_chat import (
    balances,
    milestone_status,
    pay_in_checkout,
    pending_session,
    press_pay,
    stripe_harness,
)
from tests.payments.stripe_servers import StripeEnv

[ADMIN] = sorted(CONFIG.admin_ids)


async def funded_twice(h: Harness, env: StripeEnv):  # type: ignore[no-untyped-def]
    """The first checkout ends in our books (its expiry reached us), the second
    funds the milestone; returns (carla, milestone id, the first session id)."""
    carla, _fred, _cid, [mid] = await deal(h)
    await press_pay(h, carla, mid)
    first = await pending_session(h, mid)
    assert await env.news.failed(NAME, first, "checkout_expired", status="expired")
    await pay_in_checkout(h, env, carla, mid)
    await env.deliveries.wait_kind("payment_intent.succeeded")  # localstripe's own: a no-op
    assert await milestone_status(h, mid) is MilestoneStatus.FUNDED
    return carla, mid, first


def refunds_at_stripe() -> list:
    return [o for k, o in ls_resources.store.items() if k.startswith("refund:")]


async def test_a_late_checkout_is_refunded_once_at_stripe(chat_env, db, clock) -> None:
    env = chat_env
    h = stripe_harness(env, db, clock)
    carla, mid, first = await funded_twice(h, env)
    books = await balances(h)

    # The payer still pays the first page: localstripe's payment_intent.succeeded and
    # the session's completion (twice) all report it; one refund is made.
    completed = await env.standin.pay_session(first)
    for _ in range(2):
        assert await env.standin.deliver(completed) == 200
    await env.deliveries.wait_kind("payment_intent.succeeded", 2)
    await h.deliver()
    [late] = await all_of(h, "payments", external_id=first)
    assert late.status == "refunded"
    [refund] = refunds_at_stripe()
    assert (refund.amount, refund.id) == (10_500, late_refund_id(late))
    [call] = [r for r in env.standin.requests if r.path == "/v1/refunds"]
    assert call.idempotency_key == late_refund_key(late.id)
    assert "refunded in full" in h.last(carla).text
    assert "was refunded in full" in h.last(ADMIN).text

    # Stripe reports our refund back: the milestone, funded by the other payment, stays.
    refunded = env.standin.event(
        "charge.refunded",
        {
            "id": late.charge_ref,
            "object": "charge",
            "payment_intent": None,
            "amount_refunded": 10_500,
        },
    )
    assert await env.standin.deliver(refunded) == 200
    assert await milestone_status(h, mid) is MilestoneStatus.FUNDED
    assert await balances(h) == books
    before = len(h.chat(ADMIN))
    await h.deliver()
    assert len(h.chat(ADMIN)) == before  # our own refund echoed back tells nobody

    # The payer disputes the (already refunded) late charge: nothing to freeze, but
    # the admins must handle it with Stripe.
    disputed = env.standin.event(
        "charge.dispute.created",
        {"id": "dp_late", "object": "dispute", "charge": late.charge_ref, "reason": "fraudulent"},
    )
    assert await env.standin.deliver(disputed) == 200
    await h.deliver()
    assert "Chargeback after settlement" in h.last(ADMIN).text
    assert "late payment, refunded" in h.last(ADMIN).text
    assert await milestone_status(h, mid) is MilestoneStatus.FUNDED
    assert await balances(h) == books
    assert env.standin.violations == []


async def test_a_refused_refund_is_retried_by_the_tick(chat_env, db, clock) -> None:
    env = chat_env
    h = stripe_harness(env, db, clock)
    _carla, mid, first = await funded_twice(h, env)
    books = await balances(h)

    env.standin.fail_next(503, "api_error", path="/v1/refunds")
    completed = await env.standin.pay_session(first)
    await env.deliveries.wait_kind("payment_intent.succeeded", 2)
    assert await env.standin.deliver(completed) == 200
    await h.deliver()
    [late] = await all_of(h, "payments", external_id=first)
    assert (late.status, late.failure_reason) == ("succeeded", REFUND_DUE)
    assert refunds_at_stripe() == []
    told = h.last(ADMIN).text
    assert "refused the refund" in told and "gateway_error" in told

    h.clock.advance(minutes=1)  # the next tick, once the failed call has been idle
    assert await h.engine.calls.make_due() == 1  # what Engine.tick makes again
    assert await h.engine.calls.make_due() == 0
    await h.deliver()
    [late] = await all_of(h, "payments", external_id=first)
    assert late.status == "refunded"
    assert [r.amount for r in refunds_at_stripe()] == [10_500]
    assert "was refunded in full" in h.last(ADMIN).text
    assert await milestone_status(h, mid) is MilestoneStatus.FUNDED
    assert await balances(h) == books
    assert env.standin.violations == []
