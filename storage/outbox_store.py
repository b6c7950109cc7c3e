"""The outbox sender's side of the outbox table: claim rows, then record what happened.

Rows move pending → sending → sent | failed | unreachable (or back to pending with a
later `not_before` on 429 / network errors). 'sending' is a lease: `not_before` holds
its expiry, so the rows of a process that died mid-delivery become claimable again
once the lease runs out. The lease is short (a few seconds) and the holder renews it
while it holds the row (`renew`), so a live sender keeps its rows however long a call
or a rate-limit pause takes, and a dead one's rows are taken over within seconds.
Each outcome is written in its own short transaction right after the API call, so a
restart neither loses nor repeats rows — at most those in flight when the process died
are sent again.

The lease's expiry is also the holder's token: `claim` and `renew` return it, and
`renew`, the outcomes and `release` given a `lease` change the row only if it still
holds that expiry. A sender that stalled past its lease and lost the row to another
sender therefore learns so, and cannot record over the new holder's outcome.

Per chat, rows go strictly in id order: only a chat's earliest undelivered row (its
"head") may be claimed, and never while another row of that chat is being sent.
Across chats, claims are ordered by priority, then id. On PostgreSQL the claim locks
its rows with FOR UPDATE SKIP LOCKED, so several sender processes never take the same
row; SQLite serialises writers with BEGIN IMMEDIATE (see storage.database).

Shared payloads (issue 16, part 4): a job's alert card is stored once per language
and part in outbox_payloads, and each of its ~2,000 rows names it (payload_id) with
{} as its own payload. `claim` gives the sender the two merged, so a row looks as
if it carried its payload itself (the ORM does the same: storage/tables.py). A
shared payload is deleted in the transaction that delivers or drops its last
undelivered row (`_forget_payloads`); PostgreSQL serialises those checks on the
payload's row, so two senders finishing its last two rows at once cannot both
leave it behind.

Fan-outs (issue 16, part 4; migration 0026): a publish no longer writes a row per
recipient. It writes one outbox_fanouts row — the recipients decided then, packed
8 bytes a chat id in ascending order, and a cursor — and the card by language and
part in outbox_payloads (`write_fanout`). The sender expands it (`expand`): each
chunk of FANOUT_CHUNK recipients becomes ordinary outbox rows (one INSERT … SELECT
per language and part, reachable users only, as the publish used to write them) in
one transaction with advancing the cursor, the last chunk deleting the fan-out. A
crash between chunks loses nothing and repeats nothing: a chunk's rows and its
cursor commit together. Only the oldest fan-out is expanded, and on PostgreSQL only
by the sender holding its row lock (FOR UPDATE SKIP LOCKED: another sender skips
the round rather than expand the next fan-out ahead of it), so a chat gets a job's
alerts in publishing order. A chunk is expanded when fewer than FANOUT_LOW_WATER
alert rows wait: the outbox holds a chunk or two of alerts, not every job's
recipients, while the sender delivers 30 a second. The fan-out's payloads are kept
while it exists (`_forget_payloads`), and forgotten by its last chunk if no row
names them (a language nobody of the recipients reads).

Order: a chat's alerts keep their order among themselves (fan-outs are expanded
oldest first, a chunk's rows per language and part in order). A message written
for the chat after the publish but before its chunk was expanded (a reply, a
notification) now goes before the alert, not after it: alerts are the lowest
priority anyway.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from domain.entities import OutboxMessage
from storage.sqlite_driver import THREADED
from storage.tables import outbox, outbox_fanouts, outbox_payloads, users
from storage.tiers import capped_count

if TYPE_CHECKING:  # storage.database imports storage.search, which imports this
    from storage.database import Database, SqlUnitOfWork

PENDING, SENDING, SENT, FAILED, UNREACHABLE = "pending", "sending", "sent", "failed", "unreachable"
UNDELIVERED = (PENDING, SENDING)
DEFAULT_LEASE_S = 6.0  # a crashed sender's rows wait this long; live senders renew theirs
MAX_ERROR_CHARS = 1000
CANDIDATE_FACTOR = 3
FANOUT_CHUNK = 250  # recipients a fan-out is expanded by, in one transaction (a few ms
# of the writer lock on SQLite: a publish in the same process may queue behind it)
FANOUT_LOW_WATER = 500  # expand when fewer alert rows than this wait
_CHAT = struct.Struct("<q")  # a packed recipient: a chat id, 8 bytes little-endian


def statuses_in(status: sa.ColumnElement[str], values: Iterable[str]) -> sa.ColumnElement[bool]:
    """status IN (…) with the values written into the SQL text, not bound: a bound
    parameter proves nothing to SQLite's planner, nor to a generic plan."""
    return status.in_([sa.literal_column(f"'{s}'") for s in values])


def _undelivered(status: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """status IN ('pending', 'sending'), as the partial indexes ix_outbox_chat_queued
    and ix_outbox_payload_id are found by."""
    return statuses_in(status, UNDELIVERED)


async def add_shared_payload(
    session: AsyncSession, payload: dict[str, Any], created_at: datetime | None
) -> int:
    """Store a payload many rows will name (their payload_id); its id."""
    insert = sa.insert(outbox_payloads).returning(outbox_payloads.c.id)
    found = await session.execute(insert, {"payload": payload, "created_at": created_at})
    return int(found.scalar_one())


async def drop_shared_payload(session: AsyncSession, payload_id: int) -> None:
    """Delete a shared payload no row names (written for nobody)."""
    await session.execute(sa.delete(outbox_payloads).where(outbox_payloads.c.id == payload_id))


def pack_chat_ids(chat_ids: Iterable[int]) -> bytes:
    """Recipients as outbox_fanouts.recipients holds them: distinct, ascending, 8
    bytes each (a chunk is a byte range: the database hands back only it)."""
    ids = sorted(set(chat_ids))
    return struct.pack(f"<{len(ids)}q", *ids)


def unpack_chat_ids(packed: bytes) -> list[int]:
    return [chat for (chat,) in _CHAT.iter_unpack(packed)]


def ids_param(column: sa.ColumnElement[int], name: str, ids: Sequence[int], dialect: str) -> Any:
    """`column` is one of `ids`, the ids bound as one parameter: an array on
    PostgreSQL, a JSON array read by json_each on SQLite."""
    if dialect == "postgresql":
        return column == sa.any_(
            sa.bindparam(name, ids_value(ids, dialect), type_=postgresql.ARRAY(sa.BigInteger))
        )
    listed = sa.func.json_each(sa.bindparam(name, ids_value(ids, dialect))).table_valued("value")
    return column.in_(sa.select(listed.c.value))


def ids_value(ids: Sequence[int], dialect: str) -> Any:
    """What an ids_param binds: to run a statement kept with other ids."""
    if dialect == "postgresql":
        return list(ids)
    # The JSON of a list of ints, written directly: json.dumps took ~0.5 ms for the
    # ~2,000 candidates of a job's alerts.
    return "[" + ",".join(map(str, map(int, ids))) + "]"


async def insert_alert_rows(
    session: AsyncSession,
    user_ids: Sequence[int],
    parts: Mapping[str, Sequence[tuple[dict[str, Any], int | None]]],
    default_language: str,
    *,
    method: str,
    priority: int,
    created_at: datetime | None,
) -> dict[int | None, int]:
    """One outbox row per part of the card in each of these users' language
    (`parts[language]`: (own payload, shared payload id) in order; the default
    language's for any other), for those who exist and are reachable: INSERT …
    SELECT FROM users, one statement per language and part, rows in user id order.
    Returns {shared payload id (None: none): rows written}."""
    written: dict[int | None, int] = {}
    if not user_ids or not parts:
        return written
    dialect = session.get_bind().dialect.name
    wanted = ids_param(users.c.id, "alert_ids", sorted(set(user_ids)), dialect)
    others = sorted(lang for lang in parts if lang != default_language)
    for language, payloads in parts.items():
        if language == default_language:
            speaks = sa.or_(users.c.language.is_(None), users.c.language.notin_(others))
        else:
            speaks = users.c.language == language
        for own, shared in payloads:
            rows = (
                sa.select(
                    users.c.id,
                    sa.literal(method, outbox.c.method.type),
                    sa.literal(own, outbox.c.payload.type),
                    sa.literal(shared, outbox.c.payload_id.type),
                    sa.literal(priority, outbox.c.priority.type),
                    sa.literal(PENDING, outbox.c.status.type),
                    sa.literal(0, outbox.c.attempts.type),
                    sa.literal(created_at, outbox.c.created_at.type),
                )
                .where(wanted, users.c.unreachable.is_(False), speaks)
                .order_by(users.c.id)
            )
            columns = ["chat_id", "method", "payload", "payload_id", "priority", "status"]
            insert = sa.insert(outbox).from_select([*columns, "attempts", "created_at"], rows)
            # Hundreds of rows: on aiosqlite's thread (sqlite_driver.py).
            result = await session.execute(insert, execution_options=THREADED)
            written[shared] = written.get(shared, 0) + (result.rowcount or 0)
    return written


async def write_fanout(
    session: AsyncSession,
    user_ids: Sequence[int],
    messages: Mapping[str, Sequence[dict[str, Any]]],
    default_language: str,
    *,
    priority: int,
    created_at: datetime | None,
    method: str = "send",
) -> int | None:
    """A fan-out of these recipients (written in the caller's transaction): its row
    and its payloads, `messages[language]` being the card's parts in order. Its id
    (None: nobody to send to)."""
    packed = pack_chat_ids(user_ids)
    if not packed or not messages:
        return None
    fanout_id = (
        await session.execute(
            sa.insert(outbox_fanouts).returning(outbox_fanouts.c.id),
            {
                "method": method,
                "priority": priority,
                "default_language": default_language,
                "recipients": packed,
                "total": len(packed) // _CHAT.size,
                "cursor": 0,
                "created_at": created_at,
            },
        )
    ).scalar_one()
    await session.execute(
        sa.insert(outbox_payloads),
        [
            {
                "payload": payload,
                "created_at": created_at,
                "fanout_id": fanout_id,
                "language": language,
                "part": part,
            }
            for language, payloads in messages.items()
            for part, payload in enumerate(payloads)
        ],
    )
    return int(fanout_id)


async def expand_fanout(session: AsyncSession, chunk: int = FANOUT_CHUNK) -> int:
    """Expand the next FANOUT_CHUNK recipients of the oldest fan-out into outbox rows,
    in the caller's transaction (which commits them with the cursor); the recipients
    taken (0: no fan-out, or another sender is expanding it right now).

    PostgreSQL: the oldest fan-out's row is locked with SKIP LOCKED, then read again
    in a new statement (its cursor as the last expander committed it). SQLite: the
    caller's BEGIN IMMEDIATE transaction is the only writer."""
    dialect = session.get_bind().dialect.name
    f = outbox_fanouts
    head = await session.scalar(sa.select(f.c.id).order_by(f.c.id).limit(1))
    if head is None:
        return 0
    if dialect == "postgresql":
        lock = sa.select(f.c.id).where(f.c.id == head).with_for_update(skip_locked=True)
        if await session.scalar(lock) is None:
            return 0  # being expanded by another sender (or just finished)
    size = _CHAT.size
    found = (
        await session.execute(
            sa.select(
                f.c.method,
                f.c.priority,
                f.c.default_language,
                f.c.total,
                f.c.cursor,
                f.c.created_at,
                sa.func.substr(
                    f.c.recipients, f.c.cursor * size + 1, chunk * size, type_=sa.LargeBinary
                ),
            ).where(f.c.id == head)
        )
    ).one_or_none()
    if found is None:
        return 0
    method, priority, default_language, total, cursor, created_at, packed = found
    chat_ids = unpack_chat_ids(bytes(packed or b""))
    stored = await session.execute(
        sa.select(outbox_payloads.c.id, outbox_payloads.c.language)
        .where(outbox_payloads.c.fanout_id == head)
        .order_by(outbox_payloads.c.language, outbox_payloads.c.part)
    )
    parts: dict[str, list[tuple[dict[str, Any], int | None]]] = {}
    payload_ids: list[int] = []
    for payload_id, language in stored.all():
        parts.setdefault(language or default_language, []).append(({}, payload_id))
        payload_ids.append(payload_id)
    # The default language's statement first, as the publish wrote them.
    ordered = dict(sorted(parts.items(), key=lambda item: item[0] != default_language))
    await insert_alert_rows(
        session,
        chat_ids,
        ordered,
        default_language,
        method=method,
        priority=priority,
        created_at=created_at,
    )
    done = cursor + len(chat_ids)
    if done >= total or not chat_ids:
        await session.execute(sa.delete(f).where(f.c.id == head))
        # A card in a language none of them reads (or whose rows were all delivered
        # already) goes now; the others with their last row.
        await _forget_payloads(session, payload_ids, dialect)
    else:
        await session.execute(sa.update(f).where(f.c.id == head).values(cursor=done))
    return max(len(chat_ids), 1)


async def _forget_payloads(
    session: AsyncSession, payload_ids: Iterable[int | None], dialect: str
) -> int:
    """Delete those of these shared payloads that no undelivered row names any more
    (called after rows naming them were delivered or dropped, in that transaction).

    On PostgreSQL the payloads' rows are locked first (in id order): two
    transactions finishing a payload's last two rows take turns, and the later one's
    check — a new statement, a new snapshot — sees the earlier one's rows done."""
    ids = sorted({i for i in payload_ids if i is not None})
    if not ids:
        return 0
    if dialect == "postgresql":
        await session.execute(
            sa.select(outbox_payloads.c.id)
            .where(outbox_payloads.c.id.in_(ids))
            .order_by(outbox_payloads.c.id)
            .with_for_update()
        )
    named = outbox.alias("named")
    wanted = sa.exists().where(
        named.c.payload_id == outbox_payloads.c.id,
        named.c.payload_id.is_not(None),  # ix_outbox_payload_id is partial
        _undelivered(named.c.status),
    )
    # A fan-out's payloads wait for its rows still to be expanded.
    expanding = sa.exists().where(outbox_fanouts.c.id == outbox_payloads.c.fanout_id)
    result = await session.execute(
        sa.delete(outbox_payloads).where(outbox_payloads.c.id.in_(ids), ~wanted, ~expanding)
    )
    return result.rowcount or 0


class OutboxStore:
    def __init__(self, database: Database, lease_s: float = DEFAULT_LEASE_S) -> None:
        self.db = database
        self.lease = timedelta(seconds=lease_s)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[SqlUnitOfWork]:
        # On SQLite, Database.uow() queues this process's writers (see storage.database).
        async with self.db.uow() as uow:
            yield uow

    def now(self) -> datetime:
        """The database clock: lease ends and not_before are on it."""
        return self.db.now()

    # -- claiming ------------------------------------------------------------------------

    def _claimable_heads(
        self, now: datetime, limit: int, max_priority: int | None = None
    ) -> list[sa.Select[tuple[int, int]]]:
        """(id, priority) of due chat heads, most urgent first, in two bounded queries:
        pending rows past their not_before, and rows whose lease ran out.

        A row is its chat's head when no earlier row of the chat is undelivered. Each
        query walks its index in (priority, id) order — `ix_outbox_pending` for the
        pending rows — and checks that with one probe of `ix_outbox_chat_queued` (the
        undelivered rows by chat), so it stops
        after `limit` heads however many rows are queued (a window function over every
        undelivered row cost ~120 ms a claim with 100,000 queued)."""
        row, earlier = outbox.alias("head"), outbox.alias("earlier")
        is_head = ~sa.exists().where(
            earlier.c.chat_id == row.c.chat_id,
            _undelivered(earlier.c.status),
            earlier.c.id < row.c.id,
        )
        urgent = [row.c.priority <= max_priority] if max_priority is not None else []
        pending = (
            sa.select(row.c.id, row.c.priority)
            .where(
                row.c.status == PENDING,
                sa.or_(row.c.not_before.is_(None), row.c.not_before <= now),
                *urgent,
                is_head,
            )
            .order_by(row.c.priority, row.c.id)
            .limit(limit)
        )
        expired = (
            sa.select(row.c.id, row.c.priority)
            .where(row.c.status == SENDING, row.c.not_before <= now, *urgent, is_head)
            .order_by(row.c.priority, row.c.id)
            .limit(limit)
        )
        return [pending, expired]

    async def _head_ids(
        self, session: AsyncSession, now: datetime, limit: int, max_priority: int | None = None
    ) -> list[int]:
        found: list[tuple[int, int]] = []
        for query in self._claimable_heads(now, limit, max_priority):
            found.extend((priority, row_id) for row_id, priority in await session.execute(query))
        return [row_id for _, row_id in sorted(found)[:limit]]

    async def claim(self, limit: int, max_priority: int | None = None) -> list[OutboxMessage]:
        """Lease up to `limit` due rows (at most one per chat), most urgent first; with
        `max_priority`, only rows that urgent (e.g. 0: replies to the person acting).

        Rows for users already marked unreachable are dropped instead of claimed.
        """
        if limit <= 0:
            return []
        now = self.now()
        async with self._transaction() as uow:
            session = uow.session
            # Over-fetch candidates: rows another process is claiming right now are skipped
            # below, and the ones behind them should not wait for the next poll.
            ids = await self._head_ids(session, now, limit * CANDIDATE_FACTOR + 10, max_priority)
            if not ids:
                return []
            # Lock and re-check: another process may have claimed or finished a row since the
            # snapshot above (PostgreSQL re-evaluates the WHERE on the locked row version).
            lock = (
                sa.select(outbox)
                .where(
                    outbox.c.id.in_(ids),
                    sa.or_(
                        sa.and_(
                            outbox.c.status == PENDING,
                            sa.or_(outbox.c.not_before.is_(None), outbox.c.not_before <= now),
                        ),
                        sa.and_(outbox.c.status == SENDING, outbox.c.not_before <= now),
                    ),
                )
                .order_by(outbox.c.priority, outbox.c.id)
                .limit(limit)
            )
            if self.db.dialect == "postgresql":
                lock = lock.with_for_update(skip_locked=True)
            rows = (await session.execute(lock)).mappings().all()
            if not rows:
                await uow.commit()
                return []
            blocked = await self._unreachable_users({r["chat_id"] for r in rows}, session)
            claimed = [r for r in rows if r["chat_id"] not in blocked]
            dropped_chats = {r["chat_id"] for r in rows if r["chat_id"] in blocked}
            if claimed:
                await session.execute(
                    sa.update(outbox)
                    .where(outbox.c.id.in_([r["id"] for r in claimed]))
                    .values(status=SENDING, not_before=now + self.lease)
                )
            for chat_id in dropped_chats:
                await self._drop_chat(session, chat_id, "user unreachable", self.db.dialect)
            shared = await self._shared_payloads(session, {r["payload_id"] for r in claimed})
            await uow.commit()
        lease_end = now + self.lease
        messages = [
            OutboxMessage(
                id=r["id"],
                chat_id=r["chat_id"],
                method=r["method"],
                payload={**shared.get(r["payload_id"], {}), **r["payload"]},
                priority=r["priority"],
                status=SENDING,
                attempts=r["attempts"],
                not_before=lease_end,
                created_at=r["created_at"],
            )
            for r in claimed
        ]
        messages.sort(key=lambda m: (m.priority, m.id))
        return messages

    @staticmethod
    async def _shared_payloads(
        session: AsyncSession, payload_ids: Collection[int | None]
    ) -> dict[int, dict[str, Any]]:
        """The shared payloads of claimed rows, by id (one read for the batch)."""
        ids = sorted(i for i in payload_ids if i is not None)
        if not ids:
            return {}
        found = await session.execute(
            sa.select(outbox_payloads.c.id, outbox_payloads.c.payload).where(
                outbox_payloads.c.id.in_(ids)
            )
        )
        return {row_id: payload for row_id, payload in found.all()}

    @staticmethod
    async def _unreachable_users(chat_ids: Collection[int], session: AsyncSession) -> set[int]:
        private = [c for c in chat_ids if c > 0]  # a private chat's id is its user's id
        if not private:
            return set()
        query = sa.select(users.c.id).where(users.c.id.in_(private), users.c.unreachable.is_(True))
        return set((await session.execute(query)).scalars())

    @staticmethod
    async def _drop_chat(session: AsyncSession, chat_id: int, error: str, dialect: str) -> int:
        result = await session.execute(
            sa.update(outbox)
            .where(outbox.c.chat_id == chat_id, _undelivered(outbox.c.status))
            .values(status=UNREACHABLE, error=error)
            .returning(outbox.c.payload_id)
        )
        payload_ids = list(result.scalars())
        await _forget_payloads(session, payload_ids, dialect)
        return len(payload_ids)

    # -- keeping the lease -----------------------------------------------------------------

    @staticmethod
    def _held(row_id: int, lease: datetime | None) -> sa.ColumnElement[bool]:
        """The row is being sent, and (given its lease token) still by its holder."""
        held = sa.and_(outbox.c.id == row_id, outbox.c.status == SENDING)
        return held if lease is None else sa.and_(held, outbox.c.not_before == lease)

    async def renew(self, leases: Mapping[int, datetime]) -> dict[int, datetime]:
        """Extend the leases of rows this sender holds ({row id: its current lease end}).

        Returns {row id: new lease end} for the rows still held; a row missing from it
        was lost (its lease ran out and another sender claimed it) or is no longer
        'sending' (its outcome was recorded meanwhile)."""
        if not leases:
            return {}
        until = self.now() + self.lease
        kept: dict[int, datetime] = {}
        async with self._transaction() as uow:
            for row_id, lease in leases.items():
                result = await uow.session.execute(
                    sa.update(outbox).where(self._held(row_id, lease)).values(not_before=until)
                )
                if result.rowcount:
                    kept[row_id] = until
            await uow.commit()
        return kept

    # -- outcomes (each its own short transaction) ---------------------------------------

    async def _update_claimed(
        self, row_id: int, lease: datetime | None = None, **values: object
    ) -> bool:
        """Update a row this process holds; False if it is no longer 'sending' (or, given
        its lease token, no longer held with that lease: it was lost to another sender)."""
        async with self._transaction() as uow:
            result = await uow.session.execute(
                sa.update(outbox)
                .where(self._held(row_id, lease))
                .values(**values)
                .returning(outbox.c.payload_id)
            )
            updated = result.all()
            if updated and values.get("status") in (SENT, FAILED, UNREACHABLE):
                await _forget_payloads(uow.session, [updated[0][0]], self.db.dialect)
            await uow.commit()
        return bool(updated)

    async def mark_sent(
        self, row_id: int, lease: datetime | None = None, message_id: int | None = None
    ) -> bool:
        """Delivered; `message_id` is the message a send became (a later row may
        refer to it, e.g. to take its buttons away)."""
        values: dict[str, object] = {"status": SENT, "sent_at": self.now(), "error": None}
        if message_id is not None:
            values["message_id"] = message_id
        return await self._update_claimed(row_id, lease, **values)

    async def message_id_of(self, row_id: int) -> int | None:
        """The message an earlier row became (None: not sent, or it was an edit)."""
        async with self._transaction() as uow:
            query = sa.select(outbox.c.message_id).where(
                outbox.c.id == row_id, outbox.c.status == SENT
            )
            return (await uow.session.execute(query)).scalar_one_or_none()

    async def mark_failed(self, row_id: int, error: str, lease: datetime | None = None) -> bool:
        """For good: the request itself is wrong (400), retrying cannot help."""
        return await self._update_claimed(
            row_id,
            lease,
            status=FAILED,
            error=error[:MAX_ERROR_CHARS],
            attempts=outbox.c.attempts + 1,
        )

    async def mark_unreachable(self, row_id: int, chat_id: int, error: str) -> int:
        """403: flag the user, and drop this row and every other undelivered row of the chat.

        Returns how many rows were dropped."""
        async with self._transaction() as uow:
            session = uow.session
            await session.execute(
                sa.update(outbox)
                .where(outbox.c.id == row_id)
                .values(attempts=outbox.c.attempts + 1)
            )
            if chat_id > 0:
                await session.execute(
                    sa.update(users).where(users.c.id == chat_id).values(unreachable=True)
                )
            dropped = await self._drop_chat(
                session, chat_id, error[:MAX_ERROR_CHARS], self.db.dialect
            )
            await uow.commit()
        return dropped

    async def reschedule(
        self,
        row_id: int,
        delay_s: float,
        error: str | None = None,
        lease: datetime | None = None,
    ) -> bool:
        """Back to pending, due again in delay_s (429's retry_after, or a backoff)."""
        return await self._update_claimed(
            row_id,
            lease,
            status=PENDING,
            not_before=self.now() + timedelta(seconds=delay_s),
            attempts=outbox.c.attempts + 1,
            error=error[:MAX_ERROR_CHARS] if error else None,
        )

    async def release(self, row_ids: Sequence[int], lease: datetime | None = None) -> None:
        """Give back rows claimed but not attempted (graceful stop): due again at once.
        With `lease`, only rows still held with that lease end (not lost meanwhile)."""
        if not row_ids:
            return
        held = sa.and_(outbox.c.id.in_(list(row_ids)), outbox.c.status == SENDING)
        if lease is not None:
            held = sa.and_(held, outbox.c.not_before == lease)
        async with self._transaction() as uow:
            await uow.session.execute(
                sa.update(outbox).where(held).values(status=PENDING, not_before=None)
            )
            await uow.commit()

    # -- fan-outs ------------------------------------------------------------------------

    @staticmethod
    async def _expansion_wanted(session: AsyncSession, low_water: int) -> bool:
        """Is there a fan-out to expand, and fewer than `low_water` rows of its
        priority or lower waiting? (ix_outbox_pending, read up to low_water rows)"""
        head = (
            await session.execute(
                sa.select(outbox_fanouts.c.priority).order_by(outbox_fanouts.c.id).limit(1)
            )
        ).first()
        if head is None:
            return False
        waiting = sa.select(outbox.c.id).where(
            outbox.c.status == PENDING, outbox.c.priority >= head[0]
        )
        return await capped_count(session, waiting, low_water) < low_water

    async def expand(
        self, chunk: int = FANOUT_CHUNK, low_water: int = FANOUT_LOW_WATER, *, force: bool = False
    ) -> int:
        """Expand the oldest fan-out's next chunk, if few alert rows wait (or `force`);
        the recipients taken (0: nothing done). The check reads without the writer's
        lock; the chunk is one transaction of its own."""
        if not force:
            async with self.db.read_uow() as reader:
                if not await self._expansion_wanted(reader.session, low_water):
                    return 0
        async with self._transaction() as uow:
            taken = await expand_fanout(uow.session, chunk)
            await uow.commit()
        return taken

    # -- inspection ----------------------------------------------------------------------

    async def depth(self) -> int:
        """Messages waiting to be delivered: rows pending or being sent right now, and
        fan-outs' recipients not yet expanded into rows."""
        async with self._transaction() as uow:
            query = sa.select(sa.func.count()).select_from(outbox)
            rows = (
                await uow.session.execute(query.where(outbox.c.status.in_(UNDELIVERED)))
            ).scalar_one()
            left = await uow.session.scalar(
                sa.select(sa.func.sum(outbox_fanouts.c.total - outbox_fanouts.c.cursor))
            )
            return int(rows) + int(left or 0)

    async def has_due(self, low_water: int = FANOUT_LOW_WATER) -> bool:
        """Is there a row a sender could take right now, or a fan-out it would expand?
        (flush waits for False)"""
        async with self._transaction() as uow:
            if await self._head_ids(uow.session, self.now(), 1):
                return True
            return await self._expansion_wanted(uow.session, low_water)
