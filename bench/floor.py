"""The floor (issue 16, part 3): Gigbot's common updates against a minimal bot on
the same libraries and SQLite settings, one update at a time.

    .venv/bin/python -m bench floor                  # 150 updates of each kind
    .venv/bin/python -m bench floor --updates 400 --rounds 5
    .venv/bin/python -m bench floor --in-process     # both in one process: CPU per update
    .venv/bin/python -m bench floor --against /tmp/before   # and Gigbot as another checkout has it

The minimal bot: aiogram's Dispatcher (Update.model_validate + feed_update) with
one handler per kind that runs one SQLAlchemy async transaction on aiosqlite
(SQLAlchemy's own adapter; WAL, synchronous=NORMAL, BEGIN IMMEDIATE, as
storage/database.py sets SQLite up): upsert the user, store the conversation
state, insert one outbox row. Nothing else — it reads nothing, renders nothing;
it is what any bot that keeps its state and replies durably must at least do.

Gigbot: the same update JSON through the aiogram adapter (bot/adapters: the same
Update.model_validate, then to_event) into handlers.engine.Engine.handle, wired
as the bot runs (read-only routes on the reader, or on a free writer when their
reads are quick; not strict). Seeded (not timed):
300 open jobs, a freelancer and a client (the client in the post-a-job wizard).

Each side runs in a process of its own (so each one's memory is its own), set up
once; the parent hands them the same batches in turn — each kind's updates split
into --rounds batches, floor and Gigbot alternating, one process idle while the
other runs — so a machine whose load drifts (others' work) weighs on both alike.

Kinds: /menu, /help, a button on a card (a result's "show job"), a wizard text
step (the job title; the step is put back between updates, not timed), a search
(/jobs python). Printed per kind: updates/s of each, Gigbot / floor (≥ 1.0× is
the target), the SQL statements an update costs in each (each transaction's
BEGIN and every other cursor execution; COMMIT and ROLLBACK are driver calls, not
counted), and each
process's peak RSS while it ran that kind's batches.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiogram import Bot, Dispatcher
from aiogram.types import CallbackQuery, Message, Update
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.support import PROJECT, MemoryPeak, machine

TOKEN = "123456789:AAfloor-bench_1"
FRED, CARLA = 7_000_001, 7_000_002
KINDS = ("/menu", "/help", "card button", "wizard text step", "search /jobs python")

FLOOR_SCHEMA = [
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, username TEXT, "
    "language TEXT, last_active_at TEXT)",
    "CREATE TABLE conversations (user_id INTEGER PRIMARY KEY, flow TEXT, step TEXT, data TEXT)",
    "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id INTEGER, "
    "payload TEXT, created_at TEXT)",
]


class Statements:
    """SQL statements executed on the engines it watches: each transaction's BEGIN
    (counted when the transaction begins: Gigbot's runs in the same thread call as
    the first statement, storage/sqlite_driver.py) and every other cursor execution."""

    def __init__(self, *engines: AsyncEngine | None) -> None:
        self.count = 0
        for engine in engines:
            if engine is not None:
                event.listen(engine.sync_engine, "begin", self._began)
                event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _began(self, *_: Any) -> None:
        self.count += 1

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):
            self.count += 1


def message(update_id: int, user: int, text: str) -> dict[str, Any]:
    entities = (
        [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if text.startswith("/")
        else []
    )
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": user, "type": "private"},
            "from": {"id": user, "is_bot": False, "first_name": "User", "language_code": "en"},
            "text": text,
            "entities": entities,
        },
    }


def press(update_id: int, user: int, data: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": {"id": user, "is_bot": False, "first_name": "User", "language_code": "en"},
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": user, "type": "private"},
                "text": "results",
            },
        },
    }


def floor_bot(engine: AsyncEngine) -> Dispatcher:
    """The minimal bot: one transaction per update, three writes."""
    dp = Dispatcher()

    async def store(user_id: int, name: str, language: str | None, text: str) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO users (id, name, username, language, last_active_at) "
                    "VALUES (:id, :name, NULL, :lang, datetime('now')) ON CONFLICT(id) DO UPDATE "
                    "SET name = excluded.name, last_active_at = excluded.last_active_at"
                ),
                {"id": user_id, "name": name, "lang": language},
            )
            await conn.execute(
                sa.text(
                    "INSERT INTO conversations (user_id, flow, step, data) "
                    "VALUES (:id, 'f', 's', :data) ON CONFLICT(user_id) DO UPDATE "
                    "SET data = excluded.data"
                ),
                {"id": user_id, "data": text[:100]},
            )
            await conn.execute(
                sa.text(
                    "INSERT INTO outbox (chat_id, payload, created_at) "
                    "VALUES (:id, :payload, datetime('now'))"
                ),
                {"id": user_id, "payload": '{"text": "ok"}'},
            )

    @dp.message()
    async def on_message(msg: Message) -> None:
        assert msg.from_user is not None
        user = msg.from_user
        await store(user.id, user.first_name, user.language_code, msg.text or "")

    @dp.callback_query()
    async def on_press(query: CallbackQuery) -> None:
        user = query.from_user
        await store(user.id, user.first_name, user.language_code, query.data or "")

    return dp


def floor_engine(path: Path) -> AsyncEngine:
    """SQLAlchemy async on SQLAlchemy's stock aiosqlite adapter, with Gigbot's SQLite
    settings (storage/database.py: WAL, busy timeout, synchronous=NORMAL, BEGIN
    IMMEDIATE). Written out here so the floor's process loads nothing of Gigbot."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


# --- one side, in a process of its own ------------------------------------------------


class Side:
    """A bot fed updates: `handle(payload)` → seconds the update took."""

    stmts: Statements

    async def handle(self, kind: str, payload: dict[str, Any]) -> float:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class FloorSide(Side):
    async def open(self, folder: Path) -> FloorSide:
        self.engine = floor_engine(folder / "floor.db")
        async with self.engine.begin() as conn:
            for ddl in FLOOR_SCHEMA:
                await conn.execute(sa.text(ddl))
        self.bot = Bot(TOKEN)
        self.dp = floor_bot(self.engine)
        self.stmts = Statements(self.engine)
        for payload in [message(1, FRED, "/menu"), press(2, FRED, "br:show_job:1")]:  # warm up
            await self.handle("", payload)
        return self

    async def handle(self, kind: str, payload: dict[str, Any]) -> float:
        began = time.perf_counter()
        update = Update.model_validate(payload, context={"bot": self.bot})
        await self.dp.feed_update(self.bot, update)
        return time.perf_counter() - began

    async def close(self) -> None:
        await self.bot.session.close()
        await self.engine.dispose()


class GigbotSide(Side):
    async def open(self, folder: Path) -> GigbotSide:
        from bench import market
        from bench.support import WallClock, migrated_database
        from bot.adapters.events import to_event
        from domain.config import MarketConfig
        from handlers.engine import Engine
        from storage.database import Database

        self._database = migrated_database("sqlite", None, folder)
        url = await self._database.__aenter__()
        self.db = db = Database(url)
        clock, config = WallClock(), MarketConfig()
        await market.add_users(db, clock, range(CARLA, CARLA + 1), client=True)
        await market.add_users(db, clock, range(FRED, FRED + 1), freelancer=True)
        self.job_ids = await market.publish_jobs(db, clock, config, [CARLA], 300, random.Random(1))
        self.engine = Engine(
            db.uow,
            clock,
            config,
            reader_factory=db.read_uow if db.splits_reads else None,
            writer_idle=db.writer_idle if db.splits_reads else None,
        )
        self.bot = Bot(TOKEN)
        self.to_event = to_event
        self.stmts = Statements(db.engine, db.reader_engine)
        # Warm up and put the client in the wizard (not timed).
        await self.handle("", message(1, FRED, "/menu"))
        await self.handle("", message(2, CARLA, "/post"))
        return self

    async def handle(self, kind: str, payload: dict[str, Any]) -> float:
        if kind == "card button":
            payload["callback_query"]["data"] = f"br:show_job:{self.job_ids[0]}"
        if kind == "wizard text step":
            counted = self.stmts.count
            await _back_to_title(self.db)
            self.stmts.count = counted  # the reset is not the update's
        began = time.perf_counter()
        update = Update.model_validate(payload, context={"bot": self.bot})
        await self.engine.handle(self.to_event(update, "gigbot"))
        return time.perf_counter() - began

    async def close(self) -> None:
        await self.bot.session.close()
        await self.db.dispose()
        await self._database.__aexit__(None, None, None)


async def serve(side_name: str, folder: Path) -> None:
    """The child: set up, then run the batches the parent asks for (JSON lines)."""
    side = await (FloorSide() if side_name == "floor" else GigbotSide()).open(folder)
    ids = iter(range(1_000, 100_000_000))
    loop = asyncio.get_running_loop()
    print(json.dumps({"ready": True}), flush=True)
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            ask = json.loads(line)
            kind, count = ask["kind"], ask["count"]
            payloads = [UPDATES[kind](next(ids)) for _ in range(count)]
            side.stmts.count = 0
            with MemoryPeak(trace=False) as memory:
                took = sum([await side.handle(kind, payload) for payload in payloads])
            reply = {"seconds": took, "statements": side.stmts.count, "rss": memory.peak}
            print(json.dumps(reply), flush=True)
    finally:
        await side.close()


class Child:
    def __init__(self, side: str, folder: Path, tree: Path = PROJECT) -> None:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.floor", "--serve", side, "--folder", str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=tree,
            env=env,
        )
        assert json.loads(self._line())["ready"]

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the bench process exited ({self.process.wait()})")
        return line

    def run(self, kind: str, count: int) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"kind": kind, "count": count}) + "\n")
        self.process.stdin.flush()
        reply: dict[str, Any] = json.loads(self._line())
        return reply

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


async def _back_to_title(db: Any) -> None:
    """Put the client back at the wizard's title step (between updates, not timed)."""
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.text("UPDATE conversation_states SET step = 'title' WHERE user_id = :id"),
            {"id": CARLA},
        )


UPDATES: dict[str, Callable[[int], dict[str, Any]]] = {
    "/menu": lambda n: message(n, FRED, "/menu"),
    "/help": lambda n: message(n, FRED, "/help"),
    "card button": lambda n: press(n, FRED, "br:show_job:1"),
    "wizard text step": lambda n: message(n, CARLA, f"A logo for a bakery no. {n}"),
    "search /jobs python": lambda n: message(n, FRED, "/jobs python"),
}


def run(args: argparse.Namespace) -> int:
    rounds = max(1, min(args.rounds, args.updates))
    sides = ["floor", "gigbot"] + (["before"] if args.against else [])
    figures: dict[str, dict[str, dict[str, float]]] = {
        side: {kind: {"seconds": 0.0, "statements": 0, "rss": 0} for kind in KINDS}
        for side in sides
    }
    with tempfile.TemporaryDirectory() as tmp:
        for side in sides:
            (Path(tmp) / side).mkdir()
        children = {
            "floor": Child("floor", Path(tmp) / "floor"),
            "gigbot": Child("gigbot", Path(tmp) / "gigbot"),
        }
        if args.against:
            children["before"] = Child("gigbot", Path(tmp) / "before", args.against.resolve())
        try:
            for kind in KINDS:
                for k in range(rounds):
                    count = args.updates // rounds + (k < args.updates % rounds)
                    # Each side first in turn, so a drifting load weighs on all alike.
                    for side in sides[k % len(sides) :] + sides[: k % len(sides)]:
                        got = children[side].run(kind, count)
                        mine = figures[side][kind]
                        mine["seconds"] += got["seconds"]
                        mine["statements"] += got["statements"]
                        mine["rss"] = max(mine["rss"], got["rss"])
        finally:
            for child in children.values():
                child.close()
    wizard_note = "the wizard step's reset between updates is not counted"
    print(
        f"\nfloor: {args.updates} updates of each kind, one at a time, in {rounds} alternating "
        f"batches, SQLite ({machine()})"
    )
    before_head = f"{'before/s':>10}{'vs before':>11}" if args.against else ""
    print(
        f"  {'':<22}{'gigbot/s':>10}{'floor/s':>10}{'ratio':>8}{'gigbot SQL':>12}"
        f"{'floor SQL':>11}{'gigbot MB':>11}{'floor MB':>10}{before_head}"
    )
    for kind in KINDS:
        g, f = figures["gigbot"][kind], figures["floor"][kind]
        g_rate, f_rate = args.updates / g["seconds"], args.updates / f["seconds"]
        before = ""
        if args.against:
            b_rate = args.updates / figures["before"][kind]["seconds"]
            before = f"{b_rate:>10.0f}{g_rate / b_rate:>10.2f}×"
        print(
            f"  {kind:<22}{g_rate:>10.0f}{f_rate:>10.0f}{g_rate / f_rate:>7.2f}×"
            f"{g['statements'] / args.updates:>12.1f}{f['statements'] / args.updates:>11.1f}"
            f"{g['rss'] / 1e6:>11.0f}{f['rss'] / 1e6:>10.0f}{before}"
        )
    print(
        "  ratio = Gigbot's rate / the floor's (target ≥ 1.00×); SQL per update "
        f"({wizard_note}); MB = each process's peak RSS while it ran that kind"
    )
    if args.against:
        print(f"  before = Gigbot as checked out at {args.against}; vs before = this rate / that")
    return 0


async def run_in_process(args: argparse.Namespace) -> int:
    """--in-process: both sides in this process, fed alternately; wall and CPU time
    (process time: every thread, aiosqlite's included) per update. The scheduler
    then treats both alike, so this shows what each computes; the default mode's
    separate processes are how each would run."""
    rounds = max(1, min(args.rounds, args.updates))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "floor").mkdir()
        (Path(tmp) / "gigbot").mkdir()
        sides: dict[str, Side] = {
            "floor": await FloorSide().open(Path(tmp) / "floor"),
            "gigbot": await GigbotSide().open(Path(tmp) / "gigbot"),
        }
        ids = iter(range(1_000, 100_000_000))
        wall = {(side, kind): 0.0 for side in sides for kind in KINDS}
        cpu = dict(wall)
        try:
            for kind in KINDS:
                for k in range(rounds):
                    count = args.updates // rounds + (k < args.updates % rounds)
                    for name in ("floor", "gigbot") if k % 2 == 0 else ("gigbot", "floor"):
                        payloads = [UPDATES[kind](next(ids)) for _ in range(count)]
                        began = time.process_time()
                        wall[name, kind] += sum(
                            [await sides[name].handle(kind, p) for p in payloads]
                        )
                        cpu[name, kind] += time.process_time() - began
        finally:
            for side in sides.values():
                await side.close()
    print(f"\nfloor, in one process: {args.updates} updates of each kind ({machine()})")
    print(
        f"  {'':<22}{'gigbot µs':>10}{'floor µs':>10}{'ratio':>8}{'gigbot CPU':>12}{'floor CPU':>11}"
    )
    for kind in KINDS:
        g, f = wall["gigbot", kind] / args.updates, wall["floor", kind] / args.updates
        gc, fc = cpu["gigbot", kind] / args.updates, cpu["floor", kind] / args.updates
        print(
            f"  {kind:<22}{1e6 * g:>10.0f}{1e6 * f:>10.0f}{f / g:>7.2f}×{1e6 * gc:>12.0f}{1e6 * fc:>11.0f}"
        )
    print(
        "  µs per update (wall, then CPU of every thread); ratio = floor's time / Gigbot's; "
        "Gigbot's wizard CPU includes the untimed step reset"
    )
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench floor", description=__doc__)
    parser.add_argument("--updates", type=int, default=150, help="updates of each kind")
    parser.add_argument(
        "--rounds", type=int, default=5, help="batches each kind is split into (alternating)"
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="both sides in one process: wall and CPU time per update (what each computes)",
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="CHECKOUT",
        help="also run Gigbot from another checkout (`git worktree add /tmp/before "
        "COMMIT`) in a third process, in the same alternation: its rate and this one's "
        "against it",
    )
    parser.add_argument("--serve", choices=["floor", "gigbot"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve(args.serve, args.folder))
        return 0
    if args.in_process:
        return asyncio.run(run_in_process(args))
    return run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
