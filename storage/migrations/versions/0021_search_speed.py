"""Alert matching at 100,000 subscriptions (issue 16, part 4): subscription_keys.

One row per (category, skill) pair an unpaused alert subscription is indexed
under ("" standing for "names none", as in subscription_skills and
subscription_categories since 0016), with the subscription's mode, minimum
budget, user and whether it names keywords; indexed (mode, category, skill,
min_budget, user_id, keywords, subscription_id), covering. A job's audience is a
few range reads of that index (storage/search.py, alert_audience) where it
intersected the two lookup tables over ~20,000 candidates a job. storage/skill_index.py keeps the rows in
the same flush as the subscription; this migration fills them for the existing
subscriptions from the two lookup tables.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "subscription_keys",
        sa.Column("subscription_id", BigInt, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("skill", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("min_budget", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("keywords", sa.Boolean, nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["alert_subscriptions.id"],
            name=op.f("fk_subscription_keys_subscription_id_alert_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "subscription_id", "category", "skill", name=op.f("pk_subscription_keys")
        ),
    )
    op.create_index(
        "ix_subscription_keys_match",
        "subscription_keys",
        ["mode", "category", "skill", "min_budget", "user_id", "keywords", "subscription_id"],
    )
    # An empty keywords list is stored as the JSON text "[]"; anything else is
    # checked by domain.matching (a false "names keywords" only costs a check).
    op.execute(
        "INSERT INTO subscription_keys "
        "(subscription_id, category, skill, mode, min_budget, user_id, keywords) "
        "SELECT s.id, c.category, k.skill, s.mode, s.min_budget, s.user_id, "
        "CAST(s.keywords AS TEXT) <> '[]' "
        "FROM alert_subscriptions s "
        "JOIN subscription_categories c ON c.subscription_id = s.id "
        "JOIN subscription_skills k ON k.subscription_id = s.id "
        "WHERE s.paused = false"
    )


def downgrade() -> None:
    op.drop_index("ix_subscription_keys_match", table_name="subscription_keys")
    op.drop_table("subscription_keys")
