"""uow.outbox.add (storage/database.py: SqlOutbox) writes one row with one INSERT and
leaves it in the session as if read: found again without a query, changed like any
other row; rows staged for a batch go in first, so ids keep the order of writing."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.entities import ConversationState, OutboxMessage, User
from tests.sql_log import SqlLog

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _row(chat_id: int, text: str, priority: int = 0) -> OutboxMessage:
    return OutboxMessage(chat_id=chat_id, payload={"text": text}, priority=priority, created_at=NOW)


async def test_an_added_row_is_written_and_kept_in_the_session(any_db):
    async with any_db.uow() as uow:
        await uow.users.add(User(id=5, name="Clara"))
        await uow.commit()

    def verbs() -> list[str]:
        return [statement.split()[0] for statement in log.statements]

    with SqlLog(any_db.engine) as log:
        async with any_db.uow() as uow:
            await uow.conversations.add(ConversationState(user_id=5, flow="f", step="a"))
            state = await uow.conversations.get(5)
            state.step = "b"  # changed before the reply …
            log.clear()
            row = await uow.outbox.add(_row(5, "hello"))
            assert row.id is not None
            assert verbs() == ["INSERT"]  # … and not flushed by it
            assert await uow.outbox.get(row.id) is row  # no second read
            assert verbs() == ["INSERT"]
            row.status = "sent"  # a change to it is written like any other
            state.screen_outbox_id = row.id
            await uow.commit()
    async with any_db.uow() as uow:
        stored = await uow.outbox.get(row.id)
        assert (stored.payload, stored.status, stored.priority) == ({"text": "hello"}, "sent", 0)
        assert (stored.attempts, stored.created_at) == (0, NOW)
        state = await uow.conversations.get(5)
        assert (state.step, state.screen_outbox_id) == ("b", row.id)


async def test_staged_rows_keep_their_place_in_the_order(any_db):
    async with any_db.uow() as uow:
        await uow.outbox.stage(_row(7, "alert 1", priority=2))
        await uow.outbox.stage(_row(7, "alert 2", priority=2))
        await uow.outbox.add(_row(7, "reply"))
        await uow.commit()
    async with any_db.uow() as uow:
        rows = await uow.outbox.find(chat_id=7)
        assert [r.payload["text"] for r in rows] == ["alert 1", "alert 2", "reply"]


async def test_a_rolled_back_row_is_gone(any_db):
    async with any_db.uow() as uow:
        row_id = (await uow.outbox.add(_row(9, "never"))).id
    async with any_db.uow() as uow:
        assert await uow.outbox.get(row_id) is None
