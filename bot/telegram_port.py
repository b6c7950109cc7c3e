"""What the outbox sender needs from a Telegram client, and the errors it reacts to.

Implemented once per framework (bot/adapters/aiogram_api.py, bot/adapters/ptb_api.py),
so the sender, the scheduler and start-up are written once.
"""

from __future__ import annotations

from typing import Any, Protocol

from handlers.events import InlineAnswer, Keyboard


class TelegramError(Exception):
    pass


class RetryAfter(TelegramError):
    """429: Telegram asks us to wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class Forbidden(TelegramError):
    """403: the user blocked the bot (or never started it)."""


class BadRequest(TelegramError):
    """400: the request itself is wrong; retrying will not help."""


class TelegramApi(Protocol):
    async def send_message(self, chat_id: int, text: str, buttons: Keyboard | None) -> int:
        """Send HTML text; return the new message_id."""
        ...

    async def edit_message(
        self, chat_id: int, message_id: int, text: str, buttons: Keyboard | None
    ) -> None: ...

    async def edit_buttons(self, chat_id: int, message_id: int, buttons: Keyboard | None) -> None:
        """editMessageReplyMarkup: replace (None: remove) a message's buttons only."""
        ...

    async def send_document(
        self, chat_id: int, file_id: str, caption: str | None, buttons: Keyboard | None
    ) -> int: ...

    async def send_photo(
        self, chat_id: int, file_id: str, caption: str | None, buttons: Keyboard | None
    ) -> int:
        """sendPhoto: a photo's file_id (Telegram refuses it in sendDocument)."""
        ...

    async def send_image(
        self,
        chat_id: int,
        image: bytes,
        filename: str,
        caption: str | None,
        buttons: Keyboard | None,
    ) -> int:
        """sendPhoto of a picture we made (a chart's PNG), uploaded as multipart."""
        ...

    async def answer_callback(self, query_id: str, text: str | None, show_alert: bool) -> None: ...

    async def answer_inline(self, query_id: str, answer: InlineAnswer) -> None:
        """answerInlineQuery: articles that post an HTML card with URL buttons."""
        ...

    async def answer_pre_checkout(self, query_id: str, ok: bool, error: str | None) -> None:
        """answerPreCheckoutQuery: ok, or refused with `error` shown to the payer."""
        ...

    async def send_invoice(self, chat_id: int, invoice: dict[str, Any]) -> int:
        """sendInvoice of an outbox "invoice" row's payload; the new message_id."""
        ...

    async def set_commands(
        self, commands: list[tuple[str, str]], language: str | None, chat_id: int | None = None
    ) -> None:
        """setMyCommands for everyone, or for one private chat when `chat_id` is given."""
        ...

    async def call(self, method: str, **params: Any) -> Any:
        """Any other Bot API method (setWebhook, getMe, …)."""
        ...
