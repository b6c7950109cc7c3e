"""The log of processed update ids (domain.ports.ProcessedUpdates).

`claim` is one INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING statement on
both databases, so deciding "new or duplicate" and recording it cannot be split
by another process: on PostgreSQL a second claim of the same id waits for the
first transaction and then sees its row (fresh: nothing returned, a duplicate);
SQLite runs one writer at a time. `prune` deletes a bounded batch, oldest first
(the index on processed_at), skipping rows another transaction holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.entities import ProcessedUpdate
from storage.direct import Direct
from storage.repository import SqlRepository
from storage.tables import processed_updates as table


def _before(moment: datetime) -> Any:
    # A row without a time (none is written so) cannot be within any window.
    return sa.or_(table.c.processed_at < moment, table.c.processed_at.is_(None))


def _claim_statement(dialect: str) -> Any:
    """The claim for a dialect, values bound at execution (Direct builds it once per
    dialect: building it anew for every update cost more than running it)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = sa.bindparam("now", type_=table.c.processed_at.type)
    return (
        insert(table)
        .values(update_id=sa.bindparam("update_id"), processed_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.update_id],
            set_={"processed_at": now},
            # an id seen before the window is a new update
            where=_before(sa.bindparam("since", type_=table.c.processed_at.type)),
        )
        .returning(table.c.update_id)
    )


# Every update runs it: straight on SQLite's driver (storage/direct.py).
_CLAIM = Direct(_claim_statement)


class SqlProcessedUpdates(SqlRepository[ProcessedUpdate]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, ProcessedUpdate)

    async def claim(self, update_id: int, now: datetime, since: datetime) -> bool:
        params = {"update_id": update_id, "now": now, "since": since}
        return await _CLAIM.first(self.session, params) is not None

    async def processed_since(self, update_id: int, since: datetime) -> bool:
        stmt = sa.select(table.c.update_id).where(
            table.c.update_id == update_id, table.c.processed_at >= since
        )
        return (await self.session.execute(stmt)).first() is not None

    async def prune(self, before: datetime, limit: int) -> int:
        oldest = (
            sa.select(table.c.update_id)
            .where(_before(before))
            .order_by(table.c.processed_at)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer
        )
        result = await self.session.execute(
            sa.delete(table).where(table.c.update_id.in_(oldest.scalar_subquery()))
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
