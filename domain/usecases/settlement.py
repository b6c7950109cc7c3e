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


async def funding_payment(uow: UnitOfWork, milestone_id: int) -> Payment | None:
    """The succeeded payment whose money is in the milestone's escrow."""
    paid = await uow.payments.find(
        milestone_id=milestone_id, status="succeeded", failure_reason=None, limit=1
    )
    return paid[0] if paid else None


def action_for(share: int, amount: int) -> str:
    """The milestone transition an admin's or the parties' decision means."""
    if share == amount:
        return "resolve_release"
    if share == 0:
        return "resolve_refund"
    return "resolve_split"


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
    that brought the money in. `gateway` is needed whenever the client gets money back."""
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
        if gateway is None or payment is None:
            raise IllegalTransition("milestone", str(milestone.status), "refunded without gateway")
        # The gateway's own idempotency key makes a retried transaction refund once.
        await gateway.refund(payment, split.to_client, f"refund:milestone:{milestone.id}")
    return split
