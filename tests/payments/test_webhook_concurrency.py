"""The same Stripe event delivered concurrently funds once, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from bot.payments.confirm import PaymentNews
from bot.payments.stripe_gateway import StripeGateway, stripe_client
from bot.payments.stripe_webhook import StripeWebhook
from domain.entities import Payment
from domain.ports import CheckoutStarted
from handlers.system import SystemRunner
from storage.tables import stripe_events
from tests.funding import open_checkout
from tests.payments.market import CONFIG, make_deal, outbox_renderer


class CheckoutOnly:
    """Stripe's side of start_checkout only (the webhook under test needs no API)."""

    name = "stripe"

    async def start_checkout(self, payment: Payment, description: str, key: str) -> CheckoutStarted:
        return CheckoutStarted(f"cs_test_{payment.id}", "https://checkout.stripe.com/x")


async def test_concurrent_replays_of_one_event_fund_once(any_db, clock) -> None:
    deal = await make_deal(any_db, clock)
    payment = await open_checkout(
        any_db, clock, CONFIG, CheckoutOnly(), deal.client_id, deal.milestone_id
    )
    runner = SystemRunner(any_db.uow, clock, CONFIG, render=outbox_renderer)
    gateway = StripeGateway(
        stripe_client("sk_test_x", "http://127.0.0.1:9"), success_url="https://t.me/x"
    )
    webhook = StripeWebhook(PaymentNews(runner), gateway, "whsec_x")
    event = {
        "id": "evt_same",
        "type": "checkout.session.completed",
        "livemode": False,
        "data": {
            "object": {
                "id": payment.external_id,
                "object": "checkout.session",
                "payment_status": "paid",
                "payment_intent": None,
                "amount_total": 10_500,
                "currency": "usd",
            }
        },
    }
    await asyncio.gather(*(webhook.apply(event) for _ in range(6)))
    async with any_db.uow() as uow:
        assert [t.key for t in await uow.ledger.transactions()] == [
            f"fund:milestone:{deal.milestone_id}"
        ]
        assert await uow.ledger.balance(f"escrow:milestone:{deal.milestone_id}") == 10_500
        assert list(await uow.session.scalars(sa.select(stripe_events.c.id))) == ["evt_same"]
        assert [m.payload.get("kind") for m in await uow.outbox.find()].count(
            "milestone_funded"
        ) == 1
