"""Engine set-up per database, and the unit of work.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and every
transaction begins with BEGIN IMMEDIATE: writers queue for the lock up front
instead of failing half-way with "database is locked". PostgreSQL relies on
row locks taken by `get_for_update` (SELECT … FOR UPDATE).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, make_transient_to_detached

from domain import entities as e
from domain import saved as sv
from domain import services as svc
from domain import timesheet as ts
from domain.events import Event
from storage.blocks import SqlBlocks
from storage.hourly_terms import SqlHourlyTerms
from storage.ledger import SqlLedger
from storage.outbox_retention import prune_delivered
from storage.planner import mark_search_connections, search_connect_args
from storage.pool_ping import ping_when_idle
from storage.processed_updates import SqlProcessedUpdates
from storage.read_bookkeeping import OUTBOX_ROW, SqlReadBookkeeping, outbox_values
from storage.reads import (
    BufferedConversations,
    BufferedOutbox,
    ReadOnlyViolation,
    guard_session,
    unflushed_writes,
)
from storage.repository import SqlRepository
from storage.search import SqlJobSearch
from storage.service_search import SqlServiceSearch
from storage.services_repo import SqlServices
from storage.skill_index import IndexedSession
from storage.sqlite_driver import (
    THREADED_OPTION,
    OneHopConnection,
    mark_threaded,
    one_hop_dbapi,
)
from storage.tables import map_entities
from storage.talent_search import SqlTalentSearch
from storage.track_records import SqlTrackRecords

SQLITE_BUSY_TIMEOUT_S = 30


def utc_now() -> datetime:
    return datetime.now(UTC)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN (so we can make it IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as error:
            # Another connection holds a new file's lock (two processes, or two
            # migrations, starting on one file: its own switch to WAL, or its first
            # write): a switch of journal mode fails at once, without the busy wait.
            # WAL is the file's mode, not the connection's: it is in WAL once that
            # switch is done, or else the next connection opened switches it.
            if "locked" not in str(error):
                raise
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        _begin(connection, "BEGIN IMMEDIATE")


def _configure_sqlite_reader(engine: AsyncEngine) -> None:
    """Reader connections: a deferred BEGIN takes a WAL snapshot at the first read
    and no writer lock; query_only makes SQLite itself refuse any write."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        _begin(connection, "BEGIN")


def _begin(connection: Any, begin: str) -> None:
    """Begin a SQLite transaction: on aiosqlite with the first statement, in its
    thread hop (storage/sqlite_driver.py); otherwise at once."""
    dbapi_connection = connection.connection.dbapi_connection
    if isinstance(dbapi_connection, OneHopConnection):
        dbapi_connection.begin_with_next(begin)
    else:
        connection.exec_driver_sql(begin)


def _sqlite_engine(url: str, kwargs: dict[str, Any]) -> AsyncEngine:
    """A SQLite engine, writer's or readers': the busy timeout, on aiosqlite one
    thread hop a statement (storage/sqlite_driver.py), and a connection rolled back
    on its return only if a transaction is still open (_reset_only_open)."""
    kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_S})
    aiosqlite = make_url(url).get_driver_name() == "aiosqlite"
    if aiosqlite:
        kwargs.setdefault("module", one_hop_dbapi())
    kwargs.setdefault("pool_reset_on_return", None)
    engine = create_async_engine(url, **kwargs)
    if aiosqlite:
        # Statements run with THREADED go to aiosqlite's thread (sqlite_driver.py).
        event.listen(engine.sync_engine, "before_cursor_execute", mark_threaded)
    if kwargs["pool_reset_on_return"] is None:
        _reset_only_open(engine)
    return engine


def _file_sqlite(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")


def create_reader_engine(url: str, **kwargs: Any) -> AsyncEngine | None:
    """SQLite on a file: an engine of reader connections (see above); otherwise None
    (PostgreSQL reads on its one pool, MVCC already keeps readers off writers' locks)."""
    if not _file_sqlite(url):
        return None
    engine = _sqlite_engine(url, kwargs)
    _configure_sqlite_reader(engine)
    return engine


def create_pg_reader_engine(url: str, **kwargs: Any) -> AsyncEngine | None:
    """PostgreSQL: an engine for read-only units of work whose connections are opened
    with the searches' planner settings (storage/planner.py), so a search there sets
    none itself; otherwise None. Its pool opens connections only when reads use it."""
    if make_url(url).get_backend_name() != "postgresql":
        return None
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    search_connect_args(kwargs)
    engine = _postgresql_engine(url, kwargs)
    mark_search_connections(engine)
    return engine


def _postgresql_engine(url: str, kwargs: dict[str, Any]) -> AsyncEngine:
    """A PostgreSQL engine whose pool pings a connection only after it sat idle
    (storage/pool_ping.py), unless the caller chose pool_pre_ping themselves."""
    if "pool_pre_ping" in kwargs:
        return create_async_engine(url, **kwargs)
    engine = create_async_engine(url, pool_pre_ping=False, **kwargs)
    ping_when_idle(engine)
    return engine


def _reset_only_open(engine: AsyncEngine) -> None:
    """The pool rolls a returned connection back only if SQLite says a transaction
    is still open. SQLAlchemy's own reset rolls back after every COMMIT too (a
    committed Connection tells the pool nothing), and on aiosqlite that is a thread
    hop more for every unit of work; an open one (a transaction begun outside
    SQLAlchemy's knowledge) must still never reach the next user of the connection."""

    @event.listens_for(engine.sync_engine, "reset")
    def on_reset(dbapi_connection: Any, _record: Any, state: Any) -> None:
        # The sqlite3 connection: aiosqlite's inside the adapter's, or the driver's own.
        inner = getattr(dbapi_connection, "_connection", None)
        raw = getattr(inner, "_connection", dbapi_connection) if inner else dbapi_connection
        if isinstance(dbapi_connection, OneHopConnection):
            dbapi_connection.take_begin()  # a BEGIN never run: the next user's is their own
        if not state.asyncio_safe or state.terminate_only:
            return  # the pool terminates or drops it: nothing to reset
        if raw is None or raw.in_transaction:  # in_transaction: no thread hop
            dbapi_connection.rollback()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(url, kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return _postgresql_engine(url, kwargs)


class Database:
    def __init__(
        self, url: str, now: Callable[[], datetime] = utc_now, **engine_kwargs: Any
    ) -> None:
        map_entities()
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        # IndexedSession keeps job_skills & co. in step with the entities' lists.
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=IndexedSession
        )
        self.now = now
        # SQLite has one writer at a time, and a connection that finds the lock taken
        # sleeps in SQLite's busy handler for up to 100 ms a try, so late comers can
        # overtake and some waiters wait for seconds. This process's own units of
        # work therefore queue here, first come first served; other processes still
        # meet at BEGIN IMMEDIATE with the busy timeout.
        self.writers: asyncio.Lock | None = asyncio.Lock() if self.dialect == "sqlite" else None
        # Reads (storage/reads.py): SQLite's reader connections, outside `writers`.
        self.reader_engine = create_reader_engine(url, **engine_kwargs)
        # PostgreSQL: reads on connections with the searches' planner settings.
        self.pg_reader_engine = create_pg_reader_engine(url, **engine_kwargs)
        self.read_sessions = async_sessionmaker(
            self.reader_engine or self.pg_reader_engine or self.engine,
            expire_on_commit=False,
            sync_session_class=ReaderSession,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, self.now, self.writers)

    def writer_idle(self) -> bool:
        """Is no unit of work of this process writing right now (SQLite's writers'
        queue empty)? A read-only update may then take the writer without waiting
        (handlers/engine.py, Engine._read_route)."""
        return self.writers is None or not self.writers.locked()

    @property
    def splits_reads(self) -> bool:
        """Do read-only units of work run beside the writer (SQLite on a file)?"""
        return self.reader_engine is not None

    def read_uow(self) -> ReadUnitOfWork:
        """A unit of work that only reads (storage/reads.py): on SQLite a reader
        connection, no writer lock; anywhere, a write raises ReadOnlyViolation."""
        lock = None if self.reader_engine is not None else self.writers
        return ReadUnitOfWork(self.read_sessions, self.now, lock)

    async def dispose(self) -> None:
        if self.reader_engine is not None:
            await self.reader_engine.dispose()
        if self.pg_reader_engine is not None:
            await self.pg_reader_engine.dispose()
        await self.engine.dispose()


class SqlOutbox(SqlRepository[e.OutboxMessage]):
    """The outbox of a writing unit of work. A row added is one INSERT … RETURNING id
    of its own, then joins the session as if it had been read (later changes to it
    are written as usual): the ORM's flush, which add() would otherwise run for the
    whole session, cost a reply several times the statement itself. Rows staged
    for a batched insert (stage) are flushed first, so ids keep the order rows were
    written in (the sender delivers a chat's rows in id order)."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, e.OutboxMessage)

    async def add(self, obj: e.OutboxMessage) -> e.OutboxMessage:
        if any(isinstance(o, e.OutboxMessage) for o in self.session.new):
            await self.session.flush()
        values = outbox_values(obj)
        # The rest waits for the next flush (no FKs here): OUTBOX_ROW does not autoflush.
        obj.id = await OUTBOX_ROW.scalar(self.session, values)
        make_transient_to_detached(obj)
        self.session.add(obj)
        return obj

    async def prune_delivered(
        self, before: datetime, limit: int, *, now: datetime, resweep: timedelta
    ) -> int:
        """domain.ports.OutboxRepository.prune_delivered (storage/outbox_retention.py)."""
        return await prune_delivered(self.session, before, limit, now=now, resweep=resweep)


class ReaderSession(IndexedSession):
    """The session of a read-only unit of work: it counts the statements it runs
    (ReadUnitOfWork.statements; the engine learns which steps read nothing)."""


guard_session(ReaderSession)  # a read-only unit of work writes nothing


@event.listens_for(ReaderSession, "do_orm_execute")
def _counted(state: ORMExecuteState) -> None:
    info = state.session.info
    info["statements"] = info.get("statements", 0) + 1
    if state.execution_options.get(THREADED_OPTION):
        info["scans"] = info.get("scans", 0) + 1


_ACTOR: dict[tuple[str, bool], Any] = {}


def _actor_statement(dialect: str, lock: bool) -> Any:
    """SqlUnitOfWork.actor's statement, built once per dialect (locking: PostgreSQL's
    FOR UPDATE of the user's row)."""
    lock = lock and dialect == "postgresql"
    stmt = _ACTOR.get((dialect, lock))
    if stmt is None:
        user, state, row = e.User, e.ConversationState, e.OutboxMessage
        stmt = (
            sa.select(user, state, row)
            .outerjoin(state, state.user_id == user.id)  # type: ignore[attr-defined]
            # The screen's row only while the sender has yet to record its message
            # id: all handlers/context.py asks of it (a ~2 KB payload to decode
            # otherwise, at nearly every update of a person in a conversation).
            .outerjoin(
                row,
                sa.and_(
                    row.id == state.screen_outbox_id,  # type: ignore[attr-defined]
                    state.screen_message_id.is_(None),  # type: ignore[attr-defined]
                ),
            )
            .where(user.id == sa.bindparam("user_id"))  # type: ignore[attr-defined]
        )
        if lock:
            stmt = stmt.with_for_update(of=user)
        _ACTOR[(dialect, lock)] = stmt
    return stmt


# The repositories of a unit of work, made on first use (SqlUnitOfWork.__getattr__):
# an update touches a few of these ~45, and making them all cost ~0.1 ms a unit.
_REPOSITORIES: dict[str, Callable[[AsyncSession, Callable[[], datetime]], Any]] = {
    "users": lambda s, now: SqlRepository(s, e.User),
    "profiles": lambda s, now: SqlRepository(s, e.FreelancerProfile),
    "jobs": lambda s, now: SqlRepository(s, e.Job),
    "pitches": lambda s, now: SqlRepository(s, e.Pitch),
    "invitations": lambda s, now: SqlRepository(s, e.Invitation),
    "contracts": lambda s, now: SqlRepository(s, e.Contract),
    "milestones": lambda s, now: SqlRepository(s, e.Milestone),
    "submissions": lambda s, now: SqlRepository(s, e.Submission),
    "disputes": lambda s, now: SqlRepository(s, e.Dispute),
    "messages": lambda s, now: SqlRepository(s, e.ContractMessage),
    "reviews": lambda s, now: SqlRepository(s, e.Review),
    "saved": lambda s, now: SqlRepository(s, sv.SavedItem),
    "badges": lambda s, now: SqlRepository(s, sv.EarnedBadge),
    "subscriptions": lambda s, now: SqlRepository(s, e.AlertSubscription),
    "dismissals": lambda s, now: SqlRepository(s, e.JobDismissal),
    "reports": lambda s, now: SqlRepository(s, e.Report),
    "audit": lambda s, now: SqlRepository(s, e.AuditEntry),
    "blocks": lambda s, now: SqlBlocks(s, e.Block),
    "contact_flags": lambda s, now: SqlRepository(s, e.ContactFlag),
    "moderation_cases": lambda s, now: SqlRepository(s, e.ModerationCase),
    "appeals": lambda s, now: SqlRepository(s, e.Appeal),
    "payments": lambda s, now: SqlRepository(s, e.Payment),
    "payouts": lambda s, now: SqlRepository(s, e.Payout),
    "verifications": lambda s, now: SqlRepository(s, e.IdentityVerification),
    "records": lambda s, now: SqlTrackRecords(s),
    "outbox": lambda s, now: SqlOutbox(s),
    "conversations": lambda s, now: SqlRepository(s, e.ConversationState),
    "drafts": lambda s, now: SqlRepository(s, e.Draft),
    "processed_updates": lambda s, now: SqlProcessedUpdates(s),
    "bookkeeping": lambda s, now: SqlReadBookkeeping(s),
    "stored_updates": lambda s, now: SqlRepository(s, e.StoredUpdate),
    "gateway_calls": lambda s, now: SqlRepository(s, e.GatewayCall),
    "hourly_terms": lambda s, now: SqlHourlyTerms(s, ts.HourlyTerms),
    "weeks": lambda s, now: SqlRepository(s, ts.TimesheetWeek),
    "time_entries": lambda s, now: SqlRepository(s, ts.TimeEntry),
    "ledger": lambda s, now: SqlLedger(s, now),
    "search": lambda s, now: SqlJobSearch(s),
    "talent": lambda s, now: SqlTalentSearch(s),
    "service_search": lambda s, now: SqlServiceSearch(s),
    "services": lambda s, now: SqlServices(s, svc.Service),
    "service_packages": lambda s, now: SqlRepository(s, svc.ServicePackage),
    "service_extras": lambda s, now: SqlRepository(s, svc.ServiceExtra),
    "service_orders": lambda s, now: SqlRepository(s, svc.ServiceOrder),
}


class SqlUnitOfWork:
    """One database transaction. Commit explicitly; leaving without commit rolls back."""

    read_only = False

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        now: Callable[[], datetime],
        writers: asyncio.Lock | None = None,
    ) -> None:
        self._sessions = sessions
        self._now = now
        self._writers = writers
        self.events: list[Event] = []

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._writers is not None:
            await self._writers.acquire()
        try:
            self.session = self._sessions()
            # Beginning connects nothing (that waits for the first statement): called
            # as is, not through a greenlet (~25 µs of every unit of work).
            self.session.sync_session.begin()
        except BaseException:
            if self._writers is not None:
                self._writers.release()
            raise
        return self

    def __getattr__(self, name: str) -> Any:
        """A repository, made on first use and kept (see _REPOSITORIES)."""
        make = _REPOSITORIES.get(name)
        if make is None or "session" not in self.__dict__:
            raise AttributeError(name)
        repository = make(self.session, self._now)
        setattr(self, name, repository)
        return repository

    async def actor(self, user_id: int) -> tuple[e.User | None, e.ConversationState | None]:
        """The acting user and their conversation (with the outbox row its screen was
        sent by) in one statement, into the session: the repositories' get() then
        finds them without another. On PostgreSQL the user's row is locked, as
        users.get_for_update does. The engine starts every update with it."""
        stmt = _actor_statement(self.session.get_bind().dialect.name, not self.read_only)
        row = (await self.session.execute(stmt, {"user_id": user_id})).first()
        if row is None:
            return None, None
        # Held for the unit of work's life: the session's identity map only keeps
        # what something else references (the screen's row would be read again).
        self._actor_rows = tuple(row)
        return row[0], row[1]

    def emit(self, event: Event, /) -> None:
        self.events.append(event)

    async def commit(self) -> None:
        await self._write_conversations()
        await self.session.commit()

    async def _write_conversations(self) -> None:
        """Write the conversations this unit of work changed in plain statements
        (storage/read_bookkeeping.py), then take them out of the session so its
        flush skips them: nearly every step moves one, and its UPDATE through the
        ORM's flush cost ~0.27 ms of CPU, a Core one ~0.12 ms (issue 16, part 3).
        A conversation that is new or deleted is left to the flush (it may need
        its user's row first); these are rows already there, the last thing
        written, so nothing reads them again in this unit of work."""
        sync = self.session.sync_session
        changed = [
            o for o in sync.dirty if isinstance(o, e.ConversationState) and sync.is_modified(o)
        ]
        for state in changed:
            await self.bookkeeping.put_conversation(state, state.screen_outbox_id)
            self.session.expunge(state)

    async def rollback(self) -> None:
        await self.session.rollback()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            try:
                await self._close()
            finally:
                if self._writers is not None:
                    self._writers.release()

    async def _close(self) -> None:
        """Close the session; with no transaction left it holds no connection, and
        closing is only forgetting its objects: called as is, not through a greenlet."""
        if self.session.sync_session.get_transaction() is None:
            self.session.sync_session.close()
        else:
            await self.session.close()


class ReadUnitOfWork(SqlUnitOfWork):
    """A unit of work that only reads; its replies and conversation states are kept
    aside for the engine to write (storage/reads.py)."""

    read_only = True

    async def __aenter__(self) -> ReadUnitOfWork:
        await super().__aenter__()
        self.outbox = BufferedOutbox(self.session)
        self.conversations = BufferedConversations(self.session)
        return self

    @property
    def statements(self) -> int:
        """Statements run so far in this unit of work."""
        return int(self.session.sync_session.info.get("statements", 0))

    @property
    def scans(self) -> int:
        """Of those, the ones run on the connection's thread (THREADED: searches and
        other scans, storage/sqlite_driver.py)."""
        return int(self.session.sync_session.info.get("scans", 0))

    async def actor(self, user_id: int) -> tuple[e.User | None, e.ConversationState | None]:
        user, state = await super().actor(user_id)
        return user, self.conversations.found(user_id, state)

    def emit(self, event: Event, /) -> None:
        raise ReadOnlyViolation(f"a read-only unit of work emits {type(event).__name__}")

    async def commit(self) -> None:
        left = unflushed_writes(self.session)
        if left:
            raise ReadOnlyViolation(f"a read-only unit of work writes {', '.join(left)}")
        await self._end()

    async def _end(self) -> None:
        """End the snapshot; what was read stays readable (detached, not expired)."""
        self.session.expunge_all()
        await self.session.rollback()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.session.in_transaction():
            await self._end()
        await super().__aexit__(exc_type, exc, tb)
