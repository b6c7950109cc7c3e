"""Calls that move money outside: committed first, made after, completed once.

A refund, a payout or a transfer is never made from inside the transaction that
decides it. The use case records a GatewayCall (its fixed idempotency key, the
amount, what the gateway needs) in the same transaction as the ledger entry; only
after that commit does a runner (handlers/gateway_calls.py) call the gateway with
the key, then `complete` or `fail` the row in a new transaction. After a crash at
any point the row is still `due` and the runner makes the same call again with
the same key: the gateway answers with the movement it already made, so money
moves once whatever dies when.

Kinds:
- `refund`       the client's part of a settled milestone (key refund:milestone:<id>)
- `late_refund`  a payment its milestone no longer needed (key refund:payment:<id>)
- `payout`       a withdrawal the freelancer asked for (key payout:<payout id>)
- `transfer`     a released milestone's share to a Connect account (transfer:milestone:<id>)

The ledger is written with the intent (the balance is taken at once, so it
cannot be spent twice). Only a failure after which the gateway guarantees
nothing moved (PaymentError.nothing_moved) gives a payout's or transfer's money
back; every other failure leaves the call due for the next try, and the admins
are told once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from domain import ledger
from domain.entities import GatewayCall, Payment
from domain.errors import PaymentError
from domain.events import (
    GatewayCallDue,
    GatewayCallFailed,
    GatewayCallHeld,
    LatePaymentRefunded,
    PaymentRefundDue,
    PayoutFailed,
    PayoutSent,
    RefundSent,
)
from domain.ports import Clock, UnitOfWork
from domain.usecases.common import load

DUE, DONE, FAILED = "due", "done", "failed"
# A call whose key the gateway may have forgotten (tried first longer ago than the
# gateway keeps idempotency keys): a person checks the gateway before anything more.
HELD = "held"
KINDS = ("refund", "late_refund", "payout", "transfer")
PAYOUTS = ("payout", "transfer")  # the kinds that take money from a freelancer's balance

# Late payments (payments.py): the note on a payment its milestone no longer needs.
REFUND_DUE = "not_needed_refund_due"
REFUNDED = "not_needed_refunded"


async def intend(
    uow: UnitOfWork,
    clock: Clock,
    *,
    kind: str,
    key: str,
    gateway: str,
    amount: int,
    currency: str,
    payment_id: int | None = None,
    payout_id: int | None = None,
    milestone_id: int | None = None,
    user_id: int | None = None,
    params: dict[str, Any] | None = None,
) -> GatewayCall:
    """Record the call in the caller's transaction (once per key) and ask the
    runner to make it after the commit ("gateway_call_due")."""
    if kind not in KINDS:
        raise ValueError(f"unknown gateway call kind {kind!r}")
    if amount <= 0:
        raise ValueError("a gateway call moves a positive amount")
    found = await uow.gateway_calls.find(key=key, limit=1)
    if found:
        return found[0]
    now = clock.now()
    call = await uow.gateway_calls.add(
        GatewayCall(
            key=key,
            kind=kind,
            gateway=gateway,
            amount=amount,
            currency=currency,
            payment_id=payment_id,
            payout_id=payout_id,
            milestone_id=milestone_id,
            user_id=user_id,
            params=dict(params or {}),
            created_at=now,
            updated_at=now,
        )
    )
    uow.emit(GatewayCallDue(call_id=call.id, gateway=gateway))
    return call


async def due(
    uow: UnitOfWork, clock: Clock, gateway: str, *, idle_seconds: float = 0, limit: int = 100
) -> list[int]:
    """Ids of the gateway's calls still due, untouched for `idle_seconds` (so a
    runner does not race one that is being made right now; racing is harmless,
    the key makes it one movement, but it costs a request)."""
    # Filtered in the query: calls being retried right now must not fill the batch
    # and keep idle ones behind them from ever being taken up.
    idle_since = clock.now() - timedelta(seconds=idle_seconds)
    calls = await uow.gateway_calls.find(
        gateway=gateway, status=DUE, updated_at__lte=idle_since, limit=limit
    )
    return [c.id for c in calls if c.id is not None]


async def to_make(uow: UnitOfWork, call_id: int) -> tuple[GatewayCall, Payment | None] | None:
    """The call as the gateway needs it (with the payment a refund returns), or
    None when it is no longer due. Read only: the gateway is called after this
    unit of work ends, never inside a transaction."""
    call = await uow.gateway_calls.get(call_id)
    if call is None or call.status != DUE:
        return None
    payment = await uow.payments.get(call.payment_id) if call.payment_id is not None else None
    # Copies: they outlive the unit of work, which ends before the gateway is called.
    return replace(call, params=dict(call.params)), replace(payment) if payment else None


async def _locked(uow: UnitOfWork, call_id: int) -> GatewayCall | None:
    """The call, locked, if still due. The rows it completes are locked in the
    global order (domain/usecases/common.py LOCK_ORDER): user, milestone, payment
    or payout, then the call."""
    found = await uow.gateway_calls.get(call_id)
    if found is None or found.status != DUE:
        return None
    if found.user_id is not None and found.kind in PAYOUTS:
        await load(uow.users, found.user_id, "user", lock=True)
    if found.milestone_id is not None:
        await load(uow.milestones, found.milestone_id, "milestone", lock=True)
    call = await uow.gateway_calls.get_for_update(call_id)
    return call if call is not None and call.status == DUE else None


def _late_payment(payment: Payment) -> dict[str, Any]:
    """What every message about a late payment's refund names."""
    return {
        "payment_id": payment.id,
        "milestone_id": payment.milestone_id,
        "payer_id": payment.payer_id,
        "amount": payment.amount,
        "currency": payment.currency,
    }


def _data(call: GatewayCall) -> dict[str, Any]:
    return {
        "call_id": call.id,
        "call_kind": call.kind,
        "gateway": call.gateway,
        "amount": call.amount,
        "currency": call.currency,
        "milestone_id": call.milestone_id,
        "payment_id": call.payment_id,
        "payout_id": call.payout_id,
        "user_id": call.user_id,
    }


async def complete(uow: UnitOfWork, clock: Clock, call_id: int, external_id: str) -> bool:
    """The gateway made the movement: record its id and what follows from it.
    False (and nothing written) when another runner completed it first."""
    call = await _locked(uow, call_id)
    if call is None:
        return False
    now = clock.now()
    call.status, call.external_id, call.updated_at = DONE, external_id, now
    call.attempts += 1
    call.error = None
    if call.kind == "late_refund":
        payment = await load(uow.payments, call.payment_id, "payment", lock=True)
        payment.status, payment.failure_reason = "refunded", REFUNDED
        payment.refund_ref, payment.updated_at = external_id, now
        uow.emit(
            LatePaymentRefunded(
                refund_id=external_id,
                why=call.params.get("why", "late"),
                **_late_payment(payment),
            )
        )
    elif call.kind in PAYOUTS:
        payout = await load(uow.payouts, call.payout_id, "payout", lock=True)
        payout.status, payout.external_id = "paid", external_id
        uow.emit(
            PayoutSent(
                payout_id=payout.id,
                user_id=payout.user_id,
                milestone_id=call.milestone_id if call.kind == "transfer" else None,
                amount=payout.amount,
                currency=payout.currency,
                external_id=external_id,
            )
        )
    else:
        uow.emit(RefundSent(refund_id=external_id, **_data(call)))
    return True


async def fail(uow: UnitOfWork, clock: Clock, call_id: int, error: PaymentError) -> bool:
    """The gateway refused or failed. A failure that may hide a movement keeps the
    call due (same key next time); one after which nothing moved gives a payout's
    money back to the balance. Admins hear of a call's first failure and of its end."""
    call = await _locked(uow, call_id)
    if call is None:
        return False
    call.attempts += 1
    call.error = error.code
    call.updated_at = clock.now()
    final = error.nothing_moved and call.kind in PAYOUTS
    if final:
        call.status = FAILED
        payout = await load(uow.payouts, call.payout_id, "payout", lock=True)
        payout.status = "failed"
        assert call.user_id is not None and payout.id is not None
        await uow.ledger.record(
            ledger.payout_reversal(call.key, call.user_id, call.amount, call.currency, call.gateway)
        )
        uow.emit(PayoutFailed(error=error.code, **_data(call)))
    elif call.kind == "late_refund" and call.attempts == 1:
        payment = await load(uow.payments, call.payment_id, "payment")
        uow.emit(PaymentRefundDue(error=error.code, **_late_payment(payment)))
    if final or call.attempts == 1:
        uow.emit(GatewayCallFailed(error=error.code, final=final, **_data(call)))
    return True


async def hold(uow: UnitOfWork, clock: Clock, call_id: int) -> bool:
    """Stop retrying a call first tried longer ago than its gateway keeps
    idempotency keys: another try could be taken as a new movement. The admins
    are told to check the gateway; the ledger stays as the intent wrote it."""
    call = await _locked(uow, call_id)
    if call is None:
        return False
    call.status, call.updated_at = HELD, clock.now()
    uow.emit(GatewayCallHeld(**_data(call)))
    return True
