"""Domain events: what happened, for the handlers to tell the people concerned.

A use case records an event in its unit of work (``uow.emit(MilestoneFunded(...))``);
the handlers render each event with the renderers registered for its class
(``@renders(MilestoneFunded)`` in handlers/), in the same transaction. Each kind is
a small frozen dataclass here, with keyword-only fields; ``kind`` is its stable
name, used in logs and counts. Amounts are minor units of ``currency``.

An event nobody is told about declares why in ``silent`` (read after the commit,
or only logged and counted); tests/flows/test_events.py fails on an event that is
neither rendered nor silent, and on a renderer of anything but an event class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

E = TypeVar("E", bound=type["Event"])

#: kind → class, of every event (filled by ``@event``).
EVENTS: dict[str, type[Event]] = {}


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every domain event."""

    kind: ClassVar[str] = ""
    #: Why nobody is told (None: the event is rendered).
    silent: ClassVar[str | None] = None


def event(cls: E) -> E:
    """Make `cls` a frozen, keyword-only dataclass and register its kind."""
    made = dataclass(frozen=True, kw_only=True)(cls)
    if not made.kind or made.kind in EVENTS:
        raise ValueError(f"event {cls.__name__}: kind {made.kind!r} missing or taken")
    EVENTS[made.kind] = made
    return made


# Shared fields (bases, not events themselves).


@dataclass(frozen=True, kw_only=True)
class ContractEvent(Event):
    contract_id: int
    client_id: int
    freelancer_id: int


@dataclass(frozen=True, kw_only=True)
class MilestoneEvent(ContractEvent):
    milestone_id: int
    amount: int
    currency: str


@dataclass(frozen=True, kw_only=True)
class DisputeEvent(MilestoneEvent):
    dispute_id: int


@dataclass(frozen=True, kw_only=True)
class JobEvent(Event):
    job_id: int
    client_id: int


@dataclass(frozen=True, kw_only=True)
class PitchEvent(Event):
    pitch_id: int
    job_id: int
    client_id: int
    freelancer_id: int


@dataclass(frozen=True, kw_only=True)
class GatewayCallEvent(Event):
    """A gateway call's intent (domain.usecases.gateway_calls)."""

    call_id: int
    call_kind: str
    gateway: str
    amount: int
    currency: str
    milestone_id: int | None
    payment_id: int | None
    payout_id: int | None
    user_id: int | None


@dataclass(frozen=True, kw_only=True)
class LatePaymentEvent(Event):
    """A payment that arrived for a milestone that no longer needed it."""

    payment_id: int
    milestone_id: int
    payer_id: int
    amount: int
    currency: str


# accounts


@event
class UserRegistered(Event):
    kind = "user_registered"
    silent = "the new user is answered by /start itself"
    user_id: int


@event
class UserBanned(Event):
    kind = "user_banned"
    user_id: int
    reason: str | None


@event
class UserUnbanned(Event):
    kind = "user_unbanned"
    user_id: int


# jobs / alerts


@event
class JobPublished(JobEvent):
    kind = "job_published"
    silent = "the client is answered by the flow; freelancers get JobAlert"


@event
class JobAlert(Event):
    """A published job's instant alerts: every user with a matching instant
    subscription, in one event (a publish names ~2,000; an event each cost the
    publish 3-4 ms to make and to route to the renderer)."""

    kind = "job_alert"
    job_id: int
    user_ids: tuple[int, ...]


@event
class JobDigest(Event):
    """Daily subscriptions' new matches (deadlines.daily_digest)."""

    kind = "job_digest"
    user_id: int
    job_ids: list[int]


@event
class JobPaused(JobEvent):
    kind = "job_paused"
    silent = "the client is answered by the flow"


@event
class JobResumed(JobEvent):
    kind = "job_resumed"
    silent = "the client is answered by the flow"


@event
class JobClosed(JobEvent):
    kind = "job_closed"


@event
class JobHeldAfterHire(JobEvent):
    """A hire took the open job off the market (paused: no new pitches, hiring goes
    on); the client is asked to close it or keep it open (jobs.hold_after_hire)."""

    kind = "job_held_after_hire"
    contract_id: int


# pitches


@event
class PitchReceived(PitchEvent):
    kind = "pitch_received"
    price: int
    currency: str


@event
class PitchEdited(PitchEvent):
    kind = "pitch_edited"


@event
class PitchWithdrawn(PitchEvent):
    kind = "pitch_withdrawn"


@event
class PitchShortlisted(PitchEvent):
    kind = "pitch_shortlisted"


@event
class PitchDeclined(PitchEvent):
    kind = "pitch_declined"


@event
class FreelancerInvited(Event):
    kind = "freelancer_invited"
    invitation_id: int
    job_id: int
    client_id: int
    freelancer_id: int


# contracts


@event
class OfferSent(ContractEvent):
    kind = "offer_sent"
    job_id: int
    total: int
    currency: str


@event
class OfferAccepted(ContractEvent):
    kind = "offer_accepted"


@event
class CounterAccepted(ContractEvent):
    kind = "counter_accepted"


@event
class OfferWithdrawn(ContractEvent):
    kind = "offer_withdrawn"


@event
class OfferExpired(ContractEvent):
    kind = "offer_expired"


@event
class OfferDeclined(ContractEvent):
    kind = "offer_declined"
    reason: str


@event
class OfferCountered(ContractEvent):
    kind = "offer_countered"
    total: int


@event
class OfferRevised(ContractEvent):
    kind = "offer_revised"
    total: int


@event
class MilestoneAdded(MilestoneEvent):
    kind = "milestone_added"


@event
class ContractEnded(ContractEvent):
    kind = "contract_ended"
    ended_by: int
    #: The one who ended it was shown the stars in place ("End contract and rate"),
    #: so only the other party is sent the rating prompt.
    rating_shown: bool = False


@event
class ContractSettled(ContractEvent):
    """The last milestone of an active contract was settled (released, refunded or
    split) and none is left to fund or settle: both parties are offered to end the
    contract and rate at once (contracts.offer_end_when_settled)."""

    kind = "contract_settled"


# payments


@event
class FundingStarted(Event):
    kind = "funding_started"
    milestone_id: int
    contract_id: int
    payment_id: int
    client_id: int
    amount: int
    client_fee: int
    total: int
    currency: str
    url: str
    shown_in: int | None  # the message the payer waits in, edited in place


@event
class CheckoutDue(Event):
    kind = "checkout_due"
    silent = "read after the commit (handlers/gateway_calls.py)"
    payment_id: int
    gateway: str
    shown_in: int | None  # the message the payer waits in, edited in place


@event
class MilestoneFunded(MilestoneEvent):
    kind = "milestone_funded"
    total: int  # charged, with the client fee


@event
class PaymentFailed(Event):
    kind = "payment_failed"
    payment_id: int
    milestone_id: int
    client_id: int
    reason: str | None


@event
class PaymentDeclined(Event):
    """The payer's bank or card refused (bot/payments/confirm.py)."""

    kind = "payment_declined"
    payment_id: int
    milestone_id: int
    client_id: int
    code: str | None


@event
class PaymentRefundDue(LatePaymentEvent):
    """Not refunded yet: the gateway's refusal code in `error`."""

    kind = "payment_refund_due"
    error: str | None


@event
class LatePaymentRefunded(LatePaymentEvent):
    """Given back in full through its gateway."""

    kind = "late_payment_refunded"
    refund_id: str
    why: str


@event
class PaymentMismatch(Event):
    """A gateway's news that does not match the payment (payment_checks)."""

    kind = "payment_mismatch"
    payment_id: int
    milestone_id: int
    payer_id: int
    gateway: str
    ref: str  # the gateway's object
    account: str | None  # the connected account it came from, if any
    reasons: list[str]  # amount, currency, connected_account, other_mode, not_this_payment
    expected_amount: int
    expected_currency: str
    amount: int | None  # what the gateway says it took
    currency: str | None
    refund_due: bool  # the payment can never fund and its money is being refunded


# milestones


@event
class WorkSubmitted(MilestoneEvent):
    kind = "work_submitted"
    submission_id: int
    auto_release_at: str  # ISO


@event
class ChangesRequested(MilestoneEvent):
    kind = "changes_requested"
    note: str


@event
class MilestoneReleased(MilestoneEvent):
    kind = "milestone_released"
    to_freelancer: int
    fees: int
    auto: bool  # by the deadline


@event
class MilestoneRefunded(MilestoneEvent):
    kind = "milestone_refunded"
    refunded_by: int
    to_client: int


@event
class MilestoneCancelled(MilestoneEvent):
    kind = "milestone_cancelled"


@event
class EscrowStalled(MilestoneEvent):
    """A funded milestone has no submission `days_overdue` days past its due date;
    both parties are nudged (again at `next_nudge`)."""

    kind = "escrow_stalled"
    due_date: str  # ISO date
    days_overdue: int
    next_nudge: str  # ISO, UTC


@event
class ReleaseReminder(Event):
    kind = "release_reminder"
    milestone_id: int
    contract_id: int
    client_id: int
    hours_left: int
    auto_release_at: str  # ISO


# disputes


@event
class DisputeOpened(DisputeEvent):
    kind = "dispute_opened"
    opened_by: int
    reason: str  # as typed
    notes: list[dict[str, Any]]  # the opener's evidence: {text, files: how many}


@event
class DisputeAnswered(DisputeEvent):
    kind = "dispute_answered"
    sender_id: int


@event
class SplitProposed(DisputeEvent):
    kind = "split_proposed"
    proposed_by: int
    share: int


@event
class SplitRejected(DisputeEvent):
    kind = "split_rejected"
    rejected_by: int


@event
class DisputeSettled(DisputeEvent):
    """The parties agreed."""

    kind = "dispute_settled"
    share: int
    to_freelancer: int
    to_client: int


@event
class DisputeResolved(DisputeEvent):
    """An admin decided."""

    kind = "dispute_resolved"
    share: int
    to_freelancer: int
    to_client: int
    reason: str = ""  # the admin's words to both parties


@event
class DisputeNegotiating(DisputeEvent):
    """The other party answered: the parties have until `due_at` to agree a split."""

    kind = "dispute_negotiating"
    silent = "said within the answer's notification and the answerer's reply (next_step)"
    due_at: str  # ISO, UTC


@event
class DisputeReminder(DisputeEvent):
    """The other party has not answered; the dispute settles for the opener at `due_at`."""

    kind = "dispute_reminder"
    opened_by: int
    hours_left: int
    due_at: str  # ISO, UTC


@event
class DisputeLapsed(DisputeEvent):
    """Nobody answered in time: settled for the opener."""

    kind = "dispute_lapsed"
    opened_by: int
    share: int
    to_freelancer: int
    to_client: int


@event
class DisputeEscalated(DisputeEvent):
    """The parties did not agree in time: the dispute waits for an admin."""

    kind = "dispute_escalated"


@event
class DisputeTaken(DisputeEvent):
    """An admin handles the dispute from now (`previous`: the admin who had it)."""

    kind = "dispute_taken"
    admin_id: int
    previous: int | None = None


@event
class DisputeAdminReminder(DisputeEvent):
    """A dispute has waited for an admin for days: every admin is reminded."""

    kind = "dispute_admin_reminder"
    waiting_since: str  # ISO, UTC
    handled_by: int | None = None


@event
class DisputeWithdrawn(DisputeEvent):
    kind = "dispute_withdrawn"
    withdrawn_by: int


@event
class MilestoneFrozen(ContractEvent):
    kind = "milestone_frozen"
    milestone_id: int
    payment_id: int


@event
class ChargebackAfterSettlement(ContractEvent):
    kind = "chargeback_after_settlement"
    milestone_id: int
    payment_id: int
    status: str


@event
class FrozenResolved(ContractEvent):
    kind = "frozen_resolved"
    milestone_id: int
    share: int
    to_freelancer: int
    to_client: int


# gateway calls and payouts


@event
class GatewayCallDue(Event):
    kind = "gateway_call_due"
    silent = "read after the commit (handlers/gateway_calls.py)"
    call_id: int
    gateway: str


@event
class RefundSent(GatewayCallEvent):
    kind = "refund_sent"
    silent = "nobody waits for it: the payer was told when the refund was decided"
    refund_id: str


@event
class PayoutFailed(GatewayCallEvent):
    kind = "payout_failed"
    error: str | None


@event
class GatewayCallFailed(GatewayCallEvent):
    kind = "gateway_call_failed"
    error: str | None
    final: bool


@event
class GatewayCallHeld(GatewayCallEvent):
    kind = "gateway_call_held"


@event
class PayoutRequested(Event):
    kind = "payout_requested"
    silent = "the requester is answered by the flow"
    payout_id: int
    user_id: int
    amount: int
    currency: str


@event
class PayoutSent(Event):
    kind = "payout_sent"
    payout_id: int
    user_id: int
    milestone_id: int | None  # a transfer for one milestone
    amount: int
    currency: str
    external_id: str


# messaging


@event
class MessageSent(Event):
    kind = "message_sent"
    message_id: int
    sender_id: int
    recipient_id: int
    contract_id: int | None
    job_id: int | None


@event
class ContactDetailsWarning(Event):
    kind = "contact_details_warning"
    silent = "the sender is warned by the flow; the message is flagged"
    message_id: int
    sender_id: int
    recipient_id: int
    found: list[str]


# reviews and reports


@event
class ReviewLeft(Event):
    kind = "review_left"
    contract_id: int
    review_id: int
    reviewer_id: int
    reviewee_id: int


@event
class ReviewsRevealed(Event):
    kind = "reviews_revealed"
    contract_id: int
    review_ids: list[int]
    user_ids: list[int]


@event
class ReviewReplied(Event):
    kind = "review_replied"
    contract_id: int
    review_id: int
    reviewer_id: int
    reviewee_id: int  # who replied


@event
class BadgeEarned(Event):
    kind = "badge_earned"
    user_id: int
    badge: str  # a domain.reputation.BADGES name


@event
class BadgeLost(Event):
    kind = "badge_lost"
    user_id: int
    badge: str


@event
class ReportFiled(Event):
    kind = "report_filed"
    report_id: int
    reporter_id: int
    target_type: str
    target_id: int


# verified badges (domain/usecases/verification.py)


@event
class IdentityVerificationChanged(Event):
    """The gateway verified a user's identity (verified=True) or no longer does."""

    kind = "identity_verification_changed"
    user_id: int
    verified: bool


@event
class PaymentVerificationChanged(Event):
    """A client's first payment succeeded (verified=True), or the last one that
    proved they can pay was charged back (verified=False)."""

    kind = "payment_verification_changed"
    user_id: int
    verified: bool


# blocking and moderation (domain/usecases/blocking.py, moderation.py)


@event
class UserBlocked(Event):
    kind = "user_blocked"
    silent = "the blocked person is not told (as in Telegram); the blocker sees the flow's answer"
    blocker_id: int
    blocked_id: int


@event
class UserUnblocked(Event):
    kind = "user_unblocked"
    silent = "nobody else is told; the flow answers the one who unblocked"
    blocker_id: int
    blocked_id: int


@event
class ContactDetailsFlagged(Event):
    """Contact details in a text saved before a contract: the author is warned."""

    kind = "contact_details_flagged"
    flag_id: int
    user_id: int
    source: str  # job, pitch, profile, message
    found: list[str]


@event
class ModerationCaseOpened(Event):
    kind = "moderation_case_opened"
    case_id: int
    user_id: int
    flags: int


@event
class ModerationDecided(Event):
    kind = "moderation_decided"
    case_id: int
    user_id: int
    admin_id: int
    decision: str  # dismissed, warned, banned
    reason: str | None


@event
class AppealFiled(Event):
    kind = "appeal_filed"
    appeal_id: int
    user_id: int


@event
class AppealDecided(Event):
    kind = "appeal_decided"
    appeal_id: int
    user_id: int
    admin_id: int
    accepted: bool


# bonuses, partial releases, milestones added later (domain/usecases/bonus.py,
# domain/usecases/proposals.py) and jobs that end (domain/usecases/job_expiry.py)


@event
class BonusPaid(MilestoneEvent):
    """A bonus payment was confirmed and released to the freelancer at once."""

    kind = "bonus_paid"
    to_freelancer: int
    fees: int  # both fees the platform kept
    total: int  # what the client paid: amount + client fee


@event
class PartialReleaseOffered(MilestoneEvent):
    kind = "partial_release_offered"
    share: int  # of the amount, before the freelancer fee
    reason: str


@event
class PartialReleaseWithdrawn(MilestoneEvent):
    """A partial release taken back by the client, or lapsed unanswered (`lapsed`):
    the work is under review again, released by itself at `auto_release_at`."""

    kind = "partial_release_withdrawn"
    share: int
    lapsed: bool
    auto_release_at: str  # ISO


@event
class PartialReleaseAccepted(MilestoneEvent):
    kind = "partial_release_accepted"
    share: int
    to_freelancer: int
    to_client: int  # refunded: the rest of the amount and its client fee
    fees: int


@event
class MilestoneProposed(MilestoneEvent):
    kind = "milestone_proposed"
    proposed_by: int


@event
class MilestoneProposalDecided(MilestoneEvent):
    kind = "milestone_proposal_decided"
    proposed_by: int
    accepted: bool


@event
class JobStillHiring(JobEvent):
    """No activity for the expiry days: the client is asked "Still hiring?"."""

    kind = "job_still_hiring"
    closes_at: str  # ISO datetime: closed then without an answer


@event
class JobExpired(JobEvent):
    """Unanswered, the job closed; freelancers with pending pitches are told."""

    kind = "job_expired"
    freelancer_ids: list[int]


# hourly contracts (domain/usecases/hourly.py)


@event
class WeekOpened(MilestoneEvent):
    """A week of an hourly contract started: its escrow (the milestone) awaits funding."""

    kind = "week_opened"
    week_id: int
    week_start: str  # ISO date
    rate: int
    limit_hours: int


@event
class InvoiceIssued(MilestoneEvent):
    """A week closed into an invoice the client reviews until `review_until`."""

    kind = "invoice_issued"
    week_id: int
    week_start: str
    logged_minutes: int
    billed_minutes: int
    invoice: int
    review_until: str  # ISO moment, UTC


@event
class InvoicePaid(MilestoneEvent):
    """A week's escrow settled: `paid` of the invoice to the freelancer (less fees),
    the unused escrow back to the client."""

    kind = "invoice_paid"
    week_id: int
    week_start: str
    invoice: int
    paid: int
    to_freelancer: int
    fees: int
    refunded: int
    reason: str | None
    auto: bool


@event
class InvoiceOverdue(MilestoneEvent):
    """A no-limit week's invoice was not paid by `review_until`: time logging on
    the contract pauses until it is paid."""

    kind = "invoice_overdue"
    week_id: int
    week_start: str
    invoice: int


@event
class WeekUnfunded(MilestoneEvent):
    """A week ended without its escrow funded: nothing was logged or billed."""

    kind = "week_unfunded"
    week_id: int
    week_start: str


# Service orders (issue 15; domain/usecases/service_orders.py).


@event
class ServiceOrderPaid(MilestoneEvent):
    """A service order's escrow was paid: the seller has until `accept_by` to accept."""

    kind = "service_order_paid"
    order_id: int
    accept_by: str


@event
class ServiceOrderAccepted(MilestoneEvent):
    """The seller accepted a paid order: the contract is active, delivery due `due_at`."""

    kind = "service_order_accepted"
    order_id: int
    due_at: str


@event
class ServiceOrderRefunded(MilestoneEvent):
    """A paid order ended refunded in full: `why` is "declined" (the seller),
    "expired" (not accepted in time) or "late" (the buyer cancelled a late order)."""

    kind = "service_order_refunded"
    order_id: int
    why: str
    to_client: int


@event
class ServiceOrderLapsed(ContractEvent):
    """An order never paid within the acceptance hours was dropped."""

    kind = "service_order_lapsed"
    order_id: int


@event
class ServiceRevisionPaid(MilestoneEvent):
    """A paid extra revision was paid into escrow (released or refunded with the
    order's milestone): one more revision. `to_freelancer`: the seller's part once
    released."""

    kind = "service_revision_paid"
    order_id: int
    to_freelancer: int
    total: int  # what the buyer paid: price + client fee
    revisions_left: int


@event
class ServiceRevisionsSettled(MilestoneEvent):
    """The order's milestone (`milestone_id`) was settled and its paid extra revisions
    followed it: `count` of them, `to_freelancer` to the seller (after the fee),
    `to_client` back to the buyer (with the client fee)."""

    kind = "service_revisions_settled"
    order_id: int
    count: int
    to_freelancer: int
    to_client: int


@event
class ServiceOrderReminder(MilestoneEvent):
    """A paid order still waits for its seller with a third of the acceptance window
    left (`accept_by`): the seller is reminded, once."""

    kind = "service_order_reminder"
    order_id: int
    accept_by: str
