"""Text rules shared by every flow.

Each refusal is a ValidationError with a stable `code` (the translation key),
an English `message` and `params` for the translated text. Nothing here
escapes HTML: user text is kept as plain text, and the handlers escape it when
they send it back with formatting.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import urlsplit

from domain.errors import ValidationError
from domain.money import parse_money

# Length limits, in characters (code points), after stripping.
JOB_TITLE_MAX = 120
JOB_TITLE_MIN = 5
DESCRIPTION_MAX = 4000
DESCRIPTION_MIN = 20
COVER_LETTER_MAX = 3000
MESSAGE_MAX = 3000
DISPUTE_REASON_MAX = 2000
REVIEW_TEXT_MAX = 1000
HEADLINE_MAX = 120
BIO_MAX = 2000
REPORT_REASON_MAX = 1000
MILESTONE_TITLE_MAX = 120
URL_MAX = 300

# A deadline or due date further out than this is a typo, not a plan.
MAX_DATE_AHEAD_YEARS = 2

# Control characters other than newline and tab would garble a chat message.
_CONTROL = {"Cc", "Cf"}
_KEEP = {"\n", "\t", "\u200c", "\u200d"}  # joiners: emoji such as 👩‍💻, Persian words


def clean_text(text: str | None, field: str, min_len: int = 1, max_len: int = MESSAGE_MAX) -> str:
    """The text a person sent, ready to store: stripped, with Windows line ends
    unified and invisible control characters removed; refused when empty,
    shorter than `min_len` or longer than `max_len` characters."""
    cleaned = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    cleaned = "".join(
        ch for ch in cleaned if ch in _KEEP or unicodedata.category(ch) not in _CONTROL
    ).strip()
    if not cleaned:
        raise ValidationError("text_empty", f"The {field} cannot be empty.", field=field)
    if len(cleaned) < min_len:
        raise ValidationError(
            "text_too_short",
            f"The {field} needs at least {min_len} characters.",
            field=field,
            min=min_len,
            length=len(cleaned),
        )
    if len(cleaned) > max_len:
        raise ValidationError(
            "text_too_long",
            f"The {field} can be at most {max_len} characters; yours has {len(cleaned)}.",
            field=field,
            max=max_len,
            length=len(cleaned),
        )
    return cleaned


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DAY_FIRST = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})")
_RELATIVE = re.compile(r"in\s+(\d{1,4})\s+(day|days|week|weeks)")


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def parse_date(text: str, today: date) -> date:
    """A deadline or due date: "2026-12-31", "31.12.2026", "31/12/2026",
    "today", "tomorrow", "in 10 days", "in 2 weeks". Day-first, never
    month-first, so "01/02/2026" is the 1st of February. Refuses past dates and
    dates more than two years after `today`."""
    s = " ".join((text or "").strip().lower().split())
    day: date | None = None
    try:
        if s == "today":
            day = today
        elif s == "tomorrow":
            day = today + timedelta(days=1)
        elif m := _RELATIVE.fullmatch(s):
            n = int(m.group(1))
            day = today + timedelta(days=n * (7 if m.group(2).startswith("week") else 1))
        elif m := _ISO.fullmatch(s):
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        elif m := _DAY_FIRST.fullmatch(s):
            day = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except (ValueError, OverflowError):
        day = None  # 31.02.2026 and friends
    if day is None:
        raise ValidationError(
            "date_invalid",
            "That is not a date I can read. Try 2026-12-31, 31.12.2026 or “in 10 days”.",
        )
    if day < today:
        raise ValidationError("date_past", "That date is in the past.", date=day.isoformat())
    latest = _years_later(today, MAX_DATE_AHEAD_YEARS)
    if day > latest:
        raise ValidationError(
            "date_too_far",
            f"That is more than {MAX_DATE_AHEAD_YEARS} years ahead; choose a date before {latest.isoformat()}.",
            latest=latest.isoformat(),
        )
    return day


def parse_int(text: str | int, field: str, lo: int, hi: int) -> int:
    """A whole number between lo and hi inclusive ("12", " 7 ", "1 000")."""
    if isinstance(text, bool):
        raise ValidationError("number_invalid", f"The {field} must be a whole number.", field=field)
    if isinstance(text, int):
        value = text
    else:
        s = (text or "").strip().replace(" ", "").replace("\u00a0", "")
        if not re.fullmatch(r"[+-]?\d{1,18}", s):
            raise ValidationError(
                "number_invalid", f"The {field} must be a whole number.", field=field
            )
        value = int(s)
    if not lo <= value <= hi:
        raise ValidationError(
            "number_range",
            f"The {field} must be between {lo} and {hi}.",
            field=field,
            min=lo,
            max=hi,
        )
    return value


def parse_rating(value: str | int) -> int:
    """A rating of 1 to 5: 4, "4", "4/5", "★★★★" or "⭐⭐⭐⭐"."""
    if isinstance(value, bool):
        raise ValidationError("rating_invalid", "A rating is a whole number from 1 to 5.")
    if isinstance(value, int):
        rating = value
    else:
        s = (value or "").strip().replace("\ufe0f", "")
        if m := re.fullmatch(r"([0-9])\s*(?:/\s*5|★|⭐)?", s):
            rating = int(m.group(1))
        elif s and set(s) <= {"★", "⭐"}:
            rating = len(s)
        else:
            raise ValidationError("rating_invalid", "A rating is a whole number from 1 to 5.")
    if not 1 <= rating <= 5:
        raise ValidationError("rating_invalid", "A rating is a whole number from 1 to 5.")
    return rating


_ALL = {"all", "full", "everything", "100%"}
_NONE = {"none", "nothing", "0", "0%"}


def parse_percent_or_amount(text: str, amount: int, currency: str) -> int:
    """The freelancer's share of a disputed milestone of `amount` minor units,
    as an admin or a party types it: "all", "none", "50%", "33.3%" (rounded
    half up to the minor unit), or an amount ("120", "$120.50"). The result is
    between 0 and `amount` inclusive."""
    s = " ".join((text or "").strip().lower().split())
    if s in _ALL:
        return amount
    if s in _NONE or re.fullmatch(r"0+(\.0+)?", s):
        return 0
    if s.endswith("%"):
        try:
            percent = Decimal(s[:-1].strip())
        except InvalidOperation:
            percent = Decimal("NaN")
        if not percent.is_finite() or not 0 <= percent <= 100:
            raise ValidationError(
                "share_percent_invalid", "A percentage must be between 0% and 100%."
            )
        share = (Decimal(amount) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return int(share)
    try:
        share = parse_money(text, currency).amount
    except ValidationError as exc:
        raise ValidationError(
            "share_invalid",
            "Send the freelancer's share as all, none, a percentage (50%) or an amount.",
            reason=exc.code,
        ) from exc
    if share > amount:
        raise ValidationError(
            "share_too_large",
            "The share cannot be more than the milestone amount.",
            amount=amount,
        )
    return share


_HOST = re.compile(r"(?=.{1,253}$)([^\W_]([\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}", re.UNICODE)


def parse_url(text: str) -> str:
    """A portfolio link: http or https only, at most URL_MAX characters, with a
    real host name. "github.com/me" is taken as "https://github.com/me".
    Credentials in the link (user:pass@host) are refused: a classic disguise."""
    s = (text or "").strip()
    if not s:
        raise ValidationError("url_empty", "Send a link, e.g. https://github.com/you.")
    if not re.match(r"(?i)[a-z][a-z0-9+.-]*://", s) and not re.match(r"(?i)[a-z]+:", s):
        s = "https://" + s
    if len(s) > URL_MAX:
        raise ValidationError(
            "url_too_long", f"A link can be at most {URL_MAX} characters.", max=URL_MAX
        )
    if any(ch.isspace() for ch in s):
        raise ValidationError("url_invalid", "That is not a link I can use.")
    try:
        parts = urlsplit(s)
        port = parts.port  # raises on a malformed port
    except ValueError as exc:
        raise ValidationError("url_invalid", "That is not a link I can use.") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationError("url_scheme", "Only http:// and https:// links are accepted.")
    host = parts.hostname or ""
    if "@" in parts.netloc or not _HOST.fullmatch(host) or port == 0:
        raise ValidationError("url_invalid", "That is not a link I can use.")
    return s
