"""Blocks' one query of their own: everyone in a block with a user, either way."""

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


class SqlBlocks(SqlRepository[Block]):
    async def partners(self, user_id: int) -> set[int]:
        """domain.ports.Blocks.partners: one statement where two finds were (one
        round trip fewer in every search, browse and publish on PostgreSQL)."""
        await self.session.flush()  # a Core statement does not autoflush
        found = await self.session.execute(_PARTNERS, {"user_id": user_id})
        return {row[0] for row in found}
