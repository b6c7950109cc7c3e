"""Fixtures: an Emulator served on 127.0.0.1:<free port> and the real clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.sandbox import Emulator, Limits, create_sandbox_app

TOKEN = "123456789:AAsandbox-test-token_1"
CLARA, FELIX, ADA = 1001, 1002, 1003


@pytest.fixture
def limits() -> Limits:
    return Limits()  # override in a test module to turn limits on


@pytest.fixture
def emu(limits: Limits) -> Emulator:
    emulator = Emulator(TOKEN, admin_user_ids=[ADA], limits=limits)
    emulator.add_user("Clara (client)", user_id=CLARA, username="clara", language_code="en")
    emulator.add_user("Felix (freelancer)", user_id=FELIX, username="felix", language_code="de")
    emulator.add_user("Ada (admin)", user_id=ADA, username="ada")
    return emulator


@pytest.fixture
async def base_url(emu: Emulator) -> AsyncIterator[str]:
    runner = web.AppRunner(create_sandbox_app(emu), shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()


@pytest.fixture
async def aio_bot(base_url: str) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
    bot = Bot(TOKEN, session=session)
    yield bot
    await bot.session.close()


@pytest.fixture
async def ptb_bot(base_url: str) -> AsyncIterator[telegram.Bot]:
    bot = telegram.Bot(TOKEN, base_url=f"{base_url}/bot", base_file_url=f"{base_url}/file/bot")
    async with bot:
        yield bot


@pytest.fixture
def started(emu: Emulator) -> Emulator:
    """The three personas have each written to the bot, so it may message them."""
    for uid in (CLARA, FELIX, ADA):
        emu.send_command(uid, "start")
    emu.updates.clear()
    return emu
