"""Saved lists and hiring again (issue 14, part 5).

Clients save freelancers, freelancers save jobs (/saved); each list holds at most
MAX_SAVED entries and no duplicates. "Hire again" sends a direct offer on an
ended contract's terms: the offer needs a job, so one is made at the moment the
offer is sent — a copy of the old job's description, never published (paused,
so it takes an offer but no pitches and no alerts) — with the freelancer invited
on it, and send_offer does the rest as for any offer.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.config import MarketConfig
from domain.entities import Contract, Invitation, Job
from domain.errors import NotAllowed
from domain.ports import Clock, UnitOfWork
from domain.saved import MAX_SAVED, SavedItem, SavedKind
from domain.states import ContractStatus, JobStatus
from domain.usecases import contracts
from domain.usecases.blocking import require_contact
from domain.usecases.common import client, freelancer, load, require_party
from domain.usecases.visibility import visible_job


async def save(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    kind: SavedKind,
    target_id: int,
) -> tuple[SavedItem, bool]:
    """Save a freelancer (clients) or a job (freelancers); (the item, newly saved)."""
    if kind is SavedKind.FREELANCER:
        await client(uow, actor_id)
        target = await freelancer(uow, target_id)
        if target.id == actor_id:
            raise NotAllowed("save_self", "You cannot save yourself.")
    else:
        await freelancer(uow, actor_id)
        await visible_job(uow, config, actor_id, target_id)
    found = await uow.saved.find(user_id=actor_id, kind=kind.value, target_id=target_id)
    if found:
        return found[0], False
    if await uow.saved.count(user_id=actor_id, kind=kind.value) >= MAX_SAVED:
        raise NotAllowed("saved_full", "Your saved list is full; remove something first.")
    item = await uow.saved.add(
        SavedItem(user_id=actor_id, kind=kind.value, target_id=target_id, created_at=clock.now())
    )
    return item, True


async def remove(uow: UnitOfWork, actor_id: int, item_id: int) -> SavedItem:
    item = await load(uow.saved, item_id, "saved")
    if item.user_id != actor_id:
        raise NotAllowed("not_your_saved", "This is not in your saved list.")
    await uow.saved.delete(item)
    return item


async def saved_of(uow: UnitOfWork, actor_id: int, kind: SavedKind) -> list[SavedItem]:
    """The person's saved list of one kind, newest first."""
    return await uow.saved.find(order_by="-id", user_id=actor_id, kind=kind.value)


async def rehire_source(uow: UnitOfWork, actor_id: int, contract_id: int) -> Contract:
    """An ended contract of the acting client's, to hire its freelancer again."""
    await client(uow, actor_id)
    contract = await load(uow.contracts, contract_id, "contract")
    require_party(contract, actor_id, "client")
    if contract.status is not ContractStatus.ENDED:
        raise NotAllowed("contract_not_ended", "Hire again once the contract has ended.")
    await require_contact(uow, actor_id, contract.freelancer_id)
    return contract


async def send_rehire_offer(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    contract_id: int,
    milestones: Sequence[contracts.MilestoneSpec],
) -> Contract:
    """A direct offer to the freelancer of an ended contract, on a private copy of
    its job (see the module's docstring)."""
    old = await rehire_source(uow, actor_id, contract_id)
    source = await uow.jobs.get(old.job_id)
    now = clock.now()
    job = await uow.jobs.add(
        Job(
            client_id=actor_id,
            title=old.title,
            description=source.description if source else "",
            category=source.category if source else None,
            skills=list(source.skills) if source else [],
            budget=sum(m.amount for m in milestones),
            currency=old.currency,
            status=JobStatus.PAUSED,  # takes the offer; never listed, never pitched on
            created_at=now,
            active_at=now,
        )
    )
    assert job.id is not None
    await uow.invitations.add(
        Invitation(
            job_id=job.id, client_id=actor_id, freelancer_id=old.freelancer_id, created_at=now
        )
    )
    return await contracts.send_offer(
        uow, clock, config, actor_id, job.id, old.freelancer_id, milestones, title=old.title
    )
