"""SqlLog: the SQL statements some engines run while it is open, for tests that check
what a piece of code asks of the database (how many statements, which ones, their
plans) rather than only what it returns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import Database


def reader_engine(db: Database) -> AsyncEngine:
    """The engine a read-only unit of work (db.read_uow) runs on."""
    return db.reader_engine or db.pg_reader_engine or db.engine


def every_engine(db: Database) -> list[AsyncEngine]:
    """The writer's engine and the readers', each once."""
    engines = [db.engine, db.reader_engine, db.pg_reader_engine]
    return list({id(e): e for e in engines if e is not None}.values())


class SqlLog:
    """Records (statement, parameters) of every cursor execution on `engines` between
    entering and leaving; `statements` are the texts in order."""

    def __init__(self, *engines: AsyncEngine) -> None:
        self.engines = engines
        self.executed: list[tuple[str, Any]] = []

    def _seen(self, _conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        self.executed.append((statement, params))

    @property
    def statements(self) -> list[str]:
        return [statement for statement, _ in self.executed]

    def clear(self) -> None:
        self.executed.clear()

    def __enter__(self) -> SqlLog:
        for engine in self.engines:
            event.listen(engine.sync_engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        for engine in self.engines:
            event.remove(engine.sync_engine, "before_cursor_execute", self._seen)
