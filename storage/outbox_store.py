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
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.entities import OutboxMessage
from storage.tables import outbox, outbox_payloads, users

if TYPE_CHECKING:  # storage.database imports storage.search, which imports this
    from storage.database import Database, SqlUnitOfWork

PENDING, SENDING, SENT, FAILED, UNREACHABLE = "pending", "sending", "sent", "failed", "unreachable"
UNDELIVERED = (PENDING, SENDING)
DEFAULT_LEASE_S = 6.0  # a crashed sender's rows wait this long; live senders renew theirs
MAX_ERROR_CHARS = 1000
CANDIDATE_FACTOR = 3


def _undelivered(status: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """status IN ('pending', 'sending') with the values in the SQL text, as the partial
    indexes ix_outbox_chat_queued and ix_outbox_payload_id are found by (a bound
    parameter proves nothing to SQLite's planner, nor to a generic plan)."""
    return status.in_([sa.literal_column(f"'{s}'") for s in UNDELIVERED])


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
    result = await session.execute(
        sa.delete(outbox_payloads).where(outbox_payloads.c.id.in_(ids), ~wanted)
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

    # -- inspection ----------------------------------------------------------------------

    async def depth(self) -> int:
        """Rows waiting to be delivered (pending, or being sent right now)."""
        async with self._transaction() as uow:
            query = sa.select(sa.func.count()).select_from(outbox)
            return int(
                (
                    await uow.session.execute(query.where(outbox.c.status.in_(UNDELIVERED)))
                ).scalar_one()
            )

    async def has_due(self) -> bool:
        """Is there a row a sender could take right now? (flush waits for False)"""
        async with self._transaction() as uow:
            return bool(await self._head_ids(uow.session, self.now(), 1))
