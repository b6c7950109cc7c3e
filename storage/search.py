"""Job search, alert audiences and the alerts' bulk write: SqlJobSearch implements
domain.ports.JobSearch.

Full text runs on the machinery the first migration created: the FTS5 table
`jobs_fts` on SQLite (ranked by bm25), the weighted tsvector column
`jobs.search_vector` on PostgreSQL (websearch_to_tsquery, ranked by ts_rank).
Skill and category lookups use the tables storage.skill_index maintains.

Ranking with words is bounded (issue 16, part 1): only the RANK_WINDOW newest
matches (that pass the filters) are scored, by relevance, and paged; the
total stops there too ("1,000+"). Scoring every match of a common word (16,000
of 100,000 jobs for "python") was the slow part, and a marketplace shows fresh
relevant jobs, not the best-worded posting of last year. "Newest" is id order,
which the full-text indexes walk backwards without sorting (FTS5's rowid is the
job's id; PostgreSQL walks pk_jobs backwards for common words and uses the GIN
index for rare ones); a job is numbered when drafted, so a draft published
long after it was written counts as old for this purpose. On PostgreSQL, words
with skills or a category look for that window among the newest jobs with the
skills or of the category first (SqlJobSearch._bounded), where the planner would
read every match.

A job's alerts (issue 16, part 4) are set-based: `alert_audience` reads the
subscription_keys index (storage/skill_index.py) alone — who may get alerts at all
is in the keys (migration 0028) — aggregated in the database; `write_alerts` writes one
fan-out record (the recipients packed, the card once per language and part) that
the outbox sender expands into rows (storage/outbox_store.py).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.entities import AlertSubscription, Job
from domain.matching import comparable_budget
from domain.ports import JOB_COUNT_CAP, AlertAudience, JobQuery
from domain.states import JobStatus
from storage.outbox_store import (
    add_shared_payload,
    drop_shared_payload,
    insert_alert_rows,
    write_fanout,
)
from storage.planner import planner_off, search_settings
from storage.skill_index import ANY, index_values, skill_values, subscription_keys
from storage.sqlite_driver import THREADED_OPTION, ThreadedSession
from storage.tables import (
    dismissals,
    job_skills,
    jobs,
    subscription_categories,
    subscription_skills,
)
from storage.tables import subscriptions as subs
from storage.tiers import capped, capped_count

MAX_QUERY_CHARS = 256  # longer text is cut: nobody searches with an essay
MAX_TERMS = 16
MAX_PAGE = 100
PG_TS_CONFIG = "'english'::regconfig"  # must equal the migration's generated column
# title, description, skills, category (jobs_fts column order, migration 0024): the
# category is matched as a filter, never scored.
BM25_WEIGHTS = (10.0, 4.0, 2.0, 0.0)
# Searches with words rank the newest this many matches (module docstring).
RANK_WINDOW = JOB_COUNT_CAP
# PostgreSQL, words with skills or a category: the window is looked for first among
# this many newest jobs with the skills or of the category (SqlJobSearch._bounded).
CANDIDATES = 4 * RANK_WINDOW
# A bounded try short of the window tries once more, further back, when at least one
# in DENSE candidates matched (SqlJobSearch._after_short_try), up to MAX_CANDIDATES.
DENSE = 10
MAX_CANDIDATES = 4 * CANDIDATES
# A category's first try reads CANDIDATES / PROBE jobs (SqlJobSearch._bounded).
PROBE = 8
# PostgreSQL, words without skills, category or budget: the window is looked for first
# among the jobs of the newest this many ids (SqlJobSearch._recent_first).
RECENT_IDS = 30 * RANK_WINDOW

_WORD = re.compile(r"\w+")
# PostgreSQL: the jobs' generated tsvector column (the migrations add it; tables.py does not map it).
_VECTOR = sa.literal_column("jobs.search_vector")


def _vector(source: Any) -> Any:
    """The search_vector of `source`: the jobs table, or a subquery of its rows."""
    return _VECTOR if source is jobs else source.c.search_vector


# Search statements by their shape (the dialect, which filters are given, how the
# page is read), the values bound at execution: building one and its cache key cost
# ~0.3-1 ms a search, a third of a whole search with words (as SqlRepository keeps
# find() and count(); storage/repository.py). A bounded set of shapes.
_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def with_count(counted: Any, shown: Any, order: Any) -> Any:
    """The jobs of `shown` (a join of jobs and a page's ids) in `order`, each row with
    the columns of `counted` (a subquery of one row, its count first) it is LEFT JOINed
    to: a page past the end (a stale button) is one row, its job None, and costs no
    second statement for the count."""
    return (
        sa.select(Job, *counted.c).select_from(counted.outerjoin(shown, sa.true())).order_by(*order)
    )


def counted_rows(rows: Sequence[Any]) -> tuple[list[Job], int]:
    """The page and the count of a `with_count` statement's rows."""
    return [row[0] for row in rows if row[0] is not None], int(rows[0][1])


def clean_text(text: str) -> str:
    """The person's text without what no database should see: control
    characters (PostgreSQL rejects NUL), lone surrogates, excess length."""
    text = text[:MAX_QUERY_CHARS]
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text).strip()


def search_terms(text: str) -> list[str]:
    """The words of a query, lower case; punctuation, operators' symbols and emoji dropped."""
    return [w.lower() for w in _WORD.findall(clean_text(text))][:MAX_TERMS]


def fts5_string(text: str) -> str:
    """`text` as one FTS5 string (a phrase): quoted, its quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def fts5_query(terms: list[str]) -> str:
    """Every term as a quoted FTS5 string, all required: whatever a person
    types, FTS5 sees no syntax (AND, OR, NEAR, *, ^, : or brackets)."""
    return " ".join(fts5_string(t) for t in terms)


def fts5_scoped(terms: list[str], columns: str, category: str | None = None) -> str:
    """An FTS5 MATCH expression: every term in these columns ("{title skills}"), and
    the category, if any, in a column of its own (jobs_fts, talent_fts and service_fts
    have one: migrations 0022–0024) — so FTS5 intersects the two in its index, and a
    typed word never matches a category. A category without a word in it is left to
    the statement's exact test (table.category = slug), which every search keeps (the
    phrase "design" would also match a slug "web-design")."""
    match = f"{columns} : (" + fts5_query(terms) + ")"
    if category and _WORD.search(category):
        match += " AND {category} : " + fts5_string(category)
    return match


def fts5_match(terms: list[str], category: str | None = None) -> str:
    """The MATCH expression of jobs_fts: the terms in the job's text (title,
    description, skills), and the category in its own column (migration 0024)."""
    return fts5_scoped(terms, "{title description skills}", category)


class SqlJobSearch:
    # write_alerts writes one fan-out record the sender expands; False: every row at
    # publish time, naming the card stored once (how it ran with migration 0025;
    # `python -m bench alerts` prints both side by side).
    fan_out = True

    def __init__(
        self,
        session: AsyncSession,
        rank_window: int | None = RANK_WINDOW,
        candidates: int | None = CANDIDATES,
        recent_ids: int = RECENT_IDS,
    ) -> None:
        # Searches scan: their statements run on aiosqlite's thread (sqlite_driver.py).
        self.session = cast(AsyncSession, ThreadedSession(session))
        # None scores every match (how search ranked before issue 16; bench baseline).
        self.rank_window = rank_window
        # None: no bounded first try on PostgreSQL (how it ran before; tests compare).
        self.candidates = candidates
        self.recent_ids = recent_ids  # _recent_first's range (tests make it small)

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def _filtered(
        self, stmt: sa.Select[Any], query: JobQuery, access: str = "probe", source: Any = jobs
    ) -> sa.Select[Any]:
        """The filters. `access` (SQLite, searches without words) says how the
        planner may reach the matches: "probe" — each candidate's skills by
        primary key (the walks of an index in order); "select" — the skills'
        rows as a set, so the planner may drive from the most selective index
        (job_skills by skill, ix_jobs_open_budget), for a count or a sort of few
        matches; "walk" — as "probe", with the budget columns wrapped so that no
        index is used for them: ix_jobs_open_newest is walked in order. `source`: the
        jobs table, or a subquery of its rows (_category_walk)."""
        value = self._values(query)
        stmt = stmt.where(source.c.status == JobStatus.OPEN)
        if query.category:
            stmt = stmt.where(source.c.category == sa.bindparam("category", value["category"]))
        if value["skills"]:
            wanted = job_skills.c.skill.in_(sa.bindparam("skills", value["skills"], expanding=True))
            if access == "select":
                stmt = stmt.where(source.c.id.in_(sa.select(job_skills.c.job_id).where(wanted)))
            else:
                stmt = stmt.where(sa.exists().where(job_skills.c.job_id == source.c.id, wanted))
        budget, budget_type = source.c.budget, source.c.budget_type
        if access == "walk":  # SQLite uses no index for an expression
            budget, budget_type = budget + 0, budget_type.concat("")
        if query.min_budget > 0:
            stmt = stmt.where(budget >= sa.bindparam("min_budget", value["min_budget"]))
        if query.budget_type:
            stmt = stmt.where(budget_type == sa.bindparam("budget_type", value["budget_type"]))
        if query.exclude_clients:
            stmt = stmt.where(
                source.c.client_id.notin_(
                    sa.bindparam("exclude_clients", value["exclude_clients"], expanding=True)
                )
            )
        if query.exclude_dismissed_by is not None:
            # A primary-key probe of job_dismissals (user_id, job_id) per candidate job.
            stmt = stmt.where(
                ~sa.exists().where(
                    dismissals.c.user_id == sa.bindparam("dismissed_by", value["dismissed_by"]),
                    dismissals.c.job_id == source.c.id,
                )
            )
        return stmt

    def _values(self, query: JobQuery) -> dict[str, Any]:
        """The values a search statement binds, by name (see _filtered, _words)."""
        terms = search_terms(query.text)
        words = None
        if terms:
            sqlite = self._dialect == "sqlite"
            words = fts5_match(terms, query.category) if sqlite else clean_text(query.text)
        return {
            "words": words,
            "category": query.category,
            "skills": skill_values(query.skills),
            "min_budget": query.min_budget,
            "budget_type": query.budget_type,
            "exclude_clients": list(query.exclude_clients),
            "dismissed_by": query.exclude_dismissed_by,
        }

    def _shape(self, query: JobQuery, *how: Any) -> tuple[Any, ...]:
        """What a search statement's text depends on (the values do not)."""
        return (
            self._dialect,
            bool(search_terms(query.text)),
            bool(query.category),
            bool(skill_values(query.skills)),
            query.min_budget > 0,
            bool(query.budget_type),
            bool(query.exclude_clients),
            query.exclude_dismissed_by is not None,
            *how,
        )

    def _kept(self, key: tuple[Any, ...], build: Any) -> Any:
        stmt = _STATEMENTS.get(key)
        if stmt is None:
            stmt = _STATEMENTS[key] = build()
        return stmt

    def _text(self, stmt: sa.Select[Any], query: JobQuery) -> tuple[sa.Select[Any], Any]:
        """Add the full-text condition; returns the statement and its rank
        expression (ascending = better), or None when the query has no words."""
        if not search_terms(query.text):
            return stmt, None
        if self._dialect == "sqlite":
            fts = sa.table("jobs_fts", sa.column("rowid"))
            stmt = stmt.join(fts, fts.c.rowid == jobs.c.id).where(
                sa.literal_column("jobs_fts").op("MATCH")(self._words(query))
            )
            return stmt, sa.func.bm25(sa.literal_column("jobs_fts"), *BM25_WEIGHTS)
        return stmt.where(self._matches(jobs, query)), self._rank(jobs, query)

    def _words(self, query: JobQuery) -> Any:
        """The words, bound: jobs_fts's MATCH expression on SQLite (fts5_match),
        the cleaned text for websearch_to_tsquery on PostgreSQL."""
        return sa.bindparam("words", self._values(query)["words"], type_=sa.String)

    async def search(self, query: JobQuery) -> tuple[list[Job], int]:
        """A page of open jobs, best match first (newest first without text),
        and the number of all matches up to JOB_COUNT_CAP. With words, the
        ranking covers the RANK_WINDOW newest matches (module docstring)."""
        await self.session.flush()  # Core statements do not autoflush
        limit = max(0, min(query.limit, MAX_PAGE))
        offset = max(0, query.offset)
        # PostgreSQL: plans for these values, index walks priced as in memory (planner.py)
        await search_settings(self.session)
        if search_terms(query.text) and self.rank_window is not None:
            return await self._ranked_window(query, self.rank_window, offset, limit)
        if not search_terms(query.text):
            return await self._newest(query, offset, limit)
        ids, total = await self._ranked_all(query, offset, limit)
        if not ids:
            return [], total
        by_ids = self._kept(
            ("jobs by id",),
            lambda: sa.select(Job).where(jobs.c.id.in_(sa.bindparam("ids", expanding=True))),
        )
        found = await self.session.scalars(by_ids, {"ids": ids})
        by_id = {job.id: job for job in found}
        return [by_id[i] for i in ids if i in by_id], total

    async def _ranked_all(self, query: JobQuery, offset: int, limit: int) -> tuple[list[int], int]:
        """With words and no window: every match scored (the ranking before issue
        16; the bench's baseline)."""
        stmt, rank = self._text(self._filtered(sa.select(jobs.c.id), query), query)
        total = await capped_count(self.session, stmt.order_by(None), JOB_COUNT_CAP)
        newest = (jobs.c.published_at.desc(), jobs.c.id.desc())
        ids = list(
            await self.session.scalars(stmt.order_by(rank, *newest).offset(offset).limit(limit))
        )
        return ids, total

    async def _newest(self, query: JobQuery, offset: int, limit: int) -> tuple[list[Job], int]:
        """Without words: newest first. Counted up to JOB_COUNT_CAP (past it nobody
        reads on), with the filters free to use their own indexes. On SQLite the count
        comes first and says how to read the page: none when it is past the end of fewer, the
        matches sorted when they are fewer than the cap, and otherwise a walk of
        ix_jobs_open_newest / ix_jobs_open_category backwards, which meets a page
        of them within a few hundred jobs. (A walk for a rare filter read every
        open job, twice with the count: ~200 ms at 85,000 for an hourly rate of
        $500+; a sort of thousands for a common one, as bad.)"""
        sqlite = self._dialect == "sqlite"
        values = self._values(query)
        pages = {"page_offset": offset, "page_limit": limit}

        def count(access: str) -> Any:
            return capped(self._filtered(sa.select(jobs.c.id), query, access), JOB_COUNT_CAP)

        if not sqlite and not (query.min_budget > 0 or query.budget_type):
            # PostgreSQL plans the count and the page alike whatever the count: both in
            # one statement (one round trip), a page past the end too.
            def counted_page() -> Any:
                return self._page(query, "probe", count("probe"))

            stmt = self._kept(self._shape(query, "newest counted"), counted_page)
            rows = (await self.session.execute(stmt, values | pages)).all()
            return counted_rows(rows)
        counted = self._kept(self._shape(query, "count", "select"), lambda: count("select"))
        total = int(await self.session.scalar(counted, values) or 0)
        if offset >= total and total < JOB_COUNT_CAP:  # past the end (pages go past the cap)
            return [], total
        access = "select" if total < JOB_COUNT_CAP else "walk"
        if not sqlite:
            # A budget filter: PostgreSQL takes budget and type for unrelated (an
            # hourly rate of $500+: ~13,000 jobs expected, none there) and walked every
            # open job for a page of them (55-100 ms at 85,000). Counted first, through
            # ix_jobs_open_budget, as on SQLite: fewer than the cap are read by that
            # index and sorted (_few_page), more by the walk, which meets them soon.
            access = "few" if total < JOB_COUNT_CAP else "probe"
        if access == "few":
            stmt = self._kept(self._shape(query, "newest", access), lambda: self._few_page(query))
        else:
            stmt = self._kept(
                self._shape(query, "newest", access), lambda: self._page(query, access)
            )
        return list(await self.session.scalars(stmt, values | pages)), total

    def _few_page(self, query: JobQuery) -> Any:
        """PostgreSQL: a page of the newest jobs that pass the filters, when fewer than
        JOB_COUNT_CAP do: every match found first (a MATERIALIZED CTE, so the planner
        reads them through the filters' own indexes), sorted and paged, then the
        page's jobs read."""
        matches = (
            self._filtered(sa.select(jobs.c.id, jobs.c.published_at), query, "select")
            .cte("matches")
            .prefix_with("MATERIALIZED")
        )
        ids = (
            sa.select(matches.c.id, matches.c.published_at)
            .order_by(matches.c.published_at.desc(), matches.c.id.desc())
            .offset(sa.bindparam("page_offset", type_=sa.Integer))
            .limit(sa.bindparam("page_limit", type_=sa.Integer))
            .subquery("page")
        )
        return (
            sa.select(Job)
            .join(ids, ids.c.id == jobs.c.id)
            .order_by(ids.c.published_at.desc(), ids.c.id.desc())
        )

    def _page(self, query: JobQuery, access: str, counted: Any = None) -> Any:
        """A page of the newest jobs that pass the filters: the page's ids found, then
        their jobs, in one statement. `counted`, a statement of one count: each row
        has it too, and a page past the end is one row of it, its job None."""
        # An open job always has published_at: publishing sets it. (SQLite puts NULLs
        # last in DESC order anyway; PostgreSQL would put them first.)
        newest = (jobs.c.published_at.desc(), jobs.c.id.desc())
        ids = (
            self._filtered(sa.select(jobs.c.id), query, access)
            .order_by(*newest)
            .offset(sa.bindparam("page_offset", type_=sa.Integer))
            .limit(sa.bindparam("page_limit", type_=sa.Integer))
            .subquery("page")
        )
        shown = jobs.join(ids, ids.c.id == jobs.c.id)
        if counted is None:
            return sa.select(Job).select_from(shown).order_by(*newest)
        return with_count(counted.subquery("counted"), shown, newest)

    def window(self, query: JobQuery, window: int, bounded: bool = False) -> Any:
        """The CTE of the `window` newest matches of the words that pass the
        filters — (id, rank: ascending = better, published_at) — walked in
        descending id order from the full-text index with the LIMIT inside, and
        scored once kept: only the window's rows are scored. `bounded` (PostgreSQL):
        looked for among the newest `candidates` jobs of the category or with the
        skills only (_bounded), or, for words alone, among the jobs of the newest
        `candidates` ids (_recent_first)."""
        size = sa.bindparam("window", window, type_=sa.Integer)
        if self._dialect == "sqlite":
            fts = sa.table("jobs_fts", sa.column("rowid"))
            # EXPLAIN QUERY PLAN: "SCAN jobs_fts VIRTUAL TABLE INDEX 192:M…" (192:
            # FTS5 consumes ORDER BY rowid DESC, walking its doclists backwards with
            # no sort, and stops at the LIMIT), then jobs by primary key; bm25 runs
            # for the rows kept only. tests/storage/test_search_window.py checks it.
            found = sa.select(
                fts.c.rowid.label("id"),
                sa.func.bm25(sa.literal_column("jobs_fts"), *BM25_WEIGHTS).label("rank"),
                jobs.c.published_at,
            ).select_from(fts.join(jobs, jobs.c.id == fts.c.rowid))
            found = found.where(sa.literal_column("jobs_fts").op("MATCH")(self._words(query)))
            newest_first = fts.c.rowid.desc()
            return self._filtered(found, query).order_by(newest_first).limit(size).cte("recent")
        if bounded and skill_values(query.skills):
            return self._skill_walk(query, size)
        if bounded and query.category:
            return self._category_walk(query, size)
        # ORDER BY id DESC with the LIMIT inside: the planner walks pk_jobs
        # backwards testing @@ on each row when the words are common (it stops
        # at the window), and takes the GIN index then a top-N sort when they
        # are rare; either way no sequential scan of every job. Scored once
        # kept: under the sort, ts_rank ran for every match, not the window's
        # (4,474 rows for "booking bot": 8.3 ms, 6.0 ms so).
        found = sa.select(jobs.c.id, jobs.c.published_at, _VECTOR.label("search_vector"))
        found = found.where(self._matches(jobs, query))
        if bounded:  # the newest `candidates` ids only (_recent_first)
            newest = sa.select(sa.func.max(jobs.c.id)).scalar_subquery()
            found = found.where(jobs.c.id > newest - sa.bindparam("candidates", type_=sa.Integer))
        kept = self._filtered(found, query).order_by(jobs.c.id.desc()).limit(size)
        return self._ranked(kept.subquery("kept"), query).cte("recent")

    def _tsquery(self, query: JobQuery) -> Any:
        return sa.func.websearch_to_tsquery(sa.literal_column(PG_TS_CONFIG), self._words(query))

    def _matches(self, source: Any, query: JobQuery) -> Any:
        """PostgreSQL: the condition that a row of `source` (jobs, or a subquery of
        its rows with their search_vector) matches the words."""
        return _vector(source).op("@@")(self._tsquery(query))

    def _rank(self, source: Any, query: JobQuery) -> Any:
        """PostgreSQL: a row's rank (ascending = better) for the words."""
        return -sa.func.ts_rank(_vector(source), self._tsquery(query))

    def _ranked(self, source: Any, query: JobQuery) -> sa.Select[Any]:
        """PostgreSQL: (id, rank, published_at) of the rows of `source` (jobs, or a
        subquery of its rows with their search_vector), scored."""
        rank = self._rank(source, query).label("rank")
        return sa.select(source.c.id, rank, source.c.published_at)

    def _scored(self, source: Any, query: JobQuery) -> sa.Select[Any]:
        """_ranked, for the rows that match the words."""
        return self._ranked(source, query).where(self._matches(source, query))

    def _skill_walk(self, query: JobQuery, size: Any) -> Any:
        """PostgreSQL: the window CTE looked for among the newest `candidates` jobs with
        the query's skills (ix_job_skills_skill walked backwards, whatever the jobs'
        state), each tested by primary key in turn, newest first, until the window is
        full. A LATERAL subquery with LIMIT 1 is never flattened into a join, so the
        planner cannot trade the walk for a hash join of every match (which it prices
        lower, not knowing that words and skills go together)."""
        skill = job_skills.c.skill.in_(sa.bindparam("skills", expanding=True))
        candidates = (
            sa.select(job_skills.c.job_id.label("id"))
            .where(skill)
            .distinct()
            .order_by(job_skills.c.job_id.desc())
            .limit(sa.bindparam("candidates", type_=sa.Integer))
            .subquery("candidates")
        )
        query = replace(query, skills=())  # the candidates have them
        one = self._filtered(self._scored(jobs, query).where(jobs.c.id == candidates.c.id), query)
        match = one.limit(1).lateral("match")
        return (
            sa.select(match.c.id, match.c.rank, match.c.published_at)
            .select_from(candidates.join(match, sa.true()))
            .order_by(candidates.c.id.desc())
            .limit(size)
            .cte("recent")
        )

    def _category_walk(self, query: JobQuery, size: Any) -> Any:
        """PostgreSQL: the window CTE looked for among the newest `candidates` open jobs
        of the category: ix_jobs_open_category_id walked backwards, at most that far
        (the subquery's LIMIT), the words and the other filters tested on each row."""
        walked = (
            sa.select(jobs, _VECTOR.label("search_vector"))
            .where(jobs.c.status == JobStatus.OPEN, jobs.c.category == sa.bindparam("category"))
            .order_by(jobs.c.id.desc())
            .limit(sa.bindparam("candidates", type_=sa.Integer))
            .subquery("walked")
        )
        found = self._filtered(self._scored(walked, query), query, source=walked)
        return found.order_by(walked.c.id.desc()).limit(size).cte("recent")

    def _bounded(self, query: JobQuery) -> bool:
        """Whether a search first looks for its window among the newest `candidates`
        jobs with its skills (_skill_walk) or of its category (_category_walk).

        PostgreSQL plans words with a skill or a category as if the two were
        unrelated. Often they are not, and the plan reads thousands of rows it does
        not need: for "brand" with branding it expects ~950 matches of the 8,800
        there are, so it hashes every job with the skill against every match read
        from the heap to keep the newest 1,000 (16-17 ms at 100,000 jobs); "logo" in
        design, the same with a bitmap of both indexes (13 ms); and "logo" in
        development, where it occurs in no job, it expects enough to walk the
        category backwards and stop early, and walks all 31,000 of it (16 ms).
        A skill's first try reads at most 4,000 jobs with it (3-5 ms: each probed by
        primary key) and holds the window whenever a quarter of them match. A
        category's reads its newest 500 open jobs only (~1 ms): it rarely fills the
        window, but says how often the words occur there, and _after_short_try
        sizes a second walk by that, or, when almost none matched, has the planner
        intersect the indexes ("logo" in development: 3.5 ms instead of 16). Over the
        bench's mix (same database, alternating rounds, bench/README.md) words with a
        category went from p50 5.0-5.5 / p95 14.7-15.7 ms to 6.6-7.0 / 10.3-10.8 ms,
        the whole mix's p99 from 17-18 to 12 ms."""
        return (
            self.candidates is not None
            and self._dialect == "postgresql"
            and bool(query.category or skill_values(query.skills))
        )

    def _recent_first(self, query: JobQuery) -> bool:
        """Whether a search with words alone (no skills, category or budget) looks for its
        window first among the jobs of the newest RECENT_IDS ids (PostgreSQL).

        Without a bound the planner either walks pk_jobs backwards testing @@ on
        each row until the window is full — ~20,000 rows for a word in one open
        job in twenty, 5-6 ms at 100,000 jobs — or, for two words or rarer ones,
        reads every match from the GIN index and sorts them (4,474 heap rows for
        "booking bot": 6 ms). Bounded to the newest 30,000 ids it intersects the
        GIN index with that range and reads the matches there only: 2.8 ms for
        "seo" and "clinic", 3.3 for "booking bot"; a common word still takes the
        walk (1.0 ms for "design", as before). Held whenever the range holds the
        whole window, which is then exact (the window is the newest matches);
        else the search runs unbounded, the try's cost lost (a rare word's: its
        few matches, ~0.1 ms on the server). Not with a budget filter: few of the
        range's matches pass it, the try fell short and doubled the cost (the
        bench's words with a budget: p95 10.9 -> 18.7 ms)."""
        return (
            self.candidates is not None
            and self._dialect == "postgresql"
            and not (query.category or skill_values(query.skills))
            and not (query.min_budget > 0 or query.budget_type)
        )

    async def _ranked_window(
        self, query: JobQuery, window: int, offset: int, limit: int
    ) -> tuple[list[Job], int]:
        """With words: the window's jobs by rank, then newest (as before), paged,
        and counted, with the page's jobs, in one statement (up to three when a
        bounded try finds the window short: _recent_first, _bounded, _after_short_try)."""
        if await self._out_of_budget(query):
            return [], 0
        if self._recent_first(query):
            page, total, everything = await self._window_page(
                query, window, offset, limit, self.recent_ids
            )
            # The window is whole, or the range held every job (fewer ids than it
            # spans: a young marketplace): either way it is exact.
            if total >= window or everything:
                return page, total
            return await self._unbounded(query, window, offset, limit)
        if not self._bounded(query) or self.candidates is None:
            return await self._unbounded(query, window, offset, limit)
        # A category's first try only measures how often its jobs match: a walk
        # sized by that follows (_after_short_try).
        tried = self.candidates if skill_values(query.skills) else self.candidates // PROBE
        page, total, _ = await self._window_page(query, window, offset, limit, tried)
        if total >= window:  # the window is whole: it is exact
            return page, total
        return await self._after_short_try(query, window, offset, limit, tried, total)

    async def _after_short_try(
        self,
        query: JobQuery,
        window: int,
        offset: int,
        limit: int,
        tried: int,
        found: int,
    ) -> tuple[list[Job], int]:
        """The newest `tried` candidates held fewer matches than the window. At least
        one in DENSE of them matched: once more, as far back as that many matches a
        candidate promise, with a quarter to spare (a category's walk of ~8,000 rows
        costs ~3 ms; the planner's plan for the same search 6-7 ms). Fewer, or short
        again: the full-text index intersected with the filters' (the planner's walk
        of a category with none of the words read all of it). `found`: the first
        try's matches (counted whatever page was asked for)."""
        if found * DENSE >= tried:
            wider = min(math.ceil(window * tried / found * 1.25), MAX_CANDIDATES)
            page, total, _ = await self._window_page(query, window, offset, limit, wider)
            if total >= window:
                return page, total
        async with planner_off(self.session, "indexscan"):
            return await self._unbounded(query, window, offset, limit)

    async def _unbounded(
        self, query: JobQuery, window: int, offset: int, limit: int
    ) -> tuple[list[Job], int]:
        """The window's page and count, looked for among every job."""
        page, total, _ = await self._window_page(query, window, offset, limit)
        return page, total

    async def _window_page(
        self,
        query: JobQuery,
        window: int,
        offset: int,
        limit: int,
        candidates: int | None = None,
    ) -> tuple[list[Job], int, bool]:
        """The page, the count, and for _recent_first's try whether its range of ids
        held every job (then a short window is exact too); one statement."""
        values = self._values(query) | {"window": window}
        bounded = candidates is not None
        if bounded:
            values["candidates"] = candidates
        recent_try = bounded and self._recent_first(query)  # else a category's or skill's

        def page() -> Any:
            # The count LEFT JOIN the page's jobs: one row at least, so a page past the
            # end (a stale button) is counted by the same statement; its job is None.
            recent = self.window(query, window, bounded)
            columns = [sa.func.count()]
            if recent_try:  # the newest id within the range's span: it held every job
                newest = sa.select(sa.func.max(jobs.c.id)).scalar_subquery()
                columns.append(newest <= sa.bindparam("candidates", type_=sa.Integer))
            counted = sa.select(*columns).select_from(recent).subquery("counted")
            order = (recent.c.rank, recent.c.published_at.desc(), recent.c.id.desc())
            ids = (
                sa.select(recent.c.id, recent.c.rank, recent.c.published_at)
                .order_by(*order)
                .offset(sa.bindparam("page_offset", type_=sa.Integer))
                .limit(sa.bindparam("page_limit", type_=sa.Integer))
                .subquery("page")
            )
            shown = jobs.join(ids, ids.c.id == jobs.c.id)
            return with_count(
                counted, shown, (ids.c.rank, ids.c.published_at.desc(), ids.c.id.desc())
            )

        stmt = self._kept(self._shape(query, "window", bounded), page)
        page_values = values | {"page_offset": offset, "page_limit": limit}
        rows = (await self.session.execute(stmt, page_values)).all()
        page, total = counted_rows(rows)
        return page, total, bool(rows[0][2]) if recent_try else False

    async def _out_of_budget(self, query: JobQuery) -> bool:
        """SQLite, words with a budget filter: does no open job at all meet the budget?
        Then nothing matches, said by one probe of ix_jobs_open_budget (~0.01 ms);
        the FTS5 walk cannot use that index and read every match of the words to find
        none (~20 ms for a common word and an hourly rate of $500+). PostgreSQL's
        planner intersects its GIN and budget indexes itself."""
        if self._dialect != "sqlite" or not (query.min_budget > 0 or query.budget_type):
            return False

        # The query's budget filters alone, as _filtered writes them.
        budget = JobQuery(min_budget=query.min_budget, budget_type=query.budget_type)

        def probe() -> Any:
            return sa.select(sa.exists(self._filtered(sa.select(jobs.c.id), budget, "select")))

        shape = self._shape(budget, "budget probe")
        found = await self.session.scalar(
            self._kept(shape, probe),
            {"min_budget": query.min_budget, "budget_type": query.budget_type},
            execution_options={THREADED_OPTION: False},  # an index probe: no hop
        )
        return not found

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

    async def alert_audience(
        self, job: Job, mode: str, exclude: Sequence[int], today: date | None
    ) -> AlertAudience:
        """domain.ports.JobSearch.alert_audience, through subscription_keys
        (storage/skill_index.py): range reads of its covering index (not barred,
        mode, the job's category or ANY, one of its skills or ANY, min_budget up to
        the job's; not away on `today`), the distinct users aggregated in the
        database (one value back, not a row per key: json_group_array / array_agg);
        and the keywords of the subscriptions that name any. The keys hold exactly
        what domain.matching compares (categories are taxonomy slugs; skills their
        skill_key, at most MAX_SKILL_LEN = 32 characters, under the tables' 64), so
        a subscription without keywords is decided here; keywords (whole words,
        synonyms, exclusions) are domain.matching's. Who may get alerts at all
        (banned, not a freelancer, away) is in the keys too, kept by the database's
        triggers (migration 0028): no table but the index is read."""
        await self.session.flush()  # Core statements do not autoflush
        pg = self._dialect == "postgresql"
        values: dict[str, Any] = {
            "mode": mode,
            "categories": [*index_values([job.category] if job.category else []), ANY],
            "skills": [*skill_values(job.skills), ANY],
            "client_id": job.client_id,
            "budget": comparable_budget(job),
            "exclude": sorted(set(exclude)),
            "today": today,
        }
        # Kept by shape, the values bound (as the searches' statements): building
        # and compiling this statement anew cost ~0.8 ms of a ~8 ms audience.
        shape = ("audience", pg, job.budget > 0, bool(exclude), today is not None)
        stmt = self._kept(shape, lambda: self._audience_statement(*shape[1:]))
        plain, keyworded = (await self.session.execute(stmt, values)).one()
        if not pg:
            plain, keyworded = json.loads(plain or "[]"), json.loads(keyworded or "[]")
        plain, keyworded = plain or [], keyworded or []
        checks: list[tuple[int, tuple[str, ...]]] = []
        keyworded = sorted(keyworded)
        for first in range(0, len(keyworded), 500):
            keyed = await self.session.execute(
                sa.select(subs.c.user_id, subs.c.keywords)
                .where(subs.c.id.in_(keyworded[first : first + 500]))
                .order_by(subs.c.id)
            )
            checks += [(user_id, tuple(words or ())) for user_id, words in keyed.all()]
        return AlertAudience(users=tuple(sorted(plain)), keyword_subscriptions=tuple(checks))

    def _audience_statement(self, pg: bool, budget: bool, exclude: bool, away: bool) -> Any:
        """alert_audience's statement of this shape; values bound by name (mode,
        categories, skills, client_id, budget, exclude, today)."""
        keys = subscription_keys

        def gathered(column: Any, keyworded: bool) -> Any:
            which = keys.c.keywords if keyworded else ~keys.c.keywords
            if pg:
                return sa.func.array_agg(sa.distinct(column)).filter(which)
            return sa.func.json_group_array(sa.distinct(column)).filter(which)

        # The index alone (covering): who may match, by category, skill, budget —
        # the users of subscriptions without keywords, and the subscriptions with.
        matching = [
            keys.c.barred == sa.false(),  # the index's first column: an equality
            keys.c.mode == sa.bindparam("mode"),
            keys.c.category.in_(sa.bindparam("categories", expanding=True)),
            keys.c.skill.in_(sa.bindparam("skills", expanding=True)),
            keys.c.user_id != sa.bindparam("client_id"),
        ]
        if budget:  # the budget rule of domain.matching, as a range
            matching.append(keys.c.min_budget <= sa.bindparam("budget"))
        if exclude:
            matching.append(keys.c.user_id.notin_(sa.bindparam("exclude", expanding=True)))
        if away:  # away through `today` (inclusive): their alerts wait (domain/talent.py)
            today = sa.bindparam("today", type_=sa.Date)
            matching.append(sa.or_(keys.c.away_until.is_(None), keys.c.away_until < today))
        return sa.select(
            gathered(keys.c.user_id, False), gathered(keys.c.subscription_id, True)
        ).where(*matching)

    async def write_alerts(
        self,
        user_ids: Sequence[int],
        messages: dict[str, list[dict[str, Any]]],
        default_language: str,
        *,
        priority: int,
        created_at: datetime,
        method: str = "send",
    ) -> int:
        """domain.ports.JobSearch.write_alerts: one fan-out record (the recipients
        packed, the card once per language and part) that the outbox sender expands
        into rows a chunk at a time (storage/outbox_store.py); the recipients. The
        rows it becomes are what this wrote at publish time before: for each
        recipient who is reachable, one per part of the card in their language."""
        if not user_ids or not messages:
            return 0
        if self.fan_out:
            await write_fanout(
                self.session,
                user_ids,
                messages,
                default_language,
                priority=priority,
                created_at=created_at,
                method=method,
            )
            return len(set(user_ids))
        # As with migration 0025: every row now, each naming the card stored once.
        parts: dict[str, list[tuple[dict[str, Any], int | None]]] = {}
        for language, payloads in messages.items():
            for payload in payloads:
                shared = await add_shared_payload(self.session, payload, created_at)
                parts.setdefault(language, []).append(({}, shared))
        written = await insert_alert_rows(
            self.session,
            user_ids,
            parts,
            default_language,
            method=method,
            priority=priority,
            created_at=created_at,
        )
        for shared, rows in written.items():
            if shared is not None and not rows:  # nobody of this language
                await drop_shared_payload(self.session, shared)
        return sum(written.values())
