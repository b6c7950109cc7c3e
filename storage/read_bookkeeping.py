"""The writer's half of a read-first update, in Core statements (issue 16, part 3).

A read-only update's step runs on a reader (handlers/engine.py: Engine._read_first);
what is left for the writer is always the same: check that the person is as the
reader saw them, refresh their last-active minute, insert the replies kept aside
and put the conversation state the step left. Through the ORM — the actor's row
and conversation loaded as entities, each reply attached to the session, the
state written by a flush at commit — that half cost ~0.9 ms on this project's VM,
as much as the floor's whole update (`python -m bench floor`). Here each is one
Core statement on the session's connection and nothing joins the session, so
its commit has nothing to flush: ~0.45 ms.

The update id's claim stays where every update makes it (storage/processed_updates.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.entities import STATE_FIELDS, ConversationState, OutboxMessage, in_progress
from domain.ports import ActorNow
from storage.direct import Direct
from storage.tables import conversations, outbox, users

_STATE_COLUMNS = tuple(conversations.c[name] for name in STATE_FIELDS)
_OUTBOX_FIELDS = tuple(c.name for c in outbox.columns if c.name != "id")
# One outbox row, its id returned: SqlOutbox.add (storage/database.py) writes replies so too.
OUTBOX_INSERT = (
    sa.insert(outbox)
    .values({name: sa.bindparam(name, type_=outbox.c[name].type) for name in _OUTBOX_FIELDS})
    .returning(outbox.c.id)
)
_CONVERSATION_COLUMNS = tuple(c.name for c in conversations.columns)


def _actor(dialect: str) -> Any:
    """What the writer compares of the person, and their conversation."""
    stmt = (
        sa.select(
            users.c.name,
            users.c.username,
            users.c.unreachable,
            users.c.banned,
            users.c.last_active_at,
            *_STATE_COLUMNS,
        )
        .select_from(users.outerjoin(conversations, conversations.c.user_id == users.c.id))
        .where(users.c.id == sa.bindparam("user_id"))
    )
    if dialect == "postgresql":  # as SqlUnitOfWork.actor locks it for the writer
        stmt = stmt.with_for_update(of=users)
    return stmt


def _conversation(dialect: str) -> Any:
    """The conversation's upsert (each dialect's own ON CONFLICT)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    put = insert(conversations).values(
        {n: sa.bindparam(n, type_=conversations.c[n].type) for n in _CONVERSATION_COLUMNS}
    )
    return put.on_conflict_do_update(
        index_elements=[conversations.c.user_id],
        set_={n: put.excluded[n] for n in _CONVERSATION_COLUMNS if n != "user_id"},
    )


# Each built once per dialect, values bound at execution, and run straight on
# SQLite's driver (storage/direct.py): nothing joins the session, so nothing of it
# waits to be flushed either.
_ACTOR = Direct(_actor, autoflush=False)
_TOUCH = Direct(
    sa.update(users)
    .where(users.c.id == sa.bindparam("user_id"))
    .values(last_active_at=sa.bindparam("now", type_=users.c.last_active_at.type)),
    autoflush=False,
)
_CONVERSATION = Direct(_conversation, autoflush=False)
OUTBOX_ROW = Direct(OUTBOX_INSERT, autoflush=False)


class SqlReadBookkeeping:
    """The writes of a read-first update (see the module docstring)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def actor(self, user_id: int) -> ActorNow | None:
        row = await _ACTOR.first(self.session, {"user_id": user_id})
        if row is None:
            return None
        name, username, unreachable, banned, last_active_at, *state = row
        return ActorNow(
            name=name,
            username=username,
            unreachable=bool(unreachable),
            banned=bool(banned),
            last_active_at=last_active_at,
            state=in_progress(tuple(state)),
        )

    async def touch(self, user_id: int, now: datetime) -> None:
        """Set the user's last-active time."""
        await _TOUCH.rows(self.session, {"user_id": user_id, "now": now})

    async def add_row(self, row: OutboxMessage, payload: dict[str, Any]) -> int:
        """Insert an outbox row (its id ignored) with this payload; the new id."""
        values = outbox_values(row) | {"payload": payload}
        return int(await OUTBOX_ROW.scalar(self.session, values))

    async def put_conversation(
        self, state: ConversationState, screen_outbox_id: int | None
    ) -> None:
        """Write the conversation as it is but for its screen's outbox row, created
        if the user has none."""
        values = {n: getattr(state, n) for n in _CONVERSATION_COLUMNS}
        await _CONVERSATION.rows(self.session, values | {"screen_outbox_id": screen_outbox_id})


def outbox_values(row: OutboxMessage) -> dict[str, Any]:
    """OUTBOX_INSERT's values for a row (every column but the id)."""
    return {name: getattr(row, name) for name in _OUTBOX_FIELDS}
