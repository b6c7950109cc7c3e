"""Admin read models: stats, open disputes, a dispute's evidence, the audit log,
a user's card. Every function refuses non-admins (config.admin_ids)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain import ledger
from domain.config import MarketConfig
from domain.entities import AuditEntry, Contract, Dispute, Milestone, User
from domain.ports import Clock, UnitOfWork
from domain.reputation import FreelancerRecord
from domain.states import ContractStatus, DisputeStatus, JobStatus
from domain.usecases.common import load, require_admin
from domain.usecases.deadlines import stalled_milestones
from domain.usecases.disputes import LIVE
from domain.usecases.queries import freelancer_record


@dataclass(frozen=True, slots=True)
class Stats:
    users: int
    clients: int
    freelancers: int
    banned: int
    open_jobs: int
    active_contracts: int
    open_disputes: int
    escrow_held: int  # minor units in all milestone escrows now
    platform_fees: int  # earned so far
    open_reports: int


async def stats(uow: UnitOfWork, config: MarketConfig, actor_id: int) -> Stats:
    require_admin(config, actor_id)
    escrows = await uow.ledger.balances("escrow:")
    return Stats(
        users=await uow.users.count(),
        clients=await uow.users.count(is_client=True),
        freelancers=await uow.users.count(is_freelancer=True),
        banned=await uow.users.count(banned=True),
        open_jobs=await uow.jobs.count(status=JobStatus.OPEN),
        active_contracts=await uow.contracts.count(status=ContractStatus.ACTIVE),
        open_disputes=await uow.disputes.count(
            status__in=(DisputeStatus.OPEN, DisputeStatus.SPLIT_PROPOSED)
        ),
        escrow_held=sum(escrows.values()),
        platform_fees=await uow.ledger.balance(ledger.PLATFORM_FEES),
        open_reports=await uow.reports.count(status="open"),
    )


async def open_disputes(
    uow: UnitOfWork, config: MarketConfig, actor_id: int, limit: int = 50
) -> list[Dispute]:
    """Oldest first: the queue an admin works through."""
    require_admin(config, actor_id)
    return await uow.disputes.find(
        limit=limit, status__in=(DisputeStatus.OPEN, DisputeStatus.SPLIT_PROPOSED)
    )


@dataclass(frozen=True, slots=True)
class TimelineItem:
    at: datetime | None
    # funded, submission, dispute_opened, message (in a dispute), chat (the contract's
    # messages meanwhile), split_proposed, escalated, taken, and how it closed:
    # resolved, settled, lapsed, withdrawn
    kind: str
    actor_id: int | None
    text: str = ""
    files: tuple[str, ...] = ()
    amount: int | None = None


@dataclass(frozen=True, slots=True)
class DisputeEvidence:
    dispute: Dispute
    milestone: Milestone
    contract: Contract
    escrow: int
    timeline: list[TimelineItem]
    client_record: FreelancerRecord
    freelancer_record: FreelancerRecord


async def dispute_evidence(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, dispute_id: int
) -> DisputeEvidence:
    """Everything an admin needs to decide: the timeline of the milestone — funding,
    submissions, its disputes and their messages, the contract's messages while the
    milestone was funded, the dispute's clock — amounts and both records. Nothing of
    the contract's other milestones."""
    require_admin(config, actor_id)
    dispute = await load(uow.disputes, dispute_id, "dispute")
    milestone = await load(uow.milestones, dispute.milestone_id, "milestone")
    contract = await load(uow.contracts, dispute.contract_id, "contract")
    items: list[TimelineItem] = []
    if milestone.funded_at:
        items.append(
            TimelineItem(milestone.funded_at, "funded", contract.client_id, amount=milestone.amount)
        )
    for s in await uow.submissions.find(milestone_id=milestone.id):
        items.append(
            TimelineItem(s.created_at, "submission", s.freelancer_id, s.message, tuple(s.files))
        )
    here = await uow.disputes.find(milestone_id=milestone.id)
    for each in here:  # this dispute, and any earlier one on the same milestone
        items.append(
            TimelineItem(
                each.created_at, "dispute_opened", each.opened_by, each.reason, tuple(each.evidence)
            )
        )
    ids = {each.id for each in here}
    start = milestone.funded_at or dispute.created_at
    for msg in await uow.messages.find(contract_id=contract.id):
        if msg.dispute_id is not None:
            if msg.dispute_id in ids:
                items.append(
                    TimelineItem(
                        msg.created_at, "message", msg.sender_id, msg.text, tuple(msg.files)
                    )
                )
        elif _between(msg.created_at, start, dispute.resolved_at):
            items.append(
                TimelineItem(msg.created_at, "chat", msg.sender_id, msg.text, tuple(msg.files))
            )
    if dispute.proposed_share is not None and dispute.status in LIVE:
        items.append(
            TimelineItem(None, "split_proposed", dispute.proposed_by, amount=dispute.proposed_share)
        )
    if dispute.escalated_at is not None:
        items.append(TimelineItem(dispute.escalated_at, "escalated", None))
    if dispute.taken_at is not None:
        items.append(TimelineItem(dispute.taken_at, "taken", dispute.handled_by))
    if dispute.resolved_at is not None and dispute.status not in LIVE:
        items.append(
            TimelineItem(
                dispute.resolved_at,
                str(dispute.status),
                dispute.resolved_by,
                dispute.resolution_reason,
                amount=dispute.resolution_share,
            )
        )
    # Undated items (a standing proposal) go last.
    items.sort(
        key=lambda i: (i.at is None, i.at or datetime.min.replace(tzinfo=clock.now().tzinfo))
    )
    return DisputeEvidence(
        dispute=dispute,
        milestone=milestone,
        contract=contract,
        escrow=await uow.ledger.balance(ledger.escrow_account(milestone.id)),  # type: ignore[arg-type]
        timeline=items,
        client_record=await freelancer_record(uow, clock, contract.client_id),
        freelancer_record=await freelancer_record(uow, clock, contract.freelancer_id),
    )


def _between(at: datetime | None, start: datetime | None, end: datetime | None) -> bool:
    """Was `at` within [start, end] (an open end: until now)?"""
    if at is None or start is None:
        return False
    return start <= at and (end is None or at <= end)


@dataclass(frozen=True, slots=True)
class StalledEscrow:
    """A funded milestone with no submission well past its due date."""

    milestone: Milestone
    contract: Contract
    escrow: int  # what its escrow holds (minor units)
    days_overdue: int


async def stalled_escrow(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int
) -> list[StalledEscrow]:
    """Every stalled milestone (deadlines.stalled_milestones), the longest overdue first."""
    require_admin(config, actor_id)
    today = clock.now().date()
    found: list[StalledEscrow] = []
    for m in await stalled_milestones(uow, clock, config):
        contract = await load(uow.contracts, m.contract_id, "contract")
        found.append(
            StalledEscrow(
                milestone=m,
                contract=contract,
                escrow=await uow.ledger.balance(ledger.escrow_account(m.id)),  # type: ignore[arg-type]
                days_overdue=(today - m.due_date).days,  # type: ignore[operator]
            )
        )
    return found


async def audit_log(
    uow: UnitOfWork, config: MarketConfig, actor_id: int, limit: int = 20
) -> list[AuditEntry]:
    """Newest first."""
    require_admin(config, actor_id)
    return await uow.audit.find(order_by="-id", limit=limit)


@dataclass(frozen=True, slots=True)
class UserCard:
    user: User
    record: FreelancerRecord
    balance: int
    open_reports: int


async def user_card(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, user_id: int
) -> UserCard:
    require_admin(config, actor_id)
    user = await load(uow.users, user_id, "user")
    return UserCard(
        user=user,
        record=await freelancer_record(uow, clock, user_id),
        balance=await uow.ledger.balance(ledger.freelancer_account(user_id)),
        open_reports=await uow.reports.count(target_type="user", target_id=user_id, status="open"),
    )
