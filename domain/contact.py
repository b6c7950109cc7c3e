"""Spotting contact details in a message, to warn when they are shared before a
contract (taking a deal off the platform loses both sides its protection).

`find_contact_details` returns the snippets it found, in the order they
appear. It prefers missing an odd contact over crying wolf: prices such as
"$1,250.50", dates such as "31.12.2026" or "2026-12-31", version numbers and
the word "Telegram" in "Telegram bots" are not contact details.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}\b")
# "john [at] gmail [dot] com", "john (at) gmail.com"
_EMAIL_SPELLED = re.compile(
    r"(?i)\b[\w.+-]+\s*[\[(]\s*at\s*[\])]\s*[\w-]+(?:\s*(?:[\[(]\s*dot\s*[\])]|\.)\s*[\w-]+)+"
)
# "john at gmail dot com", "иван собака mail точка ru": unbracketed only with a known
# top-level domain, so "meet at noon" is not an address.
_EMAIL_WORDS = re.compile(
    r"(?i)\b[\w.+-]+\s+(?:at|собака)\s+[\w-]+\s+(?:dot|точка)\s+"
    r"(?:com|net|org|ru|io|me|de|uk|info|biz|рф|ua|by|kz)\b"
)
# Telegram usernames are 5–32 characters; most other networks' are similar.
_HANDLE = re.compile(r"(?<![\w.@/])@([A-Za-z][A-Za-z0-9_]{3,31})\b")
# Code, not people: CSS at-rules, decorators and doc tags ("@media", "@dataclass").
_NOT_HANDLES = frozenset(
    """media import keyframes font supports charset property layer container page
    namespace apply tailwind include mixin extend override dataclass staticmethod
    classmethod abstractmethod cached_property pytest param return returns throws
    author since deprecated example component injectable input output todo""".split()
)
_MESSENGER_URL = re.compile(
    r"(?i)(?<![\w.-])(?:https?://)?(?:www\.)?"
    r"(?:t\.me|telegram\.me|telegram\.dog|wa\.me|api\.whatsapp\.com|chat\.whatsapp\.com"
    r"|join\.skype\.com|discord\.gg|discord\.com/users|m\.me|signal\.me|vk\.me|line\.me)"
    r"(?:/[^\s,;!?)\]]*)?"
)
_MESSENGER_SCHEME = re.compile(r"(?i)\b(?:tg|skype|viber|whatsapp|callto|sms|tel):[^\s,;]+")
# Messenger names that are a contact by themselves in a marketplace chat.
_MESSENGER_WORD = re.compile(
    r"(?i)\b(?:whats\s?app|skype|viber|wechat|discord|signal\s+app"
    r"|ватсап|вотсап|вацап|скайп|вайбер)\b"
)
# "Telegram" only with a hint that it is about contact: "my telegram", "on tg", "telegram: x".
_TELEGRAM_CONTACT = re.compile(
    r"(?i)\b(?:(?:my|on|via|through|in|add\s+me\s+on|write\s+(?:me\s+)?(?:on|to))\s+(?:telegram|tg)\b"
    r"|(?:telegram|tg)\s*[:=]\s*\S+"
    r"|(?:мой|моя|в|через)\s+(?:телеграм\w*|телег[еуа]|тг)\b)"
)
# A phone number: an optional "+", then digits with single separators between them.
_PHONE = re.compile(r"(?<![\w$€£¥₽₹#.,/-])\+?\(?\d(?:[ .\-()]{0,2}\d){6,16}(?![\w%$€£¥₽₹])")
_DATE_LIKE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4}")
_CURRENCY_AFTER = re.compile(r"\s*(?:usd|eur|gbp|rub|jpy|inr|dollars?|euros?|руб)\b", re.I)
_CURRENCY_BEFORE = re.compile(r"(?:[$€£¥₽₹]|usd|eur|gbp)\s*$", re.I)


# "12345.67" (a decimal), "1 000 000" or "12.500.000" (thousands): amounts, not phones.
_NUMBER_LIKE = re.compile(r"\d+\.\d{1,2}|\d{1,2}(?:([ .])\d{3})(?:\1\d{3})*")
_RANGE = re.compile(r"(\d[\d.]*)\s*-\s*(\d[\d.]*)")


def _is_range(candidate: str) -> bool:
    """ "1500-2000" or "10.00-18.00": a price or time range, lower end first."""
    m = _RANGE.fullmatch(candidate)
    if not m:
        return False
    try:
        low, high = (Decimal(g) for g in m.groups())
    except InvalidOperation:
        return False
    return low < high


def _phone_like(text: str, start: int, end: int) -> bool:
    candidate = text[start:end]
    digits = sum(ch.isdigit() for ch in candidate)
    if not 7 <= digits <= 15:
        return False
    if _DATE_LIKE.search(candidate):
        return False
    if _CURRENCY_BEFORE.search(text[max(0, start - 5) : start]):
        return False
    if _CURRENCY_AFTER.match(text, end):
        return False
    if _NUMBER_LIKE.fullmatch(candidate) or _is_range(candidate):
        return False
    has_separator = any(not ch.isdigit() for ch in candidate.lstrip("+"))
    # A bare run of digits is a phone only when it is long (or international):
    # "budget 1000000" is money, "89161234567" is a phone.
    return has_separator or candidate.startswith("+") or digits >= 10


def find_contact_details(text: str) -> list[str]:
    """E-mail addresses, phone numbers, @handles, messenger links and mentions."""
    if not text:
        return []
    spans: list[tuple[int, int]] = []
    for pattern in (
        _EMAIL,
        _EMAIL_SPELLED,
        _EMAIL_WORDS,
        _MESSENGER_URL,
        _MESSENGER_SCHEME,
        _TELEGRAM_CONTACT,
        _MESSENGER_WORD,
    ):
        spans.extend(m.span() for m in pattern.finditer(text))
    spans.extend(m.span() for m in _HANDLE.finditer(text) if m.group(1).lower() not in _NOT_HANDLES)
    spans.extend(m.span() for m in _PHONE.finditer(text) if _phone_like(text, *m.span()))
    # Keep the earliest, then longest, of overlapping findings.
    spans.sort(key=lambda span: (span[0], -span[1]))
    found: list[str] = []
    last_end = -1
    for start, end in spans:
        if start >= last_end:
            found.append(text[start:end].strip())
            last_end = end
    return found


def has_contact_details(text: str) -> bool:
    return bool(find_contact_details(text))
