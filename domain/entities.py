"""The marketplace's entities: plain dataclasses, persisted by storage/ through
imperative mapping, so the domain stays free of any framework or I/O.

Ids of users are their Telegram user ids. Amounts are integer minor units in
the entity's `currency`. Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from typing import Any

from domain.money import Money
from domain.states import (
    CONTRACT,
    DISPUTE,
    JOB,
    MILESTONE,
    PITCH,
    REVIEW,
    ContractStatus,
    DisputeStage,
    DisputeStatus,
    JobStatus,
    MilestoneStatus,
    PitchStatus,
    ReviewStatus,
)


@dataclass(kw_only=True, eq=False)
class User:
    id: int  # the Telegram user id
    name: str = ""
    username: str | None = None
    language: str = "en"
    is_client: bool = False
    is_freelancer: bool = False
    banned: bool = False
    ban_reason: str | None = None
    unreachable: bool = False  # the user blocked the bot (403)
    created_at: datetime | None = None
    last_active_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class FreelancerProfile:
    user_id: int
    headline: str = ""
    bio: str = ""
    category: str | None = None
    skills: list[str] = field(default_factory=list)  # taxonomy slugs
    tags: list[str] = field(default_factory=list)  # free tags
    hourly_rate: int | None = None  # minor units
    currency: str = "USD"
    years_experience: int | None = None
    portfolio: list[str] = field(default_factory=list)
    certifications: list[str] = field(default_factory=list)
    updated_at: datetime | None = None
    availability: str = "available"  # domain.talent.Availability
    away_until: date | None = None  # while "away": the last day away


@dataclass(kw_only=True, eq=False)
class Job:
    id: int | None = None
    client_id: int
    title: str
    description: str = ""
    category: str | None = None
    skills: list[str] = field(default_factory=list)
    budget_type: str = "fixed"  # "fixed" or "hourly"
    budget: int = 0  # minor units: the whole budget, or the hourly rate
    currency: str = "USD"
    deadline: date | None = None
    status: JobStatus = JobStatus.DRAFT
    created_at: datetime | None = None
    published_at: datetime | None = None
    # Jobs that end (domain/usecases/job_expiry.py): the last activity, and when the
    # client was asked "Still hiring?" (None: not asked since that activity).
    active_at: datetime | None = None
    expiry_asked_at: datetime | None = None

    def apply(self, action: str) -> None:
        self.status = JOB.next(self.status, action)


@dataclass(kw_only=True, eq=False)
class Pitch:
    id: int | None = None
    job_id: int
    freelancer_id: int
    cover_letter: str = ""
    price: int = 0  # minor units: fixed price, or hourly rate for hourly jobs
    currency: str = "USD"
    duration_days: int | None = None
    proposed_milestones: list[dict[str, Any]] = field(default_factory=list)
    invited: bool = False  # invited pitches do not count against the weekly quota
    status: PitchStatus = PitchStatus.PENDING
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def apply(self, action: str) -> None:
        self.status = PITCH.next(self.status, action)


@dataclass(kw_only=True, eq=False)
class Invitation:
    id: int | None = None
    job_id: int
    client_id: int
    freelancer_id: int
    created_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class Contract:
    id: int | None = None
    # None: a service order's contract (domain/usecases/service_orders.py), no job.
    job_id: int | None = None
    pitch_id: int | None = None
    client_id: int
    freelancer_id: int
    title: str = ""
    currency: str = "USD"
    # Fees are fixed when the offer is made, in basis points (500 = 5 %).
    client_fee_bp: int = 0
    freelancer_fee_bp: int = 0
    status: ContractStatus = ContractStatus.OFFERED
    offered_at: datetime | None = None
    expires_at: datetime | None = None
    accepted_at: datetime | None = None
    ended_at: datetime | None = None
    review_deadline: datetime | None = None  # double-blind reviews are revealed by then
    # Days the client has to review submitted work, when not GIGBOT_AUTO_RELEASE_DAYS
    # (a service order's GIGBOT_SERVICE_AUTO_COMPLETE_DAYS).
    auto_release_days: int | None = None

    def apply(self, action: str) -> None:
        self.status = CONTRACT.next(self.status, action)

    def party(self, user_id: int) -> str | None:
        if user_id == self.client_id:
            return "client"
        if user_id == self.freelancer_id:
            return "freelancer"
        return None


@dataclass(kw_only=True, eq=False)
class Milestone:
    id: int | None = None
    contract_id: int
    position: int = 1
    title: str
    amount: int  # minor units, what the freelancer's work is priced at
    currency: str = "USD"
    due_date: date | None = None
    status: MilestoneStatus = MilestoneStatus.PENDING
    funded_at: datetime | None = None
    submitted_at: datetime | None = None
    auto_release_at: datetime | None = None  # the end of the client's review window
    # Reminders of the current wait: review reminders once submitted (48 h, then
    # 24 h before auto-release); stalled-escrow nudges while funded with no submission.
    reminders_sent: int = 0
    settled_at: datetime | None = None
    # "work", or "bonus": a gift paid like a funding and released at once (bonus.py),
    # or "revision": a service order's paid extra revision, held in escrow and settled
    # with the order's milestone (service_orders.follow_order).
    kind: str = "work"
    proposed_by: int | None = None  # who proposed it on a running contract (PROPOSED)
    # A partial release the client offered (PARTIAL): the freelancer's share and why.
    partial_share: int | None = None
    partial_reason: str = ""

    def apply(self, action: str) -> None:
        self.status = MILESTONE.next(self.status, action)

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


@dataclass(kw_only=True, eq=False)
class Submission:
    id: int | None = None
    milestone_id: int
    freelancer_id: int
    message: str = ""
    files: list[str] = field(default_factory=list)  # Telegram file ids
    created_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class Dispute:
    id: int | None = None
    milestone_id: int
    contract_id: int
    opened_by: int
    reason: str
    evidence: list[str] = field(default_factory=list)  # file ids or text notes
    status: DisputeStatus = DisputeStatus.OPEN
    proposed_share: int | None = None  # freelancer's share, minor units
    proposed_by: int | None = None
    resolution_share: int | None = None
    resolved_by: int | None = None
    created_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution_reason: str = ""  # the admin's words to both parties
    # The clock: the stage and its deadline (None once an admin is awaited).
    stage: DisputeStage = DisputeStage.RESPONSE
    due_at: datetime | None = None
    reminders_sent: int = 0  # before due_at, in the response stage
    escalated_at: datetime | None = None  # since when an admin is awaited
    handled_by: int | None = None  # the admin who took it
    taken_at: datetime | None = None
    admins_reminded_at: datetime | None = None

    def apply(self, action: str) -> None:
        self.status = DISPUTE.next(self.status, action)


@dataclass(kw_only=True, eq=False)
class ContractMessage:
    """A message between the parties, kept with the contract as the record."""

    id: int | None = None
    contract_id: int | None = None
    job_id: int | None = None  # messages before a contract (client ↔ pitching freelancer)
    sender_id: int
    recipient_id: int
    text: str = ""
    files: list[str] = field(default_factory=list)
    dispute_id: int | None = None
    flagged_contact: bool = False
    created_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class Review:
    id: int | None = None
    contract_id: int
    reviewer_id: int
    reviewee_id: int
    rating: int
    text: str = ""
    status: ReviewStatus = ReviewStatus.HIDDEN
    created_at: datetime | None = None
    revealed_at: datetime | None = None
    # Three sub-ratings 1–5 (a freelancer: quality, communication, deadlines; a
    # client: clarity, communication, payment promptness); None on older reviews.
    sub1: int | None = None
    sub2: int | None = None
    sub3: int | None = None
    # Private feedback, never shown to the reviewee: would you recommend them
    # (0–10), and why the contract ended (domain.usecases.reviews.END_REASONS).
    recommend: int | None = None
    end_reason: str = ""
    reply: str = ""  # the reviewee's one public reply
    replied_at: datetime | None = None

    def apply(self, action: str) -> None:
        self.status = REVIEW.next(self.status, action)


@dataclass(kw_only=True, eq=False)
class AlertSubscription:
    id: int | None = None
    user_id: int
    categories: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    min_budget: int = 0  # minor units
    mode: str = "instant"  # "instant" or "daily"
    paused: bool = False
    last_digest_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class JobDismissal:
    """A freelancer said "Not interested" to a job."""

    user_id: int
    job_id: int
    created_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class Report:
    id: int | None = None
    reporter_id: int
    target_type: str  # "job" or "user"
    target_id: int
    reason: str
    status: str = "open"  # "open" or "closed"
    created_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class Block:
    """`blocker_id` blocked `blocked_id`: no contact between them either way
    (domain/usecases/blocking.py has the rule)."""

    blocker_id: int
    blocked_id: int
    created_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class ContactFlag:
    """Contact details spotted in a text someone wrote before a contract
    (domain/usecases/moderation.py). The text was saved; this is the record."""

    id: int | None = None
    user_id: int
    source: str  # job, pitch, profile, message
    ref_id: int | None = None  # the job, pitch or message; the profile is the user's
    found: list[str] = field(default_factory=list)
    case_id: int | None = None  # the moderation case it went into, if any
    created_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class ModerationCase:
    """Repeated contact details by one user, waiting for an admin: status "open",
    then "dismissed", "warned" or "banned" with the admin's reason."""

    id: int | None = None
    user_id: int
    status: str = "open"
    reason: str | None = None
    decided_by: int | None = None
    decided_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class Appeal:
    """A banned user's one appeal against a ban (`ban_ref`: the ban's audit entry)."""

    id: int | None = None
    user_id: int
    text: str
    ban_reason: str | None = None
    ban_ref: int | None = None
    status: str = "open"  # open, accepted (unbanned), rejected
    decided_by: int | None = None
    decided_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class AuditEntry:
    id: int | None = None
    admin_id: int
    action: str
    target: str
    details: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class Payment:
    """One attempt to fund a milestone through a gateway."""

    id: int | None = None
    milestone_id: int
    payer_id: int
    gateway: str
    amount: int  # what the payer is charged: milestone amount plus client fee
    currency: str = "USD"
    status: str = "pending"  # pending, succeeded, failed, expired
    external_id: str | None = None  # the gateway's id (Checkout Session, PaymentIntent …)
    checkout_url: str | None = None
    charge_ref: str | None = None  # the gateway's charge, for refunds and transfers
    refund_ref: str | None = None  # the gateway's refund of a late payment
    failure_reason: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    charged_back_at: datetime | None = None  # the payer disputed the charge at their bank
    telegram_charge_id: str | None = None  # Telegram Payments' own id of the charge


@dataclass(kw_only=True, eq=False)
class IdentityVerification:
    """What the payment gateway last said of a user's identity: "verified",
    "pending" or "unverified". Written only from the gateway's word (Stripe's
    account.updated, the sandbox's verification page), never by the user."""

    user_id: int
    gateway: str
    status: str = "unverified"
    reference: str | None = None  # the gateway's id (a Stripe account)
    verified_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def verified(self) -> bool:
        return self.status == "verified"


@dataclass(kw_only=True, eq=False)
class Payout:
    id: int | None = None
    user_id: int
    amount: int
    currency: str = "USD"
    gateway: str = "sandbox"
    status: str = "pending"  # pending, paid, failed
    external_id: str | None = None
    created_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class GatewayCall:
    """A call that moves money outside (refund, payout, transfer), committed with
    its fixed idempotency key before the gateway is called. `due` until the
    gateway answered; then `done` (with the gateway's id) or `failed`."""

    id: int | None = None
    key: str
    kind: str  # refund, payout, transfer
    gateway: str
    amount: int
    currency: str
    status: str = "due"  # due, done, failed
    payment_id: int | None = None  # the funding payment a refund returns
    payout_id: int | None = None
    milestone_id: int | None = None
    user_id: int | None = None  # who receives the money
    # What the gateway needs, fixed with the intent (e.g. Stripe's charge to refund,
    # the destination account, source_transaction, transfer_group).
    params: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    error: str | None = None
    attempts: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class LedgerTransaction:
    id: int | None = None
    key: str  # unique idempotency key, e.g. "fund:milestone:42"
    kind: str  # fund, settle, payout, …
    memo: str = ""
    created_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class Posting:
    id: int | None = None
    transaction_id: int | None = None
    account: str
    amount: int  # minor units; the postings of one transaction sum to zero
    currency: str


@dataclass(kw_only=True, eq=False)
class OutboxMessage:
    """A message waiting to be delivered; written in the transaction that caused it."""

    id: int | None = None
    chat_id: int
    method: str = "send"  # send, edit, document, answer_callback
    payload: dict[str, Any] = field(default_factory=dict)
    priority: int = 1  # 0 reply to the person acting, 1 notification, 2 bulk alert
    status: str = "pending"  # pending, sent, failed, unreachable
    attempts: int = 0
    not_before: datetime | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    error: str | None = None
    message_id: int | None = None  # the Telegram message it became, once sent


@dataclass(kw_only=True, eq=False)
class ConversationState:
    user_id: int
    flow: str = ""
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None
    # The conversation's current screen (the message with its live buttons): a
    # message id when known, else the outbox row that sends it.
    screen_message_id: int | None = None
    screen_outbox_id: int | None = None

    def fields(self) -> tuple[Any, ...]:
        """The fields a step may change (STATE_FIELDS): what a read-first update
        compares before and after (handlers/engine.py, storage/reads.py)."""
        return tuple(getattr(self, name) for name in STATE_FIELDS)


# What ConversationState.fields() holds, in its order (storage/read_bookkeeping.py reads
# the columns so): every field but the user's id, so a field added is compared too.
STATE_FIELDS = tuple(f.name for f in dataclass_fields(ConversationState) if f.name != "user_id")


def in_progress(fields: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
    """A conversation's fields if one is in progress (it names a flow), else None."""
    return fields if fields is not None and fields[0] else None


@dataclass(kw_only=True, eq=False)
class Draft:
    """A wizard left half-way by another command, kept to be continued later."""

    id: int | None = None
    user_id: int
    flow: str
    subject: str = ""  # which one of the flow's drafts (e.g. the job pitched on)
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    entry: str = ""  # the button data that started the wizard again ("Start over")
    updated_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class ProcessedUpdate:
    update_id: int
    processed_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class StoredUpdate:
    """An update accepted by the webhook, kept until it is handled (a crash loses nothing)."""

    update_id: int
    payload: dict[str, Any] = field(default_factory=dict)
    received_at: datetime | None = None
