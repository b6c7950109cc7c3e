"""The sandbox's Telegram: one bot, its users and chats, updates, files, and the user side.

``Emulator`` holds all state. The bot talks to it over HTTP (see ``bot_methods`` and
``http_bot``); people act through the Python methods here (tests) or the JSON routes in
``user_api`` (the web chat page). Every change bumps a version and wakes waiters, so tests
and the page's long-poll wait for events instead of sleeping. With a ``state_path`` the
state outlives the process (``persist.SandboxStore``), as Telegram's does.
"""

from __future__ import annotations

import copy
import logging
import mimetypes
import secrets
import sqlite3
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bot.sandbox.bot_methods import BotMethods
from bot.sandbox.inline import InlineMode, InlineQuery
from bot.sandbox.limits import Limits, RateLimiter
from bot.sandbox.markup import iter_buttons
from bot.sandbox.models import BotCall, CallbackPress, Chat, Message, SandboxUser, StoredFile
from bot.sandbox.notify import Broadcast
from bot.sandbox.payments import Payments, PreCheckout
from bot.sandbox.persist import SandboxStore
from bot.sandbox.textutil import detect_entities
from bot.sandbox.webhook import WebhookDelivery

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_TOKEN = "1000000001:SANDBOX-gigbot-local-token"


@dataclass
class Dirty:
    """What changed since the state file was last written (see persist.SandboxStore)."""

    users: set[int] = field(default_factory=set)
    chats: dict[int, set[int]] = field(default_factory=dict)  # chat id -> message ids
    callbacks: set[str] = field(default_factory=set)
    files: list[StoredFile] = field(default_factory=list)
    invoices: set[tuple[int, int]] = field(default_factory=set)  # (chat id, message id)

    def chat(self, chat_id: int, *message_ids: int) -> None:
        self.chats.setdefault(chat_id, set()).update(message_ids)

    def clear(self) -> None:
        self.users.clear()
        self.chats.clear()
        self.callbacks.clear()
        self.files.clear()
        self.invoices.clear()


class Emulator:
    """A local Telegram for one bot.

    token: what the bot must use in /bot{token}/...; its numeric prefix is the bot's id.
    limits: flood limits (all off by default). admin_user_ids: only used to label the
    admin column of the web page; who is an admin is the application's decision.
    state_path: a file that keeps the state across restarts (loaded here, written on every
    change); None keeps it in memory only (tests).
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "gigbot_sandbox_bot",
        bot_first_name: str = "Gigbot",
        limits: Limits | None = None,
        admin_user_ids: Iterable[int] = (),
        clock: Callable[[], float] = time.monotonic,
        state_path: str | Path | None = None,
        inline_placeholder: str | None = None,
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_user: dict[str, Any] = {
            "id": int(prefix) if prefix.isdigit() else 1000000001,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.limits = limits or Limits()
        self.rate_limiter = RateLimiter(self.limits, clock)
        self.admin_user_ids = list(admin_user_ids)
        self.clock = clock

        self._empty_state()
        self.inline = InlineMode(self)  # inline queries are not kept across restarts
        self.inline.placeholder = inline_placeholder
        self.payments = Payments(self)  # invoices and pre-checkout queries (payments.py)
        self.api = BotMethods(self)
        self.webhook = WebhookDelivery(self)
        self.dirty = Dirty()
        self.store: SandboxStore | None = None
        if state_path is not None:
            self._open_store(Path(state_path))
            self.changes.listeners.append(self.save)

    def _empty_state(self) -> None:
        """A Telegram with nobody in it yet."""
        self.users: dict[int, SandboxUser] = {}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackPress] = {}
        self.calls: list[BotCall] = []  # every Bot API request, in receive order
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}  # (scope, lang)
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}

        self.updates: list[dict[str, Any]] = []  # not yet confirmed by the bot
        self.allowed_updates: list[str] | None = None
        self.poll_generation = 0
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_max_connections = 40
        self.webhook_last_error: tuple[int, str] | None = None

        self.changes = Broadcast()
        self.closing = False
        self.next_update_id = 1
        self.next_file_id = 1
        self.next_group_id = 1

    # -- lifecycle ------------------------------------------------------------------

    def install(self, app: Any, *, page: bool = True) -> None:
        """Add the Bot API, user API and (optionally) the web page routes to an aiohttp app."""
        from bot.sandbox.app import install

        install(app, self, page=page)

    def _open_store(self, path: Path) -> None:
        try:
            self.store = SandboxStore(path)
            self.store.load(self)
        except (sqlite3.DatabaseError, KeyError, TypeError, ValueError) as error:
            # A sandbox is for trying things: an unreadable file is set aside, not fatal.
            if self.store is not None:
                self.store.close()
            aside = path.with_name(path.name + ".unreadable")
            for suffix in ("", "-wal", "-shm"):  # SQLite's journal goes with its file
                part = path.with_name(path.name + suffix)
                if part.exists():
                    part.replace(aside.with_name(aside.name + suffix))
            log.warning("sandbox state %s unreadable (%s); moved to %s", path, error, aside)
            self._empty_state()
            self.dirty.clear()
            self.store = SandboxStore(path)

    def resume(self) -> None:
        """Once serving: deliver to a webhook set before a restart (Telegram keeps it)."""
        if self.webhook_url and not self.closing:
            self.webhook.restart()

    def save(self) -> None:
        """Write what changed to the state file (run on every change; no-op in memory)."""
        if self.store is not None:
            self.store.save(self)

    async def close(self) -> None:
        """Release long-polls and stop webhook delivery (called on app shutdown)."""
        self.closing = True
        self.changes.notify()
        await self.webhook.stop()
        if self.store is not None:
            self.save()
            self.store.close()
            self.store = None

    # -- users and chats ---------------------------------------------------------------

    def add_user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        last_name: str | None = None,
        started: bool = False,
    ) -> SandboxUser:
        """Create a user (or update the one with that id). Its chat with the bot stays closed
        to the bot (403) until the user writes to it, as on Telegram; started=True opens it
        at once (as if the user had pressed Start earlier)."""
        if user_id is None:
            user_id = max([*self.users, 100000]) + 1
        user = SandboxUser(user_id, first_name, username, language_code, last_name)
        self.users[user_id] = user
        self.dirty.users.add(user_id)
        chat = self.chats.get(user_id)
        if chat is None:
            self.chats[user_id] = Chat(id=user_id, type="private", user=user)
        else:
            chat.user = user
        chat = self.chats[user_id]
        chat.started = chat.started or started
        self.touch(chat)
        return user

    def set_language(self, user_id: int, language_code: str | None) -> SandboxUser:
        """The user's app language (Telegram's language_code in updates and the command
        menu's language), as when they switch their Telegram app's language."""
        user = self.user(user_id)
        user.language_code = language_code or None
        self.dirty.users.add(user_id)
        self.touch(self.chats[user_id])
        return user

    def user(self, user_id: int) -> SandboxUser:
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"no sandbox user {user_id}") from None

    def create_group(self, title: str) -> Chat:
        """A group the bot is in (for group rate limits); users do not post there."""
        chat_id = -(100 + self.next_group_id)
        self.next_group_id += 1
        chat = Chat(id=chat_id, type="group", title=title, started=True)
        self.chats[chat_id] = chat
        self.touch(chat)
        return chat

    def touch(self, chat: Chat, *message_ids: int) -> None:
        """The chat changed (and these of its messages: added, edited or deleted)."""
        chat.version = self.changes.version + 1
        self.dirty.chat(chat.id, *message_ids)
        self.changes.notify()

    # -- updates ----------------------------------------------------------------------

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        # Telegram's default excludes these three kinds unless asked for.
        default_off = {"chat_member", "message_reaction", "message_reaction_count"}
        allowed = self.allowed_updates
        if (allowed and kind not in allowed) or (not allowed and kind in default_off):
            return None
        update = {"update_id": self.next_update_id, kind: copy.deepcopy(payload)}
        self.next_update_id += 1
        self.updates.append(update)
        self.changes.notify()
        return update

    def confirm_updates(self, offset: int) -> None:
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    # -- messages and files --------------------------------------------------------------

    def add_message(self, chat: Chat, sender: dict[str, Any], content: dict[str, Any]) -> Message:
        msg: Message = {
            "message_id": chat.next_message_id,
            "from": dict(sender),
            "chat": chat.to_telegram(),
            "date": int(time.time()),
            **content,
        }
        chat.next_message_id += 1
        chat.messages[msg["message_id"]] = msg
        self.touch(chat, msg["message_id"])
        return msg

    def store_file(
        self, data: bytes, file_name: str | None, mime_type: str | None, folder: str
    ) -> StoredFile:
        n = self.next_file_id
        self.next_file_id += 1
        if not mime_type or mime_type == "application/octet-stream":
            mime_type = mimetypes.guess_type(file_name or "")[0] or mime_type
        ext = (file_name or "").rpartition(".")[2] if file_name and "." in file_name else "bin"
        width, height = _png_size(data)
        stored = StoredFile(
            file_id=f"BQACAgSandbox{n:06d}{secrets.token_urlsafe(12)}",
            file_unique_id=f"AgADSbx{n:06d}",
            file_path=f"{folder}/file_{n}.{ext}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        self.dirty.files.append(stored)
        return stored

    # -- acting as a user -----------------------------------------------------------------

    def _user_chat(self, user_id: int) -> tuple[SandboxUser, Chat]:
        user = self.user(user_id)
        chat = self.chats[user_id]
        if chat.blocked:
            self.unblock_bot(user_id)  # writing to a blocked bot means pressing "Restart"
        chat.started = True
        return user, chat

    def _user_message(self, user_id: int, content: dict[str, Any]) -> Message:
        user, chat = self._user_chat(user_id)
        msg = self.add_message(chat, user.to_telegram(), content)
        self.push_update("message", msg)
        return copy.deepcopy(msg)

    def send_text(self, user_id: int, text: str) -> Message:
        """The user types text; commands, urls and mentions get entities as on Telegram."""
        if not text.strip():
            raise ValueError("message text is empty")
        content: dict[str, Any] = {"text": text}
        if entities := detect_entities(text):
            content["entities"] = entities
        return self._user_message(user_id, content)

    def send_command(self, user_id: int, command: str, payload: str = "") -> Message:
        """E.g. send_command(1001, "start", "job_42") is a t.me/bot?start=job_42 deep link."""
        text = f"/{command.lstrip('/')}" + (f" {payload}" if payload else "")
        return self.send_text(user_id, text)

    def send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> Message:
        stored = self.store_file(data, file_name, mime_type, "documents")
        content: dict[str, Any] = {"document": stored.document()}
        if caption:
            content["caption"] = caption
            if entities := detect_entities(caption):
                content["caption_entities"] = entities
        return self._user_message(user_id, content)

    def press_button(
        self,
        user_id: int,
        message_id: int,
        data: str | None = None,
        *,
        text: str | None = None,
        forge: bool = False,
    ) -> CallbackPress:
        """Press the callback button with this data (or this label) under a bot message.

        forge=True sends `data` even if no such button is shown (a stale or tampered
        client), so tests can check the bot re-authorises every press.
        """
        user, chat = self._user_chat(user_id)
        msg = chat.messages.get(message_id)
        if msg is None:
            raise KeyError(f"no message {message_id} in chat {user_id}")
        buttons = [b for b in iter_buttons(msg.get("reply_markup")) if "callback_data" in b]
        match = [b for b in buttons if (data is None or b["callback_data"] == data)]
        match = [b for b in match if (text is None or b["text"] == text)]
        if forge and data is not None:
            match = [{"callback_data": data}]
        if not match:
            raise ValueError(f"message {message_id} has no such callback button")
        press = CallbackPress(
            id=str(secrets.randbits(62)),
            user_id=user_id,
            chat_id=chat.id,
            message_id=message_id,
            data=match[0]["callback_data"],
        )
        self.callbacks[press.id] = press
        self.dirty.callbacks.add(press.id)
        self.push_update(
            "callback_query",
            {
                "id": press.id,
                "from": user.to_telegram(),
                "message": msg,
                "chat_instance": str(abs(hash((self.bot_user["id"], chat.id)))),
                "data": press.data,
            },
        )
        self.touch(chat)
        return press

    def _member_update(self, user_id: int, old: str, new: str) -> None:
        user = self.user(user_id)
        chat = self.chats[user_id]
        new_member: dict[str, Any] = {"user": self.bot_user, "status": new}
        old_member: dict[str, Any] = {"user": self.bot_user, "status": old}
        for member in (new_member, old_member):
            if member["status"] == "kicked":
                member["until_date"] = 0
        self.push_update(
            "my_chat_member",
            {
                "chat": chat.to_telegram(),
                "from": user.to_telegram(),
                "date": int(time.time()),
                "old_chat_member": old_member,
                "new_chat_member": new_member,
            },
        )

    def block_bot(self, user_id: int) -> None:
        chat = self.chats[self.user(user_id).id]
        if not chat.blocked:
            chat.blocked = True
            self._member_update(user_id, "member", "kicked")
            self.touch(chat)

    def unblock_bot(self, user_id: int) -> None:
        chat = self.chats[self.user(user_id).id]
        if chat.blocked:
            chat.blocked = False
            self._member_update(user_id, "kicked", "member")
            self.touch(chat)

    # -- inline mode (bot/sandbox/inline.py) ---------------------------------------------------

    def set_inline_mode(self, placeholder: str | None) -> None:
        """BotFather's /setinline: a placeholder turns inline mode on, None off."""
        self.inline.placeholder = placeholder

    def inline_query(
        self, user_id: int, query: str, *, chat_id: int | None = None, offset: str = ""
    ) -> InlineQuery:
        """The user types "@bot query" in a chat (default: their chat with the bot)."""
        return self.inline.ask(user_id, query, chat_id=chat_id, offset=offset)

    def choose_inline_result(self, user_id: int, query_id: str, result_id: str) -> Message:
        return self.inline.choose(user_id, query_id, result_id)

    async def wait_for_inline_answer(self, query_id: str, timeout: float = 5.0) -> InlineQuery:  # noqa: ASYNC109
        asked = self.inline.queries[query_id]
        await self.wait_for(lambda: asked.answered, timeout)
        return asked

    # -- Telegram Payments (bot/sandbox/payments.py) ------------------------------------------

    def pay_invoice(self, user_id: int, message_id: int) -> PreCheckout:
        """The user taps Pay under an invoice in their chat and confirms the sheet."""
        return self.payments.pay(user_id, message_id)

    async def wait_for_pre_checkout_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> PreCheckout:
        asked = self.payments.pre_checkouts[query_id]
        await self.wait_for(lambda: asked.answered, timeout)
        return asked

    # -- reading --------------------------------------------------------------------------

    def messages(self, chat_id: int) -> list[Message]:
        """The chat as Telegram shows it: in order, edits applied, deletions gone."""
        chat = self.chats.get(chat_id)
        return copy.deepcopy(list(chat.messages.values())) if chat else []

    def last_message(self, chat_id: int) -> Message | None:
        msgs = self.messages(chat_id)
        return msgs[-1] if msgs else None

    def chat_view(self, chat_id: int) -> dict[str, Any]:
        chat = self.chats[chat_id]
        recent = chat.last_action_at is not None and self.clock() - chat.last_action_at < 5
        return {
            "chat_id": chat_id,
            "version": chat.version,
            "blocked": chat.blocked,
            "messages": self.messages(chat_id),
            "reply_keyboard": chat.reply_keyboard,
            "action": chat.last_action if recent else None,
            "callbacks": [c.to_json() for c in self.callbacks.values() if c.chat_id == chat_id][
                -20:
            ],
        }

    def file_data(self, file_id: str) -> bytes:
        return self.files[file_id].data

    def commands_for(self, user_id: int, language_code: str | None = None) -> list[dict[str, str]]:
        """The command menu a user would see (Telegram's scope and language fallback), in
        their app's language unless another language_code is given."""
        user = self.user(user_id)
        lang_code = (language_code or user.language_code or "").split("-")[0].lower()
        scopes = [
            {"type": "chat", "chat_id": user_id},
            {"type": "all_private_chats"},
            {"type": "default"},
        ]
        from bot.sandbox.bot_methods import scope_key

        for scope in scopes:
            for lang in (lang_code, ""):
                found = self.commands.get((scope_key(scope), lang))
                if found:
                    return copy.deepcopy(found)
        return []

    def calls_to(self, method: str) -> list[BotCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    # -- waiting (no sleeps) ----------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """Re-check predicate on every change; return its first truthy value."""
        return await self.changes.wait_for(predicate, timeout)

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[Message], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 (a deadline is the API tests want)
        *,
        from_bot: bool | None = True,
        after: int = 0,
    ) -> Message:
        """First message in the chat (id > after; by default from the bot) that matches."""

        def find() -> Message | None:
            chat = self.chats.get(chat_id)
            for msg in list(chat.messages.values()) if chat else []:
                if msg["message_id"] <= after:
                    continue
                if from_bot is not None and msg["from"].get("is_bot", False) != from_bot:
                    continue
                if predicate is None or predicate(msg):
                    return copy.deepcopy(msg)
            return None

        return await self.wait_for(find, timeout)

    async def wait_for_callback_answer(self, query_id: str, timeout: float = 5.0) -> CallbackPress:  # noqa: ASYNC109
        press = self.callbacks[query_id]
        await self.wait_for(lambda: press.answered, timeout)
        return press

    async def wait_for_chat_change(self, chat_id: int, since: int, timeout: float) -> int:  # noqa: ASYNC109
        """Long-poll helper: the chat's version once it is above since (or on timeout)."""
        chat = self.chats[chat_id]
        try:
            await self.wait_for(lambda: chat.version > since or self.closing, timeout)
        except TimeoutError:
            pass
        return chat.version


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 0, 0
