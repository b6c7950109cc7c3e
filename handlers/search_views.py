"""Pieces the search screens share (/jobs in flows/browse.py, /talent in flows/talent.py,
/catalog in flows/catalog.py): the typed words kept, the filters of the search in
progress, the results screen's text, the bounded count as shown, a toggled filter's mark,
the minimum-rating buttons, a typed money range and how it is shown, the category picker
and the category a button chose, and asking for a typed filter."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from domain import taxonomy
from domain.errors import ValidationError
from domain.money import parse_money
from handlers.callbacks import StaleButton
from handlers.context import Context
from handlers.events import Button, Keyboard
from handlers.i18n import Translator
from handlers.render import Html, button, join, keyboard, money, rows
from handlers.routing import Steps
from handlers.taxonomy_names import category_name

QUERY_MAX = 200  # characters of search text kept; the rest is dropped, never refused


def clean_query(text: str) -> str:
    """Search text as typed, cut to QUERY_MAX characters: hostile text is never an error."""
    return " ".join(text.split())[:QUERY_MAX]


def searching(ctx: Context, steps: type[Steps]) -> dict[str, Any]:
    """The filters of the search in progress (a copy); a search ended by a command or
    another conversation leaves its buttons stale."""
    if not ctx.in_step(steps):
        raise StaleButton()
    return ctx.data


def results_text(title: Html, summary: Html, lines: list[Html], nothing: Html, hint: Html) -> Html:
    """A page of results: the title with the count, the filters, the results (or
    `nothing`), and the hint."""
    return join([title, summary, Html(""), *(lines or [nothing]), Html(""), hint])


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


def rating_buttons(
    ratings: Sequence[str],
    chosen: str | None,
    label: Callable[[str], str],
    data_for: Callable[[str], str],
) -> list[Button]:
    """A button a minimum rating, the chosen one ticked."""
    return [button(mark(chosen == r, label(r)), data_for(r)) for r in ratings]


def pressed_rating(ctx: Context, filters: dict[str, Any], ratings: Sequence[str]) -> str | None:
    """The minimum rating after its button was pressed: pressed again, it is off."""
    rating = ctx.callback.arg if ctx.callback else None
    if rating not in ratings:
        raise StaleButton()
    return None if filters.get("rating") == rating else rating


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


def money_range_shown(filters: dict[str, Any], currency: str) -> tuple[str, str] | None:
    """The filters' "min" and "max" (minor units) as amounts, "…" for an open end; None
    when neither is set."""
    low, high = filters.get("min"), filters.get("max")
    if low is None and high is None:
        return None
    return (
        money(low, currency) if low is not None else "…",
        money(high, currency) if high is not None else "…",
    )


def category_rows(t: Translator, data_for: Callable[[str], str], any_label: str) -> Keyboard:
    """Every category as a button (two a row), then "Any category": `data_for(slug)`
    makes a button's data ("any" for the last)."""
    cats = [button(category_name(t, c.slug), data_for(c.slug)) for c in taxonomy.CATEGORIES]
    return [*rows(cats, 2), [button(any_label, data_for("any"))]]


def pressed_category(ctx: Context) -> str | None:
    """The category a picker's button chose: a slug, or None for "any"; an unknown one
    is a stale button."""
    slug = ctx.callback.arg if ctx.callback else None
    if not (slug == "any" or taxonomy.is_known_category(slug or "")):
        raise StaleButton()
    return None if slug == "any" else slug


async def ask_typed_filter(
    ctx: Context, step: Steps, filters: dict[str, Any], question: Html, buttons: list[Button]
) -> None:
    """Wait at `step` for a typed filter: the question, edited in place, with `buttons`."""
    await ctx.set_state(step, filters)
    await ctx.edit(question, keyboard(buttons))
