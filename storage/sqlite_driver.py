"""SQLite statements in one thread hop each (issue 16, part 3: per-update cost).

aiosqlite runs every sqlite3 call on its connection's own thread; SQLAlchemy's
adapter (sqlalchemy.dialects.sqlite.aiosqlite) makes a statement four such
calls — make a cursor, execute, fetch the rows, close the cursor — and each is a
round trip between the event loop and that thread (about 25 µs on an idle
core, far more on a busy machine; an update of a dozen statements paid for
forty-odd of them).

`OneHopDbapi` is the same adapter (same connection, errors, transactions and
locking) whose cursor does all four in one call on the thread: it executes,
fetches every row (the adapter buffers them all anyway) and closes the sqlite3
cursor there, and hands back the rows with the description, rowcount and
lastrowid read at that moment. Server-side (streaming) cursors are the
adapter's own, unchanged. storage/database.py passes it to SQLAlchemy as the
engine's DBAPI module (`create_async_engine(..., module=...)`) for every
`sqlite+aiosqlite` URL.

A transaction's BEGIN rides along too: storage/database.py hands it to the
connection (`begin_with_next`) instead of executing it, and it runs on the thread
just before the transaction's first statement, in the same call. SQLite takes
the lock of a BEGIN IMMEDIATE there as it would have a hop earlier; a transaction
that ends before any statement began nothing, so its COMMIT or ROLLBACK is
skipped too.

Short statements make no hop at all (`inline=True`, the default for Gigbot's
engines): they run on the event loop's own thread, on the same sqlite3
connection. A hop costs more than most statements do: ~150 µs of the loop's
time on this project's 2-core VM (futures, the self-pipe, two thread wake-ups)
against ~7 µs for a primary-key read in WAL — an update of ten statements spent
more on hops than on SQL. What could hold the loop stays on the thread:
- a statement run with the execution option `THREADED` (storage marks the
  searches, alert audiences and other scans: milliseconds of SQLite work that
  another coroutine may overlap, sqlite3 releasing the GIL while it steps) —
  unless its engine's scans have lately all been short (`ScanTimes`: the last
  16 each under 1 ms, as on a marketplace of a few hundred jobs), when the hop
  would cost more than the scan holds the loop;
- a BEGIN IMMEDIATE that finds the write lock held by another process: it is
  tried inline without waiting (busy timeout 0 for that one statement), and on
  "database is locked" it waits on the thread with the usual busy timeout;
COMMIT runs inline too: in WAL at synchronous=NORMAL it appends the transaction's
pages to the log without a sync; the one in ~1,000 pages' worth that runs SQLite's
automatic checkpoint copies and syncs them, a few milliseconds of the loop's time
now and then. Readers in WAL never wait for a lock, and a writer holding the lock never waits
again until it commits, so nothing else inline can sleep in SQLite's busy
handler. One connection is never used by two statements at once (a session runs
them in turn; an inline statement waits for `_execute_mutex` to be free, else it
takes the thread path), and sqlite3 serialises its connections' calls anyway
(`check_same_thread=False`: storage/database.py).
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

try:  # SQLAlchemy 2.1
    from sqlalchemy.util.concurrency import await_ as await_only
except ImportError:  # 2.0
    from sqlalchemy.util.concurrency import await_only  # type: ignore[attr-defined,no-redef]

_Result = tuple[list[Any], Any, int, int | None]
_T = TypeVar("_T")

# The execution option that sends a statement to aiosqlite's thread (see above):
# `stmt.execution_options(**THREADED)`.
THREADED_OPTION = "gigbot_threaded"
THREADED = {THREADED_OPTION: True}
IMMEDIATE = "BEGIN IMMEDIATE"
# A scan runs inline once the last SCANS_SEEN scans of its engine each took less
# than SCAN_INLINE_BELOW (seconds) of SQLite's time (ScanTimes).
SCAN_INLINE_BELOW = 0.001
SCANS_SEEN = 16


class _WouldWait(Exception):
    """An inline BEGIN IMMEDIATE found the write lock taken: wait on the thread."""


def _run(
    connection: aiosqlite.Connection, operation: str, parameters: Any, begin: str | None = None
) -> _Result:
    """On the connection's thread: the transaction's BEGIN if it is pending, then the
    whole statement, cursor closed."""
    cursor = connection._conn.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return rows, description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_timed(
    connection: aiosqlite.Connection, operation: str, parameters: Any, begin: str | None = None
) -> tuple[_Result, float]:
    """_run, and the seconds it took on the thread (a scan's, for ScanTimes)."""
    began = time.perf_counter()
    result = _run(connection, operation, parameters, begin)
    return result, time.perf_counter() - began


class ScanTimes:
    """Whether an engine's scans are quick enough to run inline: each THREADED
    statement's time in SQLite is seen here, and once the last SCANS_SEEN each took
    under SCAN_INLINE_BELOW the next run on the loop's thread. A hop costs ~0.2-0.4
    ms of an update's wall time (the search's on a 300-job marketplace was 0.5 ms
    with its hop, 0.16 ms without), while a scan that short holds the loop no
    longer than the hop would. One slow scan (a common word among 100,000 jobs)
    sends the next SCANS_SEEN to the thread again, so a large marketplace's scans
    keep overlapping other updates' Python, as THREADED is for."""

    __slots__ = ("_slow_left",)

    def __init__(self) -> None:
        self._slow_left = SCANS_SEEN  # none seen yet: on the thread

    def quick(self) -> bool:
        return self._slow_left == 0

    def saw(self, seconds: float) -> None:
        if seconds >= SCAN_INLINE_BELOW:
            self._slow_left = SCANS_SEEN
        elif self._slow_left:
            self._slow_left -= 1


def _run_many(
    connection: aiosqlite.Connection, operation: str, parameters: Any, begin: str | None = None
) -> _Result:
    cursor = connection._conn.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        cursor.executemany(operation, parameters)
        return [], cursor.description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement is one call on aiosqlite's thread (see above)."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount", "threaded")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No aiosqlite cursor is made here (that is a thread hop of its own).
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1
        # Set for a statement run with THREADED (storage/database.py's listener).
        self.threaded = False

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        """Nothing to close: the sqlite3 cursor was closed on the thread."""

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        adapt = self._adapt_connection
        try:
            # Through await_only even inline: SQLAlchemy's AsyncConnection checks that
            # a statement awaited (the coroutine then never suspends).
            self._keep(await_only(adapt.run(operation, parameters, self.threaded)))
        except Exception as error:
            adapt._handle_exception(error)

    def _keep(self, result: _Result) -> None:
        rows, self._description, self._rowcount, self._lastrowid = result
        self._rows = collections.deque(rows)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_only(self._executemany_async(operation, seq_of_parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            connection = self._connection
            begin = self._adapt_connection.take_begin()
            result = await connection._execute(
                _run_many, connection, operation, seq_of_parameters, begin
            )
        _, self._description, self._rowcount, self._lastrowid = result
        self._rows = collections.deque()
        return None


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_begin", "_busy_ms", "inline", "scans")

    _cursor_cls = OneHopCursor

    def __init__(
        self,
        dbapi: Any,
        connection: aiosqlite.Connection,
        *,
        inline: bool,
        scans: ScanTimes,
    ) -> None:
        super().__init__(dbapi, connection)
        self._begin: str | None = None
        self.inline = inline
        self.scans = scans  # the engine's, shared by its connections
        self._busy_ms: int | None = None

    def may_run_inline(self) -> bool:
        return self.inline and not self._execute_mutex.locked()

    async def run(self, operation: str, parameters: Any, threaded: bool = False) -> _Result:
        """The statement inline where it may run so (see above), else on aiosqlite's
        thread: run with THREADED while this engine's scans are not all quick
        (ScanTimes), the connection busy there, or a BEGIN IMMEDIATE that must wait
        for another process's lock."""
        if threaded:
            return await self._scan(operation, parameters)
        if self.may_run_inline():
            try:
                return self.run_inline(operation, parameters)
            except _WouldWait:
                pass  # the BEGIN IMMEDIATE is pending again: the thread waits for it
        return await self.run_on_thread(operation, parameters)

    async def _scan(self, operation: str, parameters: Any) -> _Result:
        """A THREADED statement, timed for ScanTimes: inline while scans are quick."""
        if self.scans.quick() and self.may_run_inline():
            began = time.perf_counter()
            try:
                result = self.run_inline(operation, parameters)
            except _WouldWait:
                pass  # as run(): the thread waits for the lock, and times the scan
            else:
                self.scans.saw(time.perf_counter() - began)
                return result
        result, took = await self.run_on_thread(operation, parameters, _run_timed)
        self.scans.saw(took)
        return result

    def run_inline(self, operation: str, parameters: Any) -> _Result:
        """The statement on this (the loop's) thread; raises _WouldWait, the BEGIN put
        back, if a BEGIN IMMEDIATE finds the lock taken."""
        raw = self._connection._conn
        begin = self.take_begin()
        if begin == IMMEDIATE:
            self._begin_now(raw)
            begin = None
        return _run(self._connection, operation, parameters, begin)

    async def run_on_thread(
        self, operation: str, parameters: Any, run: Callable[..., _T] = _run
    ) -> _T:
        """The statement (and a pending BEGIN) in one call on aiosqlite's thread, by
        `run` (_run; _run_timed for a scan)."""
        async with self._execute_mutex:
            begin = self.take_begin()
            connection = self._connection
            return await connection._execute(run, connection, operation, parameters, begin)

    def _begin_now(self, raw: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE without waiting: busy timeout 0 for that statement."""
        if self._busy_ms is None:
            self._busy_ms = int(raw.execute("PRAGMA busy_timeout").fetchone()[0])
        raw.execute("PRAGMA busy_timeout=0")
        try:
            raw.execute(IMMEDIATE)
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            self._begin = IMMEDIATE
            raise _WouldWait() from error
        finally:
            raw.execute(f"PRAGMA busy_timeout={self._busy_ms}")

    def begin_with_next(self, begin: str) -> None:
        """Run `begin` (BEGIN or BEGIN IMMEDIATE) with the next statement."""
        self._begin = begin

    def take_begin(self) -> str | None:
        begin, self._begin = self._begin, None
        return begin

    def cursor(self, server_side: bool = False) -> Any:
        if server_side and self._begin is not None:
            # A streaming cursor is the adapter's own: the BEGIN goes first, alone,
            # on the thread (it may wait for the lock).
            first = super().cursor()
            first.threaded = True
            first.execute(self.take_begin())
        return super().cursor(server_side)

    def commit(self) -> None:
        if self.take_begin() is not None:  # a BEGIN still pending: nothing began
            return
        if not self.may_run_inline():
            super().commit()
            return
        try:
            self._connection._conn.commit()
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        if self.take_begin() is not None:
            return
        if not self.may_run_inline():
            super().rollback()
            return
        try:
            self._connection._conn.rollback()  # a rollback writes nothing: never waits
        except Exception as error:
            self._handle_exception(error)


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI adapter, its connections' cursors OneHopCursor;
    `inline`: short statements on the loop's thread (see above)."""

    def __init__(self, *args: Any, inline: bool) -> None:
        super().__init__(*args)
        self.inline = inline
        self.scans = ScanTimes()  # this engine's (one dbapi an engine: database.py)

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        if self.inline:
            kw["check_same_thread"] = False  # used from the loop's thread too
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's adapter sets it
        try:
            await_only(connection)
        except Exception:
            # aiosqlite stops its thread when the file cannot be opened but does not
            # wait for it: the thread then posts to a loop that may be closed by then
            # (`gigbot migrate` on a missing folder printed a thread's traceback
            # after its one-line error, now and then). Waited for here.
            await_only(_ended(connection._thread))
            raise
        return OneHopConnection(self, connection, inline=self.inline, scans=self.scans)


async def _ended(thread: threading.Thread) -> None:
    await asyncio.get_running_loop().run_in_executor(None, thread.join)


def one_hop_dbapi(*, inline: bool = True) -> OneHopDbapi:
    return OneHopDbapi(aiosqlite, sqlite3, inline=inline)


class ThreadedSession:
    """A session whose statements run with THREADED: what the searches hand their
    queries to (every other attribute is the session's own)."""

    __slots__ = ("_session",)

    def __init__(self, session: Any) -> None:
        self._session = session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    @staticmethod
    def _options(kw: dict[str, Any]) -> dict[str, Any]:
        # A statement that says otherwise ({THREADED_OPTION: False}) runs inline.
        kw["execution_options"] = {**THREADED, **kw.get("execution_options", {})}
        return kw

    async def execute(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        return await self._session.execute(statement, params, **self._options(kw))

    async def scalar(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        return await self._session.scalar(statement, params, **self._options(kw))

    async def scalars(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        return await self._session.scalars(statement, params, **self._options(kw))


def mark_threaded(
    _conn: Any, dbapi_cursor: Any, _statement: Any, _params: Any, context: Any, _many: bool
) -> None:
    """The engines' before_cursor_execute listener (storage/database.py): send this
    statement to the thread if it was run with THREADED."""
    if isinstance(dbapi_cursor, OneHopCursor):
        dbapi_cursor.threaded = bool(
            context is not None and context.execution_options.get(THREADED_OPTION)
        )
