"""PostgreSQL's planner settings for the searches (storage/planner.py): connections for
reading are opened with them, so a search there runs no statement for them; a search
on a writer's connection sets them for its transaction only; planner_off turns plan
kinds off around its statements and on again. SQLite: none of it (no statement)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from domain.catalog import ServiceQuery
from domain.ports import JobQuery
from domain.talent import TalentQuery
from storage.planner import SEARCH_SETTINGS, planner_off, search_settings
from tests.sql_log import SqlLog


def _settings(log: SqlLog) -> list[str]:
    """The statements of `log` that set planner settings."""
    return [s for s in log.statements if "set_config" in s or s.lstrip().upper().startswith("SET")]


async def _show(session: Any, name: str) -> str:
    return str(await session.scalar(sa.text(f"SELECT current_setting('{name}')")))


async def test_reader_connections_carry_the_search_settings(any_db):
    """read_uow on PostgreSQL: the settings are the connection's own, and none of the
    three searches sets them again (no round trip)."""
    if any_db.dialect != "postgresql":
        assert SEARCH_SETTINGS  # SQLite: checked by test_sqlite_runs_no_settings
        return
    engine = any_db.read_sessions.kw["bind"]
    assert engine is not any_db.engine  # the writer's connections keep the defaults
    with SqlLog(engine) as log:
        async with any_db.read_uow() as uow:
            for name, value in SEARCH_SETTINGS.items():
                assert await _show(uow.session, name) == value
            await uow.search.search(JobQuery(text="python"))
            await uow.search.search(JobQuery(skills=("python",)))
            await uow.talent.search(TalentQuery(text="python"))
            await uow.service_search.search(ServiceQuery(text="python"))
    assert not [s for s in _settings(log) if "plan_cache_mode" in s], _settings(log)
    async with any_db.uow() as uow:
        assert await _show(uow.session, "random_page_cost") == "4"
        assert await _show(uow.session, "plan_cache_mode") == "auto"


async def test_writer_search_sets_them_for_its_transaction(any_db):
    """On a writer's connection (how the bot runs searches on PostgreSQL) each search
    sets the settings in one statement, for its transaction only; a search without
    words too (a skill's jobs are counted by probing, not by merging pk_jobs)."""
    if any_db.dialect != "postgresql":
        return
    for query in (JobQuery(text="python"), JobQuery(skills=("python",)), JobQuery()):
        with SqlLog(any_db.engine) as log:
            async with any_db.uow() as uow:
                await uow.search.search(query)
                for name, value in SEARCH_SETTINGS.items():
                    assert await _show(uow.session, name) == value
        assert len(_settings(log)) == 1, _settings(log)
        async with any_db.uow() as uow:
            assert await _show(uow.session, "random_page_cost") == "4"


async def test_planner_off_turns_kinds_off_and_on_again(any_db):
    if any_db.dialect != "postgresql":
        return
    async with any_db.uow() as uow:
        with SqlLog(any_db.engine) as log:
            async with planner_off(uow.session, "seqscan", "bitmapscan"):
                assert await _show(uow.session, "enable_seqscan") == "off"
                assert await _show(uow.session, "enable_bitmapscan") == "off"
            assert await _show(uow.session, "enable_seqscan") == "on"
            assert await _show(uow.session, "enable_bitmapscan") == "on"
        assert len(_settings(log)) == 2, _settings(log)  # one each way


async def test_sqlite_runs_no_settings(any_db):
    if any_db.dialect != "sqlite":
        return
    engine = any_db.read_sessions.kw["bind"]
    with SqlLog(engine) as log:
        async with any_db.read_uow() as uow:
            await search_settings(uow.session)
            async with planner_off(uow.session, "seqscan"):
                pass
            await uow.search.search(JobQuery(text="python"))
    assert _settings(log) == []
