"""Talent: clients search freelancers (/talent) and get invite candidates for a
job, both through the talent index (storage/talent_search.py); freelancers say
whether they are available, busy, or away until a date (domain/talent.py).

Blocks hide people either way (the rule of domain/usecases/blocking.py, asked in
the index query itself, so pages and totals stay exact).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from domain.entities import FreelancerProfile, Job
from domain.errors import NotAllowed, ValidationError
from domain.ports import Clock, UnitOfWork
from domain.states import JobStatus
from domain.talent import Availability, TalentHit, TalentQuery, effective
from domain.usecases.common import client, freelancer
from domain.usecases.visibility import owned_job

MAX_AWAY_DAYS = 366  # "away" for longer is leaving; they can set it again
INVITE_JOBS = 10  # open jobs offered when inviting from a profile card


async def search_talent(
    uow: UnitOfWork, clock: Clock, actor_id: int, query: TalentQuery
) -> tuple[list[TalentHit], int]:
    """A page of freelancers for the query (clients only), without the client and
    anyone in a block with them, and the number of all matches."""
    await client(uow, actor_id)
    return await uow.talent.search(replace(query, viewer_id=actor_id, today=clock.now().date()))


async def invite_candidates(
    uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int, limit: int = 8
) -> tuple[Job, list[TalentHit]]:
    """Freelancers to invite to one's open job, best fit first, over every profile."""
    await client(uow, actor_id)
    job = await owned_job(uow, actor_id, job_id)
    if job.status is not JobStatus.OPEN:
        raise NotAllowed("job_not_open", "Invite freelancers to open jobs.")
    return job, await uow.talent.invite_candidates(job, actor_id, clock.now().date(), limit)


async def open_jobs(uow: UnitOfWork, actor_id: int) -> list[Job]:
    """The client's open jobs to invite someone to, newest first."""
    await client(uow, actor_id)
    return await uow.jobs.find(
        order_by="-id", limit=INVITE_JOBS, client_id=actor_id, status=JobStatus.OPEN
    )


async def away_until(uow: UnitOfWork, clock: Clock, freelancer_id: int) -> date | None:
    """The last day away when the freelancer is away today (invites say so first)."""
    profile = await uow.profiles.get(freelancer_id)
    if profile is None:
        return None
    today = clock.now().date()
    if effective(profile.availability, profile.away_until, today) is Availability.AWAY:
        return profile.away_until
    return None


def availability_of(profile: FreelancerProfile | None, today: date) -> Availability:
    if profile is None:
        return Availability.AVAILABLE
    return effective(profile.availability, profile.away_until, today)


async def set_availability(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    availability: str,
    until: date | None = None,
) -> FreelancerProfile:
    """Available, busy, or away until a date (today or later, within a year)."""
    await freelancer(uow, actor_id)
    try:
        state = Availability(availability)
    except ValueError:
        raise ValidationError("availability_unknown", "Unknown availability.") from None
    today = clock.now().date()
    if state is Availability.AWAY:
        if until is None or until < today:
            raise ValidationError("away_date_past", "Choose a date from today on.")
        if until > today + timedelta(days=MAX_AWAY_DAYS):
            raise ValidationError("away_date_far", "Choose a date within a year.")
    profile = await uow.profiles.get_for_update(actor_id)
    if profile is None:
        profile = await uow.profiles.add(FreelancerProfile(user_id=actor_id))
    profile.availability = state.value
    profile.away_until = until if state is Availability.AWAY else None
    profile.updated_at = clock.now()
    return profile
