"""The dispute clock: a stage with its deadline (answer, agree, wait for an
admin), reminders sent, the admin who took it, and the reason of a decision.

Disputes opened before the clock existed wait for an admin, as they did.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("resolution_reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("stage", sa.String(length=24), nullable=False, server_default="admin"),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sa.BigInteger(), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("admins_reminded_at", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("disputes") as batch:
        for column in _columns():
            batch.add_column(column)
    op.create_index("ix_disputes_due_at", "disputes", ["due_at"], unique=False)
    # Live disputes from before the clock are the admins' already: since now.
    op.execute(
        "UPDATE disputes SET escalated_at = CURRENT_TIMESTAMP "
        "WHERE status IN ('open', 'split_proposed')"
    )


def downgrade() -> None:
    op.drop_index("ix_disputes_due_at", table_name="disputes")
    with op.batch_alter_table("disputes") as batch:
        for column in reversed(_columns()):
            batch.drop_column(column.name)
