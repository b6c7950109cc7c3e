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

`subscription_keys` (issue 16, part 4; migration 0021) is the alert matching
index: one row per (category, skill) pair an unpaused subscription is indexed
under (ANY standing for "names none"), with its mode, minimum budget, user and
whether it names keywords. A job's audience is then a handful of index range
scans — mode, the job's category or ANY, one of its skills or ANY, min_budget
at most the job's — instead of intersecting two lookup tables over every
subscription (storage/search.py, alert_audience). The same hook keeps it. Its
`barred` and `away_until` columns (migration 0028) say whether the user may get
alerts at all: the database's triggers keep them from users and
freelancer_profiles, whatever writes those.
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
from storage.tables import (
    BigInt,
    job_skills,
    metadata,
    subscription_categories,
    subscription_skills,
)

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


subscription_keys = sa.Table(
    "subscription_keys",
    metadata,
    sa.Column(
        "subscription_id",
        BigInt,
        sa.ForeignKey("alert_subscriptions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("category", sa.String(MAX_VALUE_LEN), primary_key=True),
    sa.Column("skill", sa.String(MAX_VALUE_LEN), primary_key=True),
    sa.Column("mode", sa.String(8), nullable=False),
    sa.Column("min_budget", sa.BigInteger, nullable=False),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("keywords", sa.Boolean, nullable=False),  # names any: domain.matching decides
    # Who may get alerts (migration 0028; its triggers keep them from users and
    # freelancer_profiles): banned or not a freelancer; the last day away (NULL: not).
    sa.Column("barred", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("away_until", sa.Date, nullable=True),
    # The audience query's ranges, covering: it reads no row of the table.
    sa.Index(
        "ix_subscription_keys_match",
        "barred",
        "mode",
        "category",
        "skill",
        "min_budget",
        "user_id",
        "keywords",
        "subscription_id",
        "away_until",
    ),
    sa.Index("ix_subscription_keys_user", "user_id"),  # the triggers' rewrites
)

# What a subscription's keys are made of: a change to any rewrites them.
KEY_ATTRIBUTES = ("categories", "skills", "keywords", "mode", "paused", "min_budget", "user_id")


def key_rows(sub: Any) -> list[dict[str, Any]]:
    """The subscription_keys rows of a subscription (none while it is paused)."""
    if sub.paused:
        return []
    common = {
        "subscription_id": sub.id,
        "mode": sub.mode,
        "min_budget": sub.min_budget or 0,
        "user_id": sub.user_id,
        "keywords": bool(sub.keywords),
    }
    return [
        {**common, "category": category, "skill": skill}
        for category in index_values(sub.categories) or [ANY]
        for skill in skill_values(sub.skills) or [ANY]
    ]


def sync_keys(session: Session, _flush_context: Any) -> None:
    """after_flush: rewrite the keys of every subscription added, changed or deleted."""
    changed: dict[int, list[dict[str, Any]]] = {}
    for obj in session.new:
        if isinstance(obj, AlertSubscription):
            changed[obj.id] = key_rows(obj)
    for obj in session.dirty:
        if (
            isinstance(obj, AlertSubscription)
            and obj not in session.deleted
            and any(_changed(obj, a) for a in KEY_ATTRIBUTES)
        ):
            changed[obj.id] = key_rows(obj)
    for obj in session.deleted:
        if isinstance(obj, AlertSubscription):
            changed[obj.id] = []
    if not changed:
        return
    connection = session.connection()
    connection.execute(
        sa.delete(subscription_keys).where(subscription_keys.c.subscription_id.in_(list(changed)))
    )
    rows = [row for owner_rows in changed.values() for row in owner_rows]
    if rows:
        connection.execute(sa.insert(subscription_keys), rows)


class IndexedSession(Session):
    """The session class of storage.database: keeps the lookup tables in sync."""


event.listen(IndexedSession, "after_flush", sync_indexes)
event.listen(IndexedSession, "after_flush", sync_keys)
