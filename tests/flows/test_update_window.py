"""Processed update ids expire (domain/usecases/updates.py), on SQLite and
PostgreSQL with the tests' clock moving time: within the window a repeat is a
duplicate; after it the same id is handled again; the scheduler prunes old ids
only; the durable intake keeps the same rule; the setting reaches the engine."""

from __future__ import annotations

import pytest

from bot.adapters import create_adapter
from bot.config import SettingsError, load_settings
from bot.dispatch import UpdateDispatcher
from bot.intake import UpdateIntake
from domain.config import MarketConfig
from domain.usecases.deadlines import DEADLINES
from domain.usecases.updates import prune_processed_updates
from tests.bot.test_webhook import update
from tests.flows.conftest import ADMIN_ID
from tests.flows.harness import Harness
from tests.flows.test_engine import reports, router


async def processed_ids(db) -> list[int]:
    async with db.uow() as uow:
        return [row.update_id for row in await uow.processed_updates.find(order_by="update_id")]


async def test_a_repeat_is_a_duplicate_within_the_window_and_handled_after_it(
    any_db, clock, config
):
    h = Harness(any_db, clock, config, router=router)
    alice = h.person("Alice")
    assert not (await h.send(alice, "/effect", update_id=77)).duplicate
    clock.advance(hours=23, minutes=59)
    assert (await h.send(alice, "/effect", update_id=77)).duplicate  # a redelivery
    assert await reports(any_db) == ["effect"]
    clock.advance(minutes=2)
    # A day on, Telegram used the id for another update: it is handled.
    assert not (await h.send(alice, "/effect", update_id=77)).duplicate
    assert await reports(any_db) == ["effect", "effect"]
    assert h.texts(alice) == ["done", "done"]
    clock.advance(hours=1)  # and the new one has a window of its own
    assert (await h.send(alice, "/effect", update_id=77)).duplicate
    assert await reports(any_db) == ["effect", "effect"]


async def test_a_refused_update_keeps_the_same_window(any_db, clock, config):
    h = Harness(any_db, clock, config, router=router)
    alice = h.person("Alice")
    await h.send(alice, "/fail", update_id=5)  # refused: recorded by the refusal
    assert (await h.send(alice, "/effect", update_id=5)).duplicate
    clock.advance(hours=25)
    assert not (await h.send(alice, "/effect", update_id=5)).duplicate
    assert await reports(any_db) == ["effect"]
    clock.advance(hours=25)
    assert not (await h.send(alice, "/fail", update_id=5)).duplicate  # refused again
    assert (await h.send(alice, "/effect", update_id=5)).duplicate
    assert await reports(any_db) == ["effect"]
    assert len(h.texts(alice)) == 3  # two refusals and one "done"


async def test_the_window_is_the_configured_one(any_db, clock):
    h = Harness(any_db, clock, MarketConfig(update_dedup_hours=48), router=router)
    alice = h.person("Alice")
    await h.send(alice, "/effect", update_id=9)
    clock.advance(hours=47)
    assert (await h.send(alice, "/effect", update_id=9)).duplicate
    clock.advance(hours=2)
    assert not (await h.send(alice, "/effect", update_id=9)).duplicate


async def test_the_tick_prunes_ids_older_than_the_window_only(any_db, clock, config):
    assert prune_processed_updates in DEADLINES
    h = Harness(any_db, clock, config, router=router)
    alice = h.person("Alice")
    await h.send(alice, "/echo a", update_id=1)
    await h.send(alice, "/echo b", update_id=2)
    clock.advance(hours=12)
    await h.send(alice, "/echo c", update_id=3)
    clock.advance(hours=12, seconds=1)  # 1 and 2 are a window old, 3 is half of one
    await h.tick()
    assert await processed_ids(any_db) == [3]
    assert (await h.send(alice, "/echo c", update_id=3)).duplicate  # still known
    clock.advance(hours=12)
    await h.tick()
    assert await processed_ids(any_db) == []
    # A bounded batch, oldest first.
    for update_id in (12, 11, 10):
        await h.send(alice, "/echo x", update_id=update_id)
        clock.advance(minutes=1)
    clock.advance(days=2)
    async with any_db.uow() as uow:
        assert await prune_processed_updates(uow, clock, config, limit=2) == 2
        await uow.commit()
    assert await processed_ids(any_db) == [10]


async def test_the_durable_intake_takes_an_old_id_again(any_db, clock, config):
    h = Harness(any_db, clock, config)  # the real flows: /start answers
    dispatcher = UpdateDispatcher(h.engine, max_concurrent=2)
    parse = create_adapter("aiogram", "123:abc", "http://127.0.0.1:9").parse
    intake = UpdateIntake(any_db, parse, dispatcher, dedup_window=config.update_dedup_window)
    payload = update(500, "/start", user_id=ADMIN_ID + 1)

    assert await intake.receive(payload)
    await dispatcher.drain()
    clock.advance(hours=23)
    assert not await intake.receive(payload)  # Telegram redelivered it: ignored
    clock.advance(hours=2)
    assert await intake.receive(payload)  # the id again, a day later: a new update
    await dispatcher.drain()
    await dispatcher.close()
    await h.deliver()
    assert len(h.chat(ADMIN_ID + 1)) == 2  # welcomed twice
    async with any_db.uow() as uow:
        assert await uow.stored_updates.find(order_by="update_id") == []


def test_the_setting_reaches_the_market_config():
    assert load_settings().market_config().update_dedup_hours == 24
    settings = load_settings(update_dedup_hours=72)
    assert settings.market_config().update_dedup_window.total_seconds() == 72 * 3600
    # Shorter than Telegram's 24 hours of redelivery would handle a repeat twice;
    # longer than its quiet week would drop ids it picks again.
    for hours in (23, 169):
        with pytest.raises(SettingsError, match="GIGBOT_UPDATE_DEDUP_HOURS"):
            load_settings(update_dedup_hours=hours)
