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
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

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

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

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
        try:
            return await_only(self._execute_async(operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_only(self._executemany_async(operation, seq_of_parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            connection = self._connection
            begin = self._adapt_connection.take_begin()
            result = await connection._execute(_run, connection, operation, parameters, begin)
        rows, self._description, self._rowcount, self._lastrowid = result
        self._rows = collections.deque(rows)
        return None

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
    __slots__ = ("_begin",)

    _cursor_cls = OneHopCursor

    def __init__(self, dbapi: Any, connection: aiosqlite.Connection) -> None:
        super().__init__(dbapi, connection)
        self._begin: str | None = None

    def begin_with_next(self, begin: str) -> None:
        """Run `begin` (BEGIN or BEGIN IMMEDIATE) with the next statement."""
        self._begin = begin

    def take_begin(self) -> str | None:
        begin, self._begin = self._begin, None
        return begin

    def cursor(self, server_side: bool = False) -> Any:
        if server_side and self._begin is not None:
            # A streaming cursor is the adapter's own: the BEGIN goes first, alone.
            super().cursor().execute(self.take_begin())
        return super().cursor(server_side)

    def commit(self) -> None:
        if self.take_begin() is None:  # a BEGIN still pending: nothing began
            super().commit()

    def rollback(self) -> None:
        if self.take_begin() is None:
            super().rollback()


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI adapter, its connections' cursors OneHopCursor."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def one_hop_dbapi() -> OneHopDbapi:
    return OneHopDbapi(aiosqlite, sqlite3)
