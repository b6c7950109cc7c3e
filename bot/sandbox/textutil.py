"""Text helpers: UTF-16 offsets (Telegram's unit) and entities Telegram detects itself."""

from __future__ import annotations

import re
from typing import Any

Entity = dict[str, Any]


# Telegram counts entity offsets/lengths in UTF-16 code units.
def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _utf16_offset(text: str, index: int) -> int:
    return utf16_len(text[:index])


# As Telegram (tdlib's match_bot_commands): not right after or before a letter, digit, "/",
# "<" or ">", so "</b>" or "a/b" is no command.
_COMMAND = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_URL = re.compile(r"\bhttps?://[^\s<>\"]+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")
_HASHTAG = re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")


def detect_entities(text: str) -> list[Entity]:
    """Entities Telegram finds in plain text itself (commands, urls, mentions, hashtags)."""
    found: list[tuple[int, int, str]] = []
    for kind, pattern in (
        ("url", _URL),
        ("bot_command", _COMMAND),
        ("mention", _MENTION),
        ("hashtag", _HASHTAG),
    ):
        for m in pattern.finditer(text):
            start, end = m.span()
            if any(start < e and s < end for s, e, _ in found):
                continue  # e.g. a /path inside a url is not a command
            found.append((start, end, kind))
    found.sort()
    return [
        {
            "offset": _utf16_offset(text, s),
            "length": utf16_len(text[s:e]),
            "type": kind,
        }
        for s, e, kind in found
    ]


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip surrounding whitespace as Telegram does, clipping entities to the kept text."""
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    shift = _utf16_offset(text, lead)
    total = utf16_len(stripped)
    result: list[Entity] = []
    for ent in entities:
        start = max(ent["offset"] - shift, 0)
        end = min(ent["offset"] + ent["length"] - shift, total)
        if end > start:
            result.append({**ent, "offset": start, "length": end - start})
    return stripped, result
