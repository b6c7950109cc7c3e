"""Wiring and lifecycle of a running Gigbot process (filled in below)."""

from __future__ import annotations

import logging

from storage.migrate import upgrade

log = logging.getLogger(__name__)


async def migrate_database(url: str) -> None:
    """Bring the schema to the newest revision (Alembic; idempotent)."""
    await upgrade(url)
