"""setWebhook: deliveries to loopback receivers, secret header, retries, 409 for getUpdates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.filters import Command
from aiogram.methods import SendMessage
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.sandbox import Emulator

from .conftest import CLARA, FELIX

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def receiver(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def test_webhook_delivery_secret_retry_and_conflict(started: Emulator, aio_bot: Bot) -> None:
    got: asyncio.Queue[tuple[str | None, dict[str, Any]]] = asyncio.Queue()
    attempts = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            return web.Response(status=500)  # first delivery fails: must be retried first
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        await got.put((secret, await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/tg/hook", hook)
    async with receiver(app) as url:
        assert await aio_bot.set_webhook(f"{url}/tg/hook", secret_token="s3cr3t_-x")
        info = await aio_bot.get_webhook_info()
        assert info.url == f"{url}/tg/hook"
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await aio_bot.get_updates()

        started.send_text(CLARA, "first")
        started.send_text(FELIX, "second")
        first = await asyncio.wait_for(got.get(), 5)
        second = await asyncio.wait_for(got.get(), 5)
        assert first[0] == second[0] == "s3cr3t_-x"
        assert first[1]["message"]["text"] == "first"
        assert second[1]["message"]["text"] == "second"
        assert second[1]["update_id"] == first[1]["update_id"] + 1
        assert attempts == 3
        await started.wait_for(lambda: not started.updates)
        info = await aio_bot.get_webhook_info()
        assert info.pending_update_count == 0 and info.last_error_message

        assert await aio_bot.delete_webhook()
        started.send_text(CLARA, "polled")
        updates = await aio_bot.get_updates(timeout=1)
        assert [u.message.text for u in updates if u.message] == ["polled"]

    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await aio_bot.set_webhook("http://127.0.0.1:9/x", secret_token="no spaces")


async def test_aiogram_webhook_handler_reply_in_response(started: Emulator, aio_bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(Command("ping"))
    async def ping(message: Message) -> SendMessage:
        # returned, not awaited: aiogram answers the webhook with this call (multipart)
        return message.answer("pong <b>in response</b>", parse_mode="HTML")

    app = web.Application()
    SimpleRequestHandler(dp, aio_bot, secret_token="tok").register(app, path="/wh")
    async with receiver(app) as url:
        await aio_bot.set_webhook(f"{url}/wh", secret_token="tok", drop_pending_updates=True)
        started.send_command(CLARA, "ping")
        reply = await started.wait_for_message(CLARA, lambda m: m["text"].startswith("pong"))
        assert reply["text"] == "pong in response"
        assert reply["entities"][0]["type"] == "bold"
        await aio_bot.delete_webhook()


async def test_get_updates_long_poll_returns_on_update(started: Emulator, aio_bot: Bot) -> None:
    poll = asyncio.create_task(aio_bot.get_updates(timeout=30))
    await started.wait_for(lambda: started.calls_to("getUpdates"))
    assert not poll.done()
    started.send_text(CLARA, "wake up")
    updates = await asyncio.wait_for(poll, 5)  # long before the 30 s timeout
    assert updates[0].message and updates[0].message.text == "wake up"
    # offset confirms: the update is gone afterwards, and limit caps the batch
    started.send_text(CLARA, "a")
    started.send_text(CLARA, "b")
    batch = await aio_bot.get_updates(offset=updates[-1].update_id + 1, limit=1)
    assert [u.message.text for u in batch if u.message] == ["a"]
    rest = await aio_bot.get_updates(offset=batch[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["b"]
