"""Talent search and invite candidates: SqlTalentSearch implements domain.ports.TalentSearch.

The index (migration 0014): `talent_index` holds one row per freelancer profile with
what filters and ranking read (category, rate, availability, rating, contracts
completed, completeness, identity verified, the record rank of domain/talent.py);
`profile_skills` one row per (freelancer, skill key) over skills and tags; the
full text is the FTS5 table `talent_fts` on SQLite and the generated
`freelancer_profiles.search_vector` on PostgreSQL, like the jobs'. A search ranks the
matches by tier (every word in the headline, skills or tags — an FTS5 column filter,
a tsquery restricted to the A and B weights — above a match elsewhere), then record rank.

An after_flush hook (as storage.skill_index does for jobs) recomputes the rows of
every freelancer whose profile, user, reviews, contracts or identity verification
changed in the flush, in the same transaction. Bulk UPDATE/DELETE statements
bypass it; `refresh_talent(connection, ids)` re-indexes anyone explicitly.

Every query walks an index: rank order by (listed, rank, user_id), a category by
(category, rank, user_id), text through the full-text index, skills through
(skill, user_id); blocks are NOT EXISTS probes of the blocks primary key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, attributes

from domain import entities as e
from domain.profile import completeness
from domain.talent import TALENT_COUNT_CAP, TalentHit, TalentQuery, effective
from storage import tiers
from storage.freelancer_record import record_columns
from storage.planner import search_settings
from storage.search import MAX_PAGE, fts5_scoped, search_terms
from storage.skill_index import IndexedSession, skill_values
from storage.sqlite_driver import ThreadedSession
from storage.tables import (
    blocks,
    invitations,
    pitches,
    profile_skills,
    profiles,
    talent_index,
    users,
)

PG_TS_CONFIG = "'english'::regconfig"  # must equal migration 0014's generated column
ti = talent_index


# --- keeping the index in step --------------------------------------------------------------


def _row(connection: sa.Connection, user_id: int) -> dict[str, Any] | None:
    # The profile row locked: two writers re-indexing one freelancer take turns, and the
    # later one reads what the earlier committed (PostgreSQL; SQLite has one writer).
    prof = connection.execute(
        sa.select(profiles).where(profiles.c.user_id == user_id).with_for_update()
    ).first()
    user = connection.execute(sa.select(users).where(users.c.id == user_id)).first()
    if prof is None or user is None:
        return None
    p = prof._mapping
    entity = e.FreelancerProfile(
        user_id=user_id,
        headline=p["headline"] or "",
        bio=p["bio"] or "",
        category=p["category"],
        skills=list(p["skills"] or []),
        tags=list(p["tags"] or []),
        hourly_rate=p["hourly_rate"],
        years_experience=p["years_experience"],
        portfolio=list(p["portfolio"] or []),
        certifications=list(p["certifications"] or []),
    )
    percent, _ = completeness(entity)
    record = record_columns(connection, user_id, percent)
    u = user._mapping
    return {
        "user_id": user_id,
        "listed": bool(u["is_freelancer"]) and not u["banned"],
        "category": (p["category"] or None),
        "hourly_rate": p["hourly_rate"],
        "availability": p["availability"] or "available",
        "away_until": p["away_until"],
        "completeness": percent,
        **record,
        "skills": skill_values([*entity.skills, *entity.tags]),
    }


def refresh_talent(connection: sa.Connection, user_ids: Iterable[int]) -> None:
    """Rewrite these freelancers' talent_index and profile_skills rows from the truth."""
    for user_id in sorted(set(user_ids)):
        row = _row(connection, user_id)
        connection.execute(sa.delete(profile_skills).where(profile_skills.c.user_id == user_id))
        if row is None:
            connection.execute(sa.delete(ti).where(ti.c.user_id == user_id))
            continue
        skills = row.pop("skills")
        # An upsert: a concurrent writer's row is overwritten, never a duplicate key.
        insert = (pg_insert if connection.dialect.name == "postgresql" else sqlite_insert)(ti)
        fields = {k: v for k, v in row.items() if k != "user_id"}
        connection.execute(
            insert.values(**row).on_conflict_do_update(index_elements=["user_id"], set_=fields)
        )
        if skills:
            add = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
            copied = {"category": row["category"], "rank": row["rank"]}
            connection.execute(
                add(profile_skills).on_conflict_do_nothing(),
                [{"user_id": user_id, "skill": s, **copied} for s in skills],
            )


# What moves a freelancer's row; other writes (a user's last activity, a contract's
# deadline) leave the index alone.
WATCHED: dict[type, tuple[str, tuple[str, ...]]] = {
    e.User: ("id", ("is_freelancer", "banned", "name")),
    e.Review: ("reviewee_id", ("status",)),
    e.Contract: ("freelancer_id", ("status",)),
    e.IdentityVerification: ("user_id", ("status",)),
}


def _affected(obj: Any, new: bool) -> int | None:
    """The freelancer whose index row this object's change may move."""
    if isinstance(obj, e.FreelancerProfile):
        return obj.user_id
    watched = WATCHED.get(type(obj))
    if watched is None:
        return None
    owner, fields = watched
    if new and not isinstance(obj, e.IdentityVerification):
        return None  # a new user has no profile yet; new reviews and contracts count later
    if any(attributes.get_history(obj, f).has_changes() for f in fields) or new:
        return getattr(obj, owner)
    return None


def sync_talent(session: Session, _flush_context: Any) -> None:
    """after_flush: re-index the freelancers this flush touched."""
    ids = {uid for obj in session.new if (uid := _affected(obj, True)) is not None}
    ids |= {
        uid
        for obj in (*session.dirty, *session.deleted)
        if (uid := _affected(obj, False)) is not None
    }
    if ids:
        refresh_talent(session.connection(), ids)


event.listen(IndexedSession, "after_flush", sync_talent)


# --- the searches ---------------------------------------------------------------------------


def _rating(x10: int, count: int) -> Decimal | None:
    return (Decimal(x10) / 10).quantize(Decimal("0.1")) if count else None


HIT_COLUMNS = (
    ti.c.user_id,
    users.c.name,
    profiles.c.headline,
    ti.c.category,
    ti.c.hourly_rate,
    profiles.c.currency,
    ti.c.rating_x10,
    ti.c.ratings,
    ti.c.completed,
    ti.c.completeness,
    ti.c.verified,
    ti.c.availability,
    ti.c.away_until,
    ti.c.rank,
    profiles.c.skills,
    profiles.c.tags,
)


def _hit(row: Any, today: date, shared: int = 0, wanted: int = 0) -> TalentHit:
    m = row._mapping
    return TalentHit(
        user_id=m["user_id"],
        name=m["name"] or "",
        headline=m["headline"] or "",
        category=m["category"],
        hourly_rate=m["hourly_rate"],
        currency=m["currency"],
        rating=_rating(m["rating_x10"], m["ratings"]),
        ratings=m["ratings"],
        completed=m["completed"],
        completeness=m["completeness"],
        verified=m["verified"],
        availability=effective(m["availability"], m["away_until"], today),
        away_until=m["away_until"],
        rank=m["rank"],
        skills=tuple([*(m["skills"] or []), *(m["tags"] or [])]),
        shared_skills=shared,
        wanted_skills=wanted,
    )


def _not_blocked(viewer_id: int) -> list[Any]:
    return [
        ti.c.user_id != viewer_id,
        ~sa.exists().where(blocks.c.blocker_id == viewer_id, blocks.c.blocked_id == ti.c.user_id),
        ~sa.exists().where(blocks.c.blocker_id == ti.c.user_id, blocks.c.blocked_id == viewer_id),
    ]


def _available(today: date) -> Any:
    return sa.or_(
        ti.c.availability == "available",
        sa.and_(ti.c.availability == "away", ti.c.away_until < today),
    )


FTS = sa.table("talent_fts", sa.column("rowid"))
FTS_MATCH = sa.literal_column("talent_fts").op("MATCH")
VECTOR = sa.literal_column("freelancer_profiles.search_vector")


@dataclass(frozen=True)
class TextSets:
    """A search's words as the two match expressions of its tiers: FTS5 queries on
    SQLite, tsquery texts on PostgreSQL."""

    anywhere: str
    strong: str
    pg: bool = False

    def pg_match(self, expression: str) -> Any:
        query = sa.func.to_tsquery(sa.literal_column(PG_TS_CONFIG), expression)
        return VECTOR.op("@@")(query)

    def members(self, expression: str) -> sa.Select[Any]:
        """The ids matching the expression."""
        if self.pg:
            return sa.select(profiles.c.user_id).where(self.pg_match(expression))
        return sa.select(FTS.c.rowid).where(FTS_MATCH(expression))

    def size(self, expression: str, enough: int) -> Any:
        """How many match, counted up to `enough` (SQLite)."""
        capped = self.members(expression).limit(enough).subquery()
        return sa.select(sa.func.count()).select_from(capped).scalar_subquery()

    def join(self, ids: sa.Select[Any]) -> sa.Select[Any]:
        """ids narrowed to the matches of every word."""
        if self.pg:
            return ids.join(profiles, profiles.c.user_id == ti.c.user_id).where(
                self.pg_match(self.anywhere)
            )
        return ids.where(FTS.c.rowid == ti.c.user_id, FTS_MATCH(self.anywhere))


class SqlTalentSearch:
    def __init__(self, session: AsyncSession) -> None:
        # Searches scan: their statements run on aiosqlite's thread (sqlite_driver.py).
        self.session = cast(AsyncSession, ThreadedSession(session))

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def _filtered(self, stmt: sa.Select[Any], query: TalentQuery) -> sa.Select[Any]:
        # "= 1", not "IS 1": SQLite walks ix_talent_index_rank only for an equality.
        stmt = stmt.where(ti.c.listed == sa.true())
        if query.category:
            stmt = stmt.where(ti.c.category == query.category)
        for skill in skill_values(query.skills):
            stmt = stmt.where(
                sa.exists().where(
                    profile_skills.c.user_id == ti.c.user_id, profile_skills.c.skill == skill
                )
            )
        if query.min_rate is not None:
            stmt = stmt.where(ti.c.hourly_rate >= query.min_rate)
        if query.max_rate is not None:
            stmt = stmt.where(ti.c.hourly_rate <= query.max_rate)
        if query.min_rating is not None:
            stmt = stmt.where(ti.c.ratings > 0, ti.c.rating_x10 >= int(query.min_rating * 10))
        if query.verified:
            stmt = stmt.where(ti.c.verified == sa.true())
        if query.available:
            stmt = stmt.where(_available(query.today or date.today()))
        if query.viewer_id is not None:
            stmt = stmt.where(*_not_blocked(query.viewer_id))
        return stmt

    def _text_sets(self, text: str, category: str | None) -> TextSets:
        """The profiles with every word, and those with every word in the headline,
        skills or tags (the stronger tier). On SQLite the category is part of the
        full-text match (migration 0022): FTS5 intersects it with the words in its index."""
        terms = search_terms(text)
        if self._dialect == "sqlite":
            # A category is its own column; the words are looked for in the others.
            return TextSets(
                anywhere=fts5_scoped(terms, "{headline bio skills tags}", category),
                strong=fts5_scoped(terms, "{headline skills tags}", category),
            )
        # Every word required, as on SQLite; ":AB" keeps a word to the weights migration
        # 0013 gave the headline (A) and skills and tags (B). Words are \w+ only, so
        # nothing in them is tsquery syntax.
        return TextSets(
            anywhere=" & ".join(terms), strong=" & ".join(f"{t}:AB" for t in terms), pg=True
        )

    def _tier(self, ids: sa.Select[Any], members: Any, walk: bool) -> tiers.Slice:
        """One tier, in record-rank order (SQLite): walked or sorted (storage/tiers.py)."""

        async def read(offset: int, limit: int) -> list[int]:
            page = (
                ids.where(tiers.walk_or_start(ti.c.user_id, members, walk))
                .order_by(ti.c.rank.desc(), ti.c.user_id.desc())
                .offset(offset)
                .limit(limit)
            )
            return [r[0] for r in await self.session.execute(page)]

        return read

    async def _text_page(
        self, ids: sa.Select[Any], sets: TextSets, offset: int, limit: int
    ) -> list[int]:
        """Strong matches by record, then the other matches by record. On SQLite read
        tier by tier, so that neither tier is sorted whole; PostgreSQL scores both
        tiers in one pass over the matches (its per-row tsvector test makes a walk of
        the rank index costly: planned one statement, it runs best)."""
        if sets.pg:
            strong_first = sa.case((sets.pg_match(sets.strong), 1), else_=0).desc()
            page = (
                ids.join(profiles, profiles.c.user_id == ti.c.user_id)
                .where(sets.pg_match(sets.anywhere))
                .order_by(strong_first, ti.c.rank.desc(), ti.c.user_id.desc())
                .offset(offset)
                .limit(limit)
            )
            return [r[0] for r in await self.session.execute(page)]
        anywhere, strong = sets.members(sets.anywhere), sets.members(sets.strong)
        # The sets' sizes in the full-text index alone, counted no further than decides
        # anything: the rest tier is read only when the strong one is shorter than the
        # page's end (at most TALENT_COUNT_CAP).
        enough = tiers.WALK_FROM + TALENT_COUNT_CAP
        n_any, n_strong = (
            await self.session.execute(
                sa.select(sets.size(sets.anywhere, enough), sets.size(sets.strong, enough))
            )
        ).one()
        first = self._tier(ids, strong, tiers.walks(n_strong))
        rest = self._tier(
            ids.where(~ti.c.user_id.in_(strong)), anywhere, tiers.walks(n_any - n_strong)
        )
        return await tiers.two_tiers(first, rest, offset, limit)

    async def _count(self, ids: sa.Select[Any], sets: TextSets | None, skills: list[str]) -> int:
        """All matches, counted up to TALENT_COUNT_CAP. The full-text matches (SQLite) or
        a skill's holders drive the count, streamed until the cap, rather than a walk of
        the whole rank index or a set built whole."""
        if sets is not None:
            ids = sets.join(ids)
        elif skills:
            holder = profile_skills.alias("holder")
            ids = ids.where(holder.c.user_id == ti.c.user_id, holder.c.skill == skills[0])
        return await tiers.capped_count(self.session, ids, TALENT_COUNT_CAP)

    async def _hits(
        self, ids: list[int], today: date, shared: dict[int, int] | None = None, wanted: int = 0
    ) -> list[TalentHit]:
        """The hits for these ids, in their order (one query for the page)."""
        if not ids:
            return []
        stmt = (
            sa.select(*HIT_COLUMNS)
            .select_from(
                ti.join(profiles, profiles.c.user_id == ti.c.user_id).join(
                    users, users.c.id == ti.c.user_id
                )
            )
            .where(ti.c.user_id.in_(ids))
        )
        rows = {r._mapping["user_id"]: r for r in await self.session.execute(stmt)}
        return [_hit(rows[i], today, (shared or {}).get(i, 0), wanted) for i in ids if i in rows]

    async def search(self, query: TalentQuery) -> tuple[list[TalentHit], int]:
        """A page of freelancers, best first, and the number of all matches (counted up
        to TALENT_COUNT_CAP: pages beyond it are not offered)."""
        await self.session.flush()  # Core statements do not autoflush: index this unit's writes
        ids = self._filtered(sa.select(ti.c.user_id), query)
        offset, limit = max(0, query.offset), max(0, min(query.limit, MAX_PAGE))
        sets = self._text_sets(query.text, query.category) if search_terms(query.text) else None
        # PostgreSQL: plans for these values, index walks priced as in memory (planner.py)
        await search_settings(self.session)
        if sets is not None:
            found = await self._text_page(ids, sets, offset, limit)
        else:
            page = ids.order_by(ti.c.rank.desc(), ti.c.user_id.desc()).offset(offset).limit(limit)
            found = [r[0] for r in await self.session.execute(page)]
        total = await self._count(ids, sets, skill_values(query.skills))
        return await self._hits(found, query.today or date.today()), total

    async def invite_candidates(
        self, job: e.Job, viewer_id: int, today: date, limit: int = 8
    ) -> list[TalentHit]:
        """Freelancers for the job, not yet invited or pitching, not in a block with the
        client: most of the job's skills first, then the job's category, then the record
        rank, then newer. Those sharing no skill fill up from the job's category."""
        await self.session.flush()
        free = [
            ti.c.listed == sa.true(),
            *_not_blocked(viewer_id),
            ~sa.exists().where(
                invitations.c.job_id == job.id, invitations.c.freelancer_id == ti.c.user_id
            ),
            ~sa.exists().where(pitches.c.job_id == job.id, pitches.c.freelancer_id == ti.c.user_id),
        ]
        wanted = skill_values(job.skills)
        same_category = ti.c.category == job.category if job.category else sa.false()
        ids: list[int] = []
        shared_by: dict[int, int] = {}
        if wanted:
            # Those with every skill first: the holders of the first skill in record
            # order, an index range (migration 0022), in the job's category and then
            # outside it, each checked for the other skills.
            lead = profile_skills.alias("lead")
            others = [
                sa.exists().where(
                    profile_skills.c.user_id == lead.c.user_id, profile_skills.c.skill == s
                )
                for s in wanted[1:]
            ]
            best = (
                sa.select(lead.c.user_id)
                .join(ti, ti.c.user_id == lead.c.user_id)
                .where(lead.c.skill == wanted[0], *others, *free)
                .order_by(lead.c.rank.desc(), lead.c.user_id.desc())
            )
            tiers = [best.where(lead.c.category == job.category)] if job.category else []
            tiers.append(
                best.where(sa.or_(lead.c.category.is_(None), lead.c.category != job.category))
                if job.category
                else best
            )
            for tier in tiers:
                if len(ids) < limit:
                    found = await self.session.execute(tier.limit(limit - len(ids)))
                    ids += [r[0] for r in found]
            shared_by = dict.fromkeys(ids, len(wanted))
        if len(wanted) > 1 and len(ids) < limit:
            # Then those with some of them. Grouped by "user_id + 0": SQLite would
            # otherwise scan the whole primary key (user_id order) instead of looking
            # the skills up in ix_profile_skills_skill.
            owner = (profile_skills.c.user_id + 0).label("user_id")
            shared = (
                sa.select(owner, sa.func.count().label("shared"))
                .where(profile_skills.c.skill.in_(wanted))
                .group_by(owner)
                .having(sa.func.count() < len(wanted))
                .subquery()
            )
            stmt = (
                sa.select(ti.c.user_id, shared.c.shared)
                .join(shared, shared.c.user_id == ti.c.user_id)
                .where(*free)
                .order_by(
                    shared.c.shared.desc(),
                    sa.case((same_category, 1), else_=0).desc(),
                    ti.c.rank.desc(),
                    ti.c.user_id.desc(),
                )
                .limit(limit - len(ids))
            )
            for user_id, count in await self.session.execute(stmt):
                ids.append(user_id)
                shared_by[user_id] = int(count)
        if len(ids) < limit and job.category:
            stmt = sa.select(ti.c.user_id).where(*free, ti.c.category == job.category)
            if wanted:
                stmt = stmt.where(
                    ~sa.exists().where(
                        profile_skills.c.user_id == ti.c.user_id,
                        profile_skills.c.skill.in_(wanted),
                    )
                )
            stmt = stmt.order_by(ti.c.rank.desc(), ti.c.user_id.desc()).limit(limit - len(ids))
            ids += [r[0] for r in await self.session.execute(stmt)]
        return await self._hits(ids, today, shared_by, len(wanted))

    async def away_users(self, user_ids: Sequence[int], today: date) -> set[int]:
        """Those of these users who are away today (their alerts wait)."""
        if not user_ids:
            return set()
        rows = await self.session.execute(
            sa.select(profiles.c.user_id).where(
                profiles.c.user_id.in_(sorted(set(user_ids))),
                profiles.c.availability == "away",
                sa.or_(profiles.c.away_until.is_(None), profiles.c.away_until >= today),
            )
        )
        return {r[0] for r in rows}
