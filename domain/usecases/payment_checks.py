"""A gateway's "paid" is checked against the payment before anything is funded.

The gateway says what it took (`Received`: its object's id, amount and
currency) and, where it knows, why the news can never fund one of our payments
whatever it says (`Received.refused`: an event from a connected account, from
the gateway's other mode, or an object the payment does not own). Before
confirm_payment runs, the amount and currency must be the payment's (the
currency compared case-insensitively) and nothing may be refused.

A mismatch funds nothing and the admins are told ("payment_mismatch"):
- money that reached us for this payment, in another amount or currency, is
  marked so it can never fund and given back as a late payment is
  (payments.refund_not_needed: status "succeeded" noted payments.REFUND_DUE,
  its refund a committed gateway call made after the commit and retried until
  the gateway accepts); its amount and currency become what was really taken,
  since that is what goes back; the milestone can be funded again;
- refused news changes nothing and is not refunded by the platform: money at a
  connected account or in the other mode never reached the platform's account,
  and money that is not this payment's is no payment's to give back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.config import MarketConfig
from domain.entities import Payment
from domain.events import PaymentMismatch
from domain.ports import Clock, UnitOfWork
from domain.states import MilestoneStatus
from domain.usecases.payments import (
    SETTLED,
    _locked_payment,
    confirm_payment,
    refund_not_needed,
)

# Why news can never fund a payment (Received.refused, and the event's reasons).
CONNECTED_ACCOUNT = "connected_account"  # the event came from a connected account
OTHER_MODE = "other_mode"  # live news for a test set-up, or test news for a live one
NOT_THIS_PAYMENT = "not_this_payment"  # the payment's own checkout does not name it
# Why it does not fund the payment it names (compared with the payment row).
AMOUNT = "amount"
CURRENCY = "currency"
# The note of a mismatched payment that took nothing (an amount of 0): nothing to give back.
NOTHING_TAKEN = "mismatch_nothing_taken"

_ISO = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class Received:
    """What a gateway reports as paid: the object that says so, the amount (minor
    units) and currency it took, and why the news is refused, if it is."""

    ref: str
    amount: int | None
    currency: str | None
    refused: str | None = None
    account: str | None = None  # the connected account it came from, if any


def differences(payment: Payment, received: Received) -> list[str]:
    """How the received money differs from the payment: [] when it is the same."""
    found = []
    if received.amount is None or received.amount != payment.amount:
        found.append(AMOUNT)
    if (received.currency or "").upper() != payment.currency.upper():
        found.append(CURRENCY)
    return found


async def confirm_checked(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway_name: str,
    external_id: str,
    received: Received,
    charge_ref: str | None = None,
) -> bool:
    """confirm_payment (True if this call funded the milestone), once the
    received money is the payment's; otherwise nothing is funded (False), the
    admins are told and, for money that reached us for this payment, its refund
    is committed (see the module's notes)."""
    # The rows confirm_payment locks, in its order: it finds them locked already.
    payment, milestone = await _locked_payment(uow, gateway_name, external_id)
    reasons = [received.refused] if received.refused else differences(payment, received)
    if not reasons:
        return await confirm_payment(uow, clock, config, gateway_name, external_id, charge_ref)
    expected_amount, expected_currency = payment.amount, payment.currency
    # Money taken for this payment goes back, unless the payment was settled already
    # (its own money funded the milestone or was refunded: this news is not it).
    marked = received.refused is None and payment.status not in SETTLED
    taken = received.amount if received.amount is not None and received.amount > 0 else None
    refund = marked and taken is not None
    if marked:
        payment.status = "succeeded"  # settled: no later news confirms it
        payment.charge_ref = charge_ref or payment.charge_ref
        # What goes back is what was taken (the refund is of payment.amount).
        payment.amount = taken or payment.amount
        currency = (received.currency or "").upper()
        if _ISO.fullmatch(currency):
            payment.currency = currency
        payment.updated_at = clock.now()
        others = await uow.payments.count(milestone_id=milestone.id, status="pending")
        if milestone.status is MilestoneStatus.FUNDING and not others:
            milestone.apply("payment_failed")  # the client may pay again
        if refund:
            await refund_not_needed(uow, clock, payment, why="mismatch")  # noted REFUND_DUE
        else:
            payment.failure_reason = NOTHING_TAKEN
    uow.emit(
        PaymentMismatch(
            payment_id=payment.id,
            milestone_id=milestone.id,
            payer_id=payment.payer_id,
            gateway=gateway_name,
            ref=received.ref,
            account=received.account,
            reasons=reasons,
            expected_amount=expected_amount,
            expected_currency=expected_currency,
            amount=received.amount,
            currency=(received.currency or "").upper() or None,
            refund_due=refund,
        )
    )
    return False
