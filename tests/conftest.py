"""Shared fixtures: real databases (SQLite always, PostgreSQL when
GIGBOT_TEST_POSTGRES_URL is set), each test on a fresh, empty schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import make_url

from storage.database import Database
from storage.tables import metadata
from tests.clock import ManualClock

POSTGRES_URL = os.environ.get("GIGBOT_TEST_POSTGRES_URL")
NO_POSTGRES = "PostgreSQL tests need GIGBOT_TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1/test)"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


async def _create_schema(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


async def sqlite_database(path: str, clock: ManualClock) -> Database:
    db = Database(f"sqlite+aiosqlite:///{path}", now=clock.now)
    await _create_schema(db)
    return db


async def _admin_execute(sql: str) -> None:
    import asyncpg

    assert POSTGRES_URL
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def postgres_database(clock: ManualClock) -> tuple[Database, str]:
    """A fresh database of its own per test, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    name = f"gigbot_t_{uuid.uuid4().hex[:12]}"
    await _admin_execute(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    db = Database(url, now=clock.now)
    await _create_schema(db)
    return db, name


@pytest.fixture
async def db(tmp_path, clock: ManualClock) -> AsyncIterator[Database]:
    """SQLite, always available."""
    database = await sqlite_database(str(tmp_path / "gigbot.db"), clock)
    yield database
    await database.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def any_db(request, tmp_path, clock: ManualClock) -> AsyncIterator[Database]:
    """The same test on SQLite and on PostgreSQL (skipped with a reason without it)."""
    if request.param == "sqlite":
        database = await sqlite_database(str(tmp_path / "gigbot.db"), clock)
        yield database
        await database.dispose()
        return
    database, name = await postgres_database(clock)
    yield database
    await database.dispose()
    await _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
