"""The framework-neutral contract between the Telegram adapters (bot/) and the
conversations (handlers/).

An adapter turns a framework update into an `Event` and gives it to
`handlers.engine.Engine.handle`, which returns an `Outcome`. Everything the bot
says goes through the outbox (see `OutboxPayload` below) so that it commits with
the change it reports; only the answers to a button press, an inline query and a
pre-checkout query are returned directly (Outcome), because Telegram wants them
within seconds, they are not chat messages and they change nothing.

Outbox rows (domain.entities.OutboxMessage) carry, by `method`:
- "send":     payload {"text": html, "buttons": Keyboard | None}
- "edit":     payload {"message_id": int, "text": html, "buttons": Keyboard | None}
- "document": payload {"file_id": str, "caption": html | None, "buttons": Keyboard | None}
- "photo":    payload {"file_id": str, "caption": html | None, "buttons": Keyboard | None}
              (sendPhoto: Telegram refuses a photo's file_id in sendDocument)
- "chart":    payload {"chart": spec, "fingerprint": str, "caption": html | None,
              "buttons": Keyboard | None} (handlers/charts.py; drawn as a PNG and
              uploaded through sendPhoto by the sender, bot/charts.py)
- "buttons":  payload {"message_id": int} or {"outbox_id": int}, "buttons": Keyboard | None
              (editMessageReplyMarkup of an earlier message, named by its id or by
              the row that sent it: an old wizard screen's buttons taken away)
- "commands": payload {"language": str | None, "commands": [[command, description], …]}
A Keyboard is a list of rows, each a list of {"text": str, "data": str} (callback
button, data ≤ 64 bytes) or {"text": str, "url": str}. Text is always parse_mode
HTML, with every user-supplied part escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

EventKind = Literal[
    "command",
    "text",
    "button",
    "file",
    "blocked",
    "unblocked",
    "inline_query",  # "@bot words" typed in any chat: answered, never a chat message
    "pre_checkout",  # Telegram asks whether an invoice may still be paid
    "payment",  # a successful_payment message: the invoice was paid
]

Button = dict[str, str]
Keyboard = list[list[Button]]


# The ids an Event may carry (update, user, chat, message): the database keeps them
# as BIGINT; an update with any other is not one we can take.
ID_RANGE = range(-(2**63), 2**63)

FileKind = Literal["document", "photo"]
PHOTO_PREFIX = "photo:"  # Telegram file ids never contain ":", so this cannot clash


@dataclass(frozen=True, slots=True)
class IncomingFile:
    file_id: str
    kind: FileKind = "document"
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None

    @property
    def stored(self) -> str:
        """The id to keep in the database: "photo:<file_id>" for a photo, the plain
        id for a document, so it can be sent back the way Telegram accepts it."""
        return PHOTO_PREFIX + self.file_id if self.kind == "photo" else self.file_id


def stored_file(stored: str) -> tuple[FileKind, str]:
    """(kind, Telegram file_id) of a kept id; plain ids (rows older than the kind
    was kept, and documents) are documents."""
    if stored.startswith(PHOTO_PREFIX):
        return "photo", stored[len(PHOTO_PREFIX) :]
    return "document", stored


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    user_id: int
    chat_id: int
    update_id: int | None = None  # recorded so that each update takes effect once
    chat_type: str = "private"
    user_name: str = ""
    username: str | None = None
    language_code: str | None = None
    command: str | None = None  # without the slash or @botname, e.g. "start"
    args: str = ""  # what follows the command, e.g. "job_12" for a deep link
    text: str | None = None  # message text, or a file's caption
    callback_data: str | None = None
    callback_query_id: str | None = None
    message_id: int | None = None  # the message whose button was pressed
    files: tuple[IncomingFile, ...] = ()
    # inline_query: its id, text (`text`), paging offset, and the bot's @username
    # (the deep links of the results name it)
    inline_query_id: str | None = None
    inline_offset: str = ""
    bot_username: str | None = None
    # pre_checkout / payment: the invoice (bot/payments/telegram_pay.py)
    payment: PaymentFacts | None = None


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """What Telegram says about an invoice being paid: for a pre_checkout_query its
    id, for a successful_payment the charge ids; always the payload and the total."""

    payload: str
    currency: str
    total_amount: int  # minor units
    pre_checkout_query_id: str | None = None
    telegram_charge_id: str | None = None
    provider_charge_id: str | None = None


@dataclass(frozen=True, slots=True)
class InlineResult:
    """One InlineQueryResultArticle: posts `text` (HTML) with `buttons` (URL buttons
    only: a message sent "via @bot" belongs to no conversation with the bot)."""

    id: str  # ≤ 64 bytes
    title: str
    description: str
    text: str
    buttons: Keyboard | None = None


@dataclass(frozen=True, slots=True)
class InlineAnswer:
    """answerInlineQuery's arguments."""

    results: tuple[InlineResult, ...]
    next_offset: str = ""  # "" : no more results
    cache_time: int = 30  # seconds
    is_personal: bool = False


@dataclass(frozen=True, slots=True)
class PreCheckoutAnswer:
    """answerPreCheckoutQuery's arguments: ok, or refused with a reason shown."""

    ok: bool
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    text: str | None = None  # plain text, ≤ 200 characters
    show_alert: bool = False


@dataclass(slots=True)
class Outcome:
    """What the adapter must do itself once the event's transaction committed."""

    callback_answer: CallbackAnswer | None = None  # always set for a button press
    inline_answer: InlineAnswer | None = None  # set for an inline query
    pre_checkout_answer: PreCheckoutAnswer | None = None  # always set for a pre-checkout
    duplicate: bool = False  # the update had been handled before; nothing was done
    outbox_ids: list[int] = field(default_factory=list)  # rows to deliver first


class EventHandler(Protocol):
    """What the runtime drives: handlers.engine.Engine implements it."""

    async def handle(self, event: Event) -> Outcome: ...

    async def tick(self) -> int:
        """Run whatever deadlines are due (auto-release, reminders, expiry, reveal,
        digests); idempotent and safe in several processes at once. Returns how
        many things it did."""
        ...
