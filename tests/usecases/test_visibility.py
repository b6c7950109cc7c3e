"""The job visibility rule (domain/usecases/visibility.py), state by state and
viewer by viewer, on SQLite and PostgreSQL."""

import pytest

from domain.entities import Contract, Invitation, Job, Pitch, User
from domain.errors import NotAllowed, NotFound
from domain.states import JobStatus
from domain.usecases.visibility import owned_job, visible_job
from tests.usecases.conftest import ADMIN, CLIENT, FREELANCER, OTHER_FREELANCER, STRANGER

HIRED = 202  # the freelancer of a contract on the job
UNKNOWN = 999_999
# Who may see a job in each state (besides its client and the admins, who see all).
CONCERNED = (FREELANCER, OTHER_FREELANCER, HIRED)  # pitched, invited, hired


async def jobs_in_every_state(db, clock) -> dict[JobStatus, int]:
    ids = {}
    async with db.uow() as uow:
        await uow.users.add(User(id=HIRED, name="hired", is_freelancer=True))
        for status in JobStatus:
            job = await uow.jobs.add(
                Job(
                    client_id=CLIENT, title=f"A {status} job", status=status, created_at=clock.now()
                )
            )
            ids[status] = job.id
            if status is JobStatus.DRAFT:
                continue  # nobody can pitch on, be invited to or hired for a draft
            now = clock.now()
            await uow.pitches.add(
                Pitch(job_id=job.id, freelancer_id=FREELANCER, price=100, created_at=now)
            )
            await uow.invitations.add(
                Invitation(
                    job_id=job.id, client_id=CLIENT, freelancer_id=OTHER_FREELANCER, created_at=now
                )
            )
            await uow.contracts.add(Contract(job_id=job.id, client_id=CLIENT, freelancer_id=HIRED))
        await uow.commit()
    return ids


def visible_to(status: JobStatus) -> set[int]:
    everyone = {CLIENT, ADMIN, STRANGER, *CONCERNED}
    if status is JobStatus.OPEN:
        return everyone
    if status is JobStatus.DRAFT:
        return {CLIENT, ADMIN}
    return everyone - {STRANGER}


async def test_who_sees_a_job_in_each_state(users, clock, config):
    ids = await jobs_in_every_state(users, clock)
    async with users.uow() as uow:
        with pytest.raises(NotFound) as unknown:
            await visible_job(uow, config, STRANGER, UNKNOWN)
        for status, job_id in ids.items():
            for viewer in (CLIENT, ADMIN, STRANGER, *CONCERNED):
                if viewer in visible_to(status):
                    assert (await visible_job(uow, config, viewer, job_id)).id == job_id
                    continue
                with pytest.raises(NotFound) as hidden:
                    await visible_job(uow, config, viewer, job_id)
                # Exactly the refusal of an unknown id.
                assert hidden.value.code == unknown.value.code == "job_not_found"
                assert hidden.value.params == {"id": job_id}
                assert unknown.value.params == {"id": UNKNOWN}


async def test_only_the_client_manages_and_others_learn_no_more_than_they_see(users, clock, config):
    ids = await jobs_in_every_state(users, clock)
    async with users.uow() as uow:
        for status, job_id in ids.items():
            assert (await owned_job(uow, CLIENT, job_id, lock=True)).id == job_id
            for viewer in (STRANGER, *CONCERNED):
                expected = NotAllowed if viewer in visible_to(status) else NotFound
                with pytest.raises(expected) as err:
                    await owned_job(uow, viewer, job_id)
                assert err.value.code == (
                    "not_your_job" if expected is NotAllowed else "job_not_found"
                )
        # Being an admin gives no right to manage: someone's draft stays unknown.
        with pytest.raises(NotFound):
            await owned_job(uow, ADMIN, ids[JobStatus.DRAFT])
        with pytest.raises(NotFound):
            await owned_job(uow, CLIENT, UNKNOWN)
