"""A sender process of its own, for tests/bot/test_sender_leases.py to kill with SIGKILL:

    python -m tests.bot.outbox_child DATABASE_URL API_BASE TOKEN CLOCK_ISO MAX_IN_FLIGHT

It delivers the outbox through the real aiogram client to API_BASE (the test's Bot API
emulator) with the default lease, on a database clock frozen at CLOCK_ISO (the test's
ManualClock reads the same instant, and moves it). It runs until it is killed.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.adapters.aiogram_api import AiogramApi
from bot.ratelimit import RateLimiter, SendLimits
from bot.sender import OutboxSender
from storage.database import Database
from tests.clock import ManualClock


async def main(url: str, api_base: str, token: str, clock_iso: str, max_in_flight: str) -> None:
    clock = ManualClock(datetime.fromisoformat(clock_iso))
    database = Database(url, now=clock.now)
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
    limits = SendLimits(global_per_second=None, private_per_second=None)
    sender = OutboxSender(
        database, AiogramApi(bot), RateLimiter(limits), max_in_flight=int(max_in_flight)
    )
    await sender.run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
