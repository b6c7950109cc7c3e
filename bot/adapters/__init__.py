"""The two Telegram frameworks behind one interface.

Each adapter module implements, for its framework:
- a `TelegramApi` (bot/telegram_port.py) — what the outbox sender and start-up call;
  the calls themselves are written once in bot/adapters/bot_api.py, each framework
  naming its types and mapping its errors;
- `parse(payload)` — a raw Bot API update (dict) → handlers.events.Event, via the
  framework's own update model and bot/adapters/events.py;
- long polling through the framework's own machinery, feeding raw updates (confirmed
  to Telegram only after the callback returned: bot/intake.py stores them first) or
  Events to a callback;
- setWebhook/deleteWebhook for webhook mode (the HTTP side is bot/webhook.py).

`create_adapter(settings-like values)` picks aiogram (default) or python-telegram-bot.
"""

from __future__ import annotations

from bot.adapters.base import (
    ALLOWED_UPDATES,
    FrameworkAdapter,
    Receive,
    Submit,
    create_adapter,
)

__all__ = ["ALLOWED_UPDATES", "FrameworkAdapter", "Receive", "Submit", "create_adapter"]
