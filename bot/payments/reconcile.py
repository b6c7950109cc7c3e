"""Reconciliation with Stripe, for bots without a public URL and for lost webhooks.

`StripeReconciler.run_once()` (the scheduler calls it every tick in Stripe mode):
- every Checkout Session still pending in our database is retrieved; a paid one
  is confirmed and an expired one ends its attempt — through confirm.py, the
  very path the webhook takes, with the same checks (amount, currency, mode),
  so whichever comes first wins and the other is a no-op;
- freelancers owed a transfer whose Connect account is not onboarded yet (as
  far as we know) are looked up at Stripe, in case account.updated was lost;
- late payments (a milestone funded twice, or cancelled) whose refund failed
  when they arrived are refunded again (same idempotency key: once at Stripe);
- released milestones whose freelancer finished Connect onboarding and was not
  paid yet get their Transfer (retries what failed before).
"""

from __future__ import annotations

import logging

from bot.payments.confirm import PaymentNews
from bot.payments.stripe_checks import livemode_of, received, refusal
from bot.payments.stripe_gateway import (
    NAME,
    StripeConnect,
    StripeGateway,
    call_stripe,
    field,
    object_id,
)
from bot.payments.stripe_webhook import pay_waiting
from domain.errors import DomainError
from domain.ports import UnitOfWork

log = logging.getLogger(__name__)


class StripeReconciler:
    def __init__(
        self,
        news: PaymentNews,
        gateway: StripeGateway,
        connect: StripeConnect | None = None,
        *,
        batch: int = 100,
    ) -> None:
        self.news = news
        self.gateway = gateway
        self.livemode = livemode_of(gateway)
        self.connect = connect
        self.batch = batch

    async def open_sessions(self) -> list[str]:
        async def pending(uow: UnitOfWork) -> list[str]:
            rows = await uow.payments.find(gateway=NAME, status="pending", limit=self.batch)
            return [p.external_id for p in rows if p.external_id]

        return await self.news.runner.run(pending, what="stripe open sessions")

    async def check_session(self, session_id: str) -> str:
        """Apply what Stripe says about one session: "paid", "expired" or "open"."""
        session = await call_stripe(
            self.gateway.client.v1.checkout.sessions.retrieve_async(session_id)
        )
        status, paid = field(session, "status"), field(session, "payment_status")
        if status == "complete" and paid in ("paid", "no_payment_required"):
            # The webhook's checks: only the payment's amount and currency, in our mode, fund.
            refused = refusal(session, self.livemode)
            intent = object_id(field(session, "payment_intent"))
            charge = await self.gateway.charge_of(intent) if intent and not refused else None
            await self.news.succeeded(
                NAME, session_id, charge_ref=charge or intent, received=received(session, refused)
            )
            return "paid"
        if status == "expired":
            await self.news.failed(NAME, session_id, "checkout_expired", status="expired")
            return "expired"
        return "open"

    async def run_once(self) -> int:
        """One pass; returns how many payments or transfers it settled."""
        done = 0
        for session_id in await self.open_sessions():
            try:
                if await self.check_session(session_id) != "open":
                    done += 1
            except DomainError as exc:  # Stripe unreachable, rate limited …: next tick
                log.warning("stripe reconcile of %s failed: %s", session_id, exc.code)
        if self.connect is not None:
            await self.refresh_onboarding(self.connect)
            done += await pay_waiting(self.news.runner, self.connect, None)
        return done

    async def refresh_onboarding(self, connect: StripeConnect) -> int:
        """Ask Stripe about accounts that still owe onboarding; returns how many finished."""
        runner = self.news.runner

        async def waiting(uow: UnitOfWork) -> list[int]:
            return await connect.waiting_for_onboarding(uow)

        finished = 0
        for user_id in await runner.run(waiting, what="stripe accounts awaiting onboarding"):

            async def refresh(uow: UnitOfWork, user_id: int = user_id) -> bool:
                return await connect.refresh(uow, runner.clock, user_id)

            try:
                finished += await runner.run(refresh, what=f"stripe account of {user_id}")
            except DomainError as exc:  # Stripe unreachable …: next tick
                log.warning("stripe account refresh for %s failed: %s", user_id, exc.code)
        return finished
