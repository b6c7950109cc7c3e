"""Pieces the search screens share (/jobs in flows/browse.py, /talent in flows/talent.py,
/catalog in flows/catalog.py): the bounded count as shown, a toggled filter's mark, a
typed money range, and the category picker."""

from __future__ import annotations

import re
from collections.abc import Callable

from domain import taxonomy
from domain.errors import ValidationError
from domain.money import parse_money
from handlers.events import Keyboard
from handlers.i18n import Translator
from handlers.render import button, rows
from handlers.taxonomy_names import category_name


def count_shown(total: int, cap: int, language: str | None) -> str:
    """Matches are counted up to `cap` (the searches in storage/): "1,000+" past it
    ("1 000+" in Russian)."""
    if total < cap:
        return str(total)
    shown = f"{cap:,}"
    return (shown.replace(",", "\u00a0") if language == "ru" else shown) + "+"


def mark(on: bool, label: str) -> str:
    """A filter button's label, ticked while the filter is on."""
    return ("✅ " if on else "") + label


RANGE = re.compile(r"^\s*([^-–]*?)\s*(?:[-–]\s*(.*?))?\s*$")


def parse_money_range(
    text: str, currency: str, low_field: str, high_field: str
) -> tuple[int | None, int | None]:
    """ "20-50", "20" (from), "-50" (up to): a range of amounts in minor units, low first."""
    match = RANGE.match(text)
    low_text, high_text = (match.group(1), match.group(2)) if match else ("", "")
    low = parse_money(low_text, currency, low_field).amount if low_text else None
    high = parse_money(high_text, currency, high_field).amount if high_text else None
    if low is None and high is None:
        raise ValidationError("rate_range", "Type a range such as 20-50.")
    if low is not None and high is not None and low > high:
        low, high = high, low
    return low, high


def category_rows(t: Translator, data_for: Callable[[str], str], any_label: str) -> Keyboard:
    """Every category as a button (two a row), then "Any category": `data_for(slug)`
    makes a button's data ("any" for the last)."""
    cats = [button(category_name(t, c.slug), data_for(c.slug)) for c in taxonomy.CATEGORIES]
    return [*rows(cats, 2), [button(any_label, data_for("any"))]]
