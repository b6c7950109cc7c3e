"""The sender records the message each send became, and a "buttons" row takes an
earlier message's buttons away (editMessageReplyMarkup) — named by its id or by
the row that sent it — through the real aiogram and python-telegram-bot against
the emulator. A row whose message never made it has no buttons to take: done."""

from __future__ import annotations

import pytest

from bot.ratelimit import RateLimiter
from bot.sender import OutboxSender
from domain import entities as e
from storage.database import Database
from tests.bot import test_sender as shared
from tests.bot.test_sender import FAST, add_users, open_chats

# The sender tests' fixtures: the emulator, a framework's TelegramApi, the database.
api, clock, emu, limits, sdb = shared.api, shared.clock, shared.emu, shared.limits, shared.sdb

CHAT = 7001
KEYS = [[{"text": "Go", "data": "pj:back"}]]


async def add(db: Database, method: str, payload: dict) -> int:
    async with db.uow() as uow:
        row = await uow.outbox.add(
            e.OutboxMessage(chat_id=CHAT, method=method, payload=payload, priority=0)
        )
        await uow.commit()
    assert row.id is not None
    return row.id


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_buttons_rows_take_an_earlier_messages_buttons_away(sdb, api, emu, framework):
    open_chats(emu, [CHAT])
    await add_users(sdb, [CHAT])
    first = await add(sdb, "send", {"text": "step 1", "buttons": KEYS})
    second = await add(sdb, "send", {"text": "step 2", "buttons": KEYS})
    await add(sdb, "buttons", {"outbox_id": first, "buttons": None})
    never = await add(sdb, "send", {"text": "", "buttons": KEYS})  # refused: never shown
    await add(sdb, "buttons", {"outbox_id": never, "buttons": None})
    sender = OutboxSender(sdb, api, RateLimiter(FAST))
    assert await sender.flush(15)

    async with sdb.uow() as uow:
        rows = {r.id: (r.status, r.message_id) for r in await uow.outbox.find(chat_id=CHAT)}
    shown = {m["text"]: m for m in emu.messages(CHAT)}
    assert rows[first] == ("sent", shown["step 1"]["message_id"])
    assert rows[second] == ("sent", shown["step 2"]["message_id"])
    assert "reply_markup" not in shown["step 1"]  # taken away by the buttons row
    assert shown["step 2"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Go"
    assert rows[never][0] == "failed"
    assert [status for status, _ in rows.values()].count("sent") == 4

    # By message id too, once known.
    await add(sdb, "buttons", {"message_id": rows[second][1], "buttons": None})
    assert await sender.flush(15)
    assert "reply_markup" not in {m["text"]: m for m in emu.messages(CHAT)}["step 2"]
    assert len(emu.calls_to("editMessageReplyMarkup")) == 2
