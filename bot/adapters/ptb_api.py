"""python-telegram-bot 22: TelegramApi implementation, update parsing, polling and
webhook set-up, all driven from our own asyncio loop (no run_polling: the app owns
the loop, the signals and the shutdown order)."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import telegram
from telegram import Update
from telegram import error as tg_error
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.warnings import PTBUserWarning

from bot import telegram_port as port
from bot.adapters.base import ALLOWED_UPDATES, Submit
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


class PtbAdapter:
    framework = "ptb"

    def __init__(self, token: str, api_base: str) -> None:
        base = api_base.rstrip("/")
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .build()
        )
        self.bot = self.application.bot
        self.api = PtbApi(self.bot)
        self.username: str | None = None
        self._handler: TypeHandler[Update, Any] | None = None
        self._initialized = False

    async def start(self) -> None:
        await self.application.initialize()  # getMe
        self._initialized = True
        self.username = self.bot.username

    def parse(self, payload: dict[str, Any]) -> Event | None:
        update = Update.de_json(payload, self.bot)
        return to_event(update, self.username)

    async def start_polling(self, submit: Submit, timeout_s: int = 25) -> None:
        username = self.username

        async def feed(update: object, _context: ContextTypes.DEFAULT_TYPE) -> None:
            # The Application processes one update at a time (concurrent_updates off),
            # and submit only enqueues: the runtime's dispatcher does the rest.
            if isinstance(update, Update):
                event = to_event(update, username)
                if event is not None:
                    await submit(event)

        self._handler = TypeHandler(Update, feed)
        self.application.add_handler(self._handler)
        await self.application.start()
        assert self.application.updater is not None
        await self.application.updater.start_polling(
            poll_interval=0, timeout=timeout_s, allowed_updates=ALLOWED_UPDATES
        )

    async def stop_polling(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()  # processes what the updater already queued
        if self._handler is not None:
            app.remove_handler(self._handler)
            self._handler = None

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.api.set_webhook(url, secret)

    async def delete_webhook(self) -> None:
        await self.api.delete_webhook()

    async def close(self) -> None:
        await self.stop_polling()
        if self._initialized:
            self._initialized = False
            await self.application.shutdown()
