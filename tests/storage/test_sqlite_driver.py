"""The one-hop SQLite cursor (storage/sqlite_driver.py) behaves as SQLAlchemy's
aiosqlite adapter does: rows, rowcount, lastrowid, RETURNING, executemany,
errors, transactions — each statement one call on aiosqlite's thread, or none
(inline, the default): short statements on the loop's thread, THREADED ones and
a BEGIN IMMEDIATE that must wait for another's lock on aiosqlite's."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import aiosqlite
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage import sqlite_driver
from storage.database import SQLITE_BUSY_TIMEOUT_S, create_engine
from storage.sqlite_driver import SCANS_SEEN, THREADED, OneHopDbapi, ScanTimes, one_hop_dbapi


def hopping(url: str, **kwargs: object) -> sa.ext.asyncio.AsyncEngine:
    """An engine whose every statement goes to aiosqlite's thread (inline off)."""
    return create_engine(url, module=one_hop_dbapi(inline=False), **kwargs)


@pytest.mark.parametrize("inline", [True, False])
async def test_statements_rows_counts_and_errors(tmp_path: Path, inline: bool) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'one.db'}"
    engine = create_engine(url) if inline else hopping(url)
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
    engine = hopping(f"sqlite+aiosqlite:///{tmp_path / 'hops.db'}")
    calls = 0
    original = aiosqlite.Connection._execute

    async def counted(
        self: aiosqlite.Connection, fn: object, *args: object, **kw: object
    ) -> object:
        nonlocal calls
        calls += 1
        return await original(self, fn, *args, **kw)

    try:
        await create_table_t(engine)
        async with engine.begin() as conn:
            monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
            for _ in range(5):
                (await conn.execute(sa.text("SELECT id FROM t"))).all()
            assert calls == 5  # SQLAlchemy's own adapter: 4 a statement
    finally:
        monkeypatch.undo()
        await engine.dispose()


async def create_table_t(engine: sa.ext.asyncio.AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))


def assert_write_lock_held(path: Path) -> None:
    """Another connection cannot begin writing the file meanwhile."""
    other = sqlite3.connect(path, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()


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
    engine = hopping(f"sqlite+aiosqlite:///{tmp_path / 'reset.db'}")
    try:
        await create_table_t(engine)
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
        await create_table_t(engine)
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
    engine = hopping(f"sqlite+aiosqlite:///{path}")
    try:
        await create_table_t(engine)
        calls = thread_calls(monkeypatch)
        async with engine.begin():
            pass
        async with engine.connect() as conn:
            await conn.begin()
            await conn.rollback()
        assert calls == []
        async with engine.begin() as conn:
            await conn.execute(sa.text("SELECT 1"))
            assert_write_lock_held(path)
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


async def test_short_statements_run_on_the_loops_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inline (the default): a write transaction — BEGIN IMMEDIATE, statements,
    COMMIT — and a read make no thread call at all, and still take the lock; a
    statement run with THREADED makes exactly one (while scans are not known to be
    quick: below)."""
    path = tmp_path / "inline.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await create_table_t(engine)
        calls = thread_calls(monkeypatch)
        async with engine.begin() as conn:
            await conn.execute(sa.text("INSERT INTO t DEFAULT VALUES"))
            assert_write_lock_held(path)
            (await conn.execute(sa.text("SELECT id FROM t"))).all()
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT count(*) FROM t"))).scalar_one() == 1
        assert calls == []
        async with engine.connect() as conn:
            scan = sa.text("SELECT count(*) FROM t").execution_options(**THREADED)
            assert (await conn.execute(scan)).scalar_one() == 1
            assert (await conn.execute(sa.text("SELECT 1"))).scalar_one() == 1
        assert calls == ["_run_timed"]
    finally:
        monkeypatch.undo()
        await engine.dispose()


def test_scans_are_quick_after_enough_short_ones_and_slow_again_after_one_long() -> None:
    short, long = sqlite_driver.SCAN_INLINE_BELOW / 10, sqlite_driver.SCAN_INLINE_BELOW
    scans = ScanTimes()
    assert not scans.quick()  # none seen: the thread
    for _ in range(SCANS_SEEN - 1):
        scans.saw(short)
    assert not scans.quick()
    scans.saw(short)
    assert scans.quick()
    scans.saw(long)  # one long scan: the next SCANS_SEEN on the thread again
    for _ in range(SCANS_SEEN - 1):
        scans.saw(short)
        assert not scans.quick()
    scans.saw(short)
    assert scans.quick()


async def test_a_scan_runs_inline_while_the_engines_scans_are_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """THREADED statements hop until SCANS_SEEN in a row took under
    SCAN_INLINE_BELOW on the thread; then they run on the loop's thread (timed
    there too), until one takes longer: the next SCANS_SEEN hop again. What the
    scans took is the engine's, whichever of its connections ran them."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'scans.db'}")
    scan = sa.text("SELECT count(*) FROM t").execution_options(**THREADED)
    try:
        await create_table_t(engine)
        calls = thread_calls(monkeypatch)
        async with engine.connect() as conn:
            raw = (await conn.get_raw_connection()).dbapi_connection
            assert raw.scans is engine.sync_engine.dialect.dbapi.scans
            for _ in range(SCANS_SEEN):
                assert (await conn.execute(scan)).scalar_one() == 0
            assert calls == ["_run_timed"] * SCANS_SEEN
            calls.clear()
            for _ in range(3):
                assert (await conn.execute(scan)).scalar_one() == 0
            assert calls == []  # short: inline now
            # Every scan counts as long from here: the one running inline now is
            # timed there, and the next ones hop again.
            monkeypatch.setattr(sqlite_driver, "SCAN_INLINE_BELOW", 0.0)
            for _ in range(3):
                assert (await conn.execute(scan)).scalar_one() == 0
            assert calls == ["_run_timed"] * 2
    finally:
        monkeypatch.undo()
        await engine.dispose()


async def test_a_begin_that_must_wait_waits_on_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the write lock: the inline BEGIN IMMEDIATE does not
    sleep in SQLite's busy handler on the loop's thread (which would stop every
    other coroutine for up to the busy timeout); it is tried without waiting, then
    waits on aiosqlite's thread, and the loop runs on meanwhile. The connection's
    busy timeout is as before afterwards."""
    path = tmp_path / "wait.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        await create_table_t(engine)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("INSERT INTO t DEFAULT VALUES")
        calls = thread_calls(monkeypatch)

        async def write() -> int:
            async with engine.begin() as conn:
                await conn.execute(sa.text("INSERT INTO t DEFAULT VALUES"))
                return int((await conn.execute(sa.text("SELECT count(*) FROM t"))).scalar_one())

        writer = asyncio.create_task(write())
        began = time.monotonic()
        # The loop is free while the writer waits: this returns (the writer cannot
        # finish while the lock is held) long before the busy timeout.
        done, _ = await asyncio.wait([writer], timeout=0.3)
        assert not done and time.monotonic() - began < SQLITE_BUSY_TIMEOUT_S / 2
        holder.execute("COMMIT")
        assert await writer == 2  # it began after the other's commit, and saw it
        assert calls[0] == "_run"  # the BEGIN IMMEDIATE with the INSERT, on the thread
        async with engine.connect() as conn:
            timeout = await conn.exec_driver_sql("PRAGMA busy_timeout")
            assert timeout.scalar_one() == SQLITE_BUSY_TIMEOUT_S * 1000
    finally:
        monkeypatch.undo()
        holder.close()
        await engine.dispose()


async def test_a_database_that_cannot_be_opened_leaves_no_thread_behind(tmp_path: Path) -> None:
    """aiosqlite stops a connection's thread when its file cannot be opened without
    waiting for it; the thread then posts to the loop, which the caller may have
    closed by then (`gigbot migrate` exiting on the error): "Event loop is closed"
    in a thread, its traceback printed after the CLI's one-line error. The failed
    connect returns only once that thread has ended."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'x.db'}")

    def workers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]

    before = set(workers())
    with pytest.raises(sa.exc.OperationalError, match="unable to open database file"):
        async with engine.connect():
            pass
    # Checked at once, without yielding to the loop: the thread was waited for.
    assert [t for t in workers() if t not in before and t.is_alive()] == []
    await engine.dispose()
