"""Hourly contracts: the terms an hourly offer carried (rate, weekly limit of
hours), each week of the contract (its escrow is a milestone; its invoice, what
was paid and why less) and the time logged in it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hourly_terms",
        sa.Column("contract_id", BigInt, nullable=False),
        sa.Column("rate", sa.BigInteger(), nullable=False),
        sa.Column("weekly_limit_hours", sa.Integer(), nullable=False),
        sa.CheckConstraint("rate > 0", name=op.f("ck_hourly_terms_rate_positive")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_hourly_terms_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("contract_id", name=op.f("pk_hourly_terms")),
    )
    op.create_table(
        "timesheet_weeks",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("contract_id", BigInt, nullable=False),
        sa.Column("milestone_id", BigInt, nullable=False),
        sa.Column("week_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("logged_minutes", sa.Integer(), nullable=False),
        sa.Column("billed_minutes", sa.Integer(), nullable=False),
        sa.Column("invoice", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("review_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_timesheet_weeks_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_timesheet_weeks_milestone_id_milestones"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timesheet_weeks")),
        sa.UniqueConstraint("milestone_id", name=op.f("uq_timesheet_weeks_milestone_id")),
        sa.UniqueConstraint("contract_id", "week_start", name="uq_timesheet_weeks_contract_week"),
    )
    op.create_index(op.f("ix_timesheet_weeks_contract_id"), "timesheet_weeks", ["contract_id"])
    op.create_index(op.f("ix_timesheet_weeks_review_until"), "timesheet_weeks", ["review_until"])
    op.create_table(
        "time_entries",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("week_id", BigInt, nullable=False),
        sa.Column("contract_id", BigInt, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("minutes > 0", name=op.f("ck_time_entries_minutes_positive")),
        sa.ForeignKeyConstraint(
            ["week_id"],
            ["timesheet_weeks.id"],
            name=op.f("fk_time_entries_week_id_timesheet_weeks"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_time_entries_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_entries")),
    )
    op.create_index(op.f("ix_time_entries_week_id"), "time_entries", ["week_id"])
    op.create_index(op.f("ix_time_entries_contract_id"), "time_entries", ["contract_id"])


def downgrade() -> None:
    op.drop_table("time_entries")
    op.drop_table("timesheet_weeks")
    op.drop_table("hourly_terms")
