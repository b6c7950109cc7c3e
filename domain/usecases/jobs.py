"""Jobs: post a draft, edit, publish (with the alert fan-out), pause, resume,
close, and a freelancer's "Not interested"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from domain import matching, taxonomy, validation
from domain.config import MarketConfig
from domain.entities import Contract, Job, JobDismissal
from domain.errors import ValidationError
from domain.events import (
    JobAlert,
    JobClosed,
    JobHeldAfterHire,
    JobPaused,
    JobPublished,
    JobResumed,
)
from domain.ports import Clock, UnitOfWork
from domain.states import ContractStatus, JobStatus
from domain.usecases import moderation
from domain.usecases.common import active_user, client, freelancer
from domain.usecases.visibility import off_market_clients, owned_job, visible_job

MAX_SKILLS = 10
BUDGET_TYPES = ("fixed", "hourly")


@dataclass(frozen=True, slots=True)
class JobFields:
    """What the posting wizard collects; amounts in minor units of config.currency."""

    title: str
    description: str
    category: str | None = None
    skills: Sequence[str] = field(default_factory=tuple)
    budget_type: str = "fixed"
    budget: int = 0
    deadline: date | None = None


def clean_skills(skills: Sequence[str]) -> list[str]:
    """Taxonomy slugs or free tags (case kept), each once by its key, in order."""
    cleaned = taxonomy.unique_skills(taxonomy.clean_skill(s) for s in skills)
    if len(cleaned) > MAX_SKILLS:
        raise ValidationError("skills_too_many", f"At most {MAX_SKILLS} skills.", max=MAX_SKILLS)
    return cleaned


def clean_category(category: str | None) -> str | None:
    if category is None:
        return None
    if not taxonomy.is_known_category(category):
        raise ValidationError("category_unknown", "Choose a category from the list.")
    return category


def _apply_fields(job: Job, fields: JobFields, today: date) -> None:
    job.title = validation.clean_text(
        fields.title, "title", validation.JOB_TITLE_MIN, validation.JOB_TITLE_MAX
    )
    job.description = validation.clean_text(
        fields.description, "description", validation.DESCRIPTION_MIN, validation.DESCRIPTION_MAX
    )
    job.category = clean_category(fields.category)
    job.skills = clean_skills(fields.skills)
    if fields.budget_type not in BUDGET_TYPES:
        raise ValidationError("budget_type_invalid", "The budget is fixed or hourly.")
    if not isinstance(fields.budget, int) or isinstance(fields.budget, bool) or fields.budget < 0:
        raise ValidationError("amount_negative", "The budget cannot be negative.")
    job.budget_type, job.budget = fields.budget_type, fields.budget
    if fields.deadline is not None and fields.deadline < today:
        raise ValidationError("date_past", "The deadline is in the past.")
    job.deadline = fields.deadline


async def _own_job(uow: UnitOfWork, actor_id: int, job_id: int) -> Job:
    await active_user(uow, actor_id)
    return await owned_job(uow, actor_id, job_id, lock=True)


async def post_job(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, fields: JobFields
) -> Job:
    """A draft the client previews before publishing; the job's currency is the marketplace's."""
    await client(uow, actor_id)
    now = clock.now()
    job = Job(client_id=actor_id, title="", currency=config.currency, created_at=now)
    _apply_fields(job, fields, now.date())
    await uow.jobs.add(job)
    await moderation.screen(uow, clock, actor_id, "job", job.id, job.title, job.description)
    return job


async def edit_job(
    uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int, fields: JobFields
) -> Job:
    job = await _own_job(uow, actor_id, job_id)
    job.apply("edit")
    _apply_fields(job, fields, clock.now().date())
    job.active_at, job.expiry_asked_at = clock.now(), None  # activity (job_expiry.py)
    await moderation.screen(uow, clock, actor_id, "job", job.id, job.title, job.description)
    return job


async def publish_job(uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int) -> Job:
    """Open the job and send instant alerts; daily subscribers get it in their digest."""
    # The actor is held while the job is checked, so client() finds them in the
    # session (its identity map holds rows weakly) rather than reading them again.
    actor = await active_user(uow, actor_id)
    job = await owned_job(uow, actor_id, job_id, lock=True)
    await client(uow, actor.id)
    job.apply("publish")
    job.published_at = job.active_at = clock.now()
    uow.emit(JobPublished(job_id=job.id, client_id=actor_id))
    await fan_out_alerts(uow, job)
    return job


async def interested_users(uow: UnitOfWork, job: Job, mode: str) -> list[int]:
    """Users with a matching subscription of `mode`, without the job's client,
    banned users, those in a block with the client, those who said "Not
    interested" to it, and away freelancers (their alerts wait, domain/talent.py).

    Set-based (issue 16, part 4): one query finds them through the lookup tables,
    the users and the profiles (JobSearch.alert_audience); only subscriptions with
    keywords come back to domain.matching. `interested_users_each` is the same
    rule one subscription at a time (how it ran before; kept as the baseline the
    regression tests and `python -m bench alerts` compare against)."""
    excluded = {job.client_id} | await off_market_clients(uow, job.client_id)  # blocks
    excluded |= {d.user_id for d in await uow.dismissals.find(order_by="", job_id=job.id)}
    # The job's publication is "today" for the away rule.
    when = job.published_at or job.active_at
    audience = await uow.search.alert_audience(
        job, mode, sorted(excluded), when.date() if when is not None else None
    )
    chosen = set(audience.users)
    text = matching.job_text(job)
    for user_id, keywords in audience.keyword_subscriptions:
        if user_id not in chosen and matching.keyword_matches(keywords, text):
            chosen.add(user_id)
    return sorted(chosen)


async def interested_users_each(uow: UnitOfWork, job: Job, mode: str) -> list[int]:
    """interested_users as it ran before issue 16: every candidate subscription
    loaded and put through domain.matching.job_matches (the baseline)."""
    candidates = await uow.search.subscriptions_for(job, mode)
    matched = {s.user_id for s in candidates if matching.job_matches(job, s)}
    matched.discard(job.client_id)
    matched -= await off_market_clients(uow, job.client_id)  # blocks, either way
    if not matched:
        return []
    dismissed = {d.user_id for d in await uow.dismissals.find(order_by="", job_id=job.id)}
    allowed = {
        u.id
        for u in await uow.users.find(id__in=matched - dismissed, banned=False, is_freelancer=True)
    }
    # Away freelancers' alerts wait (domain/talent.py); the job's publication is "today".
    when = job.published_at or job.active_at
    if when is not None and allowed:
        allowed -= await uow.talent.away_users(sorted(allowed), when.date())
    return sorted(allowed)


async def fan_out_alerts(uow: UnitOfWork, job: Job) -> list[int]:
    """One "job_alert" event naming every user with a matching instant subscription."""
    users = await interested_users(uow, job, "instant")
    if users:
        uow.emit(JobAlert(job_id=job.id, user_ids=tuple(users)))  # type: ignore[arg-type]
    return users


async def pause_job(uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int) -> Job:
    job = await _own_job(uow, actor_id, job_id)
    job.apply("pause")
    uow.emit(JobPaused(job_id=job.id, client_id=actor_id))
    return job


async def resume_job(uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int) -> Job:
    job = await _own_job(uow, actor_id, job_id)
    job.apply("resume")
    job.active_at, job.expiry_asked_at = clock.now(), None  # activity (job_expiry.py)
    uow.emit(JobResumed(job_id=job.id, client_id=actor_id))
    return job


async def close_job(uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int) -> Job:
    """No more pitches or offers; contracts already made go on."""
    job = await _own_job(uow, actor_id, job_id)
    job.apply("close")
    uow.emit(JobClosed(job_id=job.id, client_id=actor_id))
    return job


HIRED = (ContractStatus.ACTIVE, ContractStatus.ENDED)


async def hold_after_hire(uow: UnitOfWork, contract: Contract) -> Job | None:
    """A hire takes an open job off the market until its client answers "Close the
    job to new pitches?" (`decide_after_hire`); the job, if this hire held it.

    The default, when the client does not answer, is closed to new pitches, as
    Upwork does for a single-hire job: most jobs here hire one freelancer, and a
    job left on the market keeps drawing pitches (each costs a freelancer's
    weekly quota) for work already given. It is a pause, not a close: offers
    already sent to others can still be accepted, and the client can reopen it
    ("Keep open", or Resume in My jobs). Only the first hire holds the job: a
    client who kept it open after one hire has chosen for the later ones.
    """
    job = await uow.jobs.get_for_update(contract.job_id)
    if job is None or job.status is not JobStatus.OPEN:
        return None
    if await uow.contracts.count(job_id=job.id, status__in=HIRED, id__ne=contract.id):
        return None
    job.apply("pause")
    uow.emit(JobHeldAfterHire(job_id=job.id, client_id=job.client_id, contract_id=contract.id))
    return job


async def decide_after_hire(
    uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int, keep_open: bool
) -> Job:
    """The client's answer to "Close the job to new pitches?": close it for good, or
    put it back on the market. Answering again, or after doing the same from My
    jobs, changes nothing; a closed job is not reopened."""
    job = await _own_job(uow, actor_id, job_id)
    if keep_open:
        if job.status is JobStatus.PAUSED:
            job.apply("resume")
            uow.emit(JobResumed(job_id=job.id, client_id=actor_id))
        elif job.status is not JobStatus.OPEN:
            job.apply("resume")  # raises IllegalTransition with the real state
    elif job.status is not JobStatus.CLOSED:
        job.apply("close")
        uow.emit(JobClosed(job_id=job.id, client_id=actor_id))
    return job


async def dismiss_job(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, job_id: int
) -> bool:
    """ "Not interested": no more alerts or digest entries for this job. False if done before."""
    await freelancer(uow, actor_id)
    await visible_job(uow, config, actor_id, job_id)
    if await uow.dismissals.count(user_id=actor_id, job_id=job_id):
        return False
    await uow.dismissals.add(JobDismissal(user_id=actor_id, job_id=job_id, created_at=clock.now()))
    return True
