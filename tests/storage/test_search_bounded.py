"""Issue 16, part 1: totals are counted up to JOB_COUNT_CAP, while the filters
and the paging stay exact past it (SQLite and PostgreSQL) — searches with words
page the newest RANK_WINDOW matches only (tests/storage/test_search_window.py); /jobs
shows "1,000+" (en) / "1 000+" (ru)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from domain.entities import User
from domain.ports import JOB_COUNT_CAP, JobQuery
from domain.states import JobStatus
from storage.tables import job_skills, jobs
from tests.flows.harness import Harness
from tests.flows.test_post_job import freelancer

CLIENT = 1
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
N = 1_800  # 1,080 open design jobs: past the cap


async def _bulk(db, count: int = N) -> None:
    """`count` open jobs, one minute apart (id order = publication order); every
    third one about Python, in the development category."""
    async with db.uow() as uow:
        if await uow.users.get(CLIENT) is None:
            await uow.users.add(User(id=CLIENT, name="Clara", is_client=True))
        rows = [
            {
                "id": i,
                "client_id": CLIENT,
                "title": f"Python job {i}" if i % 3 == 0 else f"Logo job {i}",
                "description": "Work.",
                "category": "development" if i % 3 == 0 else "design",
                "skills": ["python"] if i % 3 == 0 else ["logo-design"],
                "budget_type": "fixed",
                "budget": 1000 * (i % 7),
                "currency": "USD",
                "status": JobStatus.OPEN if i % 10 else JobStatus.PAUSED,
                "created_at": T0,
                "published_at": T0 + timedelta(minutes=i),
            }
            for i in range(1, count + 1)
        ]
        await uow.session.execute(sa.insert(jobs), rows)
        await uow.session.execute(
            sa.insert(job_skills), [{"job_id": r["id"], "skill": r["skills"][0]} for r in rows]
        )
        await uow.commit()


def _open(pred) -> list[int]:
    """The open job ids matching `pred`, newest first: what the pages must show."""
    return [i for i in range(N, 0, -1) if i % 10 and pred(i)]


async def _all_pages(db, query: JobQuery) -> tuple[list[int], set[int]]:
    seen, totals, offset = [], set(), 0
    while True:
        async with db.read_uow() as uow:
            page, total = await uow.search.search(_with(query, offset))
        totals.add(total)
        if not page:
            return seen, totals
        seen += [j.id for j in page]
        offset += 100


def _with(query: JobQuery, offset: int) -> JobQuery:
    from dataclasses import replace

    return replace(query, offset=offset, limit=100)


async def test_totals_stop_at_the_cap_and_pages_stay_exact(any_db):
    await _bulk(any_db)
    everything = _open(lambda i: True)
    assert len(everything) > JOB_COUNT_CAP
    ids, totals = await _all_pages(any_db, JobQuery())
    assert ids == everything and totals == {JOB_COUNT_CAP}  # every page, newest first

    design = _open(lambda i: i % 3 != 0)
    ids, totals = await _all_pages(any_db, JobQuery(category="design"))
    assert len(design) > JOB_COUNT_CAP and ids == design and totals == {JOB_COUNT_CAP}

    python = _open(lambda i: i % 3 == 0 and 1000 * (i % 7) >= 3000)
    ids, totals = await _all_pages(any_db, JobQuery(skills=("python",), min_budget=3000))
    assert ids == python and totals == {len(python)}  # under the cap: exact


async def test_text_ranking_and_filters_past_the_cap(any_db):
    await _bulk(any_db)
    logo = _open(lambda i: i % 3 != 0)
    ids, totals = await _all_pages(any_db, JobQuery(text="logo"))
    # All score alike (one title word each): ties go newest first, across all pages;
    # with words only the newest RANK_WINDOW (= the cap) matches are ranked and paged.
    assert len(logo) > JOB_COUNT_CAP
    assert ids == logo[:JOB_COUNT_CAP] and totals == {JOB_COUNT_CAP}
    ids, totals = await _all_pages(any_db, JobQuery(text="python", budget_type="fixed"))
    assert ids == _open(lambda i: i % 3 == 0) and totals == {len(ids)}


async def test_jobs_says_1000_plus_in_both_languages(db, clock):
    await _bulk(db)
    h = Harness(db, clock)
    fred = await freelancer(h)
    await h.send(fred, "/jobs")
    assert "1,000+ found" in h.last(fred).text
    olga = h.person("Olga", lang="ru")
    await h.send(olga, "/start")
    await h.send(olga, "/jobs")
    assert "найдено 1\u00a0000+" in h.last(olga).text
