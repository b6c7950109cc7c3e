"""The floor (issue 16, part 3): Gigbot's common updates against a minimal bot on
the same libraries and SQLite settings, one update at a time.

    .venv/bin/python -m bench floor                  # 150 updates of each kind
    .venv/bin/python -m bench floor --updates 400

The minimal bot: aiogram's Dispatcher (Update.model_validate + feed_update) with
one handler per kind that runs one SQLAlchemy async transaction on aiosqlite
(WAL, synchronous=NORMAL, BEGIN IMMEDIATE, as storage/database.py): upsert the
user, store the conversation state, insert one outbox row. Nothing else — it
reads nothing, renders nothing; it is what any bot that keeps its state and
replies durably must at least do.

Gigbot: the same update JSON through the aiogram adapter (bot/adapters: the same
Update.model_validate, then to_event) into handlers.engine.Engine.handle, wired
as the bot runs (read-only routes on the reader). Seeded (not timed): 300 open
jobs, a freelancer and a client (the client in the post-a-job wizard).

Kinds: /menu, /help, a button on a card (a result's "show job"), a wizard text
step (the job title; the step is put back between updates, not timed), a search
(/jobs python). Printed per kind: updates/s of each, Gigbot / floor (≥ 1.0× is
the target), and the SQL statements an update costs in each (cursor executions,
BEGIN and COMMIT included).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiogram import Bot, Dispatcher
from aiogram.types import CallbackQuery, Message, Update
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import market
from bench.support import WallClock, machine, migrated_database
from bot.adapters.events import to_event
from domain.config import MarketConfig
from handlers.engine import Engine
from storage.database import Database, create_engine

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
    """SQL statements executed on the engines it watches."""

    def __init__(self, *engines: AsyncEngine | None) -> None:
        self.count = 0
        for engine in engines:
            if engine is not None:
                event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
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


async def measure_floor(folder: Path, updates: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    # Gigbot's SQLite settings on SQLAlchemy's own aiosqlite adapter (Gigbot's engines
    # use storage/sqlite_driver.py's one-hop cursor; the floor is the stock stack).
    stock = SQLiteDialect_aiosqlite.import_dbapi()
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'floor.db'}", module=stock)
    async with engine.begin() as conn:
        for ddl in FLOOR_SCHEMA:
            await conn.execute(sa.text(ddl))
    bot = Bot(TOKEN)
    dp = floor_bot(engine)
    stmts = Statements(engine)
    out: dict[str, Any] = {}
    try:
        for payload in [message(1, FRED, "/menu"), press(2, FRED, "br:show_job:1")]:  # warm up
            await dp.feed_update(bot, Update.model_validate(payload, context={"bot": bot}))
        for kind, payloads in updates.items():
            stmts.count = 0
            began = time.perf_counter()
            for payload in payloads:
                update = Update.model_validate(payload, context={"bot": bot})
                await dp.feed_update(bot, update)
            wall = time.perf_counter() - began
            out[kind] = (len(payloads) / wall, stmts.count / len(payloads))
    finally:
        await bot.session.close()
        await engine.dispose()
    return out


async def measure_gigbot(folder: Path, updates: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    async with migrated_database("sqlite", None, folder) as url:
        db = Database(url)
        clock, config = WallClock(), MarketConfig()
        try:
            await market.add_users(db, clock, range(CARLA, CARLA + 1), client=True)
            await market.add_users(db, clock, range(FRED, FRED + 1), freelancer=True)
            job_ids = await market.publish_jobs(db, clock, config, [CARLA], 300, random.Random(1))
            engine = Engine(
                db.uow,
                clock,
                config,
                reader_factory=db.read_uow if db.splits_reads else None,
            )
            bot = Bot(TOKEN)
            stmts = Statements(db.engine, db.reader_engine)

            def parse(payload: dict[str, Any]) -> Any:
                return to_event(Update.model_validate(payload, context={"bot": bot}), "gigbot")

            # Warm up and put the client in the wizard (not timed).
            await engine.handle(parse(message(1, FRED, "/menu")))
            await engine.handle(parse(message(2, CARLA, "/post")))
            out: dict[str, Any] = {}
            for kind, payloads in updates.items():
                stmts.count = 0
                wall = 0.0
                for payload in payloads:
                    if kind == "card button":
                        payload["callback_query"]["data"] = f"br:show_job:{job_ids[0]}"
                    if kind == "wizard text step":
                        counted = stmts.count
                        await _back_to_title(db)
                        stmts.count = counted  # the reset is not the update's
                    began = time.perf_counter()
                    await engine.handle(parse(payload))
                    wall += time.perf_counter() - began
                out[kind] = (len(payloads) / wall, stmts.count / len(payloads))
            await bot.session.close()
        finally:
            await db.dispose()
    return out


async def _back_to_title(db: Database) -> None:
    """Put the client back at the wizard's title step (between updates, not timed)."""
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.text("UPDATE conversation_states SET step = 'title' WHERE user_id = :id"),
            {"id": CARLA},
        )


def script(count: int) -> dict[str, list[dict[str, Any]]]:
    ids = iter(range(1_000, 1_000_000))
    kinds: dict[str, Callable[[int], dict[str, Any]]] = {
        "/menu": lambda n: message(n, FRED, "/menu"),
        "/help": lambda n: message(n, FRED, "/help"),
        "card button": lambda n: press(n, FRED, "br:show_job:1"),
        "wizard text step": lambda n: message(n, CARLA, f"A logo for a bakery no. {n}"),
        "search /jobs python": lambda n: message(n, FRED, "/jobs python"),
    }
    return {kind: [make(next(ids)) for _ in range(count)] for kind, make in kinds.items()}


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        floor = await measure_floor(Path(tmp), script(args.updates))
        gigbot = await measure_gigbot(Path(tmp), script(args.updates))
    wizard_note = "(the wizard step's reset between updates is not counted)"
    print(f"\nfloor: {args.updates} updates of each kind, one at a time, SQLite ({machine()})")
    print(
        f"  {'':<22}{'gigbot/s':>10}{'floor/s':>10}{'ratio':>8}{'gigbot SQL':>12}{'floor SQL':>11}"
    )
    for kind in KINDS:
        g_rate, g_sql = gigbot[kind]
        f_rate, f_sql = floor[kind]
        print(
            f"  {kind:<22}{g_rate:>10.0f}{f_rate:>10.0f}{g_rate / f_rate:>7.2f}×"
            f"{g_sql:>12.1f}{f_sql:>11.1f}"
        )
    print(f"  ratio = Gigbot's rate / the floor's (target ≥ 1.00×); SQL per update {wizard_note}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench floor", description=__doc__)
    parser.add_argument("--updates", type=int, default=150, help="updates of each kind")
    return asyncio.run(run(parser.parse_args(argv)))
