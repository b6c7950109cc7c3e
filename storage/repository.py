"""Generic SQLAlchemy repository behind domain.ports.Repository."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


def _condition(column: Any, op: str, value: Any) -> Any:
    """Django-style filters: `status`, `status__in`, `id__ne`, `created_at__gte`, `x__isnull`."""
    if op == "" and isinstance(value, (list, tuple, set, frozenset)):
        op = "in"  # a collection value means "any of"
    if op == "" or op == "eq":
        return column.is_(None) if value is None else column == value
    if op == "ne":
        return column.is_not(None) if value is None else column != value
    if op == "in":
        return column.in_(list(value))
    if op == "notin":
        return column.not_in(list(value))
    if op == "isnull":
        return column.is_(None) if value else column.is_not(None)
    comparisons = {"lt": "__lt__", "lte": "__le__", "gt": "__gt__", "gte": "__ge__"}
    if op in comparisons:
        return getattr(column, comparisons[op])(value)
    raise ValueError(f"unknown filter operator: {op}")


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

    async def stage(self, obj: T) -> None:
        """Add without flushing: written (batched with its kind) at the next flush."""
        self.session.add(obj)

    async def delete(self, obj: T) -> None:
        await self.session.delete(obj)
        await self.session.flush()

    def _where(self, equals: dict[str, Any]) -> sa.Select[Any]:
        stmt = sa.select(self.cls)
        for key, value in equals.items():
            name, _, op = key.partition("__")
            stmt = stmt.where(_condition(getattr(self.cls, name), op, value))
        return stmt

    async def find(self, order_by: str = "id", limit: int | None = None, **equals: Any) -> list[T]:
        """Rows matching the filters; `order_by="-created_at"` sorts descending."""
        stmt = self._where(equals)
        if order_by:
            descending = order_by.startswith("-")
            column = getattr(self.cls, order_by.lstrip("-"))
            stmt = stmt.order_by(column.desc() if descending else column)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list((await self.session.scalars(stmt)).all())

    async def count(self, **equals: Any) -> int:
        # select_from keeps the table even when no filter names a column of it.
        stmt = sa.select(sa.func.count()).select_from(self._where(equals).subquery())
        return int((await self.session.execute(stmt)).scalar_one())
