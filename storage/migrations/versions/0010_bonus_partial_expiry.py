"""Bonuses, partial releases, milestones added later, and jobs that end.

Milestones get a kind ("work" or "bonus"), who proposed one added to a running
contract, and a partial release's share and reason; jobs get their last activity
and when the client was asked "Still hiring?". Jobs from before count their
publication (or creation) as their last activity.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("milestones") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=8), nullable=False, server_default="work")
        )
        batch.add_column(sa.Column("proposed_by", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("partial_share", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("partial_reason", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("active_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("expiry_asked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_jobs_active_at", "jobs", ["active_at"], unique=False)
    op.execute("UPDATE jobs SET active_at = COALESCE(published_at, created_at)")


def downgrade() -> None:
    op.drop_index("ix_jobs_active_at", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("expiry_asked_at")
        batch.drop_column("active_at")
    with op.batch_alter_table("milestones") as batch:
        batch.drop_column("partial_reason")
        batch.drop_column("partial_share")
        batch.drop_column("proposed_by")
        batch.drop_column("kind")
