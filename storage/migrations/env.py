"""Alembic environment: async-capable, URL from the caller or GIGBOT_DATABASE_URL.

storage/migrate.py runs the migrations on a connection it opened itself and
passes it in `config.attributes["connection"]` (one transaction, locks taken
there). The plain `alembic` command line (developers: `alembic -c
storage/alembic.ini revision --autogenerate -m ...`) opens its own engine.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from storage.migrate import database_url, include_object, migration_engine
from storage.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: later migrations copy-and-move tables.
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = migration_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(config.get_main_option("sqlalchemy.url")),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async(database_url(config.get_main_option("sqlalchemy.url"))))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
