"""Hourly contracts with no weekly limit (issue 13, part 1).

A no-limit week has no milestone while it is open (nothing is pre-funded): its
invoice becomes one at the close, so timesheet_weeks.milestone_id may be NULL.
overdue_at marks a no-limit invoice left unpaid past its review window (logging
pauses; both were told once).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("timesheet_weeks") as batch:
        batch.alter_column("milestone_id", existing_type=sa.BigInteger(), nullable=True)
        batch.add_column(sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("timesheet_weeks") as batch:
        batch.drop_column("overdue_at")
        batch.alter_column("milestone_id", existing_type=sa.BigInteger(), nullable=False)
