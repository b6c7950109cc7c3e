"""storage/app_secrets.py: one random key per database, the same for every process on it
(SQLite, and PostgreSQL with GIGBOT_TEST_POSTGRES_URL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from storage.app_secrets import get_or_create_secret
from storage.database import Database
from storage.tables import app_secrets
from tests.clock import ManualClock
from tests.conftest import admin_execute, postgres_database, sqlite_database


@pytest.fixture
async def other_db(
    request, any_db: Database, tmp_path, clock: ManualClock
) -> AsyncIterator[Database]:
    """A second, separate database of the same kind as any_db."""
    if any_db.dialect == "sqlite":
        other = sqlite_database(
            request.getfixturevalue("sqlite_template"), tmp_path / "b.db", clock
        )
        yield other
        await other.dispose()
        return
    other, name = await postgres_database(request.getfixturevalue("postgres_template"), clock)
    try:
        yield other
    finally:
        await other.dispose()
        await admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_the_key_is_random_made_once_and_kept(any_db: Database) -> None:
    key = await get_or_create_secret(any_db, "sandbox_page_key")
    assert isinstance(key, bytes) and len(key) == 32
    assert await get_or_create_secret(any_db, "sandbox_page_key") == key
    assert await get_or_create_secret(any_db, "another_key") != key  # names are separate
    async with any_db.uow() as uow:
        stored = await uow.session.scalar(
            sa.select(app_secrets.c.value).where(app_secrets.c.name == "sandbox_page_key")
        )
    assert stored == key.hex()


async def test_processes_starting_at_once_end_with_the_same_key(any_db: Database, clock) -> None:
    # Five engines (five pools, like five processes) on one database, all asking first.
    others = [Database(any_db.url, now=clock.now) for _ in range(4)]
    try:
        keys = await asyncio.gather(
            *(get_or_create_secret(d, "sandbox_page_key") for d in [any_db, *others])
        )
    finally:
        for d in others:
            await d.dispose()
    assert len(set(keys)) == 1
    async with any_db.uow() as uow:
        count = await uow.session.scalar(sa.select(sa.func.count()).select_from(app_secrets))
    assert count == 1


async def test_two_databases_get_different_keys(any_db: Database, other_db: Database) -> None:
    first = await get_or_create_secret(any_db, "sandbox_page_key")
    second = await get_or_create_secret(other_db, "sandbox_page_key")
    assert first != second
