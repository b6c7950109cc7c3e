"""Funding a milestone: the quote, the checkout, and the one path for a
confirmed (or failed) payment from any gateway or webhook."""

from __future__ import annotations

from domain import ledger
from domain.config import MarketConfig
from domain.entities import Milestone, Payment
from domain.errors import DomainError, NotAllowed, NotFound
from domain.fees import FundingQuote, funding_quote
from domain.ports import Clock, PaymentGateway, UnitOfWork
from domain.states import ContractStatus, MilestoneStatus
from domain.usecases.common import active_user, load, milestone_with_contract, require_party
from domain.usecases.contracts import milestone_parties


async def quote(uow: UnitOfWork, actor_id: int, milestone_id: int) -> FundingQuote:
    """What the client will be charged (amount + client fee), shown before paying."""
    milestone, contract = await milestone_with_contract(uow, milestone_id, lock=False)
    require_party(contract, actor_id, "client")
    return funding_quote(milestone.amount, contract.client_fee_bp)


async def start_funding(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway,
    actor_id: int,
    milestone_id: int,
) -> Payment:
    """Start (or return the pending) checkout for a milestone: client only.

    A second tap while a payment is pending returns that payment instead of
    charging twice. The payment's amount is the quote's total.
    """
    await active_user(uow, actor_id)
    milestone, contract = await milestone_with_contract(uow, milestone_id)
    require_party(contract, actor_id, "client")
    if contract.status is not ContractStatus.ACTIVE:
        raise NotAllowed("contract_not_active", "Only milestones of active contracts are funded.")
    if milestone.status is MilestoneStatus.FUNDING:
        pending = await uow.payments.find(milestone_id=milestone_id, status="pending", limit=1)
        if pending:
            return pending[0]
    milestone.apply("start_funding")
    now = clock.now()
    q = funding_quote(milestone.amount, contract.client_fee_bp)
    attempt = await uow.payments.count(milestone_id=milestone_id) + 1
    payment = await uow.payments.add(
        Payment(
            milestone_id=milestone_id,
            payer_id=actor_id,
            gateway=gateway.name,
            amount=q.total,
            currency=milestone.currency,
            created_at=now,
            updated_at=now,
        )
    )
    started = await gateway.start_checkout(
        payment,
        f"{contract.title} — {milestone.title}",
        f"checkout:milestone:{milestone_id}:{attempt}",
    )
    payment.external_id, payment.checkout_url = started.external_id, started.url
    uow.emit(
        "funding_started",
        milestone_id=milestone_id,
        contract_id=contract.id,
        payment_id=payment.id,
        client_id=contract.client_id,
        amount=q.amount,
        client_fee=q.client_fee,
        total=q.total,
        currency=milestone.currency,
        url=started.url,
    )
    return payment


async def _locked_payment(
    uow: UnitOfWork, gateway_name: str, external_id: str
) -> tuple[Payment, Milestone]:
    """Milestone first, then payment: the same lock order as start_funding."""
    found = await uow.payments.find(gateway=gateway_name, external_id=external_id, limit=1)
    if not found:
        raise NotFound("payment_not_found", "Unknown payment.", external_id=external_id)
    milestone = await load(uow.milestones, found[0].milestone_id, "milestone", lock=True)
    payment = await load(uow.payments, found[0].id, "payment", lock=True)
    return payment, milestone


# A payment that arrived when its milestone no longer needed it (funded by another
# attempt, or cancelled) is kept out of every escrow and goes back to the payer.
# Its note (Payment.failure_reason) says where it stands: REFUND_DUE until the
# gateway refunded it, then REFUNDED with the status "refunded" and the gateway's
# refund id in Payment.refund_ref.
REFUND_DUE = "not_needed_refund_due"
REFUNDED = "not_needed_refunded"
SETTLED = ("succeeded", "refunded")  # a confirmation of these is a replay


def late_refund_key(payment_id: int) -> str:
    """The gateway's idempotency key: one refund per late payment, whoever retries."""
    return f"refund:payment:{payment_id}"


def late_refund_id(payment: Payment) -> str | None:
    """The gateway's id of the refund of a late payment, once it was made."""
    if payment.status == "refunded" and payment.failure_reason == REFUNDED:
        return payment.refund_ref
    return None


async def confirm_payment(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway_name: str,
    external_id: str,
    charge_ref: str | None = None,
    gateway: PaymentGateway | None = None,
) -> bool:
    """THE path for a confirmed payment (sandbox page, Stripe webhook, polling …).

    Marks the payment succeeded, funds the milestone, records the funding
    transaction. A replay returns False and changes nothing. A payment that
    arrives when its milestone no longer needs it (already funded by another
    attempt, or cancelled) never enters an escrow: with `gateway` (the one named
    `gateway_name`) it is refunded at once ("late_payment_refunded"); without
    one, or when the gateway refuses, it stays succeeded with the REFUND_DUE note
    for refund_late_payment to retry ("payment_refund_due", for the payer and
    the admins, with the gateway's error code if it refused).
    """
    payment, milestone = await _locked_payment(uow, gateway_name, external_id)
    if payment.status in SETTLED:
        return False
    now = clock.now()
    payment.status = "succeeded"
    payment.charge_ref = charge_ref or payment.charge_ref
    payment.updated_at = now
    contract = await load(uow.contracts, milestone.contract_id, "contract")
    if milestone.status not in (MilestoneStatus.PENDING, MilestoneStatus.FUNDING):
        payment.failure_reason = REFUND_DUE
        error: str | None = None
        if gateway is not None and gateway.name == gateway_name:
            try:
                await _refund_late(uow, clock, gateway, payment)
                return True
            except DomainError as exc:  # kept as due: retried by refund_late_payment
                error = exc.code
        uow.emit(
            "payment_refund_due",
            payment_id=payment.id,
            milestone_id=milestone.id,
            payer_id=payment.payer_id,
            amount=payment.amount,
            currency=payment.currency,
            error=error,
        )
        return True
    payment.failure_reason = None
    milestone.apply("fund")
    milestone.funded_at = now
    await uow.ledger.record(
        ledger.funding(milestone.id, payment.amount, payment.currency, gateway_name)  # type: ignore[arg-type]
    )
    uow.emit("milestone_funded", total=payment.amount, **milestone_parties(milestone, contract))
    return True


async def _refund_late(
    uow: UnitOfWork, clock: Clock, gateway: PaymentGateway, payment: Payment
) -> str:
    """Give a late payment back in full; the caller holds its lock.

    The ledger records nothing, on purpose: the money never entered an escrow
    (no `fund:` transaction was written for this payment) and it leaves the
    same way it came, through the gateway, so no account of ours ever held it
    and every balance is already right. The gateway's idempotency key makes a
    retry after a lost commit return the same refund instead of a second one.
    Raises the gateway's PaymentError, changing nothing.
    """
    assert payment.id is not None
    refund_id = await gateway.refund(payment, payment.amount, late_refund_key(payment.id))
    payment.status = "refunded"
    payment.failure_reason = REFUNDED
    payment.refund_ref = refund_id
    payment.updated_at = clock.now()
    uow.emit(
        "late_payment_refunded",
        payment_id=payment.id,
        milestone_id=payment.milestone_id,
        payer_id=payment.payer_id,
        amount=payment.amount,
        currency=payment.currency,
        refund_id=refund_id,
    )
    return refund_id


async def late_payments_due(uow: UnitOfWork, gateway_name: str, limit: int = 100) -> list[int]:
    """Ids of the gateway's late payments still waiting for their refund."""
    due = await uow.payments.find(
        gateway=gateway_name, status="succeeded", failure_reason=REFUND_DUE, limit=limit
    )
    return [p.id for p in due if p.id is not None]


async def refund_late_payment(
    uow: UnitOfWork, clock: Clock, gateway: PaymentGateway, payment_id: int
) -> str | None:
    """Retry the refund of a late payment (system: reconciliation).

    Returns the refund id, or None when nothing is due (refunded meanwhile, by a
    concurrent retry, or not a late payment). The gateway's PaymentError
    propagates and nothing changes: the payment stays due for the next retry.
    """
    found = await uow.payments.get(payment_id)
    if found is None or found.gateway != gateway.name:
        return None
    # Milestone first, then payment: the lock order of confirm_payment.
    await load(uow.milestones, found.milestone_id, "milestone", lock=True)
    payment = await load(uow.payments, payment_id, "payment", lock=True)
    if payment.status != "succeeded" or payment.failure_reason != REFUND_DUE:
        return None
    return await _refund_late(uow, clock, gateway, payment)


async def payment_failed(
    uow: UnitOfWork,
    clock: Clock,
    gateway_name: str,
    external_id: str,
    reason: str = "",
    status: str = "failed",
) -> bool:
    """A pending payment failed or expired; the milestone can be funded again."""
    payment, milestone = await _locked_payment(uow, gateway_name, external_id)
    if payment.status != "pending":
        return False
    payment.status = status
    payment.failure_reason = reason[:500] or None
    payment.updated_at = clock.now()
    others = await uow.payments.count(milestone_id=milestone.id, status="pending")
    if milestone.status is MilestoneStatus.FUNDING and not others:
        milestone.apply("payment_failed")
    contract = await load(uow.contracts, milestone.contract_id, "contract")
    uow.emit(
        "payment_failed",
        payment_id=payment.id,
        milestone_id=milestone.id,
        client_id=contract.client_id,
        reason=payment.failure_reason,
    )
    return True
