"""aiogram 3: TelegramApi implementation, update parsing, polling and webhook set-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram import methods as aiogram_methods
from aiogram import types as aiogram_types
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import Update
from pydantic import BaseModel

from bot import telegram_port as port
from bot.adapters.base import ALLOWED_UPDATES, Receive, Submit
from bot.adapters.bot_api import FrameworkApi
from bot.adapters.events import to_event
from handlers.events import Event

log = logging.getLogger(__name__)


def _plain(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", exclude_none=True)
    if isinstance(result, list):
        return [_plain(item) for item in result]
    return result


class AiogramApi(FrameworkApi):
    """bot/telegram_port.py's TelegramApi over an aiogram Bot (bot/adapters/bot_api.py)."""

    types = aiogram_types
    bot: Bot

    def upload(self, image: bytes, filename: str) -> Any:
        return aiogram_types.BufferedInputFile(image, filename=filename)

    @contextlib.contextmanager
    def mapped_errors(self) -> Iterator[None]:
        """aiogram's exceptions → the port's."""
        try:
            yield
        except TelegramRetryAfter as error:
            raise port.RetryAfter(float(error.retry_after)) from error
        except TelegramForbiddenError as error:
            raise port.Forbidden(error.message) from error
        except (
            TelegramBadRequest,
            TelegramNotFound,
            TelegramEntityTooLarge,
            TelegramMigrateToChat,
        ) as error:
            raise port.BadRequest(error.message) from error

    async def call(self, method: str, **params: Any) -> Any:
        """E.g. call("setWebhook", url=…, secret_token=…); returns plain JSON-like data."""
        name = method[:1].upper() + method[1:]
        method_class = getattr(aiogram_methods, name, None)
        if method_class is None:
            raise port.BadRequest(f"unknown Bot API method {method!r}")
        with self.mapped_errors():
            return _plain(await self.bot(method_class(**params)))


class AiogramAdapter:
    framework = "aiogram"

    def __init__(self, token: str, api_base: str) -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
        self.bot = Bot(token, session=session)
        self.api = AiogramApi(self.bot)
        self.username: str | None = None
        self._dispatcher: Dispatcher | None = None
        self._polling: asyncio.Task[None] | None = None

    async def start(self) -> None:
        me = await self.bot.me()
        self.username = me.username

    def parse(self, payload: dict[str, Any]) -> Event | None:
        update = Update.model_validate(payload, context={"bot": self.bot})
        return to_event(update, self.username)

    async def start_polling(self, submit: Submit, timeout_s: int = 25) -> None:
        parse = self.parse

        async def receive(payload: dict[str, Any]) -> None:
            event = parse(payload)
            if event is not None:
                await submit(event)

        await self.start_polling_raw(receive, timeout_s)

    async def start_polling_raw(self, receive: Receive, timeout_s: int = 25) -> None:
        dp = Dispatcher()

        async def feed(
            _handler: Callable[[Update, dict[str, Any]], Awaitable[Any]],
            update: Update,
            _data: dict[str, Any],
        ) -> None:
            # Take over every update here: the runtime, not aiogram's routers, decides
            # what happens. aiogram asks for the next updates (which confirms this one
            # to Telegram) only after this returned, as handle_as_tasks is off.
            await receive(update.model_dump(mode="json", by_alias=True, exclude_none=True))

        dp.update.outer_middleware.register(feed)
        self._dispatcher = dp
        started = asyncio.Event()
        dp.startup.register(started.set)
        self._polling = asyncio.create_task(
            dp.start_polling(
                self.bot,
                polling_timeout=timeout_s,
                handle_as_tasks=False,  # one update after the other, each received first
                allowed_updates=ALLOWED_UPDATES,
                handle_signals=False,  # the app handles SIGINT/SIGTERM for everything
                close_bot_session=False,
            ),
            name="aiogram-polling",
        )
        await _first(started.wait(), self._polling)

    async def stop_polling(self) -> None:
        task, self._polling = self._polling, None
        if task is None or self._dispatcher is None:
            return
        if not task.done():
            with contextlib.suppress(RuntimeError):  # "polling is not started"
                await self._dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.api.set_webhook(url, secret)

    async def delete_webhook(self) -> None:
        await self.api.delete_webhook()

    async def close(self) -> None:
        await self.stop_polling()
        await self.bot.session.close()


async def _first(waiting: Awaitable[Any], task: asyncio.Task[Any]) -> None:
    """Wait for `waiting`, but fail at once if `task` dies first (e.g. a bad token)."""
    waiter = asyncio.ensure_future(waiting)
    done, _ = await asyncio.wait({waiter, task}, return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        waiter.cancel()
        task.result()  # re-raises the task's error
        raise RuntimeError("polling stopped before it started")
