"""Verified badges: each user's identity verification as the payment gateway
reports it (Stripe's account.updated, the sandbox's verification page), and the
moment a payment was charged back (it no longer proves the payer can pay).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_verifications",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_identity_verifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_identity_verifications")),
    )
    op.add_column("payments", sa.Column("charged_back_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("charged_back_at")
    op.drop_table("identity_verifications")
