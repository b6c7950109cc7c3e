"""Who may see a job: the one rule every path that takes a job id goes through.

A job is visible to
- its client, in every state (a draft is the client's alone);
- an admin (config.admin_ids), in every state;
- everyone, while it is open: it is on the market (search, alerts, links).
  A hire takes an open job off the market (paused) unless its client keeps it
  open (usecases.jobs.hold_after_hire), so a hired-for job is hidden like any
  paused one; and an open job is off the market for anyone in a block with its
  client, either way (usecases/blocking.py): to them it is like a paused job —
  browse, search, alerts and digests leave it out (`hidden_clients`);
- a freelancer it concerns — who pitched on it (whatever became of the pitch),
  was invited to it, or is the freelancer of a contract on it — once it was
  published: a paused or closed job stays readable to the people whose pitch,
  offer or contract names it.

To anyone else a draft, a paused or a closed job does not exist: every path
answers exactly as for an unknown id (NotFound "job_not_found"), so neither its
title nor its state nor its existence shows (job ids are sequential, so they
are easy to guess).

Managing a job (editing, pausing, closing, inviting, hiring, its pitches) is its
client's alone: `owned_job` refuses anyone else who may see the job with
"not_your_job", and answers "job_not_found" to those who may not.
"""

from __future__ import annotations

from domain.config import MarketConfig
from domain.entities import Job
from domain.errors import NotAllowed, NotFound
from domain.ports import UnitOfWork
from domain.states import JobStatus
from domain.usecases.blocking import hidden_clients, is_blocked


def _not_found(job_id: int) -> NotFound:
    # The same refusal as usecases.common.load's for an unknown id.
    return NotFound("job_not_found", f"There is no job {job_id}.", id=job_id)


async def may_see(uow: UnitOfWork, job: Job, actor_id: int, *, admin: bool) -> bool:
    """The module's rule, for a job already loaded."""
    if admin or job.client_id == actor_id:
        return True
    if job.status is JobStatus.OPEN and not await is_blocked(uow, actor_id, job.client_id):
        return True
    if job.status is JobStatus.DRAFT:
        return False
    return bool(
        await uow.pitches.count(job_id=job.id, freelancer_id=actor_id)
        or await uow.invitations.count(job_id=job.id, freelancer_id=actor_id)
        or await uow.contracts.count(job_id=job.id, freelancer_id=actor_id)
    )


async def visible_job(uow: UnitOfWork, config: MarketConfig, actor_id: int, job_id: int) -> Job:
    """The job, if the actor may see it; else NotFound, as for an unknown id."""
    job = await uow.jobs.get(job_id)
    if job is None or not await may_see(uow, job, actor_id, admin=config.is_admin(actor_id)):
        raise _not_found(job_id)
    return job


async def owned_job(uow: UnitOfWork, actor_id: int, job_id: int, *, lock: bool = False) -> Job:
    """The actor's own job, to manage. Someone else's job is "not_your_job" if
    they may see it, else not found (being an admin gives no right to manage)."""
    job = await (uow.jobs.get_for_update(job_id) if lock else uow.jobs.get(job_id))
    if job is None:
        raise _not_found(job_id)
    if job.client_id != actor_id:
        if await may_see(uow, job, actor_id, admin=False):
            raise NotAllowed("not_your_job", "This job is not yours.")
        raise _not_found(job_id)
    return job


async def off_market_clients(uow: UnitOfWork, viewer_id: int) -> set[int]:
    """Clients whose open jobs the viewer is not shown (browse, search, alerts,
    digests): anyone in a block with the viewer, either way."""
    return await hidden_clients(uow, viewer_id)
