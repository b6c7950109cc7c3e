"""The scheduler's work: each function finds what is due, then locks each row
and re-checks its state before acting, so two processes running it at once
(or a user acting at the same moment) never act twice.

Run each in its own unit of work and commit; the return value says what was done.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from domain.config import MarketConfig
from domain.entities import Dispute, Milestone
from domain.events import (
    DisputeAdminReminder,
    DisputeReminder,
    EscrowStalled,
    MilestoneReleased,
    OfferExpired,
    ReleaseReminder,
)
from domain.ports import Clock, PaymentGateway, UnitOfWork
from domain.states import ContractStatus, DisputeStage, MilestoneStatus, ReviewStatus
from domain.usecases import badges, bonus, disputes, hourly, service_orders
from domain.usecases.alerts import daily_digest
from domain.usecases.common import clock_ran_out, load, milestone_with_contract
from domain.usecases.contracts import milestone_parties, offer_end_when_settled, parties
from domain.usecases.job_expiry import ask_still_hiring, close_unanswered
from domain.usecases.outbox_retention import prune_delivered_outbox
from domain.usecases.reviews import reveal
from domain.usecases.settlement import settle
from domain.usecases.updates import prune_processed_updates

__all__ = [
    "ask_still_hiring",
    "auto_release_due",
    "close_unanswered",
    "daily_digest",
    "dispute_deadlines_due",
    "expire_offers",
    "nudge_stalled_escrow",
    "prune_delivered_outbox",
    "prune_processed_updates",
    "remind_admins_of_disputes",
    "reveal_due_reviews",
    "send_dispute_reminders",
    "send_release_reminders",
]

BATCH = 100


async def auto_release_due(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = BATCH
) -> list[int]:
    """Release submitted milestones whose review window has ended; their ids."""
    released: list[int] = []
    # One released, disputed or resubmitted meanwhile is left out.
    due = clock_ran_out(uow, MilestoneStatus.SUBMITTED, clock.now(), limit)
    async for milestone, contract in due:
        split = await settle(
            uow, clock, milestone, contract, milestone.amount, "release", "release"
        )
        released.append(milestone.id)  # type: ignore[arg-type]
        uow.emit(
            MilestoneReleased(
                to_freelancer=split.to_freelancer,
                fees=split.to_platform,
                auto=True,
                **milestone_parties(milestone, contract),
            )
        )
        await offer_end_when_settled(uow, contract)
    return released


async def send_release_reminders(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = BATCH
) -> list[int]:
    """Remind the client config.reminder_hours (48 h, then 24 h) before auto-release.

    `reminders_sent` counts the reminders already sent for this submission; a
    reminder whose time was missed (the scheduler was down) is folded into the
    latest one due, so the client gets one message, not a burst.
    """
    now = clock.now()
    hours = sorted(config.reminder_hours, reverse=True)  # 48, 24
    if not hours:
        return []
    candidates = await uow.milestones.find(
        status=MilestoneStatus.SUBMITTED,
        auto_release_at__gt=now,
        auto_release_at__lte=now + timedelta(hours=hours[0]),
        reminders_sent__lt=len(hours),
        limit=limit,
    )
    reminded: list[int] = []
    for found in candidates:
        milestone = await load(uow.milestones, found.id, "milestone", lock=True)
        if milestone.status is not MilestoneStatus.SUBMITTED or milestone.auto_release_at is None:
            continue
        left = milestone.auto_release_at - now
        if left <= timedelta(0):
            continue
        due_count = sum(1 for h in hours if left <= timedelta(hours=h))
        if due_count <= milestone.reminders_sent:
            continue
        milestone.reminders_sent = due_count
        contract = await load(uow.contracts, milestone.contract_id, "contract")
        reminded.append(found.id)  # type: ignore[arg-type]
        uow.emit(
            ReleaseReminder(
                milestone_id=milestone.id,
                contract_id=contract.id,
                client_id=contract.client_id,
                hours_left=int(left.total_seconds() // 3600),
                auto_release_at=milestone.auto_release_at.isoformat(),
            )
        )
    return reminded


async def expire_offers(uow: UnitOfWork, clock: Clock, limit: int = BATCH) -> list[int]:
    """Offers (and counter-offers) past their expiry; their ids."""
    now = clock.now()
    due = await uow.contracts.find(
        status__in=(ContractStatus.OFFERED, ContractStatus.COUNTERED),
        expires_at__lte=now,
        limit=limit,
    )
    expired: list[int] = []
    for found in due:
        contract = await load(uow.contracts, found.id, "contract", lock=True)
        if contract.status not in (ContractStatus.OFFERED, ContractStatus.COUNTERED):
            continue
        if contract.expires_at is None or contract.expires_at > now:
            continue
        contract.apply("expire")
        expired.append(found.id)  # type: ignore[arg-type]
        uow.emit(OfferExpired(**parties(contract)))
    return expired


async def reveal_due_reviews(uow: UnitOfWork, clock: Clock, limit: int = BATCH) -> list[int]:
    """Reveal hidden reviews of contracts whose review window closed; the contract ids."""
    now = clock.now()
    hidden = await uow.reviews.find(status=ReviewStatus.HIDDEN, limit=limit * 2)
    done: list[int] = []
    for contract_id in sorted({r.contract_id for r in hidden}):
        contract = await load(uow.contracts, contract_id, "contract", lock=True)
        if contract.review_deadline is None or contract.review_deadline > now:
            continue
        if await reveal(uow, contract_id, now):
            done.append(contract_id)
    return done


# --- the dispute clock --------------------------------------------------------------------


async def dispute_deadlines_due(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway | None = None,
    limit: int = BATCH,
) -> list[int]:
    """Disputes whose stage ended: unanswered ones settle for the opener (a
    chargeback-frozen milestone goes to the admins instead: only they settle it),
    unagreed ones wait for an admin. Their ids."""
    now = clock.now()
    due = await uow.disputes.find(status__in=disputes.LIVE, due_at__lte=now, limit=limit)
    done: list[int] = []
    for found in due:
        # Milestone before dispute: the order every money path locks in.
        milestone, contract = await milestone_with_contract(uow, found.milestone_id)
        dispute = await load(uow.disputes, found.id, "dispute", lock=True)
        if dispute.status not in disputes.LIVE or not _dispute_due(dispute, now):
            continue  # settled, answered or taken meanwhile
        if dispute.stage is DisputeStage.RESPONSE and disputes.parties_may_settle(milestone):
            await disputes.lapse_dispute(uow, clock, gateway, dispute, milestone, contract)
        else:
            disputes.await_admin(uow, now, dispute, milestone, contract)
        done.append(found.id)  # type: ignore[arg-type]
    return done


def _dispute_due(dispute: Dispute, now: datetime) -> bool:
    return dispute.due_at is not None and dispute.due_at <= now


async def send_dispute_reminders(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = BATCH
) -> list[int]:
    """Remind the parties config.dispute_reminder_hours (48 h, then 24 h) before an
    unanswered dispute settles for its opener; missed reminders fold into one."""
    now = clock.now()
    hours = sorted(config.dispute_reminder_hours, reverse=True)
    if not hours:
        return []
    candidates = await uow.disputes.find(
        status__in=disputes.LIVE,
        stage=DisputeStage.RESPONSE,
        due_at__gt=now,
        due_at__lte=now + timedelta(hours=hours[0]),
        reminders_sent__lt=len(hours),
        limit=limit,
    )
    reminded: list[int] = []
    for found in candidates:
        milestone, contract = await milestone_with_contract(uow, found.milestone_id, lock=False)
        dispute = await load(uow.disputes, found.id, "dispute", lock=True)
        if dispute.status not in disputes.LIVE or dispute.stage is not DisputeStage.RESPONSE:
            continue
        if dispute.due_at is None or dispute.due_at <= now:
            continue
        left = dispute.due_at - now
        due_count = sum(1 for h in hours if left <= timedelta(hours=h))
        if due_count <= dispute.reminders_sent:
            continue
        dispute.reminders_sent = due_count
        reminded.append(found.id)  # type: ignore[arg-type]
        uow.emit(
            DisputeReminder(
                dispute_id=dispute.id,  # type: ignore[arg-type]
                opened_by=dispute.opened_by,
                hours_left=int(left.total_seconds() // 3600),
                due_at=dispute.due_at.isoformat(),
                **milestone_parties(milestone, contract),
            )
        )
    return reminded


async def remind_admins_of_disputes(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = BATCH
) -> list[int]:
    """Every admin hears of a dispute that has waited for an admin more than
    config.dispute_admin_wait_days, at most once a day."""
    now = clock.now()
    waiting = await uow.disputes.find(
        status__in=disputes.LIVE,
        stage=DisputeStage.ADMIN,
        escalated_at__lte=now - timedelta(days=config.dispute_admin_wait_days),
        limit=limit * 4,
    )
    day_ago = now - timedelta(days=1)
    reminded: list[int] = []
    for found in waiting:
        if found.admins_reminded_at is not None and found.admins_reminded_at > day_ago:
            continue
        milestone, contract = await milestone_with_contract(uow, found.milestone_id, lock=False)
        dispute = await load(uow.disputes, found.id, "dispute", lock=True)
        if dispute.status not in disputes.LIVE or dispute.escalated_at is None:
            continue
        if dispute.admins_reminded_at is not None and dispute.admins_reminded_at > day_ago:
            continue  # another process reminded them meanwhile
        dispute.admins_reminded_at = now
        reminded.append(found.id)  # type: ignore[arg-type]
        uow.emit(
            DisputeAdminReminder(
                dispute_id=dispute.id,  # type: ignore[arg-type]
                waiting_since=dispute.escalated_at.isoformat(),
                handled_by=dispute.handled_by,
                **milestone_parties(milestone, contract),
            )
        )
        if len(reminded) >= limit:
            break
    return reminded


# --- stalled escrow -----------------------------------------------------------------------


def stalled_since(milestone: Milestone, config: MarketConfig) -> datetime | None:
    """When a funded milestone without a submission counts as stalled escrow:
    config.stalled_after_days after its due date (None without a due date)."""
    if milestone.due_date is None:
        return None
    due = datetime.combine(milestone.due_date, time(0), tzinfo=UTC)
    return due + timedelta(days=config.stalled_after_days)


async def stalled_milestones(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int | None = None
) -> list[Milestone]:
    """Funded milestones with no submission past the stall threshold, oldest due first."""
    latest_due = (clock.now() - timedelta(days=config.stalled_after_days)).date()
    return await uow.milestones.find(
        order_by="due_date", status=MilestoneStatus.FUNDED, due_date__lte=latest_due, limit=limit
    )


async def nudge_stalled_escrow(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = BATCH
) -> list[int]:
    """Nudge both parties of each stalled milestone when it stalls, then every
    config.stalled_after_days; nudges missed while the bot was down fold into one.
    `reminders_sent` counts the nudges (a submission resets it for the review)."""
    now = clock.now()
    every = timedelta(days=config.stalled_after_days)
    nudged: list[int] = []
    for found in await stalled_milestones(uow, clock, config, limit=limit * 5):
        since = stalled_since(found, config)
        if since is None or since > now or (now - since) // every + 1 <= found.reminders_sent:
            continue
        milestone = await load(uow.milestones, found.id, "milestone", lock=True)
        since = stalled_since(milestone, config)
        if milestone.status is not MilestoneStatus.FUNDED or since is None or since > now:
            continue  # submitted, disputed or settled meanwhile
        due_count = (now - since) // every + 1
        if due_count <= milestone.reminders_sent:
            continue  # another process nudged them meanwhile
        milestone.reminders_sent = due_count
        contract = await load(uow.contracts, milestone.contract_id, "contract")
        nudged.append(found.id)  # type: ignore[arg-type]
        uow.emit(
            EscrowStalled(
                due_date=milestone.due_date.isoformat(),  # type: ignore[union-attr]
                days_overdue=(now.date() - milestone.due_date).days,  # type: ignore[operator]
                next_nudge=(since + every * due_count).isoformat(),
                **milestone_parties(milestone, contract),
            )
        )
        if len(nudged) >= limit:
            break
    return nudged


# What the scheduler's tick runs, in this order, each in its own unit of work.
# The daily digest, the pruning of old update ids and of delivered outbox rows are
# defined elsewhere.
DEADLINES = (
    auto_release_due,
    # Partial releases nobody answered in time: the work is under review again.
    bonus.lapse_partial_offers,
    # Hourly contracts: weeks that ended become invoices, the new week's escrow is
    # asked for, unanswered invoices are paid.
    hourly.close_weeks_due,
    hourly.open_weeks_due,
    hourly.auto_pay_due,
    send_release_reminders,
    dispute_deadlines_due,
    send_dispute_reminders,
    remind_admins_of_disputes,
    nudge_stalled_escrow,
    # Service orders: paid ones the seller left unanswered are refunded in full,
    # unpaid ones are dropped (domain/usecases/service_orders.py); the seller is
    # reminded once two thirds into the acceptance window.
    service_orders.remind_unaccepted,
    service_orders.expire_unaccepted,
    service_orders.expire_unpaid,
    expire_offers,
    ask_still_hiring,
    close_unanswered,
    reveal_due_reviews,
    badges.expire_rising_talent,
    daily_digest,
    prune_processed_updates,
    prune_delivered_outbox,
)
