"""The Bot API methods, with Telegram's validation and error texts.

Each ``m_<method>`` takes Params and returns the ``result`` or raises ApiError. Names are
matched case-insensitively, as on Telegram; an unknown method is 404 "Not Found".
"""

from __future__ import annotations

import copy
import json
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.sandbox.errors import ApiError, bad_request, forbidden
from bot.sandbox.html_check import HtmlParseError, parse_html
from bot.sandbox.markup import validate_markup
from bot.sandbox.models import BotCall, Chat, Message, StoredFile
from bot.sandbox.params import Params, Upload
from bot.sandbox.textutil import Entity, detect_entities, trim

if TYPE_CHECKING:
    from bot.sandbox.emulator import Emulator

MAX_TEXT = 4096
MAX_CAPTION = 1024
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


def scope_key(scope: Any) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


def _chat_id_of(params: Params) -> int | str | None:
    raw = params.raw.get("chat_id")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return str(raw)


class BotMethods:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self._table = {
            name.removeprefix("m_").lower(): getattr(self, name)
            for name in dir(self)
            if name.startswith("m_")
        }

    async def handle(
        self, method: str, params: Params, received_at: float | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Run one call, record it with its receive time, and build Telegram's envelope."""
        when = self.emu.clock() if received_at is None else received_at
        record = BotCall(method, _chat_id_of(params), params.public(), when)
        self.emu.calls.append(record)
        try:
            result = await self.call(method, params)
        except ApiError as exc:
            record.status, record.description = exc.code, exc.description
            return exc.code, exc.envelope()
        record.status = 200
        self.emu.save()  # settings (commands, webhook …) change without a chat changing
        return 200, {"ok": True, "result": result}

    async def call(self, method: str, params: Params) -> Any:
        func = self._table.get(method.lower())
        if func is None:
            raise ApiError(404, "Not Found")
        return await func(params)

    # -- helpers ------------------------------------------------------------------------

    def _chat(self, params: Params) -> Chat:
        raw = params.raw.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None  # @username: no public chats here
        chat = self.emu.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _target(self, params: Params) -> Chat:
        """A chat the bot may write to now."""
        chat = self._chat(params)
        if chat.blocked:
            raise forbidden("bot was blocked by the user")
        if not chat.started:
            raise forbidden("bot can't initiate conversation with a user")
        return chat

    def _count_send(self, chat: Chat) -> None:
        self.emu.rate_limiter.check(chat.id)

    def _format(
        self, params: Params, field: str, *, caption: bool = False
    ) -> tuple[str, list[Entity]]:
        text = params.text(field)
        entities_field = "caption_entities" if caption else "entities"
        if not caption and (text is None or text == ""):
            raise bad_request("message text is empty")
        text = text or ""
        mode = (params.text("parse_mode") or "").lower()
        if mode == "html":
            try:
                text, entities = parse_html(text)
            except HtmlParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        elif mode in ("", "markdown", "markdownv2"):
            # Markdown is not emulated: text is kept as sent.
            given = params.obj(entities_field)
            entities = list(given) if isinstance(given, list) else []
        else:
            raise bad_request(f"unsupported parse_mode {params.text('parse_mode')}")
        text, entities = trim(text, entities)
        if not caption and not text:
            raise bad_request("message text is empty")
        limit = MAX_CAPTION if caption else MAX_TEXT
        if len(text) > limit:
            raise bad_request("message caption is too long" if caption else "message is too long")
        auto = [
            e
            for e in detect_entities(text)
            if e["type"] != "bot_command"
            and not any(
                e["offset"] < x["offset"] + x["length"] and x["offset"] < e["offset"] + e["length"]
                for x in entities
            )
        ]
        merged = sorted(entities + auto, key=lambda e: (e["offset"], -e["length"]))
        return text, merged

    def _markup(self, params: Params) -> dict[str, Any] | None:
        return validate_markup(params.obj("reply_markup", "reply keyboard markup"))

    def _reply_to(self, chat: Chat, params: Params) -> Message | None:
        reply = params.obj("reply_parameters") or {}
        if not isinstance(reply, dict):
            raise bad_request("can't parse reply parameters JSON object")
        target = reply.get("message_id") or params.integer("reply_to_message_id")
        if not target:
            return None
        msg = chat.messages.get(int(target))
        allow = reply.get("allow_sending_without_reply") or params.flag(
            "allow_sending_without_reply"
        )
        if msg is None and not allow:
            raise bad_request("message to be replied not found")
        if msg is None:
            return None
        quoted = copy.deepcopy(msg)
        quoted.pop("reply_to_message", None)
        return quoted

    def _send(
        self,
        chat: Chat,
        content: dict[str, Any],
        markup: dict[str, Any] | None,
        reply: Message | None,
    ) -> Message:
        self._count_send(chat)
        if reply is not None:
            content["reply_to_message"] = reply
        if markup and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        elif markup and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        msg = self.emu.add_message(chat, self.emu.bot_user, content)
        return copy.deepcopy(msg)

    def _media(self, params: Params, field: str, folder: str) -> StoredFile:
        value = params.file(field)
        if value is None:
            raise bad_request(f"there is no {field} in the request")
        if isinstance(value, Upload):
            if not value.data:
                raise bad_request("file must be non-empty")
            return self.emu.store_file(value.data, value.filename, value.content_type, folder)
        stored = self.emu.files.get(value)
        if stored is not None:
            return stored
        if value.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _caption(self, params: Params, content: dict[str, Any]) -> None:
        caption, entities = self._format(params, "caption", caption=True)
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities

    def _editable(self, params: Params) -> tuple[Chat, Message]:
        if params.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # inline mode is not emulated
        chat = self._chat(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        msg = chat.messages.get(message_id)
        if msg is None:
            raise bad_request("message to edit not found")
        if msg["from"]["id"] != self.emu.bot_user["id"]:
            raise bad_request("message can't be edited")
        return chat, msg

    def _inline_markup(self, params: Params) -> dict[str, Any] | None:
        markup = self._markup(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        return markup or None

    def _apply_edit(self, chat: Chat, msg: Message, changes: dict[str, Any]) -> Message:
        for key, value in changes.items():
            if value:
                msg[key] = value
            else:
                msg.pop(key, None)
        msg["edit_date"] = int(time.time())
        self.emu.touch(chat, msg["message_id"])
        return copy.deepcopy(msg)

    # -- identity and updates ----------------------------------------------------------------

    async def m_getMe(self, params: Params) -> dict[str, Any]:
        return {
            **self.emu.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": self.emu.inline.enabled,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def m_close(self, params: Params) -> bool:
        return True

    async def m_logOut(self, params: Params) -> bool:
        return True

    async def m_getUpdates(self, params: Params) -> list[dict[str, Any]]:
        emu = self.emu
        webhook_conflict = ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
        if emu.webhook_url:
            raise webhook_conflict
        limit = min(max(params.integer("limit", 100) or 100, 1), 100)
        timeout = max(params.integer("timeout", 0) or 0, 0)
        allowed = params.obj("allowed_updates")
        if isinstance(allowed, list):
            emu.allowed_updates = allowed or None
        emu.confirm_updates(params.integer("offset", 0) or 0)
        # A newer getUpdates ends an older one with 409, as Telegram does.
        emu.poll_generation += 1
        generation = emu.poll_generation
        emu.changes.notify()
        if timeout and not emu.updates:
            try:
                await emu.wait_for(
                    lambda: (
                        bool(emu.updates)
                        or emu.closing
                        or emu.webhook_url
                        or emu.poll_generation != generation
                    ),
                    timeout=timeout,
                )
            except TimeoutError:
                pass
        if emu.poll_generation != generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        if emu.webhook_url:
            raise webhook_conflict
        return copy.deepcopy(emu.updates[:limit])

    async def m_setWebhook(self, params: Params) -> bool:
        emu = self.emu
        url = params.text("url") or ""
        if not url:
            return await self.m_deleteWebhook(params)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if not parts.hostname:
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        secret = params.text("secret_token")
        if secret and not _SECRET.match(secret):
            raise bad_request("secret token contains unallowed characters")
        if params.flag("drop_pending_updates"):
            emu.updates.clear()
        allowed = params.obj("allowed_updates")
        if isinstance(allowed, list):
            emu.allowed_updates = allowed or None
        emu.webhook_url = url
        emu.webhook_secret = secret or None
        emu.webhook_max_connections = params.integer("max_connections", 40) or 40
        emu.webhook_last_error = None
        emu.webhook.restart()
        emu.changes.notify()  # release any pending getUpdates with 409
        return True

    async def m_deleteWebhook(self, params: Params) -> bool:
        emu = self.emu
        emu.webhook_url = None
        emu.webhook_secret = None
        await emu.webhook.stop()
        if params.flag("drop_pending_updates"):
            emu.updates.clear()
        emu.changes.notify()
        return True

    async def m_getWebhookInfo(self, params: Params) -> dict[str, Any]:
        emu = self.emu
        info: dict[str, Any] = {
            "url": emu.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(emu.updates),
        }
        if emu.webhook_url:
            info["max_connections"] = emu.webhook_max_connections
            if emu.allowed_updates:
                info["allowed_updates"] = list(emu.allowed_updates)
            if emu.webhook_last_error:
                info["last_error_date"], info["last_error_message"] = emu.webhook_last_error
        return info

    # -- messages ---------------------------------------------------------------------------

    async def m_sendMessage(self, params: Params) -> Message:
        chat = self._target(params)
        text, entities = self._format(params, "text")
        markup = self._markup(params)
        reply = self._reply_to(chat, params)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self._send(chat, content, markup, reply)

    async def m_sendDocument(self, params: Params) -> Message:
        chat = self._target(params)
        stored = self._media(params, "document", "documents")
        content: dict[str, Any] = {"document": stored.document()}
        self._caption(params, content)
        return self._send(chat, content, self._markup(params), self._reply_to(chat, params))

    async def m_sendPhoto(self, params: Params) -> Message:
        chat = self._target(params)
        stored = self._media(params, "photo", "photos")
        content: dict[str, Any] = {"photo": stored.photo()}
        self._caption(params, content)
        return self._send(chat, content, self._markup(params), self._reply_to(chat, params))

    async def m_editMessageText(self, params: Params) -> Message:
        chat, msg = self._editable(params)
        if "text" not in msg:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._format(params, "text")
        # Omitting reply_markup removes the keyboard, as on Telegram.
        markup = self._inline_markup(params)
        if (
            text == msg["text"]
            and entities == msg.get("entities", [])
            and markup == msg.get("reply_markup")
        ):
            raise bad_request(NOT_MODIFIED)
        return self._apply_edit(
            chat, msg, {"text": text, "entities": entities, "reply_markup": markup}
        )

    async def m_editMessageCaption(self, params: Params) -> Message:
        chat, msg = self._editable(params)
        if "text" in msg:
            raise bad_request("there is no caption in the message to edit")
        content: dict[str, Any] = {}
        self._caption(params, content)
        markup = self._inline_markup(params)
        if (
            content.get("caption") == msg.get("caption")
            and content.get("caption_entities") == msg.get("caption_entities")
            and markup == msg.get("reply_markup")
        ):
            raise bad_request(NOT_MODIFIED)
        changes = {
            "caption": content.get("caption"),
            "caption_entities": content.get("caption_entities"),
            "reply_markup": markup,
        }
        return self._apply_edit(chat, msg, changes)

    async def m_editMessageReplyMarkup(self, params: Params) -> Message:
        chat, msg = self._editable(params)
        markup = self._inline_markup(params)
        if markup == msg.get("reply_markup"):
            raise bad_request(NOT_MODIFIED)
        return self._apply_edit(chat, msg, {"reply_markup": markup})

    async def m_deleteMessage(self, params: Params) -> bool:
        chat = self._chat(params)
        message_id = params.integer("message_id")
        if message_id is None or message_id not in chat.messages:
            raise bad_request("message to delete not found")
        del chat.messages[message_id]
        self.emu.touch(chat, message_id)
        return True

    async def m_answerCallbackQuery(self, params: Params) -> bool:
        press = self.emu.callbacks.get(params.text("callback_query_id") or "")
        if press is None or press.answered:
            raise bad_request(QUERY_INVALID)
        text = params.text("text")
        if text and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        press.answered = True
        press.text = text or None
        press.show_alert = params.flag("show_alert")
        press.url = params.text("url")
        self.emu.dirty.callbacks.add(press.id)
        self.emu.touch(self.emu.chats[press.chat_id])
        return True

    async def m_answerInlineQuery(self, params: Params) -> bool:
        return self.emu.inline.answer(params)

    async def m_sendInvoice(self, params: Params) -> Message:
        return self.emu.payments.send_invoice(params)

    async def m_answerPreCheckoutQuery(self, params: Params) -> bool:
        return await self.emu.payments.answer(params)

    async def m_sendChatAction(self, params: Params) -> bool:
        chat = self._target(params)
        action = params.text("action") or ""
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.last_action, chat.last_action_at = action, self.emu.clock()
        self.emu.touch(chat)
        return True

    async def m_getChat(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params)
        return {**chat.to_telegram(), "accent_color_id": 0, "max_reaction_count": 11}

    # -- files -------------------------------------------------------------------------------

    async def m_getFile(self, params: Params) -> dict[str, Any]:
        stored = self.emu.files.get(params.text("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.get_file()

    # -- commands and menu --------------------------------------------------------------------

    def _command_key(self, params: Params) -> tuple[str, str]:
        scope = params.obj("scope", "bot command scope")
        if scope is not None and not (isinstance(scope, dict) and "type" in scope):
            raise bad_request("can't parse BotCommandScope JSON object")
        lang = params.text("language_code") or ""
        if lang and not re.fullmatch(r"[a-z]{2}", lang):
            raise bad_request("invalid language code specified")
        return scope_key(scope), lang

    async def m_setMyCommands(self, params: Params) -> bool:
        commands = params.obj("commands", "bot commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands")
        cleaned: list[dict[str, str]] = []
        for cmd in commands:
            if not isinstance(cmd, dict) or not _COMMAND.match(str(cmd.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            description = str(cmd.get("description", ""))
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": cmd["command"], "description": description})
        key = self._command_key(params)
        if cleaned:
            self.emu.commands[key] = cleaned
        else:
            self.emu.commands.pop(key, None)
        return True

    async def m_getMyCommands(self, params: Params) -> list[dict[str, str]]:
        return copy.deepcopy(self.emu.commands.get(self._command_key(params), []))

    async def m_deleteMyCommands(self, params: Params) -> bool:
        self.emu.commands.pop(self._command_key(params), None)
        return True

    async def m_setChatMenuButton(self, params: Params) -> bool:
        button = params.obj("menu_button", "menu button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "commands",
            "web_app",
            "default",
        ):
            raise bad_request("can't parse menu button JSON object")
        chat_id = params.integer("chat_id")
        if chat_id is not None and chat_id not in self.emu.chats:
            raise bad_request("chat not found")
        self.emu.menu_buttons[chat_id] = button
        return True

    async def m_getChatMenuButton(self, params: Params) -> dict[str, Any]:
        chat_id = params.integer("chat_id")
        button = self.emu.menu_buttons.get(chat_id) or self.emu.menu_buttons.get(None)
        if not button or button.get("type") == "default":
            return {"type": "commands"}
        return dict(button)

    # Profile texts: accepted, nothing in the sandbox shows them.
    async def m_setMyDescription(self, params: Params) -> bool:
        return True

    async def m_setMyShortDescription(self, params: Params) -> bool:
        return True

    async def m_setMyName(self, params: Params) -> bool:
        return True
