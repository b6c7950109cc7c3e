"""SqlRepository.get: the session's own row when it holds one, else one SELECT built
once per entity with the key bound — with session.get's results: the same instance
for the same row, None for none, a composite key, a pending change flushed first.
SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from domain.entities import Block, User
from tests.sql_log import SqlLog


async def test_get_gives_what_session_get_gives(any_db):
    async with any_db.uow() as uow:
        for n in (1, 2):
            await uow.users.add(User(id=n, name=f"u{n}"))
        await uow.blocks.add(Block(blocker_id=1, blocked_id=2))
        await uow.commit()
    with SqlLog(any_db.engine) as log:
        async with any_db.uow() as uow:
            one = await uow.users.get(1)
            assert one is not None and one.name == "u1" and inspect(one).persistent
            assert await uow.users.get(1) is one  # held: no second SELECT
            assert await uow.users.get(99) is None
            assert (await uow.blocks.get((1, 2))).blocked_id == 2  # a composite key
            assert await uow.blocks.get((2, 1)) is None
    selects = [s for s in log.statements if s.startswith("SELECT")]
    assert len(selects) == 4, selects


async def test_a_pending_change_is_flushed_before_the_select(any_db):
    async with any_db.uow() as uow:
        await uow.users.stage(User(id=7, name="Staged"))  # not flushed yet
        found = await uow.users.get(7)
        assert found is not None and found.name == "Staged"
        await uow.commit()
    async with any_db.uow() as uow:
        assert (await uow.users.get(7)).name == "Staged"
