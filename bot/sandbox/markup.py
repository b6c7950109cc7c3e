"""reply_markup validation, with Telegram's error texts for the mistakes bots make."""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.errors import bad_request

_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "web_app",
    "copy_text",
)
_BTN = "can't parse inline keyboard button: "
_URL = re.compile(r"^(?:https?|tg)://[^\s]+$", re.IGNORECASE)
MAX_CALLBACK_DATA = 64  # bytes, not characters


def validate_markup(markup: Any) -> dict[str, Any] | None:
    """Return the markup as stored, or raise 400 as Telegram would."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return {"inline_keyboard": _inline_rows(markup["inline_keyboard"])}
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
        for row in rows:
            for button in row:
                text = button.get("text") if isinstance(button, dict) else button
                if not isinstance(text, str) or not text:
                    raise bad_request("can't parse keyboard button: Text must be non-empty")
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _inline_rows(rows: Any) -> list[list[dict[str, Any]]]:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request(
            'can\'t parse inline keyboard button: field "inline_keyboard" of the '
            "InlineKeyboardMarkup must be an Array of Arrays"
        )
    if sum(len(r) for r in rows) > 100:
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            _check_button(button)
    return [[dict(b) for b in row] for row in rows if row]


def _check_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request(_BTN + "InlineKeyboardButton must be an Object")
    text = button.get("text")
    if not isinstance(text, str):
        raise bad_request(_BTN + 'Field "text" must be of type String')
    actions = [a for a in _ACTIONS if button.get(a) is not None]
    if not actions:
        raise bad_request(_BTN + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used"
        )
    if not text:
        raise bad_request("BUTTON_TEXT_INVALID")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not (isinstance(button["url"], str) and _URL.match(button["url"])):
        raise bad_request("BUTTON_URL_INVALID")


def iter_buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return [b for row in markup["inline_keyboard"] for b in row]
