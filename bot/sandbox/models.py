"""The sandbox's state records, each able to render itself in Telegram's JSON shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]


@dataclass
class SandboxUser:
    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "en"
    last_name: str | None = None

    def to_telegram(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass
class Chat:
    id: int
    type: str  # "private" or "group"
    title: str | None = None
    user: SandboxUser | None = None
    messages: dict[int, Message] = field(default_factory=dict)  # insertion order = id order
    next_message_id: int = 1
    version: int = 0
    started: bool = False  # the user has written to the bot at least once
    blocked: bool = False  # the user blocked the bot
    reply_keyboard: dict[str, Any] | None = None  # the current ReplyKeyboardMarkup, if any
    last_action: str | None = None
    last_action_at: float | None = None

    def to_telegram(self) -> dict[str, Any]:
        if self.user is None:
            return {"id": self.id, "type": self.type, "title": self.title or str(self.id)}
        data: dict[str, Any] = {"id": self.id, "type": "private"}
        for key in ("first_name", "last_name", "username"):
            if getattr(self.user, key):
                data[key] = getattr(self.user, key)
        return data


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    def get_file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc

    def photo(self) -> list[dict[str, Any]]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": len(self.data),
                "width": self.width,
                "height": self.height,
            }
        ]


@dataclass
class CallbackPress:
    """A user's button press and, once the bot answers, what the user was shown."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "message_id": self.message_id,
            "data": self.data,
            "answered": self.answered,
            "text": self.text,
            "show_alert": self.show_alert,
            "url": self.url,
        }


@dataclass
class BotCall:
    """One Bot API request as the server received it (received_at: time.monotonic())."""

    method: str
    chat_id: int | str | None
    params: dict[str, Any]
    received_at: float
    status: int | None = None  # 200 or the error_code, once answered
    description: str | None = None
