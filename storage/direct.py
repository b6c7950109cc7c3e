"""Hot statements run straight on SQLite's driver (issue 16, part 3: per-update cost).

Every update runs the same handful of short statements: claim its id, check the
person, insert its replies, put their conversation, read blocks and the clients'
records. Through SQLAlchemy's execution path each cost ~120–135 µs of Python on
this project's VM (a greenlet, an execution context, parameter and result
processing, a Result) around ~7 µs of SQLite: most of an update's SQL time, and
what kept the common updates below the floor's rate (`python -m bench floor`).

`Direct` is such a statement, still declared once with SQLAlchemy Core. It is
compiled once per dialect — the SQL text, its parameters in order, the values
bound in it and the columns' fixed Python-side defaults, the bind and result
processors of every column, so values go in and come out exactly as through
SQLAlchemy (aware UTC datetimes, JSON, enums) — and run on the unit of work's
own connection, in its transaction:

- SQLite through the one-hop adapter (Gigbot's engines, storage/sqlite_driver.py):
  the sqlite3 call the adapter would have made (`OneHopConnection.run`), on the
  loop's thread, ~30 µs in all. A pending BEGIN IMMEDIATE goes with it; if
  another process holds the write lock, or the connection is busy on its thread,
  it waits on that thread, as any statement does.
- Everywhere else — PostgreSQL, another driver, a statement whose SQL changes per
  call (an expanding IN) or whose defaults are computed per row — SQLAlchemy's
  `execute` on the same connection. Only the speed differs.

What SQLAlchemy's path does around a statement is kept where it matters: the
engines' `before_cursor_execute` listeners see every statement, with no cursor
and no execution context (tests and the floor benchmark count statements so); a
read-only unit of work counts it (ReadUnitOfWork.statements, which the engine
learns from); a driver error is raised as the same `sqlalchemy.exc` class, so a
unique violation is an IntegrityError and handlers/retry.py reads it as before;
and a connection found closed is invalidated, so the pool replaces it.
A Core statement through the session never autoflushed; a Direct one flushes the
session's pending changes first unless made with `autoflush=False` (for
statements no pending change bears on).

Why not SQLAlchemy's own shorter path: `exec_driver_sql` (the SQL text, no
compiling) still builds an execution context and a Result — the claim took
64–91 µs so against Direct's 28–44 and `execute`'s 96–104, measured side by
side. Lambda statements save the compiling, which the statement cache already
saves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import Executable

from storage.sqlite_driver import OneHopConnection

Row = tuple[Any, ...]
_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the positional parameters, in order (a name may repeat)
    defaults: Mapping[str, Any]  # values bound in the statement itself
    binds: tuple[_Processor, ...]  # one per positional parameter
    results: tuple[_Processor, ...]  # one per column

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        defaults = self.defaults
        out = []
        for name, process in zip(self.names, self.binds, strict=True):
            value = values[name] if name in values else defaults[name]
            out.append(value if process is None or value is None else process(value))
        return tuple(out)

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Row]:
        results = self.results
        if not any(results):
            return [tuple(r) for r in raw]
        return [
            tuple(v if p is None or v is None else p(v) for v, p in zip(r, results, strict=True))
            for r in raw
        ]


class Direct:
    """A Core statement run on the driver where it can be (see the module docstring):
    the statement itself, or a function building it for a dialect's name (an
    upsert is each dialect's own). `autoflush=False` for a statement no pending
    change of the session bears on (an outbox row: no foreign keys, nothing reads
    it in the unit of work)."""

    __slots__ = ("_build", "_compiled", "autoflush")

    def __init__(
        self, statement: Executable | Callable[[str], Executable], *, autoflush: bool = True
    ) -> None:
        self._build = statement if callable(statement) else lambda _dialect: statement
        self.autoflush = autoflush
        self._compiled: dict[str, tuple[Executable, _Compiled | None]] = {}

    def compiled(self, dialect: Dialect) -> tuple[Executable, _Compiled | None]:
        """The statement for this dialect, and as the driver runs it: None if its SQL
        changes per call (an expanding IN), which SQLAlchemy's own path renders."""
        try:
            return self._compiled[dialect.name]
        except KeyError:
            statement = self._build(dialect.name)
            done = self._compiled[dialect.name] = (statement, _compile(statement, dialect))
            return done

    async def rows(self, session: AsyncSession, values: Mapping[str, Any]) -> list[Row]:
        """Every row the statement returns (none for a statement that returns none)."""
        if self.autoflush and not _clean(session):
            await session.flush()
        connection = await _connection(session)
        sync = connection.sync_connection
        assert sync is not None
        driver = sync.connection.dbapi_connection
        statement, compiled = self.compiled(sync.dialect)
        _count(session)
        if compiled is None or not isinstance(driver, OneHopConnection):
            result = await connection.execute(statement, dict(values))
            return [tuple(row) for row in result] if result.returns_rows else []
        parameters = compiled.parameters(values)
        sync.dispatch.before_cursor_execute(sync, None, compiled.sql, parameters, None, False)
        try:
            raw, *_ = await driver.run(compiled.sql, parameters)
        except Exception as error:
            lost = _lost(error, sync.dialect, driver)
            if lost:  # as SQLAlchemy does: the pool replaces the connection
                await connection.invalidate(error)
            raise _wrapped(error, compiled.sql, parameters, sync.dialect, lost) from error
        return compiled.rows(raw)

    async def first(self, session: AsyncSession, values: Mapping[str, Any]) -> Row | None:
        rows = await self.rows(session, values)
        return rows[0] if rows else None

    async def scalar(self, session: AsyncSession, values: Mapping[str, Any]) -> Any:
        """The first column of the one row the statement returns."""
        (row,) = await self.rows(session, values)
        return row[0]


_CONNECTION = "direct.connection"


async def _connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection in its current transaction, kept with that
    transaction (AsyncSession.connection() is a greenlet of its own, ~20 µs)."""
    sync = session.sync_session
    kept = sync.info.get(_CONNECTION)
    if kept is not None and kept[0] is sync.get_transaction() and kept[0] is not None:
        return kept[1]  # type: ignore[no-any-return]
    connection = await session.connection()
    sync.info[_CONNECTION] = (sync.get_transaction(), connection)
    return connection


def _compile(statement: Executable, dialect: Dialect) -> _Compiled | None:
    compiled: Any = statement.compile(dialect=dialect)
    binds = compiled.binds
    if compiled.positiontup is None or any(bind.expanding for bind in binds.values()):
        return None
    defaults = {
        name: bind.effective_value
        for name, bind in binds.items()
        if not bind.required and bind.callable is None
    }
    # Columns' Python-side defaults, which SQLAlchemy's execution fills in: a fixed
    # value is filled in here too; one computed per row is left to SQLAlchemy.
    for column in compiled.insert_prefetch:
        if column.default is None or not column.default.is_scalar:
            return None
        defaults[column.key] = column.default.arg
    if compiled.update_prefetch:
        return None
    columns = getattr(statement, "exported_columns", ())
    return _Compiled(
        sql=compiled.string,
        names=tuple(compiled.positiontup),
        defaults=defaults,
        binds=tuple(_bind(binds[name].type, dialect) for name in compiled.positiontup),
        results=tuple(_result(column.type, dialect) for column in columns),
    )


def _bind(type_: Any, dialect: Dialect) -> _Processor:
    return type_.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


def _result(type_: Any, dialect: Dialect) -> _Processor:
    return type_.dialect_impl(dialect).result_processor(dialect, None)  # type: ignore[no-any-return]


def _clean(session: AsyncSession) -> bool:
    """Nothing for an autoflush to write first."""
    sync = session.sync_session
    return not (sync.new or sync.deleted or sync.identity_map.check_modified())


def _count(session: AsyncSession) -> None:
    """As storage/database.py's ReaderSession counts what its units of work run."""
    info = session.sync_session.info
    info["statements"] = info.get("statements", 0) + 1


def _lost(error: Exception, dialect: Dialect, driver: Any) -> bool:
    """Is the connection gone (SQLite: closed under us)? Asked as SQLAlchemy asks."""
    return isinstance(error, dialect.loaded_dbapi.Error) and dialect.is_disconnect(
        error, driver, None
    )


def _wrapped(
    error: Exception, sql: str, parameters: Any, dialect: Dialect, lost: bool
) -> Exception:
    """The driver's error as SQLAlchemy raises it through execute()."""
    if isinstance(error, sa.exc.SQLAlchemyError):
        return error
    return sa.exc.DBAPIError.instance(
        sql,
        parameters,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )
