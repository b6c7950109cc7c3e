"""Tables, and the imperative mapping of the domain's dataclasses onto them.

The schema itself is created by the Alembic migrations (storage/migrations);
a test checks that the migrations and this metadata agree.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import column_property, registry
from sqlalchemy.orm.attributes import set_committed_value

from domain import entities as e
from domain import saved as sv
from domain import services as svc
from domain import timesheet as ts
from domain.services import ServiceOrderStatus, ServiceStatus
from domain.states import (
    ContractStatus,
    DisputeStage,
    DisputeStatus,
    JobStatus,
    MilestoneStatus,
    PitchStatus,
    ReviewStatus,
)
from storage.types import UTCDateTime, enum_column, json_dict, json_list

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=NAMING)
mapper_registry = registry(metadata=metadata)

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite rowids are 64-bit already


def _id() -> sa.Column:
    return sa.Column("id", BigInt, primary_key=True, autoincrement=True)


def _user_fk(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger, sa.ForeignKey("users.id"), nullable=nullable, index=True)


def _created() -> sa.Column:
    return sa.Column("created_at", UTCDateTime, nullable=True)


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(256), nullable=False, default=""),
    sa.Column("username", sa.String(64)),
    sa.Column("language", sa.String(8), nullable=False, default="en"),
    sa.Column("is_client", sa.Boolean, nullable=False, default=False),
    sa.Column("is_freelancer", sa.Boolean, nullable=False, default=False),
    sa.Column("banned", sa.Boolean, nullable=False, default=False),
    sa.Column("ban_reason", sa.Text),
    sa.Column("unreachable", sa.Boolean, nullable=False, default=False),
    _created(),
    sa.Column("last_active_at", UTCDateTime),
    # Who gets no job alerts (banned, not a freelancer) is copied into
    # subscription_keys by the triggers of migration 0028 (storage/skill_index.py).
)

profiles = sa.Table(
    "freelancer_profiles",
    metadata,
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("headline", sa.String(200), nullable=False, default=""),
    sa.Column("bio", sa.Text, nullable=False, default=""),
    sa.Column("category", sa.String(64), index=True),
    sa.Column("skills", json_list(), nullable=False, default=list),
    sa.Column("tags", json_list(), nullable=False, default=list),
    sa.Column("hourly_rate", sa.BigInteger),
    sa.Column("currency", sa.String(3), nullable=False, default="USD"),
    sa.Column("years_experience", sa.Integer),
    sa.Column("portfolio", json_list(), nullable=False, default=list),
    sa.Column("certifications", json_list(), nullable=False, default=list),
    sa.Column("updated_at", UTCDateTime),
    # domain/talent.py: available / busy / away until a date (inclusive).
    sa.Column("availability", sa.String(10), nullable=False, default="available"),
    sa.Column("away_until", sa.Date),
    # The away freelancers, whose alerts wait (TalentSearch.away_users; migration 0026).
    sa.Index(
        "ix_profiles_away",
        "user_id",
        "away_until",
        sqlite_where=sa.text("availability = 'away'"),
        postgresql_where=sa.text("availability = 'away'"),
    ),
)

# Talent search (storage/talent_search.py keeps these in step with profile, review,
# contract and verification writes): one row per freelancer profile with what the
# filters and the ranking read, so a search never computes a record per row.
talent_index = sa.Table(
    "talent_index",
    metadata,
    sa.Column("user_id", BigInt, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("listed", sa.Boolean, nullable=False),  # a freelancer, not banned
    sa.Column("category", sa.String(64)),
    sa.Column("hourly_rate", sa.BigInteger),
    sa.Column("availability", sa.String(10), nullable=False),
    sa.Column("away_until", sa.Date),
    sa.Column("rating_x10", sa.Integer, nullable=False),  # plain average × 10; 0: none
    sa.Column("ratings", sa.Integer, nullable=False),
    sa.Column("completed", sa.Integer, nullable=False),
    sa.Column("completeness", sa.Integer, nullable=False),
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),  # domain.talent.record_rank
    sa.Index("ix_talent_index_rank", "listed", "rank", "user_id"),
    sa.Index("ix_talent_index_category", "category", "rank", "user_id"),
)

# One row per (freelancer, skill key) over skills and tags: skill filters and invite fit.
# The freelancer's category and record rank are copied in (migration 0022) so that the
# best holders of a skill are an index range, not a sort of every holder.
profile_skills = sa.Table(
    "profile_skills",
    metadata,
    sa.Column("user_id", BigInt, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("skill", sa.String(64), primary_key=True),
    sa.Column("category", sa.String(64)),
    sa.Column("rank", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Index("ix_profile_skills_skill", "skill", "user_id"),
    sa.Index("ix_profile_skills_best", "skill", "category", "rank", "user_id"),
    sa.Index("ix_profile_skills_rank", "skill", "rank", "user_id"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    _id(),
    _user_fk("client_id"),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("category", sa.String(64), index=True),
    sa.Column("skills", json_list(), nullable=False, default=list),
    sa.Column("budget_type", sa.String(8), nullable=False, default="fixed"),
    sa.Column("budget", sa.BigInteger, nullable=False, default=0),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("deadline", sa.Date),
    sa.Column("status", enum_column(JobStatus), nullable=False, index=True),
    _created(),
    sa.Column("published_at", UTCDateTime),
    sa.Column("active_at", UTCDateTime, index=True),
    sa.Column("expiry_asked_at", UTCDateTime),
    sa.CheckConstraint("budget >= 0", name="budget_not_negative"),
    # Search newest first without words (storage/search.py; migration 0016).
    sa.Index("ix_jobs_open_newest", "status", "published_at", "id"),
    sa.Index("ix_jobs_open_category", "status", "category", "published_at", "id"),
    # A budget filter's matches counted, and sorted when few (storage/search.py; 0024).
    sa.Index("ix_jobs_open_budget", "status", "budget_type", "budget"),
    # PostgreSQL: a category's jobs newest (by id) first, for words and a category.
    sa.Index("ix_jobs_open_category_id", "status", "category", "id"),
)

# One row per (job, skill): indexed skill matching without scanning JSON.
job_skills = sa.Table(
    "job_skills",
    metadata,
    sa.Column("job_id", BigInt, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("skill", sa.String(64), primary_key=True),
    sa.Index("ix_job_skills_skill", "skill", "job_id"),
)

# One row per (subscription, skill), for finding the subscriptions a job matches.
subscription_skills = sa.Table(
    "subscription_skills",
    metadata,
    sa.Column(
        "subscription_id",
        BigInt,
        sa.ForeignKey("alert_subscriptions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("skill", sa.String(64), primary_key=True),
    sa.Index("ix_subscription_skills_skill", "skill", "subscription_id"),
)

# One row per (subscription, category): the category side of the same lookup.
subscription_categories = sa.Table(
    "subscription_categories",
    metadata,
    sa.Column(
        "subscription_id",
        BigInt,
        sa.ForeignKey("alert_subscriptions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("category", sa.String(64), primary_key=True),
    sa.Index("ix_subscription_categories_category", "category", "subscription_id"),
)

pitches = sa.Table(
    "pitches",
    metadata,
    _id(),
    sa.Column("job_id", BigInt, sa.ForeignKey("jobs.id"), nullable=False, index=True),
    _user_fk("freelancer_id"),
    sa.Column("cover_letter", sa.Text, nullable=False, default=""),
    sa.Column("price", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("duration_days", sa.Integer),
    sa.Column("proposed_milestones", json_list(), nullable=False, default=list),
    sa.Column("invited", sa.Boolean, nullable=False, default=False),
    sa.Column("status", enum_column(PitchStatus), nullable=False),
    _created(),
    sa.Column("updated_at", UTCDateTime),
    sa.UniqueConstraint("job_id", "freelancer_id", name="uq_pitches_job_freelancer"),
    sa.CheckConstraint("price > 0", name="price_positive"),
)

invitations = sa.Table(
    "invitations",
    metadata,
    _id(),
    sa.Column("job_id", BigInt, sa.ForeignKey("jobs.id"), nullable=False, index=True),
    _user_fk("client_id"),
    _user_fk("freelancer_id"),
    _created(),
    sa.UniqueConstraint("job_id", "freelancer_id", name="uq_invitations_job_freelancer"),
)

contracts = sa.Table(
    "contracts",
    metadata,
    _id(),
    # NULL: a service order's contract (migration 0020; service_orders.py).
    sa.Column("job_id", BigInt, sa.ForeignKey("jobs.id"), nullable=True, index=True),
    sa.Column("pitch_id", BigInt, sa.ForeignKey("pitches.id")),
    _user_fk("client_id"),
    _user_fk("freelancer_id"),
    sa.Column("title", sa.String(200), nullable=False, default=""),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("client_fee_bp", sa.Integer, nullable=False),
    sa.Column("freelancer_fee_bp", sa.Integer, nullable=False),
    sa.Column("status", enum_column(ContractStatus), nullable=False, index=True),
    sa.Column("offered_at", UTCDateTime),
    sa.Column("expires_at", UTCDateTime, index=True),
    sa.Column("accepted_at", UTCDateTime),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("review_deadline", UTCDateTime, index=True),
    sa.Column("auto_release_days", sa.Integer),  # migration 0020
)

milestones = sa.Table(
    "milestones",
    metadata,
    _id(),
    sa.Column("contract_id", BigInt, sa.ForeignKey("contracts.id"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False, default=1),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("due_date", sa.Date),
    sa.Column("status", enum_column(MilestoneStatus), nullable=False, index=True),
    sa.Column("funded_at", UTCDateTime),
    sa.Column("submitted_at", UTCDateTime),
    sa.Column("auto_release_at", UTCDateTime, index=True),
    sa.Column("reminders_sent", sa.Integer, nullable=False, default=0),
    sa.Column("settled_at", UTCDateTime),
    sa.Column("kind", sa.String(8), nullable=False, default="work", server_default="work"),
    sa.Column("proposed_by", sa.BigInteger),
    sa.Column("partial_share", sa.BigInteger),
    sa.Column("partial_reason", sa.Text, nullable=False, default="", server_default=""),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
)

submissions = sa.Table(
    "submissions",
    metadata,
    _id(),
    sa.Column("milestone_id", BigInt, sa.ForeignKey("milestones.id"), nullable=False, index=True),
    _user_fk("freelancer_id"),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("files", json_list(), nullable=False, default=list),
    _created(),
)

disputes = sa.Table(
    "disputes",
    metadata,
    _id(),
    sa.Column("milestone_id", BigInt, sa.ForeignKey("milestones.id"), nullable=False, index=True),
    sa.Column("contract_id", BigInt, sa.ForeignKey("contracts.id"), nullable=False, index=True),
    _user_fk("opened_by"),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("evidence", json_list(), nullable=False, default=list),
    sa.Column("status", enum_column(DisputeStatus), nullable=False, index=True),
    sa.Column("proposed_share", sa.BigInteger),
    sa.Column("proposed_by", sa.BigInteger),
    sa.Column("resolution_share", sa.BigInteger),
    sa.Column("resolved_by", sa.BigInteger),
    _created(),
    sa.Column("resolved_at", UTCDateTime),
    # The dispute clock (migration 0006): the stage, its deadline, reminders, the admin.
    sa.Column("resolution_reason", sa.Text, nullable=False, default=""),
    sa.Column("stage", enum_column(DisputeStage), nullable=False),
    sa.Column("due_at", UTCDateTime, index=True),
    sa.Column("reminders_sent", sa.Integer, nullable=False, default=0),
    sa.Column("escalated_at", UTCDateTime),
    sa.Column("handled_by", sa.BigInteger),
    sa.Column("taken_at", UTCDateTime),
    sa.Column("admins_reminded_at", UTCDateTime),
)

messages = sa.Table(
    "contract_messages",
    metadata,
    _id(),
    sa.Column("contract_id", BigInt, sa.ForeignKey("contracts.id"), index=True),
    sa.Column("job_id", BigInt, sa.ForeignKey("jobs.id"), index=True),
    _user_fk("sender_id"),
    _user_fk("recipient_id"),
    sa.Column("text", sa.Text, nullable=False, default=""),
    sa.Column("files", json_list(), nullable=False, default=list),
    sa.Column("dispute_id", BigInt, sa.ForeignKey("disputes.id")),
    sa.Column("flagged_contact", sa.Boolean, nullable=False, default=False),
    _created(),
)

reviews = sa.Table(
    "reviews",
    metadata,
    _id(),
    sa.Column("contract_id", BigInt, sa.ForeignKey("contracts.id"), nullable=False, index=True),
    _user_fk("reviewer_id"),
    _user_fk("reviewee_id"),
    sa.Column("rating", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False, default=""),
    sa.Column("status", enum_column(ReviewStatus), nullable=False),
    _created(),
    sa.Column("revealed_at", UTCDateTime),
    sa.Column("sub1", sa.Integer),
    sa.Column("sub2", sa.Integer),
    sa.Column("sub3", sa.Integer),
    sa.Column("recommend", sa.Integer),
    sa.Column("end_reason", sa.String(16), nullable=False, default=""),
    sa.Column("reply", sa.Text, nullable=False, default=""),
    sa.Column("replied_at", UTCDateTime),
    sa.UniqueConstraint("contract_id", "reviewer_id", name="uq_reviews_contract_reviewer"),
    sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
)

saved_items = sa.Table(
    "saved_items",
    metadata,
    _id(),
    _user_fk("user_id"),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("target_id", sa.BigInteger, nullable=False),
    _created(),
    sa.UniqueConstraint("user_id", "kind", "target_id", name="uq_saved_items_user_kind_target"),
)

earned_badges = sa.Table(
    "earned_badges",
    metadata,
    _id(),
    _user_fk("user_id"),
    sa.Column("badge", sa.String(32), nullable=False),
    sa.Column("earned_at", UTCDateTime),
    sa.UniqueConstraint("user_id", "badge", name="uq_earned_badges_user_badge"),
)

subscriptions = sa.Table(
    "alert_subscriptions",
    metadata,
    _id(),
    _user_fk("user_id"),
    sa.Column("categories", json_list(), nullable=False, default=list),
    sa.Column("skills", json_list(), nullable=False, default=list),
    sa.Column("keywords", json_list(), nullable=False, default=list),
    sa.Column("min_budget", sa.BigInteger, nullable=False, default=0),
    sa.Column("mode", sa.String(8), nullable=False, default="instant"),
    sa.Column("paused", sa.Boolean, nullable=False, default=False),
    sa.Column("last_digest_at", UTCDateTime),
    _created(),
)

dismissals = sa.Table(
    "job_dismissals",
    metadata,
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("job_id", BigInt, sa.ForeignKey("jobs.id"), primary_key=True),
    _created(),
)

reports = sa.Table(
    "reports",
    metadata,
    _id(),
    _user_fk("reporter_id"),
    sa.Column("target_type", sa.String(8), nullable=False),
    sa.Column("target_id", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.String(8), nullable=False, default="open"),
    _created(),
)

# Blocking, contact-detail flags, moderation cases and ban appeals (migration 0009).
blocks = sa.Table(
    "blocks",
    metadata,
    sa.Column("blocker_id", sa.BigInteger, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("blocked_id", sa.BigInteger, sa.ForeignKey("users.id"), primary_key=True, index=True),
    _created(),
)

contact_flags = sa.Table(
    "contact_flags",
    metadata,
    _id(),
    _user_fk("user_id"),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("ref_id", sa.BigInteger),
    sa.Column("found", json_list(), nullable=False, default=list),
    sa.Column("case_id", sa.BigInteger, index=True),
    _created(),
)

moderation_cases = sa.Table(
    "moderation_cases",
    metadata,
    _id(),
    _user_fk("user_id"),
    sa.Column("status", sa.String(12), nullable=False, default="open", index=True),
    sa.Column("reason", sa.Text),
    sa.Column("decided_by", sa.BigInteger),
    sa.Column("decided_at", UTCDateTime),
    _created(),
)

appeals = sa.Table(
    "appeals",
    metadata,
    _id(),
    _user_fk("user_id"),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("ban_reason", sa.Text),
    sa.Column("ban_ref", sa.BigInteger),
    sa.Column("status", sa.String(12), nullable=False, default="open"),
    sa.Column("decided_by", sa.BigInteger),
    sa.Column("decided_at", UTCDateTime),
    _created(),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    sa.Column("admin_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.String(64), nullable=False),
    sa.Column("details", json_dict(), nullable=False, default=dict),
    _created(),
)

payments = sa.Table(
    "payments",
    metadata,
    _id(),
    sa.Column("milestone_id", BigInt, sa.ForeignKey("milestones.id"), nullable=False, index=True),
    _user_fk("payer_id"),
    sa.Column("gateway", sa.String(16), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", sa.String(12), nullable=False, index=True),
    sa.Column("external_id", sa.String(255), unique=True),
    sa.Column("checkout_url", sa.Text),
    sa.Column("charge_ref", sa.String(255)),
    sa.Column("refund_ref", sa.String(255)),
    sa.Column("failure_reason", sa.Text),
    _created(),
    sa.Column("updated_at", UTCDateTime),
    # The payer disputed the charge with their bank (migration 0008): it no longer
    # proves that they can pay ("💳 Payment verified").
    sa.Column("charged_back_at", UTCDateTime),
    # Telegram Payments (migration 0015): Telegram's charge id of a successful_payment
    # (the provider's, a Stripe charge, is charge_ref).
    sa.Column("telegram_charge_id", sa.String(255)),
    sa.UniqueConstraint("telegram_charge_id", name="uq_payments_telegram_charge_id"),
)

# What the payment gateway says of a user's identity (migration 0008): Stripe's
# account.updated or the sandbox's verification page write it, nobody else.
identity_verifications = sa.Table(
    "identity_verifications",
    metadata,
    sa.Column(
        "user_id", sa.BigInteger, sa.ForeignKey("users.id"), primary_key=True, autoincrement=False
    ),
    sa.Column("gateway", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reference", sa.String(255)),
    sa.Column("verified_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime),
)

payouts = sa.Table(
    "payouts",
    metadata,
    _id(),
    _user_fk("user_id"),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("gateway", sa.String(16), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("external_id", sa.String(255)),
    _created(),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
)

ledger_transactions = sa.Table(
    "ledger_transactions",
    metadata,
    _id(),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("memo", sa.Text, nullable=False, default=""),
    _created(),
)

postings = sa.Table(
    "postings",
    metadata,
    _id(),
    sa.Column(
        "transaction_id",
        BigInt,
        sa.ForeignKey("ledger_transactions.id"),
        nullable=False,
        index=True,
    ),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Index("ix_postings_account", "account", "currency"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    _id(),
    sa.Column("chat_id", sa.BigInteger, nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("payload", json_dict(), nullable=False),
    sa.Column("priority", sa.SmallInteger, nullable=False, default=1),
    sa.Column("status", sa.String(12), nullable=False, default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("not_before", UTCDateTime),
    _created(),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("error", sa.Text),
    sa.Column("message_id", sa.BigInteger),  # the Telegram message it became
    # A payload many rows share (a job's alert card, written once per language and
    # part: outbox_payloads); the row's own `payload` is then {} and readers see the
    # two merged (OutboxStore.claim, and the mapping below). Migration 0025.
    sa.Column("payload_id", sa.BigInteger),
    # The sender's query: pending rows, most urgent first, in order.
    sa.Index("ix_outbox_pending", "status", "priority", "id"),
    # The sender claims each chat's earliest undelivered row: the undelivered rows
    # by chat (partial: a fan-out's ~2,000 entries land on a different page each, and
    # an index of every row ever sent made that most of a publish's commit; 0025).
    sa.Index(
        "ix_outbox_chat_queued",
        "chat_id",
        "id",
        sqlite_where=sa.text("status IN ('pending', 'sending')"),
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    ),
    # A chat's rows that became messages (handlers/context.py: the screen's message).
    sa.Index(
        "ix_outbox_chat_sent",
        "chat_id",
        "id",
        sqlite_where=sa.text("message_id IS NOT NULL"),
        postgresql_where=sa.text("message_id IS NOT NULL"),
    ),
    # Is a shared payload still wanted? (its undelivered rows; storage/outbox_store.py)
    sa.Index(
        "ix_outbox_payload_id",
        "payload_id",
        "status",
        sqlite_where=sa.text("payload_id IS NOT NULL"),
        postgresql_where=sa.text("payload_id IS NOT NULL"),
    ),
)


class CompactJSON(sa.TypeDecorator[dict]):
    """A JSON object stored as text without ASCII escapes (Cyrillic 2 bytes a letter,
    not 6), or escaped when the text holds what UTF-8 cannot carry (a lone surrogate)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: dict | None, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = json.dumps(value, separators=(",", ":"))
        return text

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> dict | None:
        return None if value is None else json.loads(value)


# One payload shared by many outbox rows (their payload_id), deleted when the last of
# them is delivered or dropped (storage/outbox_store.py). Migration 0025.
outbox_payloads = sa.Table(
    "outbox_payloads",
    metadata,
    _id(),
    sa.Column("payload", CompactJSON(), nullable=False),
    _created(),
    # A job's alert card: the fan-out it belongs to, the language it is in and its
    # part (a card longer than a message is several). Kept while the fan-out is not
    # fully expanded, whatever became of the rows expanded so far. Migration 0026.
    sa.Column("fanout_id", sa.BigInteger),
    sa.Column("language", sa.String(8)),
    sa.Column("part", sa.SmallInteger),
    sa.Index(
        "ix_outbox_payloads_fanout",
        "fanout_id",
        sqlite_where=sa.text("fanout_id IS NOT NULL"),
        postgresql_where=sa.text("fanout_id IS NOT NULL"),
    ),
)

# A job's alerts as one record (issue 16, part 4; migration 0026): the recipients
# decided at publish time, packed (8 bytes a chat id, ascending), and the card by
# language in outbox_payloads (their fanout_id). The publish writes this row and
# its payloads; the outbox sender expands it into ordinary outbox rows `cursor`
# recipients at a time, each chunk in its own transaction with the cursor, and
# deletes it with its last chunk (storage/outbox_store.py).
outbox_fanouts = sa.Table(
    "outbox_fanouts",
    metadata,
    _id(),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("priority", sa.SmallInteger, nullable=False),
    sa.Column("default_language", sa.String(8), nullable=False),
    sa.Column("recipients", sa.LargeBinary, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("cursor", sa.Integer, nullable=False, default=0),
    _created(),
)

conversations = sa.Table(
    "conversation_states",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("flow", sa.String(32), nullable=False, default=""),
    sa.Column("step", sa.String(32), nullable=False, default=""),
    sa.Column("data", json_dict(), nullable=False, default=dict),
    sa.Column("updated_at", UTCDateTime),
    sa.Column("screen_message_id", sa.BigInteger),
    sa.Column("screen_outbox_id", sa.BigInteger),
)

drafts = sa.Table(
    "drafts",
    metadata,
    _id(),
    _user_fk("user_id"),
    sa.Column("flow", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(64), nullable=False, default=""),
    sa.Column("step", sa.String(32), nullable=False, default=""),
    sa.Column("data", json_dict(), nullable=False, default=dict),
    sa.Column("entry", sa.String(64), nullable=False, default=""),
    sa.Column("updated_at", UTCDateTime),
    sa.UniqueConstraint("user_id", "flow", "subject", name="uq_drafts_user_flow_subject"),
)

processed_updates = sa.Table(
    "processed_updates",
    metadata,
    sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
    # Ids older than the redelivery window are pruned (and may be reused by Telegram).
    sa.Column("processed_at", UTCDateTime, index=True),
)

# Where a retention job's walk stopped, by job name ("outbox": delivered outbox rows
# older than the retention are forgotten a bounded batch a tick, in id order from
# here; storage/outbox_retention.py). Migration 0027.
retention_cursors = sa.Table(
    "retention_cursors",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("after_id", sa.BigInteger, nullable=False, default=0),
    sa.Column("pass_started_at", UTCDateTime),
    sa.Column("caught_up", sa.Boolean, nullable=False, default=False),
)

stored_updates = sa.Table(
    "stored_updates",
    metadata,
    sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("payload", json_dict(), nullable=False),
    sa.Column("received_at", UTCDateTime),
    # Whose update it is: one person's updates are taken in update_id order (bot/intake.py).
    sa.Column("user_id", sa.BigInteger),
    sa.Index("ix_stored_updates_user_id", "user_id", "update_id"),
)

# Scale-out (docs/scale-out.md): a named lease with its holder and expiry — the
# scheduler's leader and each user's intake claim ("user:<id>") — and the bot's shared
# send spacing in epoch seconds on the database clock (bot/ratelimit.py).
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

send_budget = sa.Table(
    "send_budget",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("next_at", sa.Float, nullable=False),
)

# Stripe (bot/payments): webhook event ids already applied, so a replay is a
# no-op; and each freelancer's Connect Express account. Core tables, not mapped.
stripe_events = sa.Table(
    "stripe_events",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("received_at", UTCDateTime),
)

stripe_accounts = sa.Table(
    "stripe_accounts",
    metadata,
    sa.Column(
        "user_id", sa.BigInteger, sa.ForeignKey("users.id"), primary_key=True, autoincrement=False
    ),
    sa.Column("account_id", sa.String(255), nullable=False, unique=True),
    sa.Column("onboarded", sa.Boolean, nullable=False, default=False),
    _created(),
    sa.Column("updated_at", UTCDateTime),
)

# Every call that moves money outside (refund, payout, transfer) is committed here,
# with its fixed idempotency key, before the gateway is called; completed or
# reconciled from this row after any crash (domain/usecases/gateway_calls.py).
gateway_calls = sa.Table(
    "gateway_calls",
    metadata,
    _id(),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("gateway", sa.String(16), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("payment_id", sa.BigInteger),
    sa.Column("payout_id", sa.BigInteger),
    sa.Column("milestone_id", sa.BigInteger),
    sa.Column("user_id", sa.BigInteger),
    sa.Column("params", json_dict(), nullable=False, default=dict),
    sa.Column("external_id", sa.String(255)),
    sa.Column("error", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    _created(),
    sa.Column("updated_at", UTCDateTime),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.Index("ix_gateway_calls_due", "status", "id"),
)

# The sandbox gateway's own books (bot/payments/sandbox.py): one row per movement
# it made, by idempotency key, written in a transaction of its own like a bank's.
sandbox_movements = sa.Table(
    "sandbox_movements",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("external_id", sa.String(64), nullable=False),
    _created(),
)

# Secrets made at random once per database (e.g. the sandbox pay page's signing key).
app_secrets = sa.Table(
    "app_secrets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    _created(),
)

# Hourly contracts (domain/timesheet.py): the terms an hourly offer carried, each
# week (its escrow is a milestone) and the time logged in it.
hourly_terms = sa.Table(
    "hourly_terms",
    metadata,
    sa.Column("contract_id", BigInt, sa.ForeignKey("contracts.id"), primary_key=True),
    sa.Column("rate", sa.BigInteger, nullable=False),
    sa.Column("weekly_limit_hours", sa.Integer, nullable=False),
    sa.CheckConstraint("rate > 0", name="rate_positive"),
)

timesheet_weeks = sa.Table(
    "timesheet_weeks",
    metadata,
    _id(),
    sa.Column("contract_id", BigInt, sa.ForeignKey("contracts.id"), nullable=False, index=True),
    # NULL while a no-limit week is open: its invoice becomes a milestone at the close.
    sa.Column("milestone_id", BigInt, sa.ForeignKey("milestones.id"), nullable=True, unique=True),
    sa.Column("week_start", UTCDateTime, nullable=False),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("logged_minutes", sa.Integer, nullable=False, default=0),
    sa.Column("billed_minutes", sa.Integer, nullable=False, default=0),
    sa.Column("invoice", sa.BigInteger, nullable=False, default=0),
    sa.Column("paid", sa.BigInteger),
    sa.Column("reason", sa.Text),
    sa.Column("review_until", UTCDateTime, index=True),
    sa.Column("settled_at", UTCDateTime),
    sa.Column("overdue_at", UTCDateTime),
    sa.UniqueConstraint("contract_id", "week_start", name="uq_timesheet_weeks_contract_week"),
)

time_entries = sa.Table(
    "time_entries",
    metadata,
    _id(),
    sa.Column("week_id", BigInt, sa.ForeignKey("timesheet_weeks.id"), nullable=False, index=True),
    sa.Column("contract_id", BigInt, sa.ForeignKey("contracts.id"), nullable=False, index=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("minutes", sa.Integer, nullable=False),
    sa.Column("memo", sa.Text, nullable=False, default=""),
    _created(),
    sa.Column("updated_at", UTCDateTime),
    sa.CheckConstraint("minutes > 0", name="minutes_positive"),
)

# ---- Services catalogue (issue 15; migration 0018): a seller's packaged services,
# their packages and extras, and the orders bought from them (domain/services.py).
services = sa.Table(
    "services",
    metadata,
    _id(),
    _user_fk("seller_id"),
    sa.Column("title", sa.String(120), nullable=False, default=""),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("category", sa.String(64)),
    sa.Column("skills", json_list(), nullable=False, default=list),
    sa.Column("status", enum_column(ServiceStatus), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("questions", json_list(), nullable=False, default=list),
    sa.Column("samples", json_list(), nullable=False, default=list),
    _created(),
    sa.Column("published_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime),
    sa.Index("ix_services_listing", "status", "category", "published_at", "id"),
    sa.Index("ix_services_seller", "seller_id", "status"),
)

service_packages = sa.Table(
    "service_packages",
    metadata,
    _id(),
    sa.Column(
        "service_id",
        BigInt,
        sa.ForeignKey("services.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("tier", sa.String(8), nullable=False),
    sa.Column("name", sa.String(60), nullable=False),
    sa.Column("included", sa.Text, nullable=False, default=""),
    sa.Column("price", sa.BigInteger, nullable=False),
    sa.Column("delivery_days", sa.Integer, nullable=False),
    sa.Column("revisions", sa.Integer, nullable=False, default=0),
    sa.UniqueConstraint("service_id", "tier", name="uq_service_packages_service_tier"),
    sa.CheckConstraint("price > 0", name="price_positive"),
    sa.CheckConstraint("delivery_days >= 1", name="delivery_days_positive"),
    sa.CheckConstraint("revisions >= 0", name="revisions_not_negative"),
)

service_extras = sa.Table(
    "service_extras",
    metadata,
    _id(),
    sa.Column(
        "service_id",
        BigInt,
        sa.ForeignKey("services.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("position", sa.Integer, nullable=False, default=1),
    sa.Column("title", sa.String(80), nullable=False),
    sa.Column("price", sa.BigInteger, nullable=False),
    sa.Column("days_delta", sa.Integer, nullable=False, default=0),
    sa.CheckConstraint("price > 0", name="price_positive"),
)

service_orders = sa.Table(
    "service_orders",
    metadata,
    _id(),
    sa.Column("service_id", BigInt, sa.ForeignKey("services.id"), nullable=False, index=True),
    # Nullable until the contract is created (in the same unit of work).
    sa.Column("contract_id", BigInt, sa.ForeignKey("contracts.id"), index=True),
    _user_fk("buyer_id"),
    sa.Column("seller_id", sa.BigInteger, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("tier", sa.String(8), nullable=False),
    # The package as bought.
    sa.Column("package_name", sa.String(60), nullable=False),
    sa.Column("package_included", sa.Text, nullable=False, default=""),
    sa.Column("package_price", sa.BigInteger, nullable=False),
    sa.Column("package_delivery_days", sa.Integer, nullable=False),
    sa.Column("package_revisions", sa.Integer, nullable=False, default=0),
    sa.Column("extras", json_list(), nullable=False, default=list),
    sa.Column("answers", json_list(), nullable=False, default=list),
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", enum_column(ServiceOrderStatus), nullable=False),
    sa.Column("accept_by", UTCDateTime),
    sa.Column("due_at", UTCDateTime),
    sa.Column("revisions_allowed", sa.Integer, nullable=False, default=0),
    sa.Column("revisions_used", sa.Integer, nullable=False, default=0),
    _created(),
    sa.Column("paid_at", UTCDateTime),
    sa.Column("accepted_at", UTCDateTime),
    sa.Column("delivered_at", UTCDateTime),
    sa.Column("ended_at", UTCDateTime),
    sa.CheckConstraint("total > 0", name="total_positive"),
    sa.Index("ix_service_orders_seller", "seller_id", "status"),
    sa.Index("ix_service_orders_accept_by", "status", "accept_by"),
    sa.Index("ix_service_orders_due_at", "status", "due_at"),
)
# ---- end of the services catalogue section

# The services catalogue's search index (migration 0019; storage/service_search.py keeps
# it in step): one row per service in the catalogue with what filters and ranking read
# and its searchable text (the full text itself is dialect-specific, not modelled here).
service_index = sa.Table(
    "service_index",
    metadata,
    sa.Column(
        "service_id",
        BigInt,
        sa.ForeignKey("services.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "seller_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("category", sa.String(64)),
    sa.Column("min_price", sa.BigInteger, nullable=False),  # the cheapest package
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("min_days", sa.Integer, nullable=False),  # the fastest package
    sa.Column("rating_x10", sa.Integer, nullable=False),  # the seller's; 0: none
    sa.Column("ratings", sa.Integer, nullable=False),
    sa.Column("completed", sa.Integer, nullable=False),
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),  # the seller's domain.talent.record_rank
    sa.Column("published_at", UTCDateTime),
    sa.Column("title", sa.String(120), nullable=False),
    sa.Column("skills", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # description, package names and contents
    # Record order, then the filters' columns (migration 0023): a walk never reads rows.
    sa.Index(
        "ix_service_index_rank",
        "rank",
        "published_at",
        "service_id",
        "category",
        "min_price",
        "min_days",
        "rating_x10",
        "ratings",
        "verified",
        "seller_id",
    ),
    sa.Index(
        "ix_service_index_category",
        "category",
        "rank",
        "published_at",
        "service_id",
        "min_price",
        "min_days",
        "rating_x10",
        "ratings",
        "verified",
        "seller_id",
    ),
    sa.Index("ix_service_index_seller", "seller_id"),
)

MAPPED: dict[type, sa.Table] = {
    e.User: users,
    e.FreelancerProfile: profiles,
    e.Job: jobs,
    e.Pitch: pitches,
    e.Invitation: invitations,
    e.Contract: contracts,
    e.Milestone: milestones,
    e.Submission: submissions,
    e.Dispute: disputes,
    e.ContractMessage: messages,
    e.Review: reviews,
    sv.SavedItem: saved_items,
    sv.EarnedBadge: earned_badges,
    e.AlertSubscription: subscriptions,
    e.JobDismissal: dismissals,
    e.Report: reports,
    e.AuditEntry: audit_log,
    e.Block: blocks,
    e.ContactFlag: contact_flags,
    e.ModerationCase: moderation_cases,
    e.Appeal: appeals,
    e.Payment: payments,
    e.Payout: payouts,
    e.IdentityVerification: identity_verifications,
    e.LedgerTransaction: ledger_transactions,
    e.Posting: postings,
    e.OutboxMessage: outbox,
    e.ConversationState: conversations,
    e.Draft: drafts,
    e.ProcessedUpdate: processed_updates,
    e.StoredUpdate: stored_updates,
    e.GatewayCall: gateway_calls,
    ts.HourlyTerms: hourly_terms,
    ts.TimesheetWeek: timesheet_weeks,
    ts.TimeEntry: time_entries,
    svc.Service: services,
    svc.ServicePackage: service_packages,
    svc.ServiceExtra: service_extras,
    svc.ServiceOrder: service_orders,
}


def map_entities() -> None:
    """Map the domain dataclasses once per process (idempotent)."""
    if getattr(map_entities, "done", False):
        return
    for cls, table in MAPPED.items():
        mapper_registry.map_imperatively(cls, table, properties=_PROPERTIES.get(cls))
    event.listen(e.OutboxMessage, "load", _with_shared_payload)
    event.listen(e.OutboxMessage, "refresh", _with_shared_payload)
    map_entities.done = True  # type: ignore[attr-defined]


# An outbox row read through the ORM carries its shared payload (outbox_payloads)
# merged into its own, as OutboxStore.claim gives it the sender: the same row shape
# whether the payload was written per row or once for many.
_PROPERTIES = {
    e.OutboxMessage: {
        "shared_payload": column_property(
            sa.select(outbox_payloads.c.payload)
            .where(outbox_payloads.c.id == outbox.c.payload_id)
            .scalar_subquery()
        )
    }
}


def _with_shared_payload(row: e.OutboxMessage, *_: object) -> None:
    shared = getattr(row, "shared_payload", None)
    if shared:
        set_committed_value(row, "payload", {**shared, **(row.payload or {})})
