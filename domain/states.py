"""Explicit state machines: every legal transition is listed; anything else is refused."""

from __future__ import annotations

from enum import StrEnum
from typing import Generic, TypeVar

from domain.errors import IllegalTransition


class JobStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class PitchStatus(StrEnum):
    PENDING = "pending"
    SHORTLISTED = "shortlisted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    HIRED = "hired"


class ContractStatus(StrEnum):
    OFFERED = "offered"  # the client sent an offer; the freelancer decides
    COUNTERED = "countered"  # the freelancer proposed other milestones; the client decides
    ACTIVE = "active"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    ENDED = "ended"


class MilestoneStatus(StrEnum):
    PENDING = "pending"  # agreed, not yet funded
    FUNDING = "funding"  # a payment was started
    FUNDED = "funded"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    DISPUTED = "disputed"
    FROZEN = "frozen"  # a chargeback arrived; an admin decides
    RELEASED = "released"
    REFUNDED = "refunded"
    SPLIT = "split"  # a dispute resolution released part and refunded the rest
    # The client offered to release part of submitted work; the freelancer decides
    # (accept: split settlement; decline: a dispute). Escrow still held.
    PARTIAL = "partial_offered"
    # A milestone proposed after the contract started; the other party decides.
    PROPOSED = "proposed"
    CANCELLED = "cancelled"


class DisputeStatus(StrEnum):
    OPEN = "open"
    SPLIT_PROPOSED = "split_proposed"
    SETTLED = "settled"  # both parties agreed a split
    RESOLVED = "resolved"  # an admin decided
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"  # unanswered in time: settled for the opener


class DisputeStage(StrEnum):
    """Where a live dispute is on its clock (domain/usecases/deadlines.py):
    the other party has days to answer (silence settles for the opener), then the
    parties have days to agree a split, then it waits for an admin."""

    RESPONSE = "response"
    NEGOTIATION = "negotiation"
    ADMIN = "admin"


class ReviewStatus(StrEnum):
    HIDDEN = "hidden"  # double-blind: waits for the other side or the window
    REVEALED = "revealed"


S = TypeVar("S", bound=StrEnum)


class Machine(Generic[S]):
    """A transition table {(state, action): next_state}."""

    def __init__(self, entity: str, table: dict[tuple[S, str], S]) -> None:
        self.entity = entity
        self.table = table

    def next(self, state: S, action: str) -> S:
        try:
            return self.table[(state, action)]
        except KeyError:
            raise IllegalTransition(self.entity, str(state), action) from None

    def allows(self, state: S, action: str) -> bool:
        return (state, action) in self.table

    def allowing(self, action: str) -> frozenset[S]:
        """The states in which `action` is allowed (e.g. to find what may be disputed)."""
        return frozenset(state for state, a in self.table if a == action)

    def actions(self) -> set[str]:
        return {a for _, a in self.table}


J, P, C, M, D, R = (
    JobStatus,
    PitchStatus,
    ContractStatus,
    MilestoneStatus,
    DisputeStatus,
    ReviewStatus,
)

JOB = Machine[JobStatus](
    "job",
    {
        (J.DRAFT, "publish"): J.OPEN,
        (J.DRAFT, "edit"): J.DRAFT,
        (J.OPEN, "edit"): J.OPEN,
        (J.PAUSED, "edit"): J.PAUSED,
        (J.OPEN, "pause"): J.PAUSED,
        (J.PAUSED, "resume"): J.OPEN,
        (J.OPEN, "close"): J.CLOSED,
        (J.PAUSED, "close"): J.CLOSED,
        (J.DRAFT, "close"): J.CLOSED,
    },
)

PITCH = Machine[PitchStatus](
    "pitch",
    {
        (P.PENDING, "edit"): P.PENDING,
        (P.PENDING, "shortlist"): P.SHORTLISTED,
        (P.PENDING, "decline"): P.DECLINED,
        (P.SHORTLISTED, "decline"): P.DECLINED,
        (P.PENDING, "withdraw"): P.WITHDRAWN,
        (P.SHORTLISTED, "withdraw"): P.WITHDRAWN,
        (P.PENDING, "hire"): P.HIRED,
        (P.SHORTLISTED, "hire"): P.HIRED,
    },
)

CONTRACT = Machine[ContractStatus](
    "contract",
    {
        (C.OFFERED, "accept"): C.ACTIVE,
        (C.OFFERED, "decline"): C.DECLINED,
        (C.OFFERED, "counter"): C.COUNTERED,
        (C.OFFERED, "withdraw"): C.WITHDRAWN,
        (C.OFFERED, "expire"): C.EXPIRED,
        (C.COUNTERED, "accept_counter"): C.ACTIVE,
        (C.COUNTERED, "revise"): C.OFFERED,
        (C.COUNTERED, "withdraw"): C.WITHDRAWN,
        (C.COUNTERED, "expire"): C.EXPIRED,
        (C.ACTIVE, "end"): C.ENDED,
    },
)

MILESTONE = Machine[MilestoneStatus](
    "milestone",
    {
        # A milestone added to a running contract waits for the other party.
        (M.PROPOSED, "accept_proposal"): M.PENDING,
        (M.PROPOSED, "decline_proposal"): M.CANCELLED,
        (M.PROPOSED, "cancel"): M.CANCELLED,  # withdrawn, or the contract ended
        # A partial release (domain/usecases/partial_release.py).
        (M.SUBMITTED, "offer_partial"): M.PARTIAL,
        (M.PARTIAL, "accept_partial"): M.SPLIT,
        (M.PARTIAL, "dispute"): M.DISPUTED,  # declined (or either party disputes)
        (M.PARTIAL, "freeze"): M.FROZEN,
        # The client takes the offer back, or nobody answered it in time: the work
        # is under review again, with its clock.
        (M.PARTIAL, "withdraw_partial"): M.SUBMITTED,
        (M.PARTIAL, "lapse_partial"): M.SUBMITTED,
        (M.PENDING, "start_funding"): M.FUNDING,
        (M.FUNDING, "start_funding"): M.FUNDING,  # a new payment attempt after a failure
        (M.PENDING, "fund"): M.FUNDED,
        (M.FUNDING, "fund"): M.FUNDED,
        (M.FUNDING, "payment_failed"): M.PENDING,
        (M.PENDING, "cancel"): M.CANCELLED,
        (M.FUNDING, "cancel"): M.CANCELLED,
        (M.FUNDED, "submit"): M.SUBMITTED,
        (M.CHANGES_REQUESTED, "submit"): M.SUBMITTED,
        (M.SUBMITTED, "request_changes"): M.CHANGES_REQUESTED,
        (M.SUBMITTED, "release"): M.RELEASED,
        # A week's invoice of an hourly contract settled for less than its escrow.
        (M.SUBMITTED, "invoice_split"): M.SPLIT,
        (M.SUBMITTED, "invoice_refund"): M.REFUNDED,
        (M.FUNDED, "release"): M.RELEASED,  # a client may pay early
        (M.CHANGES_REQUESTED, "release"): M.RELEASED,
        (M.FUNDED, "refund"): M.REFUNDED,  # cancelled before work was submitted
        # A service order's paid extra revision follows the order's milestone when a
        # dispute split it (domain/usecases/service_orders.py, follow_order).
        (M.FUNDED, "follow_split"): M.SPLIT,
        (M.FUNDED, "dispute"): M.DISPUTED,
        (M.SUBMITTED, "dispute"): M.DISPUTED,
        (M.CHANGES_REQUESTED, "dispute"): M.DISPUTED,
        # The parties agree a split of a disputed milestone (never of a frozen one).
        (M.DISPUTED, "agree_release"): M.RELEASED,
        (M.DISPUTED, "agree_refund"): M.REFUNDED,
        (M.DISPUTED, "agree_split"): M.SPLIT,
        # An admin decides (ADMIN_ACTIONS: the only way out of FROZEN).
        (M.DISPUTED, "resolve_release"): M.RELEASED,
        (M.DISPUTED, "resolve_refund"): M.REFUNDED,
        (M.DISPUTED, "resolve_split"): M.SPLIT,
        (M.DISPUTED, "withdraw_dispute"): M.SUBMITTED,
        (M.FUNDED, "freeze"): M.FROZEN,
        (M.SUBMITTED, "freeze"): M.FROZEN,
        (M.CHANGES_REQUESTED, "freeze"): M.FROZEN,
        (M.DISPUTED, "freeze"): M.FROZEN,
        (M.FROZEN, "resolve_release"): M.RELEASED,
        (M.FROZEN, "resolve_refund"): M.REFUNDED,
        (M.FROZEN, "resolve_split"): M.SPLIT,
    },
)

DISPUTE = Machine[DisputeStatus](
    "dispute",
    {
        (D.OPEN, "answer"): D.OPEN,
        (D.OPEN, "propose_split"): D.SPLIT_PROPOSED,
        (D.SPLIT_PROPOSED, "propose_split"): D.SPLIT_PROPOSED,  # a counter-proposal
        (D.SPLIT_PROPOSED, "answer"): D.SPLIT_PROPOSED,
        (D.SPLIT_PROPOSED, "reject_split"): D.OPEN,
        (D.SPLIT_PROPOSED, "accept_split"): D.SETTLED,
        (D.OPEN, "resolve"): D.RESOLVED,
        (D.SPLIT_PROPOSED, "resolve"): D.RESOLVED,
        (D.OPEN, "withdraw"): D.WITHDRAWN,
        (D.SPLIT_PROPOSED, "withdraw"): D.WITHDRAWN,
        # Nobody answered in time: it settles for the opener (the dispute clock).
        (D.OPEN, "lapse"): D.LAPSED,
        (D.SPLIT_PROPOSED, "lapse"): D.LAPSED,
    },
)

REVIEW = Machine[ReviewStatus](
    "review",
    {
        (R.HIDDEN, "reveal"): R.REVEALED,
    },
)

# Milestone actions only an admin's decision may take. A milestone frozen by a
# chargeback leaves FROZEN by these alone (tests/domain/test_states.py checks it).
ADMIN_ACTIONS = frozenset({"resolve_release", "resolve_refund", "resolve_split"})

# Milestone states in which money sits in escrow.
HELD = frozenset({M.FUNDED, M.SUBMITTED, M.CHANGES_REQUESTED, M.PARTIAL, M.DISPUTED, M.FROZEN})
# Terminal milestone states.
SETTLED_MILESTONE = frozenset({M.RELEASED, M.REFUNDED, M.SPLIT, M.CANCELLED})
