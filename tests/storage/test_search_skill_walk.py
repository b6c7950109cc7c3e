"""Issue 16, part 1: on PostgreSQL a search with words and skills first looks for its
window among the newest jobs with the skills (storage/search.py, SqlJobSearch._bounded),
and runs as before when they hold too few matches. Whichever way it goes, every page
and total equal those of the search without that first try (candidates=None), on both
databases; on PostgreSQL the test also checks which way each query went.

Small sizes make every branch reachable with the window bulk's 1,500 jobs (all with
the skill python, 1,350 open): a window of 50 among 200 candidates.
"""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from domain.ports import JobQuery
from storage.search import SqlJobSearch
from tests.storage.test_search_window import _bulk

WINDOW, CANDIDATES = 50, 200


async def _pages(db, query: JobQuery, candidates: int | None) -> list[tuple[list[int], int]]:
    """Every page of 7 (and one past the end), as (ids, total)."""
    pages = []
    offset = 0
    while True:
        async with db.read_uow() as uow:
            search = SqlJobSearch(uow.session, rank_window=WINDOW, candidates=candidates)
            found, total = await search.search(replace(query, offset=offset, limit=7))
        pages.append(([job.id for job in found], total))
        if not found:
            return pages
        offset += 7


async def _first_page_statements(db, query: JobQuery) -> list[str]:
    """The statements the first page of `query` runs (with the first try)."""
    engines = {e.sync_engine for e in (db.engine, db.reader_engine, db.pg_reader_engine) if e}
    ran: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        ran.append(statement)

    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        async with db.read_uow() as uow:
            search = SqlJobSearch(uow.session, rank_window=WINDOW, candidates=CANDIDATES)
            await search.search(replace(query, limit=7))
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", seen)
    return ran


async def test_every_way_a_skill_search_goes_pages_as_without_the_first_try(any_db):
    await _bulk(any_db)
    cases = {
        # Every job with the skill matches: the window is whole among the candidates.
        "whole": (JobQuery(text="python", skills=("python",)), WINDOW),
        # Filters beside the skill apply to the candidates: ~90 of 200 in design.
        "filtered": (JobQuery(text="python", skills=("python",), category="design"), WINDOW),
        # One in five matches (titles "Backend developer …"): ~36 of 200, too few;
        # then the planner's own plan.
        "short": (JobQuery(text="backend", skills=("python",)), WINDOW),
        # Only job 14 matches, far below the candidates: none among them; then the
        # full-text index intersected with the filters'.
        "sparse": (JobQuery(text="developer 14", skills=("python",)), 1),
        "no match": (JobQuery(text="blockchain", skills=("python",)), 0),
    }
    for name, (query, total) in cases.items():
        expected = await _pages(any_db, query, candidates=None)
        assert expected[0][1] == total, name
        assert await _pages(any_db, query, CANDIDATES) == expected, name
        if any_db.dialect != "postgresql":
            continue
        ran = await _first_page_statements(any_db, query)
        windows = [s for s in ran if s.lstrip().startswith("WITH recent")]
        assert "LATERAL" in windows[0], name
        planner_off = any("enable_indexscan" in s for s in ran)
        if name in ("whole", "filtered"):
            assert len(windows) == 1 and not planner_off, (name, ran)
        else:
            assert len(windows) == 2 and "LATERAL" not in windows[1], (name, ran)
            assert planner_off == (name != "short"), (name, ran)
