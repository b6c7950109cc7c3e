"""The writer's half of a read-first update in plain statements
(storage/read_bookkeeping.py), on SQLite and PostgreSQL: it finds the person as the
ORM does, and what it writes reads back through the repositories unchanged."""

from __future__ import annotations

from datetime import timedelta

from domain.entities import ConversationState, OutboxMessage, User, in_progress


async def test_the_actor_as_the_writer_finds_them(any_db, clock):
    now = clock.now()
    async with any_db.uow() as uow:
        assert await uow.bookkeeping.actor(1) is None
        await uow.users.add(User(id=1, name="Ada", username="ada", last_active_at=now))
        await uow.users.add(User(id=2, name="Bob", banned=True, unreachable=True))
        await uow.conversations.add(
            ConversationState(
                user_id=1,
                flow="browse",
                step="results",
                data={"q": "logo", "page": 2, "ids": [3, 1]},
                updated_at=now,
                screen_message_id=7,
                screen_outbox_id=None,
            )
        )
        await uow.commit()
    async with any_db.uow() as uow:
        ada, bob = await uow.bookkeeping.actor(1), await uow.bookkeeping.actor(2)
        _, state = await uow.actor(1)
        assert (ada.name, ada.username, ada.banned, ada.unreachable) == ("Ada", "ada", False, False)
        assert ada.last_active_at == now
        assert ada.state == in_progress(state.fields()) is not None  # compared as the engine does
        assert (bob.banned, bob.unreachable, bob.state) == (True, True, None)


async def test_what_it_writes_reads_back_through_the_repositories(any_db, clock):
    now = clock.now()
    async with any_db.uow() as uow:
        await uow.users.add(User(id=1, name="Ada"))
        await uow.commit()
    rows = [
        OutboxMessage(chat_id=1, method="sendMessage", payload={"text": t}, created_at=now)
        for t in ("one", "two")
    ]
    state = ConversationState(user_id=1, flow="browse", step="results", data={"q": "x"})
    async with any_db.uow() as uow:
        ids = [await uow.bookkeeping.add_row(row, row.payload) for row in rows]
        await uow.bookkeeping.put_conversation(state, None)  # none yet: created
        await uow.bookkeeping.touch(1, now + timedelta(minutes=5))
        await uow.commit()
    assert len(ids) == 2 and ids[0] < ids[1]
    moved = ConversationState(
        user_id=1, flow="browse", step="job", data={"q": "x", "job": 4}, screen_outbox_id=ids[1]
    )
    async with any_db.uow() as uow:
        await uow.bookkeeping.put_conversation(moved, moved.screen_outbox_id)  # there: replaced
        await uow.commit()
    async with any_db.uow() as uow:
        found = [await uow.outbox.get(i) for i in ids]
        assert [r.payload["text"] for r in found] == ["one", "two"]
        assert all(r.status == "pending" and r.chat_id == 1 for r in found)
        now_state = await uow.conversations.get(1)
        assert (now_state.step, now_state.data, now_state.screen_outbox_id) == (
            "job",
            {"q": "x", "job": 4},
            ids[1],
        )
        assert (await uow.users.get(1)).last_active_at == now + timedelta(minutes=5)


async def test_the_actor_reads_the_screens_row_only_until_its_message_id_is_known(any_db, clock):
    """SqlUnitOfWork.actor joins the screen's outbox row for handlers/context.py,
    which asks it one thing: which message it became. Once the conversation has the
    message id, the row (and its payload) is not read at all."""
    async with any_db.uow() as uow:
        await uow.users.add(User(id=1, name="Ada"))
        row = await uow.outbox.add(
            OutboxMessage(
                chat_id=1, method="send", payload={"text": "x" * 2000}, created_at=clock.now()
            )
        )
        await uow.conversations.add(
            ConversationState(
                user_id=1, flow="post", step="title", data={}, screen_outbox_id=row.id
            )
        )
        await uow.commit()
    for message_id, screen_row_read in ((None, True), (77, False)):
        async with any_db.uow() as uow:
            state = await uow.conversations.get(1)
            state.screen_message_id = message_id
            await uow.commit()
        async with any_db.uow() as uow:
            user, state = await uow.actor(1)
            assert (user.name, state.screen_outbox_id) == ("Ada", row.id)
            held = [o for o in uow.session.identity_map.values() if isinstance(o, OutboxMessage)]
            assert bool(held) is screen_row_read
