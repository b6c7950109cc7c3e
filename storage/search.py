"""Job search and alert candidates: SqlJobSearch implements domain.ports.JobSearch.

Full text runs on the machinery the first migration created: the FTS5 table
`jobs_fts` on SQLite (ranked by bm25), the weighted tsvector column
`jobs.search_vector` on PostgreSQL (websearch_to_tsquery, ranked by ts_rank).
Skill and category lookups use the tables storage.skill_index maintains.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.entities import AlertSubscription, Job
from domain.matching import comparable_budget
from domain.ports import JOB_COUNT_CAP, JobQuery
from domain.states import JobStatus
from storage.skill_index import ANY, index_values, skill_values
from storage.tables import (
    dismissals,
    job_skills,
    jobs,
    subscription_categories,
    subscription_skills,
)
from storage.tables import subscriptions as subs

MAX_QUERY_CHARS = 256  # longer text is cut: nobody searches with an essay
MAX_TERMS = 16
MAX_PAGE = 100
PG_TS_CONFIG = "'english'::regconfig"  # must equal the migration's generated column
BM25_WEIGHTS = (10.0, 4.0, 2.0)  # title, description, skills (jobs_fts column order)

_WORD = re.compile(r"\w+")


def clean_text(text: str) -> str:
    """The person's text without what no database should see: control
    characters (PostgreSQL rejects NUL), lone surrogates, excess length."""
    text = text[:MAX_QUERY_CHARS]
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text).strip()


def search_terms(text: str) -> list[str]:
    """The words of a query, lower case; punctuation, operators' symbols and emoji dropped."""
    return [w.lower() for w in _WORD.findall(clean_text(text))][:MAX_TERMS]


def fts5_query(terms: list[str]) -> str:
    """Every term as a quoted FTS5 string, all required: whatever a person
    types, FTS5 sees no syntax (AND, OR, NEAR, *, ^, : or brackets)."""
    return " ".join(f'"{t}"' for t in terms)


class SqlJobSearch:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def _filtered(self, stmt: sa.Select[Any], query: JobQuery) -> sa.Select[Any]:
        stmt = stmt.where(jobs.c.status == JobStatus.OPEN)
        if query.category:
            stmt = stmt.where(jobs.c.category == query.category)
        skills = skill_values(query.skills)
        if skills:
            stmt = stmt.where(
                sa.exists().where(job_skills.c.job_id == jobs.c.id, job_skills.c.skill.in_(skills))
            )
        if query.min_budget > 0:
            stmt = stmt.where(jobs.c.budget >= query.min_budget)
        if query.budget_type:
            stmt = stmt.where(jobs.c.budget_type == query.budget_type)
        if query.exclude_clients:
            stmt = stmt.where(jobs.c.client_id.notin_(query.exclude_clients))
        if query.exclude_dismissed_by is not None:
            # A primary-key probe of job_dismissals (user_id, job_id) per candidate job.
            stmt = stmt.where(
                ~sa.exists().where(
                    dismissals.c.user_id == query.exclude_dismissed_by,
                    dismissals.c.job_id == jobs.c.id,
                )
            )
        return stmt

    def _text(self, stmt: sa.Select[Any], query: JobQuery) -> tuple[sa.Select[Any], Any]:
        """Add the full-text condition; returns the statement and its rank
        expression (ascending = better), or None when the query has no words."""
        if not search_terms(query.text):
            return stmt, None
        if self._dialect == "sqlite":
            fts = sa.table("jobs_fts", sa.column("rowid"))
            stmt = stmt.join(fts, fts.c.rowid == jobs.c.id).where(
                sa.literal_column("jobs_fts").op("MATCH")(fts5_query(search_terms(query.text)))
            )
            return stmt, sa.func.bm25(sa.literal_column("jobs_fts"), *BM25_WEIGHTS)
        vector = sa.literal_column("jobs.search_vector")
        tsquery = sa.func.websearch_to_tsquery(
            sa.literal_column(PG_TS_CONFIG), clean_text(query.text)
        )
        stmt = stmt.where(vector.op("@@")(tsquery))
        return stmt, -sa.func.ts_rank(vector, tsquery)

    async def search(self, query: JobQuery) -> tuple[list[Job], int]:
        """A page of open jobs, best match first (newest first without text),
        and the number of all matches up to JOB_COUNT_CAP."""
        await self.session.flush()  # Core statements do not autoflush
        stmt, rank = self._text(self._filtered(sa.select(jobs.c.id), query), query)
        # Counted up to JOB_COUNT_CAP: past it nobody reads on, and counting every
        # match of a common word at 100k jobs cost more than the page itself.
        capped = stmt.order_by(None).limit(JOB_COUNT_CAP).subquery()
        total = await self.session.scalar(sa.select(sa.func.count()).select_from(capped))
        # Newest first walks ix_jobs_open_newest / ix_jobs_open_category backwards.
        # (An open job always has published_at: publishing sets it. SQLite puts
        # NULLs last in DESC order anyway; PostgreSQL would put them first.)
        newest = (jobs.c.published_at.desc(), jobs.c.id.desc())
        stmt = stmt.order_by(*((rank, *newest) if rank is not None else newest))
        limit = max(0, min(query.limit, MAX_PAGE))
        # The page's ids first (the sort carries ids, not whole rows), then its jobs.
        ids = list(await self.session.scalars(stmt.offset(max(0, query.offset)).limit(limit)))
        if not ids:
            return [], int(total or 0)
        found = await self.session.scalars(sa.select(Job).where(jobs.c.id.in_(ids)))
        by_id = {job.id: job for job in found}
        return [by_id[i] for i in ids if i in by_id], int(total or 0)

    async def subscriptions_for(self, job: Job, mode: str | None = None) -> list[AlertSubscription]:
        """Unpaused subscriptions of other users (of `mode`, if given) that may match
        the job: naming none of the skills or a skill of the job, and naming no
        category or the job's. A superset; domain.matching.job_matches decides.
        Found through the lookup tables' indexes alone: a subscription naming no
        skills (categories) is indexed under skill_index.ANY."""
        skills = [*skill_values(job.skills), ANY]
        categories = [*index_values([job.category] if job.category else []), ANY]
        stmt = (
            sa.select(AlertSubscription)
            .where(
                subs.c.id.in_(
                    sa.select(subscription_skills.c.subscription_id).where(
                        subscription_skills.c.skill.in_(skills)
                    )
                ),
                subs.c.id.in_(
                    sa.select(subscription_categories.c.subscription_id).where(
                        subscription_categories.c.category.in_(categories)
                    )
                ),
                subs.c.paused.is_(False),
                subs.c.user_id != job.client_id,
            )
            .order_by(subs.c.id)
        )
        if mode is not None:
            stmt = stmt.where(subs.c.mode == mode)
        if job.budget > 0:  # the budget rule of domain.matching, as a filter
            stmt = stmt.where(subs.c.min_budget <= comparable_budget(job))
        return list((await self.session.scalars(stmt)).all())
