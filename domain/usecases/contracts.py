"""Contracts: offers with milestones, accept / decline / counter, withdraw,
adding milestones, and ending a contract. Also the parties' part of the event
data that every contract and milestone event carries (`parties`, `milestone_parties`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from domain import validation
from domain.config import MarketConfig
from domain.entities import Contract, Milestone, Pitch
from domain.errors import NotAllowed, ValidationError
from domain.events import (
    ContractEnded,
    ContractEvent,
    ContractSettled,
    CounterAccepted,
    MilestoneAdded,
    OfferAccepted,
    OfferCountered,
    OfferDeclined,
    OfferRevised,
    OfferSent,
    OfferWithdrawn,
)
from domain.ports import Clock, UnitOfWork
from domain.states import (
    HELD,
    PITCH,
    SETTLED_MILESTONE,
    ContractStatus,
    JobStatus,
    MilestoneStatus,
)
from domain.timesheet import INVOICE_KIND
from domain.usecases import badges, jobs
from domain.usecases.blocking import require_contact
from domain.usecases.common import (
    active_user,
    client,
    freelancer,
    load,
    other_party,
    require_party,
)
from domain.usecases.visibility import owned_job

MAX_MILESTONES = 20
LIVE_CONTRACT = (ContractStatus.OFFERED, ContractStatus.COUNTERED, ContractStatus.ACTIVE)
# A job takes offers while open or paused (a pause stops new pitches, not hiring).
HIRING = (JobStatus.OPEN, JobStatus.PAUSED)


def parties(contract: Contract) -> dict[str, int | None]:
    """Event data of every contract event: the contract and both parties."""
    return {
        "contract_id": contract.id,
        "client_id": contract.client_id,
        "freelancer_id": contract.freelancer_id,
    }


def milestone_parties(milestone: Milestone, contract: Contract) -> dict[str, object]:
    """Event data of every milestone event: the milestone, its amount and the parties."""
    return {
        "milestone_id": milestone.id,
        **parties(contract),
        "amount": milestone.amount,
        "currency": milestone.currency,
    }


@dataclass(frozen=True, slots=True)
class MilestoneSpec:
    title: str
    amount: int  # minor units of the job's currency
    due_date: date | None = None


def _clean_specs(
    specs: Sequence[MilestoneSpec], today: date, empty_ok: bool = False
) -> list[MilestoneSpec]:
    if not specs and not empty_ok:
        raise ValidationError("milestones_empty", "An offer needs at least one milestone.")
    if len(specs) > MAX_MILESTONES:
        raise ValidationError(
            "milestones_too_many", f"At most {MAX_MILESTONES} milestones.", max=MAX_MILESTONES
        )
    cleaned = []
    for spec in specs:
        title = validation.clean_text(
            spec.title, "milestone title", 1, validation.MILESTONE_TITLE_MAX
        )
        if not isinstance(spec.amount, int) or isinstance(spec.amount, bool) or spec.amount <= 0:
            raise ValidationError("amount_zero", "A milestone amount must be more than zero.")
        if spec.due_date is not None and spec.due_date < today:
            raise ValidationError("date_past", "A due date cannot be in the past.")
        cleaned.append(MilestoneSpec(title, spec.amount, spec.due_date))
    return cleaned


async def _replace_milestones(
    uow: UnitOfWork, contract: Contract, specs: Sequence[MilestoneSpec]
) -> list[Milestone]:
    """Before acceptance nothing is funded, so the proposed milestones are simply replaced."""
    for old in await uow.milestones.find(contract_id=contract.id):
        await uow.milestones.delete(old)
    return [
        await uow.milestones.add(
            Milestone(
                contract_id=contract.id,  # type: ignore[arg-type]
                position=i,
                title=spec.title,
                amount=spec.amount,
                currency=contract.currency,
                due_date=spec.due_date,
            )
        )
        for i, spec in enumerate(specs, start=1)
    ]


async def send_offer(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    job_id: int,
    freelancer_id: int,
    milestones: Sequence[MilestoneSpec],
    title: str | None = None,
    empty_ok: bool = False,
) -> Contract:
    """The client offers a contract to a freelancer who pitched or was invited.
    `empty_ok`: an hourly offer with no limit has no milestone to pre-fund.

    Fees are snapshotted from the config, so a later fee change does not alter
    an agreed deal. One live offer or contract per (job, freelancer).
    """
    await client(uow, actor_id)
    job = await owned_job(uow, actor_id, job_id, lock=True)
    if job.status not in HIRING:
        raise NotAllowed("job_not_open", "Offers can be sent on open jobs only.")
    if freelancer_id == actor_id:
        raise NotAllowed("own_job", "You cannot hire yourself.")
    await freelancer(uow, freelancer_id)
    await require_contact(uow, actor_id, freelancer_id)
    now = clock.now()
    specs = _clean_specs(milestones, now.date(), empty_ok)
    pitches = await uow.pitches.find(job_id=job_id, freelancer_id=freelancer_id)
    pitch: Pitch | None = pitches[0] if pitches else None
    if pitch is None:
        if not await uow.invitations.count(job_id=job_id, freelancer_id=freelancer_id):
            raise NotAllowed("no_pitch", "Offers go to freelancers who pitched or were invited.")
    elif not PITCH.allows(pitch.status, "hire"):
        raise NotAllowed("pitch_not_pending", "This pitch was withdrawn or declined.")
    if await uow.contracts.count(
        job_id=job_id, freelancer_id=freelancer_id, status__in=LIVE_CONTRACT
    ):
        raise NotAllowed("offer_exists", "There is already an offer or contract for this job.")
    contract = await uow.contracts.add(
        Contract(
            job_id=job_id,
            pitch_id=pitch.id if pitch else None,
            client_id=actor_id,
            freelancer_id=freelancer_id,
            title=validation.clean_text(title or job.title, "title", 1, 200),
            currency=job.currency,
            client_fee_bp=config.client_fee_bp,
            freelancer_fee_bp=config.freelancer_fee_bp,
            offered_at=now,
            expires_at=now + timedelta(days=config.offer_expiry_days),
        )
    )
    await _replace_milestones(uow, contract, specs)
    uow.emit(
        OfferSent(
            job_id=job_id,
            total=sum(s.amount for s in specs),
            currency=contract.currency,
            **parties(contract),
        )
    )
    return contract


async def _hire(uow: UnitOfWork, contract: Contract) -> None:
    if contract.pitch_id is None:
        return
    pitch = await uow.pitches.get_for_update(contract.pitch_id)
    if pitch is not None and PITCH.allows(pitch.status, "hire"):
        pitch.apply("hire")


async def _decide(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    contract_id: int,
    role: str,
    action: str,
    kind: type[ContractEvent],
    milestones: Sequence[MilestoneSpec] | None = None,
    **data: object,
) -> Contract:
    """A party's decision on an offer: `action` on the contract, new `milestones` for
    a counter or a revision (their total joins the event), then the event `kind`
    with the parties and `data`."""
    specs = None if milestones is None else _clean_specs(milestones, clock.now().date())
    await active_user(uow, actor_id)
    contract = await load(uow.contracts, contract_id, "contract", lock=True)
    if contract.job_id is None:  # a service order is decided on the order (service_orders.py)
        raise NotAllowed("order_answer_on_order", "Answer this order from the order itself.")
    require_party(contract, actor_id, role)
    now = clock.now()
    if contract.expires_at is not None and now >= contract.expires_at and action != "withdraw":
        raise NotAllowed("offer_expired", "This offer has expired.")
    if action not in ("decline", "withdraw"):  # an offer is contact until it is a contract
        await require_contact(uow, actor_id, other_party(contract, actor_id))
    contract.apply(action)
    if contract.status is ContractStatus.ACTIVE:
        contract.accepted_at = now
        contract.expires_at = None
        await _hire(uow, contract)
    if specs is not None:
        await _replace_milestones(uow, contract, specs)
        data["total"] = sum(s.amount for s in specs)
    if contract.status is ContractStatus.ACTIVE:
        # Before the hire's event, so the client's "accepted" message with its Fund
        # button comes last, under the question whether to close the job.
        await jobs.hold_after_hire(uow, contract)
    uow.emit(kind(**parties(contract), **data))
    return contract


async def accept_offer(uow: UnitOfWork, clock: Clock, actor_id: int, contract_id: int) -> Contract:
    return await _decide(uow, clock, actor_id, contract_id, "freelancer", "accept", OfferAccepted)


async def decline_offer(
    uow: UnitOfWork, clock: Clock, actor_id: int, contract_id: int, reason: str = ""
) -> Contract:
    return await _decide(
        uow,
        clock,
        actor_id,
        contract_id,
        "freelancer",
        "decline",
        OfferDeclined,
        reason=reason.strip()[:500],
    )


async def counter_offer(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    contract_id: int,
    milestones: Sequence[MilestoneSpec],
) -> Contract:
    """The freelancer proposes other milestones; the client accepts or revises."""
    return await _decide(
        uow, clock, actor_id, contract_id, "freelancer", "counter", OfferCountered, milestones
    )


async def accept_counter(
    uow: UnitOfWork, clock: Clock, actor_id: int, contract_id: int
) -> Contract:
    return await _decide(
        uow, clock, actor_id, contract_id, "client", "accept_counter", CounterAccepted
    )


async def revise_offer(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    contract_id: int,
    milestones: Sequence[MilestoneSpec],
) -> Contract:
    """The client answers a counter with new milestones: a fresh offer, a fresh expiry."""
    contract = await _decide(
        uow, clock, actor_id, contract_id, "client", "revise", OfferRevised, milestones
    )
    contract.offered_at = clock.now()
    contract.expires_at = clock.now() + timedelta(days=config.offer_expiry_days)
    return contract


async def withdraw_offer(
    uow: UnitOfWork, clock: Clock, actor_id: int, contract_id: int
) -> Contract:
    return await _decide(uow, clock, actor_id, contract_id, "client", "withdraw", OfferWithdrawn)


async def add_milestone(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    contract_id: int,
    spec: MilestoneSpec,
) -> Milestone:
    """The client adds the next milestone to an active contract (it is funded separately)."""
    await active_user(uow, actor_id)
    (clean,) = _clean_specs([spec], clock.now().date())
    contract = await load(uow.contracts, contract_id, "contract", lock=True)
    require_party(contract, actor_id, "client")
    if contract.status is not ContractStatus.ACTIVE:
        raise NotAllowed("contract_not_active", "Milestones are added to active contracts.")
    existing = await uow.milestones.find(contract_id=contract_id)
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
        )
    )
    uow.emit(MilestoneAdded(**milestone_parties(milestone, contract)))
    return milestone


async def offer_end_when_settled(uow: UnitOfWork, contract: Contract) -> bool:
    """After a milestone is settled: when it was the last one — every milestone of the
    active contract released, refunded, split or cancelled, at least one paid out or
    back — both parties are offered to end the contract and rate at once
    (ContractSettled). Called after the settlement's own event, so the offer comes
    after the news of the money. True if offered."""
    if contract.job_id is None:  # a service order's status follows its milestone
        from domain.usecases import service_orders  # it builds on this module

        await service_orders.settled(uow, contract)
    if contract.status is not ContractStatus.ACTIVE:
        return False
    found = await uow.milestones.find(contract_id=contract.id)
    if not found or any(m.status not in SETTLED_MILESTONE for m in found):
        return False
    if all(m.status is MilestoneStatus.CANCELLED for m in found):
        return False  # nothing was settled: cancelling is not finishing the work
    uow.emit(ContractSettled(**parties(contract)))
    return True


def require_endable(milestones: Sequence[Milestone]) -> None:
    """An active contract ends only once no money is held in escrow and no payment
    is under way; raises NotAllowed saying which."""
    if any(m.status in HELD for m in milestones):
        raise NotAllowed("escrow_not_empty", "Release or refund the funded milestones first.")
    if any(m.status is MilestoneStatus.FUNDING for m in milestones):
        raise NotAllowed("payment_in_progress", "A payment for a milestone is under way.")


async def end_contract(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    contract_id: int,
    rating_shown: bool = False,
) -> Contract:
    """Either party ends an active contract once no money is held in escrow and no
    payment is under way; unfunded milestones are cancelled; the review window opens.
    `rating_shown`: the flow shows the ender the stars itself (ContractEnded says so)."""
    await active_user(uow, actor_id)
    contract = await load(uow.contracts, contract_id, "contract", lock=True)
    require_party(contract, actor_id)
    if contract.status is not ContractStatus.ACTIVE:
        contract.apply("end")  # raises IllegalTransition with the real state
    from domain.usecases import hourly  # hourly.py builds on this module

    await hourly.invoice_open_week(uow, clock, config, contract)  # logged time is billed
    milestones = [
        await load(uow.milestones, m.id, "milestone", lock=True)
        for m in await uow.milestones.find(contract_id=contract_id, order_by="id")
    ]
    require_endable(milestones)
    now = clock.now()
    for m in milestones:
        if m.kind == INVOICE_KIND:
            continue  # a week's invoice stays payable after the end
        if m.status in (MilestoneStatus.PENDING, MilestoneStatus.PROPOSED):
            m.apply("cancel")
            m.settled_at = now
    contract.apply("end")
    contract.ended_at = now
    contract.review_deadline = now + timedelta(days=config.review_window_days)
    await badges.refresh(uow, now, contract.freelancer_id)  # told before the stars
    uow.emit(ContractEnded(ended_by=actor_id, rating_shown=rating_shown, **parties(contract)))
    return contract
