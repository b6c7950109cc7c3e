"""The sandbox gateway: no real money, a local page decides the payment.

start_checkout returns `<public url>/pay/<payment id>?sig=<HMAC>`; the page
(sandbox_page.py) confirms or declines through confirm.py, the same path the
Stripe webhook takes. Refunds, payouts and transfers succeed at once and are
written in the sandbox's own books (SandboxBooks), one row per idempotency key,
in a transaction of their own as a bank would: the same key asked twice (a
retry after a crash) returns the same movement, never a second one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from domain.entities import GatewayCall, Payment
from domain.errors import PaymentError
from domain.ports import CheckoutStarted, UnitOfWork

NAME = "sandbox"


class PageSigner:
    """Signs payment ids so that only the link the payer was sent opens the page."""

    def __init__(self, secret: str | bytes) -> None:
        if not secret:
            raise ValueError("the sandbox page needs a signing secret")
        self._key = secret.encode() if isinstance(secret, str) else secret

    def sign(self, payment_id: int) -> str:
        return hmac.new(self._key, f"pay:{payment_id}".encode(), hashlib.sha256).hexdigest()

    def verify(self, payment_id: int, sig: str) -> bool:
        # Bytes: compare_digest raises TypeError on a str with non-ASCII characters.
        return hmac.compare_digest(self.sign(payment_id).encode(), (sig or "").encode())

    def sign_identity(self, user_id: int) -> str:
        """The identity page's signature: another purpose, so a payment link's
        signature never opens someone's identity page."""
        return hmac.new(self._key, f"identity:{user_id}".encode(), hashlib.sha256).hexdigest()

    def verify_identity(self, user_id: int, sig: str) -> bool:
        return hmac.compare_digest(self.sign_identity(user_id).encode(), (sig or "").encode())


def _derived_id(prefix: str, idempotency_key: str) -> str:
    # Derived from the key, so the same key gives the same id even after a restart.
    return prefix + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Movement:
    key: str
    kind: str
    amount: int
    currency: str
    external_id: str


class SandboxBooks(Protocol):
    """Where the sandbox gateway keeps the movements it made, by idempotency key."""

    async def record(self, movement: Movement) -> str:
        """Keep the movement unless its key is known; the external id kept for the key."""
        ...

    async def movements(self) -> list[Movement]: ...


class MemoryBooks:
    """Books that live as long as the process (unit tests, benchmarks)."""

    def __init__(self) -> None:
        self._by_key: dict[str, Movement] = {}

    async def record(self, movement: Movement) -> str:
        return self._by_key.setdefault(movement.key, movement).external_id

    async def movements(self) -> list[Movement]:
        return list(self._by_key.values())


class DatabaseBooks:
    """The sandbox's books in its database (table sandbox_movements): they survive
    a restart, so a crash-and-retry shows up as one movement, as at a real bank."""

    def __init__(self, database: Any) -> None:
        self.database = database  # storage.database.Database

    async def record(self, movement: Movement) -> str:
        from storage.tables import sandbox_movements as t

        for _ in range(2):
            async with self.database.uow() as uow:
                session = uow.session
                kept = await session.scalar(
                    sa.select(t.c.external_id).where(t.c.key == movement.key)
                )
                if kept is not None:
                    return str(kept)
                try:
                    await session.execute(
                        sa.insert(t).values(
                            key=movement.key,
                            kind=movement.kind,
                            amount=movement.amount,
                            currency=movement.currency,
                            external_id=movement.external_id,
                            created_at=self.database.now(),
                        )
                    )
                    await uow.commit()
                    return movement.external_id
                except IntegrityError:  # another process kept this key first: read it
                    continue
        raise PaymentError("gateway_error", "The sandbox books could not be written.")

    async def movements(self) -> list[Movement]:
        from storage.tables import sandbox_movements as t

        async with self.database.uow() as uow:
            rows = (await uow.session.execute(sa.select(t).order_by(t.c.created_at))).all()
        return [Movement(r.key, r.kind, r.amount, r.currency, r.external_id) for r in rows]


PREFIXES = {
    "refund": "sbx_re_",
    "late_refund": "sbx_re_",
    "payout": "sbx_tr_",
    "transfer": "sbx_tr_",
}


class SandboxGateway:
    name = NAME

    def __init__(
        self, public_url: str, secret: str | bytes, books: SandboxBooks | None = None
    ) -> None:
        self.public_url = public_url.rstrip("/")
        self.signer = PageSigner(secret)
        self.books: SandboxBooks = books if books is not None else MemoryBooks()

    def page_url(self, payment_id: int) -> str:
        return f"{self.public_url}/pay/{payment_id}?sig={self.signer.sign(payment_id)}"

    def identity_url(self, user_id: int) -> str:
        return f"{self.public_url}/verify/{user_id}?sig={self.signer.sign_identity(user_id)}"

    async def identity_link(self, uow: UnitOfWork, clock: Any, user_id: int) -> str | None:
        """The profile's "Verify identity": the sandbox's own verification page, where
        a test "Verify" (or "Revoke") stands for the gateway's identity check."""
        return self.identity_url(user_id)

    async def start_checkout(
        self, payment: Payment, description: str, idempotency_key: str
    ) -> CheckoutStarted:
        if payment.id is None:
            raise ValueError("the payment must be saved before checkout")
        return CheckoutStarted(
            external_id=_derived_id("sbx_cs_", idempotency_key), url=self.page_url(payment.id)
        )

    async def charge(self, payment_id: int, amount: int, currency: str) -> str:
        """The payer paid on the sandbox page: the charge in the books (once per
        payment, however often the page is posted); its id."""
        movement = Movement(
            key=f"charge:payment:{payment_id}",
            kind="charge",
            amount=amount,
            currency=currency,
            external_id=sandbox_charge_ref(payment_id),
        )
        return await self.books.record(movement)

    async def payout_params(self, uow: UnitOfWork, user_id: int) -> dict[str, Any]:
        return {}  # every sandbox user can receive money

    async def execute(self, call: GatewayCall, payment: Payment | None = None) -> str:
        """Make the movement the committed call describes, once per key."""
        movement = Movement(
            key=call.key,
            kind=call.kind,
            amount=call.amount,
            currency=call.currency,
            external_id=_derived_id(PREFIXES[call.kind], call.key),
        )
        return await self.books.record(movement)


def sandbox_charge_ref(payment_id: int) -> str:
    return f"sbx_ch_{payment_id}"
