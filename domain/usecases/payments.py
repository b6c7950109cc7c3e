"""Funding a milestone: the quote, the checkout, and the one path for a
confirmed (or failed) payment from any gateway or webhook."""

from __future__ import annotations

from dataclasses import replace

from domain import ledger
from domain.config import MarketConfig
from domain.entities import Contract, Milestone, Payment
from domain.errors import NotAllowed, NotFound
from domain.events import CheckoutDue, FundingStarted, MilestoneFunded, PaymentFailed
from domain.fees import FundingQuote, funding_quote
from domain.ports import CheckoutStarted, Clock, PaymentGateway, UnitOfWork
from domain.states import ContractStatus, MilestoneStatus
from domain.timesheet import INVOICE_KIND
from domain.usecases import gateway_calls, verification
from domain.usecases.common import active_user, load, milestone_with_contract, require_party
from domain.usecases.contracts import milestone_parties


async def quote(uow: UnitOfWork, actor_id: int, milestone_id: int) -> FundingQuote:
    """What the client will be charged (amount + client fee), shown before paying."""
    milestone, contract = await milestone_with_contract(uow, milestone_id, lock=False)
    require_party(contract, actor_id, "client")
    return funding_quote(milestone.amount, contract.client_fee_bp)


def fundable_statuses(milestone: Milestone, contract: Contract) -> tuple[ContractStatus, ...]:
    """The contract states in which the milestone may be paid: active contracts; a
    bonus (bonus.py) and a no-limit week's invoice also after the end; a service
    order's milestone also while the seller has not accepted yet (service_orders.py:
    the buyer pays first)."""
    if milestone.kind in ("bonus", INVOICE_KIND):
        return (ContractStatus.ACTIVE, ContractStatus.ENDED)
    if contract.job_id is None:
        return (ContractStatus.ACTIVE, ContractStatus.OFFERED)
    return (ContractStatus.ACTIVE,)


async def start_funding(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway,
    actor_id: int,
    milestone_id: int,
    shown_in: int | None = None,
) -> Payment:
    """Start (or return the pending) payment for a milestone: client only.

    `shown_in` is passed through to "funding_started": where the payer waits
    for the link (the chat's message), so it can be shown there.

    The payment is committed before the gateway is asked for a checkout
    ("checkout_due": the runner calls start_checkout after the commit with the
    key checkout:payment:<id>, then checkout_opened records it). A second tap
    while a payment is pending returns that payment instead of charging twice,
    and asks again for its checkout if a crash lost it: the same key gives the
    same checkout. The payment's amount is the quote's total.
    """
    await active_user(uow, actor_id)
    milestone, contract = await milestone_with_contract(uow, milestone_id)
    require_party(contract, actor_id, "client")
    # A bonus (bonus.py), and a no-limit week's invoice, may also be paid on an
    # ended contract; a service order before the seller accepts.
    if contract.status not in fundable_statuses(milestone, contract):
        raise NotAllowed("contract_not_active", "Only milestones of active contracts are funded.")
    if milestone.status is MilestoneStatus.FUNDING:
        pending = await uow.payments.find(milestone_id=milestone_id, status="pending", limit=1)
        if pending:
            if not pending[0].external_id:
                uow.emit(
                    CheckoutDue(
                        payment_id=pending[0].id,
                        gateway=pending[0].gateway,
                        shown_in=shown_in,
                    )
                )
            return pending[0]
    milestone.apply("start_funding")
    now = clock.now()
    q = funding_quote(milestone.amount, contract.client_fee_bp)
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
    uow.emit(CheckoutDue(payment_id=payment.id, gateway=gateway.name, shown_in=shown_in))
    return payment


def checkout_key(payment_id: int) -> str:
    """The gateway's idempotency key of a payment's checkout: the payment row is
    committed first, so the key (and every parameter) is the same on a retry."""
    return f"checkout:payment:{payment_id}"


async def checkout_to_open(uow: UnitOfWork, payment_id: int) -> tuple[Payment, str] | None:
    """The payment whose checkout the gateway must open, with its description;
    None once it has one or is no longer pending. Read only: the gateway is
    called after this unit of work ends."""
    payment = await uow.payments.get(payment_id)
    if payment is None or payment.status != "pending" or payment.external_id:
        return None
    milestone, contract = await milestone_with_contract(uow, payment.milestone_id, lock=False)
    return replace(payment), f"{contract.title} — {milestone.title}"


async def checkout_opened(
    uow: UnitOfWork,
    clock: Clock,
    payment_id: int,
    started: CheckoutStarted,
    shown_in: int | None = None,
) -> bool:
    """The gateway opened the checkout: record it and send the payer there
    ("funding_started"). False when another runner recorded it first."""
    found = await uow.payments.get(payment_id)
    if found is None:
        return False
    milestone = await load(uow.milestones, found.milestone_id, "milestone", lock=True)
    payment = await load(uow.payments, payment_id, "payment", lock=True)
    if payment.status != "pending" or payment.external_id:
        return False
    payment.external_id, payment.checkout_url = started.external_id, started.url
    payment.updated_at = clock.now()
    contract = await load(uow.contracts, milestone.contract_id, "contract")
    q = funding_quote(milestone.amount, contract.client_fee_bp)
    uow.emit(
        FundingStarted(
            milestone_id=milestone.id,
            contract_id=contract.id,
            payment_id=payment.id,
            client_id=contract.client_id,
            amount=q.amount,
            client_fee=q.client_fee,
            total=payment.amount,
            currency=payment.currency,
            url=started.url,
            shown_in=shown_in,
        )
    )
    return True


async def checkout_failed(uow: UnitOfWork, clock: Clock, payment_id: int, code: str) -> bool:
    """The gateway would not open the checkout: the attempt ends (the milestone
    can be paid again) and the payer is told why ("payment_failed"). A checkout
    the gateway may have opened anyway was never shown to anyone."""
    found = await uow.payments.get(payment_id)
    if found is None or found.status != "pending" or found.external_id:
        return False
    milestone = await load(uow.milestones, found.milestone_id, "milestone", lock=True)
    payment = await load(uow.payments, payment_id, "payment", lock=True)
    if payment.status != "pending" or payment.external_id:
        return False
    await _end_attempt(uow, clock, payment, milestone, code, "failed")
    return True


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
# refund id in Payment.refund_ref. The refund is a gateway call (gateway_calls.py,
# kind "late_refund"), committed with the note and made after the commit.
REFUND_DUE = gateway_calls.REFUND_DUE
REFUNDED = gateway_calls.REFUNDED
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
) -> bool:
    """THE path for a confirmed payment (sandbox page, Stripe webhook, polling …).

    Marks the payment succeeded, funds the milestone, records the funding
    transaction. A replay returns False and changes nothing. A payment that
    arrives when its milestone no longer needs it (already funded by another
    attempt, or cancelled) never enters an escrow: it is noted REFUND_DUE and its
    refund committed as a gateway call (refund_not_needed).
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
        await refund_not_needed(uow, clock, payment)
        return True
    payment.failure_reason = None
    milestone.apply("fund")
    milestone.funded_at = now
    await uow.ledger.record(
        ledger.funding(milestone.id, payment.amount, payment.currency, gateway_name)  # type: ignore[arg-type]
    )
    # The first payment earns 💳 Payment verified; told before the funding, which
    # stays the last word (its buttons are what the parties act on next).
    await verification.payment_succeeded(uow, payment)
    if milestone.kind == "bonus":  # paid: straight to the freelancer's balance
        from domain.usecases.bonus import bonus_paid  # bonus.py starts through this module

        await bonus_paid(uow, clock, milestone, contract)
        return True
    if milestone.kind == INVOICE_KIND:  # a no-limit week's invoice: paid to the freelancer
        from domain.usecases.hourly import invoice_funded  # hourly.py builds on this module

        await invoice_funded(uow, clock, milestone, contract)
        return True
    if contract.job_id is None:  # a service order (service_orders.py builds on this module)
        from domain.usecases import service_orders

        if milestone.kind == service_orders.REVISION:  # a paid extra revision: to the seller
            await service_orders.revision_paid(uow, clock, milestone, contract)
            return True
        if contract.status is ContractStatus.OFFERED:  # paid: the seller decides now
            await service_orders.order_paid(uow, clock, config, milestone, contract)
            return True
    uow.emit(MilestoneFunded(total=payment.amount, **milestone_parties(milestone, contract)))
    return True


async def refund_not_needed(
    uow: UnitOfWork, clock: Clock, payment: Payment, why: str = "late"
) -> None:
    """Give a succeeded payment back in full without it entering any escrow; the
    caller holds its lock.

    The ledger records nothing, on purpose: the money never entered an escrow
    (no `fund:` transaction was written for this payment) and it leaves the
    same way it came, through the gateway, so no account of ours ever held it
    and every balance is already right. The refund is committed as a gateway
    call keyed refund:payment:<id> and made after the commit; its completion
    marks the payment refunded ("late_payment_refunded"), a failure tells the
    payer and the admins ("payment_refund_due") and leaves it due.
    """
    assert payment.id is not None
    payment.failure_reason = REFUND_DUE
    await gateway_calls.intend(
        uow,
        clock,
        kind="late_refund",
        key=late_refund_key(payment.id),
        gateway=payment.gateway,
        amount=payment.amount,
        currency=payment.currency,
        payment_id=payment.id,
        milestone_id=payment.milestone_id,
        user_id=payment.payer_id,
        # Why it goes back ("late", or "mismatch": not what was quoted): its messages say so.
        params={"why": why},
    )


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
    await _end_attempt(uow, clock, payment, milestone, reason, status)
    return True


async def _end_attempt(
    uow: UnitOfWork, clock: Clock, payment: Payment, milestone: Milestone, reason: str, status: str
) -> None:
    """A pending payment ends unpaid; the milestone is fundable again once no
    other payment of it is pending. The client is told ("payment_failed")."""
    payment.status = status
    payment.failure_reason = reason[:500] or None
    payment.updated_at = clock.now()
    others = await uow.payments.count(milestone_id=milestone.id, status="pending")
    if milestone.status is MilestoneStatus.FUNDING and not others:
        milestone.apply("payment_failed")
    contract = await load(uow.contracts, milestone.contract_id, "contract")
    uow.emit(
        PaymentFailed(
            payment_id=payment.id,
            milestone_id=milestone.id,
            client_id=contract.client_id,
            reason=payment.failure_reason,
        )
    )


async def check_before_charge(
    uow: UnitOfWork,
    gateway_name: str,
    payment_id: int,
    payer_id: int,
    amount: int,
    currency: str,
) -> Payment:
    """Whether an invoice may still be charged, asked by the gateway just before it
    charges (Telegram's pre_checkout_query): the payment is this payer's and still
    pending, its milestone still needs funding, and exactly this amount — the
    quote now (milestone amount plus client fee) is the invoice's. Read only;
    refused with the reason otherwise."""
    payment = await uow.payments.get(payment_id)
    if payment is None or payment.gateway != gateway_name or payment.payer_id != payer_id:
        raise NotFound("payment_not_found", "Unknown payment.", id=payment_id)
    milestone, contract = await milestone_with_contract(uow, payment.milestone_id, lock=False)
    fundable = fundable_statuses(milestone, contract)
    if milestone.kind == INVOICE_KIND:  # as before: an invoice while the contract is active
        fundable = (ContractStatus.ACTIVE,)
    if contract.status not in fundable:
        raise NotAllowed("contract_not_active", "Only milestones of active contracts are funded.")
    if milestone.status is not MilestoneStatus.FUNDING or payment.status != "pending":
        raise NotAllowed(
            "invoice_not_needed", "This milestone no longer needs this payment.", id=milestone.id
        )
    q = funding_quote(milestone.amount, contract.client_fee_bp)
    if (
        q.total != payment.amount
        or amount != payment.amount
        or (currency.upper() != payment.currency.upper())
    ):
        raise NotAllowed(
            "invoice_amount_changed",
            "The milestone's amount changed since this invoice: fund it again.",
            id=milestone.id,
        )
    return payment
