"""Outbox retention: where the walk that forgets delivered outbox rows stopped.

Delivered rows were never deleted, so the outbox and its indexes grew with every
message ever sent. The scheduler now deletes rows in a final status older than
GIGBOT_OUTBOX_KEEP_DAYS a bounded batch a tick (domain/usecases/outbox_retention.py,
storage/outbox_retention.py), walking the table in id order. Rows it must keep
(screens, each chat's newest message) stay behind the walk, so it resumes from
where it stopped instead of re-reading them every tick: that place is this
table's row ("outbox"). No outbox index is added: the walk is a primary-key
range, its checks probe conversation_states' primary key and ix_outbox_chat_sent.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_cursors",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("after_id", sa.BigInteger, nullable=False),
        sa.Column("pass_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("caught_up", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_retention_cursors")),
    )


def downgrade() -> None:
    op.drop_table("retention_cursors")
