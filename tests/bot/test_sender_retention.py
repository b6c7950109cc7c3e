"""A pending "buttons" row whose row (the message it names by outbox id) was pruned
by the outbox retention (domain/usecases/outbox_retention.py) is delivered without
error: no message id is found, so there is nothing to edit — as for a message
that never made it. Through the real aiogram client against the emulator."""

from __future__ import annotations

from datetime import timedelta

from bot.ratelimit import RateLimiter
from bot.sender import OutboxSender
from domain import entities as e
from domain.config import MarketConfig
from domain.usecases.outbox_retention import prune_delivered_outbox
from storage.database import Database
from tests.bot import test_sender as shared
from tests.bot.test_sender import FAST, add_users, open_chats

# The sender tests' fixtures: the emulator, a framework's TelegramApi, the database.
api, clock, emu, framework, limits, sdb = (
    shared.api,
    shared.clock,
    shared.emu,
    shared.framework,
    shared.limits,
    shared.sdb,
)

CHAT = 7002
KEYS = [[{"text": "Go", "data": "pj:back"}]]


async def add(db: Database, method: str, payload: dict, created_at=None) -> int:
    async with db.uow() as uow:
        row = await uow.outbox.add(
            e.OutboxMessage(
                chat_id=CHAT, method=method, payload=payload, priority=0, created_at=created_at
            )
        )
        await uow.commit()
    assert row.id is not None
    return row.id


async def test_a_buttons_row_naming_a_pruned_row_is_delivered_without_an_edit(sdb, api, emu, clock):
    open_chats(emu, [CHAT])
    await add_users(sdb, [CHAT])
    long_ago = clock.now() - timedelta(days=40)
    first = await add(sdb, "send", {"text": "step 1", "buttons": KEYS}, long_ago)
    await add(sdb, "send", {"text": "step 2", "buttons": KEYS}, long_ago)
    sender = OutboxSender(sdb, api, RateLimiter(FAST))
    assert await sender.flush(15)
    # An old screen's buttons to take away, queued; meanwhile its row is pruned.
    take = await add(sdb, "buttons", {"outbox_id": first, "buttons": None})
    async with sdb.uow() as uow:
        assert await prune_delivered_outbox(uow, clock, MarketConfig()) == 1
        await uow.commit()
    assert await sender.store.message_id_of(first) is None

    assert await sender.flush(15)
    async with sdb.uow() as uow:
        assert await uow.outbox.get(first) is None
        row = await uow.outbox.get(take)
        assert row is not None and row.status == "sent" and row.error is None
    assert emu.calls_to("editMessageReplyMarkup") == []  # nothing to edit
    assert len(emu.calls_to("sendMessage")) == 2
