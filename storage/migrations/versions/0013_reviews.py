"""Richer reviews, saved lists and earned badges (issue 14, parts 1, 2 and 5).

Reviews get three sub-ratings, the private feedback (would you recommend them,
0–10, and why the contract ended) and the reviewee's one public reply;
saved_items holds clients' favourite freelancers and freelancers' saved jobs;
earned_badges the reputation badges someone holds, so earning and losing one
can be told.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("sub1", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sub2", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sub3", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("recommend", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("end_reason", sa.String(length=16), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("reply", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "saved_items",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "kind", "target_id", name="uq_saved_items_user_kind_target"),
    )
    op.create_index("ix_saved_items_user_id", "saved_items", ["user_id"], unique=False)
    op.create_table(
        "earned_badges",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("badge", sa.String(length=32), nullable=False),
        sa.Column("earned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "badge", name="uq_earned_badges_user_badge"),
    )
    op.create_index("ix_earned_badges_user_id", "earned_badges", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_earned_badges_user_id", table_name="earned_badges")
    op.drop_table("earned_badges")
    op.drop_index("ix_saved_items_user_id", table_name="saved_items")
    op.drop_table("saved_items")
    with op.batch_alter_table("reviews") as batch:
        for column in ("replied_at", "reply", "end_reason", "recommend", "sub3", "sub2", "sub1"):
            batch.drop_column(column)
