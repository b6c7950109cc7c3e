"""PostgreSQL's planner settings for the searches, in one place (SQLite has no such knobs).

The job, talent and service searches read one index or another depending on how
common a word, a skill or a category is; PostgreSQL plans them well only with:

- `plan_cache_mode = force_custom_plan`: asyncpg prepares each statement once per
  connection, and after five runs PostgreSQL may keep a generic plan, which cannot
  know how common the values are: it took the GIN index for every word, 18 ms instead
  of 2 for "design" at 100k jobs. Every search statement is planned for its values.
- `random_page_cost = 1.1`: the tables are in memory, and at the default 4 an index
  walk is priced as a disk seek each row: the planner walked every job by pk_jobs for
  "python" in design (17-50 ms at 100k, none found) rather than the category's jobs
  (~6 ms), and counted a skill's jobs (up to 1,000) by merging pk_jobs rather than
  probing jobs for the skill's rows: ~10 -> ~2 ms for a skill of ~5,000 jobs (the
  commonest, ~10,000 jobs each, still merge at 1.1: ~7 ms).

How they are applied (SEARCH_SETTINGS):

- Connections opened for reading (`Database.read_uow` on PostgreSQL:
  storage/database.py) carry them from the start (asyncpg `server_settings`), so a
  search there costs no statement for them. Every read there is planned with them:
  random_page_cost changes no plan of a read by primary key or a short index range,
  but each statement is planned for its values every time it runs — ~0.1 ms more for
  the actor's three-table join by primary key (measured: 0.15-0.21 -> 0.26-0.31 ms a
  run), and more for a statement with a large bound array (a reason the alert
  audience binds no list of candidates: storage/search.py). The bot on PostgreSQL reads on
  the writer's connections today (Engine's reader_factory is SQLite's only): only
  what runs on read_uow there (the benchmarks, tests) pays it.
- A search on any other connection (a writing unit of work) sets them for its own
  transaction, in one round trip (`search_settings`).

A statement that needs a plan kind ruled out (the services' walk: planner_off) turns
it off around that statement only, in one round trip each way.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

SEARCH_SETTINGS: dict[str, str] = {
    "plan_cache_mode": "force_custom_plan",
    "random_page_cost": "1.1",
}
# A connection's info key: opened with SEARCH_SETTINGS (search_connect_args).
_HAS_SEARCH_SETTINGS = "search_settings"


@functools.cache
def _set_local(*values: tuple[str, str]) -> Any:
    """One statement that sets these (name, value) settings for the rest of the
    transaction (set_config(…, true) is SET LOCAL), built once."""
    calls = ", ".join(f"set_config('{name}', '{value}', true)" for name, value in values)
    return sa.text(f"SELECT {calls}")


_SEARCH_SETTINGS_LOCAL = _set_local(*SEARCH_SETTINGS.items())


def search_connect_args(engine_kwargs: dict[str, Any]) -> None:
    """Engine options (asyncpg): every connection opened with SEARCH_SETTINGS."""
    connect_args = dict(engine_kwargs.get("connect_args") or {})
    server_settings = dict(connect_args.get("server_settings") or {})
    connect_args["server_settings"] = {**server_settings, **SEARCH_SETTINGS}
    engine_kwargs["connect_args"] = connect_args


def mark_search_connections(engine: AsyncEngine) -> None:
    """Tell search_settings that this engine's connections have SEARCH_SETTINGS
    (search_connect_args), so no statement sets them again."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info[_HAS_SEARCH_SETTINGS] = True


async def search_settings(session: AsyncSession) -> None:
    """Before a search's statements: SEARCH_SETTINGS for this transaction, unless the
    connection was opened with them (then nothing: no round trip). SQLite: nothing."""
    if session.get_bind().dialect.name != "postgresql":
        return
    connection = await session.connection()
    if not connection.info.get(_HAS_SEARCH_SETTINGS):
        await session.execute(_SEARCH_SETTINGS_LOCAL)


@asynccontextmanager
async def planner_off(session: AsyncSession, *kinds: str) -> AsyncIterator[None]:
    """PostgreSQL: these plan kinds ("seqscan", "bitmapscan": enable_seqscan, …) off for
    the statements inside, and on again after (every enable_* is on by default); one
    round trip each way, for this transaction only. SQLite: nothing."""
    if not kinds or session.get_bind().dialect.name != "postgresql":
        yield
        return
    names = [f"enable_{kind}" for kind in kinds]
    await session.execute(_set_local(*((name, "off") for name in names)))
    try:
        yield
    finally:
        await session.execute(_set_local(*((name, "on") for name in names)))
