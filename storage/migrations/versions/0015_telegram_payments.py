"""Telegram Payments (issue 18, part 2): a payment paid inside Telegram keeps
Telegram's own charge id beside the provider's (Stripe's charge, in charge_ref),
unique, so one successful_payment is applied once.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("telegram_charge_id", sa.String(length=255), nullable=True))
        batch.create_unique_constraint("uq_payments_telegram_charge_id", ["telegram_charge_id"])


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint("uq_payments_telegram_charge_id", type_="unique")
        batch.drop_column("telegram_charge_id")
