"""Services catalogue search (issue 15): the service index, one row per service in the
catalogue with what filters and ranking read and its searchable text, and its full
text (FTS5 on SQLite, a generated tsvector with a GIN index on PostgreSQL).

Existing active services are indexed here (by the rule storage/service_search.py
applies on every later write).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_FTS = [
    # External content: the text stays in service_index, FTS5 holds the index only.
    """CREATE VIRTUAL TABLE service_fts USING fts5(
        title, skills, body,
        content='service_index', content_rowid='service_id',
        tokenize='porter unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER service_fts_insert AFTER INSERT ON service_index BEGIN
        INSERT INTO service_fts(rowid, title, skills, body)
        VALUES (new.service_id, new.title, new.skills, new.body);
    END""",
    """CREATE TRIGGER service_fts_delete AFTER DELETE ON service_index BEGIN
        INSERT INTO service_fts(service_fts, rowid, title, skills, body)
        VALUES ('delete', old.service_id, old.title, old.skills, old.body);
    END""",
    """CREATE TRIGGER service_fts_update AFTER UPDATE OF title, skills, body
        ON service_index BEGIN
        INSERT INTO service_fts(service_fts, rowid, title, skills, body)
        VALUES ('delete', old.service_id, old.title, old.skills, old.body);
        INSERT INTO service_fts(rowid, title, skills, body)
        VALUES (new.service_id, new.title, new.skills, new.body);
    END""",
]

POSTGRES_FTS = [
    # The title weighs most (A), then the skills (B), then the description and packages (C).
    """ALTER TABLE service_index ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(skills, '')), 'B')
        || setweight(to_tsvector('english'::regconfig, coalesce(body, '')), 'C')
    ) STORED""",
    "CREATE INDEX ix_service_index_search_vector ON service_index USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table(
        "service_index",
        sa.Column("service_id", BigInt, nullable=False),
        sa.Column("seller_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("min_price", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("min_days", sa.Integer(), nullable=False),
        sa.Column("rating_x10", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_service_index_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["users.id"],
            name=op.f("fk_service_index_seller_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_service_index")),
    )
    op.create_index(
        "ix_service_index_rank", "service_index", ["rank", "published_at", "service_id"]
    )
    op.create_index(
        "ix_service_index_category",
        "service_index",
        ["category", "rank", "published_at", "service_id"],
    )
    op.create_index("ix_service_index_seller", "service_index", ["seller_id"])
    dialect = op.get_bind().dialect.name
    statements = {"sqlite": SQLITE_FTS, "postgresql": POSTGRES_FTS}.get(dialect)
    if statements is None:
        raise NotImplementedError(f"no full-text search for {dialect}")
    for statement in statements:
        op.execute(statement)
    _index_existing_services()


def _index_existing_services() -> None:
    # The application's own rule, once, for the services there are.
    from storage.service_search import refresh_services

    connection = op.get_bind()
    ids = [r[0] for r in connection.execute(sa.text("SELECT id FROM services"))]
    refresh_services(connection, ids)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("service_fts_insert", "service_fts_delete", "service_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS service_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_service_index_search_vector")
    op.drop_index("ix_service_index_seller", table_name="service_index")
    op.drop_index("ix_service_index_category", table_name="service_index")
    op.drop_index("ix_service_index_rank", table_name="service_index")
    op.drop_table("service_index")
