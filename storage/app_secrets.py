"""Keys the application makes for itself, one per database (table app_secrets).

    key = await get_or_create_secret(database, "sandbox_page_key")   # 32 random bytes

The first process to ask makes the key with `secrets.token_bytes` and stores it;
every later call, in any process on the same database, reads that same key. Two
processes starting at once both try to insert (INSERT … ON CONFLICT DO NOTHING),
then both read what was kept: they end with the same key. Keys are stored as hex.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage.database import Database
from storage.tables import app_secrets

SECRET_BYTES = 32


def _insert_if_absent(dialect: str, values: dict[str, object]) -> sa.Executable:
    if dialect == "postgresql":
        return postgresql.insert(app_secrets).values(**values).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(app_secrets).values(**values).on_conflict_do_nothing()
    raise NotImplementedError(f"app secrets on {dialect}")


async def get_or_create_secret(database: Database, name: str, nbytes: int = SECRET_BYTES) -> bytes:
    """The key called `name` in this database, made (random, `nbytes` long) on first use."""
    if not name or len(name) > 64:
        raise ValueError("a secret's name is 1 to 64 characters")
    made = secrets.token_bytes(nbytes)
    async with database.uow() as uow:
        await uow.session.execute(
            _insert_if_absent(
                database.dialect,
                {"name": name, "value": made.hex(), "created_at": database.now()},
            )
        )
        kept = await uow.session.scalar(
            sa.select(app_secrets.c.value).where(app_secrets.c.name == name)
        )
        await uow.commit()
    if kept is None:  # pragma: no cover - the row was just inserted or already there
        raise RuntimeError(f"app secret {name!r} could not be stored")
    return bytes.fromhex(kept)
