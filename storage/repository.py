"""Generic SQLAlchemy repository behind domain.ports.Repository."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class SqlRepository(Generic[T]):
    def __init__(self, session: AsyncSession, cls: type[T]) -> None:
        self.session = session
        self.cls = cls

    async def get(self, key: Any) -> T | None:
        return await self.session.get(self.cls, key)

    async def get_for_update(self, key: Any) -> T | None:
        # populate_existing: a row already in the session is re-read under the lock.
        return await self.session.get(self.cls, key, with_for_update=True, populate_existing=True)

    async def add(self, obj: T) -> T:
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def delete(self, obj: T) -> None:
        await self.session.delete(obj)
        await self.session.flush()

    def _where(self, equals: dict[str, Any]) -> sa.Select[Any]:
        stmt = sa.select(self.cls)
        for name, value in equals.items():
            column = getattr(self.cls, name)
            if isinstance(value, (list, tuple, set, frozenset)):
                stmt = stmt.where(column.in_(list(value)))
            else:
                stmt = stmt.where(column == value)
        return stmt

    async def find(self, order_by: str = "id", limit: int | None = None, **equals: Any) -> list[T]:
        """Rows whose columns equal the values (a collection value means "any of")."""
        stmt = self._where(equals)
        if order_by:
            descending = order_by.startswith("-")
            column = getattr(self.cls, order_by.lstrip("-"))
            stmt = stmt.order_by(column.desc() if descending else column)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list((await self.session.scalars(stmt)).all())

    async def count(self, **equals: Any) -> int:
        stmt = self._where(equals).with_only_columns(sa.func.count()).order_by(None)
        return int((await self.session.execute(stmt)).scalar_one())
