"""POST /stripe/webhook: Stripe's signed events, applied once, in any order.

- The signature is checked with stripe.Webhook.construct_event and
  GIGBOT_STRIPE_WEBHOOK_SECRET, or GIGBOT_STRIPE_CONNECT_WEBHOOK_SECRET: Stripe
  sends connected accounts' events (account.updated) only to a Connect
  endpoint, which has a secret of its own, and both endpoints may share this
  URL. A signature good under neither is 400 and has no effect.
- Each event id is recorded in `stripe_events` in the same transaction as its
  effect, so a replay does nothing; and every effect is idempotent on its own
  (confirm_payment, payment_failed, the freeze), so the order does not matter:
  an "expired" after a "completed" finds the payment no longer pending.
- An event for a payment or milestone we do not know is logged and answered
  200 (Stripe would retry it forever otherwise), with no effect.
- A failure on our side (database, Stripe unreachable while looking something
  up) is 500 with nothing committed, so Stripe delivers the event again.

- News that a payment was made funds only what it proves: the payment is found
  by the session's id (a PaymentIntent's metadata only says which payment's
  session to ask Stripe about, and that session must name the intent); the
  amount and currency must be the payment's; an event from a connected account
  (`account`) or from the other mode (`livemode`, see live_key) never funds.
  A mismatch funds nothing and tells the admins; money taken for the payment is
  refunded (domain.usecases.payment_checks). Other events from a connected
  account (but account.updated) or from the other mode are ignored.

Handled: checkout.session.completed / async_payment_succeeded (fund),
checkout.session.expired / async_payment_failed (the attempt ends, a new one is
possible), payment_intent.succeeded (fund, once its session names it),
payment_intent.payment_failed (a declined card: the client is told in the
chat and may retry in the same Checkout), charge.refunded (a refund made outside the bot freezes a held
milestone), charge.dispute.created (freeze the milestone, tell the admins),
account.updated (Connect onboarding finished → pay what was waiting; the person's
identity verification → the 🪪 Identity verified badge, given or taken away).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
import stripe
from aiohttp import web
from sqlalchemy.exc import IntegrityError

from bot.http import MIB, parse_json, read_body
from bot.payments.confirm import CHARGEBACK, Claim, PaymentNews, find_payment
from bot.payments.stripe_checks import livemode_of, received, refusal
from bot.payments.stripe_gateway import (
    NAME,
    StripeConnect,
    StripeGateway,
    call_stripe,
    field,
    is_onboarded,
    object_id,
    session_of,
)
from domain.errors import DomainError, NotFound
from domain.ports import UnitOfWork
from domain.usecases.payment_checks import CONNECTED_ACCOUNT, NOT_THIS_PAYMENT
from handlers.system import SystemRunner
from storage.tables import stripe_events

log = logging.getLogger(__name__)

MAX_EVENT_BYTES = 1 * MIB  # Stripe's events are a few kilobytes

Handler = Callable[[dict[str, Any], Claim], Awaitable[None]]
# A payment's news: the object, the claim, why the event is refused (refusal) and
# the connected account it came from.
PaidHandler = Callable[[dict[str, Any], Claim, str | None, str | None], Awaitable[None]]


def event_claim(event_id: str, event_type: str, news: PaymentNews) -> Claim:
    """Record the event id in the caller's transaction; False if it was there."""

    async def claim(uow: UnitOfWork) -> bool:
        session = session_of(uow)
        seen = await session.scalar(
            sa.select(stripe_events.c.id).where(stripe_events.c.id == event_id)
        )
        if seen is not None:
            return False
        try:
            async with session.begin_nested():
                await session.execute(
                    sa.insert(stripe_events).values(
                        id=event_id, type=event_type[:64], received_at=news.runner.clock.now()
                    )
                )
        except IntegrityError:  # the same event, delivered twice at once
            return False
        return True

    return claim


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class StripeWebhook:
    def __init__(
        self,
        news: PaymentNews,
        gateway: StripeGateway,
        secret: str,
        *,
        connect: StripeConnect | None = None,
        connect_secret: str | None = None,
        tolerance: int = 300,
    ) -> None:
        if not secret:
            raise ValueError("the Stripe webhook needs GIGBOT_STRIPE_WEBHOOK_SECRET")
        self.news = news
        self.gateway = gateway
        self.livemode = livemode_of(gateway)  # only news of this mode funds
        self.connect = connect
        self.secret = secret
        # Every secret an event may be signed with: the platform endpoint's, then
        # the Connect endpoint's (optional).
        self.secrets = tuple(dict.fromkeys(s for s in (secret, connect_secret) if s))
        self.tolerance = tolerance
        # News that a payment was made: checked against the payment before it funds.
        self.paid: dict[str, PaidHandler] = {
            "checkout.session.completed": self._session_paid,
            "checkout.session.async_payment_succeeded": self._session_paid,
            "payment_intent.succeeded": self._intent_succeeded,
        }
        self.handlers: dict[str, Handler] = {
            "checkout.session.expired": self._session_ended,
            "checkout.session.async_payment_failed": self._session_ended,
            "payment_intent.payment_failed": self._intent_failed,
            "charge.refunded": self._charge_refunded,
            "charge.dispute.created": self._dispute_created,
            "account.updated": self._account_updated,
        }

    async def handle(self, request: web.Request) -> web.Response:
        # Capped before reading: the signature can only be checked on the whole body.
        payload = await read_body(request, MAX_EVENT_BYTES)
        try:
            event = self.verified(payload, request.headers.get("Stripe-Signature"))
        except (ValueError, stripe.SignatureVerificationError) as exc:
            log.warning("stripe webhook refused: %s", exc)
            return web.json_response({"error": "bad signature or payload"}, status=400)
        try:
            await self.apply(event)
        except NotFound as exc:
            log.warning(
                "stripe %s %s: %s; ignored", event.get("type"), event.get("id"), exc.message
            )
        except DomainError as exc:
            # A refusal that a retry will not change (e.g. an illegal transition).
            log.warning("stripe %s %s refused: %s", event.get("type"), event.get("id"), exc.code)
        return web.json_response({"received": True})

    def verified(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event, if its signature is good under one of our secrets; raises
        stripe.SignatureVerificationError (the last secret's), or ValueError for a
        payload that is not JSON."""
        if signature is not None and not signature.isascii():
            # hmac.compare_digest raises TypeError on such a string: refuse it here.
            raise stripe.SignatureVerificationError("signature header is not ASCII", signature)
        *others, last = self.secrets
        for secret in others:
            try:
                stripe.WebhookSignature.verify_header(payload, signature, secret, self.tolerance)
            except stripe.SignatureVerificationError:
                continue
            return parse_json(payload)  # type: ignore[no-any-return]
        stripe.WebhookSignature.verify_header(payload, signature, last, self.tolerance)
        return parse_json(payload)  # type: ignore[no-any-return]

    async def apply(self, event: dict[str, Any]) -> None:
        kind, event_id = event.get("type", ""), event.get("id", "")
        obj = (event.get("data") or {}).get("object") or {}
        claim = event_claim(event_id, kind, self.news)
        refused = refusal(event, self.livemode)
        paid = self.paid.get(kind)
        if paid is not None:
            await paid(obj, claim, refused, event.get("account"))
            return
        handler = self.handlers.get(kind)
        if handler is None:
            log.debug("stripe %s %s not handled", kind, event_id)
            return
        # Connected accounts' events reach a Connect endpoint; only account.updated
        # is about us. Nothing from the other mode is.
        if refused is not None and (kind, refused) != ("account.updated", CONNECTED_ACCOUNT):
            log.warning("stripe %s %s ignored: %s", kind, event_id, refused)
            return
        await handler(obj, claim)

    async def _session_paid(
        self, session: dict[str, Any], claim: Claim, refused: str | None, account: str | None
    ) -> None:
        """Found by the session's id (never by its metadata), funded only if its
        amount_total and currency are the payment's."""
        if session.get("payment_status") not in ("paid", "no_payment_required"):
            # A delayed method (e.g. a bank debit): async_payment_succeeded follows.
            await self.news.claim_only(claim, f"stripe session {session.get('id')} awaits payment")
            return
        intent = object_id(session.get("payment_intent"))
        charge_ref = intent
        if intent and refused is None:  # a foreign intent is not ours to look up
            try:
                charge_ref = await self.gateway.charge_of(intent) or intent
            except DomainError:
                # Funding must not wait for a lookup: refunds accept the
                # PaymentIntent too, and transfers resolve it later.
                log.warning("stripe: charge of %s not found now; keeping the intent", intent)
        await self.news.succeeded(
            NAME,
            session["id"],
            charge_ref=charge_ref,
            claim=claim,
            received=received(session, refused, account),
        )

    async def _session_ended(self, session: dict[str, Any], claim: Claim) -> None:
        expired = session.get("status") == "expired"
        await self.news.failed(
            NAME,
            session["id"],
            "checkout_expired" if expired else "payment_failed",
            status="expired" if expired else "failed",
            claim=claim,
        )

    async def _intent_succeeded(
        self, intent: dict[str, Any], claim: Claim, refused: str | None, account: str | None
    ) -> None:
        """The metadata's payment id only says which payment to ask about: the
        payment's own Checkout Session, retrieved from Stripe, must name this
        PaymentIntent, and its amount and currency must be the payment's."""
        payment_id = _int((intent.get("metadata") or {}).get("payment_id"))
        if payment_id is None:
            log.info("stripe payment_intent %s is not one of ours", intent.get("id"))
            return
        session_id = await self._session_of(payment_id)
        if refused is None:
            session = await call_stripe(
                self.gateway.client.v1.checkout.sessions.retrieve_async(session_id)
            )
            named = object_id(field(session, "payment_intent"))
            if named is None:
                # Not confirmed through the session (yet): the session's own event,
                # or reconciliation, says whether it was paid.
                await self.news.claim_only(
                    claim, f"stripe intent {intent.get('id')}: {session_id} does not name it"
                )
                return
            if named != intent.get("id"):
                refused = NOT_THIS_PAYMENT
        await self.news.succeeded(
            NAME,
            session_id,
            charge_ref=object_id(intent.get("latest_charge")) or intent.get("id"),
            claim=claim,
            received=received(intent, refused, account),
        )

    async def _session_of(self, payment_id: int) -> str:
        """The Checkout Session id we stored for one of our payments; NotFound if none."""

        async def lookup(uow: UnitOfWork) -> str:
            payment = await find_payment(uow, NAME, payment_id=payment_id)
            if payment is None or not payment.external_id:
                raise NotFound("payment_not_found", "Unknown payment.", id=payment_id)
            return payment.external_id

        return await self.news.runner.run(lookup, what=f"stripe payment {payment_id}")

    async def _intent_failed(self, intent: dict[str, Any], claim: Claim) -> None:
        # A declined card on the Checkout page: the session stays open for another
        # card, so the payment stays pending; the client is told in the chat.
        error = intent.get("last_payment_error") or {}
        code = error.get("decline_code") or error.get("code") or "card_declined"
        payment_id = _int((intent.get("metadata") or {}).get("payment_id"))
        log.info("stripe payment_intent %s failed (%s)", intent.get("id"), code)
        if payment_id is None:
            await self.news.claim_only(claim, f"stripe intent {intent.get('id')} failed")
            return
        await self.news.declined(NAME, payment_id=payment_id, code=str(code), claim=claim)

    async def _charge_refunded(self, charge: dict[str, Any], claim: Claim) -> None:
        # Our own refunds settle the milestone first, so the freeze finds it
        # settled and does nothing; a refund made in Stripe's dashboard on a
        # milestone still held freezes it for an admin.
        refs = [r for r in (charge.get("id"), object_id(charge.get("payment_intent"))) if r]
        # Charges are the gateway's own ("telegram": Telegram's provider charged them).
        await self.news.chargeback(
            self.gateway.name, refs, reason="refunded_at_gateway", unless_settled=True, claim=claim
        )

    async def _dispute_created(self, dispute: dict[str, Any], claim: Claim) -> None:
        refs = [
            r
            for r in (object_id(dispute.get("charge")), object_id(dispute.get("payment_intent")))
            if r
        ]
        reason = f"{CHARGEBACK}:{dispute.get('reason') or 'unknown'}"
        await self.news.chargeback(self.gateway.name, refs, reason=reason, claim=claim)

    async def _account_updated(self, account: dict[str, Any], claim: Claim) -> None:
        connect = self.connect
        if connect is None:
            return
        runner = self.news.runner

        async def store(uow: UnitOfWork) -> tuple[bool, int | None]:
            if not await claim(uow):
                return False, None
            # The 🪪 badge follows what the account says of its person's identity.
            await connect.store_identity(uow, runner.clock, account["id"], account)
            ready = await connect.store_status(
                uow, runner.clock, account["id"], is_onboarded(account)
            )
            return ready, await connect.user_of(uow, account["id"])

        ready, user_id = await runner.run(store, what=f"stripe account {account.get('id')} updated")
        if ready and user_id is not None:
            # What waited for onboarding goes now; a failure is retried by reconcile.py.
            await pay_waiting(runner, connect, user_id)


async def pay_waiting(runner: SystemRunner, connect: StripeConnect, user_id: int | None) -> int:
    """Transfer every released milestone still owed (of one freelancer, or all),
    each in its own unit of work; returns how many transfers were made."""

    async def waiting(uow: UnitOfWork) -> list[int]:
        return await connect.waiting_milestones(uow, user_id)

    done = 0
    for milestone_id in await runner.run(waiting, what="stripe waiting transfers"):

        async def transfer(uow: UnitOfWork, milestone_id: int = milestone_id) -> str | None:
            return await connect.transfer_milestone(uow, runner.clock, milestone_id)

        try:
            if await runner.run(transfer, what=f"stripe transfer for milestone {milestone_id}"):
                done += 1
        except DomainError as exc:
            log.warning("stripe transfer for milestone %s failed: %s", milestone_id, exc.code)
    return done


def install_routes(app: web.Application, webhook: StripeWebhook) -> None:
    """Mount POST /stripe/webhook (the runtime's registration hook calls this)."""
    app.router.add_post("/stripe/webhook", webhook.handle)
