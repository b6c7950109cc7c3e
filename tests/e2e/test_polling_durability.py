"""Long polling is as durable as the webhook, with the real aiogram and
python-telegram-bot against the Bot API emulator: an update polled (so Telegram
considers it delivered) and the process killed before handling it is applied after
the restart, exactly once, even when Telegram sends the same update_id again."""

from __future__ import annotations

import asyncio
import copy

import pytest

from bot.app import Runtime, default_engine
from storage.database import Database
from tests.e2e.harness import CLARA, FRAMEWORKS, make_emulator, serve_emulator
from tests.e2e.test_lifecycle import GatedEngine
from tests.e2e.test_runtime import settings_for

WELCOME = "Welcome to Gigbot"


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_polled_update_killed_before_handling_is_applied_once_after_restart(
    framework, tmp_path
):
    emu = make_emulator()
    db_path = tmp_path / "p.db"
    async with serve_emulator(emu) as api_base:
        gated: list[GatedEngine] = []

        def gated_factory(*args):
            gated.append(GatedEngine(default_engine(*args)))
            return gated[0]

        settings = settings_for(framework, "polling", api_base, emu.token, db_path)
        first = Runtime(
            settings,
            announce=lambda _: None,
            engine_factory=gated_factory,
            polling_timeout_s=1,
            shutdown_timeout_s=0,
        )
        await first.start()
        emu.send_command(CLARA, "start")
        polled = copy.deepcopy(emu.updates[-1])
        # The next getUpdates offset confirmed it: Telegram will not send it again.
        await emu.wait_for(lambda: not emu.updates)
        await asyncio.wait_for(gated[0].entered.wait(), 5)
        await first.stop()  # killed before the update was handled

        db = Database(settings.database_url)
        try:
            async with db.uow() as uow:
                stored = await uow.stored_updates.find(order_by="update_id")
                assert [row.update_id for row in stored] == [polled["update_id"]]
                assert await uow.processed_updates.get(polled["update_id"]) is None
            assert not any(WELCOME in (m.get("text") or "") for m in emu.messages(CLARA))

            # Telegram sends the same update_id again (say the confirming poll was lost).
            emu.updates.append(polled)
            settings = settings_for(framework, "polling", api_base, emu.token, db_path)
            second = Runtime(
                settings, announce=lambda _: None, polling_timeout_s=1, shutdown_timeout_s=5
            )
            await second.start()
            try:
                await emu.wait_for_message(CLARA, lambda m: WELCOME in m["text"])
                await emu.wait_for(lambda: not emu.updates)  # the repeat was polled too
                await asyncio.wait_for(second.dispatcher.drain(), 5)
                metrics = await second.metrics.render()
            finally:
                await second.stop()  # flushes the outbox: any second reply would be sent

            welcomes = [m for m in emu.messages(CLARA) if WELCOME in (m.get("text") or "")]
            assert len(welcomes) == 1
            # The repeat never reached the engine: the intake knew the update_id.
            assert 'gigbot_updates_handled_total{kind="command",result="ok"} 1.0' in metrics
            assert 'result="duplicate"' not in metrics
            async with db.uow() as uow:
                assert await uow.stored_updates.find(order_by="update_id") == []
                assert await uow.processed_updates.get(polled["update_id"]) is not None
        finally:
            await db.dispose()
