"""bot/telegram_port.py's TelegramApi written once, for both frameworks.

aiogram and python-telegram-bot take the same Bot API calls with the same keyword
arguments and name the Bot API's types as the API does (aiogram.types,
telegram); what differs is the module the types come from and the exceptions
raised. A framework's subclass names its module and maps its exceptions to the
port's; everything else (HTML, no link previews, "not modified" edits) is decided here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any, ClassVar

from bot import telegram_port as port
from bot.adapters.base import ALLOWED_UPDATES
from handlers.events import Keyboard

HTML = "HTML"  # both frameworks' ParseMode.HTML is this string


class FrameworkApi:
    """A TelegramApi over a framework's Bot: HTML, no link previews."""

    # The framework's module of Bot API types (InlineKeyboardMarkup, BotCommand, …).
    types: ClassVar[ModuleType]

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.no_preview = self.types.LinkPreviewOptions(is_disabled=True)

    def mapped_errors(self) -> contextlib.AbstractContextManager[None]:
        """The framework's exceptions → the port's, so the sender is written once."""
        raise NotImplementedError

    async def call(self, method: str, **params: Any) -> Any:
        """Any other Bot API method (setWebhook, getMe, …), as plain JSON-like data."""
        raise NotImplementedError

    def keyboard(self, buttons: Keyboard | None) -> Any:
        if not buttons:
            return None
        rows = [[self._button(b) for b in row] for row in buttons]
        return self.types.InlineKeyboardMarkup(inline_keyboard=rows)

    def _button(self, button: dict[str, str]) -> Any:
        if "url" in button:
            return self.types.InlineKeyboardButton(text=button["text"], url=button["url"])
        return self.types.InlineKeyboardButton(text=button["text"], callback_data=button["data"])

    async def send_message(self, chat_id: int, text: str, buttons: Keyboard | None) -> int:
        with self.mapped_errors():
            message = await self.bot.send_message(
                chat_id,
                text,
                parse_mode=HTML,
                link_preview_options=self.no_preview,
                reply_markup=self.keyboard(buttons),
            )
        return int(message.message_id)

    async def edit_message(
        self, chat_id: int, message_id: int, text: str, buttons: Keyboard | None
    ) -> None:
        try:
            with self.mapped_errors():
                await self.bot.edit_message_text(
                    text=text,
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode=HTML,
                    link_preview_options=self.no_preview,
                    reply_markup=self.keyboard(buttons),
                )
        except port.BadRequest as error:
            if "message is not modified" not in str(error).lower():
                raise  # a repeated edit is already done; anything else is not

    async def edit_buttons(self, chat_id: int, message_id: int, buttons: Keyboard | None) -> None:
        try:
            with self.mapped_errors():
                await self.bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=message_id, reply_markup=self.keyboard(buttons)
                )
        except port.BadRequest as error:
            if "message is not modified" not in str(error).lower():
                raise  # buttons already gone are what was asked for

    async def send_document(
        self, chat_id: int, file_id: str, caption: str | None, buttons: Keyboard | None
    ) -> int:
        return await self._send_file(self.bot.send_document, chat_id, file_id, caption, buttons)

    async def send_photo(
        self, chat_id: int, file_id: str, caption: str | None, buttons: Keyboard | None
    ) -> int:
        return await self._send_file(self.bot.send_photo, chat_id, file_id, caption, buttons)

    async def _send_file(
        self,
        send: Callable[..., Awaitable[Any]],
        chat_id: int,
        file_id: str,
        caption: str | None,
        buttons: Keyboard | None,
    ) -> int:
        with self.mapped_errors():
            message = await send(
                chat_id,
                file_id,
                caption=caption,
                parse_mode=HTML,
                reply_markup=self.keyboard(buttons),
            )
        return int(message.message_id)

    async def answer_callback(self, query_id: str, text: str | None, show_alert: bool) -> None:
        with self.mapped_errors():
            await self.bot.answer_callback_query(query_id, text=text, show_alert=show_alert)

    async def set_commands(
        self, commands: list[tuple[str, str]], language: str | None, chat_id: int | None = None
    ) -> None:
        scope = self.types.BotCommandScopeChat(chat_id=chat_id) if chat_id is not None else None
        with self.mapped_errors():
            await self.bot.set_my_commands(
                [self.types.BotCommand(command=c, description=d) for c, d in commands],
                scope=scope,
                language_code=language,
            )

    async def set_webhook(self, url: str, secret: str) -> None:
        with self.mapped_errors():
            await self.bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )

    async def delete_webhook(self) -> None:
        with self.mapped_errors():
            await self.bot.delete_webhook(drop_pending_updates=False)
