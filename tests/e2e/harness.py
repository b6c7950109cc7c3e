"""Test helpers shared by tests/bot and tests/e2e: the emulator on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from bot.sandbox import Emulator, create_sandbox_app

TOKEN = "123456789:AAe2e-test-token_1"
CLARA, FELIX, ADA = 1001, 1002, 1003
FRAMEWORKS = ("aiogram", "ptb")


def make_emulator(**kwargs) -> Emulator:
    emu = Emulator(TOKEN, admin_user_ids=[ADA], **kwargs)
    emu.add_user("Clara", user_id=CLARA, username="clara", language_code="en", last_name="C")
    emu.add_user("Felix", user_id=FELIX, username="felix", language_code="de")
    emu.add_user("Ada", user_id=ADA, username="ada")
    return emu


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve an aiohttp app on 127.0.0.1:<free port>; yields its base URL."""
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def serve_emulator(emu: Emulator) -> AsyncIterator[str]:
    async with serve(create_sandbox_app(emu, page=False)) as url:
        yield url
