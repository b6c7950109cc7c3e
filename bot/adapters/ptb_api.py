"""python-telegram-bot 22: TelegramApi implementation, update parsing, polling and
webhook set-up, all driven from our own asyncio loop (no run_polling: the app owns
the loop, the signals and the shutdown order)."""

from __future__ import annotations

import contextlib
import logging
import warnings
from typing import Any

import telegram
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram import error as tg_error
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.warnings import PTBUserWarning

from bot import telegram_port as port
from bot.adapters.base import ALLOWED_UPDATES, Submit
from bot.adapters.events import to_event
from handlers.events import Event, Keyboard

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def keyboard(buttons: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b["text"], url=b["url"])
                if "url" in b
                else InlineKeyboardButton(b["text"], callback_data=b["data"])
                for b in row
            ]
            for row in buttons
        ]
    )


def _retry_seconds(error: tg_error.RetryAfter) -> float:
    # Read the timedelta behind `retry_after` (whose type depends on PTB's settings).
    value = getattr(error, "_retry_after", None)
    if value is None:
        value = error.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


@contextlib.contextmanager
def _mapped_errors() -> Any:
    """PTB's exceptions → the port's, so the sender is written once. (PTB's
    BadRequest subclasses NetworkError, so it is caught before any network error.)"""
    try:
        yield
    except tg_error.RetryAfter as error:
        raise port.RetryAfter(_retry_seconds(error)) from error
    except tg_error.Forbidden as error:
        raise port.Forbidden(error.message) from error
    except (tg_error.BadRequest, tg_error.ChatMigrated, tg_error.EndPointNotFound) as error:
        raise port.BadRequest(error.message) from error


class PtbApi:
    """bot/telegram_port.py's TelegramApi over a PTB Bot: HTML, no link previews."""

    def __init__(self, bot: telegram.Bot) -> None:
        self.bot = bot

    async def send_message(self, chat_id: int, text: str, buttons: Keyboard | None) -> int:
        with _mapped_errors():
            message = await self.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=keyboard(buttons),
            )
        return message.message_id

    async def edit_message(
        self, chat_id: int, message_id: int, text: str, buttons: Keyboard | None
    ) -> None:
        with _mapped_errors():
            try:
                await self.bot.edit_message_text(
                    text,
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW,
                    reply_markup=keyboard(buttons),
                )
            except tg_error.BadRequest as error:
                if "message is not modified" not in error.message.lower():
                    raise  # a repeated edit is already done; anything else is not

    async def send_document(
        self, chat_id: int, file_id: str, caption: str | None, buttons: Keyboard | None
    ) -> int:
        with _mapped_errors():
            message = await self.bot.send_document(
                chat_id,
                file_id,
                caption=caption,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(buttons),
            )
        return message.message_id

    async def send_photo(
        self, chat_id: int, file_id: str, caption: str | None, buttons: Keyboard | None
    ) -> int:
        with _mapped_errors():
            message = await self.bot.send_photo(
                chat_id,
                file_id,
                caption=caption,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(buttons),
            )
        return message.message_id

    async def answer_callback(self, query_id: str, text: str | None, show_alert: bool) -> None:
        with _mapped_errors():
            await self.bot.answer_callback_query(query_id, text=text, show_alert=show_alert)

    async def set_commands(self, commands: list[tuple[str, str]], language: str | None) -> None:
        with _mapped_errors():
            await self.bot.set_my_commands(
                [BotCommand(c, d) for c, d in commands], language_code=language
            )

    async def call(self, method: str, **params: Any) -> Any:
        """E.g. call("setWebhook", url=…, secret_token=…); returns the raw JSON result."""
        with _mapped_errors(), warnings.catch_warnings():
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
        with _mapped_errors():
            await self.bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )

    async def delete_webhook(self) -> None:
        with _mapped_errors():
            await self.bot.delete_webhook(drop_pending_updates=False)

    async def close(self) -> None:
        await self.stop_polling()
        if self._initialized:
            self._initialized = False
            await self.application.shutdown()
