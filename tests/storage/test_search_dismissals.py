"""SqlJobSearch with JobQuery.exclude_dismissed_by: a user's "Not interested"
jobs leave the SQL query itself, so every page and the total are exact, on
SQLite (FTS5) and PostgreSQL (tsvector), with and without text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.entities import Job, JobDismissal, User
from domain.ports import JobQuery
from domain.states import JobStatus

CLIENT = 1
ME = 2
SOMEONE_ELSE = 3
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
JOBS = 40
PAGE = 7


async def _market(db) -> tuple[list[int], set[int]]:
    """JOBS open jobs (ids oldest first; every other one about Python), of which
    ME dismissed every third and SOMEONE_ELSE every second. Returns (ids, mine)."""
    async with db.uow() as uow:
        for uid in (CLIENT, ME, SOMEONE_ELSE):
            await uow.users.add(User(id=uid, name=f"user{uid}", is_freelancer=uid != CLIENT))
        ids = []
        for n in range(JOBS):
            title = f"Python bot {n}" if n % 2 == 0 else f"Logo design {n}"
            job = Job(
                client_id=CLIENT,
                title=title,
                category="development" if n % 2 == 0 else "design",
                status=JobStatus.OPEN,
                published_at=T0 + timedelta(minutes=n),
            )
            ids.append((await uow.jobs.add(job)).id)
        mine = {job_id for n, job_id in enumerate(ids) if n % 3 == 0}
        for job_id in mine:
            await uow.dismissals.add(JobDismissal(user_id=ME, job_id=job_id, created_at=T0))
        for job_id in ids[::2]:
            await uow.dismissals.add(
                JobDismissal(user_id=SOMEONE_ELSE, job_id=job_id, created_at=T0)
            )
        await uow.commit()
    return ids, mine


async def _all_pages(db, **query) -> tuple[list[int], set[int]]:
    """Every page of the query, read in order: (ids in page order, the totals seen)."""
    seen: list[int] = []
    totals: set[int] = set()
    async with db.uow() as uow:
        for offset in range(0, JOBS + PAGE, PAGE):
            page, total = await uow.search.search(JobQuery(offset=offset, limit=PAGE, **query))
            assert len(page) == max(0, min(PAGE, total - offset))
            seen += [job.id for job in page]
            totals.add(total)
    return seen, totals


async def test_dismissed_jobs_leave_every_page_and_the_total(any_db):
    ids, mine = await _market(any_db)
    kept_newest_first = [i for i in reversed(ids) if i not in mine]
    assert len(kept_newest_first) == JOBS - len(mine) == 26

    seen, totals = await _all_pages(any_db, exclude_dismissed_by=ME)
    assert seen == kept_newest_first and totals == {26}

    # Someone else's dismissals, or none asked for, hide nothing.
    seen, totals = await _all_pages(any_db)
    assert seen == ids[::-1] and totals == {JOBS}
    seen, totals = await _all_pages(any_db, exclude_dismissed_by=CLIENT)
    assert seen == ids[::-1] and totals == {JOBS}


async def test_with_text_and_filters_the_count_matches_the_pages(any_db):
    ids, mine = await _market(any_db)
    python = {job_id for n, job_id in enumerate(ids) if n % 2 == 0}

    seen, totals = await _all_pages(any_db, text="python", exclude_dismissed_by=ME)
    assert len(seen) == len(set(seen))  # ranked pages neither repeat nor skip
    assert set(seen) == python - mine and totals == {len(python - mine)} == {13}

    seen, totals = await _all_pages(any_db, category="development", exclude_dismissed_by=ME)
    assert set(seen) == python - mine and totals == {13}

    seen, totals = await _all_pages(any_db, text="python", exclude_dismissed_by=SOMEONE_ELSE)
    assert (seen, totals) == ([], {0})  # every Python job dismissed by them
    seen, totals = await _all_pages(any_db, text="logo", exclude_dismissed_by=SOMEONE_ELSE)
    assert set(seen) == set(ids) - python and totals == {20}


async def test_only_open_jobs_count_dismissed_or_not(any_db):
    ids, mine = await _market(any_db)
    kept = [i for i in ids if i not in mine]
    async with any_db.uow() as uow:
        for job_id in (ids[0], kept[0]):  # one dismissed, one not
            (await uow.jobs.get_for_update(job_id)).status = JobStatus.CLOSED
        (await uow.jobs.get_for_update(kept[1])).status = JobStatus.PAUSED
        await uow.commit()
    seen, totals = await _all_pages(any_db, exclude_dismissed_by=ME)
    assert seen == [i for i in reversed(kept) if i not in (kept[0], kept[1])]
    assert totals == {24}
