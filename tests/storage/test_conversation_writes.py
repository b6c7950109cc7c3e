"""A unit of work writes the conversations it changed in plain statements at commit
(SqlUnitOfWork._write_conversations) and leaves new and deleted ones to the ORM's
flush: whichever way, what is committed is what the steps left — a changed field,
an in-place edit of the data, several people's at once — and nothing is written
for a conversation that did not change. SQLite and PostgreSQL."""

from __future__ import annotations

from domain.entities import ConversationState, User
from tests.sql_log import SqlLog


async def _seed(db) -> None:
    async with db.uow() as uow:
        for n in (1, 2, 3, 4):
            await uow.users.add(User(id=n, name=f"u{n}"))
        for n in (1, 2, 4):
            await uow.conversations.add(
                ConversationState(user_id=n, flow="post", step="title", data={"n": n})
            )
        await uow.commit()


async def _states(db) -> dict[int, tuple]:
    async with db.uow() as uow:
        found = {}
        for n in (1, 2, 3, 4):
            state = await uow.conversations.get(n)
            found[n] = None if state is None else (state.flow, state.step, state.data)
        return found


async def test_every_kind_of_change_is_committed(any_db):
    await _seed(any_db)
    with SqlLog(any_db.engine) as log:
        async with any_db.uow() as uow:
            await uow.conversations.add(  # a new one: the ORM's (add flushes)
                ConversationState(user_id=3, flow="browse", step="query", data={})
            )
            await uow.conversations.delete(await uow.conversations.get(4))  # the ORM's too
            one = await uow.conversations.get(1)
            two = await uow.conversations.get(2)
            one.step = "budget"  # a field
            two.data["title"] = "A logo"  # an in-place edit of the data
            await uow.commit()
    assert await _states(any_db) == {
        1: ("post", "budget", {"n": 1}),
        2: ("post", "title", {"n": 2, "title": "A logo"}),
        3: ("browse", "query", {}),
        4: None,
    }
    written = [s for s in log.statements if "conversation_states" in s and "SELECT" not in s]
    # The INSERT of 3 and DELETE of 4, then two upserts at the commit (1 and 2).
    assert sum("ON CONFLICT" in s for s in written) == 2, written
    assert not [s for s in written if s.startswith("UPDATE")], written


async def test_nothing_is_written_for_a_conversation_set_to_what_it_was(any_db):
    await _seed(any_db)
    with SqlLog(any_db.engine) as log:
        async with any_db.uow() as uow:
            state = await uow.conversations.get(1)
            state.step = "title"  # the same value: dirty, not modified
            await uow.commit()
    assert not [s for s in log.statements if "conversation_states" in s and "SELECT" not in s]


async def test_a_change_after_an_autoflush_is_committed_too(any_db):
    await _seed(any_db)
    async with any_db.uow() as uow:
        state = await uow.conversations.get(1)
        state.step = "budget"
        await uow.users.find(name="u1")  # an ORM query: the change is flushed here
        state.step = "deadline"  # and changed again before the commit
        await uow.commit()
    assert (await _states(any_db))[1] == ("post", "deadline", {"n": 1})
