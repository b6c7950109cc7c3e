"""Benchmarks: `python -m bench [sender|engine|ledger|search|talent|services|alerts|floor|all|quick] [options]`.

    .venv/bin/python -m bench                      # quick: every benchmark, small sizes
    .venv/bin/python -m bench engine --help        # one benchmark, its options
    .venv/bin/python -m bench all                  # every benchmark at its default size

The database benchmarks (engine, ledger, search, talent, services: bench/*_bench.py) compare SQLite with
PostgreSQL side by side when GIGBOT_TEST_POSTGRES_URL or --postgres names a server.
The outbox sender benchmark follows; options given without a subcommand are its options,
as before (`python -m bench --rows 5000 …`).

Outbox sender throughput: enqueue N rows, deliver them to the Bot API emulator, print figures.

    .venv/bin/python -m bench sender               # the default scenarios
    .venv/bin/python -m bench sender --rows 5000 --chats 1000 --rate 0 --framework ptb
    .venv/bin/python -m bench sender --database postgresql+asyncpg://postgres@127.0.0.1:5432/bench

Everything runs on 127.0.0.1: a fresh migrated database (a temporary SQLite file unless
--database names an existing, migrated one whose outbox is emptied first), the emulator
on a free port, and the real framework adapter. Figures: enqueue time, delivery time and
rate, the highest rate in any one-second window as the emulator received it, 429s, and
peak memory (process max RSS; with --trace-memory also the peak of Python allocations
during delivery, traced with tracemalloc, which slows the run down).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import importlib
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from aiohttp import web

from bot.metrics import Metrics
from bot.ratelimit import RateLimiter, SendLimits
from bot.sandbox import Emulator, Limits, create_sandbox_app
from bot.sender import OutboxSender
from bot.telegram_port import TelegramApi
from storage.database import Database
from storage.migrate import upgrade
from storage.tables import outbox

TOKEN = "123456789:AAbench-token_1"
FIRST_USER = 500_000


@dataclass
class Scenario:
    name: str
    rows: int
    chats: int
    rate: float  # global messages a second; 0 = no limit
    per_chat: float  # messages a second to one chat; 0 = no limit
    emulator_limits: bool = False  # let the emulator enforce the same limits (429s)


DEFAULTS = [
    Scenario("unlimited", rows=3000, chats=600, rate=0, per_chat=0),
    Scenario(
        "limited 300/s, 30/s per chat",
        rows=1500,
        chats=150,
        rate=300,
        per_chat=30,
        emulator_limits=True,
    ),
]


@asynccontextmanager
async def emulator(limits: Limits) -> AsyncIterator[tuple[Emulator, str]]:
    emu = Emulator(TOKEN, limits=limits)
    runner = web.AppRunner(create_sandbox_app(emu), shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield emu, f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def telegram_api(framework: str, base: str) -> AsyncIterator[TelegramApi]:
    if framework == "aiogram":
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        from bot.adapters.aiogram_api import AiogramApi

        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
        try:
            yield AiogramApi(bot)
        finally:
            await bot.session.close()
    else:
        import telegram

        from bot.adapters.ptb_api import PtbApi

        async with telegram.Bot(
            TOKEN, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot"
        ) as ptb:
            yield PtbApi(ptb)


async def enqueue(db: Database, scenario: Scenario) -> None:
    batch = [
        {
            "chat_id": FIRST_USER + i % scenario.chats,
            "method": "send",
            "payload": {"text": f"<b>Job alert</b> #{i}: a logo for a bakery", "buttons": None},
            "priority": 2 if i % 5 else 1,
            "status": "pending",
            "attempts": 0,
        }
        for i in range(scenario.rows)
    ]
    async with db.uow() as uow:
        await uow.session.execute(sa.delete(outbox))
        await uow.session.execute(sa.insert(outbox), batch)
        await uow.commit()


def peak_window_rate(times: list[float]) -> int:
    times = sorted(times)
    return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


async def run(scenario: Scenario, framework: str, database: str | None, trace_memory: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        if database is None:
            await upgrade(url)
        db = Database(url)
        limits = SendLimits(
            global_per_second=scenario.rate or None,
            private_per_second=scenario.per_chat or None,
            group_per_minute=None,
        )
        emu_limits = (
            Limits(
                per_chat_per_second=scenario.per_chat or None,
                global_per_second=scenario.rate or None,
            )
            if scenario.emulator_limits
            else Limits()
        )
        try:
            async with emulator(emu_limits) as (emu, base), telegram_api(framework, base) as api:
                for i in range(scenario.chats):
                    emu.add_user(f"user {i}", user_id=FIRST_USER + i)
                    emu.chats[FIRST_USER + i].started = True
                started = time.perf_counter()
                await enqueue(db, scenario)
                enqueued = time.perf_counter() - started

                metrics = Metrics()
                sender = OutboxSender(db, api, RateLimiter(limits), metrics, max_in_flight=64)
                if trace_memory:
                    tracemalloc.start()  # precise, but slows allocation-heavy code down
                started = time.perf_counter()
                delivered = await sender.flush(timeout=600)
                took = time.perf_counter() - started
                peak = tracemalloc.get_traced_memory()[1] if trace_memory else None
                tracemalloc.stop()
        finally:
            await db.dispose()

    sent = [c for c in emu.calls_to("sendMessage") if c.status == 200]
    refused = len(emu.calls_to("sendMessage")) - len(sent)
    limit = f"{scenario.rate:g}/s" if scenario.rate else "none"
    print(f"\n{scenario.name}  [{framework}, {url.split(':', 1)[0]}]")
    print(f"  rows {scenario.rows} to {scenario.chats} chats, global limit {limit}")
    print(f"  enqueue      {enqueued * 1000:8.0f} ms")
    print(f"  deliver      {took:8.2f} s   ({'complete' if delivered else 'TIMED OUT'})")
    print(
        f"  throughput   {len(sent) / took:8.0f} msg/s (peak 1 s window {peak_window_rate([c.received_at for c in sent])})"
    )
    print(f"  delivered    {len(sent):8d}     429s {refused}")
    from bench.support import process_peak_rss

    rss = process_peak_rss() / 1e6
    traced = f"{peak / 1e6:.1f} MB traced peak (tracemalloc), " if peak is not None else ""
    print(f"  memory       {traced}{rss:.0f} MB process max RSS")


def sender_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench sender", description="Outbox sender throughput."
    )
    parser.add_argument(
        "--rows", type=int, help="rows to enqueue (default: the built-in scenarios)"
    )
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--rate", type=float, default=0, help="global messages/s, 0 = unlimited")
    parser.add_argument(
        "--per-chat", type=float, default=0, help="messages/s to one chat, 0 = unlimited"
    )
    parser.add_argument(
        "--emulator-limits", action="store_true", help="the emulator enforces them too"
    )
    parser.add_argument("--framework", choices=["aiogram", "ptb"], default="aiogram")
    parser.add_argument("--trace-memory", action="store_true", help="tracemalloc peak (slower)")
    parser.add_argument("--database", help="a migrated database URL (its outbox is emptied)")
    args = parser.parse_args(argv)
    scenarios = DEFAULTS
    if args.rows:
        scenarios = [
            Scenario(
                "custom", args.rows, args.chats, args.rate, args.per_chat, args.emulator_limits
            )
        ]

    async def all_of_them() -> None:
        for scenario in scenarios:
            await run(scenario, args.framework, args.database, args.trace_memory)

    asyncio.run(all_of_them())
    return 0


# --- the command: one benchmark, all of them, or the quick round ----------------------

DATABASE_BENCHES = {
    "engine": "bench.engine_bench",
    "ledger": "bench.ledger_bench",
    "search": "bench.search_bench",
    "talent": "bench.talent_bench",
    "services": "bench.services_bench",
    "alerts": "bench.alerts_bench",
}
SUMMARY = {
    "sender": "outbox sender → Bot API emulator: msg/s, 429s, memory",
    "engine": "simulated users through handlers.engine.Engine: events/s, latency, memory",
    "ledger": "fund→submit→release cycles: settlements/s; racing releases: refusals",
    "search": "uow.search.search over 20,000 jobs: FTS5 vs tsvector, queries/s, latency",
    "talent": "talent search and invite ranking over 100,000 profiles: p50/p95, both databases",
    "services": "services catalogue search over 100,000 services: p50/p95/p99, both databases",
    "alerts": "publishing a job against 100,000 alert subscriptions: p50/p95, alerts per job",
    "floor": "Gigbot's common updates against a minimal aiogram+SQLAlchemy bot: rate, SQL",
    "fanout": "3,000 alerts under Telegram's limits while 5 people act: Gigbot vs PTB's limiter",
    "sender-memory": "the outbox sender with 100,000 rows queued: claim time, peak RSS, tracemalloc",
}
FLOOR_QUICK = ["--updates", "40"]
SENDER_QUICK = ["--rows", "1000", "--chats", "200"]
FANOUT_QUICK = ["--sends", "300"]
SENDER_MEMORY_QUICK = ["--rows", "20000", "--chats", "10000", "--seconds", "5"]


def usage() -> str:
    lines = [
        "usage: python -m bench [sender|engine|ledger|search|talent|services|alerts|floor|all|quick] [options]",
        "",
        "  (nothing)  quick: every benchmark at small sizes (make bench)",
        "  all        every benchmark at its default size",
        *(f"  {name:<10} {text}" for name, text in SUMMARY.items()),
        "",
        "  python -m bench <name> --help shows a benchmark's options. engine, ledger and",
        "  search compare SQLite with PostgreSQL when GIGBOT_TEST_POSTGRES_URL is set or",
        "  --postgres URL is given (all/quick pass --postgres on). Options without a",
        "  subcommand are the sender's, as before.",
    ]
    return "\n".join(lines)


def database_bench(name: str, argv: list[str]) -> int:
    from bench.support import compare

    return compare(name, importlib.import_module(DATABASE_BENCHES[name]), argv)


def every_bench(quick: bool, argv: list[str]) -> int:
    """The sender, then each database benchmark; `argv` may name --postgres URL."""
    parser = argparse.ArgumentParser(prog="python -m bench " + ("quick" if quick else "all"))
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL server to compare with")
    args = parser.parse_args(argv)
    extra = ["--postgres", args.postgres] if args.postgres else []
    print("== sender ==", flush=True)
    status = sender_main(SENDER_QUICK if quick else [])
    for name in DATABASE_BENCHES:
        print(f"\n== {name} ==", flush=True)
        module = importlib.import_module(DATABASE_BENCHES[name])
        status |= database_bench(name, (module.QUICK if quick else []) + extra)
    print("\n== floor ==", flush=True)
    status |= floor_main(FLOOR_QUICK if quick else [])
    print("\n== fanout ==", flush=True)
    status |= fanout_main(FANOUT_QUICK if quick else [])
    print("\n== sender-memory ==", flush=True)
    status |= sender_memory_main(SENDER_MEMORY_QUICK if quick else [])
    return status


def floor_main(argv: list[str]) -> int:
    from bench.floor import main as floor

    return floor(argv)


def fanout_main(argv: list[str]) -> int:
    from bench.fanout_bench import main as fanout

    return fanout(argv)


def sender_memory_main(argv: list[str]) -> int:
    from bench.fanout_bench import memory_main

    return memory_main(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] == "quick":
        return every_bench(True, argv[1:])
    head, rest = argv[0], argv[1:]
    if head in ("-h", "--help", "help"):
        print(usage())
        return 0
    if head == "all":
        return every_bench(False, rest)
    if head == "sender":
        return sender_main(rest)
    if head == "floor":
        return floor_main(rest)
    if head == "fanout":
        return fanout_main(rest)
    if head == "sender-memory":
        return sender_memory_main(rest)
    if head in DATABASE_BENCHES:
        return database_bench(head, rest)
    if head.startswith("-"):
        return sender_main(argv)  # the sender's options, as before subcommands existed
    print(usage(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
