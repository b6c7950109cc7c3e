"""Runtime lifecycle: the local sandbox (no token), a webhook update accepted and then
the process killed before handling it (applied after the restart), and a graceful stop."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.app import Runtime, default_engine
from bot.config import Settings
from bot.sandbox import Emulator
from storage.database import Database
from tests.e2e.harness import CLARA, make_emulator, serve_emulator
from tests.e2e.test_runtime import settings_for


async def test_sandbox_without_token_serves_the_web_chat_and_the_bot(tmp_path):
    settings = Settings(
        _env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path}/s.db", http_port=0
    )
    said: list[str] = []
    rt = Runtime(settings, announce=said.append, polling_timeout_s=1, shutdown_timeout_s=5)
    await rt.start()
    try:
        assert rt.sandbox and isinstance(rt.emulator, Emulator)
        assert "SANDBOX" in said[0] and f"{rt.url}/" in said[0]
        emu: Emulator = rt.emulator
        emu.add_user("Clara", user_id=CLARA, language_code="en")
        emu.send_command(CLARA, "start")
        welcome = await emu.wait_for_message(CLARA, lambda m: "Welcome to Gigbot" in m["text"])
        assert welcome["reply_markup"]["inline_keyboard"]
        # The web chat's admin persona (Ada, 1003) is an admin with no set-up.
        assert rt.settings.admin_ids == frozenset({1003})
        emu.add_user("Ada", user_id=1003, language_code="en")
        ada_commands = {c["command"] for c in emu.commands_for(1003)}
        clara_commands = {c["command"] for c in emu.commands_for(CLARA)}
        assert "disputes" in ada_commands and "disputes" not in clara_commands
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{rt.url}/") as page:
                assert page.status == 200 and "html" in page.headers["Content-Type"]
            async with session.get(f"{rt.url}/healthz") as health:
                assert (await health.json())["status"] == "ok"
            async with session.get(f"{rt.url}/metrics") as metrics:
                assert 'gigbot_updates_handled_total{kind="command",result="ok"} 1.0' in (
                    await metrics.text()
                )
    finally:
        await rt.stop()


class GatedEngine:
    """The real engine behind a gate that never opens: the process 'dies' mid-update."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.entered = asyncio.Event()

    async def handle(self, event):
        self.entered.set()
        await asyncio.Event().wait()  # never returns; cancelled by the "kill"
        return await self.inner.handle(event)

    async def tick(self) -> int:
        return 0


async def test_webhook_update_accepted_then_killed_is_applied_after_restart(tmp_path):
    emu = make_emulator()
    db_path = tmp_path / "w.db"
    async with serve_emulator(emu) as api_base:
        gated: list[GatedEngine] = []

        def gated_factory(*args):
            gated.append(GatedEngine(default_engine(*args)))
            return gated[0]

        settings = settings_for("aiogram", "webhook", api_base, emu.token, db_path)
        first = Runtime(
            settings, announce=lambda _: None, engine_factory=gated_factory, shutdown_timeout_s=0
        )
        await first.start()
        emu.send_command(CLARA, "start")
        await emu.wait_for(lambda: not emu.updates)  # Telegram got its 200
        await asyncio.wait_for(gated[0].entered.wait(), 5)
        await first.stop()  # killed before the update was handled

        db = Database(settings.database_url)
        async with db.uow() as uow:
            assert [r.update_id for r in await uow.stored_updates.find(order_by="update_id")] == [1]
        assert emu.messages(CLARA)[-1]["from"].get("is_bot") is False  # no reply yet

        settings = settings_for("aiogram", "webhook", api_base, emu.token, db_path)
        second = Runtime(settings, announce=lambda _: None, shutdown_timeout_s=5)
        await second.start()
        try:
            await emu.wait_for_message(CLARA, lambda m: "Welcome to Gigbot" in m["text"])
            async with db.uow() as uow:
                assert await uow.stored_updates.find(order_by="update_id") == []
                assert await uow.processed_updates.get(1) is not None
        finally:
            await second.stop()
            await db.dispose()


class HeldEngine:
    """The real engine, held at a gate the test opens."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def handle(self, event):
        self.entered.set()
        await self.release.wait()
        return await self.inner.handle(event)

    async def tick(self) -> int:
        return 0


async def test_stop_finishes_the_update_in_flight_and_flushes_its_reply(tmp_path):
    emu = make_emulator()
    held: list[HeldEngine] = []

    def held_factory(*args):
        held.append(HeldEngine(default_engine(*args)))
        return held[0]

    async with serve_emulator(emu) as api_base:
        settings = settings_for("ptb", "polling", api_base, emu.token, tmp_path / "g.db")
        rt = Runtime(
            settings,
            announce=lambda _: None,
            engine_factory=held_factory,
            polling_timeout_s=1,
            shutdown_timeout_s=5,
        )
        await rt.start()
        emu.send_command(CLARA, "start")
        await asyncio.wait_for(held[0].entered.wait(), 5)
        stopping = asyncio.create_task(rt.stop())  # SIGTERM while the update is in flight
        held[0].release.set()
        await asyncio.wait_for(stopping, 10)
        # Finished, committed, and its reply flushed before the process ended.
        assert "Welcome to Gigbot" in emu.messages(CLARA)[-1]["text"]
