"""queries.browse_jobs: the search without the user's "Not interested" jobs,
paged with a total that leaves them out, on SQLite and PostgreSQL."""

from domain.ports import JobQuery
from domain.states import JobStatus
from domain.usecases import jobs, queries
from tests.usecases.conftest import CLIENT, FREELANCER, OTHER_FREELANCER
from tests.usecases.story import open_job


async def test_dismissed_jobs_leave_pages_and_totals(users, clock, config):
    db = users
    ids = []
    for k in range(7):
        ids.append(await open_job(db, clock, title=f"Logo number {k}"))
        clock.advance(minutes=1)  # newest first is stable
    newest_first = ids[::-1]
    async with db.uow() as uow:
        for job_id in (ids[6], ids[3], ids[0]):
            await jobs.dismiss_job(uow, clock, config, FREELANCER, job_id)
        closed = await uow.jobs.get(ids[5])
        closed.status = JobStatus.CLOSED  # dismissed or not, closed jobs are never found
        await uow.commit()
    visible = [i for i in newest_first if i not in (ids[6], ids[5], ids[3], ids[0])]
    async with db.uow() as uow:
        pages = [
            await queries.browse_jobs(uow, FREELANCER, JobQuery(offset=o, limit=2))
            for o in (0, 2, 4)
        ]
        assert [[j.id for j in page] for page, _ in pages] == [visible[:2], visible[2:], []]
        assert {total for _, total in pages} == {3}
        found, total = await queries.browse_jobs(uow, FREELANCER, JobQuery(text="number 3"))
        assert (found, total) == ([], 0)
        found, total = await queries.browse_jobs(uow, FREELANCER, JobQuery(text="logo", limit=10))
        assert sorted(j.id for j in found) == sorted(visible) and total == 3
        others, total = await queries.browse_jobs(uow, OTHER_FREELANCER, JobQuery(limit=10))
        assert total == 6 and len(others) == 6
        assert await queries.browse_jobs(uow, CLIENT, JobQuery(limit=10)) == (others, 6)


async def test_many_dismissals_keep_deep_pages_exact(users, clock, config):
    """More dismissed matches than any page or chunk: the last page and the
    total are still exact (the SQL leaves the dismissed jobs out)."""
    db = users
    ids = []
    for k in range(60):
        ids.append(await open_job(db, clock, title=f"Logo number {k}"))
        clock.advance(minutes=1)
    async with db.uow() as uow:
        for job_id in ids[:55]:  # the 55 oldest; the query's newest-first puts them last
            await jobs.dismiss_job(uow, clock, config, FREELANCER, job_id)
        await uow.commit()
    async with db.uow() as uow:
        first, total = await queries.browse_jobs(uow, FREELANCER, JobQuery(limit=3))
        last, again = await queries.browse_jobs(uow, FREELANCER, JobQuery(offset=3, limit=3))
        beyond, still = await queries.browse_jobs(uow, FREELANCER, JobQuery(offset=5, limit=3))
        assert [j.id for j in first + last] == ids[:54:-1]
    assert (total, again, still) == (5, 5, 5) and beyond == []
