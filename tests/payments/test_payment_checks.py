"""Stripe's news of a payment funds only what it proves (bot/payments/stripe_webhook.py,
reconcile.py, domain/usecases/payment_checks.py): the amount and currency must be
the payment's, the event must be the platform's and of our mode (live_key: a
test key here), and a PaymentIntent must be the one the payment's own session names. A
mismatch funds nothing and tells the admins; money taken for the payment goes
back through the late-payment refund; money elsewhere is only reported."""

from __future__ import annotations

from localstripe import resources as ls_resources
from localstripe import webhooks as ls_webhooks

from bot.payments.reconcile import StripeReconciler
from bot.payments.stripe_checks import live_key
from domain.states import MilestoneStatus
from domain.usecases.payments import REFUNDED, late_refund_key
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
from tests.payments.stripe_servers import API_KEY, StripeEnv

[ADMIN] = sorted(CONFIG.admin_ids)


def refunds_at_stripe() -> list:
    return [o for k, o in ls_resources.store.items() if k.startswith("refund:")]


def refund_requests(env: StripeEnv) -> list:
    return [r for r in env.standin.requests if r.path == "/v1/refunds"]


async def quoted(h: Harness, env: StripeEnv, amount: str = "200"):  # type: ignore[no-untyped-def]
    """Carla's milestone of `amount` dollars (plus the 5 % client fee) with its
    Checkout Session open: (carla, milestone id, session id, payment id)."""
    carla, _fred, _cid, [mid] = await deal(h, amounts=(amount,))
    await press_pay(h, carla, mid)
    session_id = await pending_session(h, mid)
    [payment] = await all_of(h, "payments", external_id=session_id)
    return carla, mid, session_id, payment.id


async def test_a_session_paid_1_jpy_funds_nothing_and_is_refunded(chat_env, db, clock) -> None:
    env = chat_env
    h = stripe_harness(env, db, clock)
    carla, mid, session_id, payment_id = await quoted(h, env)
    [payment] = await all_of(h, "payments", id=payment_id)
    assert (payment.amount, payment.currency) == (21_000, "USD")

    # Stripe took 1 JPY for the session quoted at $210.00, and says so, signed.
    env.standin.sessions[session_id].update(amount_total=1, currency="jpy")
    completed = await env.standin.pay_session(session_id)
    assert completed["data"]["object"]["amount_total"] == 1
    for _ in range(2):
        assert await env.standin.deliver(completed) == 200
    await env.deliveries.wait_kind("payment_intent.succeeded")  # localstripe's, 1 JPY too
    await h.deliver()

    assert await milestone_status(h, mid) is MilestoneStatus.PENDING  # may be paid again
    assert await balances(h) == {}
    [payment] = await all_of(h, "payments", id=payment_id)
    assert (payment.status, payment.failure_reason) == ("refunded", REFUNDED)
    assert (payment.amount, payment.currency) == (1, "JPY")  # what was taken goes back
    [refund] = refunds_at_stripe()
    assert (refund.amount, refund.currency, refund.id) == (1, "jpy", payment.refund_ref)
    [call] = refund_requests(env)
    assert call.idempotency_key == late_refund_key(payment_id)
    told = [m.text for m in h.chat(ADMIN)]
    [alert] = [t for t in told if "Payment refused" in t]
    assert "¥1" in alert and "$210.00" in alert
    assert "the amount is not the payment" in alert and "the currency is not the payment" in alert
    assert "refunded in full automatically" in alert
    assert any("did not match the $210.00 quoted" in m.text for m in h.chat(carla))
    # The refund is told as what it is, not as a payment that came too late.
    assert any("was not the amount that was asked for" in m.text for m in h.chat(carla))
    assert not any("no longer needed it" in m.text for m in h.chat(carla))
    assert any("did not match what was quoted" in t for t in told)

    # Paying the milestone properly afterwards funds it, once.
    await pay_in_checkout(h, env, carla, mid)
    assert await milestone_status(h, mid) is MilestoneStatus.FUNDED
    assert (await balances(h))[f"escrow:milestone:{mid}"] == 21_000
    assert len(refunds_at_stripe()) == 1
    assert env.standin.violations == []


async def test_an_intent_from_a_connected_account_funds_nothing(chat_env, db, clock) -> None:
    env = chat_env
    h = stripe_harness(env, db, clock)
    _carla, mid, session_id, payment_id = await quoted(h, env, "100")
    elsewhere = env.standin.event(
        "payment_intent.succeeded",
        {
            "id": "pi_connected",
            "object": "payment_intent",
            "amount": 10_500,
            "amount_received": 10_500,
            "currency": "usd",
            "status": "succeeded",
            "latest_charge": "ch_connected",
            "metadata": {"milestone_id": str(mid), "payment_id": str(payment_id)},
        },
    )
    elsewhere["account"] = "acct_1Connected"
    for _ in range(2):
        assert await env.standin.deliver(elsewhere) == 200
    await h.deliver()

    assert await milestone_status(h, mid) is MilestoneStatus.FUNDING
    assert await balances(h) == {}
    [payment] = await all_of(h, "payments", id=payment_id)
    assert (payment.status, payment.charge_ref) == ("pending", None)  # untouched
    assert refund_requests(env) == []  # not the platform's money to give back
    [alert] = [m.text for m in h.chat(ADMIN) if "Payment refused" in m.text]
    assert "connected account acct_1Connected" in alert and "refunds nothing" in alert

    # The payer's own payment, through the platform, still funds the milestone, once.
    completed = await env.standin.pay_session(session_id)
    assert await env.standin.deliver(completed) == 200
    await env.deliveries.wait_kind("payment_intent.succeeded", 3)
    assert await milestone_status(h, mid) is MilestoneStatus.FUNDED
    assert await balances(h) == {f"escrow:milestone:{mid}": 10_500, "gateway:stripe": -10_500}
    assert env.standin.violations == []


async def test_live_news_is_refused_on_a_test_key(chat_env, db, clock) -> None:
    env = chat_env
    h = stripe_harness(env, db, clock)
    _carla, mid, session_id, payment_id = await quoted(h, env, "100")
    session = env.standin.sessions[session_id]
    session.update(status="complete", payment_status="paid")
    live = env.standin.event("checkout.session.completed", session)
    live["livemode"] = True
    assert await env.standin.deliver(live) == 200
    await h.deliver()
    assert await milestone_status(h, mid) is MilestoneStatus.FUNDING
    assert await balances(h) == {}
    [payment] = await all_of(h, "payments", id=payment_id)
    assert payment.status == "pending"
    assert refund_requests(env) == []
    [alert] = [m.text for m in h.chat(ADMIN) if "Payment refused" in m.text]
    assert "other mode" in alert

    # The same news in test mode funds, exactly once however often it comes.
    test = env.standin.event("checkout.session.completed", session)
    for _ in range(2):
        assert await env.standin.deliver(test) == 200
    assert await env.standin.deliver(env.standin.event("checkout.session.completed", session))
    assert await milestone_status(h, mid) is MilestoneStatus.FUNDED
    async with db.uow() as uow:
        assert [t.key for t in await uow.ledger.transactions()] == [f"fund:milestone:{mid}"]
    assert await balances(h) == {f"escrow:milestone:{mid}": 10_500, "gateway:stripe": -10_500}


def test_the_mode_is_the_secret_keys() -> None:
    assert live_key("sk_live_51Abc") and live_key("rk_live_51Abc")
    assert not live_key(API_KEY) and not live_key("sk_test_51Abc") and not live_key("")


async def test_metadata_alone_never_picks_the_payment(chat_env, db, clock) -> None:
    env = chat_env
    h = stripe_harness(env, db, clock)
    _carla, mid, session_id, payment_id = await quoted(h, env, "100")
    intents = env.gateway.client.v1.payment_intents
    stray = {
        "amount": 10_500,
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "confirm": True,
        "metadata": {"payment_id": str(payment_id)},
    }
    # A PaymentIntent on the platform that names the payment in its metadata only:
    # the payment's session names no intent, so it funds nothing.
    await intents.create_async(stray)
    await env.deliveries.wait_kind("payment_intent.succeeded")
    assert await milestone_status(h, mid) is MilestoneStatus.FUNDING
    assert await balances(h) == {}

    # The session is paid with its own intent: funded. Another stray intent is not
    # the one the session names: refused and reported, the books unchanged.
    assert await env.standin.deliver(await env.standin.pay_session(session_id)) == 200
    await env.deliveries.wait_kind("payment_intent.succeeded", 2)
    books = await balances(h)
    assert books == {f"escrow:milestone:{mid}": 10_500, "gateway:stripe": -10_500}
    other = await intents.create_async(stray)
    await env.deliveries.wait_kind("payment_intent.succeeded", 3)
    await h.deliver()
    assert await balances(h) == books
    [alert] = [m.text for m in h.chat(ADMIN) if "Payment refused" in m.text]
    assert other.id in alert and "does not name that payment" in alert
    assert refund_requests(env) == []


async def test_reconciliation_checks_what_it_reads(chat_env, db, clock) -> None:
    env = chat_env
    ls_webhooks._webhooks.clear()  # no public URL: only reconciliation hears of it
    h = stripe_harness(env, db, clock)
    _carla, mid, session_id, payment_id = await quoted(h, env)
    env.standin.sessions[session_id].update(amount_total=1, currency="jpy")
    await env.standin.pay_session(session_id)

    reconciler = StripeReconciler(env.news, env.gateway, env.connect)
    assert await reconciler.run_once() == 1
    assert await reconciler.run_once() == 0
    await h.deliver()
    assert await milestone_status(h, mid) is MilestoneStatus.PENDING
    assert await balances(h) == {}
    [payment] = await all_of(h, "payments", id=payment_id)
    assert payment.status == "refunded"
    assert [(r.amount, r.currency) for r in refunds_at_stripe()] == [(1, "jpy")]
    assert any("Payment refused" in m.text for m in h.chat(ADMIN))
