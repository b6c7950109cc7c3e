"""Verified badges: facts from the payment gateway, never declared by anyone.

- 🪪 Identity verified: the gateway's word on a user's identity, kept in
  `uow.verifications` (one row per user), written only by what the gateway
  reports — Stripe's account.updated (bot/payments/stripe_webhook.py) or the
  sandbox's verification page (bot/payments/sandbox_page.py). It goes when the
  gateway says the identity is no longer verified.
- 💳 Payment verified: derived from the payments, never stored: at least one
  payment of the client succeeded at the gateway, entered escrow, and was not
  charged back. A refund made by the marketplace (a refunded milestone, a split,
  a late payment sent back) does not take it away: the card did pay, and the
  money went back by the marketplace's decision. A chargeback does — the bank
  took the payment back, so it proves nothing — once no other payment proves it.
"""

from __future__ import annotations

from domain.entities import IdentityVerification, Payment
from domain.events import IdentityVerificationChanged, PaymentVerificationChanged
from domain.ports import Clock, UnitOfWork
from domain.usecases.common import load

IDENTITY_STATUSES = ("verified", "pending", "unverified")


async def identity_verified(uow: UnitOfWork, user_id: int) -> bool:
    row = await uow.verifications.get(user_id)
    return row is not None and row.verified


async def record_identity(
    uow: UnitOfWork,
    clock: Clock,
    user_id: int,
    *,
    gateway: str,
    status: str,
    reference: str | None = None,
) -> bool:
    """System (a gateway's report): the user's identity is `status` at `gateway`.
    True if the badge came or went (then both the user and the other party of
    each of their live contracts are told)."""
    await load(uow.users, user_id, "user")
    if status not in IDENTITY_STATUSES:
        status = "unverified"
    now = clock.now()
    row = await uow.verifications.get_for_update(user_id)
    was = row is not None and row.verified
    if row is None:
        row = await uow.verifications.add(
            IdentityVerification(user_id=user_id, gateway=gateway, updated_at=now)
        )
    row.gateway, row.status, row.updated_at = gateway, status, now
    row.reference = reference or row.reference
    if row.verified and not was:
        row.verified_at = now
    elif not row.verified:
        row.verified_at = None
    if row.verified == was:
        return False
    uow.emit(IdentityVerificationChanged(user_id=user_id, verified=row.verified))
    return True


async def payment_verified(uow: UnitOfWork, user_id: int) -> bool:
    """A payment of theirs succeeded, entered escrow and was not charged back."""
    return bool(
        await uow.payments.count(
            payer_id=user_id, status="succeeded", failure_reason=None, charged_back_at=None
        )
    )


async def payment_succeeded(uow: UnitOfWork, payment: Payment) -> None:
    """Called where a payment funds its milestone (confirm_payment): the payer's
    first such payment earns the badge."""
    count = await uow.payments.count(
        payer_id=payment.payer_id, status="succeeded", failure_reason=None, charged_back_at=None
    )
    if count == 1:
        uow.emit(PaymentVerificationChanged(user_id=payment.payer_id, verified=True))


async def payment_charged_back(uow: UnitOfWork, clock: Clock, payment: Payment) -> None:
    """The payer's bank took the payment back: it proves nothing any more; the badge
    goes if no other payment proves it. Idempotent."""
    if payment.charged_back_at is not None:
        return
    was = await payment_verified(uow, payment.payer_id)
    payment.charged_back_at = clock.now()
    if was and not await payment_verified(uow, payment.payer_id):
        uow.emit(PaymentVerificationChanged(user_id=payment.payer_id, verified=False))
