"""Forgetting delivered outbox rows (domain/usecases/outbox_retention.py has the rule).

What goes: rows in a final status (sent, failed, unreachable — never pending or
sending) created before the cut-off, except

- a conversation's screen (conversation_states.screen_outbox_id). A screen is a
  row of its user's private chat (handlers/context.py: only the acting user's
  chat's rows become screens, and conversations run in private chats only), whose
  id is the user's id, so the check is a probe of conversation_states' primary key;
- each chat's newest row that became a message (message_id). handlers/context.py
  `_just_delivered` compares a fast tap with it — "newer than every earlier
  message of the chat" — and with it gone, a press on any old message would count
  as one on the screen being delivered. It goes once a newer message of the chat
  exists (a probe of ix_outbox_chat_sent).

What stays elsewhere intact: outbox_payloads and outbox_fanouts (storage/outbox_store.py)
depend only on undelivered rows, which this never touches; a pending "buttons" row
naming a row that is gone finds no message id, and takes nothing (bot/sender.py).

How, cheaply at millions of rows: the walk goes in id order (ids grow with time)
from where the last batch stopped (retention_cursors' row "outbox"), reading at
most `limit` rows a call — a primary-key range — and stops at the first row that
is not old enough. The rows it must keep stay behind it instead of being read
again every tick. Once a walk has caught up with the cut-off, the next starts from
the oldest row again no sooner than `resweep` after the last one began, to take
the rows kept then that may go now (a screen the conversation left, a message a
newer one followed). On PostgreSQL the cursor's row is locked for the batch and
the rows are deleted with SKIP LOCKED (a row held elsewhere waits for the next walk).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.outbox_store import FAILED, SENT, UNREACHABLE, statuses_in
from storage.sqlite_driver import THREADED
from storage.tables import conversations, outbox, retention_cursors

NAME = "outbox"
FINAL = (SENT, FAILED, UNREACHABLE)
FUTURE_SLACK = timedelta(days=1)  # clocks of several processes may differ this much


def _final(status: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """An allow-list (a status added later is kept), tested on `status || ''`: an
    expression no index covers, so SQLite's planner cannot take ix_outbox_pending
    (status, priority, id) for it — every sent row ever, instead of the batch's
    key range (the same trick as SQLite's unary +; PostgreSQL is not misled)."""
    return statuses_in(status.op("||")(sa.literal_column("''")), FINAL)


def _old(created_at: sa.ColumnElement[datetime], before: datetime) -> sa.ColumnElement[bool]:
    # A row without a time (none is written so) cannot be recent.
    return sa.or_(created_at < before, created_at.is_(None))


def deletable(row: sa.Table | sa.Alias, before: datetime) -> sa.ColumnElement[bool]:
    """The rows that may go (see the module's docstring)."""
    newer = outbox.alias("newer")
    is_screen = sa.exists().where(
        conversations.c.user_id == row.c.chat_id,
        conversations.c.screen_outbox_id == row.c.id,
    )
    newer_message = sa.exists().where(
        newer.c.chat_id == row.c.chat_id,
        newer.c.id > row.c.id,
        newer.c.message_id.is_not(None),  # ix_outbox_chat_sent is partial
    )
    return sa.and_(
        _final(row.c.status),
        _old(row.c.created_at, before),
        ~is_screen,
        sa.or_(row.c.message_id.is_(None), newer_message),
    )


def window_statement(
    after: int, limit: int, before: datetime, now: datetime | None = None
) -> sa.Select:
    """The next `limit` rows after `after` in id order: how many, the last id, and
    the first id not old enough (None: all are). A row dated more than FUTURE_SLACK
    after `now` (a clock that was wrong) does not stop the walk — it would stall it
    until that date — but is stepped over, kept, and read again by the next walk."""
    rows = (
        sa.select(outbox.c.id, outbox.c.created_at)
        .where(outbox.c.id > after)
        .order_by(outbox.c.id)
        .limit(limit)
        .subquery("walk")
    )
    young = rows.c.created_at >= before
    if now is not None:
        young = sa.and_(young, rows.c.created_at <= now + FUTURE_SLACK)
    recent = sa.case((young, rows.c.id))
    return sa.select(sa.func.count(), sa.func.max(rows.c.id), sa.func.min(recent))


def delete_statement(after: int, until: int, before: datetime, dialect: str) -> sa.Delete:
    """Delete the deletable rows with after < id <= until."""
    row = outbox.alias("old")
    doomed = sa.select(row.c.id).where(row.c.id > after, row.c.id <= until, deletable(row, before))
    if dialect == "postgresql":
        doomed = doomed.with_for_update(of=row, skip_locked=True)
    return sa.delete(outbox).where(outbox.c.id.in_(doomed.scalar_subquery()))


async def prune_delivered(
    session: AsyncSession,
    before: datetime,
    limit: int,
    *,
    now: datetime,
    resweep: timedelta,
) -> int:
    """One batch of the walk, in the caller's transaction: at most `limit` rows read,
    those of them that may go deleted; how many were."""
    if limit <= 0:
        return 0
    dialect = session.get_bind().dialect.name
    c = retention_cursors.c
    read = sa.select(c.after_id, c.pass_started_at, c.caught_up).where(c.name == NAME)
    if dialect == "postgresql":
        read = read.with_for_update()
    found = (await session.execute(read)).first()
    if found is None:  # the first batch ever: the walk starts at the oldest row
        insert = (postgresql if dialect == "postgresql" else sqlite).insert(retention_cursors)
        first = {"name": NAME, "after_id": 0, "pass_started_at": now, "caught_up": False}
        await session.execute(insert.values(**first).on_conflict_do_nothing())
        found = (await session.execute(read)).one()
    after, started, caught_up = int(found[0]), found[1], bool(found[2])
    if caught_up and (started is None or started <= now - resweep):
        after, started, caught_up = 0, now, False  # a new walk from the oldest row
    count, last, first_recent = (
        await session.execute(
            window_statement(after, limit, before, now), execution_options=THREADED
        )
    ).one()
    deleted = 0
    if first_recent is not None:  # the walk reached rows not old enough: it waits there
        until, caught_up = int(first_recent) - 1, True
    elif count:
        until, caught_up = int(last), count < limit
    else:
        until, caught_up = after, True
    if until > after:
        result = await session.execute(
            delete_statement(after, until, before, dialect), execution_options=THREADED
        )
        deleted = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await session.execute(
        sa.update(retention_cursors)
        .where(c.name == NAME)
        .values(after_id=until, pass_started_at=started, caught_up=caught_up)
    )
    return deleted
