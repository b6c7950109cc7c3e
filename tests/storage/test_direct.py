"""storage/direct.py: a Core statement run straight on SQLite's driver gives what
SQLAlchemy's execute gives (typed values in and out, errors as the same class,
listeners told, a read-only unit of work counting it, pending changes flushed
first when asked), and takes SQLAlchemy's own path wherever the driver cannot
(PostgreSQL, an expanding IN). On both databases."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from domain.entities import Block, OutboxMessage, User
from storage.direct import Direct
from storage.tables import outbox, profiles, users

# Every column type the hot statements carry: integers, text, booleans, aware UTC
# datetimes, JSON, enums kept as strings, NULLs.
_OUTBOX = sa.select(outbox).where(outbox.c.chat_id == sa.bindparam("chat_id")).order_by(outbox.c.id)
_USER_IN = sa.select(users.c.id).where(users.c.id.in_(sa.bindparam("ids", expanding=True)))
_INSERT_USER = sa.insert(users).values(
    id=sa.bindparam("id"), name=sa.bindparam("name"), language="en"
)
_INSERT_PROFILE = sa.insert(profiles).values(user_id=sa.bindparam("user_id"))
_COUNT_USERS = sa.select(sa.func.count()).select_from(users)


class Contexts:
    """The execution context each statement on the writer's engine had: SQLAlchemy's
    own path makes one; a statement straight on the driver has none."""

    def __init__(self, db: Any) -> None:
        self.seen: list[tuple[str, bool]] = []
        self._engine = db.engine.sync_engine
        event.listen(self._engine, "before_cursor_execute", self._seen)

    def _seen(
        self, _conn: Any, _cursor: Any, statement: str, _p: Any, context: Any, _m: Any
    ) -> None:
        if not statement.startswith("BEGIN"):
            self.seen.append((statement.split()[0], context is not None))

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._seen)


async def test_rows_and_values_are_as_sqlalchemy_reads_them(any_db, clock):
    now = clock.now()
    rows = [
        OutboxMessage(
            chat_id=5, method="send", payload={"text": "é ✓", "n": [1, 2]}, created_at=now
        ),
        OutboxMessage(chat_id=5, method="buttons", payload={}, created_at=now, not_before=now),
    ]
    async with any_db.uow() as uow:
        for row in rows:
            await uow.outbox.add(row)  # OUTBOX_ROW: a Direct insert … RETURNING
        await uow.commit()
    async with any_db.uow() as uow:
        direct = await Direct(_OUTBOX).rows(uow.session, {"chat_id": 5})
        through = [tuple(r) for r in await uow.session.execute(_OUTBOX, {"chat_id": 5})]
        assert direct == through and len(direct) == 2
        ids = [r.id for r in rows]
        assert [r[0] for r in direct] == ids
        first = dict(zip(outbox.c.keys(), direct[0], strict=True))
        assert first["payload"] == {"text": "é ✓", "n": [1, 2]}
        assert first["created_at"] == now and first["created_at"].tzinfo is not None
        assert first["not_before"] is None and first["status"] == "pending"
        assert await Direct(_OUTBOX).first(uow.session, {"chat_id": 6}) is None


async def test_sqlite_runs_it_on_the_driver_and_postgresql_through_sqlalchemy(any_db):
    contexts = Contexts(any_db)
    try:
        async with any_db.uow() as uow:
            await Direct(_INSERT_USER).rows(uow.session, {"id": 1, "name": "Ada"})
            assert await Direct(_COUNT_USERS).scalar(uow.session, {}) == 1
            await uow.commit()
    finally:
        contexts.close()
    through_sqlalchemy = any_db.dialect != "sqlite"
    assert contexts.seen == [("INSERT", through_sqlalchemy), ("SELECT", through_sqlalchemy)]


async def test_column_defaults_are_filled_in_as_sqlalchemy_fills_them(any_db):
    """A fixed default goes straight to the driver with the statement; one computed
    per row (profiles' skills: `default=list`) is left to SQLAlchemy's path."""
    contexts = Contexts(any_db)
    try:
        async with any_db.uow() as uow:
            await Direct(_INSERT_USER).rows(uow.session, {"id": 1, "name": "Ada"})
            await Direct(_INSERT_PROFILE).rows(uow.session, {"user_id": 1})
            await uow.commit()
    finally:
        contexts.close()
    assert [through for _, through in contexts.seen] == [any_db.dialect != "sqlite", True]
    async with any_db.uow() as uow:
        ada = await uow.users.get(1)
        assert (ada.language, ada.is_client, ada.banned, ada.unreachable) == (
            "en",
            False,
            False,
            False,
        )
        profile = await uow.profiles.get(1)
        assert (profile.skills, profile.headline, profile.currency) == ([], "", "USD")


async def test_an_expanding_in_takes_sqlalchemys_path_everywhere(any_db):
    async with any_db.uow() as uow:
        for n in (1, 2, 3):
            await uow.users.add(User(id=n, name=f"u{n}"))
        await uow.commit()
    contexts = Contexts(any_db)
    try:
        async with any_db.uow() as uow:
            found = await Direct(_USER_IN).rows(uow.session, {"ids": [1, 3, 9]})
    finally:
        contexts.close()
    assert sorted(found) == [(1,), (3,)]
    assert contexts.seen == [("SELECT", True)]


async def test_a_unique_violation_is_sqlalchemys_integrity_error(any_db):
    async with any_db.uow() as uow:
        await Direct(_INSERT_USER).rows(uow.session, {"id": 1, "name": "Ada"})
        with pytest.raises(IntegrityError):
            await Direct(_INSERT_USER).rows(uow.session, {"id": 1, "name": "Ada again"})


async def test_pending_changes_are_flushed_first_unless_told_not_to(any_db):
    async with any_db.uow() as uow:
        await uow.users.add(User(id=1, name="Ada"))
        await uow.users.add(User(id=2, name="Bob"))
        await uow.commit()
    async with any_db.uow() as uow:
        uow.session.add(User(id=3, name="Cy"))  # pending, not flushed
        assert await Direct(_COUNT_USERS, autoflush=False).scalar(uow.session, {}) == 2
        assert await Direct(_COUNT_USERS).scalar(uow.session, {}) == 3
        await uow.blocks.add(Block(blocker_id=1, blocked_id=2))
        assert await uow.blocks.between(2, 1)  # the new block is seen


async def test_a_read_only_unit_of_work_counts_each_statement(any_db):
    async with any_db.read_uow() as uow:
        before = uow.statements
        await uow.blocks.partners(1)
        await Direct(_COUNT_USERS).scalar(uow.session, {})
        assert uow.statements == before + 2


async def test_a_begin_waiting_for_another_writer_waits_on_the_thread(db, tmp_path):
    """SQLite: the unit of work's first statement is a Direct one while another
    connection holds the write lock; it waits (on aiosqlite's thread, the loop
    free) and runs once the lock is let go."""
    other = sqlite3.connect(tmp_path / "gigbot.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    since = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        async with db.uow() as uow:
            connection = await uow.session.connection()  # its BEGIN IMMEDIATE pending
            driver = connection.sync_connection.connection.dbapi_connection
            claim = asyncio.ensure_future(
                uow.processed_updates.claim(77, since + timedelta(days=1), since)
            )
            while not claim.done() and not driver._execute_mutex.locked():  # noqa: ASYNC110
                await asyncio.sleep(0)  # the loop turns: nothing inline blocked it
            assert not claim.done()
            other.execute("COMMIT")
            assert await claim is True
            await uow.commit()
    finally:
        other.close()
    async with db.uow() as uow:
        assert not await uow.processed_updates.claim(77, since + timedelta(days=1), since)


async def test_a_connection_closed_under_it_is_replaced_as_sqlalchemy_replaces_one(db):
    """SQLite: the driver's connection closed beneath the pool. The statement fails
    as SQLAlchemy's would (its error says the connection was invalidated), and the
    next unit of work gets a new connection from the pool and runs."""
    async with db.uow() as uow:
        connection = await uow.session.connection()
        driver = connection.sync_connection.connection.dbapi_connection
        driver._connection._conn.close()
        with pytest.raises(sa.exc.DBAPIError) as raised:
            await Direct(_COUNT_USERS).scalar(uow.session, {})
        assert raised.value.connection_invalidated
    async with db.uow() as uow:
        assert await Direct(_COUNT_USERS).scalar(uow.session, {}) == 0


@pytest.mark.parametrize(
    "name",
    ["claim", "outbox row", "actor now", "touch", "conversation", "partners", "between",
     "client records", "freelancer records"],
)  # fmt: skip
async def test_every_hot_statement_compiles_for_the_driver(db, name):
    """What every update runs stays on the driver: a change that gives one of these
    an expanding IN or a default computed per row would send it back through
    SQLAlchemy without a word (only slower), so each is named here."""
    from storage import blocks, processed_updates, read_bookkeeping, track_records

    hot = {
        "claim": processed_updates._CLAIM,
        "outbox row": read_bookkeeping.OUTBOX_ROW,
        "actor now": read_bookkeeping._ACTOR,
        "touch": read_bookkeeping._TOUCH,
        "conversation": read_bookkeeping._CONVERSATION,
        "partners": blocks._PARTNERS,
        "between": blocks._BETWEEN,
        "client records": track_records._together(
            track_records._client_facts, track_records._client_spent, True
        ),
        "freelancer records": track_records._together(
            track_records._freelancer_facts, track_records._freelancer_due, True
        ),
    }
    _, compiled = hot[name].compiled(db.engine.sync_engine.dialect)
    assert compiled is not None
