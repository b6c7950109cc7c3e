"""Issue 16, part 1: searches without words, newest first (storage/search.py,
SqlJobSearch._newest), on SQLite and PostgreSQL.

The count (up to JOB_COUNT_CAP) comes first and says how the page is read on
SQLite: matches fewer than the cap are sorted (found through the filters' own
indexes: ix_jobs_open_budget, job_skills by skill), more are met by walking the
newest-first index, and a page past the end of fewer is not read. Whichever way,
the pages must be exactly the open matches by (published_at, id) descending —
publication order here disagrees with id order, so a page ordered by id shows —
and the total min(matches, cap).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from domain.entities import User
from domain.ports import JOB_COUNT_CAP, JobQuery
from domain.states import JobStatus
from storage.tables import job_skills, jobs
from tests.sql_log import SqlLog, reader_engine

CLIENT, OTHER = 1, 2
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
N = 1_500


def _job(i: int) -> dict:
    hourly = i % 4 == 0
    return {
        "id": i,
        "client_id": OTHER if i % 6 == 0 else CLIENT,
        "title": f"Job {i}",
        "description": "Work.",
        "category": "design" if i % 3 else "writing",
        "skills": ["figma", "rare-skill"] if i % 50 == 7 else ["figma"] if i % 3 else ["copy"],
        "budget_type": "hourly" if hourly else "fixed",
        # Rates of 9,000+ an hour are rare (i % 97 == 0); fixed budgets spread wide.
        "budget": (9_000 + i if i % 97 == 0 else 2_000 + i % 50) if hourly else 100 * (i % 600),
        "currency": "USD",
        "status": JobStatus.OPEN if i % 10 else JobStatus.CLOSED,
        "created_at": T0,
        # Publication order is not id order: a permutation of the minutes.
        "published_at": T0 + timedelta(minutes=(i * 7919) % N),
    }


ROWS = [_job(i) for i in range(1, N + 1)]


async def _bulk(db) -> None:
    async with db.uow() as uow:
        for user_id, name in ((CLIENT, "Clara"), (OTHER, "Otto")):
            await uow.users.add(User(id=user_id, name=name, is_client=True))
        await uow.session.execute(sa.insert(jobs), ROWS)
        await uow.session.execute(
            sa.insert(job_skills),
            [{"job_id": r["id"], "skill": s} for r in ROWS for s in r["skills"]],
        )
        await uow.commit()
    async with db.engine.connect() as conn:  # the planner's statistics, as in production
        await conn.execute(sa.text("ANALYZE"))
        await conn.commit()


def _expected(pred) -> list[int]:
    found = [r for r in ROWS if r["status"] is JobStatus.OPEN and pred(r)]
    found.sort(key=lambda r: (r["published_at"], r["id"]), reverse=True)
    return [r["id"] for r in found]


async def _page(db, query: JobQuery) -> tuple[list[int], int]:
    async with db.read_uow() as uow:
        found, total = await uow.search.search(query)
        return [job.id for job in found], total


async def _all_pages(db, query: JobQuery, size: int) -> tuple[list[int], set[int]]:
    seen: list[int] = []
    totals: set[int] = set()
    offset = 0
    while True:
        ids, total = await _page(db, replace(query, offset=offset, limit=size))
        totals.add(total)
        if not ids:
            return seen, totals
        seen += ids
        offset += size


CASES = [
    # (query, predicate): few matches (sorted) and many (walked), each filter.
    (JobQuery(), lambda r: True),
    (
        JobQuery(budget_type="hourly", min_budget=9_000),
        lambda r: r["budget"] >= 9_000 and r["budget_type"] == "hourly",
    ),
    (JobQuery(budget_type="hourly", min_budget=50_000), lambda r: False),
    (JobQuery(budget_type="hourly"), lambda r: r["budget_type"] == "hourly"),
    (
        JobQuery(budget_type="fixed", min_budget=30_000),
        lambda r: r["budget_type"] == "fixed" and r["budget"] >= 30_000,
    ),
    (JobQuery(min_budget=9_000), lambda r: r["budget"] >= 9_000),
    (JobQuery(min_budget=2_000), lambda r: r["budget"] >= 2_000),
    (JobQuery(skills=("rare-skill",)), lambda r: "rare-skill" in r["skills"]),
    (JobQuery(skills=("figma",)), lambda r: "figma" in r["skills"]),
    (JobQuery(skills=("rare-skill", "copy")), lambda r: {"rare-skill", "copy"} & set(r["skills"])),
    (JobQuery(category="writing"), lambda r: r["category"] == "writing"),
    (
        JobQuery(
            category="design", budget_type="hourly", skills=("figma",), exclude_clients=(OTHER,)
        ),
        lambda r: (
            r["category"] == "design" and r["budget_type"] == "hourly" and r["client_id"] != OTHER
        ),
    ),
    (
        JobQuery(category="writing", budget_type="hourly", min_budget=9_000),
        lambda r: (
            r["category"] == "writing" and r["budget_type"] == "hourly" and r["budget"] >= 9_000
        ),
    ),
]


async def test_pages_are_newest_first_whether_sorted_or_walked(any_db):
    await _bulk(any_db)
    sizes = set()
    for query, pred in CASES:
        wanted = _expected(pred)
        sizes.add(len(wanted) >= JOB_COUNT_CAP)
        for size in (100, 7):
            ids, totals = await _all_pages(any_db, query, size)
            assert ids == wanted, (query, size)
            assert totals == {min(len(wanted), JOB_COUNT_CAP)}, query
        # A page past the end of fewer than the cap: nothing, and the total, in one
        # statement (PostgreSQL's count joined to the page; SQLite's count first).
        if len(wanted) < JOB_COUNT_CAP:
            past = replace(query, offset=len(wanted) + 3)
            with SqlLog(reader_engine(any_db)) as log:
                assert await _page(any_db, past) == ([], len(wanted))
            assert len(log.statements) == 1, log.statements
    assert sizes == {True, False}  # both ways were taken


async def test_sqlite_reads_few_matches_by_their_index_and_many_by_the_walk(db):
    await _bulk(db)
    for query in (
        JobQuery(budget_type="hourly", min_budget=9_000),
        JobQuery(budget_type="fixed", min_budget=1_000),
        JobQuery(skills=("rare-skill",)),
    ):
        with SqlLog(reader_engine(db)) as log:
            await _page(db, query)
        # The count, then the page with its jobs.
        count, page = [c for c in log.executed if c[0].startswith("SELECT")]
        async with db.read_uow() as uow:
            conn = await uow.session.connection()
            plans = []
            for sql, params in (count, page):
                plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
                plans.append(" / ".join(row[3] for row in plan.all()))
        # The page's ids (before its jobs are read and their few rows ordered).
        plans[1] = plans[1].split(" / SCAN page")[0]
        few = query.min_budget != 1_000
        if query.skills:
            assert "job_skills USING COVERING INDEX ix_job_skills_skill" in plans[0], plans
            assert "ix_job_skills_skill" in plans[1] and "TEMP B-TREE" in plans[1], plans
        else:
            assert "ix_jobs_open_budget" in plans[0], plans
            if few:  # sorted: read from the budget index
                assert "ix_jobs_open_budget" in plans[1], plans
            else:  # walked: newest first, no sort
                assert "ix_jobs_open_newest" in plans[1] and "TEMP B-TREE" not in plans[1], plans


async def test_postgresql_counts_a_budget_filter_first_and_reads_few_by_its_index(any_db):
    """PostgreSQL takes budget and budget type for unrelated and walked every open job
    for a page of a rare pair (an hourly rate of $500+: 55-100 ms at 85,000 jobs).
    With a budget filter the count comes first there too: none past the end, fewer
    than the cap read through ix_jobs_open_budget, more by the walk."""
    if any_db.dialect != "postgresql":
        pytest.skip("SQLite counts first whatever the filters (the test above)")
    await _bulk(any_db)
    for query, how in (
        (JobQuery(budget_type="hourly", min_budget=50_000), "none"),
        (JobQuery(budget_type="hourly", min_budget=9_000), "few"),
        (JobQuery(budget_type="fixed", min_budget=1_000), "walk"),
    ):
        with SqlLog(reader_engine(any_db)) as log:
            await _page(any_db, query)
        selects = [c for c in log.executed if c[0].lstrip().startswith(("SELECT", "WITH"))]
        assert "count" in selects[0][0] and "ORDER BY" not in selects[0][0], selects
        if how == "none":
            assert len(selects) == 1, "no page is read when nothing matched"
            continue
        page = selects[1][0]
        async with any_db.read_uow() as uow:
            conn = await uow.session.connection()
            raw = await conn.get_raw_connection()
            rows = await raw.driver_connection.fetch(f"EXPLAIN {page}", *selects[1][1])
        plan = "\n".join(r[0] for r in rows)
        if how == "few":
            assert "MATERIALIZED" in page and "ix_jobs_open_budget" in plan, plan
            assert "ix_jobs_open_newest" not in plan, plan
        else:
            assert "ix_jobs_open_newest" in plan, plan
