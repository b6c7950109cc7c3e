"""Read-only units of work: the reads of an update, outside the writer queue.

On SQLite a unit of work that only reads runs on a reader connection of its own
engine (`PRAGMA query_only`, a deferred `BEGIN`: a WAL snapshot, no writer lock),
so a search never queues behind a write. What an update always writes — its
replies (outbox rows) and the person's conversation state — is kept aside here
(`BufferedOutbox`, `BufferedConversations`) and written afterwards by the engine
in one short writer transaction (handlers/engine.py, docs/architecture.md).

Anything else a read-only unit of work tries to change — a flush of a new, changed
or deleted row, an emitted domain event — raises ReadOnlyViolation: the route was
declared read-only but writes (the engine then runs it as a writing one, and in
strict mode, the tests', refuses it loudly).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from domain.entities import STATE_FIELDS, ConversationState, OutboxMessage
from domain.ports import ReadOnlyViolation
from storage.repository import SqlRepository

__all__ = ["BufferedConversations", "BufferedOutbox", "ReadOnlyViolation", "guard_session"]


def guard_session(session_class: type[Session]) -> None:
    """Refuse any flush of a session of this class that would write (new, changed or
    deleted rows). Listened for on the class once: a listener added to each session
    cost a read-only unit of work ~0.1 ms."""

    @event.listens_for(session_class, "before_flush")
    def refuse(sync: Session, _context: Any, _instances: Any) -> None:
        pending = [*sync.new, *sync.deleted, *(o for o in sync.dirty if sync.is_modified(o))]
        if pending:
            names = sorted({type(o).__name__ for o in pending})
            raise ReadOnlyViolation(f"a read-only unit of work writes {', '.join(names)}")


def unflushed_writes(session: AsyncSession) -> list[str]:
    """What the session would still write (changed rows never flushed)."""
    sync = session.sync_session
    pending = [*sync.new, *sync.deleted, *(o for o in sync.dirty if sync.is_modified(o))]
    return sorted({type(o).__name__ for o in pending})


class BufferedOutbox(SqlRepository[OutboxMessage]):
    """The outbox of a read-only unit of work: rows added are kept in memory with
    a provisional (negative) id until the engine writes them for real."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, OutboxMessage)
        self.rows: list[OutboxMessage] = []
        self._ids = count(-1, -1)

    async def add(self, obj: OutboxMessage) -> OutboxMessage:
        obj.id = next(self._ids)
        self.rows.append(obj)
        return obj

    async def stage(self, obj: OutboxMessage) -> None:
        await self.add(obj)

    async def get(self, key: Any) -> OutboxMessage | None:
        if isinstance(key, int) and key < 0:
            return next((r for r in self.rows if r.id == key), None)
        return await super().get(key)

    async def get_for_update(self, key: Any) -> OutboxMessage | None:
        raise ReadOnlyViolation("a read-only unit of work locks an outbox row")

    async def delete(self, obj: OutboxMessage) -> None:
        raise ReadOnlyViolation("a read-only unit of work deletes an outbox row")

    async def prune_delivered(
        self, before: datetime, limit: int, *, now: datetime, resweep: timedelta
    ) -> int:
        raise ReadOnlyViolation("a read-only unit of work deletes outbox rows")


class BufferedConversations(SqlRepository[ConversationState]):
    """Conversation states as detached copies: the steps change them freely, and
    the engine writes the final one (only if it differs from what was read)."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, ConversationState)
        # As found, per user: ConversationState.fields() (None: none). The row's own
        # data, not a copy: the steps get `now`, and nothing writes the session's row.
        self.read: dict[int, tuple[Any, ...] | None] = {}
        self.now: dict[int, ConversationState | None] = {}  # as the steps left it

    async def get(self, key: Any) -> ConversationState | None:
        user_id = int(key)
        if user_id not in self.now:
            self.found(user_id, await self.session.get(ConversationState, user_id))
        return self.now[user_id]

    def found(self, user_id: int, row: ConversationState | None) -> ConversationState | None:
        """The user's conversation as read (None: none), unless already known; the
        copy the steps change."""
        if user_id not in self.now:
            self.read[user_id] = row.fields() if row is not None else None
            self.now[user_id] = _detached(row) if row is not None else None
        return self.now[user_id]

    async def add(self, obj: ConversationState) -> ConversationState:
        self.read.setdefault(obj.user_id, None)
        self.now[obj.user_id] = obj
        return obj

    async def get_for_update(self, key: Any) -> ConversationState | None:
        raise ReadOnlyViolation("a read-only unit of work locks a conversation")

    async def delete(self, obj: ConversationState) -> None:
        raise ReadOnlyViolation("a read-only unit of work deletes a conversation")

    def changed(self) -> dict[int, ConversationState]:
        """The states the steps changed (or created), by user."""
        return {
            uid: now
            for uid, now in self.now.items()
            if now is not None and now.fields() != self.read.get(uid)
        }


def _detached(row: ConversationState) -> ConversationState:
    fields = dict(zip(STATE_FIELDS, row.fields(), strict=True))
    fields["data"] = json_copy(row.data)
    return ConversationState(user_id=row.user_id, **fields)


def json_copy(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists and scalars): what copy.deepcopy makes
    of it, without its memo (a conversation's data is copied on every read-first
    update)."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value
