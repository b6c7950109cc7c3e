"""Outbox: an index for the sender's per-chat claim (each chat's earliest undelivered row).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_chat", "outbox", ["chat_id", "status", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_chat", table_name="outbox")
