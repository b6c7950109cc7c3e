"""Text a database cannot take, end to end: a raw update with a NUL in the name (and
a lone surrogate) parsed by each framework and handled by the real engine, on SQLite
and PostgreSQL (which refuses NUL in text). The user is answered and stored."""

from __future__ import annotations

import pytest

from bot.adapters import create_adapter
from domain.config import MarketConfig
from handlers.engine import Engine
from handlers.events import Event
from tests.e2e.harness import FRAMEWORKS, TOKEN

APOLOGY = "Something went wrong, nothing was changed."


def raw_update(update_id: int, text: str, first_name: str) -> dict:
    user = {"id": 1001, "is_bot": False, "first_name": first_name, "language_code": "en"}
    chat = {"id": 1001, "type": "private", "first_name": first_name}
    message = {"message_id": update_id, "date": 1700000000, "chat": chat, "from": user}
    return {"update_id": update_id, "message": {**message, "text": text}}


async def reply_texts(db, outbox_ids: list[int]) -> list[str]:
    async with db.uow() as uow:
        return [(await uow.outbox.get(i)).payload["text"] for i in outbox_ids]


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_nul_in_a_name_and_a_message_is_answered_and_stored_without_it(
    any_db, clock, framework
):
    adapter = create_adapter(framework, TOKEN, "http://127.0.0.1:9")
    adapter.username = "gigbot_bot"
    engine = Engine(any_db.uow, clock, MarketConfig())
    start = await engine.handle(adapter.parse(raw_update(1, "/start", "Cla\x00ra\ud800")))
    assert "Welcome to <b>Gigbot</b>" in (await reply_texts(any_db, start.outbox_ids))[0]
    text = await engine.handle(adapter.parse(raw_update(2, "hello\x00 there", "Cla\x00ra\ud800")))
    assert text.outbox_ids and not text.duplicate
    async with any_db.uow() as uow:
        user = await uow.users.get(1001)
        assert user is not None and user.name == "Clara\ufffd"


async def test_a_nul_that_got_past_the_adapters_still_gets_an_answer(any_db, clock):
    """An Event built without the adapters' cleaning: on PostgreSQL the user's record
    cannot be written, in handling nor in the refusal; the apology still goes out."""
    engine = Engine(any_db.uow, clock, MarketConfig())
    event = Event(
        kind="command", command="start", user_id=1001, chat_id=1001, update_id=3, user_name="A\x00"
    )
    outcome = await engine.handle(event)
    (text,) = await reply_texts(any_db, outcome.outbox_ids)
    if any_db.engine.dialect.name == "postgresql":
        assert text == APOLOGY
    else:  # SQLite stores the NUL
        assert "Welcome to <b>Gigbot</b>" in text
