"""The services catalogue's search: SqlServiceSearch implements domain.ports.ServiceSearch.

The index (migration 0019): `service_index` holds one row per service in the
catalogue (active, its seller not banned) with what filters and ranking read — the
category, the cheapest package's price, the fastest package's days, the seller's
record (rating, contracts completed, identity verified, the record rank of
domain/talent.py), published_at — and the searchable text: the title, the skills,
and a body of the description with the packages' names and what they include. The
full text is the FTS5 table `service_fts` (external content: service_index) on
SQLite and the generated `service_index.search_vector` (title A, skills B, body C)
with a GIN index on PostgreSQL. Ranking is domain/catalog.py's.

Keeping it in step: the services use cases call `uow.service_search.reindex(id)`
after publish, edit, pause, resume and delete (a service not active loses its row);
an after_flush hook re-indexes a seller's services when their record moves (the
writes storage/talent_search.py watches: reviews, contracts, identity verification,
the profile, the user banned). `refresh_services(connection, ids)` re-indexes
anything explicitly (the migration does it for the services there are).

Every query reads an index: record order by (rank, published_at, service_id, then
every filtered column, so a walk reads no rows), a category by (category, rank, …),
words through the full-text index, a seller's services by (seller_id); the viewer's
blocks are read once and become a NOT IN of their sellers. With words, a tier with
many matches walks the record order, one with few sorts its matches (search(); the
pager is storage/tiers.py's, shared with the talent search). Matches are counted up
to SERVICE_COUNT_CAP.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, attributes

from domain import entities as e
from domain.catalog import SERVICE_COUNT_CAP, ServiceHit, ServiceQuery
from domain.services import ServiceStatus
from storage import tiers
from storage.freelancer_record import record_columns
from storage.planner import planner_off, search_settings
from storage.search import MAX_PAGE, fts5_scoped, search_terms
from storage.skill_index import IndexedSession
from storage.sqlite_driver import ThreadedSession
from storage.tables import (
    blocks,
    service_index,
    service_packages,
    services,
    talent_index,
    users,
)

PG_TS_CONFIG = "'english'::regconfig"  # must equal migration 0019's generated column
TEXT_COLUMNS = "{title skills body}"  # service_fts's columns a word is looked for in
STRONG_COLUMNS = "{title skills}"  # the first tier's
si = service_index


# --- keeping the index in step --------------------------------------------------------------


def seller_record(connection: sa.Connection, seller_id: int) -> dict[str, Any]:
    """The seller's record as the talent index computes it (its completeness read there;
    0 without a profile)."""
    percent = connection.scalar(
        sa.select(talent_index.c.completeness).where(talent_index.c.user_id == seller_id)
    )
    return record_columns(connection, seller_id, int(percent or 0))


def _document(service: Any, packages: list[Any]) -> dict[str, str]:
    """The searchable text: title, skills, and a body of the description and packages."""
    parts = [service["description"] or ""]
    for p in packages:
        parts += [p["name"] or "", p["included"] or ""]
    return {
        "title": service["title"] or "",
        "skills": " ".join(str(s) for s in (service["skills"] or [])),
        "body": "\n".join(x for x in parts if x),
    }


def refresh_services(connection: sa.Connection, service_ids: Iterable[int]) -> None:
    """Rewrite these services' service_index rows from the truth (a service not in the
    catalogue loses its row)."""
    records: dict[int, dict[str, Any]] = {}
    for service_id in sorted(set(service_ids)):
        # The service row locked: two writers re-indexing one service take turns, and
        # the later one reads what the earlier committed (PostgreSQL; SQLite has one writer).
        row = connection.execute(
            sa.select(services).where(services.c.id == service_id).with_for_update()
        ).first()
        service = row._mapping if row is not None else None
        seller = (
            connection.execute(
                sa.select(users.c.banned).where(users.c.id == service["seller_id"])
            ).first()
            if service is not None
            else None
        )
        packages = (
            [
                p._mapping
                for p in connection.execute(
                    sa.select(service_packages).where(service_packages.c.service_id == service_id)
                )
            ]
            if service is not None
            else []
        )
        listed = (
            service is not None
            and service["status"] == ServiceStatus.ACTIVE
            and seller is not None
            and not seller[0]
            and bool(packages)
        )
        if not listed:
            connection.execute(sa.delete(si).where(si.c.service_id == service_id))
            continue
        assert service is not None
        seller_id = service["seller_id"]
        if seller_id not in records:
            records[seller_id] = seller_record(connection, seller_id)
        values = {
            "seller_id": seller_id,
            "category": service["category"] or None,
            "min_price": min(int(p["price"]) for p in packages),
            "currency": service["currency"],
            "min_days": min(int(p["delivery_days"]) for p in packages),
            "published_at": service["published_at"] or service["created_at"],
            **records[seller_id],
            **_document(service, packages),
        }
        # An upsert: a concurrent writer's row is overwritten, never a duplicate key.
        insert = (pg_insert if connection.dialect.name == "postgresql" else sqlite_insert)(si)
        connection.execute(
            insert.values(service_id=service_id, **values).on_conflict_do_update(
                index_elements=["service_id"], set_=values
            )
        )


def refresh_sellers(connection: sa.Connection, seller_ids: Iterable[int]) -> None:
    """Re-index every service of these sellers that is or may be in the catalogue."""
    sellers = sorted(set(seller_ids))
    if not sellers:
        return
    ids = {
        r[0]
        for r in connection.execute(
            sa.select(services.c.id).where(
                services.c.seller_id.in_(sellers), services.c.status == ServiceStatus.ACTIVE
            )
        )
    }
    ids |= {
        r[0]
        for r in connection.execute(sa.select(si.c.service_id).where(si.c.seller_id.in_(sellers)))
    }
    if ids:
        refresh_services(connection, ids)


# What moves a seller's record (the same writes storage/talent_search.py watches): the
# object's class → (the seller's attribute, the fields whose change moves it).
WATCHED: dict[type, tuple[str, tuple[str, ...]]] = {
    e.User: ("id", ("banned",)),
    e.Review: ("reviewee_id", ("status",)),
    e.Contract: ("freelancer_id", ("status",)),
    e.IdentityVerification: ("user_id", ("status",)),
    e.FreelancerProfile: ("user_id", ()),  # completeness: any edit
}


def _seller_affected(obj: Any, new: bool) -> int | None:
    """The seller whose services' rows this object's change may move."""
    watched = WATCHED.get(type(obj))
    if watched is None:
        return None
    owner, fields = watched
    if new and not isinstance(obj, e.IdentityVerification | e.FreelancerProfile):
        return None  # a new user has no services yet; new reviews and contracts count later
    if new or not fields or any(attributes.get_history(obj, f).has_changes() for f in fields):
        return getattr(obj, owner)
    return None


def sync_sellers(session: Session, _flush_context: Any) -> None:
    """after_flush: re-index the services of the sellers whose record this flush moved."""
    ids = {uid for obj in session.new if (uid := _seller_affected(obj, True)) is not None}
    ids |= {
        uid
        for obj in (*session.dirty, *session.deleted)
        if (uid := _seller_affected(obj, False)) is not None
    }
    if ids:
        refresh_sellers(session.connection(), ids)


event.listen(IndexedSession, "after_flush", sync_sellers)


# --- the search -------------------------------------------------------------------------------


def fts_words(terms: list[str], category: str | None, columns: str = TEXT_COLUMNS) -> str:
    """service_fts's MATCH expression: every word in these columns, and the category in
    its own column when one is asked for (storage.search.fts5_scoped)."""
    return fts5_scoped(terms, columns, category)


def _rating(x10: int, count: int) -> Decimal | None:
    return (Decimal(x10) / 10).quantize(Decimal("0.1")) if count else None


HIT_COLUMNS = (
    si.c.service_id,
    si.c.seller_id,
    users.c.name,
    si.c.title,
    si.c.category,
    si.c.min_price,
    si.c.currency,
    si.c.min_days,
    si.c.rating_x10,
    si.c.ratings,
    si.c.completed,
    si.c.verified,
    si.c.rank,
    si.c.published_at,
)


def _hit(row: Any) -> ServiceHit:
    m = row._mapping
    return ServiceHit(
        service_id=m["service_id"],
        seller_id=m["seller_id"],
        seller_name=m["name"] or "",
        title=m["title"] or "",
        category=m["category"],
        min_price=int(m["min_price"]),
        currency=m["currency"],
        min_days=int(m["min_days"]),
        rating=_rating(m["rating_x10"], m["ratings"]),
        ratings=m["ratings"],
        completed=m["completed"],
        verified=m["verified"],
        rank=m["rank"],
        published_at=m["published_at"],
    )


class SqlServiceSearch:
    def __init__(self, session: AsyncSession) -> None:
        # Searches scan: their statements run on aiosqlite's thread (sqlite_driver.py).
        self.session = cast(AsyncSession, ThreadedSession(session))

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def reindex(self, service_id: int) -> None:
        """Bring the service's index row in step with it (this unit's writes flushed first)."""
        await self.session.flush()
        await self.session.run_sync(lambda s: refresh_services(s.connection(), [service_id]))

    async def remove(self, service_id: int) -> None:
        """Take the service out of the catalogue now (reindex would, for a service not active)."""
        await self.session.execute(sa.delete(si).where(si.c.service_id == service_id))

    async def _blocked(self, viewer_id: int) -> list[int]:
        """The sellers in a block with the viewer, either way (usually none: one probe of
        the blocks table, instead of two per row walked)."""
        rows = await self.session.execute(
            sa.union(
                sa.select(blocks.c.blocked_id).where(blocks.c.blocker_id == viewer_id),
                sa.select(blocks.c.blocker_id).where(blocks.c.blocked_id == viewer_id),
            )
        )
        return sorted(r[0] for r in rows)

    def _filtered(
        self, stmt: sa.Select[Any], query: ServiceQuery, blocked: list[int]
    ) -> sa.Select[Any]:
        # Every column read here is in both ordering indexes, so a walk never reads rows.
        if query.category:
            stmt = stmt.where(si.c.category == query.category)
        if query.seller_id is not None:
            stmt = stmt.where(si.c.seller_id == query.seller_id)
        if query.min_price is not None:
            stmt = stmt.where(si.c.min_price >= query.min_price)
        if query.max_price is not None:
            stmt = stmt.where(si.c.min_price <= query.max_price)
        if query.max_days is not None:
            stmt = stmt.where(si.c.min_days <= query.max_days)
        if query.min_rating is not None:
            stmt = stmt.where(si.c.ratings > 0, si.c.rating_x10 >= int(query.min_rating * 10))
        if query.verified:
            stmt = stmt.where(si.c.verified == sa.true())
        if blocked:
            stmt = stmt.where(si.c.seller_id.notin_(blocked))
        return stmt

    def _tiers(self, terms: list[str], category: str | None) -> dict[str, Any]:
        """Per tier ("any": every word somewhere; "strong": every word in the title or
        skills), the condition for walking the record order and the one for starting at
        the matches. SQLite: membership in the FTS5 matches ("service_id + 0" keeps
        SQLite from starting at them); PostgreSQL: the tsvector conditions (a page that
        starts at the matches orders by "rank + 0", which no index serves)."""
        if self._dialect == "sqlite":
            match = sa.literal_column("service_fts").op("MATCH")
            fts = sa.select(sa.literal_column("service_fts.rowid")).select_from(
                sa.table("service_fts")
            )
            found = {
                "any": fts.where(match(fts_words(terms, category))),
                "strong": fts.where(match(fts_words(terms, category, STRONG_COLUMNS))),
            }
            return {
                tier: {
                    "walk": tiers.walk_or_start(si.c.service_id, f, True),
                    "start": tiers.walk_or_start(si.c.service_id, f, False),
                }
                for tier, f in found.items()
            }
        # ":AB" keeps a word to the title (A) and the skills (B). Words are \w+ only, so
        # nothing in them is tsquery syntax. The strong tier names the plain words too:
        # the GIN index knows no weights, and its estimate is then the words'.
        vector = sa.literal_column("service_index.search_vector")

        def tsquery(weight: str) -> Any:
            words = " & ".join(f"{t}{weight}" for t in terms)
            return vector.op("@@")(sa.func.to_tsquery(sa.literal_column(PG_TS_CONFIG), words))

        anywhere = tsquery("")
        strong = sa.and_(anywhere, tsquery(":AB"))
        return {
            tier: {"walk": c, "start": c} for tier, c in (("any", anywhere), ("strong", strong))
        }

    async def _count(self, ids: sa.Select[Any], cap: int) -> int:
        return await tiers.capped_count(self.session, ids, cap)

    def _tier(self, ids: sa.Select[Any], walk: bool = True) -> tiers.Slice:
        """One tier in record order, walked or its matches sorted (storage/tiers.py)."""
        postgres = self._dialect == "postgresql"
        rank = si.c.rank if walk or not postgres else si.c.rank + 0
        order = (rank.desc(), si.c.published_at.desc(), si.c.service_id.desc())
        # PostgreSQL's plan is chosen here, by the counts: its estimates multiply the two
        # tiers' selectivities and would sort every match of a common word (60 ms for
        # "telegram bot", where the walk reads a page's worth of rows).
        off = ("seqscan", "bitmapscan") if walk else ("seqscan",)

        async def read(offset: int, limit: int) -> list[int]:
            page = ids.order_by(*order).offset(offset).limit(limit)
            async with planner_off(self.session, *off):  # PostgreSQL only
                return [r[0] for r in await self.session.execute(page)]

        return read

    def _streamed(
        self,
        query: ServiceQuery | None,
        blocked: list[int],
        terms: list[str],
        columns: str,
        category: str | None = None,
    ) -> sa.Select[Any]:
        """SQLite: the (filtered) matches in FTS5's order, each row looked up once — a
        count stops at its cap without collecting every match first. Without a query:
        the FTS5 matches alone (of the words, and the category given)."""
        match = sa.literal_column("service_fts").op("MATCH")
        if query is None:
            stmt = sa.select(sa.literal_column("service_fts.rowid")).select_from(
                sa.table("service_fts")
            )
            return stmt.where(match(fts_words(terms, category, columns)))
        fts = sa.table("service_fts", sa.column("rowid"))
        stmt = sa.select(si.c.service_id).select_from(fts.join(si, si.c.service_id == fts.c.rowid))
        return self._filtered(stmt, query, blocked).where(
            match(fts_words(terms, query.category, columns))
        )

    async def search(self, query: ServiceQuery) -> tuple[list[ServiceHit], int]:
        """A page of services, best first, and the number of all matches (counted up to
        SERVICE_COUNT_CAP: pages beyond it are not offered).

        With words, two tiers, each in record order: every word in the title or skills,
        then the rest of the matches. A tier with many matches (storage/tiers.py WALK_FROM) is
        paged by walking the record order until the page is full, a tier with few by sorting
        its matches: which one, the tier's count decides (the planners' estimates of a
        word's share are no guide: PostgreSQL's ignore the weights, SQLite has none)."""
        await self.session.flush()  # Core statements do not autoflush
        # PostgreSQL: plans for these values, index walks priced as in memory (planner.py)
        await search_settings(self.session)
        blocked = await self._blocked(query.viewer_id) if query.viewer_id is not None else []
        ids = self._filtered(sa.select(si.c.service_id), query, blocked)
        limit = max(0, min(query.limit, MAX_PAGE))
        offset = max(0, query.offset)
        terms = search_terms(query.text)
        if not terms:
            total = await self._count(ids, SERVICE_COUNT_CAP)
            found = await self._tier(ids)(offset, limit) if limit else []
            return await self._hits(found), total
        tier = self._tiers(terms, query.category)
        if self._dialect == "sqlite":
            # The words' matches in FTS5 alone (the category included) decide each tier's
            # plan; the filtered count is streamed from them.
            cap = max(tiers.WALK_FROM, SERVICE_COUNT_CAP)
            raw_any = await self._count(
                self._streamed(None, [], terms, TEXT_COLUMNS, query.category), cap
            )
            raw_strong = await self._count(
                self._streamed(None, [], terms, STRONG_COLUMNS, query.category), cap
            )
            filtered = self._filtered(
                sa.select(si.c.service_id), replace(query, category=None), blocked
            )
            if filtered.whereclause is None:  # every FTS5 row is a row of the index
                total = min(raw_any, SERVICE_COUNT_CAP)
            else:
                total = await self._count(
                    self._streamed(query, blocked, terms, TEXT_COLUMNS), SERVICE_COUNT_CAP
                )
            walk_strong, walk_any = tiers.walks(raw_strong), tiers.walks(raw_any)
        else:
            # Few matches: sort them ("rank + 0"); many: walk the record order (_tier). The
            # count reads the GIN index: with a LIMIT, the planner would rather scan the
            # table, hoping to stop early, and reads all of it when few rows match.
            async with planner_off(self.session, "seqscan"):
                total = await self._count(ids.where(tier["any"]["start"]), SERVICE_COUNT_CAP)
            walk_strong = walk_any = total >= min(tiers.WALK_FROM, SERVICE_COUNT_CAP)
        if not limit or not total:
            return [], total
        strong = tier["strong"]["walk" if walk_strong else "start"]
        plan = "walk" if walk_any else "start"
        rest = ids.where(tier["any"][plan], sa.not_(tier["strong"][plan]))
        found = await tiers.two_tiers(
            self._tier(ids.where(strong), walk_strong),
            self._tier(rest, walk_any),
            offset,
            limit,
        )
        return await self._hits(found), total

    async def _hits(self, ids: list[int]) -> list[ServiceHit]:
        """The hits for these ids, in their order (one query for the page)."""
        if not ids:
            return []
        stmt = (
            sa.select(*HIT_COLUMNS)
            .select_from(si.join(users, users.c.id == si.c.seller_id))
            .where(si.c.service_id.in_(ids))
        )
        rows = {r._mapping["service_id"]: r for r in await self.session.execute(stmt)}
        return [_hit(rows[i]) for i in ids if i in rows]

    async def hit(self, service_id: int) -> ServiceHit | None:
        """The service as the catalogue lists it; None when it is not in the catalogue."""
        found = await self._hits([service_id])
        return found[0] if found else None
