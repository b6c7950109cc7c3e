"""Blocks.partners: everyone in a block with a user, either way, in one statement
(it is read by every search, browse and publish); Blocks.between: whether two
people are in a block, either way, in one statement (every card and contact)."""

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


async def test_between_is_either_direction_in_one_statement(any_db):
    async with any_db.uow() as uow:
        for n in (1, 2, 3, 4):
            await uow.users.add(User(id=n, name=f"u{n}"))
        await uow.blocks.add(Block(blocker_id=1, blocked_id=2))
        await uow.blocks.add(Block(blocker_id=3, blocked_id=1))
        await uow.commit()
    pairs = [(1, 2), (2, 1), (3, 1), (1, 3), (2, 3), (1, 1), (2, 4), (4, 4)]
    with SqlLog(reader_engine(any_db)) as log:
        async with any_db.read_uow() as uow:
            found = [await uow.blocks.between(a, b) for a, b in pairs]
    assert found == [True, True, True, True, False, False, False, False]
    assert len([s for s in log.statements if "blocks" in s]) == len(pairs)


async def test_between_sees_a_block_added_in_the_same_unit_of_work(any_db):
    async with any_db.uow() as uow:
        for n in (1, 2):
            await uow.users.add(User(id=n, name=f"u{n}"))
        await uow.commit()
    async with any_db.uow() as uow:
        await uow.blocks.stage(Block(blocker_id=2, blocked_id=1))  # not flushed yet
        assert await uow.blocks.between(1, 2)
