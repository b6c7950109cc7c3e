"""Speed at marketplace scale (issue 16): job search pages newest first from an
index, and alert candidates found by index alone.

- ix_jobs_open_newest (status, published_at, id) and ix_jobs_open_category
  (status, category, published_at, id): a search without words walks one of
  them backwards and stops at the page (and at the count's cap).
- A subscription naming no skills (no categories) gets one lookup row under ""
  (storage.skill_index.ANY), so storage/search.py never scans every subscription
  for the ones that name none.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANY = ""  # storage.skill_index.ANY


def upgrade() -> None:
    op.create_index("ix_jobs_open_newest", "jobs", ["status", "published_at", "id"])
    op.create_index("ix_jobs_open_category", "jobs", ["status", "category", "published_at", "id"])
    for table, column in (
        ("subscription_skills", "skill"),
        ("subscription_categories", "category"),
    ):
        op.execute(
            f"INSERT INTO {table} (subscription_id, {column}) "
            f"SELECT s.id, '{ANY}' FROM alert_subscriptions s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} x WHERE x.subscription_id = s.id)"
        )


def downgrade() -> None:
    op.execute(f"DELETE FROM subscription_skills WHERE skill = '{ANY}'")
    op.execute(f"DELETE FROM subscription_categories WHERE category = '{ANY}'")
    op.drop_index("ix_jobs_open_category", "jobs")
    op.drop_index("ix_jobs_open_newest", "jobs")
