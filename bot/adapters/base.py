"""What app.py needs from a framework adapter, and the factory that picks one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bot.telegram_port import TelegramApi
from handlers.events import Event

# The update types the marketplace reacts to; everything else is not even fetched.
ALLOWED_UPDATES = [
    "message",
    "callback_query",
    "my_chat_member",
    "inline_query",
    "pre_checkout_query",
]

Submit = Callable[[Event], Awaitable[None]]
# Takes one raw Bot API update (a dict); the framework confirms it to Telegram (the
# next getUpdates offset) only after this returned, so it can be stored durably first.
Receive = Callable[[dict[str, Any]], Awaitable[None]]


class FrameworkAdapter(Protocol):
    framework: str
    api: TelegramApi
    username: str | None  # the bot's @username (known after start)

    async def start(self) -> None:
        """Open the client and learn who the bot is (getMe)."""
        ...

    def parse(self, payload: dict[str, Any]) -> Event | None:
        """A raw update → Event; None for updates the marketplace ignores."""
        ...

    async def start_polling(self, submit: Submit, timeout_s: int = 25) -> None:
        """Start long polling in the background; every Event goes to `submit`, in order."""
        ...

    async def start_polling_raw(self, receive: Receive, timeout_s: int = 25) -> None:
        """Start long polling in the background; every raw update goes to `receive`, in
        order, and is confirmed to Telegram only once `receive` returned."""
        ...

    async def stop_polling(self) -> None: ...

    async def set_webhook(self, url: str, secret: str) -> None: ...

    async def delete_webhook(self) -> None: ...

    async def close(self) -> None: ...


def create_adapter(framework: str, token: str, api_base: str) -> FrameworkAdapter:
    """`api_base` is the Bot API server's base URL, e.g. https://api.telegram.org."""
    if framework == "aiogram":
        from bot.adapters.aiogram_api import AiogramAdapter

        return AiogramAdapter(token, api_base)
    if framework == "ptb":
        from bot.adapters.ptb_api import PtbAdapter

        return PtbAdapter(token, api_base)
    raise ValueError(f"unknown framework {framework!r} (aiogram or ptb)")
