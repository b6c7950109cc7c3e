"""Pitches: a freelancer's proposal on an open job, within a weekly quota;
the client shortlists, declines, or invites freelancers (invited pitches are free).

Quota rule: at most `config.weekly_pitch_quota` uninvited pitches in any rolling
7 days (QUOTA_WINDOW); withdrawn pitches still count, so withdrawing never buys
a pitch back. On a fixed-price job, proposed milestones add up to the price."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain import validation
from domain.config import MarketConfig
from domain.entities import Invitation, Job, Pitch
from domain.errors import NotAllowed, QuotaExceeded, ValidationError
from domain.events import (
    FreelancerInvited,
    PitchDeclined,
    PitchEdited,
    PitchReceived,
    PitchShortlisted,
    PitchWithdrawn,
)
from domain.money import Money
from domain.ports import Clock, UnitOfWork
from domain.states import JobStatus
from domain.usecases import moderation
from domain.usecases.blocking import require_contact
from domain.usecases.common import active_user, client, freelancer, load
from domain.usecases.visibility import owned_job, visible_job

QUOTA_WINDOW = timedelta(days=7)
COVER_LETTER_MIN = 20
MAX_DURATION_DAYS = 730
MAX_PROPOSED_MILESTONES = 20


@dataclass(frozen=True, slots=True)
class PitchFields:
    cover_letter: str
    price: int  # minor units: the fixed price, or the hourly rate on an hourly job
    duration_days: int | None = None
    milestones: Sequence[dict[str, Any]] = field(default_factory=tuple)  # [{"title", "amount"}]


def check_milestones(
    milestones: Sequence[dict[str, Any]], job: Job, price: int
) -> list[dict[str, Any]]:
    """Proposed milestones [{"title", "amount"}], cleaned; on a fixed-price job
    they add up to the price (an hourly job's rate cannot be split)."""
    if len(milestones) > MAX_PROPOSED_MILESTONES:
        raise ValidationError(
            "milestones_too_many", "Too many milestones.", max=MAX_PROPOSED_MILESTONES
        )
    proposed = []
    for m in milestones:
        title = validation.clean_text(
            str(m.get("title", "")), "milestone title", 1, validation.MILESTONE_TITLE_MAX
        )
        amount = m.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise ValidationError("amount_zero", "A milestone amount must be more than zero.")
        proposed.append({"title": title, "amount": amount})
    total = sum(m["amount"] for m in proposed)
    if proposed and job.budget_type == "fixed" and total != price:
        # Say by how much, so the freelancer knows what to add or take off.
        short = total < price
        diff = Money(abs(price - total), job.currency).format()
        shown = Money(price, job.currency).format()
        raise ValidationError(
            "pitch_milestones_short" if short else "pitch_milestones_over",
            f"The milestones are {diff} {'short of' if short else 'over'} the price {shown}.",
            total=Money(total, job.currency).format(),
            price=shown,
            diff=diff,
        )
    return proposed


def _apply(pitch: Pitch, fields: PitchFields, job: Job) -> None:
    pitch.cover_letter = validation.clean_text(
        fields.cover_letter, "cover letter", COVER_LETTER_MIN, validation.COVER_LETTER_MAX
    )
    if not isinstance(fields.price, int) or isinstance(fields.price, bool) or fields.price <= 0:
        raise ValidationError("amount_zero", "The price must be more than zero.")
    pitch.price = fields.price
    if fields.duration_days is not None:
        validation.parse_int(fields.duration_days, "duration", 1, MAX_DURATION_DAYS)
    pitch.duration_days = fields.duration_days
    pitch.proposed_milestones = check_milestones(fields.milestones, job, fields.price)


def _event(pitch: Pitch, job: Job) -> dict[str, object]:
    return {
        "pitch_id": pitch.id,
        "job_id": job.id,
        "client_id": job.client_id,
        "freelancer_id": pitch.freelancer_id,
    }


@dataclass(frozen=True, slots=True)
class PitchQuota:
    used: int  # uninvited pitches in the last QUOTA_WINDOW
    limit: int
    next_free_at: datetime | None  # when the oldest of them leaves the window; None if left

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)


async def pitch_quota(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int
) -> PitchQuota:
    """The freelancer's quota in the rolling window (the module docstring's rule)."""
    since = clock.now() - QUOTA_WINDOW
    counted = await uow.pitches.find(
        order_by="created_at", freelancer_id=actor_id, invited=False, created_at__gt=since
    )
    limit = config.weekly_pitch_quota
    over = len(counted) - limit
    # With `over` + 1 pitches leaving the window, one is free again.
    oldest = counted[over].created_at if over >= 0 and counted else None
    return PitchQuota(len(counted), limit, oldest + QUOTA_WINDOW if oldest else None)


async def pitches_left(uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int) -> int:
    """Uninvited pitches the freelancer may still send in the rolling 7-day window."""
    return (await pitch_quota(uow, clock, config, actor_id)).left


async def check_can_pitch(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, job_id: int
) -> tuple[Job, bool, PitchQuota]:
    """May the actor pitch on this job now? (job, invited, quota), or the refusal
    submit_pitch would give: one pitch per job, not on one's own job, the job open,
    within the quota unless invited."""
    await freelancer(uow, actor_id)
    job = await visible_job(uow, config, actor_id, job_id)
    if job.client_id == actor_id:
        raise NotAllowed("own_job", "You cannot pitch on your own job.")
    await require_contact(uow, actor_id, job.client_id)  # an invitation from before a block
    if job.status is not JobStatus.OPEN:
        raise NotAllowed("job_not_open", "This job is not taking pitches.")
    if await uow.pitches.count(job_id=job_id, freelancer_id=actor_id):
        raise NotAllowed("already_pitched", "You have already pitched on this job.")
    invited = bool(await uow.invitations.count(job_id=job_id, freelancer_id=actor_id))
    quota = await pitch_quota(uow, clock, config, actor_id)
    if not invited and quota.left <= 0:
        raise QuotaExceeded(
            "pitch_quota",
            f"You have used your {quota.limit} pitches of the last 7 days.",
            quota=quota.limit,
        )
    return job, invited, quota


async def submit_pitch(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    job_id: int,
    fields: PitchFields,
) -> Pitch:
    """A new pitch, if check_can_pitch allows it."""
    user = await freelancer(uow, actor_id)
    # The user row is the quota's lock: two pitches at once cannot both take the last slot.
    await load(uow.users, user.id, "user", lock=True)
    job, invited, _ = await check_can_pitch(uow, clock, config, actor_id, job_id)
    now = clock.now()
    pitch = Pitch(
        job_id=job_id,
        freelancer_id=actor_id,
        currency=job.currency,
        invited=invited,
        created_at=now,
        updated_at=now,
    )
    _apply(pitch, fields, job)
    await uow.pitches.add(pitch)
    await moderation.screen(uow, clock, actor_id, "pitch", pitch.id, pitch.cover_letter)
    uow.emit(PitchReceived(price=pitch.price, currency=pitch.currency, **_event(pitch, job)))
    return pitch


async def _own_pitch(uow: UnitOfWork, actor_id: int, pitch_id: int) -> Pitch:
    await active_user(uow, actor_id)
    pitch = await load(uow.pitches, pitch_id, "pitch", lock=True)
    if pitch.freelancer_id != actor_id:
        raise NotAllowed("not_your_pitch", "This pitch is not yours.")
    return pitch


async def edit_pitch(
    uow: UnitOfWork, clock: Clock, actor_id: int, pitch_id: int, fields: PitchFields
) -> Pitch:
    """Change a pending pitch while its job still takes pitches (open: not
    paused or closed); the client sees the new terms, not a stale promise."""
    pitch = await _own_pitch(uow, actor_id, pitch_id)
    pitch.apply("edit")
    # Locked (pitch, then job) so a pause or close that commits first is seen here.
    job = await load(uow.jobs, pitch.job_id, "job", lock=True)
    if job.status is not JobStatus.OPEN:
        raise NotAllowed(
            "pitch_job_not_open",
            "The job is no longer open, so the pitch cannot be edited.",
            status=job.status.value,
        )
    _apply(pitch, fields, job)
    pitch.updated_at = clock.now()
    await moderation.screen(uow, clock, actor_id, "pitch", pitch.id, pitch.cover_letter)
    uow.emit(PitchEdited(**_event(pitch, job)))
    return pitch


async def withdraw_pitch(uow: UnitOfWork, clock: Clock, actor_id: int, pitch_id: int) -> Pitch:
    pitch = await _own_pitch(uow, actor_id, pitch_id)
    pitch.apply("withdraw")
    pitch.updated_at = clock.now()
    job = await load(uow.jobs, pitch.job_id, "job")
    uow.emit(PitchWithdrawn(**_event(pitch, job)))
    return pitch


async def _client_pitch(uow: UnitOfWork, actor_id: int, pitch_id: int) -> tuple[Pitch, Job]:
    await active_user(uow, actor_id)
    pitch = await load(uow.pitches, pitch_id, "pitch", lock=True)
    return pitch, await owned_job(uow, actor_id, pitch.job_id)


async def shortlist_pitch(uow: UnitOfWork, clock: Clock, actor_id: int, pitch_id: int) -> Pitch:
    pitch, job = await _client_pitch(uow, actor_id, pitch_id)
    pitch.apply("shortlist")
    pitch.updated_at = clock.now()
    uow.emit(PitchShortlisted(**_event(pitch, job)))
    return pitch


async def decline_pitch(uow: UnitOfWork, clock: Clock, actor_id: int, pitch_id: int) -> Pitch:
    pitch, job = await _client_pitch(uow, actor_id, pitch_id)
    pitch.apply("decline")
    pitch.updated_at = clock.now()
    uow.emit(PitchDeclined(**_event(pitch, job)))
    return pitch


async def invite_freelancer(
    uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int, freelancer_id: int
) -> Invitation:
    """The client invites a freelancer to pitch; the invited pitch is free of quota."""
    await client(uow, actor_id)
    job = await owned_job(uow, actor_id, job_id)
    if job.status is not JobStatus.OPEN:
        raise NotAllowed("job_not_open", "Invite freelancers to open jobs.")
    if freelancer_id == actor_id:
        raise NotAllowed("own_job", "You cannot invite yourself.")
    await freelancer(uow, freelancer_id)
    await require_contact(uow, actor_id, freelancer_id)
    if await uow.invitations.count(job_id=job_id, freelancer_id=freelancer_id):
        raise NotAllowed("already_invited", "This freelancer is already invited.")
    if await uow.pitches.count(job_id=job_id, freelancer_id=freelancer_id):
        raise NotAllowed("invitee_pitched", "This freelancer has already pitched.")
    invitation = await uow.invitations.add(
        Invitation(
            job_id=job_id,
            client_id=actor_id,
            freelancer_id=freelancer_id,
            created_at=clock.now(),
        )
    )
    uow.emit(
        FreelancerInvited(
            invitation_id=invitation.id,
            job_id=job_id,
            client_id=actor_id,
            freelancer_id=freelancer_id,
        )
    )
    return invitation
