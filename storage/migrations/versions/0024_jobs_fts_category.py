"""Job search (issue 16, part 1): the job's category in the jobs' full-text index.

A search with words and a category walked the words' matches newest first and
looked each one up in jobs to test its category: "python" in design read all
~16,000 matches of "python" at 100,000 jobs to find the few in design. With the
category in jobs_fts as a column of its own, FTS5 intersects the two in its index
(`{category} : "design"`), and the walk reads only the rows it keeps. Words a
person types are matched in the text columns only (storage/search.py), so a job
in design is not found by the word "design" unless its text has it. The same was
done for talent (0022) and services (0023). PostgreSQL keeps its tsvector: its
planner combines the GIN index with the category index itself.

ix_jobs_open_budget (status, budget_type, budget): a search without words and with
a budget filter counts its matches from this index, and sorts them when they are
few, instead of walking every open job newest first (an hourly rate of $500+
matched none of 85,000 open jobs: two walks of all of them, ~200 ms).

ix_jobs_open_category_id (status, category, id): on PostgreSQL, words and a category
walk the category's open jobs newest first testing the words on each, instead of
every job (pk_jobs): "python" in design, which has almost none, read all 100,000
jobs (~17-50 ms); now the ~13,000 in design (~6 ms), and a common pair stops at the
window as before. SQLite's words meet the category inside jobs_fts (above).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = ("jobs_fts_insert", "jobs_fts_delete", "jobs_fts_update")


def _fts(columns: list[str]) -> list[str]:
    """jobs_fts over these columns of jobs, its triggers, and a rebuild (as in 0001)."""
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        # External content: the index only; the text stays in jobs.
        f"""CREATE VIRTUAL TABLE jobs_fts USING fts5(
            {cols},
            content='jobs', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        )""",
        f"""CREATE TRIGGER jobs_fts_insert AFTER INSERT ON jobs BEGIN
            INSERT INTO jobs_fts(rowid, {cols}) VALUES (new.id, {new});
        END""",
        f"""CREATE TRIGGER jobs_fts_delete AFTER DELETE ON jobs BEGIN
            INSERT INTO jobs_fts(jobs_fts, rowid, {cols}) VALUES ('delete', old.id, {old});
        END""",
        # Only indexed columns re-index; status changes (the frequent ones) do not.
        f"""CREATE TRIGGER jobs_fts_update AFTER UPDATE OF {cols} ON jobs BEGIN
            INSERT INTO jobs_fts(jobs_fts, rowid, {cols}) VALUES ('delete', old.id, {old});
            INSERT INTO jobs_fts(rowid, {cols}) VALUES (new.id, {new});
        END""",
        "INSERT INTO jobs_fts(jobs_fts) VALUES ('rebuild')",
    ]


def _replace(columns: list[str]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS jobs_fts")
    for statement in _fts(columns):
        op.execute(statement)


def upgrade() -> None:
    _replace(["title", "description", "skills", "category"])
    op.create_index("ix_jobs_open_budget", "jobs", ["status", "budget_type", "budget"])
    op.create_index("ix_jobs_open_category_id", "jobs", ["status", "category", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_open_category_id", table_name="jobs")
    op.drop_index("ix_jobs_open_budget", table_name="jobs")
    _replace(["title", "description", "skills"])
