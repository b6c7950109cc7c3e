"""Read models for the client's job screens, which domain/usecases/jobs.py and
pitches.py do not offer: my jobs with pitch counts, the pitches on a job ranked
with each freelancer's reputation, and freelancers to invite. Plus the
re-authorising loaders the screens share. Reads only: no events, no commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.entities import FreelancerProfile, Job, Pitch, User
from domain.errors import NotAllowed
from domain.matching import rank_pitches
from domain.ports import Clock, UnitOfWork
from domain.reputation import Reputation, compute_reputation
from domain.states import JobStatus
from domain.usecases.common import client, load
from domain.usecases.queries import freelancer_record

INVITE_SCAN = 500  # profiles looked at when suggesting freelancers to invite


async def own_job(uow: UnitOfWork, actor_id: int, job_id: int) -> Job:
    """A job of the acting client (clients only; someone else's job is refused)."""
    await client(uow, actor_id)
    job = await load(uow.jobs, job_id, "job")
    if job.client_id != actor_id:
        raise NotAllowed("not_your_job", "This job is not yours.")
    return job


async def pitch_on_own_job(uow: UnitOfWork, actor_id: int, pitch_id: int) -> tuple[Pitch, Job]:
    pitch = await load(uow.pitches, pitch_id, "pitch")
    job = await own_job(uow, actor_id, pitch.job_id)
    return pitch, job


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
    return compute_reputation(await freelancer_record(uow, clock, user.id), clock.now())


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
                compute_reputation(await freelancer_record(uow, clock, user.id), clock.now()),
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
