"""The ports the outer layers implement: clock, unit of work with its
repositories, and the payment gateway. Use cases depend on these only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from domain.catalog import ServiceHit, ServiceQuery
from domain.entities import (
    AlertSubscription,
    Appeal,
    AuditEntry,
    Block,
    ContactFlag,
    Contract,
    ContractMessage,
    ConversationState,
    Dispute,
    Draft,
    FreelancerProfile,
    GatewayCall,
    IdentityVerification,
    Invitation,
    Job,
    JobDismissal,
    LedgerTransaction,
    Milestone,
    ModerationCase,
    OutboxMessage,
    Payment,
    Payout,
    Pitch,
    Posting,
    ProcessedUpdate,
    Report,
    Review,
    StoredUpdate,
    Submission,
    User,
)
from domain.events import Event
from domain.ledger import TransactionDraft
from domain.saved import EarnedBadge, SavedItem
from domain.services import Service, ServiceExtra, ServiceOrder, ServicePackage
from domain.talent import TalentHit, TalentQuery
from domain.timesheet import HourlyTerms, TimeEntry, TimesheetWeek

T = TypeVar("T")


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...


class Repository(Protocol[T]):
    async def get(self, key: Any) -> T | None: ...

    async def get_for_update(self, key: Any) -> T | None:
        """Fetch and lock the row until the unit of work ends (FOR UPDATE on PostgreSQL)."""
        ...

    async def add(self, obj: T) -> T:
        """Stage and flush, so the id is assigned."""
        ...

    async def delete(self, obj: T) -> None: ...

    async def find(self, order_by: str = "id", limit: int | None = None, **equals: Any) -> list[T]:
        """Rows matching the filters: `status=x`, a collection means "any of";
        Django-style suffixes `__in`, `__notin`, `__ne`, `__lt`, `__lte`, `__gt`,
        `__gte`, `__isnull` (e.g. `created_at__gte=since`); `order_by="-id"` descends."""
        ...

    async def count(self, **equals: Any) -> int: ...


class Blocks(Repository[Block], Protocol):
    async def partners(self, user_id: int) -> set[int]:
        """Everyone in a block with the user, either way (one query)."""
        ...

    async def between(self, a: int, b: int) -> bool:
        """Whether either of the two blocked the other (one query)."""
        ...


class ProcessedUpdates(Repository[ProcessedUpdate], Protocol):
    """The log of handled Telegram update ids (domain/usecases/updates.py has the rule)."""

    async def claim(self, update_id: int, now: datetime, since: datetime) -> bool:
        """Record the update as processed `now`, unless it was processed at or after
        `since`; True if recorded. Atomic: of two transactions claiming one id at
        once, one gets True and the other, once the first commits, False."""
        ...

    async def processed_since(self, update_id: int, since: datetime) -> bool: ...

    async def prune(self, before: datetime, limit: int) -> int:
        """Forget up to `limit` ids processed before `before`, oldest first; how many."""
        ...


@dataclass(frozen=True)
class ActorNow:
    """The acting user as a read-first update's writer finds them (ReadBookkeeping):
    what registering would refresh, the ban, the last-active time, and their
    conversation's fields as the engine compares them (None: none in progress)."""

    name: str
    username: str | None
    unreachable: bool
    banned: bool
    last_active_at: datetime | None
    state: tuple[Any, ...] | None


class ReadBookkeeping(Protocol):
    """The writes of an update whose step ran on a reader (handlers/engine.py,
    storage/read_bookkeeping.py): plain statements, nothing loaded as entities."""

    async def actor(self, user_id: int) -> ActorNow | None:
        """The user as they are now (locked for this transaction where rows lock)."""
        ...

    async def touch(self, user_id: int, now: datetime) -> None:
        """Set the user's last-active time."""
        ...

    async def add_row(self, row: OutboxMessage, payload: dict[str, Any]) -> int:
        """Insert an outbox row (its id ignored) with this payload; the new id."""
        ...

    async def put_conversation(
        self, state: ConversationState, screen_outbox_id: int | None
    ) -> None:
        """Write the conversation as it is but for its screen's outbox row, created
        if the user has none."""
        ...


class OutboxRepository(Repository[OutboxMessage], Protocol):
    """The outbox (domain/usecases/outbox_retention.py has the retention rule)."""

    async def prune_delivered(
        self, before: datetime, limit: int, *, now: datetime, resweep: timedelta
    ) -> int:
        """Forget delivered rows (a final status) created before `before`, but never a
        conversation's screen nor a chat's newest message: one bounded batch of a walk
        in id order that resumes where the last batch stopped (at most `limit` rows
        read), and starts again from the oldest row, once it has caught up, no sooner
        than `resweep` after the last walk began. How many rows went."""
        ...


class Ledger(Protocol):
    async def record(self, draft: TransactionDraft) -> bool:
        """Write the transaction; False (and nothing written) if its key exists."""
        ...

    async def has(self, key: str) -> bool: ...

    async def balance(self, account: str) -> int: ...

    async def transactions(self, account_prefix: str = "") -> Sequence[LedgerTransaction]: ...

    async def balances(self, account_prefix: str = "") -> dict[str, int]:
        """Balance of every account whose name starts with the prefix."""
        ...

    async def postings_of(self, key: str) -> Sequence[Posting]:
        """The postings of the transaction with this idempotency key."""
        ...


# Job searches count matches up to this many; a total of it reads "1000+" and no
# page beyond it is offered (an exact count of every match is the slow part).
JOB_COUNT_CAP = 1000


@dataclass(frozen=True, slots=True)
class JobQuery:
    """Browse/search open jobs: full text plus filters, one page at a time."""

    text: str = ""
    category: str | None = None
    skills: tuple[str, ...] = ()
    min_budget: int = 0  # minor units
    budget_type: str | None = None  # "fixed" / "hourly"
    # Leave out the jobs this user marked "Not interested" (in the page and the total).
    exclude_dismissed_by: int | None = None
    # Leave out these clients' jobs (blocks: usecases/visibility.off_market_clients).
    exclude_clients: tuple[int, ...] = ()
    offset: int = 0
    limit: int = 5


class TalentSearch(Protocol):
    """Freelancers through the talent index (storage/talent_search.py)."""

    async def search(self, query: TalentQuery) -> tuple[list[TalentHit], int]: ...

    async def invite_candidates(
        self, job: Job, viewer_id: int, today: date, limit: int = 8
    ) -> list[TalentHit]: ...

    async def away_users(self, user_ids: Sequence[int], today: date) -> set[int]: ...


@dataclass(frozen=True, slots=True)
class AlertAudience:
    """Who a job's alerts may go to (JobSearch.alert_audience): `users` whose
    subscription the lookup tables decide alone (it names no keywords), and
    (user, keywords) of matching subscriptions with keywords, which
    domain.matching.keywords_match decides."""

    users: tuple[int, ...] = ()
    keyword_subscriptions: tuple[tuple[int, tuple[str, ...]], ...] = ()


class JobSearch(Protocol):
    async def search(self, query: JobQuery) -> tuple[list[Job], int]:
        """A page of open jobs, best match first, and the total number of matches."""
        ...

    async def subscriptions_for(self, job: Job, mode: str | None = None) -> list[AlertSubscription]:
        """Unpaused subscriptions (of `mode`, if given) that may match the job (by
        the skill/category index); the final decision is domain.matching's."""
        ...

    async def alert_audience(
        self, job: Job, mode: str, exclude: Sequence[int], today: date | None
    ) -> AlertAudience:
        """In one set-based query: the users with an unpaused subscription of `mode`
        matching the job by categories, skills and budget (domain.matching's rules,
        which the lookup tables hold exactly), who are freelancers, not banned, not
        in `exclude` and not away on `today` (None: not checked)."""
        ...

    async def write_alerts(
        self,
        user_ids: Sequence[int],
        messages: dict[str, list[dict[str, Any]]],
        default_language: str,
        *,
        priority: int,
        created_at: datetime,
        method: str = "send",
    ) -> int:
        """The bulk write of a job's alerts: for each of these users who exists and
        is reachable, one outbox row per payload of messages[their language] (or
        of messages[default_language] for any other language) — recorded in this
        transaction as one fan-out that the outbox sender expands into those rows
        (storage/outbox_store.py); the recipients recorded."""
        ...


@dataclass(frozen=True, slots=True)
class ClientFacts:
    """What the database knows of a client's record (domain/usecases/track_record.py
    turns it into what a card shows)."""

    user_id: int
    member_since: datetime | None = None
    jobs_posted: int = 0  # published, whatever became of them
    hires: int = 0  # offers accepted (contracts active or ended)
    spent: dict[str, int] = field(default_factory=dict)  # currency → paid to freelancers
    rating_sum: int = 0  # revealed reviews of them as a client
    rating_count: int = 0
    payment_verified: bool = False


@dataclass(frozen=True, slots=True)
class DueMilestone:
    """A milestone with a due date, for the on-time share."""

    due_date: date
    submitted_at: datetime | None
    held: bool  # funded and not yet submitted or settled


@dataclass(frozen=True, slots=True)
class FreelancerFacts:
    user_id: int
    member_since: datetime | None = None
    completed: int = 0  # contracts ended
    rating_sum: int = 0  # revealed reviews of them as a freelancer
    rating_count: int = 0
    due: tuple[DueMilestone, ...] = ()
    identity_verified: bool = False


class TrackRecords(Protocol):
    """Track records of many people at once: a constant number of queries for a
    whole page of cards, however many people it names."""

    async def clients(self, user_ids: Sequence[int]) -> dict[int, ClientFacts]: ...

    async def freelancers(self, user_ids: Sequence[int]) -> dict[int, FreelancerFacts]: ...


class ReadOnlyViolation(RuntimeError):
    """A unit of work opened to read only (a route declared read_only=True) tried to
    write: a programming error (storage/reads.py, handlers/engine.py)."""


class HourlyTermsRepository(Repository[HourlyTerms], Protocol):
    async def without_week(self, week_start: datetime, limit: int) -> list[HourlyTerms]:
        """The terms of the active hourly contracts that have no week starting at
        `week_start` (ended, offered or declined contracts never open one), by
        contract id, in one query."""
        ...


class ServiceRepository(Repository[Service], Protocol):
    """Services (issue 15) with the queries of their own (storage/services_repo.py)."""

    async def packages(self, service_id: int) -> list[ServicePackage]:
        """The service's packages in tier order."""
        ...

    async def package(self, service_id: int, tier: str) -> ServicePackage | None: ...

    async def extras(self, service_id: int) -> list[ServiceExtra]:
        """The service's extras by position."""
        ...

    async def of_seller(self, seller_id: int, live_only: bool = True) -> list[Service]:
        """The seller's services, newest first (not the deleted ones by default)."""
        ...

    async def live_count(self, seller_id: int) -> int:
        """The seller's services that count against the limit (not deleted)."""
        ...

    async def queued_orders(self, service_ids: Sequence[int]) -> dict[int, int]:
        """Orders awaiting acceptance, in progress or delivered, per service id."""
        ...

    async def remove_children(self, service_id: int) -> None:
        """Delete the service's packages and extras."""
        ...


class ServiceSearch(Protocol):
    """The services catalogue through the service index (storage/service_search.py)."""

    async def reindex(self, service_id: int) -> None:
        """Bring the service's index row in step (a service not active loses it): the
        services use cases call it after publish, edit, pause, resume and delete."""
        ...

    async def remove(self, service_id: int) -> None: ...

    async def search(self, query: ServiceQuery) -> tuple[list[ServiceHit], int]:
        """A page of services, best first, and the number of matches (capped)."""
        ...

    async def hit(self, service_id: int) -> ServiceHit | None: ...


class UnitOfWork(Protocol):
    users: Repository[User]
    profiles: Repository[FreelancerProfile]
    jobs: Repository[Job]
    pitches: Repository[Pitch]
    invitations: Repository[Invitation]
    contracts: Repository[Contract]
    milestones: Repository[Milestone]
    submissions: Repository[Submission]
    disputes: Repository[Dispute]
    messages: Repository[ContractMessage]
    reviews: Repository[Review]
    saved: Repository[SavedItem]
    badges: Repository[EarnedBadge]
    subscriptions: Repository[AlertSubscription]
    dismissals: Repository[JobDismissal]
    reports: Repository[Report]
    audit: Repository[AuditEntry]
    blocks: Blocks
    contact_flags: Repository[ContactFlag]
    moderation_cases: Repository[ModerationCase]
    appeals: Repository[Appeal]
    payments: Repository[Payment]
    payouts: Repository[Payout]
    verifications: Repository[IdentityVerification]
    records: TrackRecords
    outbox: OutboxRepository
    conversations: Repository[ConversationState]
    drafts: Repository[Draft]
    processed_updates: ProcessedUpdates
    bookkeeping: ReadBookkeeping
    stored_updates: Repository[StoredUpdate]
    gateway_calls: Repository[GatewayCall]
    hourly_terms: HourlyTermsRepository
    weeks: Repository[TimesheetWeek]
    time_entries: Repository[TimeEntry]
    ledger: Ledger
    search: JobSearch
    talent: TalentSearch
    service_search: ServiceSearch
    services: ServiceRepository
    service_packages: Repository[ServicePackage]
    service_extras: Repository[ServiceExtra]
    service_orders: Repository[ServiceOrder]
    events: list[Event]

    def emit(self, event: Event, /) -> None:
        """Record `event` for the handlers (rendered in this transaction)."""
        ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...


@dataclass(frozen=True, slots=True)
class CheckoutStarted:
    external_id: str
    url: str


class PaymentGateway(Protocol):
    """Moves real money; the ledger records what it confirmed.

    Money leaves only through `execute`, for a GatewayCall that was committed
    before (domain/usecases/gateway_calls.py), with the call's fixed key: the
    same key twice is one movement."""

    name: str

    async def start_checkout(
        self, payment: Payment, description: str, idempotency_key: str
    ) -> CheckoutStarted: ...

    async def payout_params(self, uow: UnitOfWork, user_id: int) -> dict[str, Any]:
        """What a payout to this user needs (e.g. the account it goes to), read
        before the payout is committed; PaymentError when they cannot receive money."""
        ...

    async def execute(self, call: GatewayCall, payment: Payment | None = None) -> str:
        """Make the refund, payout or transfer `call` describes (a refund returns
        part of `payment`) with the call's idempotency key; the gateway's id."""
        ...
