"""Initial schema: every table of storage/tables.py, plus full-text search on jobs.

Written from `alembic revision --autogenerate` and reviewed: column types are
spelled out (no imports from the application, so this file stays valid when
the models change), indexes are created directly, and the full-text machinery,
which differs per database, is added by hand at the end.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite only makes INTEGER PRIMARY KEY an alias of the 64-bit rowid.
BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("admin_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_admin_id"), "audit_log", ["admin_id"], unique=False)

    op.create_table(
        "conversation_states",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_conversation_states")),
    )
    op.create_table(
        "ledger_transactions",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transactions")),
        sa.UniqueConstraint("key", name=op.f("uq_ledger_transactions_key")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_pending", "outbox", ["status", "priority", "id"], unique=False)

    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_updates")),
    )
    op.create_table(
        "stored_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_stored_updates")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("is_client", sa.Boolean(), nullable=False),
        sa.Column("is_freelancer", sa.Boolean(), nullable=False),
        sa.Column("banned", sa.Boolean(), nullable=False),
        sa.Column("ban_reason", sa.Text(), nullable=True),
        sa.Column("unreachable", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_table(
        "alert_subscriptions",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("min_budget", sa.BigInteger(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_alert_subscriptions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_subscriptions")),
    )
    op.create_index(
        op.f("ix_alert_subscriptions_user_id"), "alert_subscriptions", ["user_id"], unique=False
    )

    op.create_table(
        "freelancer_profiles",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("headline", sa.String(length=200), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("hourly_rate", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("years_experience", sa.Integer(), nullable=True),
        sa.Column("portfolio", sa.JSON(), nullable=False),
        sa.Column("certifications", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_freelancer_profiles_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_freelancer_profiles")),
    )
    op.create_index(
        op.f("ix_freelancer_profiles_category"), "freelancer_profiles", ["category"], unique=False
    )

    op.create_table(
        "jobs",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("budget_type", sa.String(length=8), nullable=False),
        sa.Column("budget", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft", "open", "paused", "closed", name="jobstatus", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("budget >= 0", name=op.f("ck_jobs_budget_not_negative")),
        sa.ForeignKeyConstraint(["client_id"], ["users.id"], name=op.f("fk_jobs_client_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(op.f("ix_jobs_category"), "jobs", ["category"], unique=False)
    op.create_index(op.f("ix_jobs_client_id"), "jobs", ["client_id"], unique=False)
    op.create_index(op.f("ix_jobs_status"), "jobs", ["status"], unique=False)

    op.create_table(
        "payouts",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payouts_amount_positive")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_payouts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
    )
    op.create_index(op.f("ix_payouts_user_id"), "payouts", ["user_id"], unique=False)

    op.create_table(
        "postings",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("transaction_id", BigInt, nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_postings_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
    )
    op.create_index("ix_postings_account", "postings", ["account", "currency"], unique=False)
    op.create_index(
        op.f("ix_postings_transaction_id"), "postings", ["transaction_id"], unique=False
    )

    op.create_table(
        "reports",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("reporter_id", sa.BigInteger(), nullable=False),
        sa.Column("target_type", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["users.id"], name=op.f("fk_reports_reporter_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    op.create_index(op.f("ix_reports_reporter_id"), "reports", ["reporter_id"], unique=False)

    op.create_table(
        "invitations",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("job_id", BigInt, nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("freelancer_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["users.id"], name=op.f("fk_invitations_client_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["freelancer_id"], ["users.id"], name=op.f("fk_invitations_freelancer_id_users")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_invitations_job_id_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("job_id", "freelancer_id", name="uq_invitations_job_freelancer"),
    )
    op.create_index(op.f("ix_invitations_client_id"), "invitations", ["client_id"], unique=False)
    op.create_index(
        op.f("ix_invitations_freelancer_id"), "invitations", ["freelancer_id"], unique=False
    )
    op.create_index(op.f("ix_invitations_job_id"), "invitations", ["job_id"], unique=False)

    op.create_table(
        "job_dismissals",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("job_id", BigInt, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_dismissals_job_id_jobs")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_job_dismissals_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "job_id", name=op.f("pk_job_dismissals")),
    )
    op.create_table(
        "job_skills",
        sa.Column("job_id", BigInt, nullable=False),
        sa.Column("skill", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_skills_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "skill", name=op.f("pk_job_skills")),
    )
    op.create_index("ix_job_skills_skill", "job_skills", ["skill", "job_id"], unique=False)

    op.create_table(
        "pitches",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("job_id", BigInt, nullable=False),
        sa.Column("freelancer_id", sa.BigInteger(), nullable=False),
        sa.Column("cover_letter", sa.Text(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=True),
        sa.Column("proposed_milestones", sa.JSON(), nullable=False),
        sa.Column("invited", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "shortlisted",
                "declined",
                "withdrawn",
                "hired",
                name="pitchstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("price > 0", name=op.f("ck_pitches_price_positive")),
        sa.ForeignKeyConstraint(
            ["freelancer_id"], ["users.id"], name=op.f("fk_pitches_freelancer_id_users")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_pitches_job_id_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pitches")),
        sa.UniqueConstraint("job_id", "freelancer_id", name="uq_pitches_job_freelancer"),
    )
    op.create_index(op.f("ix_pitches_freelancer_id"), "pitches", ["freelancer_id"], unique=False)
    op.create_index(op.f("ix_pitches_job_id"), "pitches", ["job_id"], unique=False)

    op.create_table(
        "subscription_categories",
        sa.Column("subscription_id", BigInt, nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["alert_subscriptions.id"],
            name=op.f("fk_subscription_categories_subscription_id_alert_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "subscription_id", "category", name=op.f("pk_subscription_categories")
        ),
    )
    op.create_index(
        "ix_subscription_categories_category",
        "subscription_categories",
        ["category", "subscription_id"],
        unique=False,
    )

    op.create_table(
        "subscription_skills",
        sa.Column("subscription_id", BigInt, nullable=False),
        sa.Column("skill", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["alert_subscriptions.id"],
            name=op.f("fk_subscription_skills_subscription_id_alert_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscription_id", "skill", name=op.f("pk_subscription_skills")),
    )
    op.create_index(
        "ix_subscription_skills_skill",
        "subscription_skills",
        ["skill", "subscription_id"],
        unique=False,
    )

    op.create_table(
        "contracts",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("job_id", BigInt, nullable=False),
        sa.Column("pitch_id", BigInt, nullable=True),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("freelancer_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("client_fee_bp", sa.Integer(), nullable=False),
        sa.Column("freelancer_fee_bp", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "offered",
                "countered",
                "active",
                "declined",
                "withdrawn",
                "expired",
                "ended",
                name="contractstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["users.id"], name=op.f("fk_contracts_client_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["freelancer_id"], ["users.id"], name=op.f("fk_contracts_freelancer_id_users")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_contracts_job_id_jobs")),
        sa.ForeignKeyConstraint(
            ["pitch_id"], ["pitches.id"], name=op.f("fk_contracts_pitch_id_pitches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
    )
    op.create_index(op.f("ix_contracts_client_id"), "contracts", ["client_id"], unique=False)
    op.create_index(op.f("ix_contracts_expires_at"), "contracts", ["expires_at"], unique=False)
    op.create_index(
        op.f("ix_contracts_freelancer_id"), "contracts", ["freelancer_id"], unique=False
    )
    op.create_index(op.f("ix_contracts_job_id"), "contracts", ["job_id"], unique=False)
    op.create_index(
        op.f("ix_contracts_review_deadline"), "contracts", ["review_deadline"], unique=False
    )
    op.create_index(op.f("ix_contracts_status"), "contracts", ["status"], unique=False)

    op.create_table(
        "milestones",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("contract_id", BigInt, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "funding",
                "funded",
                "submitted",
                "changes_requested",
                "disputed",
                "frozen",
                "released",
                "refunded",
                "split",
                "cancelled",
                name="milestonestatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("funded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("auto_release_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_milestones_amount_positive")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_milestones_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
    )
    op.create_index(
        op.f("ix_milestones_auto_release_at"), "milestones", ["auto_release_at"], unique=False
    )
    op.create_index(op.f("ix_milestones_contract_id"), "milestones", ["contract_id"], unique=False)
    op.create_index(op.f("ix_milestones_status"), "milestones", ["status"], unique=False)

    op.create_table(
        "reviews",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("contract_id", BigInt, nullable=False),
        sa.Column("reviewer_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewee_id", sa.BigInteger(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("hidden", "revealed", name="reviewstatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_reviews_rating_range")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_reviews_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["reviewee_id"], ["users.id"], name=op.f("fk_reviews_reviewee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_reviews_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("contract_id", "reviewer_id", name="uq_reviews_contract_reviewer"),
    )
    op.create_index(op.f("ix_reviews_contract_id"), "reviews", ["contract_id"], unique=False)
    op.create_index(op.f("ix_reviews_reviewee_id"), "reviews", ["reviewee_id"], unique=False)
    op.create_index(op.f("ix_reviews_reviewer_id"), "reviews", ["reviewer_id"], unique=False)

    op.create_table(
        "disputes",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("milestone_id", BigInt, nullable=False),
        sa.Column("contract_id", BigInt, nullable=False),
        sa.Column("opened_by", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "split_proposed",
                "settled",
                "resolved",
                "withdrawn",
                name="disputestatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("proposed_share", sa.BigInteger(), nullable=True),
        sa.Column("proposed_by", sa.BigInteger(), nullable=True),
        sa.Column("resolution_share", sa.BigInteger(), nullable=True),
        sa.Column("resolved_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_disputes_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"], ["milestones.id"], name=op.f("fk_disputes_milestone_id_milestones")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["users.id"], name=op.f("fk_disputes_opened_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    op.create_index(op.f("ix_disputes_contract_id"), "disputes", ["contract_id"], unique=False)
    op.create_index(op.f("ix_disputes_milestone_id"), "disputes", ["milestone_id"], unique=False)
    op.create_index(op.f("ix_disputes_opened_by"), "disputes", ["opened_by"], unique=False)
    op.create_index(op.f("ix_disputes_status"), "disputes", ["status"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("milestone_id", BigInt, nullable=False),
        sa.Column("payer_id", sa.BigInteger(), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("charge_ref", sa.String(length=255), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["milestone_id"], ["milestones.id"], name=op.f("fk_payments_milestone_id_milestones")
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["users.id"], name=op.f("fk_payments_payer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("external_id", name=op.f("uq_payments_external_id")),
    )
    op.create_index(op.f("ix_payments_milestone_id"), "payments", ["milestone_id"], unique=False)
    op.create_index(op.f("ix_payments_payer_id"), "payments", ["payer_id"], unique=False)
    op.create_index(op.f("ix_payments_status"), "payments", ["status"], unique=False)

    op.create_table(
        "submissions",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("milestone_id", BigInt, nullable=False),
        sa.Column("freelancer_id", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["freelancer_id"], ["users.id"], name=op.f("fk_submissions_freelancer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"], ["milestones.id"], name=op.f("fk_submissions_milestone_id_milestones")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
    )
    op.create_index(
        op.f("ix_submissions_freelancer_id"), "submissions", ["freelancer_id"], unique=False
    )
    op.create_index(
        op.f("ix_submissions_milestone_id"), "submissions", ["milestone_id"], unique=False
    )

    op.create_table(
        "contract_messages",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("contract_id", BigInt, nullable=True),
        sa.Column("job_id", BigInt, nullable=True),
        sa.Column("sender_id", sa.BigInteger(), nullable=False),
        sa.Column("recipient_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("dispute_id", BigInt, nullable=True),
        sa.Column("flagged_contact", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_contract_messages_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name=op.f("fk_contract_messages_dispute_id_disputes")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_contract_messages_job_id_jobs")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_contract_messages_recipient_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["users.id"], name=op.f("fk_contract_messages_sender_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_messages")),
    )
    op.create_index(
        op.f("ix_contract_messages_contract_id"), "contract_messages", ["contract_id"], unique=False
    )
    op.create_index(
        op.f("ix_contract_messages_job_id"), "contract_messages", ["job_id"], unique=False
    )
    op.create_index(
        op.f("ix_contract_messages_recipient_id"),
        "contract_messages",
        ["recipient_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_contract_messages_sender_id"), "contract_messages", ["sender_id"], unique=False
    )
    create_full_text_search()


# Full-text search on jobs. Not in storage/tables.py (it differs per database),
# so storage.migrate.include_object hides it from autogenerate comparisons.
# storage/search.py queries it; the names and the text-search configuration
# ('english': stemming, like FTS5's porter tokenizer) must stay in step with it.

SQLITE_FTS = [
    # External-content FTS5 index over jobs: stores only the index, not the text.
    """CREATE VIRTUAL TABLE jobs_fts USING fts5(
        title, description, skills,
        content='jobs', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER jobs_fts_insert AFTER INSERT ON jobs BEGIN
        INSERT INTO jobs_fts(rowid, title, description, skills)
        VALUES (new.id, new.title, new.description, new.skills);
    END""",
    """CREATE TRIGGER jobs_fts_delete AFTER DELETE ON jobs BEGIN
        INSERT INTO jobs_fts(jobs_fts, rowid, title, description, skills)
        VALUES ('delete', old.id, old.title, old.description, old.skills);
    END""",
    # Only text changes re-index; status changes (the frequent ones) do not.
    """CREATE TRIGGER jobs_fts_update AFTER UPDATE OF title, description, skills ON jobs BEGIN
        INSERT INTO jobs_fts(jobs_fts, rowid, title, description, skills)
        VALUES ('delete', old.id, old.title, old.description, old.skills);
        INSERT INTO jobs_fts(rowid, title, description, skills)
        VALUES (new.id, new.title, new.description, new.skills);
    END""",
    "INSERT INTO jobs_fts(jobs_fts) VALUES ('rebuild')",
]

POSTGRES_FTS = [
    # Title weighs most (A), then the description (B), then the skill slugs (C).
    """ALTER TABLE jobs ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')
        || setweight(to_tsvector('english'::regconfig, coalesce(skills::text, '')), 'C')
    ) STORED""",
    "CREATE INDEX ix_jobs_search_vector ON jobs USING gin (search_vector)",
]


def create_full_text_search() -> None:
    dialect = op.get_bind().dialect.name
    statements = {"sqlite": SQLITE_FTS, "postgresql": POSTGRES_FTS}.get(dialect)
    if statements is None:
        raise NotImplementedError(f"no full-text search for {dialect}")
    for statement in statements:
        op.execute(statement)


def drop_full_text_search() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("jobs_fts_insert", "jobs_fts_delete", "jobs_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS jobs_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_jobs_search_vector")
        op.execute("ALTER TABLE jobs DROP COLUMN IF EXISTS search_vector")


def downgrade() -> None:
    drop_full_text_search()
    op.drop_table("contract_messages")
    op.drop_table("submissions")
    op.drop_table("payments")
    op.drop_table("disputes")
    op.drop_table("reviews")
    op.drop_table("milestones")
    op.drop_table("contracts")
    op.drop_table("subscription_skills")
    op.drop_table("subscription_categories")
    op.drop_table("pitches")
    op.drop_table("job_skills")
    op.drop_table("job_dismissals")
    op.drop_table("invitations")
    op.drop_table("reports")
    op.drop_table("postings")
    op.drop_table("payouts")
    op.drop_table("jobs")
    op.drop_table("freelancer_profiles")
    op.drop_table("alert_subscriptions")
    op.drop_table("users")
    op.drop_table("stored_updates")
    op.drop_table("processed_updates")
    op.drop_table("outbox")
    op.drop_table("ledger_transactions")
    op.drop_table("conversation_states")
    op.drop_table("audit_log")
