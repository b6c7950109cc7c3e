"""Inline mode in the sandbox, as the Bot API has it.

The bot's inline mode is switched on like BotFather's /setinline (a placeholder;
getMe then says supports_inline_queries). A user typing "@bot words" in a chat
makes an `inline_query` update; the bot answers with answerInlineQuery within
QUERY_TTL seconds, once (else QUERY_ID_INVALID); Telegram's checks: at most 50
results, ids of 1-64 bytes and unique, articles with a title and a message text,
button texts, next_offset of at most 64 bytes. An answer with cache_time is
reused for the same words and offset (for anyone, unless is_personal) without
asking the bot again. Choosing a result posts its message into the chat where it
was typed, from the user and "via @bot"; the bot gets it as any message there.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.sandbox.errors import bad_request
from bot.sandbox.markup import validate_markup
from bot.sandbox.models import Message
from bot.sandbox.params import Params

if TYPE_CHECKING:
    from bot.sandbox.emulator import Emulator

MAX_RESULTS = 50
MAX_RESULT_ID = 64  # bytes
MAX_OFFSET = 64  # bytes
MAX_QUERY = 256  # characters a user may type after the bot's name
QUERY_TTL = 10.0  # seconds the bot has to answer
RESULT_TYPES = {"article"}  # what the sandbox renders (Gigbot posts articles)


@dataclass
class InlineQuery:
    id: str
    user_id: int
    chat_id: int  # where it was typed
    query: str
    offset: str
    asked_at: float
    answered: bool = False
    cached: bool = False  # answered from Telegram's cache, the bot never asked
    results: list[dict[str, Any]] = field(default_factory=list)
    next_offset: str = ""
    cache_time: int = 300
    is_personal: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "query": self.query,
            "offset": self.offset,
            "answered": self.answered,
            "cached": self.cached,
            "next_offset": self.next_offset,
            "results": [
                {
                    "id": r["id"],
                    "title": r["title"],
                    "description": r.get("description", ""),
                }
                for r in self.results
            ],
        }


@dataclass
class _Cached:
    until: float
    user_id: int | None  # set for a personal answer
    results: list[dict[str, Any]]
    next_offset: str


class InlineMode:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.placeholder: str | None = None  # None: inline mode off (BotFather's default)
        self.queries: dict[str, InlineQuery] = {}
        self.cache: dict[tuple[str, str], _Cached] = {}

    @property
    def enabled(self) -> bool:
        return self.placeholder is not None

    # -- the user's side ----------------------------------------------------------------

    def ask(
        self, user_id: int, query: str, *, chat_id: int | None = None, offset: str = ""
    ) -> InlineQuery:
        emu = self.emu
        user = emu.user(user_id)
        if not self.enabled:
            raise ValueError("the bot has no inline mode (BotFather /setinline)")
        chat_id = user_id if chat_id is None else chat_id
        chat = emu.chats[chat_id]
        query = query[:MAX_QUERY]
        now = emu.clock()
        asked = InlineQuery(secrets.token_hex(8), user_id, chat_id, query, offset, now)
        self.queries[asked.id] = asked
        hit = self.cache.get((query, offset))
        if hit and hit.until > now and hit.user_id in (None, user_id):
            asked.answered = asked.cached = True
            asked.results = copy.deepcopy(hit.results)
            asked.next_offset = hit.next_offset
            emu.changes.notify()
            return asked
        if chat.type != "private":
            chat_type = chat.type
        else:
            chat_type = "sender" if chat_id == user_id else "private"
        emu.push_update(
            "inline_query",
            {
                "id": asked.id,
                "from": user.to_telegram(),
                "query": query,
                "offset": offset,
                "chat_type": chat_type,
            },
        )
        return asked

    def choose(self, user_id: int, query_id: str, result_id: str) -> Message:
        """The user taps a result: its message goes into the chat it was typed in."""
        emu = self.emu
        asked = self.queries.get(query_id)
        if asked is None or asked.user_id != user_id:
            raise KeyError(f"no inline query {query_id} of user {user_id}")
        found = [r for r in asked.results if r["id"] == result_id]
        if not found:
            raise ValueError(f"inline query {query_id} has no result {result_id!r}")
        result = found[0]
        user = emu.user(user_id)
        chat = emu.chats[asked.chat_id]
        content: dict[str, Any] = {"via_bot": dict(emu.bot_user), **result["message"]}
        if result.get("reply_markup"):
            content["reply_markup"] = result["reply_markup"]
        if chat.user is not None and chat.id == user_id:
            chat.started = True
        msg = emu.add_message(chat, user.to_telegram(), content)
        emu.push_update("message", msg)
        return copy.deepcopy(msg)

    # -- the bot's side: answerInlineQuery ----------------------------------------------------

    def answer(self, params: Params) -> bool:
        emu = self.emu
        asked = self.queries.get(params.text("inline_query_id") or "")
        if asked is None or asked.answered or emu.clock() - asked.asked_at > QUERY_TTL:
            raise bad_request("QUERY_ID_INVALID")
        raw = params.obj("results", "inline query results")
        if not isinstance(raw, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(raw) > MAX_RESULTS:
            raise bad_request("RESULTS_TOO_MUCH")
        results = [self._result(r) for r in raw]
        ids = [r["id"] for r in results]
        if len(set(ids)) != len(ids):
            raise bad_request("RESULT_ID_DUPLICATE")
        next_offset = params.text("next_offset") or ""
        if len(next_offset.encode()) > MAX_OFFSET:
            raise bad_request("NEXT_OFFSET_INVALID")
        cache_time = params.integer("cache_time", 300)
        cache_time = 300 if cache_time is None else max(cache_time, 0)
        personal = params.flag("is_personal")
        asked.answered = True
        asked.results, asked.next_offset = results, next_offset
        asked.cache_time, asked.is_personal = cache_time, personal
        if cache_time > 0:
            self.cache[(asked.query, asked.offset)] = _Cached(
                emu.clock() + cache_time,
                asked.user_id if personal else None,
                copy.deepcopy(results),
                next_offset,
            )
        emu.touch(emu.chats[asked.chat_id])
        return True

    def _result(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise bad_request("can't parse InlineQueryResult JSON object")
        kind = raw.get("type")
        if kind not in RESULT_TYPES:
            raise bad_request("RESULT_TYPE_INVALID")
        rid = raw.get("id")
        if not isinstance(rid, str) or not 1 <= len(rid.encode()) <= MAX_RESULT_ID:
            raise bad_request("RESULT_ID_INVALID")
        title = raw.get("title")
        if not isinstance(title, str) or not title.strip():
            raise bad_request("RESULT_TITLE_EMPTY")
        content = raw.get("input_message_content")
        if not isinstance(content, dict) or not content.get("message_text"):
            raise bad_request("MESSAGE_EMPTY")
        text, entities = self.emu.api._format(Params(dict(content)), "message_text")
        message: dict[str, Any] = {"text": text}
        if entities:
            message["entities"] = entities
        markup = validate_markup(raw.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("REPLY_MARKUP_INVALID")
        out: dict[str, Any] = {"id": rid, "title": title, "message": message}
        if isinstance(raw.get("description"), str):
            out["description"] = raw["description"]
        if markup:
            out["reply_markup"] = markup
        return out
