"""Jobs that end: an open job with no activity for config.job_expiry_days asks
its client "Still hiring?" (Keep open / Close); without an answer it closes
config.job_expiry_grace_days later, and freelancers with pending pitches are told.

Activity is anything that shows the job is alive: it was published, edited or
resumed (Job.active_at, set by jobs.py), a pitch was sent or edited, an offer was
sent on it (pitches' and contracts' own dates), or the client answered "Keep
open". Both deadlines are job columns (active_at, expiry_asked_at) ticked by
Engine.tick, so they survive a restart; each job is locked and re-checked before
anything is done, so two schedulers (or a client answering at that moment) act once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.config import MarketConfig
from domain.entities import Job
from domain.events import JobClosed, JobExpired, JobStillHiring
from domain.ports import Clock, UnitOfWork
from domain.states import JobStatus, PitchStatus
from domain.usecases.common import active_user, load
from domain.usecases.visibility import owned_job

BATCH = 100
PENDING_PITCHES = [PitchStatus.PENDING, PitchStatus.SHORTLISTED]


async def last_activity(uow: UnitOfWork, job: Job) -> datetime | None:
    """The latest of the job's own activity, its pitches' and its offers'."""
    seen = [t for t in (job.active_at, job.published_at, job.created_at) if t is not None]
    for pitch in await uow.pitches.find(job_id=job.id, order_by="-id", limit=20):
        seen += [t for t in (pitch.created_at, pitch.updated_at) if t is not None]
    for contract in await uow.contracts.find(job_id=job.id, order_by="-id", limit=20):
        seen += [contract.offered_at] if contract.offered_at is not None else []
    return max(seen) if seen else None


async def ask_still_hiring(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = BATCH
) -> list[int]:
    """Open jobs quiet for job_expiry_days: ask the client; their ids."""
    now = clock.now()
    cutoff = now - timedelta(days=config.job_expiry_days)
    quiet = await uow.jobs.find(
        status=JobStatus.OPEN, active_at__lte=cutoff, expiry_asked_at=None, limit=limit
    )
    # A job opened without publish_job (imported, or older than the column) counts
    # from its creation.
    quiet += await uow.jobs.find(
        status=JobStatus.OPEN,
        active_at=None,
        created_at__lte=cutoff,
        expiry_asked_at=None,
        limit=limit,
    )
    asked: list[int] = []
    for found in quiet:
        job = await load(uow.jobs, found.id, "job", lock=True)
        if job.status is not JobStatus.OPEN or job.expiry_asked_at is not None:
            continue
        latest = await last_activity(uow, job)
        if latest is not None and latest > cutoff:
            job.active_at = latest  # a pitch or an offer kept it alive: look again later
            continue
        job.expiry_asked_at = now
        closes_at = now + timedelta(days=config.job_expiry_grace_days)
        uow.emit(
            JobStillHiring(job_id=job.id, client_id=job.client_id, closes_at=closes_at.isoformat())
        )
        asked.append(job.id)  # type: ignore[arg-type]
    return asked


async def close_unanswered(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = BATCH
) -> list[int]:
    """Jobs asked job_expiry_grace_days ago without an answer: closed; their ids."""
    now = clock.now()
    cutoff = now - timedelta(days=config.job_expiry_grace_days)
    # A job the client paused meanwhile is off the market already: left as it is.
    due = await uow.jobs.find(status=JobStatus.OPEN, expiry_asked_at__lte=cutoff, limit=limit)
    closed: list[int] = []
    for found in due:
        job = await load(uow.jobs, found.id, "job", lock=True)
        asked = job.expiry_asked_at
        if job.status is not JobStatus.OPEN or asked is None or asked > cutoff:
            continue  # answered or closed meanwhile
        latest = await last_activity(uow, job)
        if latest is not None and latest > asked:  # a pitch or an offer since the question
            job.active_at, job.expiry_asked_at = latest, None
            continue
        job.apply("close")
        job.expiry_asked_at = None
        pitches = await uow.pitches.find(job_id=job.id, status__in=PENDING_PITCHES)
        uow.emit(
            JobExpired(
                job_id=job.id,
                client_id=job.client_id,
                freelancer_ids=sorted({p.freelancer_id for p in pitches}),
            )
        )
        closed.append(job.id)  # type: ignore[arg-type]
    return closed


async def answer_still_hiring(
    uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int, keep_open: bool
) -> Job:
    """The client's answer: keep it open (activity: the clock starts again) or close it.
    Answering again changes nothing; a closed job stays closed."""
    await active_user(uow, actor_id)
    job = await owned_job(uow, actor_id, job_id, lock=True)
    if job.status is JobStatus.CLOSED:
        return job
    job.expiry_asked_at = None
    if keep_open:
        job.active_at = clock.now()
    else:
        job.apply("close")
        uow.emit(JobClosed(job_id=job.id, client_id=actor_id))
    return job
