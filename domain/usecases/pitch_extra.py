"""Pitches from the freelancer's side: the weekly quota, submit, edit, withdraw.

Written by the flows engineer because no pitch use cases existed yet; same
conventions as the other use-case modules (re-authorise, no commit, emit).

Quota rule: a freelancer may send `config.weekly_pitch_quota` pitches per ISO
week (Monday 00:00 UTC to the next Monday); pitches on jobs they were invited
to are free. Withdrawn pitches still count — otherwise withdrawing would buy
pitches back.

Events:
- pitch_submitted: pitch_id, job_id, client_id, freelancer_id
- pitch_edited:    pitch_id, job_id, client_id, freelancer_id
- pitch_withdrawn: pitch_id, job_id, client_id, freelancer_id
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain import validation
from domain.config import MarketConfig
from domain.entities import Job, Pitch
from domain.errors import NotAllowed, QuotaExceeded, ValidationError
from domain.money import Money
from domain.ports import Clock, UnitOfWork
from domain.states import JobStatus, PitchStatus
from domain.usecases.common import freelancer, load

COVER_LETTER_MIN = 20
DURATION_MAX_DAYS = 365
MAX_PROPOSED_MILESTONES = 10
EDITABLE = (PitchStatus.PENDING,)
WITHDRAWABLE = (PitchStatus.PENDING, PitchStatus.SHORTLISTED)


@dataclass(frozen=True, slots=True)
class Quota:
    used: int
    limit: int
    resets_at: datetime  # the next Monday 00:00 UTC

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)


def week_start(now: datetime) -> datetime:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


async def pitch_quota(uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int) -> Quota:
    start = week_start(clock.now())
    used = await uow.pitches.count(freelancer_id=actor_id, invited=False, created_at__gte=start)
    return Quota(used, config.weekly_pitch_quota, start + timedelta(days=7))


async def is_invited(uow: UnitOfWork, job_id: int, freelancer_id: int) -> bool:
    return bool(await uow.invitations.count(job_id=job_id, freelancer_id=freelancer_id))


async def check_can_pitch(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, job_id: int
) -> tuple[Job, bool, Quota]:
    """May the actor pitch on this job now? (job, invited, quota) or a refusal."""
    await freelancer(uow, actor_id)
    job = await load(uow.jobs, job_id, "job")
    if job.client_id == actor_id:
        raise NotAllowed("own_job", "You cannot pitch on your own job.")
    if job.status != JobStatus.OPEN:
        raise NotAllowed("job_not_open", "This job is not open for pitches.")
    if await uow.pitches.count(job_id=job_id, freelancer_id=actor_id):
        raise NotAllowed("pitch_exists", "You have already pitched on this job.")
    invited = await is_invited(uow, job_id, actor_id)
    quota = await pitch_quota(uow, clock, config, actor_id)
    if not invited and quota.left <= 0:
        raise QuotaExceeded(
            "pitch_quota_exceeded",
            f"You have used all {quota.limit} pitches of this week.",
            limit=quota.limit,
            resets=quota.resets_at.date().isoformat(),
        )
    return job, invited, quota


def clean_milestones(raw: Sequence[dict[str, Any]], job: Job, price: int) -> list[dict[str, Any]]:
    """Proposed milestones [{"title", "amount"}]; on a fixed job they add up to the price."""
    if len(raw) > MAX_PROPOSED_MILESTONES:
        raise ValidationError(
            "milestones_too_many",
            f"At most {MAX_PROPOSED_MILESTONES} milestones.",
            max=MAX_PROPOSED_MILESTONES,
        )
    cleaned = []
    for item in raw:
        title = validation.clean_text(
            item.get("title"), "milestone_title", 1, validation.MILESTONE_TITLE_MAX
        )
        amount = item.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise ValidationError("amount_zero", "A milestone amount must be more than zero.")
        cleaned.append({"title": title, "amount": amount})
    total = sum(m["amount"] for m in cleaned)
    if cleaned and job.budget_type == "fixed" and total != price:
        raise ValidationError(
            "pitch_milestones_sum",
            "The milestones must add up to your price.",
            total=Money(total, job.currency).format(),
            price=Money(price, job.currency).format(),
        )
    return cleaned


def _check_terms(cover_letter: str, price: int, duration_days: int) -> tuple[str, int, int]:
    letter = validation.clean_text(
        cover_letter, "cover_letter", COVER_LETTER_MIN, validation.COVER_LETTER_MAX
    )
    if not isinstance(price, int) or isinstance(price, bool) or price <= 0:
        raise ValidationError("amount_zero", "The price must be more than zero.")
    days = validation.parse_int(duration_days, "duration", 1, DURATION_MAX_DAYS)
    return letter, price, days


async def submit_pitch(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    job_id: int,
    cover_letter: str,
    price: int,
    duration_days: int,
    milestones: Sequence[dict[str, Any]] = (),
) -> Pitch:
    job, invited, _ = await check_can_pitch(uow, clock, config, actor_id, job_id)
    letter, price, days = _check_terms(cover_letter, price, duration_days)
    proposed = clean_milestones(milestones, job, price)
    now = clock.now()
    pitch = await uow.pitches.add(
        Pitch(
            job_id=job_id,
            freelancer_id=actor_id,
            cover_letter=letter,
            price=price,
            currency=job.currency,
            duration_days=days,
            proposed_milestones=proposed,
            invited=invited,
            created_at=now,
            updated_at=now,
        )
    )
    _emit(uow, "pitch_submitted", pitch, job)
    return pitch


async def own_pitch(uow: UnitOfWork, actor_id: int, pitch_id: int, lock: bool = False) -> Pitch:
    await freelancer(uow, actor_id)
    pitch = await load(uow.pitches, pitch_id, "pitch", lock=lock)
    if pitch.freelancer_id != actor_id:
        raise NotAllowed("not_your_pitch", "This pitch is not yours.")
    return pitch


async def edit_pitch(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    pitch_id: int,
    *,
    cover_letter: str | None = None,
    price: int | None = None,
    duration_days: int | None = None,
    milestones: Sequence[dict[str, Any]] | None = None,
) -> Pitch:
    """Change a pending pitch; fields left None stay as they are."""
    pitch = await own_pitch(uow, actor_id, pitch_id, lock=True)
    if pitch.status not in EDITABLE:
        raise NotAllowed("pitch_not_pending", "This pitch was withdrawn or declined.")
    job = await load(uow.jobs, pitch.job_id, "job")
    if job.status != JobStatus.OPEN:
        raise NotAllowed("job_not_open", "This job is not open for pitches.")
    letter, new_price, days = _check_terms(
        pitch.cover_letter if cover_letter is None else cover_letter,
        pitch.price if price is None else price,
        pitch.duration_days or 1 if duration_days is None else duration_days,
    )
    proposed = pitch.proposed_milestones if milestones is None else milestones
    if price is not None and milestones is None and job.budget_type == "fixed":
        proposed = []  # old milestones no longer add up to the new price
    proposed = clean_milestones(proposed, job, new_price)
    pitch.apply("edit")
    pitch.cover_letter, pitch.price, pitch.duration_days = letter, new_price, days
    pitch.proposed_milestones = proposed
    pitch.updated_at = clock.now()
    _emit(uow, "pitch_edited", pitch, job)
    return pitch


async def withdraw_pitch(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, pitch_id: int
) -> Pitch:
    pitch = await own_pitch(uow, actor_id, pitch_id, lock=True)
    if pitch.status not in WITHDRAWABLE:
        raise NotAllowed("pitch_not_pending", "This pitch was withdrawn or declined.")
    job = await load(uow.jobs, pitch.job_id, "job")
    pitch.apply("withdraw")
    pitch.updated_at = clock.now()
    _emit(uow, "pitch_withdrawn", pitch, job)
    return pitch


async def my_pitches(uow: UnitOfWork, actor_id: int) -> list[Pitch]:
    """The freelancer's pitches, newest first."""
    await freelancer(uow, actor_id)
    return await uow.pitches.find(order_by="-id", freelancer_id=actor_id)


async def visible_pitch(uow: UnitOfWork, actor_id: int, pitch_id: int) -> tuple[Pitch, Job]:
    """A pitch for its freelancer or the job's client; anyone else is refused."""
    pitch = await load(uow.pitches, pitch_id, "pitch")
    job = await load(uow.jobs, pitch.job_id, "job")
    if actor_id not in (pitch.freelancer_id, job.client_id):
        raise NotAllowed("not_your_pitch", "This pitch is not yours.")
    return pitch, job


def _emit(uow: UnitOfWork, kind: str, pitch: Pitch, job: Job) -> None:
    uow.emit(
        kind,
        pitch_id=pitch.id,
        job_id=job.id,
        client_id=job.client_id,
        freelancer_id=pitch.freelancer_id,
    )
