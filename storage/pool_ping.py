"""PostgreSQL: a pooled connection is checked before use only once it has sat idle.

SQLAlchemy's `pool_pre_ping` checks every connection at every checkout. On asyncpg
that check is three round trips (BEGIN, ";", ROLLBACK: the adapter wraps its ping
in a transaction for PgBouncer's transaction mode), measured at 0.4-0.6 ms of
every unit of work on this project's 2-core VM: a tenth of a job search at
100,000 jobs, and more of a short update (issue 16).

A connection given back a moment ago is alive unless the server went away in
that moment, and a ping at checkout does not save the units of work already
running then either. So `ping_when_idle` pings at checkout only a connection
that has been idle for PING_AFTER_IDLE_S or more: the one case a ping is for (a
server restarted, or a connection dropped by a firewall or an idle timeout, while
nothing used it). Under any steady traffic a connection is back in use within
milliseconds and no ping is made. A connection whose ping fails is dropped and
another opened (DisconnectionError: the pool's own way of saying so), as
`pool_pre_ping` does.

What this gives up: if the server restarts and a pooled connection is taken
again within the second, the first unit of work on it fails (rolled back, the
person told it went wrong) and the pool then replaces every connection older
than that failure, the same as a unit of work running at the moment of a
restart fails with either setting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

PING_AFTER_IDLE_S = 1.0
# The pool record's info key: when the connection was last given back (or opened).
IDLE_SINCE = "gigbot_idle_since"


def ping_when_idle(
    engine: AsyncEngine,
    after_s: float = PING_AFTER_IDLE_S,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Ping this engine's pooled connections at checkout only when idle for `after_s`
    (see above); the engine must be made with pool_pre_ping off."""
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    def idle_from_now(_dbapi_connection: Any, record: Any) -> None:
        record.info[IDLE_SINCE] = clock()

    event.listen(sync_engine, "connect", idle_from_now)  # opened
    event.listen(sync_engine, "checkin", idle_from_now)  # given back

    @event.listens_for(sync_engine, "checkout")
    def taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if clock() - record.info.get(IDLE_SINCE, float("-inf")) < after_s:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError(f"an idle connection did not answer: {error}") from error
