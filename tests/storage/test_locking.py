"""Concurrency guarantees of the unit of work: SQLite in WAL mode with a busy
timeout and BEGIN IMMEDIATE; PostgreSQL row locks with get_for_update."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
import sqlalchemy as sa

from domain.entities import User
from storage.database import SQLITE_BUSY_TIMEOUT_S


async def test_sqlite_connections_use_wal_and_a_busy_timeout(db):
    async with db.engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        timeout_ms = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
        assert timeout_ms == SQLITE_BUSY_TIMEOUT_S * 1000
        assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1


async def test_sqlite_unit_of_work_takes_the_write_lock_when_it_begins(db):
    path = db.engine.url.database
    async with db.uow() as uow:
        await uow.users.get(1)  # only a read so far
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # free again once the unit of work ended
    other.execute("ROLLBACK")
    other.close()


async def _increment(database, user_id: int) -> None:
    # Read, then write: with a deferred BEGIN the second writer in WAL mode
    # fails with "database is locked" instead of waiting.
    async with database.uow() as uow:
        user = await uow.users.get_for_update(user_id)
        user.name = str(int(user.name) + 1)
        await uow.commit()


async def test_concurrent_writers_queue_instead_of_failing(any_db):
    async with any_db.uow() as uow:
        await uow.users.add(User(id=1, name="0"))
        await uow.commit()
    await asyncio.gather(*(_increment(any_db, 1) for _ in range(8)))
    async with any_db.uow() as uow:
        assert (await uow.users.get(1)).name == "8"


async def _wait_until_blocked(database) -> None:
    """Until a backend of this database waits for a lock (pg_stat_activity)."""
    sql = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(10), database.engine.connect() as conn:
        while not (await conn.execute(sql)).scalar():
            await conn.rollback()  # a fresh snapshot of the statistics


async def test_postgres_get_for_update_blocks_a_second_locker_until_commit(any_db):
    if any_db.dialect != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises whole transactions")
    async with any_db.uow() as uow:
        await uow.users.add(User(id=1, name="before"))
        await uow.commit()

    first_locked = asyncio.Event()
    second_got: list[str] = []

    async def second() -> None:
        await first_locked.wait()
        async with any_db.uow() as uow:
            user = await uow.users.get_for_update(1)
            second_got.append(user.name)
            await uow.commit()

    task = asyncio.create_task(second())
    async with any_db.uow() as uow:
        user = await uow.users.get_for_update(1)
        first_locked.set()
        await _wait_until_blocked(any_db)
        assert not task.done() and second_got == []
        user.name = "after"
        await uow.commit()
    await asyncio.wait_for(task, 10)
    assert second_got == ["after"]  # it waited, then read the committed row
