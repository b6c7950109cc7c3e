"""Telegram's HTML parse mode: validate exactly where Telegram refuses, return text + entities.

Follows tdlib's ``parse_html`` (the parser behind the Bot API): only the documented tags,
only ``&lt; &gt; &amp; &quot;`` and numeric character references are decoded (any other
``&`` stays literal), and a stray ``<`` is a parse error. Error texts match Telegram's, with
byte offsets into the UTF-8 source, so a bot that passes here passes on Telegram.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.sandbox.textutil import Entity, utf16_len

_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_ALLOWED = {*_SIMPLE, "a", "tg-emoji"}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_URL_OK = re.compile(r"^(?:https?|tg|ton)://\S+$|^[\w.-]+\.[a-z]{2,}(?:/\S*)?$", re.IGNORECASE)


class HtmlParseError(ValueError):
    """Raised with Telegram's own wording (without the "can't parse entities: " prefix)."""


@dataclass
class _Open:
    tag: str
    offset: int  # UTF-16 offset in the output text
    attrs: dict[str, str] = field(default_factory=dict)


def _decode_entity(src: str, i: int) -> tuple[str, int] | None:
    m = _ENTITY.match(src, i)
    if not m:
        return None
    dec, hexa, name = m.groups()
    if name is not None:
        ch = _NAMED.get(name)
        return (ch, m.end()) if ch is not None else None
    code = int(dec) if dec is not None else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), m.end()


def parse_html(src: str) -> tuple[str, list[Entity]]:
    """Return (plain text, entities) or raise HtmlParseError like Telegram would."""
    out: list[str] = []
    pos = 0  # UTF-16 length of out so far
    stack: list[_Open] = []
    entities: list[Entity] = []
    n = len(src)
    i = 0

    def offset(k: int) -> int:
        return len(src[:k].encode())

    def skip_spaces(k: int) -> int:
        while k < n and src[k].isspace():
            k += 1
        return k

    while i < n:
        c = src[i]
        if c == "&" and (decoded := _decode_entity(src, i)) is not None:
            ch, i = decoded
            out.append(ch)
            pos += utf16_len(ch)
            continue
        if c != "<":
            out.append(c)
            pos += utf16_len(c)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and src[i] == "/":
            i += 1
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {offset(begin)}")
            start = i
            while i < n and src[i] != ">" and not src[i].isspace():
                i += 1
            name = src[start:i].lower()
            i = skip_spaces(i)
            if i >= n or src[i] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {offset(begin)}")
            i += 1
            top = stack.pop()
            if name and name != top.tag:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {offset(begin)}, expected "</{top.tag}>", '
                    f'found "</{name}>"'
                )
            ent = _entity_for(top, pos, stack)
            if ent is not None:
                entities.append(ent)
            continue

        start = i
        while i < n and not src[i].isspace() and src[i] != ">":
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {offset(begin)}")
        name = src[start:i].lower()
        if name not in _ALLOWED:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {offset(begin)}')
        attrs: dict[str, str] = {}
        while True:
            i = skip_spaces(i)
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {offset(begin)}")
            if src[i] == ">":
                i += 1
                break
            a_start = i
            while i < n and not src[i].isspace() and src[i] not in "=>":
                i += 1
            a_name = src[a_start:i].lower()
            if not a_name:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {offset(begin)}'
                )
            i = skip_spaces(i)
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {offset(begin)}")
            if src[i] != "=":
                if name == "blockquote" and a_name == "expandable":
                    attrs[a_name] = ""
                    continue
                raise HtmlParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {offset(begin)}"
                )
            i = skip_spaces(i + 1)
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {offset(begin)}")
            value: list[str] = []
            if src[i] in "'\"":
                quote = src[i]
                i += 1
                while i < n and src[i] != quote:
                    if src[i] == "&" and (decoded := _decode_entity(src, i)) is not None:
                        value.append(decoded[0])
                        i = decoded[1]
                    else:
                        value.append(src[i])
                        i += 1
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {offset(begin)}")
                i += 1
            else:
                while i < n and (src[i].isalnum() or src[i] in ".-"):
                    value.append(src[i])
                    i += 1
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {offset(begin)}")
            attrs[a_name] = "".join(value)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {offset(begin)}'
            )
        stack.append(_Open(name, pos, attrs))

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _entity_for(tag: _Open, end: int, stack: list[_Open]) -> Entity | None:
    length = end - tag.offset
    if length <= 0:
        return None  # Telegram drops empty entities
    ent: Entity = {"offset": tag.offset, "length": length}
    if tag.tag == "a":
        href = tag.attrs.get("href", "")
        if not _URL_OK.match(href):
            return None  # Telegram silently drops links it cannot use
        ent.update(type="text_link", url=href)
    elif tag.tag == "tg-emoji":
        emoji_id = tag.attrs.get("emoji-id")
        if not emoji_id:
            return None
        ent.update(type="custom_emoji", custom_emoji_id=emoji_id)
    elif tag.tag == "code":
        cls = tag.attrs.get("class", "")
        if stack and stack[-1].tag == "pre" and cls.startswith("language-"):
            # <pre><code class="language-x"> becomes one pre entity with a language
            stack[-1].attrs["language"] = cls.removeprefix("language-")
            return None
        ent["type"] = "code"
    elif tag.tag == "pre":
        ent["type"] = "pre"
        if tag.attrs.get("language"):
            ent["language"] = tag.attrs["language"]
    elif tag.tag == "blockquote" and "expandable" in tag.attrs:
        ent["type"] = "expandable_blockquote"
    else:
        ent["type"] = _SIMPLE[tag.tag]
    return ent
