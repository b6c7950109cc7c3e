"""Jobs from the client's side: post, edit, pause, resume, close; act on the
pitches (shortlist, decline), invite freelancers;
and the read models the client's screens need (my jobs, ranked pitches with
reputation, invite candidates).

Written by the flows engineer because domain/usecases had no jobs module yet;
same conventions as the others: re-authorise, apply the state machine, emit
events, never commit.

Events (kind: data):
- job_published: job_id
- job_alert: job_id, user_id, subscription_id   (one per matching freelancer, instant mode)
- job_edited: job_id, fields
- job_paused / job_resumed / job_closed: job_id
- pitch_shortlisted / pitch_declined: pitch_id
- freelancer_invited: invitation_id, job_id, freelancer_id
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain import taxonomy, validation
from domain.config import MarketConfig
from domain.entities import FreelancerProfile, Invitation, Job, Pitch, User
from domain.errors import NotAllowed, ValidationError
from domain.matching import job_matches, rank_pitches
from domain.ports import Clock, UnitOfWork
from domain.reputation import Reputation, compute_reputation
from domain.states import JobStatus
from domain.usecases.common import client, freelancer, load
from domain.usecases.profile_extra import freelancer_record

BUDGET_TYPES = ("fixed", "hourly")
MAX_SKILLS = 10
EDITABLE = ("title", "description", "category", "skills", "budget_type", "budget", "deadline")
INVITE_SCAN = 500  # profiles looked at when suggesting freelancers to invite


# --- validation ------------------------------------------------------------------


def clean_title(text: str | None) -> str:
    return validation.clean_text(text, "title", validation.JOB_TITLE_MIN, validation.JOB_TITLE_MAX)


def clean_description(text: str | None) -> str:
    return validation.clean_text(
        text, "description", validation.DESCRIPTION_MIN, validation.DESCRIPTION_MAX
    )


def clean_category(slug: str | None) -> str:
    if not slug or not taxonomy.is_known_category(slug):
        raise ValidationError("category_unknown", "Choose a category from the list.")
    return slug


def clean_skills(skills: Iterable[str]) -> list[str]:
    """Normalised, distinct, in the order given; at least one, at most MAX_SKILLS."""
    out: list[str] = []
    for skill in skills:
        slug = taxonomy.normalize_skill(skill)
        if slug not in out:
            out.append(slug)
    if not out:
        raise ValidationError("skills_empty", "Choose or type at least one skill.")
    if len(out) > MAX_SKILLS:
        raise ValidationError("skills_too_many", f"At most {MAX_SKILLS} skills.", max=MAX_SKILLS)
    return out


def clean_budget_type(value: str | None) -> str:
    if value not in BUDGET_TYPES:
        raise ValidationError("budget_type_unknown", "The budget is fixed or hourly.")
    return value


def clean_budget(amount: object) -> int:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationError("amount_zero", "The amount must be more than zero.")
    return amount


def clean_deadline(day: date | None, today: date) -> date | None:
    if day is not None and day < today:
        raise ValidationError("date_past", "That date is in the past.", date=day.isoformat())
    return day


@dataclass(frozen=True, slots=True)
class JobDraft:
    title: str
    description: str
    category: str
    skills: tuple[str, ...]
    budget_type: str
    budget: int  # minor units of the marketplace currency
    deadline: date | None = None


def _clean_field(name: str, value: Any, today: date) -> Any:
    if name == "title":
        return clean_title(value)
    if name == "description":
        return clean_description(value)
    if name == "category":
        return clean_category(value)
    if name == "skills":
        return clean_skills(value)
    if name == "budget_type":
        return clean_budget_type(value)
    if name == "budget":
        return clean_budget(value)
    if name == "deadline":
        return clean_deadline(value, today)
    raise ValidationError("field_unknown", "That field cannot be changed.", name=name)


# --- the job's life --------------------------------------------------------------


async def own_job(uow: UnitOfWork, actor_id: int, job_id: int, *, lock: bool = False) -> Job:
    """A job of the acting client (clients only; someone else's job is refused)."""
    await client(uow, actor_id)
    job = await load(uow.jobs, job_id, "job", lock=lock)
    if job.client_id != actor_id:
        raise NotAllowed("not_your_job", "This job is not yours.")
    return job


async def publish_job(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, draft: JobDraft
) -> Job:
    """Create the job and open it; matching freelancers get a job alert."""
    await client(uow, actor_id)
    now = clock.now()
    today = now.date()
    job = Job(
        client_id=actor_id,
        title=clean_title(draft.title),
        description=clean_description(draft.description),
        category=clean_category(draft.category),
        skills=clean_skills(draft.skills),
        budget_type=clean_budget_type(draft.budget_type),
        budget=clean_budget(draft.budget),
        currency=config.currency,
        deadline=clean_deadline(draft.deadline, today),
        created_at=now,
    )
    job.apply("publish")
    job.published_at = now
    job = await uow.jobs.add(job)
    uow.emit("job_published", job_id=job.id)
    await _emit_alerts(uow, job)
    return job


async def _emit_alerts(uow: UnitOfWork, job: Job) -> int:
    """One "job_alert" per freelancer with an instant subscription the job matches."""
    alerted: set[int] = set()
    for sub in await uow.search.subscriptions_for(job):
        if sub.user_id in alerted or sub.user_id == job.client_id or sub.mode != "instant":
            continue
        if not job_matches(job, sub):
            continue
        user = await uow.users.get(sub.user_id)
        if user is None or user.banned or not user.is_freelancer:
            continue
        if await uow.dismissals.count(user_id=sub.user_id, job_id=job.id):
            continue
        alerted.add(sub.user_id)
        uow.emit("job_alert", job_id=job.id, user_id=sub.user_id, subscription_id=sub.id)
    return len(alerted)


async def edit_job(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    job_id: int,
    changes: Mapping[str, Any],
) -> Job:
    """Change some fields of one's own job (not once it is closed)."""
    job = await own_job(uow, actor_id, job_id, lock=True)
    today = clock.now().date()
    cleaned = {name: _clean_field(name, value, today) for name, value in changes.items()}
    job.apply("edit")
    for name, value in cleaned.items():
        setattr(job, name, value)
    uow.emit("job_edited", job_id=job.id, fields=sorted(cleaned))
    return job


async def pause_job(uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int) -> Job:
    """Paused jobs leave search and alerts; pitches already made stay."""
    job = await own_job(uow, actor_id, job_id, lock=True)
    job.apply("pause")
    uow.emit("job_paused", job_id=job.id)
    return job


async def resume_job(uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int) -> Job:
    job = await own_job(uow, actor_id, job_id, lock=True)
    job.apply("resume")
    uow.emit("job_resumed", job_id=job.id)
    return job


async def close_job(uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int) -> Job:
    """Closed for good; freelancers still waiting on their pitch are told."""
    job = await own_job(uow, actor_id, job_id, lock=True)
    job.apply("close")
    uow.emit("job_closed", job_id=job.id)
    return job


# --- pitches on one's job ----------------------------------------------------------


async def pitch_on_own_job(
    uow: UnitOfWork, actor_id: int, pitch_id: int, *, lock: bool = False
) -> tuple[Pitch, Job]:
    pitch = await load(uow.pitches, pitch_id, "pitch", lock=lock)
    job = await own_job(uow, actor_id, pitch.job_id)
    return pitch, job


async def shortlist_pitch(uow: UnitOfWork, clock: Clock, actor_id: int, pitch_id: int) -> Pitch:
    pitch, _ = await pitch_on_own_job(uow, actor_id, pitch_id, lock=True)
    pitch.apply("shortlist")
    pitch.updated_at = clock.now()
    uow.emit("pitch_shortlisted", pitch_id=pitch.id)
    return pitch


async def decline_pitch(uow: UnitOfWork, clock: Clock, actor_id: int, pitch_id: int) -> Pitch:
    pitch, _ = await pitch_on_own_job(uow, actor_id, pitch_id, lock=True)
    pitch.apply("decline")
    pitch.updated_at = clock.now()
    uow.emit("pitch_declined", pitch_id=pitch.id)
    return pitch


async def invite_freelancer(
    uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int, freelancer_id: int
) -> Invitation:
    """Ask a freelancer to pitch on one's open job (an invited pitch is free of the quota)."""
    job = await own_job(uow, actor_id, job_id, lock=True)
    if job.status != JobStatus.OPEN:
        raise NotAllowed("job_not_open", "This job is not open.")
    if freelancer_id == actor_id:
        raise NotAllowed("own_job", "You can't do that on your own job.")
    await freelancer(uow, freelancer_id)
    if await uow.invitations.count(job_id=job_id, freelancer_id=freelancer_id):
        raise NotAllowed("already_invited", "This freelancer is already invited.")
    if await uow.pitches.count(job_id=job_id, freelancer_id=freelancer_id):
        raise NotAllowed("already_pitched", "This freelancer has already pitched.")
    invitation = await uow.invitations.add(
        Invitation(
            job_id=job_id, client_id=actor_id, freelancer_id=freelancer_id, created_at=clock.now()
        )
    )
    uow.emit(
        "freelancer_invited",
        invitation_id=invitation.id,
        job_id=job_id,
        freelancer_id=freelancer_id,
    )
    return invitation


# --- read models -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobSummary:
    job: Job
    pitches: int  # all pitches
    pending: int  # not yet answered (pending or shortlisted)


async def my_jobs(
    uow: UnitOfWork, actor_id: int, offset: int = 0, limit: int = 8
) -> tuple[list[JobSummary], int]:
    """The client's jobs, newest first, with pitch counts; and how many there are."""
    await client(uow, actor_id)
    total = await uow.jobs.count(client_id=actor_id)
    jobs = await uow.jobs.find(order_by="-id", client_id=actor_id)
    page = jobs[max(0, offset) : max(0, offset) + limit]
    out = []
    for job in page:
        pitches = await uow.pitches.count(job_id=job.id)
        pending = await uow.pitches.count(job_id=job.id, status__in=("pending", "shortlisted"))
        out.append(JobSummary(job, pitches, pending))
    return out, total


async def reputation_of(uow: UnitOfWork, clock: Clock, user_id: int) -> Reputation:
    user = await load(uow.users, user_id, "user")
    return compute_reputation(await freelancer_record(uow, user, clock.now()), clock.now())


@dataclass(frozen=True, slots=True)
class RankedPitch:
    pitch: Pitch
    freelancer: User
    reputation: Reputation
    profile: FreelancerProfile | None


async def ranked_pitches(
    uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int
) -> tuple[Job, list[RankedPitch]]:
    """The pitches on one's job in the order to read them (domain.matching)."""
    job = await own_job(uow, actor_id, job_id)
    items = []
    users: dict[int, User] = {}
    for pitch in await uow.pitches.find(job_id=job_id):
        user = await uow.users.get(pitch.freelancer_id)
        if user is None:
            continue
        users[user.id] = user
        profile = await uow.profiles.get(user.id)
        items.append(
            (
                pitch,
                compute_reputation(await freelancer_record(uow, user, clock.now()), clock.now()),
                profile,
            )
        )
    return job, [
        RankedPitch(p, users[p.freelancer_id], r, prof) for p, r, prof in rank_pitches(items, job)
    ]


async def invite_candidates(
    uow: UnitOfWork, actor_id: int, job_id: int, limit: int = 8
) -> tuple[Job, list[tuple[User, FreelancerProfile]]]:
    """Freelancers whose profile shares a skill or the category with the job, not
    yet invited or pitching; most shared skills first."""
    job = await own_job(uow, actor_id, job_id)
    if job.status != JobStatus.OPEN:
        raise NotAllowed("job_not_open", "This job is not open.")
    taken = {i.freelancer_id for i in await uow.invitations.find(job_id=job_id)}
    taken |= {p.freelancer_id for p in await uow.pitches.find(job_id=job_id)}
    wanted = set(job.skills)
    scored: list[tuple[int, int, User, FreelancerProfile]] = []
    for profile in await uow.profiles.find(order_by="user_id", limit=INVITE_SCAN):
        if profile.user_id in taken or profile.user_id == actor_id:
            continue
        shared = len(wanted & (set(profile.skills) | set(profile.tags)))
        same_category = bool(job.category) and profile.category == job.category
        if not shared and not same_category:
            continue
        user = await uow.users.get(profile.user_id)
        if user is None or user.banned or not user.is_freelancer:
            continue
        scored.append((-shared, -int(same_category), user, profile))
    scored.sort(key=lambda s: (s[0], s[1], s[2].id))
    return job, [(u, p) for _, _, u, p in scored[:limit]]
