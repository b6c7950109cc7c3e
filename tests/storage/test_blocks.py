"""Blocks.partners: everyone in a block with a user, either way, in one statement
(it is read by every search, browse and publish)."""

from __future__ import annotations

from domain.entities import Block, User
from tests.sql_log import SqlLog, reader_engine


async def test_partners_are_both_directions_in_one_statement(any_db):
    async with any_db.uow() as uow:
        for n in (1, 2, 3, 4, 5):
            await uow.users.add(User(id=n, name=f"u{n}"))
        await uow.blocks.add(Block(blocker_id=1, blocked_id=2))  # 1 blocked 2
        await uow.blocks.add(Block(blocker_id=3, blocked_id=1))  # 3 blocked 1
        await uow.blocks.add(Block(blocker_id=4, blocked_id=5))  # not 1's
        await uow.commit()
    with SqlLog(reader_engine(any_db)) as log:
        async with any_db.read_uow() as uow:
            assert await uow.blocks.partners(1) == {2, 3}
            assert await uow.blocks.partners(5) == {4}
            assert await uow.blocks.partners(9) == set()
    assert len([s for s in log.statements if "blocks" in s]) == 3
