"""What the job, talent and service searches share: the capped count, and the pager
of the two-tier searches (talent, services).

The capped count: a total is counted up to a cap ("1,000+": nobody pages past it),
`SELECT count(*) FROM (… LIMIT cap)`, so a count stops at the cap instead of
reading every match (the outbox sender counts the alerts waiting so, too).

The two-tier pager: with words, the talent and service searches list the strong
matches (every word in the title, headline or skills) first and the other matches
after, each tier in its own order (record rank, then newer). A tier is read one of
two ways, chosen by how many full-text matches it has (the planners' estimates of a
word's share are no guide: SQLite has none, PostgreSQL's ignore column weights):

- many (`walks`: at least WALK_FROM): walk the order's index and keep the matches met,
  which stops at the page's end after a few index entries; a sort of every match of a
  broad word was the slow part;
- few: read the matches from the full-text index and sort them.

`walk_or_start` writes the membership test for either way on SQLite; `two_tiers`
pages across the tiers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

# A tier with at least this many full-text matches is walked in order; fewer are
# sorted. Tests set it to 0 and to a huge number: both readings give the same pages.
WALK_FROM = 2_000

# A slice of one tier's ids, in the tier's order: (offset, limit) → ids.
Slice = Callable[[int, int], Awaitable[list[int]]]


def capped(ids: sa.Select[Any], cap: int) -> sa.Select[Any]:
    """The statement counting `ids`, up to `cap`."""
    return sa.select(sa.func.count()).select_from(ids.limit(cap).subquery())


async def capped_count(session: AsyncSession, ids: sa.Select[Any], cap: int) -> int:
    """How many `ids` there are, counted up to `cap`."""
    return int(await session.scalar(capped(ids, cap)) or 0)


def walks(matches: int) -> bool:
    """Is a tier with this many full-text matches read by walking the order's index?"""
    return matches >= WALK_FROM


def walk_or_start(key: Any, members: Any, walk: bool) -> Any:
    """SQLite: "key is one of the tier's members". Walking, as `key + 0`: SQLite uses no
    index for an expression, so it walks the order's index and tests each row met;
    otherwise it starts at the members (the full-text matches) and sorts them."""
    return (key + 0 if walk else key).in_(members)


async def two_tiers(first: Slice, rest: Slice, offset: int, limit: int) -> list[int]:
    """The page [offset, offset + limit) of the first tier followed by the rest: the first
    tier is read from its start to the page's end (so its length before the page is
    known without a count: pages are a few rows deep), the rest only when the first
    ends before the page does."""
    head = await first(0, offset + limit)
    found = head[offset:]
    if len(found) < limit:
        found += await rest(max(0, offset - len(head)), limit - len(found))
    return found
