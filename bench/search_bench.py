"""Job search: uow.search.search (storage/search.py) with text and filters over
many seeded jobs — SQLite FTS5 (bm25) against PostgreSQL tsvector (ts_rank).

    .venv/bin/python -m bench search                       # 20,000 jobs: about 25 s
    .venv/bin/python -m bench search --jobs 100000 --time-limit 10
    .venv/bin/python -m bench search --concurrency 8

Per database: a fresh database built by the migrations, then --jobs jobs (85 %
open, the rest paused, closed or drafts) inserted in bulk with their job_skills
rows — the FTS5 triggers and the generated tsvector column index them as they
would any job — and ANALYZE (not timed). The query mix, drawn once from the
seed and the same on both databases: words people type (one or two, a few
matching nothing), alone or with a category, skills, a minimum budget or a
budget type; filters without text (newest first); first page mostly, page 2
or 3 sometimes; 5 a page, as /jobs shows. Each query is one unit of work, as
in the bot.

Each query is a read-only unit of work (`db.read_uow`, as the bot runs /jobs and
the search step: on SQLite a reader connection, outside the writer queue).
Totals are counted up to JOB_COUNT_CAP (1,000): "1,000+". Queries with words
rank the RANK_WINDOW (1,000) newest matches only (storage/search.py); the
"before" rows (skip them with --no-baseline) run the same mix with every match
scored, as search ranked before issue 16 (SqlJobSearch(rank_window=None)), in
the same run. The latency of queries with and without words is also printed
apart (one at a time).

Measurements, each bounded by --time-limit seconds:
1. one query at a time: queries/s and latency are the query's own cost; then the
   same on the writer's units of work (`db.uow`, no other writer), the way the bot
   runs /jobs on PostgreSQL (Engine's reader_factory is SQLite's only): there a
   search sets PostgreSQL's planner settings itself, one round trip more than on
   the reader's connections, which are opened with them (storage/planner.py);
2. --concurrency queries at once: queries/s under load (latency includes waiting);
3. beside a writer (issue 16, part 2): one query at a time while a writer loop
   commits continuously (one outbox row a transaction) — the reader's p95, and
   beside it the same queries through the writer queue (`db.uow`, BEGIN
   IMMEDIATE: how every search ran before), with the writer's commits/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bench import market
from bench.support import (
    SEED_ROW,
    Budget,
    Latencies,
    MemoryPeak,
    Row,
    WallClock,
    add_database_options,
    add_mix_options,
    conditions,
    fresh_database,
    latency_rows,
    memory_row,
    print_table,
    timed_seed,
    warm_up,
)
from domain.entities import OutboxMessage
from domain.ports import JobQuery
from domain.states import JobStatus
from storage.database import Database
from storage.search import SqlJobSearch, search_terms
from storage.skill_index import skill_values
from storage.tables import job_skills, jobs

CLIENTS = range(4_000_000, 4_000_200)
BATCH = 2_000
PAGE = 5
STATUSES = [JobStatus.OPEN] * 17 + [JobStatus.PAUSED, JobStatus.CLOSED, JobStatus.DRAFT]


async def seed_jobs(db: Database, count: int, rng: random.Random) -> None:
    """`count` jobs in bulk (with their skill rows), published over the last 90 days."""
    clock = WallClock()
    await market.add_users(db, clock, CLIENTS, client=True)
    now = clock.now()
    for first in range(1, count + 1, BATCH):
        rows, skill_rows = [], []
        for job_id in range(first, min(first + BATCH, count + 1)):
            text = market.job_text(rng)
            status = rng.choice(STATUSES)
            created = now - timedelta(minutes=rng.randrange(90 * 24 * 60))
            rows.append(
                {
                    "id": job_id,
                    "client_id": rng.choice(CLIENTS),
                    "title": text.title,
                    "description": text.description,
                    "category": text.category,
                    "skills": list(text.skills),
                    "budget_type": text.budget_type,
                    "budget": text.budget,
                    "currency": "USD",
                    "status": status,
                    "created_at": created,
                    "published_at": None if status is JobStatus.DRAFT else created,
                }
            )
            skill_rows += [{"job_id": job_id, "skill": s} for s in skill_values(text.skills)]
        async with db.uow() as uow:
            await uow.session.execute(sa.insert(jobs), rows)
            await uow.session.execute(sa.insert(job_skills), skill_rows)
            await uow.commit()
    await settle(db)


async def settle(db: Database) -> None:
    """The seeded tables as a live database keeps them: analysed, and on PostgreSQL
    vacuumed and checkpointed too, so that neither autovacuum nor a checkpoint works
    through the bulk load during the timed parts (autovacuum did, on one of the two
    cores: searches without words took p50 3.5 ms in the first part and 2.2 ms once
    it was done) and index-only scans find the pages all-visible."""
    async with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text("VACUUM (ANALYZE)"))
            # The bulk load's WAL written out now, not by a checkpoint mid-run.
            with contextlib.suppress(sa.exc.DBAPIError):  # needs pg_checkpoint
                await conn.execute(sa.text("CHECKPOINT"))
        else:
            await conn.execute(sa.text("ANALYZE"))
            await conn.commit()


def query_mix(count: int, seed: int) -> list[JobQuery]:
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        kind = rng.random()
        text = rng.choice(market.QUERIES)
        work, category, skills = rng.choice(market.WORK)
        offset = rng.choices([0, PAGE, 2 * PAGE], weights=[7, 2, 1])[0]
        if kind < 0.40:
            q = JobQuery(text=text)
        elif kind < 0.60:
            q = JobQuery(text=text, category=category)
        elif kind < 0.75:
            q = JobQuery(category=category)
        elif kind < 0.85:
            q = JobQuery(text=rng.choice(["", work.split()[0].lower()]), skills=(skills[0],))
        elif kind < 0.95:
            q = JobQuery(
                text=rng.choice(["", text]),
                min_budget=rng.choice([5_000, 50_000, 150_000]),
                budget_type=rng.choice([None, "fixed", "hourly"]),
            )
        else:
            q = JobQuery()
        queries.append(replace(q, offset=offset, limit=PAGE))
    return queries


# The mix's shapes (query_mix), for the per-shape rows: what a query filters by.
SHAPES = (
    ("words", "words alone"),
    ("words+category", "words, category"),
    ("words+budget", "words, budget"),
    ("words+skill", "words, skill"),
    ("category", "category"),
    ("budget", "budget"),
    ("skill", "skill"),
    ("newest", "no filter"),
)


def shape(query: JobQuery) -> str:
    """The query's shape: a key of SHAPES."""
    if query.min_budget > 0 or query.budget_type:
        what = "budget"
    elif query.skills:
        what = "skill"
    elif query.category:
        what = "category"
    else:
        what = ""
    if search_terms(query.text):
        return f"words+{what}" if what else "words"
    return what or "newest"


def every_match_scored(uow: Any) -> SqlJobSearch:
    """The search as it ranked before issue 16: every match of the words scored."""
    return SqlJobSearch(uow.session, rank_window=None)


async def run_queries(
    uows: Callable[[], Any],
    queries: list[JobQuery],
    concurrency: int,
    seconds: float,
    by_kind: dict[bool, Latencies] | None = None,
    search: Callable[[Any], Any] = lambda uow: uow.search,
    by_shape: dict[str, Latencies] | None = None,
) -> tuple[int, float, Latencies, int]:
    """(queries done, wall seconds, latencies, matches summed), cycling through the mix;
    `by_kind` collects the latencies of queries with words (True) and without apart,
    `by_shape` by the query's shape (SHAPES)."""
    latencies = Latencies()
    budget = Budget(seconds)
    position = 0
    done = matches = 0

    async def worker() -> None:
        nonlocal position, done, matches
        while not budget.over():
            query = queries[position % len(queries)]
            position += 1
            began = time.perf_counter()
            async with uows() as uow:
                page, total = await search(uow).search(query)
            took = time.perf_counter() - began
            latencies.add(took)
            if by_kind is not None:
                by_kind[bool(search_terms(query.text))].add(took)
            if by_shape is not None:
                by_shape.setdefault(shape(query), Latencies()).add(took)
            assert len(page) <= PAGE
            done += 1
            matches += total

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, time.perf_counter() - started, latencies, matches


async def beside_writer(
    db: Database, uows: Callable[[], Any], queries: list[JobQuery], seconds: float
) -> tuple[Latencies, float]:
    """One query at a time while a writer commits continuously: (latencies, commits/s)."""
    stop = asyncio.Event()
    commits = 0

    async def writer() -> None:
        nonlocal commits
        clock = WallClock()
        while not stop.is_set():
            async with db.uow() as uow:
                await uow.outbox.add(
                    OutboxMessage(chat_id=1, payload={"text": "x"}, created_at=clock.now())
                )
                await uow.commit()
            commits += 1
            await asyncio.sleep(0)  # let the readers' awaits run between commits

    task = asyncio.create_task(writer())
    started = time.perf_counter()
    try:
        _, _, latencies, _ = await run_queries(uows, queries, 1, seconds)
    finally:
        stop.set()
        await task
    return latencies, commits / (time.perf_counter() - started)


async def measure(backend: str, server: str | None, args: argparse.Namespace) -> dict[str, float]:
    queries = query_mix(args.queries, args.seed)
    async with fresh_database(backend, server) as db:
        _, seeded = await timed_seed(seed_jobs(db, args.jobs, random.Random(args.seed)))
        async with db.uow() as uow:
            open_jobs = await uow.jobs.count(status=JobStatus.OPEN)
        await warm_up(db.uow, queries, lambda uow, query: uow.search.search(query))
        uows = db.read_uow  # as the bot runs searches (read_only=True routes)
        kinds = {True: Latencies(), False: Latencies()}
        shapes: dict[str, Latencies] = {}
        before: dict[str, float] = {}
        with MemoryPeak(args.trace_memory) as memory:
            one = await run_queries(uows, queries, 1, args.time_limit, kinds, by_shape=shapes)
            _, _, on_writer, _ = await run_queries(db.uow, queries, 1, args.time_limit)
            many = await run_queries(uows, queries, args.concurrency, args.time_limit)
            if args.baseline:
                old_kinds = {True: Latencies(), False: Latencies()}
                _, _, old, _ = await run_queries(
                    uows, queries, 1, args.time_limit, old_kinds, every_match_scored
                )
                _, _, old_many, _ = await run_queries(
                    uows, queries, args.concurrency, args.time_limit, search=every_match_scored
                )
                before = {
                    **old.figures("b_"),
                    **old_kinds[True].figures("bw_"),
                    **old_many.figures("bm_"),
                }
            reader, commits = await beside_writer(db, uows, queries, args.time_limit)
            queued, queued_commits = await beside_writer(db, db.uow, queries, args.time_limit)
    done, wall, latencies, matches = one
    many_done, many_wall, many_latencies, _ = many
    return {
        "seed": seeded,
        "open": open_jobs,
        "queries": done,
        "rate": done / wall if wall else 0.0,
        **latencies.figures(),
        **kinds[True].figures("words_"),
        **kinds[False].figures("bare_"),
        **{f"shape_{key}_p95": found.figures()["p95"] for key, found in shapes.items()},
        "matches": matches / done if done else 0.0,
        **on_writer.figures("u_"),
        **before,
        "many_rate": many_done / many_wall if many_wall else 0.0,
        **many_latencies.figures("many_"),
        **reader.figures("w_"),
        "w_commits": commits,
        **queued.figures("q_"),
        "q_commits": queued_commits,
        "memory": memory.megabytes,
    }


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", type=int, default=20_000, help="jobs seeded (default 20,000)")
    add_mix_options(parser, queries=500, seconds=4, mix="the mix", runs="each part runs")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="queries at once in part 2 (default 8)"
    )
    parser.add_argument(
        "--no-baseline",
        dest="baseline",
        action="store_false",
        help="skip the 'before' rows (every match scored, as before issue 16)",
    )
    add_database_options(parser)


QUICK = ["--jobs", "5000", "--time-limit", "1.5", "--no-baseline"]


def report(args: argparse.Namespace, results: dict[str, dict[str, float]]) -> int:
    """Print the figures side by side; 1 if something went wrong on the way."""
    print_table(
        f"search: {args.jobs:,} jobs, {args.queries} distinct queries, {PAGE} a page "
        f"({conditions(args)})",
        results,
        [
            SEED_ROW,
            Row("open", "open jobs", "{:,.0f}", ratio=False),
            Row("queries", "1 at a time: queries", "{:,.0f}", ratio=False),
            Row("rate", "  queries/s", "{:.1f}"),
            *latency_rows(),
            Row("max", "  max ms", "{:.1f}"),
            Row("matches", "  mean matches/query", "{:,.0f}", ratio=False),
            Row("words_p50", "  with words p50 ms", "{:.1f}"),
            Row("words_p95", "    p95 ms", "{:.1f}"),
            Row("bare_p50", "  without words p50 ms", "{:.1f}"),
            Row("bare_p95", "    p95 ms", "{:.1f}"),
            *(Row(f"shape_{key}_p95", f"  p95 ms, {label}", "{:.1f}") for key, label in SHAPES),
            Row("u_p50", "  on the writer's uow: p50", "{:.1f}"),
            Row("u_p95", "    p95 ms", "{:.1f}"),
            Row("many_rate", f"{args.concurrency} at once: queries/s", "{:.1f}"),
            *latency_rows("many_"),
            *(
                [
                    Row("b_p50", "before (every match scored): p50", "{:.1f}"),
                    Row("b_p95", "  p95 ms", "{:.1f}"),
                    Row("bw_p50", "  with words p50 ms", "{:.1f}"),
                    Row("bw_p95", "    p95 ms", "{:.1f}"),
                    Row("bm_p50", f"  {args.concurrency} at once: p50", "{:.1f}"),
                    Row("bm_p95", "    p95 ms", "{:.1f}"),
                ]
                if args.baseline
                else []
            ),
            Row("w_p50", "beside writer: reader p50", "{:.1f}"),
            Row("w_p95", "  p95 ms", "{:.1f}"),
            Row("w_commits", "  writer commits/s", "{:.0f}"),
            Row("q_p50", "  via writer queue: p50", "{:.1f}"),
            Row("q_p95", "  p95 ms", "{:.1f}"),
            Row("q_commits", "  writer commits/s", "{:.0f}"),
            memory_row(args),
        ],
    )
    return 0
