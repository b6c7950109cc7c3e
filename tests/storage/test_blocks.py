"""Blocks.partners: everyone in a block with a user, either way, in one statement
(it is read by every search, browse and publish)."""

from __future__ import annotations

import sqlalchemy as sa

from domain.entities import Block, User


async def test_partners_are_both_directions_in_one_statement(any_db):
    async with any_db.uow() as uow:
        for n in (1, 2, 3, 4, 5):
            await uow.users.add(User(id=n, name=f"u{n}"))
        await uow.blocks.add(Block(blocker_id=1, blocked_id=2))  # 1 blocked 2
        await uow.blocks.add(Block(blocker_id=3, blocked_id=1))  # 3 blocked 1
        await uow.blocks.add(Block(blocker_id=4, blocked_id=5))  # not 1's
        await uow.commit()
    statements: list[str] = []
    reader = any_db.reader_engine or any_db.pg_reader_engine or any_db.engine  # read_uow's
    engine = reader.sync_engine

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        async with any_db.read_uow() as uow:
            assert await uow.blocks.partners(1) == {2, 3}
            assert await uow.blocks.partners(5) == {4}
            assert await uow.blocks.partners(9) == set()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if "blocks" in s]) == 3
