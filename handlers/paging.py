"""Lists shown a page at a time (/jobs, /talent, /catalog, /myjobs and its pitches): how
many pages, the page a button asks for, the translated "‹ Prev · 2/5 · Next ›" row, and
a page fetched again when the list shrank under its button."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from handlers.callbacks import StaleButton
from handlers.context import Context
from handlers.events import Button, Keyboard
from handlers.i18n import Translator
from handlers.render import pagination_row, rows

T = TypeVar("T")


def page_count(total: int, size: int) -> int:
    """Pages for `total` items, `size` a page: at least one (an empty list is one page)."""
    return max(1, -(-total // size))


def page_row(t: Translator, page: int, pages: int, data_for: Callable[[int], str]) -> list[Button]:
    """The pager with translated labels (empty for a single page)."""
    return pagination_row(
        page, pages, data_for, prev=t.plain("btn.prev"), next_=t.plain("btn.next")
    )


def pressed_page(ctx: Context) -> int:
    """The page a page button asks for (1 or more); anything else is a stale button."""
    page = ctx.callback.arg if ctx.callback else None
    if not (page and page.isdigit() and int(page) >= 1):
        raise StaleButton()
    return int(page)


async def fetch_page(
    search: Callable[[int], Awaitable[tuple[T, int]]], page: int, size: int
) -> tuple[T, int, int, int]:
    """(items, total, page, pages) of `search(page)`; the last page instead when the
    results shrank since the button was made."""
    page = max(1, page)
    items, total = await search(page)
    pages = page_count(total, size)
    if page > pages:
        page = pages
        items, total = await search(page)
    return items, total, page, pages


def picks_and_pager(picks: list[Button], pager: list[Button], below: Keyboard) -> Keyboard:
    """A page's keyboard: one pick a row, the pager (if any), then the rows `below`."""
    return rows(picks, 1) + ([pager] if pager else []) + below
