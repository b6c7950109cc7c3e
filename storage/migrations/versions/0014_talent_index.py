"""Talent search: availability on profiles, the talent index, profile skills, and
full text over headlines, bios and skills (FTS5 on SQLite, tsvector on PostgreSQL).

Existing profiles are indexed here (their record computed once, by the same rule
storage/talent_search.py applies on every later write).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_FTS = [
    # External content: the index only; the text stays in freelancer_profiles.
    """CREATE VIRTUAL TABLE talent_fts USING fts5(
        headline, bio, skills, tags,
        content='freelancer_profiles', content_rowid='user_id',
        tokenize='porter unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER talent_fts_insert AFTER INSERT ON freelancer_profiles BEGIN
        INSERT INTO talent_fts(rowid, headline, bio, skills, tags)
        VALUES (new.user_id, new.headline, new.bio, new.skills, new.tags);
    END""",
    """CREATE TRIGGER talent_fts_delete AFTER DELETE ON freelancer_profiles BEGIN
        INSERT INTO talent_fts(talent_fts, rowid, headline, bio, skills, tags)
        VALUES ('delete', old.user_id, old.headline, old.bio, old.skills, old.tags);
    END""",
    """CREATE TRIGGER talent_fts_update AFTER UPDATE OF headline, bio, skills, tags
        ON freelancer_profiles BEGIN
        INSERT INTO talent_fts(talent_fts, rowid, headline, bio, skills, tags)
        VALUES ('delete', old.user_id, old.headline, old.bio, old.skills, old.tags);
        INSERT INTO talent_fts(rowid, headline, bio, skills, tags)
        VALUES (new.user_id, new.headline, new.bio, new.skills, new.tags);
    END""",
    "INSERT INTO talent_fts(talent_fts) VALUES ('rebuild')",
]

POSTGRES_FTS = [
    # Headline weighs most (A), then skills and tags (B), then the bio (C).
    """ALTER TABLE freelancer_profiles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(headline, '')), 'A')
        || setweight(to_tsvector('english'::regconfig,
                     coalesce(skills::text, '') || ' ' || coalesce(tags::text, '')), 'B')
        || setweight(to_tsvector('english'::regconfig, coalesce(bio, '')), 'C')
    ) STORED""",
    "CREATE INDEX ix_freelancer_profiles_search_vector ON freelancer_profiles"
    " USING gin (search_vector)",
]


def upgrade() -> None:
    with op.batch_alter_table("freelancer_profiles") as batch:
        batch.add_column(
            sa.Column(
                "availability", sa.String(length=10), nullable=False, server_default="available"
            )
        )
        batch.add_column(sa.Column("away_until", sa.Date(), nullable=True))
    op.create_table(
        "talent_index",
        sa.Column("user_id", BigInt, nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("hourly_rate", sa.BigInteger(), nullable=True),
        sa.Column("availability", sa.String(length=10), nullable=False),
        sa.Column("away_until", sa.Date(), nullable=True),
        sa.Column("rating_x10", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("completeness", sa.Integer(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_talent_index_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_talent_index")),
    )
    op.create_index("ix_talent_index_rank", "talent_index", ["listed", "rank", "user_id"])
    op.create_index("ix_talent_index_category", "talent_index", ["category", "rank", "user_id"])
    op.create_table(
        "profile_skills",
        sa.Column("user_id", BigInt, nullable=False),
        sa.Column("skill", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_profile_skills_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "skill", name=op.f("pk_profile_skills")),
    )
    op.create_index("ix_profile_skills_skill", "profile_skills", ["skill", "user_id"])
    dialect = op.get_bind().dialect.name
    statements = {"sqlite": SQLITE_FTS, "postgresql": POSTGRES_FTS}.get(dialect)
    if statements is None:
        raise NotImplementedError(f"no full-text search for {dialect}")
    for statement in statements:
        op.execute(statement)
    _index_existing_profiles()


def _index_existing_profiles() -> None:
    # The application's own rule, once, for the profiles there are.
    from storage.talent_search import refresh_talent

    connection = op.get_bind()
    ids = [r[0] for r in connection.execute(sa.text("SELECT user_id FROM freelancer_profiles"))]
    refresh_talent(connection, ids)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("talent_fts_insert", "talent_fts_delete", "talent_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS talent_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_freelancer_profiles_search_vector")
        op.execute("ALTER TABLE freelancer_profiles DROP COLUMN IF EXISTS search_vector")
    op.drop_index("ix_profile_skills_skill", table_name="profile_skills")
    op.drop_table("profile_skills")
    op.drop_index("ix_talent_index_category", table_name="talent_index")
    op.drop_index("ix_talent_index_rank", table_name="talent_index")
    op.drop_table("talent_index")
    with op.batch_alter_table("freelancer_profiles") as batch:
        batch.drop_column("away_until")
        batch.drop_column("availability")
