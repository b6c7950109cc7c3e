"""Service orders (issue 15, ORDERS): a contract without a job, and a contract's
own review window.

A service order becomes a contract with one milestone but has no job, so
contracts.job_id may be NULL (a contract without a job IS a service order's; the
order row points at it through service_orders.contract_id). No fake job is made:
it would show in job lists, alerts and searches. contracts.auto_release_days is
the days the client has to review submitted work when it is not
GIGBOT_AUTO_RELEASE_DAYS (a service order's GIGBOT_SERVICE_AUTO_COMPLETE_DAYS), so
the existing auto-release clock completes a delivered order.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contracts") as batch:
        batch.alter_column("job_id", existing_type=sa.BigInteger(), nullable=True)
        batch.add_column(sa.Column("auto_release_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contracts") as batch:
        batch.drop_column("auto_release_days")
        batch.alter_column("job_id", existing_type=sa.BigInteger(), nullable=False)
