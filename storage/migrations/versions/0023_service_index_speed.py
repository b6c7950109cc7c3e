"""The services catalogue's search at 100,000 services (issue 15):

1. The record-order indexes of service_index also hold every column a filter reads
   (price, delivery, rating, verified, seller), so walking them in record order until
   a page is full never reads a row.
2. SQLite: the category in the full-text index (service_fts gets a category column):
   words and a category are intersected inside FTS5 (`category : "design"`) instead of
   one row lookup per match of the words. Words a person types are matched in the
   other columns only (storage/service_search.py). PostgreSQL keeps its tsvector: its
   planner combines the GIN index with the category index itself.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILTERS = ["min_price", "min_days", "rating_x10", "ratings", "verified", "seller_id"]
TRIGGERS = ("service_fts_insert", "service_fts_delete", "service_fts_update")


def _fts(columns: list[str]) -> list[str]:
    """service_fts over these columns of service_index, its triggers, and a rebuild."""
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"""CREATE VIRTUAL TABLE service_fts USING fts5(
            {cols},
            content='service_index', content_rowid='service_id',
            tokenize='porter unicode61 remove_diacritics 2'
        )""",
        f"""CREATE TRIGGER service_fts_insert AFTER INSERT ON service_index BEGIN
            INSERT INTO service_fts(rowid, {cols}) VALUES (new.service_id, {new});
        END""",
        f"""CREATE TRIGGER service_fts_delete AFTER DELETE ON service_index BEGIN
            INSERT INTO service_fts(service_fts, rowid, {cols})
            VALUES ('delete', old.service_id, {old});
        END""",
        f"""CREATE TRIGGER service_fts_update AFTER UPDATE OF {cols} ON service_index BEGIN
            INSERT INTO service_fts(service_fts, rowid, {cols})
            VALUES ('delete', old.service_id, {old});
            INSERT INTO service_fts(rowid, {cols}) VALUES (new.service_id, {new});
        END""",
        "INSERT INTO service_fts(service_fts) VALUES ('rebuild')",
    ]


def _indexes(extra: list[str]) -> None:
    op.drop_index("ix_service_index_rank", table_name="service_index")
    op.drop_index("ix_service_index_category", table_name="service_index")
    op.create_index(
        "ix_service_index_rank", "service_index", ["rank", "published_at", "service_id", *extra]
    )
    op.create_index(
        "ix_service_index_category",
        "service_index",
        ["category", "rank", "published_at", "service_id", *[c for c in extra if c != "category"]],
    )


def _replace_fts(columns: list[str]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS service_fts")
    for statement in _fts(columns):
        op.execute(statement)


def upgrade() -> None:
    _indexes(["category", *FILTERS])
    _replace_fts(["title", "skills", "body", "category"])


def downgrade() -> None:
    _indexes([])
    _replace_fts(["title", "skills", "body"])
