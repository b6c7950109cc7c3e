"""Framework update objects → handlers.events.Event.

aiogram's and python-telegram-bot's update models mirror the Bot API with the
same attribute names (message.from_user, chat.id, callback_query.data, …), so
one duck-typed conversion serves both; each adapter first parses the raw update
with its own framework and then calls `to_event`.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

from handlers.events import ID_RANGE, Event, IncomingFile, PaymentFacts

log = logging.getLogger(__name__)

# "/cmd", "/cmd@botname", then optional arguments after whitespace.
COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?$", re.S)
# What no database text column takes: NUL (PostgreSQL refuses it) and lone UTF-16
# surrogates (not encodable as UTF-8), which a JSON body can carry as \u escapes.
UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")


def _plain(value: Any) -> Any:
    """Enum members (aiogram's ChatType, PTB's ChatMemberStatus …) → their string value."""
    return getattr(value, "value", value)


def _user_fields(user: Any) -> dict[str, Any]:
    first = user.first_name or ""
    last = getattr(user, "last_name", None) or ""
    return {
        "user_id": user.id,
        "user_name": f"{first} {last}".strip(),
        "username": getattr(user, "username", None),
        "language_code": getattr(user, "language_code", None),
    }


def _files(message: Any) -> tuple[IncomingFile, ...]:
    document = getattr(message, "document", None)
    if document is not None:
        return (
            IncomingFile(
                file_id=document.file_id,
                kind="document",
                file_name=getattr(document, "file_name", None),
                mime_type=getattr(document, "mime_type", None),
                file_size=getattr(document, "file_size", None),
            ),
        )
    photos = getattr(message, "photo", None) or ()
    if photos:
        largest = max(photos, key=lambda p: (p.width * p.height, p.file_size or 0))
        return (
            IncomingFile(
                file_id=largest.file_id,
                kind="photo",
                mime_type="image/jpeg",
                file_size=getattr(largest, "file_size", None),
            ),
        )
    return ()


def _from_message(update_id: int, message: Any, bot_username: str | None) -> Event | None:
    user = getattr(message, "from_user", None)
    if user is None or getattr(user, "is_bot", False):
        return None  # channel posts, anonymous admins, other bots
    via = getattr(message, "via_bot", None)
    if via is not None and bot_username and (via.username or "").lower() == bot_username.lower():
        return None  # our own inline card, posted by the user (handlers/flows/inline.py)
    base = {
        "update_id": update_id,
        "chat_id": message.chat.id,
        "chat_type": str(_plain(message.chat.type)),
        **_user_fields(user),
    }
    paid = getattr(message, "successful_payment", None)
    if paid is not None:
        return Event(
            kind="payment",
            payment=PaymentFacts(
                payload=paid.invoice_payload,
                currency=str(paid.currency),
                total_amount=int(paid.total_amount),
                telegram_charge_id=paid.telegram_payment_charge_id,
                provider_charge_id=paid.provider_payment_charge_id,
            ),
            **base,
        )
    files = _files(message)
    if files:
        return Event(kind="file", files=files, text=getattr(message, "caption", None), **base)
    text = getattr(message, "text", None)
    if text is None:
        return None  # stickers, locations, service messages …: nothing to do
    match = COMMAND_RE.match(text)
    if match:
        command, addressee, args = match.groups()
        if addressee and bot_username and addressee.lower() != bot_username.lower():
            return None  # "/start@other_bot" in a group is not for us
        return Event(
            kind="command", command=command.lower(), args=(args or "").strip(), text=text, **base
        )
    return Event(kind="text", text=text, **base)


def _from_callback(update_id: int, query: Any) -> Event:
    message = getattr(query, "message", None)
    chat = getattr(message, "chat", None)
    return Event(
        kind="button",
        update_id=update_id,
        chat_id=chat.id if chat is not None else query.from_user.id,
        chat_type=str(_plain(chat.type)) if chat is not None else "private",
        callback_data=query.data,
        callback_query_id=query.id,
        message_id=getattr(message, "message_id", None),
        **_user_fields(query.from_user),
    )


def _from_inline(update_id: int, query: Any, bot_username: str | None) -> Event:
    # chat_type is where it was typed ("sender": the user's chat with the bot itself).
    chat_type = getattr(query, "chat_type", None)
    return Event(
        kind="inline_query",
        update_id=update_id,
        chat_id=query.from_user.id,
        chat_type=str(_plain(chat_type)) if chat_type else "unknown",
        text=query.query or "",
        inline_query_id=query.id,
        inline_offset=query.offset or "",
        bot_username=bot_username,
        **_user_fields(query.from_user),
    )


def _from_pre_checkout(update_id: int, query: Any) -> Event:
    return Event(
        kind="pre_checkout",
        update_id=update_id,
        chat_id=query.from_user.id,
        payment=PaymentFacts(
            payload=query.invoice_payload,
            currency=str(query.currency),
            total_amount=int(query.total_amount),
            pre_checkout_query_id=query.id,
        ),
        **_user_fields(query.from_user),
    )


def _from_member(update_id: int, change: Any) -> Event | None:
    if str(_plain(change.chat.type)) != "private":
        return None  # being added to or removed from groups is not a user's choice
    status = str(_plain(change.new_chat_member.status))
    if status == "kicked":
        kind = "blocked"
    elif status == "member":
        kind = "unblocked"
    else:
        return None
    return Event(
        kind=kind,
        update_id=update_id,
        chat_id=change.chat.id,
        chat_type="private",
        **_user_fields(change.from_user),
    )


def to_event(update: Any, bot_username: str | None = None) -> Event | None:
    """An aiogram or PTB Update → Event, or None if the marketplace ignores it.
    Every text in it (names, username, message, caption, button data, file names)
    is storable; an id no database column can hold drops the update (logged)."""
    update_id = update.update_id
    if getattr(update, "message", None) is not None:
        event = _from_message(update_id, update.message, bot_username)
    elif getattr(update, "callback_query", None) is not None:
        event = _from_callback(update_id, update.callback_query)
    elif getattr(update, "my_chat_member", None) is not None:
        event = _from_member(update_id, update.my_chat_member)
    elif getattr(update, "inline_query", None) is not None:
        event = _from_inline(update_id, update.inline_query, bot_username)
    elif getattr(update, "pre_checkout_query", None) is not None:
        event = _from_pre_checkout(update_id, update.pre_checkout_query)
    else:
        return None
    if event is None:
        return None
    ids = (event.user_id, event.chat_id, event.message_id)
    if not all(i is None or i in ID_RANGE for i in ids):
        log.warning("update %s: an id out of range; ignored", update_id)
        return None
    return _storable(event)


def _storable_text(text: str) -> str:
    """`text` without NUL characters, and with U+FFFD for lone surrogates."""
    return UNSTORABLE_RE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def _storable(record: Any) -> Any:
    """The Event (or IncomingFile) with _storable_text applied to each text field."""
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if isinstance(value, str) and UNSTORABLE_RE.search(value):
            changes[field.name] = _storable_text(value)
        elif field.name == "files" and value:
            changes[field.name] = tuple(_storable(f) for f in value)
        elif field.name == "payment" and value is not None:
            changes[field.name] = _storable(value)
    return dataclasses.replace(record, **changes) if changes else record
