"""PostgreSQL's pool pings a connection at checkout only once it has sat idle
(storage/pool_ping.py): a connection the server dropped while idle is replaced
without failing the unit of work, and one used a moment ago costs no round trip."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from storage.database import Database
from storage.pool_ping import IDLE_SINCE
from tests.conftest import POSTGRES_URL, admin_execute

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs GIGBOT_TEST_POSTGRES_URL")

BACKEND = sa.text("SELECT pg_backend_pid()")


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    assert POSTGRES_URL is not None
    database = Database(POSTGRES_URL)  # no schema needed: pids and pings only
    yield database
    await database.dispose()


class Pings:
    """Counts the dialect's pings (SQLAlchemy's do_ping, wrapped)."""

    def __init__(self, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        dialect = database.engine.sync_engine.dialect
        ping = dialect.do_ping

        def counted(dbapi_connection: Any) -> bool:
            self.count += 1
            return bool(ping(dbapi_connection))

        monkeypatch.setattr(dialect, "do_ping", counted)


async def _unit(database: Database) -> tuple[int, dict[str, Any]]:
    """One unit of work: its server process id, and its connection's pool info."""
    async with database.uow() as uow:
        pid = int((await uow.session.execute(BACKEND)).scalar_one())
        raw = await (await uow.session.connection()).get_raw_connection()
        info = raw.info
        await uow.commit()
    return pid, info


def _idle_for_an_hour(info: dict[str, Any]) -> None:
    """As if the connection had been given back an hour ago."""
    info[IDLE_SINCE] = info.get(IDLE_SINCE, 0.0) - 3600


async def test_a_connection_used_a_moment_ago_is_not_pinged(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = Pings(pg, monkeypatch)
    pid, info = await _unit(pg)
    for _ in range(5):
        assert (await _unit(pg))[0] == pid  # the same connection, each time
    assert pings.count == 0

    _idle_for_an_hour(info)
    assert (await _unit(pg))[0] == pid
    assert pings.count == 1


async def test_a_connection_dropped_while_idle_is_replaced_at_checkout(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a ping (pool_pre_ping off, nothing in its place) the unit of work
    after the server dropped the connection fails; here it gets a new one."""
    pings = Pings(pg, monkeypatch)
    pid, info = await _unit(pg)
    await admin_execute(f"SELECT pg_terminate_backend({pid})")  # a restart, a firewall …
    _idle_for_an_hour(info)
    new_pid, _ = await _unit(pg)
    assert new_pid != pid
    assert pings.count == 1


async def test_a_pool_pre_ping_asked_for_is_kept() -> None:
    assert POSTGRES_URL is not None
    database = Database(POSTGRES_URL, pool_pre_ping=True)
    try:
        assert database.engine.sync_engine.pool._pre_ping
        pid, _ = await _unit(database)
        await admin_execute(f"SELECT pg_terminate_backend({pid})")
        assert (await _unit(database))[0] != pid  # pinged at checkout, however recent
    finally:
        await database.dispose()
