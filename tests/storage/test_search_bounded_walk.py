"""Issue 16, part 1: on PostgreSQL a search with words and skills or a category first
looks for its window among the newest jobs with the skills or of the category
(storage/search.py, SqlJobSearch._bounded): once, then further back if enough of them
matched, and otherwise as before. Whichever way it goes, every page
and total equal those of the search without that first try (candidates=None), on both
databases; on PostgreSQL the test also checks which way each query went.

Small sizes make every branch reachable with the window bulk's 1,500 jobs (all with
the skill python, 1,350 open) and 30 newer ones about Rust: a window of 50 among 200
candidates (25 for a category's first try).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import sqlalchemy as sa

from domain.entities import JobDismissal
from domain.ports import JobQuery
from domain.states import JobStatus
from storage.search import RECENT_IDS, SqlJobSearch
from storage.tables import job_skills, jobs
from tests.sql_log import SqlLog, every_engine
from tests.storage.test_search_window import CLIENT, FRED, OTHER, T0, N, _bulk

WINDOW, CANDIDATES = 50, 200
RUST = 30


async def _pages(
    db, query: JobQuery, candidates: int | None, recent_ids: int = RECENT_IDS
) -> list[tuple[list[int], int]]:
    """Every page of 7 (and one past the end), as (ids, total)."""
    pages = []
    offset = 0
    while True:
        async with db.read_uow() as uow:
            search = SqlJobSearch(
                uow.session, rank_window=WINDOW, candidates=candidates, recent_ids=recent_ids
            )
            found, total = await search.search(replace(query, offset=offset, limit=7))
        pages.append(([job.id for job in found], total))
        if not found:
            return pages
        offset += 7


async def _first_page_statements(db, query: JobQuery, recent_ids: int = RECENT_IDS) -> list[str]:
    """The statements the first page of `query` runs (with the first try)."""
    with SqlLog(*every_engine(db)) as log:
        async with db.read_uow() as uow:
            search = SqlJobSearch(
                uow.session, rank_window=WINDOW, candidates=CANDIDATES, recent_ids=recent_ids
            )
            await search.search(replace(query, limit=7))
    return log.statements


async def _newest_about_rust(db) -> None:
    """RUST more jobs, newer than the bulk's, the only ones about Rust and the only
    ones in marketing (with the skill python)."""
    async with db.uow() as uow:
        rows = [
            {
                "id": i,
                "client_id": CLIENT,
                "title": f"Rust developer {i}",
                "description": "Work to do.",
                "category": "marketing",
                "skills": ["python"],
                "budget_type": "fixed",
                "budget": 1000,
                "currency": "USD",
                "status": JobStatus.OPEN,
                "created_at": T0,
                "published_at": T0 + timedelta(minutes=i),
            }
            for i in range(N + 1, N + RUST + 1)
        ]
        await uow.session.execute(sa.insert(jobs), rows)
        await uow.session.execute(
            sa.insert(job_skills), [{"job_id": r["id"], "skill": "python"} for r in rows]
        )
        await uow.commit()


def _path(ran: list[str]) -> tuple[tuple[str, ...], bool]:
    """The window statements a search ran ("bounded": among the candidates; "full":
    as before), and whether the planner was told to intersect indexes."""
    windows = tuple(
        "bounded"
        if "LATERAL" in s or "walked" in s
        else "recent"
        if "max(jobs.id)" in s
        else "full"
        for s in ran
        if s.lstrip().startswith("WITH recent")
    )
    return windows, any("enable_indexscan" in s for s in ran)


WHOLE = (("bounded",), False)
FURTHER = (("bounded", "bounded"), False)
SHORT_TWICE = (("bounded", "bounded", "full"), True)
SPARSE = (("bounded", "full"), True)


async def test_every_way_a_bounded_search_goes_pages_as_without_the_first_try(any_db):
    await _bulk(any_db)
    await _newest_about_rust(any_db)
    async with any_db.uow() as uow:  # Fred dismissed the newest open design jobs
        for job_id in (1498, 1496, 1494):
            await uow.dismissals.add(JobDismissal(user_id=FRED, job_id=job_id, created_at=T0))
        await uow.commit()
    skill = ("python",)
    cases = [
        # Every job with the skill matches: the window is whole among the candidates.
        (JobQuery(text="python", skills=skill), WINDOW, WHOLE),
        # Filters beside the skill apply to the candidates: ~90 of 200 in design.
        (JobQuery(text="python", skills=skill, category="design"), WINDOW, WHOLE),
        # One in five matches ("Backend developer …"), ~36 of 200: once more, further.
        (JobQuery(text="backend", skills=skill), WINDOW, FURTHER),
        # All 30 Rust jobs are among the newest: further back there are no more.
        (JobQuery(text="rust", skills=skill), RUST, SHORT_TWICE),
        # Only job 14 matches, far below the candidates: none among them.
        (JobQuery(text="developer 14", skills=skill), 1, SPARSE),
        (JobQuery(text="blockchain", skills=skill), 0, SPARSE),
        # A category's first try is 25 of its newest jobs (CANDIDATES / PROBE): enough
        # to measure, seldom to fill the window. Every open design job matches.
        (JobQuery(text="python", category="design"), WINDOW, FURTHER),
        (JobQuery(text="python", category="design", budget_type="fixed"), WINDOW, FURTHER),
        # One in four open design jobs is about backends (ids ending in 6).
        (JobQuery(text="backend", category="design"), WINDOW, FURTHER),
        # Marketing has the 30 Rust jobs only: all of them, and no more further back.
        (JobQuery(text="rust", category="marketing"), RUST, SHORT_TWICE),
        (JobQuery(text="developer 14", category="design"), 1, SPARSE),
        (JobQuery(text="blockchain", category="design"), 0, SPARSE),
        # What /jobs adds for a freelancer: clients they block, jobs they dismissed.
        (JobQuery(text="python", skills=skill, exclude_clients=(OTHER,)), WINDOW, WHOLE),
        (JobQuery(text="python", category="design", exclude_dismissed_by=FRED), WINDOW, FURTHER),
    ]
    for query, total, path in cases:
        expected = await _pages(any_db, query, candidates=None)
        assert expected[0][1] == total, query
        assert await _pages(any_db, query, CANDIDATES) == expected, query
        if any_db.dialect == "postgresql":
            assert _path(await _first_page_statements(any_db, query)) == path, query


async def test_words_alone_look_among_the_newest_ids_first_and_page_as_without(any_db):
    """PostgreSQL, words without skills, category or budget: the window is looked for
    among the jobs of the newest `recent_ids` ids first (SqlJobSearch._recent_first),
    kept when whole there or when the range held every job, else the search runs as
    before. Every page and total equal those without the try, on both databases
    (SQLite never tries)."""
    await _bulk(any_db)
    await _newest_about_rust(any_db)
    async with any_db.uow() as uow:  # Fred dismissed some of the newest open jobs
        for job_id in (1498, 1496, 1494):
            await uow.dismissals.add(JobDismissal(user_id=FRED, job_id=job_id, created_at=T0))
        await uow.commit()
    recent, full = (("recent",), False), (("recent", "full"), False)
    cases = [
        # Every bulk job is about Python: the newest 100 ids hold the window of 50.
        (JobQuery(text="python"), 100, WINDOW, recent),
        (JobQuery(text="python", exclude_dismissed_by=FRED), 100, WINDOW, recent),
        (JobQuery(text="python", exclude_clients=(OTHER,)), 100, WINDOW, recent),
        # One in five ("Backend developer …"): ~18 among the newest 100, ~70 among 400.
        (JobQuery(text="backend"), 100, WINDOW, full),
        (JobQuery(text="backend"), 400, WINDOW, recent),
        # The 30 Rust jobs are the newest: the range holds them all, short of the window.
        (JobQuery(text="rust"), 100, RUST, full),
        (JobQuery(text="developer 14"), 100, 1, full),
        (JobQuery(text="blockchain"), 100, 0, full),
        # A range as wide as every id there is (a young marketplace): the try held
        # every job, so short or empty it is exact, and nothing runs after it.
        (JobQuery(text="rust"), N + RUST, RUST, recent),
        (JobQuery(text="developer 14"), 5_000, 1, recent),
        (JobQuery(text="blockchain"), 5_000, 0, recent),
        # A budget filter: no try (few of the range's matches pass it).
        (JobQuery(text="python", budget_type="fixed"), 100, WINDOW, (("full",), False)),
    ]
    for query, recent_ids, total, path in cases:
        expected = await _pages(any_db, query, candidates=None)
        assert expected[0][1] == total, query
        assert await _pages(any_db, query, CANDIDATES, recent_ids) == expected, query
        if any_db.dialect == "postgresql":
            ran = await _first_page_statements(any_db, query, recent_ids)
            assert _path(ran) == path, query
