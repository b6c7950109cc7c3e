"""Wiring and lifecycle of a running Gigbot process (filled in below)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


async def migrate_database(url: str) -> None:
    """Bring the schema to the newest revision (storage/migrate.py's Alembic upgrade)."""
    try:
        from storage.migrate import upgrade
    except ImportError:
        # Until the Alembic migrations land: create the tables from the models.
        # Remove once storage/migrate.py exists (it always should on main).
        from storage.database import Database
        from storage.tables import metadata

        log.warning("storage.migrate is missing; creating tables from the models instead")
        db = Database(url)
        try:
            async with db.engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
        finally:
            await db.dispose()
        return
    await upgrade(url)
