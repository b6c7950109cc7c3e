"""Shared fixtures: real databases (SQLite always, PostgreSQL when
GIGBOT_TEST_POSTGRES_URL is set), each test on a fresh schema built by the
real Alembic migrations.

Migrating is slow next to a test, so it happens once per test session into a
template: a SQLite file that each test copies, and a PostgreSQL template
database that each test clones with CREATE DATABASE … TEMPLATE (its name is
unique per run; it is dropped at the end).
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import make_url

from storage.database import Database
from storage.migrate import upgrade
from tests.clock import ManualClock

POSTGRES_URL = os.environ.get("GIGBOT_TEST_POSTGRES_URL")
NO_POSTGRES = "PostgreSQL tests need GIGBOT_TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1/test)"
RUN_ID = uuid.uuid4().hex[:10]
T = TypeVar("T")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def sqlite_url(path: str | Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def postgres_url(database: str) -> str:
    assert POSTGRES_URL, NO_POSTGRES
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


async def admin_execute(sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE) on the server."""
    import asyncpg

    assert POSTGRES_URL, NO_POSTGRES
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run_in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a loop of its own: session fixtures
    may be set up from inside a test's running event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, once per session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    run_in_thread(upgrade(sqlite_url(path)))
    # The migration engine is disposed: WAL checkpointed, the file alone is the database.
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database migrated to head, once per session; its name."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    name = f"gigbot_tpl_{RUN_ID}"
    run_in_thread(admin_execute(f'CREATE DATABASE "{name}"'))
    try:
        run_in_thread(upgrade(postgres_url(name)))
        yield name
    finally:
        run_in_thread(admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def sqlite_database(template: Path, path: Path, clock: ManualClock) -> Database:
    """A fresh migrated SQLite database at `path`."""
    shutil.copyfile(template, path)
    return Database(sqlite_url(path), now=clock.now)


async def postgres_database(template: str, clock: ManualClock) -> tuple[Database, str]:
    """A fresh migrated PostgreSQL database of its own; drop it by name afterwards."""
    name = f"gigbot_t_{uuid.uuid4().hex[:12]}"
    await admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return Database(postgres_url(name), now=clock.now), name


@pytest.fixture
async def db(sqlite_template: Path, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Database]:
    """SQLite, always available."""
    database = sqlite_database(sqlite_template, tmp_path / "gigbot.db", clock)
    yield database
    await database.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def any_db(request, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Database]:
    """The same test on SQLite and on PostgreSQL (skipped with a reason without it)."""
    if request.param == "sqlite":
        database = sqlite_database(
            request.getfixturevalue("sqlite_template"), tmp_path / "gigbot.db", clock
        )
        yield database
        await database.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    database, name = await postgres_database(request.getfixturevalue("postgres_template"), clock)
    try:
        yield database
    finally:
        await database.dispose()
        await admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """A buffer for bot.logging.setup_logging(stream=…); the root logger, the secret
    filter and structlog are restored afterwards."""
    import logging

    import structlog

    from bot.logging import SECRETS

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield io.StringIO()
    root.handlers[:] = handlers
    root.setLevel(level)
    SECRETS.set_secrets(())
    structlog.reset_defaults()
