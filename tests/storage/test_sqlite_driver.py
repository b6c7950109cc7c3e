"""The one-hop SQLite cursor (storage/sqlite_driver.py) behaves as SQLAlchemy's
aiosqlite adapter does: rows, rowcount, lastrowid, RETURNING, executemany,
errors, transactions — each statement one call on aiosqlite's thread."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.database import create_engine
from storage.sqlite_driver import OneHopDbapi


async def test_statements_rows_counts_and_errors(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    assert isinstance(engine.sync_engine.dialect.dbapi, OneHopDbapi)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
            inserted = await conn.execute(sa.text("INSERT INTO t (v) VALUES ('a')"))
            assert inserted.lastrowid == 1 and inserted.rowcount == 1
            many = await conn.execute(
                sa.text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}, {"v": "d"}]
            )
            assert many.rowcount == 3
            returned = await conn.execute(sa.text("INSERT INTO t (v) VALUES ('e') RETURNING id, v"))
            assert returned.all() == [(5, "e")]
            updated = await conn.execute(sa.text("UPDATE t SET v = v || '!' WHERE id > 3"))
            assert updated.rowcount == 2
            none = await conn.execute(sa.text("UPDATE t SET v = 'x' WHERE id = 99"))
            assert none.rowcount == 0
            rows = await conn.execute(sa.text("SELECT id, v FROM t ORDER BY id"))
            assert list(rows.keys()) == ["id", "v"]
            assert rows.all() == [(1, "a"), (2, "b"), (3, "c"), (4, "d!"), (5, "e!")]
            empty = await conn.execute(sa.text("SELECT id FROM t WHERE id < 0"))
            assert list(empty.keys()) == ["id"] and empty.all() == []
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(sa.text("INSERT INTO t (v) VALUES ('zz')"))
                await conn.execute(sa.text("INSERT INTO t (v) VALUES ('a')"))  # not unique
        async with engine.connect() as conn:  # the failed transaction left nothing
            count = await conn.execute(sa.text("SELECT count(*) FROM t WHERE v = 'zz'"))
            assert count.scalar_one() == 0
    finally:
        await engine.dispose()


async def test_one_thread_call_per_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hops.db'}")
    calls = 0
    original = aiosqlite.Connection._execute

    async def counted(
        self: aiosqlite.Connection, fn: object, *args: object, **kw: object
    ) -> object:
        nonlocal calls
        calls += 1
        return await original(self, fn, *args, **kw)

    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        async with engine.begin() as conn:
            monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
            for _ in range(5):
                (await conn.execute(sa.text("SELECT id FROM t"))).all()
            assert calls == 5  # SQLAlchemy's own adapter: 4 a statement
    finally:
        monkeypatch.undo()
        await engine.dispose()


def thread_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the name of every function aiosqlite runs on its thread."""
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def named(self: aiosqlite.Connection, fn: object, *args: object, **kw: object) -> object:
        calls.append(getattr(fn, "__name__", "?"))
        return await original(self, fn, *args, **kw)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", named)
    return calls


async def test_a_committed_unit_of_work_costs_no_rollback_on_return(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool does not roll back a connection whose transaction SQLAlchemy already
    committed (SQLAlchemy's default reset did: a thread hop per unit of work)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'reset.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        calls = thread_calls(monkeypatch)
        async with engine.begin() as conn:
            await conn.execute(sa.text("INSERT INTO t DEFAULT VALUES"))
        # BEGIN IMMEDIATE with the INSERT (one hop), the commit: nothing after it.
        assert calls == ["_run", "commit"]
    finally:
        monkeypatch.undo()
        await engine.dispose()


async def test_a_transaction_left_open_is_rolled_back_on_return(tmp_path: Path) -> None:
    """What the pool's reset is for: a transaction SQLAlchemy does not know of (begun
    on the driver's connection) must not reach the connection's next user."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'open.db'}", pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            cursor = raw.driver_connection
            await cursor.execute("BEGIN IMMEDIATE")
            await cursor.execute("INSERT INTO t DEFAULT VALUES")
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert not raw.driver_connection._conn.in_transaction
            count = await conn.execute(sa.text("SELECT count(*) FROM t"))
            assert count.scalar_one() == 0  # the stray insert was rolled back
    finally:
        await engine.dispose()


async def test_begin_runs_with_the_first_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction's BEGIN IMMEDIATE goes with its first statement, in the same
    thread call, and still takes the write lock; a transaction that runs nothing
    begins nothing and commits or rolls back without a call."""
    path = tmp_path / "begin.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        calls = thread_calls(monkeypatch)
        async with engine.begin():
            pass
        async with engine.connect() as conn:
            await conn.begin()
            await conn.rollback()
        assert calls == []
        async with engine.begin() as conn:
            await conn.execute(sa.text("SELECT 1"))
            # The lock is held: another connection cannot write meanwhile.
            other = sqlite3.connect(path, timeout=0)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
        assert calls == ["_run", "commit"]
        async with engine.begin() as conn:  # and a failed first statement leaves none open
            with pytest.raises(sa.exc.OperationalError):
                await conn.execute(sa.text("SELECT * FROM no_such_table"))
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert not raw.driver_connection._conn.in_transaction
    finally:
        monkeypatch.undo()
        await engine.dispose()


async def test_a_connection_opened_while_a_new_database_is_first_written(tmp_path: Path) -> None:
    """Another connection holds a new file's lock before it is in WAL mode (two
    processes, or two migrations, starting on one file: the other's switch or first
    write): switching to WAL fails at once ("database is locked", no busy wait). The
    connection opens anyway; the next one opened once the lock is gone switches."""
    path = tmp_path / "new.db"
    first = sqlite3.connect(path, isolation_level=None)
    first.execute("BEGIN IMMEDIATE")
    first.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as conn:  # opened while the lock is held
            first.execute("COMMIT")
            count = await conn.execute(sa.text("SELECT count(*) FROM t"))
            assert count.scalar_one() == 0
        await engine.dispose()
        async with engine.connect() as conn:
            mode = await conn.exec_driver_sql("PRAGMA journal_mode")
            assert mode.scalar_one() == "wal"
    finally:
        first.close()
        await engine.dispose()
