"""Engine throughput: simulated users play a realistic mix of chat events through
the real handlers.engine.Engine, on SQLite (file, WAL) and on PostgreSQL.

    .venv/bin/python -m bench engine                     # defaults: about 20 s
    .venv/bin/python -m bench engine --users 600 --concurrency 32 --time-limit 60
    .venv/bin/python -m bench engine --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test

Per database: a fresh database built by the migrations, seeded through the use
cases with clients, open jobs and freelancers with instant alerts (not timed).
Then --users people play their script, --concurrency of them at a time, each
person's events strictly in order (as the runtime guarantees):
- clients (1 in 4): /start, pick a role, /menu, the post-a-job wizard from the
  menu button (title, description, category, skills, budget type, amount, no
  deadline, publish — which fans out job alerts), /myjobs;
- freelancers: /start, pick a role, /menu, browse from the menu button, a text
  search, sometimes a filter or the next page, open a job card, the pitch
  wizard (cover letter, price, days, no milestones, send), /pitches.
Buttons are pressed by their callback data, read back from the person's own
outbox rows (one indexed SELECT before each press, as a sender would read them,
and the rows read marked sent, a sent message's id being its row's id, as the
sender records them; both count in the wall time, not in the handling latency).

Figures: events handled per second of wall time, handling latency
(Engine.handle, p50/p95/p99/max), the garbage collector's full collections and
longest pause, peak memory, and the refusals the engine answered (a script that
hits one is broken: the figures say so).

After the warm-up, what is loaded is frozen out of the collector's sight, as the
bot does once started (bot/app.py, freeze_what_is_loaded; --no-gc-freeze leaves
it): otherwise each full collection walks ~100,000 start-up objects, 80-120 ms
with the event loop stopped, and the 16 updates in flight each wait for it — at
two or three a run, that alone was the run's p99.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import logging
import random
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench import market
from bench.support import (
    Budget,
    CollectorPauses,
    ErrorCount,
    Latencies,
    MemoryPeak,
    Row,
    WallClock,
    add_database_options,
    conditions,
    migrated_database,
    print_table,
)
from bot.app import freeze_what_is_loaded
from bot.payments.sandbox import SandboxGateway
from domain.config import MarketConfig
from domain.errors import DomainError
from handlers.engine import Engine
from handlers.events import Event, Outcome
from storage.database import Database
from storage.tables import outbox

SEED_CLIENTS = range(1_000_000, 1_000_040)
SEED_FREELANCERS_FROM = 1_100_000
FIRST_PLAYER = 2_000_000
CLIENT_SHARE = 0.25
COVERS = (
    "I have built a dozen projects like this one, on time and with clear updates.",
    "Hello! I did exactly this for two local businesses last year; happy to show them.",
    "I can start today and deliver a first version within a week for your feedback.",
)


class ScriptBroken(Exception):
    """A button the script expected was not there: a flow changed under the benchmark."""


class CountingEngine(Engine):
    """The real engine; it also counts what it refused (a refusal means the
    script sent something a flow did not accept)."""

    refusals: Counter[str]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.refusals = Counter()

    async def _refuse(self, event: Event, err: DomainError | None) -> Outcome:
        self.refusals[err.code if err else "unexpected"] += 1
        return await super()._refuse(event, err)


@dataclass
class Run:
    engine: CountingEngine
    observer: AsyncEngine  # reads replies back without taking SQLite's write lock
    latencies: Latencies = field(default_factory=Latencies)
    updates: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    events: int = 0
    reads: int = 0
    broken: list[str] = field(default_factory=list)


class Phone:
    """One person's Telegram: sends events through the engine and sees the
    messages the engine queued for their chat (message id = outbox row id)."""

    def __init__(self, run: Run, user_id: int) -> None:
        self.run = run
        self.user_id = user_id
        self.messages: dict[int, list[str]] = {}  # message id → its buttons' data
        self.last_row = 0

    async def _handle(self, kind: str, **kw: object) -> None:
        event = Event(
            kind=kind,  # type: ignore[arg-type]
            user_id=self.user_id,
            chat_id=self.user_id,
            update_id=next(self.run.updates),
            user_name=f"Player {self.user_id}",
            language_code="en",
            **kw,  # type: ignore[arg-type]
        )
        started = time.perf_counter()
        await self.run.engine.handle(event)
        self.run.latencies.add(time.perf_counter() - started)
        self.run.events += 1

    async def send(self, text: str) -> None:
        if text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            await self._handle("command", command=command, args=args, text=text)
        else:
            await self._handle("text", text=text)

    async def refresh(self) -> None:
        query = (
            sa.select(outbox.c.id, outbox.c.method, outbox.c.payload)
            .where(outbox.c.chat_id == self.user_id, outbox.c.id > self.last_row)
            .order_by(outbox.c.id)
        )
        async with self.run.observer.connect() as conn:
            rows = (await conn.execute(query)).all()
        self.run.reads += 1
        if rows:  # delivered, as the sender records it (a wizard's buttons count on its screen)
            sent = [r[0] for r in rows]
            async with self.run.engine.uow_factory() as uow:
                session = uow.session  # type: ignore[attr-defined]
                await session.execute(
                    sa.update(outbox)
                    .where(outbox.c.id.in_(sent))
                    .values(
                        status="sent",
                        message_id=sa.case(
                            (outbox.c.method.in_(("send", "document")), outbox.c.id),
                            else_=outbox.c.message_id,
                        ),
                    )
                )
                await uow.commit()
        for row_id, method, payload in rows:
            self.last_row = row_id
            data = [b["data"] for line in payload.get("buttons") or [] for b in line if "data" in b]
            if method == "edit":
                self.messages[payload["message_id"]] = data
            elif method in ("send", "document"):
                self.messages[row_id] = data

    def find(self, prefix: str) -> tuple[int, list[str]] | None:
        """The newest message with buttons whose data start with `prefix`."""
        for message_id in reversed(self.messages):
            found = [d for d in self.messages[message_id] if d.startswith(prefix)]
            if found:
                return message_id, found
        return None

    async def press(
        self, prefix: str, choose: Callable[[list[str]], str] | None = None, optional: bool = False
    ) -> str | None:
        await self.refresh()
        found = self.find(prefix)
        if found is None:
            if optional:
                return None
            raise ScriptBroken(f"no button {prefix!r} in the chat of user {self.user_id}")
        message_id, candidates = found
        data = choose(candidates) if choose else candidates[0]
        await self._handle(
            "button",
            callback_data=data,
            callback_query_id=str(self.run.events),
            message_id=message_id,
        )
        return data


# --- the scripts -----------------------------------------------------------------------


async def client_script(phone: Phone, rng: random.Random) -> None:
    await phone.send("/start")
    await phone.press("role:pick::" + ("both" if rng.random() < 0.2 else "client"))
    await phone.send("/menu")
    await phone.press("cmd:post")
    job = market.job_text(rng)
    await phone.send(job.title)
    await phone.send(job.description)
    await phone.press(f"pj:category::{job.category}")
    for skill in job.skills:
        await phone.press(f"pj:toggle_skill::{skill}")
    await phone.press("pj:skills_done")
    await phone.press(f"pj:budget_type::{job.budget_type}")
    await phone.send(f"{job.budget // 100}")
    await phone.press("pj:no_deadline")
    await phone.press("pj:publish")
    await phone.send("/myjobs")


async def freelancer_script(phone: Phone, rng: random.Random) -> None:
    await phone.send("/start")
    await phone.press("role:pick::freelancer")
    await phone.send("/menu")
    await phone.press("cmd:jobs")
    await phone.send(rng.choice(market.QUERIES))
    if rng.random() < 0.3:
        await phone.press("br:budget_type::", rng.choice)
    if rng.random() < 0.3:
        await phone.press("br:page::2", optional=True)
    await phone.refresh()
    if phone.find("br:show_job:") is None:  # nothing matched: back to all open jobs
        await phone.press("br:reset")
    await phone.press("br:show_job:", rng.choice)
    await phone.press("pitch:start:")
    await phone.send(rng.choice(COVERS))
    await phone.send(str(rng.randrange(20, 900)))
    await phone.send(str(rng.randrange(2, 30)))
    await phone.press("pitch:skip_milestones", optional=True)  # hourly jobs have no milestones
    await phone.press("pitch:send")
    await phone.send("/pitches")


Script = Callable[[Phone, random.Random], Awaitable[None]]


def cast(users: int, seed: int) -> list[tuple[int, Script]]:
    """Who plays what, in the order they arrive: the same for every database."""
    rng = random.Random(seed)
    return [
        (FIRST_PLAYER + i, client_script if rng.random() < CLIENT_SHARE else freelancer_script)
        for i in range(users)
    ]


async def play(run: Run, user_id: int, script: Script, seed: int) -> None:
    try:
        await script(Phone(run, user_id), random.Random(seed * 1_000_003 + user_id))
    except ScriptBroken as broken:
        run.broken.append(str(broken))


# --- one database ----------------------------------------------------------------------


async def seed_market(db: Database, config: MarketConfig, args: argparse.Namespace) -> None:
    clock = WallClock()
    rng = random.Random(args.seed)
    freelancers = range(SEED_FREELANCERS_FROM, SEED_FREELANCERS_FROM + args.subscribers)
    await market.add_users(db, clock, SEED_CLIENTS, client=True)
    await market.add_users(db, clock, freelancers, freelancer=True)
    await market.subscribe(db, clock, list(freelancers), rng)
    await market.publish_jobs(db, clock, config, list(SEED_CLIENTS), args.jobs, rng)


async def measure(backend: str, server: str | None, args: argparse.Namespace) -> dict[str, float]:
    config = MarketConfig(weekly_pitch_quota=1000)
    errors = ErrorCount()
    logging.getLogger("handlers.engine").addHandler(errors)
    with tempfile.TemporaryDirectory() as tmp:
        async with migrated_database(backend, server, Path(tmp)) as url:
            db = Database(url)
            observer = create_async_engine(url)
            try:
                seeding = time.perf_counter()
                await seed_market(db, config, args)
                seeded = time.perf_counter() - seeding
                gateway = SandboxGateway("http://127.0.0.1:8080", "bench-secret")
                engine = CountingEngine(
                    db.uow,
                    WallClock(),
                    config,
                    gateway,
                    # Wired as the bot runs (bot/app.py): read-only routes read first.
                    reader_factory=db.read_uow if db.splits_reads else None,
                    writer_idle=db.writer_idle if db.splits_reads else None,
                )
                warm = Run(engine, observer)
                await play(warm, FIRST_PLAYER - 1, freelancer_script, args.seed)  # imports, caches
                await play(warm, FIRST_PLAYER - 2, client_script, args.seed)
                engine.refusals.clear()
                if args.gc_freeze:  # what the bot does once started (bot/app.py)
                    freeze_what_is_loaded()

                run = Run(engine, observer, updates=itertools.count(1_000_000))
                queue = list(reversed(cast(args.users, args.seed)))
                budget = Budget(args.time_limit)
                started_users = 0

                async def worker() -> None:
                    nonlocal started_users
                    while queue and not budget.over():
                        user_id, script = queue.pop()
                        started_users += 1
                        await play(run, user_id, script, args.seed)

                with MemoryPeak(args.trace_memory) as memory, CollectorPauses() as pauses:
                    started = time.perf_counter()
                    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
                    wall = time.perf_counter() - started
            finally:
                gc.unfreeze()  # the next database's run (--in-process) starts alike
                await observer.dispose()
                await db.dispose()
    logging.getLogger("handlers.engine").removeHandler(errors)
    if budget.hit:
        print(
            f"  ({backend}: time limit {args.time_limit:g} s reached after {started_users} users)"
        )
    for problem in run.broken[:3]:
        print(f"  ({backend}: script broken: {problem})")
    if engine.refusals:
        print(f"  ({backend}: refusals by code: {dict(engine.refusals)})")
    if errors.count:
        print(f"  ({backend}: {errors.count} unexpected errors; first: {errors.first})")
    return {
        "seed": seeded,
        "users": started_users,
        "events": run.events,
        "reads": run.reads,
        "wall": wall,
        "rate": run.events / wall if wall else 0.0,
        **run.latencies.figures(),
        "memory": memory.megabytes,
        "gc_full": float(len(pauses.full)),
        "gc_max": pauses.longest * 1000,
        "refused": sum(engine.refusals.values()),
        "broken": len(run.broken),
        "errors": errors.count,
    }


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--users", type=int, default=80, help="people who play (default 80)")
    parser.add_argument("--concurrency", type=int, default=16, help="people at once (default 16)")
    parser.add_argument("--jobs", type=int, default=150, help="open jobs seeded (default 150)")
    parser.add_argument(
        "--subscribers", type=int, default=100, help="freelancers with instant alerts (default 100)"
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=10,
        help="seconds per database after which no new person starts (default 10; 0 = none)",
    )
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="leave what start-up loaded in the collector's sight (the bot freezes it: "
        "bot/app.py, freeze_what_is_loaded); full collections then walk it all",
    )
    add_database_options(parser)


QUICK = ["--users", "30", "--jobs", "60", "--subscribers", "40", "--time-limit", "4"]


def report(args: argparse.Namespace, results: dict[str, dict[str, float]]) -> int:
    """Print the figures side by side; 1 if something went wrong on the way."""
    memory_label = "traced peak MB" if args.trace_memory else "peak RSS MB"
    print_table(
        f"engine: {args.concurrency} at once, {args.jobs} open jobs, "
        f"{args.subscribers} alert subscribers ({conditions(args)})",
        results,
        [
            Row("seed", "seeding s (not timed)", "{:.1f}"),
            Row("users", "people played", "{:,.0f}", ratio=False),
            Row("events", "events handled", "{:,.0f}", ratio=False),
            Row("reads", "reply reads (SELECTs)", "{:,.0f}", ratio=False),
            Row("wall", "wall time s", "{:.2f}"),
            Row("rate", "events/s"),
            Row("p50", "handle p50 ms", "{:.1f}"),
            Row("p95", "handle p95 ms", "{:.1f}"),
            Row("p99", "handle p99 ms", "{:.1f}"),
            Row("max", "handle max ms", "{:.1f}"),
            Row("gc_full", "full GC collections", "{:.0f}", ratio=False),
            Row("gc_max", "longest GC pause ms", "{:.1f}"),
            Row("memory", memory_label, "{:.0f}"),
            Row("broken", "broken scripts (want 0)", "{:,.0f}", ratio=False),
            Row("refused", "refusals (want 0)", "{:,.0f}", ratio=False),
            Row("errors", "unexpected errors (want 0)", "{:,.0f}", ratio=False),
        ],
    )
    bad = any(r["broken"] or r["refused"] or r["errors"] for r in results.values())
    return 1 if bad else 0
