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
from handlers.events import InlineAnswer, Keyboard

HTML = "HTML"  # both frameworks' ParseMode.HTML is this string


class FrameworkApi:
    """A TelegramApi over a framework's Bot: HTML, no link previews."""

    # The framework's module of Bot API types (InlineKeyboardMarkup, BotCommand, …).
    types: ClassVar[ModuleType]

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        # Telegram Payments' provider token (GIGBOT_TELEGRAM_PROVIDER_TOKEN), for sendInvoice.
        self.provider_token: str | None = None
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

    def upload(self, image: bytes, filename: str) -> Any:
        """The framework's in-memory upload (aiogram BufferedInputFile, PTB InputFile)."""
        raise NotImplementedError

    async def send_image(
        self,
        chat_id: int,
        image: bytes,
        filename: str,
        caption: str | None,
        buttons: Keyboard | None,
    ) -> int:
        upload = self.upload(image, filename)
        return await self._send_file(self.bot.send_photo, chat_id, upload, caption, buttons)

    async def _send_file(
        self,
        send: Callable[..., Awaitable[Any]],
        chat_id: int,
        file_id: Any,  # a file_id, or the framework's upload
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

    async def answer_inline(self, query_id: str, answer: InlineAnswer) -> None:
        types = self.types
        results = [
            types.InlineQueryResultArticle(
                id=r.id,
                title=r.title,
                description=r.description or None,
                input_message_content=types.InputTextMessageContent(
                    message_text=r.text,
                    parse_mode=HTML,
                    link_preview_options=self.no_preview,
                ),
                reply_markup=self.keyboard(r.buttons),
            )
            for r in answer.results
        ]
        with self.mapped_errors():
            await self.bot.answer_inline_query(
                query_id,
                results,
                cache_time=answer.cache_time,
                is_personal=answer.is_personal,
                next_offset=answer.next_offset,
            )

    async def answer_pre_checkout(self, query_id: str, ok: bool, error: str | None) -> None:
        with self.mapped_errors():
            await self.bot.answer_pre_checkout_query(
                query_id, ok=ok, error_message=None if ok else error
            )

    async def send_invoice(self, chat_id: int, invoice: dict[str, Any]) -> int:
        prices = [
            self.types.LabeledPrice(label=label, amount=amount)
            for label, amount in invoice["prices"]
        ]
        with self.mapped_errors():
            message = await self.bot.send_invoice(
                chat_id,
                title=invoice["title"],
                description=invoice["description"],
                payload=invoice["payload"],
                # Kept out of the outbox row: set on the client at start-up (a secret).
                provider_token=self.provider_token or "",
                currency=invoice["currency"],
                prices=prices,
            )
        return int(message.message_id)

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
