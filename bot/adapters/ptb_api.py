"""python-telegram-bot 22: TelegramApi implementation, update parsing, polling and
webhook set-up, all driven from our own asyncio loop (no run_polling: the app owns
the loop, the signals and the shutdown order)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import telegram
from telegram import Update
from telegram import error as tg_error
from telegram.ext import Application, ApplicationBuilder, Updater
from telegram.warnings import PTBUserWarning

from bot import telegram_port as port
from bot.adapters.base import ALLOWED_UPDATES, Receive, Submit
from bot.adapters.bot_api import FrameworkApi
from bot.adapters.events import to_event
from handlers.events import Event

log = logging.getLogger(__name__)


def _retry_seconds(error: tg_error.RetryAfter) -> float:
    # Read the timedelta behind `retry_after` (whose type depends on PTB's settings).
    value = getattr(error, "_retry_after", None)
    if value is None:
        value = error.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


class PtbApi(FrameworkApi):
    """bot/telegram_port.py's TelegramApi over a PTB Bot (bot/adapters/bot_api.py)."""

    types = telegram
    bot: telegram.Bot

    def upload(self, image: bytes, filename: str) -> Any:
        return telegram.InputFile(image, filename=filename)

    @contextlib.contextmanager
    def mapped_errors(self) -> Iterator[None]:
        """PTB's exceptions → the port's. (PTB's BadRequest subclasses NetworkError, so
        it is caught before any network error.)"""
        try:
            yield
        except tg_error.RetryAfter as error:
            raise port.RetryAfter(_retry_seconds(error)) from error
        except tg_error.Forbidden as error:
            raise port.Forbidden(error.message) from error
        except (tg_error.BadRequest, tg_error.ChatMigrated, tg_error.EndPointNotFound) as error:
            raise port.BadRequest(error.message) from error

    async def call(self, method: str, **params: Any) -> Any:
        """E.g. call("setWebhook", url=…, secret_token=…); returns the raw JSON result."""
        with self.mapped_errors(), warnings.catch_warnings():
            # PTB suggests its typed method when one exists; a generic call is the point here.
            warnings.simplefilter("ignore", PTBUserWarning)
            return await self.bot.do_api_request(method, api_kwargs=params)


class _ReceivingQueue(asyncio.Queue[object]):
    """The Updater's update queue, replaced: `put` hands the update to `receive` and
    returns once it has. The Updater advances its offset (confirming the update to
    Telegram) only after every `put` of a batch returned, so nothing is confirmed
    before `receive` kept it."""

    def __init__(self, receive: Receive) -> None:
        super().__init__()
        self._receive = receive

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            await self._receive(json.loads(item.to_json()))


class PtbAdapter:
    framework = "ptb"

    def __init__(self, token: str, api_base: str) -> None:
        base = api_base.rstrip("/")
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .updater(None)  # polling has its own Updater, feeding a _ReceivingQueue
            .build()
        )
        self.bot = self.application.bot
        self.api = PtbApi(self.bot)
        self.username: str | None = None
        self._updater: Updater | None = None
        self._initialized = False

    async def start(self) -> None:
        await self.application.initialize()  # getMe
        self._initialized = True
        self.username = self.bot.username

    def parse(self, payload: dict[str, Any]) -> Event | None:
        update = Update.de_json(payload, self.bot)
        return to_event(update, self.username)

    async def start_polling(self, submit: Submit, timeout_s: int = 25) -> None:
        parse = self.parse

        async def receive(payload: dict[str, Any]) -> None:
            event = parse(payload)
            if event is not None:
                await submit(event)

        await self.start_polling_raw(receive, timeout_s)

    async def start_polling_raw(self, receive: Receive, timeout_s: int = 25) -> None:
        # No Application.start(): its update queue would hold updates already confirmed.
        updater = Updater(self.bot, _ReceivingQueue(receive))
        await updater.initialize()  # the bot is initialised already: nothing to do
        await updater.start_polling(
            poll_interval=0, timeout=timeout_s, allowed_updates=ALLOWED_UPDATES
        )
        self._updater = updater

    async def stop_polling(self) -> None:
        # Stopping cancels a `receive` in progress; its update is not confirmed then.
        # (No updater.shutdown(): it would shut the shared bot down; close() does that.)
        updater, self._updater = self._updater, None
        if updater is not None and updater.running:
            await updater.stop()

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.api.set_webhook(url, secret)

    async def delete_webhook(self) -> None:
        await self.api.delete_webhook()

    async def close(self) -> None:
        await self.stop_polling()
        if self._initialized:
            self._initialized = False
            await self.application.shutdown()
