"""Races the database settles by aborting one side are run again, a few times.

PostgreSQL ends one of two transactions that deadlock (SQLSTATE 40P01) and,
at stricter isolation, a transaction that lost a race (40001). Neither is the
person's mistake, and the aborted transaction changed nothing, so the runners
(the engine, the system runner, the gateway-call runner) run the whole unit of
work again, at most ATTEMPTS times, after a short random pause that lets the
winner commit. Past that the person gets "busy, try again", never a generic error.

Detected by the SQLSTATE the drivers put on their exceptions (asyncpg's
`sqlstate`, psycopg's `pgcode`), anywhere in the chain SQLAlchemy wraps them
in, so this layer needs no import of the storage layer.

A unit of work whose connection dropped before it committed (the server
restarted, say: SQLAlchemy's `connection_invalidated` on the error) is run again
too: the server rolled it back, and the pool opens a new connection. It matters
since PostgreSQL's pool pings only connections that sat idle
(storage/pool_ping.py). One that dropped while committing is not: whether that
commit took effect is unknown (UnitRunner marks it, mark_commit_failed).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from domain.errors import DomainError

log = logging.getLogger(__name__)

T = TypeVar("T")

RACE_STATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
ATTEMPTS = 4
PAUSE_S = 0.02  # times the attempt number, at random below that: the winner commits meanwhile


class Busy(DomainError):
    """Every attempt lost a race: the person is asked to try again."""

    code = "busy"


# Set on an error raised by a unit of work's commit (mark_commit_failed).
_AT_COMMIT = "gigbot_at_commit"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, the driver's error SQLAlchemy wraps (`orig`), their causes."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        pending += [orig if isinstance(orig, BaseException) else None]
        pending += [current.__cause__, current.__context__]


def is_race(exc: BaseException) -> bool:
    """True when the database aborted this transaction to settle a race."""
    return any(
        (getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)) in RACE_STATES
        for e in _chain(exc)
    )


def lost_connection(exc: BaseException) -> bool:
    """True when the transaction's connection dropped before it committed."""
    chain = list(_chain(exc))
    return not any(getattr(e, _AT_COMMIT, False) for e in chain) and any(
        getattr(e, "connection_invalidated", False) for e in chain
    )


def mark_commit_failed(exc: BaseException) -> None:
    """Say that `exc` came from the commit: it may have taken effect, never rerun."""
    setattr(exc, _AT_COMMIT, True)


async def retrying(operation: Callable[[], Awaitable[T]], what: str) -> T:
    """Run `operation` (a whole unit of work), again when the database aborted it
    to settle a race or its connection dropped; Busy when every attempt lost a race."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await operation()
        except Exception as exc:
            if lost_connection(exc) and attempt < ATTEMPTS:
                log.warning("%s lost its database connection; run again: %s", what, exc)
                continue
            if not is_race(exc):
                raise
            log.info("%s lost a race (attempt %d of %d): %s", what, attempt, ATTEMPTS, exc)
            if attempt == ATTEMPTS:
                raise Busy("busy", "Many people are acting on this at once; try again.") from exc
            await asyncio.sleep(random.uniform(0, PAUSE_S * attempt))
    raise AssertionError("unreachable")
