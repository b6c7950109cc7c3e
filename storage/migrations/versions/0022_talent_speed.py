"""Talent search and invite ranking at 100,000 profiles (issue 14, speed).

1. profile_skills gets the freelancer's category and record rank, with the indexes
   (skill, category, rank, user_id) and (skill, rank, user_id): the best holders of a
   skill, in the job's category or not, are an index range read in order, where invite
   ranking sorted every holder of the job's skills (about 6,000 a skill). The rows are
   rewritten with the talent_index row that they copy (storage/talent_search.py).
2. The freelancer's category in the talent full-text index:

A talent search with words and a category intersected the category's rows with every
match of the words, one row lookup per match: "python" in design read ~14,000 rows to
keep a few hundred. With the category in talent_fts as a column of its own, FTS5
intersects the two in its index (`{category} : "design"`), and the search reads only
the rows it keeps. Words a person types are matched in the other columns only
(storage/talent_search.py). PostgreSQL keeps its tsvector: its planner combines the
GIN index with the category index itself.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = ("talent_fts_insert", "talent_fts_delete", "talent_fts_update")


def _fts(columns: str) -> list[str]:
    """talent_fts over these columns of freelancer_profiles, its triggers, and a rebuild."""
    new = ", ".join(f"new.{c.strip()}" for c in columns.split(","))
    old = ", ".join(f"old.{c.strip()}" for c in columns.split(","))
    return [
        # External content: the index only; the text stays in freelancer_profiles.
        f"""CREATE VIRTUAL TABLE talent_fts USING fts5(
            {columns},
            content='freelancer_profiles', content_rowid='user_id',
            tokenize='porter unicode61 remove_diacritics 2'
        )""",
        f"""CREATE TRIGGER talent_fts_insert AFTER INSERT ON freelancer_profiles BEGIN
            INSERT INTO talent_fts(rowid, {columns}) VALUES (new.user_id, {new});
        END""",
        f"""CREATE TRIGGER talent_fts_delete AFTER DELETE ON freelancer_profiles BEGIN
            INSERT INTO talent_fts(talent_fts, rowid, {columns})
            VALUES ('delete', old.user_id, {old});
        END""",
        f"""CREATE TRIGGER talent_fts_update AFTER UPDATE OF {columns}
            ON freelancer_profiles BEGIN
            INSERT INTO talent_fts(talent_fts, rowid, {columns})
            VALUES ('delete', old.user_id, {old});
            INSERT INTO talent_fts(rowid, {columns}) VALUES (new.user_id, {new});
        END""",
        "INSERT INTO talent_fts(talent_fts) VALUES ('rebuild')",
    ]


def _replace(columns: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS talent_fts")
    for statement in _fts(columns):
        op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table("profile_skills") as batch:
        batch.add_column(sa.Column("category", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("rank", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE profile_skills SET"
        " category = (SELECT t.category FROM talent_index t WHERE t.user_id = profile_skills.user_id),"
        " rank = coalesce((SELECT t.rank FROM talent_index t"
        " WHERE t.user_id = profile_skills.user_id), 0)"
    )
    op.create_index(
        "ix_profile_skills_best", "profile_skills", ["skill", "category", "rank", "user_id"]
    )
    op.create_index("ix_profile_skills_rank", "profile_skills", ["skill", "rank", "user_id"])
    _replace("headline, bio, skills, tags, category")


def downgrade() -> None:
    _replace("headline, bio, skills, tags")
    op.drop_index("ix_profile_skills_rank", table_name="profile_skills")
    op.drop_index("ix_profile_skills_best", table_name="profile_skills")
    with op.batch_alter_table("profile_skills") as batch:
        batch.drop_column("rank")
        batch.drop_column("category")
