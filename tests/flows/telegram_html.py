"""A small whitelist checker of Telegram's HTML parse mode, for the flow tests.

Stricter than Telegram where that catches our bugs: every "&" must start one of
the entities Telegram decodes (html.escape produces only those), and tags must
nest properly. Returns the text as the user would see it.
"""

from __future__ import annotations

import html
import re

ALLOWED = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "tg-spoiler": set(),
    "span": {"class"},
    "a": {"href"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
    "tg-emoji": {"emoji-id"},
}
_TAG = re.compile(r"<(/?)([a-z-]+)((?:\s+[a-z-]+(?:=\"[^\"<>]*\")?)*)\s*>")
_ATTR = re.compile(r"\s+([a-z-]+)(?:=\"([^\"<>]*)\")?")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


class BadHtml(AssertionError):
    pass


def visible_text(src: str) -> str:
    """Validate `src`; return the text Telegram would show."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(src):
        c = src[i]
        if c == "<":
            m = _TAG.match(src, i)
            if m is None:
                raise BadHtml(f"stray '<' at {i}: {src[i : i + 30]!r}")
            closing, name, attrs = m.groups()
            if name not in ALLOWED:
                raise BadHtml(f"tag <{name}> is not allowed")
            if closing:
                if attrs or not stack or stack[-1] != name:
                    raise BadHtml(f"</{name}> does not close {stack[-1:] or 'anything'}")
                stack.pop()
            else:
                for a_name, _value in _ATTR.findall(attrs):
                    if a_name not in ALLOWED[name]:
                        raise BadHtml(f"attribute {a_name} not allowed on <{name}>")
                if name == "span" and 'class="tg-spoiler"' not in attrs:
                    raise BadHtml("<span> needs class tg-spoiler")
                stack.append(name)
            i = m.end()
        elif c == "&":
            m = _ENTITY.match(src, i)
            if m is None:
                raise BadHtml(f"unescaped '&' at {i}: {src[i : i + 12]!r}")
            out.append(html.unescape(m.group(0)))
            i = m.end()
        elif c == ">":
            raise BadHtml(f"unescaped '>' at {i}")
        else:
            out.append(c)
            i += 1
    if stack:
        raise BadHtml(f"unclosed tags: {stack}")
    return "".join(out)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
