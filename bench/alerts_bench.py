"""Alert matching (issue 16, part 4): publishing a job matched against many alert
subscriptions, its alerts written to the outbox in the same transaction — SQLite
and PostgreSQL side by side.

    .venv/bin/python -m bench alerts                        # 100,000 subscriptions
    .venv/bin/python -m bench alerts --subscriptions 20000 --time-limit 3

Per database: a fresh database built by the migrations; --subscriptions
freelancers with one subscription each, inserted in bulk with their lookup rows
(storage/skill_index.py; not timed). A subscription names one category of the
taxonomy (90 %) and one to three of its skills (85 %) and the least a job must
pay (none to 20,000 in eight steps); half are instant and half daily, 5 %
paused. The taxonomy is small (8 categories, 55 skills), so a job still
reaches about a thousand of the 100,000: the alerts per job are printed. Then, one at a time for --time-limit seconds, a
client publishes a job (drawn from bench/market.py) through the use case
(domain/usecases/jobs.publish_job: candidates through the lookup tables,
domain/matching decides) in one unit of work with its notifications rendered
into outbox rows by the registered renderers and committed, as the bot does.
Reported: the publish's p50/p95/max (the target: p95 ≤ 20 ms), the matching
alone (the same job's audience and domain.matching again, on a reader, without
rendering) and the mean alerts (outbox rows) a job wrote.

Since issue 16, part 4, the matching is one set-based query over subscription_keys
(JobSearch.alert_audience) and a publish writes its alerts as one fan-out record
(JobSearch.write_alerts, migration 0026): the recipients packed, the card once per
language and part; the outbox sender expands it into rows later, a chunk at a time
(storage/outbox_store.py), so "outbox rows per job" at publish is 0. With the
baseline, every other job is published the way migration 0025 did instead — every
row written by an INSERT … SELECT per language and part in the publish, each naming
the card stored once (the "rows at publish" rows: same run, same queue). The "before" rows (skip them with
--no-baseline) publish --baseline-jobs more jobs in the same run the way it ran
before: every candidate subscription loaded and put through domain.matching
(jobs.interested_users_each), then one Scope.notify per recipient
(handlers/flows/alerts.write_alerts_each), in one unit of work likewise.
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bench import market
from bench.support import (
    Budget,
    CollectorPauses,
    Latencies,
    MemoryPeak,
    Row,
    WallClock,
    add_database_options,
    conditions,
    migrated_database,
    print_table,
)
from domain import taxonomy
from domain.config import MarketConfig
from domain.events import JobPublished
from domain.usecases import jobs
from handlers.flows.alerts import write_alerts_each
from handlers.unit import UnitRunner
from storage.database import Database
from storage.outbox_store import OutboxStore
from storage.search import SqlJobSearch
from storage.skill_index import ANY, subscription_keys
from storage.tables import (
    outbox,
    outbox_payloads,
    subscription_categories,
    subscription_skills,
    users,
)
from storage.tables import subscriptions as subs

FIRST = 6_000_000
CLIENTS = range(5_000_000, 5_000_050)
BATCH = 5_000
# What freelancers ask as the least a job pays (minor units; 0: anything).
MIN_BUDGETS = [0, 10_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000]


async def seed(db: Database, count: int, rng: random.Random) -> None:
    now = WallClock().now()
    await market.add_users(db, WallClock(), CLIENTS, client=True)
    cats = list(taxonomy.CATEGORIES)
    for first in range(FIRST, FIRST + count, BATCH):
        people, rows, skill_rows, cat_rows, key_rows = [], [], [], [], []
        for n in range(first, min(first + BATCH, FIRST + count)):
            category = rng.choice(cats)
            named_cat = [category.slug] if rng.random() < 0.9 else []
            pool = [s.slug for s in category.skills]
            named = (
                rng.sample(pool, min(len(pool), rng.randint(1, 3))) if rng.random() < 0.85 else []
            )
            people.append(
                {"id": n, "name": f"f{n}", "is_freelancer": True, "created_at": now,
                 "language": "en"}
            )  # fmt: skip
            rows.append(
                {"id": n, "user_id": n, "categories": named_cat, "skills": named, "keywords": [],
                 "min_budget": rng.choice(MIN_BUDGETS), "mode": rng.choice(["instant", "daily"]),
                 "paused": rng.random() < 0.05, "created_at": now}
            )  # fmt: skip
            skill_rows += [{"subscription_id": n, "skill": s} for s in named or [ANY]]
            cat_rows += [{"subscription_id": n, "category": c} for c in named_cat or [ANY]]
            sub = rows[-1]
            if not sub["paused"]:  # as storage/skill_index.key_rows writes them
                key_rows += [
                    {"subscription_id": n, "category": c, "skill": s, "mode": sub["mode"],
                     "min_budget": sub["min_budget"], "user_id": n, "keywords": False}
                    for c in named_cat or [ANY] for s in named or [ANY]
                ]  # fmt: skip
        async with db.uow() as uow:
            await uow.session.execute(sa.insert(users), people)
            await uow.session.execute(sa.insert(subs), rows)
            await uow.session.execute(sa.insert(subscription_skills), skill_rows)
            await uow.session.execute(sa.insert(subscription_categories), cat_rows)
            await uow.session.execute(sa.insert(subscription_keys), key_rows)
            await uow.commit()
    async with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            # The steady state autovacuum reaches soon after a bulk load: the
            # visibility map set, so subscription_keys is read index-only.
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text("VACUUM ANALYZE"))
        else:
            await conn.execute(sa.text("ANALYZE"))
            await conn.commit()


async def drain(db: Database) -> None:
    """--drain (not timed): the queue delivered, as the sender would have done by the
    next publish — every fan-out expanded into rows (the sender's chunks, each its own
    transaction), every pending row marked sent (it became a message), and the shared
    payloads they named deleted."""
    store = OutboxStore(db)
    while await store.expand(force=True):
        pass
    async with db.uow() as uow:
        await uow.session.execute(
            sa.update(outbox)
            .where(outbox.c.status == "pending")
            .values(status="sent", sent_at=WallClock().now(), message_id=outbox.c.id)
        )
        await uow.session.execute(sa.delete(outbox_payloads))
        await uow.commit()


class Pauses(CollectorPauses):
    """Where a publish's tail may come from, measured per publish: the time in its
    COMMIT (on SQLite, a WAL checkpoint runs inside the commit that takes the WAL past
    1,000 pages), and the garbage collector's pauses inside it (a full, generation-2
    collection walks every object the process holds)."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        self.commit = Latencies()
        self.timing = False

    def uow(self) -> object:
        """Database.uow, its COMMIT timed."""
        uow = self.db.uow()
        original = uow.commit

        async def commit() -> None:
            began = time.perf_counter()
            await original()
            if self.timing:
                self.commit.add(time.perf_counter() - began)

        uow.commit = commit  # type: ignore[method-assign]
        return uow


async def newest_row(db: Database) -> int:
    """The newest outbox row's id (not timed): rows a publish wrote, by difference."""
    async with db.engine.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.coalesce(sa.func.max(outbox.c.id), 0))))


async def measure(backend: str, server: str | None, args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(args.seed)
    clock, config = WallClock(), MarketConfig()
    with tempfile.TemporaryDirectory() as tmp:
        async with migrated_database(backend, server, Path(tmp)) as url:
            db = Database(url)
            try:
                began = time.perf_counter()
                await seed(db, args.subscriptions, rng)
                seeded = time.perf_counter() - began
                pauses = Pauses(db)
                runner = UnitRunner(pauses.uow, clock, config)  # type: ignore[arg-type]
                latencies, alerts, done, written = Latencies(), 0, 0, 0
                matching, per_row, turn = Latencies(), Latencies(), 0
                budget = Budget(args.time_limit)
                warm = 1  # the first publish loads the flows and warms the caches: not counted
                with MemoryPeak(args.trace_memory) as memory, pauses:
                    while warm > 0 or not budget.over():
                        # With the baseline, every other job writes every outbox row at
                        # publish time, as with migration 0025 (no fan-out record).
                        turn += 1
                        every_row = args.baseline and warm == 0 and turn % 2 == 0
                        SqlJobSearch.fan_out = not every_row
                        text = market.job_text(rng)
                        client = rng.choice(CLIENTS)
                        fields = jobs.JobFields(
                            title=text.title, description=text.description,
                            category=text.category, skills=text.skills,
                            budget_type=text.budget_type, budget=text.budget,
                        )  # fmt: skip
                        async with db.uow() as uow:  # the draft (not timed)
                            draft = await jobs.post_job(uow, clock, config, client, fields)
                            await uow.commit()
                        assert draft.id is not None
                        last_row = await newest_row(db)
                        start = time.perf_counter()

                        async def publish(
                            unit, job_id: int = draft.id, client: int = client
                        ) -> int:
                            await jobs.publish_job(unit.uow, clock, client, job_id)
                            return sum(
                                len(e.user_ids)
                                for e in unit.uow.events
                                if type(e).__name__ == "JobAlert"
                            )

                        pauses.timing = not every_row and warm == 0
                        try:
                            sent = await runner.run(publish, "publish")
                        finally:
                            SqlJobSearch.fan_out = True
                            pauses.timing = False
                        if every_row:
                            per_row.add(time.perf_counter() - start)
                            if args.drain:
                                await drain(db)
                            continue
                        if warm > 0:
                            warm -= 1
                            if args.gc_freeze and warm == 0:
                                # What a process would do once started: what it holds so
                                # far is left out of every later collection.
                                gc.collect()
                                gc.freeze()
                            continue
                        latencies.add(time.perf_counter() - start)
                        alerts += sent
                        written += await newest_row(db) - last_row
                        done += 1
                        # The matching alone, again on the committed job: candidates
                        # through the lookup tables and domain.matching (no rendering).
                        began = time.perf_counter()
                        async with db.read_uow() as uow:
                            job = await uow.jobs.get(draft.id)
                            await jobs.interested_users(uow, job, "instant")
                        matching.add(time.perf_counter() - began)
                        if args.drain:
                            await drain(db)
                async with db.uow() as uow:
                    shared = await uow.session.scalar(
                        sa.select(sa.func.count()).select_from(outbox_payloads)
                    )
                before = Latencies()
                before_alerts = 0
                for _ in range(args.baseline_jobs if args.baseline else 0):
                    text = market.job_text(rng)
                    client = rng.choice(CLIENTS)
                    fields = jobs.JobFields(
                        title=text.title, description=text.description,
                        category=text.category, skills=text.skills,
                        budget_type=text.budget_type, budget=text.budget,
                    )  # fmt: skip
                    async with db.uow() as uow:
                        draft = await jobs.post_job(uow, clock, config, client, fields)
                        await uow.commit()
                    start = time.perf_counter()

                    async def publish_each(
                        unit, job_id: int = draft.id, client: int = client
                    ) -> int:
                        # publish_job's change, with the fan-out as it ran before.
                        job = await unit.uow.jobs.get_for_update(job_id)
                        job.apply("publish")
                        job.published_at = job.active_at = clock.now()
                        unit.uow.emit(JobPublished(job_id=job.id, client_id=client))
                        users = await jobs.interested_users_each(unit.uow, job, "instant")
                        await write_alerts_each(unit.scope, job, users)
                        return len(users)

                    before_alerts += await runner.run(publish_each, "publish (before)")
                    before.add(time.perf_counter() - start)
            finally:
                await db.dispose()
                if args.gc_freeze:
                    gc.unfreeze()
    return {
        "seed": seeded,
        "published": done,
        **latencies.figures(),
        **matching.figures("m_"),
        "alerts": alerts / done if done else 0.0,
        **before.figures("b_"),
        **per_row.figures("r_"),
        "b_alerts": before_alerts / len(before.seconds) if before.seconds else float("nan"),
        "rows": written / done if done else 0.0,
        "shared": (shared or 0) / (done + 1),  # the warm-up publish's included
        "memory": memory.megabytes,
        **pauses.commit.figures("c_"),
        "gc_ms": pauses.total * 1000 / done if done else 0.0,
        "gc_max": pauses.longest * 1000,
        "gc_full": float(len(pauses.full)),
    }


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--subscriptions", type=int, default=100_000, help="subscriptions (default 100,000)"
    )
    parser.add_argument(
        "--time-limit", type=float, default=5, help="seconds of publishing per database"
    )
    parser.add_argument(
        "--baseline-jobs",
        type=int,
        default=3,
        help="jobs published the way it ran before, for the 'before' rows (default 3)",
    )
    parser.add_argument(
        "--drain",
        action="store_true",
        help="deliver the queue between publishes (not timed): at Telegram's 30 msg/s a "
        "job's ~1,850 alerts take about a minute, so a steady state holds a few jobs' "
        "alerts, not every one ever published (the default, the worst case)",
    )
    parser.add_argument(
        "--no-baseline", dest="baseline", action="store_false", help="skip the 'before' rows"
    )
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() after the seed and the warm-up publish, as a process would once "
        "started: a full collection then walks only what came later (not the default: "
        "the bot does not do it yet)",
    )
    add_database_options(parser)


QUICK = ["--subscriptions", "10000", "--time-limit", "1.5", "--no-baseline"]


def report(args: argparse.Namespace, results: dict[str, dict[str, float]]) -> int:
    print_table(
        f"alerts: publishing a job against {args.subscriptions:,} subscriptions "
        f"({conditions(args)}; queue {'drained between publishes' if args.drain else 'kept'}"
        f"{'; gc frozen' if args.gc_freeze else ''}); "
        "target p95 ≤ 20 ms",
        results,
        [
            Row("seed", "bulk insert s (not timed)", "{:.1f}"),
            Row("published", "jobs published", "{:,.0f}", ratio=False),
            Row("p50", "  publish p50 ms", "{:.1f}"),
            Row("p95", "  publish p95 ms", "{:.1f}"),
            Row("p99", "  publish p99 ms", "{:.1f}"),
            Row("max", "  publish max ms", "{:.1f}"),
            Row("m_p50", "  matching alone p50 ms", "{:.1f}"),
            Row("m_p95", "  matching alone p95 ms", "{:.1f}"),
            Row("c_p50", "  its COMMIT p50 ms", "{:.1f}"),
            Row("c_p95", "  its COMMIT p95 ms", "{:.1f}"),
            Row("c_max", "  its COMMIT max ms", "{:.1f}"),
            Row("gc_ms", "  GC pauses ms a publish", "{:.2f}"),
            Row("gc_max", "  longest GC pause ms", "{:.1f}"),
            Row("gc_full", "  full (gen 2) collections", "{:.0f}", ratio=False),
            Row("alerts", "  alerts per job", "{:,.1f}", ratio=False),
            Row("rows", "  outbox rows a publish wrote", "{:,.1f}", ratio=False),
            *(
                []
                if args.drain
                else [Row("shared", "  shared payloads per job", "{:,.1f}", ratio=False)]
            ),
            *(
                [
                    Row("r_p50", "rows at publish: p50 ms", "{:.1f}"),
                    Row("r_p95", "  p95 ms", "{:.1f}"),
                    Row("b_p50", "before (one by one): p50 ms", "{:.1f}"),
                    Row("b_max", "  max ms", "{:.1f}"),
                    Row("b_alerts", "  alerts per job", "{:,.1f}", ratio=False),
                ]
                if args.baseline
                else []
            ),
            Row("memory", "peak RSS MB", "{:.0f}"),
        ],
    )
    return 0
