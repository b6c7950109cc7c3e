"""Delivered outbox rows are forgotten after GIGBOT_OUTBOX_KEEP_DAYS
(domain/usecases/outbox_retention.py), through the scheduler's tick, on SQLite and
PostgreSQL with the tests' clock moving time: old delivered rows go, recent ones
stay; conversations whose old messages are gone still work (an old button is
stale, not an error); a fast tap is still told from a press on an old message;
the setting reaches the engine."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.config import SettingsError, load_settings
from bot.scheduler import Scheduler
from domain.config import MarketConfig
from domain.usecases.deadlines import DEADLINES
from domain.usecases.outbox_retention import prune_delivered_outbox
from storage.database import Database
from storage.tables import outbox
from tests.flows.harness import Harness
from tests.flows.test_post_job import client
from tests.flows.test_wizards_forgive import to_skills

STALE = "This button is no longer available."


async def rows(db: Database) -> list[tuple[int, str]]:
    async with db.uow() as uow:
        found = await uow.session.execute(
            sa.select(outbox.c.id, outbox.c.status).order_by(outbox.c.id)
        )
        return [(row_id, status) for row_id, status in found.all()]


async def test_the_tick_forgets_delivered_rows_older_than_the_retention_only(any_db, clock, config):
    assert prune_delivered_outbox in DEADLINES
    h = Harness(any_db, clock, config)
    carol = await client(h)
    first = await rows(any_db)
    assert first and all(status == "sent" for _, status in first)
    clock.advance(days=29, hours=23)
    await h.send(carol, "/help")
    second = [r for r in await rows(any_db) if r not in first]
    await h.tick()
    assert await rows(any_db) == first + second  # nothing a month old yet
    clock.advance(hours=1, seconds=1)
    await h.tick()
    left = await rows(any_db)
    # The month-old rows go (no conversation names one as its screen, and /help's
    # reply is the chat's newest message); the recent ones all stay.
    assert left == second
    # The bot goes on as before.
    await h.send(carol, "/help")
    assert h.texts(carol)[-1] == h.texts(carol)[-2]


async def test_the_bots_scheduler_runs_it(any_db, clock, config):
    """bot/scheduler.py's tick (as `gigbot run` wires it: the engine's tick) prunes,
    and counts the rows as things done."""
    h = Harness(any_db, clock, config)
    carol = await client(h)
    await h.send(carol, "/help")
    before = await rows(any_db)
    clock.advance(days=31)
    scheduler = Scheduler(h.engine.tick, interval_s=30)
    done = await scheduler.tick_once()
    left = await rows(any_db)
    assert scheduler.failures == 0 and 0 < len(left) < len(before)
    assert done >= len(before) - len(left)


async def test_an_old_button_whose_rows_are_gone_is_stale_not_an_error(any_db, clock, config):
    h = Harness(any_db, clock, config)
    carol = await client(h)
    older = await to_skills(h, carol)
    python = older.button("Python")
    assert python is not None
    await h.send(carol, "/help")  # leaves the wizard (its draft is kept)
    clock.advance(days=40)
    await h.tick()
    async with any_db.uow() as uow:
        gone = await uow.outbox.find(chat_id=carol.id, message_id=older.message_id)
        assert gone == []  # the step's row is forgotten
    await h.press_data(carol, python["data"], older.message_id)
    assert h.last_answer(carol).text == STALE
    # The draft is still there, and the wizard goes on.
    await h.send(carol, "/post")
    await h.press(carol, "▶️ Continue your draft")
    await h.press(carol, "Python")
    assert "Python" in h.last(carol).text


async def test_a_fast_tap_is_told_from_a_press_on_an_old_message_after_pruning(
    any_db, clock, config
):
    """The screen's row is in flight (sent, its message id not yet recorded) while the
    chat's older rows are pruned: a tap on an older message is still stale, because
    the chat's newest message (what the check compares with) is kept."""
    h = Harness(any_db, clock, config)
    carol = await client(h)
    older = await to_skills(h, carol)
    python = older.button("Python")
    assert python is not None
    await h.send(carol, "Figma")
    current = h.last(carol)
    async with any_db.uow() as uow:
        [screen] = await uow.outbox.find(message_id=current.message_id, chat_id=carol.id)
        screen.status, screen.message_id = "sending", None
        await uow.commit()
    clock.advance(days=40)
    await h.tick()
    async with any_db.uow() as uow:
        assert len(await uow.outbox.find(chat_id=carol.id, message_id__isnull=False)) == 1
    await h.press_data(carol, python["data"], older.message_id)
    assert h.last_answer(carol).text == STALE
    await h.press_data(carol, python["data"], current.message_id)
    assert "Python" in h.last(carol).text and h.last(carol).message_id == current.message_id


async def test_the_retention_is_the_configured_one(any_db, clock):
    h = Harness(any_db, clock, MarketConfig(outbox_keep_days=3))
    await client(h)
    before = await rows(any_db)
    clock.advance(days=2)
    await h.tick()
    assert await rows(any_db) == before
    clock.advance(days=1, seconds=1)
    await h.tick()
    assert len(await rows(any_db)) < len(before)


def test_the_setting_reaches_the_market_config():
    assert load_settings().market_config().outbox_keep_days == 30
    settings = load_settings(outbox_keep_days=90)
    assert settings.market_config().outbox_keep.days == 90
    with pytest.raises(SettingsError, match="GIGBOT_OUTBOX_KEEP_DAYS"):
        load_settings(outbox_keep_days=0)
    assert MarketConfig(outbox_keep_days=0).outbox_keep.days == 1  # the domain's floor too
