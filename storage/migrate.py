"""Bring a database schema to the newest Alembic revision (`gigbot migrate`).

    await upgrade("sqlite+aiosqlite:///gigbot.db")   # from async code
    upgrade_sync()                                    # from the CLI; URL from GIGBOT_DATABASE_URL

Both are idempotent: at head already, nothing happens. The whole upgrade runs
in one transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: transactional DDL
under an advisory lock), so two processes migrating at once queue up and the
second finds nothing to do. Production never uses metadata.create_all.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, pool
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.database import create_engine

DEFAULT_URL = "sqlite+aiosqlite:///gigbot.db"
MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant; serialises concurrent `gigbot migrate` runs on PostgreSQL.
PG_MIGRATION_LOCK = 0x6769_6762_6F74

# Full-text machinery created by the migrations but absent from storage.tables
# (it is dialect-specific): autogenerate and the models-vs-migrations test skip it.
FTS_TABLE_PREFIXES = (
    "jobs_fts",
    "talent_fts",
    "service_fts",
)  # SQLite FTS5 tables and their shadows
PG_SEARCH_COLUMN = "search_vector"  # generated tsvector column on jobs, profiles, services
PG_SEARCH_INDEXES = (
    "ix_jobs_search_vector",
    "ix_freelancer_profiles_search_vector",
    "ix_service_index_search_vector",
)


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("GIGBOT_DATABASE_URL") or DEFAULT_URL


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic filter: leave the full-text objects (not in the models) alone."""
    if type_ == "table" and name and name.startswith(FTS_TABLE_PREFIXES):
        return False
    if type_ == "column" and name == PG_SEARCH_COLUMN:
        return False
    return not (type_ == "index" and name in PG_SEARCH_INDEXES)


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def migration_engine(url: str) -> AsyncEngine:
    """An engine for migrating: like the application's, but on SQLite with
    foreign keys off, because batch migrations copy and drop tables (dropping
    would cascade-delete child rows) — the upgrade checks the keys at the end."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_async_engine(url, poolclass=pool.NullPool)
    engine = create_engine(url, poolclass=pool.NullPool)  # WAL, busy timeout, BEGIN IMMEDIATE
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.cursor().execute("PRAGMA foreign_keys=OFF")

    return engine


def _upgrade(connection: Connection, config: Config, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
    else:
        # The BEGIN IMMEDIATE runs with the first statement (storage/sqlite_driver.py):
        # take the lock before alembic's code runs, so two upgrades in one process
        # queue here instead of interleaving in alembic's module-level context.
        connection.exec_driver_sql("SELECT 1")
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")


async def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url` (an async SQLAlchemy URL) to `revision`.

    Idempotent; raises (and changes nothing) if a migration fails."""
    engine = migration_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, alembic_config(url), revision)
    finally:
        await engine.dispose()


def upgrade_sync(url: str | None = None) -> str:
    """`gigbot migrate`: upgrade `url` (default: GIGBOT_DATABASE_URL, else
    sqlite+aiosqlite:///gigbot.db) to head. Call it outside a running event
    loop. Returns the revision the database is at afterwards, for printing."""
    target = database_url(url)
    asyncio.run(upgrade(target))
    return asyncio.run(current_revision(target)) or ""


async def current_revision(url: str) -> str | None:
    """The revision the database is at (None: never migrated)."""
    engine = migration_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)
