"""A milestone added to a running contract: either party proposes it (title,
amount, due date) on an active fixed-price contract, the other party accepts or
declines; once accepted it waits for the client's funding like any milestone.

A proposed milestone holds no money and is not counted in the contract's total;
ending the contract cancels it like an unfunded milestone.
"""

from __future__ import annotations

from domain.entities import Milestone
from domain.errors import NotAllowed, ValidationError
from domain.events import MilestoneProposalDecided, MilestoneProposed
from domain.ports import Clock, UnitOfWork
from domain.states import ContractStatus
from domain.usecases.common import active_user, load, milestone_with_contract, require_party
from domain.usecases.contracts import (
    MAX_MILESTONES,
    MilestoneSpec,
    _clean_specs,
    milestone_parties,
)


async def propose_milestone(
    uow: UnitOfWork, clock: Clock, actor_id: int, contract_id: int, spec: MilestoneSpec
) -> Milestone:
    """Either party proposes the next milestone; the other decides."""
    await active_user(uow, actor_id)
    (clean,) = _clean_specs([spec], clock.now().date())
    contract = await load(uow.contracts, contract_id, "contract", lock=True)
    require_party(contract, actor_id)
    if contract.status is not ContractStatus.ACTIVE:
        raise NotAllowed("contract_not_active", "Milestones are added to active contracts.")
    existing = [m for m in await uow.milestones.find(contract_id=contract_id) if m.kind != "bonus"]
    if len(existing) >= MAX_MILESTONES:
        raise ValidationError(
            "milestones_too_many", f"At most {MAX_MILESTONES} milestones.", max=MAX_MILESTONES
        )
    milestone = await uow.milestones.add(
        Milestone(
            contract_id=contract_id,
            position=max((m.position for m in existing), default=0) + 1,
            title=clean.title,
            amount=clean.amount,
            currency=contract.currency,
            due_date=clean.due_date,
            status="proposed",  # type: ignore[arg-type]
            proposed_by=actor_id,
        )
    )
    uow.emit(MilestoneProposed(proposed_by=actor_id, **milestone_parties(milestone, contract)))
    return milestone


async def decide_proposal(
    uow: UnitOfWork, clock: Clock, actor_id: int, milestone_id: int, accept: bool
) -> Milestone:
    """The other party accepts (the milestone waits for funding) or declines it."""
    await active_user(uow, actor_id)
    milestone, contract = await milestone_with_contract(uow, milestone_id)
    require_party(contract, actor_id)
    if milestone.proposed_by == actor_id:
        raise NotAllowed("proposal_own", "The other party decides on your proposal.")
    if contract.status is not ContractStatus.ACTIVE:
        raise NotAllowed("contract_not_active", "This contract is not active.")
    milestone.apply("accept_proposal" if accept else "decline_proposal")
    if not accept:
        milestone.settled_at = clock.now()
    uow.emit(
        MilestoneProposalDecided(
            proposed_by=milestone.proposed_by or 0,
            accepted=accept,
            **milestone_parties(milestone, contract),
        )
    )
    return milestone
