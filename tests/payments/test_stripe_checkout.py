"""Funding by Stripe Checkout: the session's shape, the webhook (signed,
deduplicated, any order), declines, expiry and Stripe's errors."""

from __future__ import annotations

import pytest
import stripe

from bot.payments.stripe_gateway import StripeGateway, stripe_client
from domain.errors import PaymentError
from domain.states import MilestoneStatus
from tests.funding import open_checkout
from tests.payments.market import CONFIG, ledger_state, make_deal
from tests.payments.stripe_helpers import (
    fund_keys,
    milestone_status,
    outbox_kinds,
    payment_row,
    recorded_events,
    start,
)


async def test_checkout_session_has_stripes_shape_and_a_double_tap_makes_one(
    stripe_env, db, clock
) -> None:
    deal = await make_deal(db, clock, amounts=(10_000,))
    first = await start(stripe_env, db, clock, deal)
    again = await start(stripe_env, db, clock, deal)  # the Pay button tapped twice
    assert again == first
    assert first.session_id.startswith("cs_test_")
    assert first.url.startswith("https://checkout.stripe.com/")

    (created,) = [r for r in stripe_env.standin.requests if r.path == "/v1/checkout/sessions"]
    assert created.idempotency_key == f"checkout:payment:{first.payment_id}"
    params = created.params
    assert params["mode"] == "payment"
    assert params["line_items"][0]["price_data"]["unit_amount"] == "10500"  # amount + 5 % fee
    assert params["line_items"][0]["price_data"]["currency"] == "usd"
    assert params["metadata"] == {
        "milestone_id": str(deal.milestone_id),
        "payment_id": str(first.payment_id),
    }
    assert params["payment_intent_data"]["metadata"]["payment_id"] == str(first.payment_id)
    assert params["client_reference_id"] == str(first.payment_id)
    assert params["success_url"].startswith("https://t.me/")
    assert stripe_env.standin.violations == []


async def test_same_idempotency_key_gives_the_same_session(stripe_env, db, clock) -> None:
    from domain.entities import Payment

    payment = Payment(id=7, milestone_id=3, payer_id=1, gateway="stripe", amount=1050)
    a = await stripe_env.gateway.start_checkout(payment, "Logo", "checkout:milestone:3:1")
    b = await stripe_env.gateway.start_checkout(payment, "Logo", "checkout:milestone:3:1")
    assert a == b
    # The same key with other parameters is Stripe's idempotency_error, mapped.
    other = Payment(id=7, milestone_id=3, payer_id=1, gateway="stripe", amount=2000)
    with pytest.raises(PaymentError) as err:
        await stripe_env.gateway.start_checkout(other, "Logo", "checkout:milestone:3:1")
    assert err.value.code == "gateway_conflict"


async def test_paid_checkout_funds_once_whatever_the_order_and_replays(
    stripe_env, db, clock
) -> None:
    deal = await make_deal(db, clock)
    started = await start(stripe_env, db, clock, deal)
    completed = await stripe_env.standin.pay_session(started.session_id)
    # localstripe sends payment_intent.succeeded by itself; wait for it first.
    await stripe_env.deliveries.wait_kind("payment_intent.succeeded")
    for _ in range(3):  # Stripe retries; the same event three times
        assert await stripe_env.standin.deliver(completed) == 200
    expired_late = stripe_env.standin.event(
        "checkout.session.expired",
        {**stripe_env.standin.sessions[started.session_id], "status": "expired"},
    )
    assert await stripe_env.standin.deliver(expired_late) == 200  # out of order: no effect

    assert await milestone_status(db, deal.milestone_id) is MilestoneStatus.FUNDED
    assert [k for k in await fund_keys(db)] == [f"fund:milestone:{deal.milestone_id}"]
    balances = await ledger_state(db)
    assert balances == {f"escrow:milestone:{deal.milestone_id}": 10_500, "gateway:stripe": -10_500}
    status, charge = await payment_row(db, started.payment_id)
    assert status == "succeeded" and charge and charge.startswith("ch_")
    assert (await outbox_kinds(db)).count("milestone_funded") == 1
    # Each distinct event id recorded once.
    assert sorted(await recorded_events(db)) == [
        "checkout.session.completed",
        "checkout.session.expired",
        "payment_intent.succeeded",
    ]


async def test_completed_before_the_intent_event_also_funds_once(stripe_env, db, clock) -> None:
    deal = await make_deal(db, clock)
    started = await start(stripe_env, db, clock, deal)
    completed = await stripe_env.standin.pay_session(started.session_id)
    assert await stripe_env.standin.deliver(completed) == 200
    await stripe_env.deliveries.wait_kind("payment_intent.succeeded")
    assert await fund_keys(db) == [f"fund:milestone:{deal.milestone_id}"]
    assert (await ledger_state(db))[f"escrow:milestone:{deal.milestone_id}"] == 10_500


async def test_bad_signature_is_400_and_has_no_effect(stripe_env, db, clock) -> None:
    deal = await make_deal(db, clock)
    started = await start(stripe_env, db, clock, deal)
    stripe_env.standin.sessions[started.session_id].update(status="complete", payment_status="paid")
    event = stripe_env.standin.event(
        "checkout.session.completed", stripe_env.standin.sessions[started.session_id]
    )
    assert await stripe_env.standin.deliver(event, secret="whsec_wrong") == 400
    assert await milestone_status(db, deal.milestone_id) is MilestoneStatus.FUNDING
    assert await ledger_state(db) == {}
    assert await recorded_events(db) == []
    # Unsigned or garbage bodies too.
    async with stripe_env.standin.http.post(stripe_env.standin.webhook_url, data=b"{}") as r:
        assert r.status == 400
    # The genuine delivery afterwards works.
    assert await stripe_env.standin.deliver(event) == 200
    assert await milestone_status(db, deal.milestone_id) is MilestoneStatus.FUNDED


async def test_event_for_unknown_milestone_is_logged_200_and_no_effect(
    stripe_env, db, clock, caplog
) -> None:
    deal = await make_deal(db, clock)
    await start(stripe_env, db, clock, deal)
    ghost = stripe_env.standin.event(
        "checkout.session.completed",
        {
            "id": "cs_test_ghost",
            "object": "checkout.session",
            "payment_status": "paid",
            "payment_intent": None,
            "metadata": {"milestone_id": "999", "payment_id": "999"},
        },
    )
    ghost_intent = stripe_env.standin.event(
        "payment_intent.succeeded",
        {
            "id": "pi_ghost",
            "object": "payment_intent",
            "metadata": {"payment_id": "999"},
            "latest_charge": "ch_ghost",
        },
    )
    with caplog.at_level("WARNING"):
        assert await stripe_env.standin.deliver(ghost) == 200
        assert await stripe_env.standin.deliver(ghost_intent) == 200
    assert "Unknown payment" in caplog.text
    assert await ledger_state(db) == {}
    assert await recorded_events(db) == []
    assert await milestone_status(db, deal.milestone_id) is MilestoneStatus.FUNDING


async def test_expired_session_ends_the_attempt_and_a_new_one_works(stripe_env, db, clock) -> None:
    deal = await make_deal(db, clock)
    first = await start(stripe_env, db, clock, deal)
    assert (
        await stripe_env.standin.deliver(stripe_env.standin.expire_session(first.session_id)) == 200
    )
    assert await payment_row(db, first.payment_id) == ("expired", None)
    assert await milestone_status(db, deal.milestone_id) is MilestoneStatus.PENDING
    assert await ledger_state(db) == {}
    assert "payment_failed" in await outbox_kinds(db)

    second = await start(stripe_env, db, clock, deal)
    assert second.session_id != first.session_id
    keys = [
        r.idempotency_key for r in stripe_env.standin.requests if r.path == "/v1/checkout/sessions"
    ]
    assert keys == [
        f"checkout:payment:{first.payment_id}",
        f"checkout:payment:{second.payment_id}",
    ]
    await stripe_env.standin.deliver(await stripe_env.standin.pay_session(second.session_id))
    assert await milestone_status(db, deal.milestone_id) is MilestoneStatus.FUNDED


async def test_declined_card_leaves_the_ledger_untouched(stripe_env, db, clock) -> None:
    deal = await make_deal(db, clock)
    started = await start(stripe_env, db, clock, deal)
    # The payer's card is declined inside Checkout: a PaymentIntent fails at
    # localstripe, which reports payment_intent.payment_failed.
    with pytest.raises(stripe.CardError):
        await stripe_env.gateway.client.v1.payment_intents.create_async(
            {
                "amount": 10_500,
                "currency": "usd",
                "payment_method": "pm_card_chargeCustomerFail",
                "confirm": True,
                "metadata": {"payment_id": str(started.payment_id)},
            }
        )
    await stripe_env.deliveries.wait_kind("payment_intent.payment_failed")
    assert ("payment_intent.payment_failed", 200) in stripe_env.deliveries.seen
    assert await ledger_state(db) == {}
    # The session is still open: the payer may try another card.
    assert await payment_row(db, started.payment_id) == ("pending", None)
    assert await milestone_status(db, deal.milestone_id) is MilestoneStatus.FUNDING


async def test_manual_capture_funds_only_when_captured(stripe_env, db, clock) -> None:
    deal = await make_deal(db, clock)
    started = await start(stripe_env, db, clock, deal)
    intents = stripe_env.gateway.client.v1.payment_intents
    intent = await intents.create_async(
        {
            "amount": 10_500,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "capture_method": "manual",
            "metadata": {"payment_id": str(started.payment_id)},
        }
    )
    assert intent.status == "requires_capture"
    # Checkout names the authorised intent; the session is complete but not paid yet.
    stripe_env.standin.sessions[started.session_id].update(
        status="complete", payment_status="unpaid", payment_intent=intent.id
    )
    assert await ledger_state(db) == {}
    await intents.capture_async(intent.id)
    await stripe_env.deliveries.wait_kind("payment_intent.succeeded")
    assert await milestone_status(db, deal.milestone_id) is MilestoneStatus.FUNDED
    status, charge = await payment_row(db, started.payment_id)
    assert status == "succeeded" and charge == intent.latest_charge.id


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (429, "rate_limit_error", "gateway_busy"),
        (402, "card_error", "card_declined"),
        (500, "api_error", "gateway_error"),
        (401, "invalid_request_error", "gateway_misconfigured"),
    ],
)
async def test_stripe_errors_become_payment_errors_and_a_retry_works(
    stripe_env, db, clock, status, kind, code
) -> None:
    deal = await make_deal(db, clock)
    stripe_env.standin.fail_next(status, kind)
    failed = await start(stripe_env, db, clock, deal)
    # The attempt ends with Stripe's reason; the milestone can be paid again.
    assert (failed.session_id, failed.url) == (None, None)
    assert await payment_row(db, failed.payment_id) == ("failed", None)
    async with db.uow() as uow:
        assert (await uow.payments.get(failed.payment_id)).failure_reason == code
    assert await milestone_status(db, deal.milestone_id) is MilestoneStatus.PENDING
    assert await ledger_state(db) == {}
    retry = await start(stripe_env, db, clock, deal)
    assert retry.session_id.startswith("cs_test_")


async def test_stripe_unreachable_is_a_clear_payment_error(db, clock) -> None:
    deal = await make_deal(db, clock)
    # A port nothing listens on (bound, then closed).
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gateway = StripeGateway(
        stripe_client("sk_test_x", f"http://127.0.0.1:{port}", max_network_retries=0),
        success_url="https://t.me/x",
    )
    payment = await open_checkout(db, clock, CONFIG, gateway, deal.client_id, deal.milestone_id)
    # The attempt ends with the reason (the client is told), and can be made again.
    assert (payment.status, payment.failure_reason) == ("failed", "gateway_unreachable")
    assert await milestone_status(db, deal.milestone_id) is MilestoneStatus.PENDING
    assert await ledger_state(db) == {}
