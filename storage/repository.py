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


# find() and count() statements by their shape — the entity, the filters' names and
# operators and which of them are None, a collection or a flag, the order and the
# limit — with the values bound at execution: building a statement and its cache
# key cost more than running a short one. Call sites give a bounded set of shapes.
_STATEMENTS: dict[tuple[Any, ...], Any] = {}
_STATEMENTS_MAX = 2_000
_COLLECTIONS = (list, tuple, set, frozenset)


# A collection of up to this many values is bound one parameter a value, the count
# in the statement's shape: an "expanding" IN is rewritten for its values at every
# execution (~0.1 ms), and the short lists (a pair of users, one id) are the common ones.
FEW = 4


def _shape(op: str, value: Any) -> Any:
    """What of a filter's value the statement's text depends on."""
    if op == "isnull":
        return bool(value)
    if value is None:
        return None
    if isinstance(value, _COLLECTIONS):
        return len(value) if 0 < len(value) <= FEW else "many"
    return "one"


def _bound(column: Any, op: str, key: str, value: Any) -> Any:
    """_condition with the value as a bound parameter named `key` (None and the
    isnull flag are in the statement's text, as _condition writes them)."""
    if op == "isnull" or value is None:
        return _condition(column, op, value)
    if op == "" and isinstance(value, _COLLECTIONS):
        op = "in"
    if op in ("in", "notin"):
        count = _shape(op, value)
        if isinstance(count, int):
            param: Any = [sa.bindparam(f"{key}__{k}") for k in range(count)]
        else:
            param = sa.bindparam(key, expanding=True)
        return column.in_(param) if op == "in" else column.not_in(param)
    return _condition(column, op, sa.bindparam(key))


def _param(value: Any) -> Any:
    return list(value) if isinstance(value, _COLLECTIONS) else value


class SqlRepository(Generic[T]):
    def __init__(self, session: AsyncSession, cls: type[T]) -> None:
        self.session = session
        self.cls = cls

    async def get(self, key: Any) -> T | None:
        """The row by primary key: the session's own if it holds it (session.get), else
        one SELECT built once per entity with the key bound (session.get builds its
        statement and that statement's cache key anew at every call)."""
        stmt, width, mapper = _by_key(self.cls)
        values = key if isinstance(key, tuple) else (key,)
        if len(values) != width or None in values:
            return await self.session.get(self.cls, key)
        if mapper.identity_key_from_primary_key(list(values)) in self.session.identity_map:
            return await self.session.get(self.cls, key)  # held: no SQL
        params = {f"pk{k}": v for k, v in enumerate(values)}
        found: T | None = (await self.session.scalars(stmt, params)).first()
        return found

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

    def _bound_where(self, equals: dict[str, Any]) -> sa.Select[Any]:
        stmt = sa.select(self.cls)
        for key, value in equals.items():
            name, _, op = key.partition("__")
            stmt = stmt.where(_bound(getattr(self.cls, name), op, key, value))
        return stmt

    def _statement(
        self, what: str, order_by: str, limit: int | None, equals: dict[str, Any]
    ) -> Any:
        key = (
            what,
            self.cls,
            order_by,
            limit,
            *((k, _shape(k.partition("__")[2], v)) for k, v in equals.items()),
        )
        stmt = _STATEMENTS.get(key)
        if stmt is not None:
            return stmt
        stmt = self._bound_where(equals)
        if what == "count":
            # select_from keeps the table even when no filter names a column of it.
            stmt = sa.select(sa.func.count()).select_from(stmt.subquery())
        else:
            if order_by:
                descending = order_by.startswith("-")
                column = getattr(self.cls, order_by.lstrip("-"))
                stmt = stmt.order_by(column.desc() if descending else column)
            if limit is not None:
                stmt = stmt.limit(limit)
        if len(_STATEMENTS) < _STATEMENTS_MAX:
            _STATEMENTS[key] = stmt
        return stmt

    @staticmethod
    def _params(equals: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for k, v in equals.items():
            if v is None or k.partition("__")[2] == "isnull":
                continue
            if isinstance(v, _COLLECTIONS) and 0 < len(v) <= FEW:
                # Sets have no order of their own: any order binds the same values.
                params.update({f"{k}__{n}": item for n, item in enumerate(v)})
            else:
                params[k] = _param(v)
        return params

    async def find(self, order_by: str = "id", limit: int | None = None, **equals: Any) -> list[T]:
        """Rows matching the filters; `order_by="-created_at"` sorts descending."""
        stmt = self._statement("find", order_by, limit, equals)
        return list((await self.session.scalars(stmt, self._params(equals))).all())

    async def count(self, **equals: Any) -> int:
        stmt = self._statement("count", "", None, equals)
        return int((await self.session.execute(stmt, self._params(equals))).scalar_one())


_BY_KEY: dict[type, tuple[Any, int, Any]] = {}


def _by_key(cls: type) -> tuple[Any, int, Any]:
    """(SELECT of the entity by its primary key, the key's width, its mapper), built
    once per entity."""
    if cls not in _BY_KEY:
        mapper = sa.inspect(cls)
        keys = list(mapper.primary_key)
        stmt = sa.select(cls).where(*(c == sa.bindparam(f"pk{k}") for k, c in enumerate(keys)))
        _BY_KEY[cls] = (stmt, len(keys), mapper)
    return _BY_KEY[cls]
