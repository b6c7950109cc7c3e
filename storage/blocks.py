"""Blocks' queries of their own: everyone in a block with a user, either way, and
whether two people are in one."""

from __future__ import annotations

import sqlalchemy as sa

from domain.entities import Block
from storage.direct import Direct
from storage.repository import SqlRepository
from storage.tables import blocks

# Each straight on SQLite's driver (storage/direct.py), which flushes the session's
# pending changes first (a new block is seen). The id bound: each half reads its
# index (the primary key's blocker_id; ix_blocks_blocked_id).
_PARTNERS = Direct(
    sa.union_all(
        sa.select(blocks.c.blocked_id).where(blocks.c.blocker_id == sa.bindparam("user_id")),
        sa.select(blocks.c.blocker_id).where(blocks.c.blocked_id == sa.bindparam("user_id")),
    )
)

# Either of two blocked the other: a primary-key probe each way (no one blocks
# themselves, so (a, a) never matches).
_BETWEEN = Direct(
    sa.select(
        sa.exists().where(
            blocks.c.blocker_id.in_([sa.bindparam("a"), sa.bindparam("b")]),
            blocks.c.blocked_id.in_([sa.bindparam("a"), sa.bindparam("b")]),
        )
    )
)


class SqlBlocks(SqlRepository[Block]):
    async def partners(self, user_id: int) -> set[int]:
        """domain.ports.Blocks.partners: one statement where two finds were (one
        round trip fewer in every search, browse and publish on PostgreSQL)."""
        found = await _PARTNERS.rows(self.session, {"user_id": user_id})
        return {row[0] for row in found}

    async def between(self, a: int, b: int) -> bool:
        """domain.ports.Blocks.between: one Core statement, no Block loaded (a card
        asks it for every viewer; the ORM's find cost twice the statement)."""
        return bool(await _BETWEEN.scalar(self.session, {"a": a, "b": b}))
