"""`gigbot migrate` (storage.migrate.upgrade) on empty databases, and the
migrations agreeing with the models in storage/tables.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from storage.migrate import current_revision, head_revision, include_object, upgrade, upgrade_sync
from storage.tables import metadata
from tests.conftest import NO_POSTGRES, POSTGRES_URL, admin_execute, postgres_url, sqlite_url


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_url(request, tmp_path) -> AsyncIterator[str]:
    """The URL of an empty database (nothing migrated)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "empty.db")
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    name = f"gigbot_m_{uuid.uuid4().hex[:12]}"
    await admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(name)
    finally:
        await admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _scalar(url: str, sql: str) -> object:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(sa.text(sql))).scalar()
    finally:
        await engine.dispose()


async def _differences(url: str) -> list:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync,
                        # include_object hides the full-text objects, which the
                        # models do not describe: SQLite's FTS5 table jobs_fts
                        # with its shadow tables (jobs_fts_data, _idx, _docsize,
                        # _config), and PostgreSQL's generated jobs.search_vector
                        # column with its GIN index. The search tests cover them.
                        opts={"include_object": include_object, "compare_type": True},
                    ),
                    metadata,
                )
            )
    finally:
        await engine.dispose()


async def test_migrate_brings_an_empty_database_to_head_and_again_is_a_no_op(empty_url):
    assert await current_revision(empty_url) is None
    await upgrade(empty_url)
    assert await current_revision(empty_url) == head_revision()

    engine = create_async_engine(empty_url)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO users (id, name, language, is_client, is_freelancer, banned, unreachable) VALUES (1, 'Clara', 'en', true, false, false, false)"
            )
        )
    await engine.dispose()

    await upgrade(empty_url)  # a second run changes nothing and keeps the data
    assert await current_revision(empty_url) == head_revision()
    assert await _scalar(empty_url, "SELECT name FROM users WHERE id = 1") == "Clara"


async def test_migrations_and_models_agree(empty_url):
    await upgrade(empty_url)
    assert await _differences(empty_url) == []


async def test_the_full_text_machinery_exists(empty_url):
    await upgrade(empty_url)
    if empty_url.startswith("sqlite"):
        sql = "SELECT count(*) FROM sqlite_master WHERE name IN ('jobs_fts', 'jobs_fts_insert', 'jobs_fts_update', 'jobs_fts_delete')"
        assert await _scalar(empty_url, sql) == 4
    else:
        sql = "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_jobs_search_vector' AND indexdef LIKE '%USING gin%'"
        assert await _scalar(empty_url, sql) == 1


async def test_downgrade_to_base_and_up_again(tmp_path):
    from alembic import command

    from storage.migrate import alembic_config, migration_engine

    url = sqlite_url(tmp_path / "roundtrip.db")
    await upgrade(url)
    engine = migration_engine(url)
    async with engine.begin() as conn:

        def down(sync):
            config = alembic_config(url)
            config.attributes["connection"] = sync
            command.downgrade(config, "base")

        await conn.run_sync(down)
    await engine.dispose()
    assert (
        await _scalar(
            url,
            "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'trigger') AND name != 'alembic_version'",
        )
        == 0
    )
    await upgrade(url)
    assert await _differences(url) == []


async def test_two_migrations_at_once_queue_and_both_succeed(empty_url):
    # SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock. The second finds nothing to do.
    await asyncio.gather(upgrade(empty_url), upgrade(empty_url))
    assert await current_revision(empty_url) == head_revision()
    assert await _differences(empty_url) == []


def test_the_cli_wrapper_takes_the_url_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "from_env.db"
    monkeypatch.setenv("GIGBOT_DATABASE_URL", sqlite_url(path))
    assert upgrade_sync() == head_revision()
    assert upgrade_sync() == head_revision()
    assert path.exists()


async def test_a_fanouts_recipients_are_stored_uncompressed_on_postgresql(empty_url):
    """Migration 0028: pglz compressing ~15 kB of packed chat ids cost ~3 ms of every
    publish (bench alerts); EXTERNAL stores them out of line as they are."""
    if empty_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's TOAST storage")
    await upgrade(empty_url)
    sql = (
        "SELECT attstorage::text FROM pg_attribute WHERE attrelid = 'outbox_fanouts'::regclass"
        " AND attname = 'recipients'"
    )
    assert await _scalar(empty_url, sql) == "e"


async def test_the_alert_keys_triggers_exist_at_head(empty_url):
    """Migration 0028's triggers keep subscription_keys' barred / away_until. SQLite
    drops a table's triggers when a migration rebuilds the table (batch_alter_table
    copying it): a later migration rebuilding users, freelancer_profiles or
    subscription_keys without creating them again fails here."""
    await upgrade(empty_url)
    if empty_url.startswith("sqlite"):
        sql = (
            "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master"
            " WHERE type = 'trigger' AND name LIKE 'subscription_keys%' ORDER BY name)"
        )
        expected = (
            "subscription_keys_profile_delete,subscription_keys_profile_insert,"
            "subscription_keys_profile_update,subscription_keys_state,subscription_keys_user"
        )
    else:
        sql = (
            "SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger"
            " WHERE tgname LIKE 'subscription_keys%' AND NOT tgisinternal"
        )
        expected = "subscription_keys_profile,subscription_keys_state,subscription_keys_user"
    assert await _scalar(empty_url, sql) == expected


async def test_0028_gives_existing_keys_their_users_state(empty_url):
    """Upgrading a database with subscriptions: their keys take their users' state
    (banned, not a freelancer, away until a day or for good), as the triggers keep
    it from then on."""
    await upgrade(empty_url, "0027")
    engine = create_async_engine(empty_url)
    people = [  # id, banned, is_freelancer, profile (availability, away_until) or None
        (1, False, True, None),
        (2, True, True, None),
        (3, False, False, None),
        (4, False, True, ("away", None)),
        (5, False, True, ("away", date(2026, 12, 20))),
        (6, False, True, ("available", None)),
    ]
    async with engine.begin() as conn:
        for user_id, banned, freelancer, profile in people:
            await conn.execute(
                sa.text(
                    "INSERT INTO users (id, name, language, is_client, is_freelancer, banned,"
                    " unreachable) VALUES (:id, 'u', 'en', false, :f, :b, false)"
                ),
                {"id": user_id, "f": freelancer, "b": banned},
            )
            if profile:
                await conn.execute(
                    sa.text(
                        "INSERT INTO freelancer_profiles (user_id, headline, bio, skills, tags,"
                        " currency, portfolio, certifications, availability, away_until)"
                        " VALUES (:id, '', '', '[]', '[]', 'USD', '[]', '[]', :a, :until)"
                    ).bindparams(sa.bindparam("until", type_=sa.Date)),
                    {"id": user_id, "a": profile[0], "until": profile[1]},
                )
            await conn.execute(
                sa.text(
                    "INSERT INTO alert_subscriptions (id, user_id, categories, skills, keywords,"
                    " mode, paused, min_budget) VALUES (:id, :id, '[]', '[]', '[]', 'instant',"
                    " false, 0)"
                ),
                {"id": user_id},
            )
            await conn.execute(
                sa.text(
                    "INSERT INTO subscription_keys (subscription_id, category, skill, mode,"
                    " min_budget, user_id, keywords) VALUES (:id, '', '', 'instant', 0, :id,"
                    " false)"
                ),
                {"id": user_id},
            )
    await engine.dispose()
    await upgrade(empty_url)
    engine = create_async_engine(empty_url)
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT user_id, barred, CAST(away_until AS VARCHAR(10)) FROM subscription_keys"
                " ORDER BY user_id"
            )
        )
        found = [(u, bool(b), a) for u, b, a in rows]
    await engine.dispose()
    assert found == [
        (1, False, None),
        (2, True, None),
        (3, True, None),
        (4, False, "9999-12-31"),
        (5, False, "2026-12-20"),
        (6, False, None),
    ]
