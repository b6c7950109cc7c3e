"""Stripe: Checkout Sessions fund milestones, the Refunds API returns money,
Connect Express accounts receive a Transfer per released milestone.

Everything goes through the official `stripe` library (`StripeClient` with its
async httpx client); `api_base` points it at a test server. Every request that
creates something carries an idempotency key, so a retry or a double tap
creates one object. Stripe's errors become a PaymentError with a stable code
(the translation key), raised before the ledger is touched, so a retry is
always possible.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
import stripe
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.entities import GatewayCall, Payment
from domain.errors import PaymentError
from domain.ledger import freelancer_account, settle_key, transfer_key
from domain.ports import CheckoutStarted, Clock, UnitOfWork
from domain.states import MilestoneStatus
from domain.usecases.payouts import commit_payout
from domain.usecases.verification import record_identity
from storage.tables import stripe_accounts

log = logging.getLogger(__name__)

NAME = "stripe"
T = TypeVar("T")

# Milestones whose settlement may owe the freelancer money.
PAID_OUT_STATES = (MilestoneStatus.RELEASED, MilestoneStatus.SPLIT)


def stripe_client(
    secret_key: str,
    api_base: str | None = None,
    *,
    max_network_retries: int = 2,
    timeout: float = 30,
) -> stripe.StripeClient:
    """A client for `api_base` (GIGBOT_STRIPE_API_BASE; None: Stripe's own).
    The library retries network errors itself, reusing the idempotency key."""
    bases: Any = None
    if api_base:
        base = api_base.rstrip("/")
        bases = {"api": base, "connect": base, "files": base}
    return stripe.StripeClient(
        secret_key,
        base_addresses=bases,
        http_client=stripe.HTTPXClient(timeout=timeout),
        max_network_retries=max_network_retries,
    )


def payment_error(exc: stripe.StripeError) -> PaymentError:
    """Stripe's error → our refusal, with a code the chat translates."""
    if isinstance(exc, stripe.CardError):
        code, text = "card_declined", "The card was declined."
    elif isinstance(exc, stripe.RateLimitError):
        code, text = "gateway_busy", "The payment service is busy; try again in a minute."
    elif isinstance(exc, stripe.APIConnectionError):
        code, text = "gateway_unreachable", "The payment service cannot be reached; try again."
    elif isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        code, text = "gateway_misconfigured", "Payments are misconfigured; the admins were told."
    elif isinstance(exc, stripe.IdempotencyError):
        code, text = "gateway_conflict", "That request was already made differently; try again."
    elif isinstance(exc, stripe.InvalidRequestError):
        code, text = "gateway_rejected", "The payment service refused the request."
    else:
        code, text = "gateway_error", "The payment service failed; try again."
    return PaymentError(code, text, stripe_code=getattr(exc, "code", None) or "")


async def call_stripe(request: Awaitable[T]) -> T:
    try:
        return await request
    except stripe.StripeError as exc:
        log.warning("stripe request failed: %s %s", type(exc).__name__, exc)
        raise payment_error(exc) from exc


def field(obj: Any, name: str) -> Any:
    """A field of a Stripe object (attribute access) or of a webhook's plain dict."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def object_id(value: Any) -> str | None:
    """An expandable field: an id, or the expanded object's id."""
    if value is None or isinstance(value, str):
        return value or None
    return field(value, "id")


def _meta(**values: object) -> dict[str, str]:
    return {k: str(v) for k, v in values.items() if v is not None}


def session_of(uow: UnitOfWork) -> AsyncSession:
    """The SQL session of a storage.database.SqlUnitOfWork (bot/ may know storage)."""
    return uow.session  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True, slots=True)
class ConnectAccount:
    user_id: int
    account_id: str
    onboarded: bool


async def load_account(session: AsyncSession, user_id: int) -> ConnectAccount | None:
    row = (
        await session.execute(
            sa.select(stripe_accounts).where(stripe_accounts.c.user_id == user_id)
        )
    ).first()
    return ConnectAccount(row.user_id, row.account_id, row.onboarded) if row else None


def is_onboarded(account: Any) -> bool:
    """Stripe says the account can receive money (or has given all details)."""
    get = account.get if hasattr(account, "get") else lambda k, d=None: getattr(account, k, d)
    return bool((get("charges_enabled") and get("payouts_enabled")) or get("details_submitted"))


# Requirements that are about the person's identity: while Stripe still asks for
# one of these (currently_due / past_due) or reports an error on it, the identity
# is not verified, whatever the person's verification status said before.
IDENTITY_FIELDS = ("individual.verification.", "individual.id_number", "individual.dob.")


def identity_status(account: Any) -> str:
    """What Stripe's Account object says of the person's identity: "verified" when
    `individual.verification.status` is "verified" and no identity requirement is
    due, past due or in error; "pending" while Stripe is checking; else
    "unverified" (also when the object carries no `individual`: we never infer it)."""
    individual = field(account, "individual") or {}
    verification = field(individual, "verification") or {}
    status = field(verification, "status")
    requirements = field(account, "requirements") or {}
    asked = [
        *(field(requirements, "currently_due") or []),
        *(field(requirements, "past_due") or []),
        *(field(e, "requirement") or "" for e in field(requirements, "errors") or []),
    ]
    if any(str(r).startswith(IDENTITY_FIELDS) for r in asked):
        return "pending" if status == "pending" else "unverified"
    return status if status in ("verified", "pending") else "unverified"


class StripeGateway:
    """domain.ports.PaymentGateway for Stripe."""

    name = NAME
    # Stripe keeps idempotency keys for 24 hours; a call first tried earlier than
    # this is held for an admin instead of retried (handlers/gateway_calls.py).
    idempotency_window = timedelta(hours=23)

    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        success_url: str,
        cancel_url: str | None = None,
        connect: StripeConnect | None = None,
    ) -> None:
        self.client = client
        self.success_url = success_url
        self.cancel_url = cancel_url or success_url
        self.connect = connect

    async def onboarding_link(self, uow: UnitOfWork, clock: Clock, user_id: int) -> str:
        """For the chat's withdraw flow (via ctx.gateway): the Connect onboarding
        link to send the freelancer when a payout says "stripe_onboarding_required"."""
        if self.connect is None:
            raise PaymentError("payouts_unavailable", "Payouts are not set up on this marketplace.")
        return await self.connect.onboarding_link(uow, clock, user_id)

    async def identity_link(self, uow: UnitOfWork, clock: Clock, user_id: int) -> str | None:
        """The profile's "Verify identity" (handlers/flows/verification.py): Stripe
        checks identity in Connect onboarding, so its link; None without Connect.
        An existing account is asked first, so an account.updated that never
        arrived cannot keep a verified person unbadged (the flow re-reads the badge)."""
        if self.connect is None:
            return None
        if await load_account(session_of(uow), user_id) is not None:
            try:
                await self.connect.refresh(uow, clock, user_id)
            except PaymentError as exc:  # Stripe away: the link still helps
                log.warning("stripe: account of %s not refreshed: %s", user_id, exc.code)
        return await self.connect.onboarding_link(uow, clock, user_id)

    async def payout_setup_link(self, uow: UnitOfWork, clock: Clock, user_id: int) -> str | None:
        """The balance flow's hook (handlers/flows/balance.py): a fresh Connect
        onboarding link while the freelancer cannot receive money yet, None once
        Stripe says onboarding is finished (or when Connect is not configured,
        so the withdrawal itself gives its clear refusal)."""
        if self.connect is None:
            return None
        account = await load_account(session_of(uow), user_id)
        if account is not None and account.onboarded:
            return None
        if account is not None and await self.connect.refresh(uow, clock, user_id):
            return None  # finished, but the account.updated webhook has not arrived (yet)
        return await self.connect.onboarding_link(uow, clock, user_id)

    async def start_checkout(
        self, payment: Payment, description: str, idempotency_key: str
    ) -> CheckoutStarted:
        """One Checkout Session per attempt (key `checkout:milestone:<id>:<attempt>`):
        one line item, the milestone amount plus the client fee, as quoted."""
        meta = _meta(milestone_id=payment.milestone_id, payment_id=payment.id)
        params: Any = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": payment.currency.lower(),
                        "unit_amount": payment.amount,
                        "product_data": {"name": f"{description} (incl. client fee)"[:250]},
                    },
                }
            ],
            "metadata": meta,
            "client_reference_id": str(payment.id),
            "payment_intent_data": {"metadata": meta},
            "success_url": self.success_url,
            "cancel_url": self.cancel_url,
        }
        session = await call_stripe(
            self.client.v1.checkout.sessions.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        )
        return CheckoutStarted(external_id=session.id, url=session.url or "")

    async def charge_of(self, payment_intent_id: str) -> str | None:
        """The charge behind a PaymentIntent (what refunds and transfers refer to)."""
        intent = await call_stripe(self.client.v1.payment_intents.retrieve_async(payment_intent_id))
        return object_id(field(intent, "latest_charge"))

    async def payout_params(self, uow: UnitOfWork, user_id: int) -> dict[str, Any]:
        """A withdrawal goes to the freelancer's Express account, which must have
        finished onboarding (checked before the payout is committed)."""
        account = await load_account(session_of(uow), user_id)
        if account is None or not account.onboarded:
            raise PaymentError(
                "stripe_onboarding_required",
                "Finish setting up payouts with Stripe first.",
                user_id=user_id,
            )
        return {"destination": account.account_id}

    async def execute(self, call: GatewayCall, payment: Payment | None = None) -> str:
        """The committed call, made with its key: a refund through the Refunds API
        on the funding charge; a payout or transfer as a Transfer to the account
        fixed in the call's params."""
        if call.kind in ("refund", "late_refund"):
            assert payment is not None, "a refund returns part of a payment"
            return await self._refund(payment, call)
        params: Any = {
            "amount": call.amount,
            "currency": call.currency.lower(),
            "destination": call.params["destination"],
            "metadata": _meta(
                payout_id=call.payout_id, user_id=call.user_id, milestone_id=call.milestone_id
            ),
        }
        for name in ("transfer_group", "source_transaction"):
            if call.params.get(name):
                params[name] = call.params[name]
        transfer = await call_stripe(
            self.client.v1.transfers.create_async(params, {"idempotency_key": call.key})
        )
        return transfer.id

    async def _refund(self, payment: Payment, call: GatewayCall) -> str:
        ref = payment.charge_ref
        if not ref:
            raise PaymentError("payment_not_captured", "This payment has no charge to refund.")
        target = {"charge": ref} if ref.startswith("ch_") else {"payment_intent": ref}
        params: Any = {
            **target,
            "amount": call.amount,
            "metadata": _meta(milestone_id=payment.milestone_id, payment_id=payment.id),
        }
        refund = await call_stripe(
            self.client.v1.refunds.create_async(params, {"idempotency_key": call.key})
        )
        return refund.id


class StripeConnect:
    """Freelancers' Express accounts, onboarding links and per-release Transfers.

    A released milestone's freelancer share waits in the ledger
    (`freelancer:<id>`) until the account can receive money; then one Transfer
    per milestone moves it (destination = the account, transfer_group
    `contract_<id>`, source_transaction = the funding charge), recorded in the
    ledger under `transfer:milestone:<id>` so it happens once.
    """

    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        refresh_url: str,
        return_url: str,
        country: str | None = None,
    ) -> None:
        self.client = client
        self.refresh_url = refresh_url
        self.return_url = return_url
        self.country = country
        # The gateway whose calls make the Transfers (the runner makes only its own):
        # "telegram" when Stripe is Telegram's payment provider (setup.py sets it).
        self.gateway_name = NAME

    async def ensure_account(self, uow: UnitOfWork, clock: Clock, user_id: int) -> ConnectAccount:
        session = session_of(uow)
        existing = await load_account(session, user_id)
        if existing is not None:
            return existing
        params: Any = {
            "type": "express",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": _meta(user_id=user_id),
        }
        if self.country:
            params["country"] = self.country
        account = await call_stripe(
            self.client.v1.accounts.create_async(
                params, {"idempotency_key": f"connect:account:{user_id}"}
            )
        )
        now = clock.now()
        try:
            async with session.begin_nested():
                await session.execute(
                    sa.insert(stripe_accounts).values(
                        user_id=user_id,
                        account_id=account.id,
                        onboarded=is_onboarded(account),
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:  # a concurrent tap stored it first (same key, same account)
            pass
        found = await load_account(session, user_id)
        assert found is not None
        return found

    async def onboarding_link(self, uow: UnitOfWork, clock: Clock, user_id: int) -> str:
        """The Account Link the freelancer opens from the chat (it expires in
        minutes, so a fresh one is made per request)."""
        account = await self.ensure_account(uow, clock, user_id)
        link = await call_stripe(
            self.client.v1.account_links.create_async(
                {
                    "account": account.account_id,
                    "type": "account_onboarding",
                    "refresh_url": self.refresh_url,
                    "return_url": self.return_url,
                }
            )
        )
        return link.url

    async def refresh(self, uow: UnitOfWork, clock: Clock, user_id: int) -> bool:
        """Ask Stripe whether onboarding is complete; store and return it."""
        account = await load_account(session_of(uow), user_id)
        if account is None:
            return False
        remote = await call_stripe(self.client.v1.accounts.retrieve_async(account.account_id))
        await self.store_identity(uow, clock, account.account_id, remote)
        return await self.store_status(uow, clock, account.account_id, is_onboarded(remote))

    async def store_identity(
        self, uow: UnitOfWork, clock: Clock, account_id: str, account: Any
    ) -> bool:
        """Record what the Account object says of its person's identity (the 🪪 badge
        comes and goes with it); True if the badge changed."""
        user_id = await self.user_of(uow, account_id)
        if user_id is None:
            return False
        return await record_identity(
            uow, clock, user_id, gateway=NAME, status=identity_status(account), reference=account_id
        )

    async def store_status(
        self, uow: UnitOfWork, clock: Clock, account_id: str, onboarded: bool
    ) -> bool:
        """Record what Stripe said (account.updated webhook or refresh); True if onboarded."""
        await session_of(uow).execute(
            sa.update(stripe_accounts)
            .where(stripe_accounts.c.account_id == account_id)
            .values(onboarded=onboarded, updated_at=clock.now())
        )
        return onboarded

    async def user_of(self, uow: UnitOfWork, account_id: str) -> int | None:
        return await session_of(uow).scalar(
            sa.select(stripe_accounts.c.user_id).where(stripe_accounts.c.account_id == account_id)
        )

    async def charge_of(self, payment_intent_id: str) -> str | None:
        intent = await call_stripe(self.client.v1.payment_intents.retrieve_async(payment_intent_id))
        return object_id(field(intent, "latest_charge"))

    async def _source_charge(self, uow: UnitOfWork, milestone_id: int) -> str | None:
        paid = await uow.payments.find(
            milestone_id=milestone_id,
            # Telegram Payments' charges are Stripe's too (bot/payments/telegram_pay.py).
            gateway=(NAME, "telegram"),
            status="succeeded",
            failure_reason=None,  # not a late payment waiting for its refund
            limit=1,
        )
        ref = paid[0].charge_ref if paid else None
        if ref and ref.startswith("pi_"):
            ref = await self.charge_of(ref)
        return ref or None

    async def transfer_milestone(
        self, uow: UnitOfWork, clock: Clock, milestone_id: int
    ) -> str | None:
        """Commit the Transfer of a released milestone's freelancer share, once (the
        runner makes it after the commit); its key, or None if nothing is owed or
        the freelancer's account cannot receive money yet."""
        found = await uow.milestones.get(milestone_id)
        if found is None or found.status not in PAID_OUT_STATES:
            return None
        contract = await uow.contracts.get(found.contract_id)
        assert contract is not None
        # The freelancer's row first, as every chat step and request_payout lock it
        # (the global lock order: user, then milestone): a withdrawal of the same
        # balance under way commits first, and a step of this freelancer that holds
        # their row and waits for the milestone cannot deadlock with us.
        await uow.users.get_for_update(contract.freelancer_id)
        milestone = await uow.milestones.get_for_update(milestone_id)
        if milestone is None or milestone.status not in PAID_OUT_STATES:
            return None
        # Checked under the locks: a concurrent run for this milestone has committed.
        if await uow.ledger.has(transfer_key(milestone_id)):
            return None
        wallet = freelancer_account(contract.freelancer_id)
        owed = sum(
            p.amount
            for p in await uow.ledger.postings_of(settle_key(milestone_id))
            if p.account == wallet
        )
        if owed <= 0 or await uow.ledger.balance(wallet) < owed:
            return None  # nothing owed, or already withdrawn another way
        account = await load_account(session_of(uow), contract.freelancer_id)
        if account is None or not account.onboarded:
            return None  # waits until onboarding is complete
        params: dict[str, Any] = {
            "destination": account.account_id,
            "transfer_group": f"contract_{contract.id}",
        }
        source = await self._source_charge(uow, milestone_id)
        if source:
            params["source_transaction"] = source
        # The payout, its ledger entry and the gateway call commit together; the
        # Transfer is made after the commit with the key transfer:milestone:<id>.
        _, call = await commit_payout(
            uow,
            clock,
            kind="transfer",
            user_id=contract.freelancer_id,
            amount=owed,
            currency=milestone.currency,
            gateway=self.gateway_name,
            params=params,
            milestone_id=milestone_id,
        )
        return call.key

    async def waiting_for_onboarding(self, uow: UnitOfWork) -> list[int]:
        """Freelancers owed a transfer whose account has not finished onboarding
        (as far as we know: the account.updated webhook may have been lost)."""
        users: set[int] = set()
        for milestone_id in await self.waiting_milestones(uow):
            milestone = await uow.milestones.get(milestone_id)
            contract = await uow.contracts.get(milestone.contract_id) if milestone else None
            if contract is not None:
                users.add(contract.freelancer_id)
        session = session_of(uow)
        waiting = []
        for user_id in sorted(users):
            account = await load_account(session, user_id)
            if account is not None and not account.onboarded:
                waiting.append(user_id)
        return waiting

    async def waiting_milestones(self, uow: UnitOfWork, user_id: int | None = None) -> list[int]:
        """Released milestones (of one freelancer, or everyone's) not yet transferred."""
        filters: dict[str, Any] = {"status__in": list(PAID_OUT_STATES)}
        if user_id is not None:
            contracts = await uow.contracts.find(freelancer_id=user_id)
            if not contracts:
                return []
            filters["contract_id__in"] = [c.id for c in contracts]
        milestones = await uow.milestones.find(**filters)
        return [
            m.id
            for m in milestones
            if not await uow.ledger.has(transfer_key(m.id))  # type: ignore[arg-type]
        ]
