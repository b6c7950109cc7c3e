"""Blocks' queries of their own: everyone in a block with a user, either way, and
whether two people are in one."""

from __future__ import annotations

import sqlalchemy as sa

from domain.entities import Block
from storage.repository import SqlRepository
from storage.tables import blocks

# Compiled once (SQLAlchemy's cache keys it), the id bound: each half reads its
# index (the primary key's blocker_id; ix_blocks_blocked_id).
_PARTNERS = sa.union_all(
    sa.select(blocks.c.blocked_id).where(blocks.c.blocker_id == sa.bindparam("user_id")),
    sa.select(blocks.c.blocker_id).where(blocks.c.blocked_id == sa.bindparam("user_id")),
)

# Either of two blocked the other: a primary-key probe each way (no one blocks
# themselves, so (a, a) never matches).
_BETWEEN = sa.select(
    sa.exists().where(
        blocks.c.blocker_id.in_([sa.bindparam("a"), sa.bindparam("b")]),
        blocks.c.blocked_id.in_([sa.bindparam("a"), sa.bindparam("b")]),
    )
)


class SqlBlocks(SqlRepository[Block]):
    async def partners(self, user_id: int) -> set[int]:
        """domain.ports.Blocks.partners: one statement where two finds were (one
        round trip fewer in every search, browse and publish on PostgreSQL)."""
        await self.session.flush()  # a Core statement does not autoflush
        found = await self.session.execute(_PARTNERS, {"user_id": user_id})
        return {row[0] for row in found}

    async def between(self, a: int, b: int) -> bool:
        """domain.ports.Blocks.between: one Core statement, no Block loaded (a card
        asks it for every viewer; the ORM's find cost twice the statement)."""
        await self.session.flush()  # a Core statement does not autoflush
        return bool(await self.session.scalar(_BETWEEN, {"a": a, "b": b}))
