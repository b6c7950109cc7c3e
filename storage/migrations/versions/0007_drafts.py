"""Wizards that forgive: drafts kept when a wizard is left by another command, the
conversation's current screen (only its buttons are live), and the Telegram
message id each outbox row became (to remove an old screen's buttons).

Revision ID: 0007
Revises: 0006 (the dispute clock, written at the same time)
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("outbox", sa.Column("message_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("conversation_states") as batch:
        batch.add_column(sa.Column("screen_message_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("screen_outbox_id", sa.BigInteger(), nullable=True))
    op.create_table(
        "drafts",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("entry", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_drafts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
        sa.UniqueConstraint("user_id", "flow", "subject", name="uq_drafts_user_flow_subject"),
    )
    op.create_index(op.f("ix_drafts_user_id"), "drafts", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_drafts_user_id"), table_name="drafts")
    op.drop_table("drafts")
    with op.batch_alter_table("conversation_states") as batch:
        batch.drop_column("screen_outbox_id")
        batch.drop_column("screen_message_id")
    op.drop_column("outbox", "message_id")
