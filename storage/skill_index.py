"""Keeps the lookup tables job_skills, subscription_skills and
subscription_categories equal to the entities' `skills` / `categories` lists.

The domain only ever edits the lists; an after_flush hook on the session
rewrites the rows of every job or subscription whose list changed, in the same
transaction. Values are indexed normalised — skills by domain.taxonomy.skill_key
(the key domain.matching compares them by: "CSS" and "css" are one row),
categories trimmed and lower case — so a lookup finds a superset of matches;
domain.matching has the final word. Rows written before skills kept their
typed case hold slugs, and a slug is its own key: they need no rewrite.

Bulk `UPDATE`/`DELETE` statements bypass the ORM and therefore this hook;
rows of deleted jobs and subscriptions also go by ON DELETE CASCADE.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, attributes

from domain.entities import AlertSubscription, Job
from domain.taxonomy import skill_key
from storage.tables import job_skills, subscription_categories, subscription_skills

MAX_VALUE_LEN = 64  # the lookup tables' column width


def index_values(values: Iterable[str] | None) -> list[str]:
    """The distinct, normalised values a list is indexed under, sorted."""
    seen = {str(v).strip().lower()[:MAX_VALUE_LEN] for v in values or ()}
    seen.discard("")
    return sorted(seen)


def skill_values(values: Iterable[str] | None) -> list[str]:
    """The distinct keys a skills list is indexed (and looked up) under, sorted."""
    return index_values(skill_key(str(v)) for v in values or ())


# A subscription naming no skills (or no categories) is indexed under ANY, so the
# subscriptions a job may match are found by index alone (storage/search.py),
# never by scanning every subscription for the ones that name none.
ANY = ""


def _or_any(values: Callable[[Iterable[str] | None], list[str]]) -> Callable[..., list[str]]:
    def indexed(given: Iterable[str] | None) -> list[str]:
        return values(given) or [ANY]

    return indexed


@dataclass(frozen=True, slots=True)
class ListIndex:
    attribute: str  # the entity's list attribute
    table: sa.Table
    owner_column: str  # refers to the entity's id
    value_column: str
    values: Callable[[Iterable[str] | None], list[str]] = index_values


INDEXES: dict[type, tuple[ListIndex, ...]] = {
    Job: (ListIndex("skills", job_skills, "job_id", "skill", skill_values),),
    AlertSubscription: (
        ListIndex("skills", subscription_skills, "subscription_id", "skill", _or_any(skill_values)),
        ListIndex(
            "categories",
            subscription_categories,
            "subscription_id",
            "category",
            _or_any(index_values),
        ),
    ),
}


def _changed(obj: Any, attribute: str) -> bool:
    # In-place edits of a MutableList flag the attribute modified, so they count too.
    return attributes.get_history(obj, attribute).has_changes()


def _rewrite(connection: sa.Connection, index: ListIndex, owner_id: int, values: list[str]) -> None:
    owner = index.table.c[index.owner_column]
    connection.execute(sa.delete(index.table).where(owner == owner_id))
    if values:
        connection.execute(
            sa.insert(index.table),
            [{index.owner_column: owner_id, index.value_column: v} for v in values],
        )


def sync_indexes(session: Session, _flush_context: Any) -> None:
    """after_flush: the new/dirty/deleted collections still describe this flush."""
    pending: list[tuple[ListIndex, int, list[str]]] = []
    for obj in session.new:
        for index in INDEXES.get(type(obj), ()):
            values = index.values(getattr(obj, index.attribute))
            if values:
                pending.append((index, obj.id, values))
    for obj in session.dirty:
        for index in INDEXES.get(type(obj), ()):
            if obj not in session.deleted and _changed(obj, index.attribute):
                pending.append((index, obj.id, index.values(getattr(obj, index.attribute))))
    for obj in session.deleted:
        for index in INDEXES.get(type(obj), ()):
            pending.append((index, obj.id, []))  # [] even for ANY: the owner is gone
    if pending:
        connection = session.connection()
        for index, owner_id, values in pending:
            _rewrite(connection, index, owner_id, values)


class IndexedSession(Session):
    """The session class of storage.database: keeps the lookup tables in sync."""


event.listen(IndexedSession, "after_flush", sync_indexes)
