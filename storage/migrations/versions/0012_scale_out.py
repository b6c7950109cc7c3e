"""Scale-out: what several Gigbot processes on one database share.

leases: a named lease with its holder and expiry (the scheduler's leader, and each
user's intake claim "user:<id>"); send_budget: the bot's shared send spacing (the next
free global slot, each chat's next allowed send) as epoch seconds on the database
clock; stored_updates.user_id: whose update it is, so a process can take one person's
updates in update_id order.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "send_budget",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("next_at", sa.Float(), nullable=False),
    )
    with op.batch_alter_table("stored_updates") as batch:
        batch.add_column(sa.Column("user_id", sa.BigInteger(), nullable=True))
        batch.create_index("ix_stored_updates_user_id", ["user_id", "update_id"])


def downgrade() -> None:
    with op.batch_alter_table("stored_updates") as batch:
        batch.drop_index("ix_stored_updates_user_id")
        batch.drop_column("user_id")
    op.drop_table("send_budget")
    op.drop_table("leases")
