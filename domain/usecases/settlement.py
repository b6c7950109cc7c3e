"""The one code path that empties a milestone's escrow: release, refund, split.

Every settlement goes through domain.fees.settlement (the one fee rule) and
domain.ledger.settling (key `settle:milestone:<id>`), so a milestone is settled
at most once. The caller has locked the milestone and checked who may act.
"""

from __future__ import annotations

from domain import ledger
from domain.entities import Contract, Milestone, Payment
from domain.errors import IllegalTransition
from domain.fees import Settlement, settlement
from domain.ports import Clock, PaymentGateway, UnitOfWork
from domain.usecases import gateway_calls


async def funding_payment(uow: UnitOfWork, milestone_id: int) -> Payment | None:
    """The succeeded payment whose money is in the milestone's escrow."""
    paid = await uow.payments.find(
        milestone_id=milestone_id, status="succeeded", failure_reason=None, limit=1
    )
    return paid[0] if paid else None


def action_for(share: int, amount: int, by_admin: bool) -> str:
    """The milestone transition a decision means: an admin's (`resolve_*`, the only
    actions that leave FROZEN) or the parties' agreement (`agree_*`)."""
    verb = "resolve" if by_admin else "agree"
    if share == amount:
        return f"{verb}_release"
    if share == 0:
        return f"{verb}_refund"
    return f"{verb}_split"


async def settle(
    uow: UnitOfWork,
    clock: Clock,
    milestone: Milestone,
    contract: Contract,
    share: int,
    action: str,
    kind: str,
    gateway: PaymentGateway | None = None,
) -> Settlement:
    """Move the milestone by `action` and split its escrow: `share` of the amount
    to the freelancer (less fees), the rest back to the client through the gateway
    that brought the money in: a refund committed as a gateway call with the
    settlement and made after the commit. `gateway` names the gateway when no
    payment does (a milestone funded before payments were recorded)."""
    milestone.apply(action)  # IllegalTransition before any money moves
    split = settlement(milestone.amount, share, contract.client_fee_bp, contract.freelancer_fee_bp)
    payment = await funding_payment(uow, milestone.id)  # type: ignore[arg-type]
    gateway_name = payment.gateway if payment else (gateway.name if gateway else "sandbox")
    draft = ledger.settling(
        milestone.id,  # type: ignore[arg-type]
        contract.freelancer_id,
        split,
        milestone.currency,
        gateway_name,
        kind,
    )
    if not await uow.ledger.record(draft):
        # The milestone row said "held" but the ledger says settled: never pay twice.
        raise IllegalTransition("milestone", "settled", kind)
    milestone.settled_at = clock.now()
    milestone.auto_release_at = None
    if split.to_client > 0:
        if payment is None:
            raise IllegalTransition("milestone", str(milestone.status), "refunded without payment")
        # Committed with the settlement, made after the commit (gateway_calls.py).
        await gateway_calls.intend(
            uow,
            clock,
            kind="refund",
            key=refund_key(milestone.id),  # type: ignore[arg-type]
            gateway=payment.gateway,
            amount=split.to_client,
            currency=milestone.currency,
            payment_id=payment.id,
            milestone_id=milestone.id,
            user_id=contract.client_id,
        )
    return split


def refund_key(milestone_id: int) -> str:
    """The gateway's idempotency key of a settled milestone's refund to the client."""
    return f"refund:milestone:{milestone_id}"
