"""Read models for the handlers: what a screen shows, re-authorised like any action."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from domain import ledger, matching
from domain.config import MarketConfig
from domain.entities import Contract, FreelancerProfile, Job, Milestone, Pitch, Review, User
from domain.errors import NotAllowed
from domain.ports import Clock, JobQuery, UnitOfWork
from domain.profile import completeness
from domain.reputation import (
    LONG_TERM_DAYS,
    FreelancerRecord,
    Reputation,
    compute_reputation,
)
from domain.states import (
    HELD,
    ContractStatus,
    JobStatus,
    MilestoneStatus,
    PitchStatus,
    ReviewStatus,
)
from domain.usecases.common import client, load, require_party
from domain.usecases.visibility import off_market_clients, owned_job

RESPONSE_SAMPLE = 50  # the latest messages a response time is measured on


@dataclass(frozen=True, slots=True)
class JobSummary:
    job: Job
    pitches: int  # all pitches
    pending: int  # not yet shortlisted or declined


async def own_job(uow: UnitOfWork, actor_id: int, job_id: int) -> Job:
    """A job of the acting client, to read (clients only; someone else's job is refused)."""
    await client(uow, actor_id)
    return await owned_job(uow, actor_id, job_id)


async def pitch_on_own_job(uow: UnitOfWork, actor_id: int, pitch_id: int) -> tuple[Pitch, Job]:
    """A pitch on one of the acting client's jobs, with the job."""
    pitch = await load(uow.pitches, pitch_id, "pitch")
    return pitch, await own_job(uow, actor_id, pitch.job_id)


async def my_jobs(
    uow: UnitOfWork, actor_id: int, limit: int = 50, offset: int = 0
) -> list[JobSummary]:
    """The client's jobs, newest first, with pitch counts (clients only)."""
    await client(uow, actor_id)
    offset = max(0, offset)
    jobs = await uow.jobs.find(order_by="-id", limit=offset + limit, client_id=actor_id)
    return [
        JobSummary(
            job=j,
            pitches=await uow.pitches.count(job_id=j.id),
            pending=await uow.pitches.count(job_id=j.id, status=PitchStatus.PENDING),
        )
        for j in jobs[offset:]
    ]


async def my_pitches(uow: UnitOfWork, actor_id: int, limit: int = 50) -> list[Pitch]:
    return await uow.pitches.find(order_by="-id", limit=limit, freelancer_id=actor_id)


async def visible_pitch(uow: UnitOfWork, actor_id: int, pitch_id: int) -> tuple[Pitch, Job]:
    """A pitch with its job, for its freelancer or the job's client; others are refused."""
    pitch = await load(uow.pitches, pitch_id, "pitch")
    job = await load(uow.jobs, pitch.job_id, "job")
    if actor_id not in (pitch.freelancer_id, job.client_id):
        raise NotAllowed("not_your_pitch", "This pitch is not yours.")
    return pitch, job


async def own_pitch(uow: UnitOfWork, actor_id: int, pitch_id: int) -> Pitch:
    """The freelancer's own pitch (to read; pitches.py re-checks when changing it)."""
    pitch = await load(uow.pitches, pitch_id, "pitch")
    if pitch.freelancer_id != actor_id:
        raise NotAllowed("not_your_pitch", "This pitch is not yours.")
    return pitch


async def my_contracts(
    uow: UnitOfWork, actor_id: int, statuses: tuple[ContractStatus, ...] = tuple(ContractStatus)
) -> list[Contract]:
    """Contracts where the user is either party, newest first. A service order never
    paid is the buyer's business alone: its contract is left out of the seller's
    lists (waiting for the payment, or dropped unpaid; service_orders.py)."""
    selling = await uow.contracts.find(freelancer_id=actor_id, status__in=statuses)
    orders = [c.id for c in selling if c.job_id is None]
    if orders:
        unpaid = await uow.service_orders.find(contract_id__in=orders, paid_at__isnull=True)
        hidden = {o.contract_id for o in unpaid}
        selling = [c for c in selling if c.id not in hidden]
    mine = await uow.contracts.find(client_id=actor_id, status__in=statuses) + selling
    return sorted({c.id: c for c in mine}.values(), key=lambda c: -(c.id or 0))


async def freelancer_record(uow: UnitOfWork, clock: Clock, user_id: int) -> FreelancerRecord:
    """The facts a reputation is computed from (domain.reputation states the rule)."""
    user = await load(uow.users, user_id, "user")
    now = clock.now()
    about = await uow.reviews.find(reviewee_id=user_id, status=ReviewStatus.REVEALED)
    ratings = [r.rating for r in about]
    contracts = await uow.contracts.find(
        freelancer_id=user_id, status__in=(ContractStatus.ACTIVE, ContractStatus.ENDED)
    )
    contract_ids = [c.id for c in contracts]
    disputed = {d.contract_id for d in await uow.disputes.find(contract_id__in=contract_ids)}
    on_time = late = 0
    for m in await uow.milestones.find(contract_id__in=contract_ids, due_date__isnull=False):
        assert m.due_date is not None
        if m.submitted_at is not None:
            on_time, late = (
                (on_time + 1, late) if m.submitted_at.date() <= m.due_date else (on_time, late + 1)
            )
        elif m.status in HELD and now.date() > m.due_date:
            late += 1
    paid_out = sum(p.amount for p in await uow.payouts.find(user_id=user_id, status="paid"))
    earnings = await uow.ledger.balance(ledger.freelancer_account(user_id)) + paid_out
    business = repeat_business(contracts, now)
    return FreelancerRecord(
        ratings=ratings,
        rating_ages=[_age_days(now, r.created_at) for r in about],
        recommendations=[r.recommend for r in about if r.recommend is not None],
        recommendation_ages=[
            _age_days(now, r.created_at) for r in about if r.recommend is not None
        ],
        contracts_no_work=await _ended_without_work(uow, contracts),
        long_term_contracts=business.long_term,
        clients=business.clients,
        repeat_clients=business.repeat_clients,
        contracts_completed=sum(c.status is ContractStatus.ENDED for c in contracts),
        contracts_disputed=len(disputed),
        milestones_on_time=on_time,
        milestones_late=late,
        median_response_seconds=await median_response_seconds(uow, user_id),
        earnings_minor=earnings,
        member_since=user.created_at or now,
    )


def _age_days(now: datetime, when: datetime | None) -> int:
    return max(0, (now - when).days) if when is not None else 0


@dataclass(frozen=True, slots=True)
class RepeatBusiness:
    clients: int  # distinct clients of active or ended contracts
    repeat_clients: int  # of those, with two contracts or more
    long_term: int  # ended contracts that ran LONG_TERM_DAYS or more


def repeat_business(contracts: list[Contract], now: datetime) -> RepeatBusiness:
    per_client: dict[int, int] = {}
    for c in contracts:
        per_client[c.client_id] = per_client.get(c.client_id, 0) + 1
    long_term = sum(
        1
        for c in contracts
        if c.status is ContractStatus.ENDED
        and c.accepted_at is not None
        and ((c.ended_at or now) - c.accepted_at).days >= LONG_TERM_DAYS
    )
    return RepeatBusiness(
        clients=len(per_client),
        repeat_clients=sum(1 for n in per_client.values() if n >= 2),
        long_term=long_term,
    )


async def _ended_without_work(uow: UnitOfWork, contracts: list[Contract]) -> int:
    """Ended contracts in which nothing was released (no work delivered and paid)."""
    ended = [c.id for c in contracts if c.status is ContractStatus.ENDED]
    if not ended:
        return 0
    paid = {
        m.contract_id
        for m in await uow.milestones.find(
            contract_id__in=ended,
            status__in=(MilestoneStatus.RELEASED, MilestoneStatus.SPLIT),
        )
    }
    return sum(1 for cid in ended if cid not in paid)


async def median_response_seconds(uow: UnitOfWork, user_id: int) -> int | None:
    """Median time from a message to the user until the user's next message to that person."""
    received = await uow.messages.find(order_by="-id", limit=RESPONSE_SAMPLE, recipient_id=user_id)
    sent = await uow.messages.find(order_by="id", sender_id=user_id, created_at__isnull=False)
    delays = []
    for msg in received:
        if msg.created_at is None:
            continue
        reply = next(
            (
                s
                for s in sent
                if s.recipient_id == msg.sender_id
                and s.created_at is not None
                and s.created_at >= msg.created_at
            ),
            None,
        )
        if reply is not None and reply.created_at is not None:
            delays.append((reply.created_at - msg.created_at).total_seconds())
    return int(statistics.median(delays)) if delays else None


async def reputation_of(uow: UnitOfWork, clock: Clock, user_id: int) -> Reputation:
    return compute_reputation(await freelancer_record(uow, clock, user_id), clock.now())


async def reviews_about(
    uow: UnitOfWork, user_id: int, *, with_text: bool = False, limit: int | None = None
) -> list[Review]:
    """What others wrote about a person, newest first: revealed reviews only (a
    hidden one waits for the double-blind), those with words if `with_text`."""
    where: dict[str, object] = {"reviewee_id": user_id, "status": ReviewStatus.REVEALED}
    if with_text:
        where["text__ne"] = ""
    return await uow.reviews.find(order_by="-id", limit=limit, **where)


@dataclass(frozen=True, slots=True)
class ProfileView:
    user: User
    profile: FreelancerProfile | None
    record: FreelancerRecord
    reputation: Reputation
    percent: int  # how complete the profile is (domain.profile)
    next_step: str | None  # what to add next, a translation key


async def profile_view(uow: UnitOfWork, clock: Clock, user_id: int) -> ProfileView:
    """Everything a profile card shows (anyone may look at a profile)."""
    user = await load(uow.users, user_id, "user")
    profile = await uow.profiles.get(user_id)
    record = await freelancer_record(uow, clock, user_id)
    percent, next_step = completeness(profile)
    reputation = compute_reputation(record, clock.now())
    return ProfileView(user, profile, record, reputation, percent, next_step)


async def ranked_pitches(
    uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int
) -> list[tuple[Pitch, Reputation, FreelancerProfile | None]]:
    """The job's pitches in the order the client should read them (domain.matching)."""
    job = await owned_job(uow, actor_id, job_id)
    items = []
    for pitch in await uow.pitches.find(job_id=job_id):
        items.append(
            (
                pitch,
                await reputation_of(uow, clock, pitch.freelancer_id),
                await uow.profiles.get(pitch.freelancer_id),
            )
        )
    return matching.rank_pitches(items, job)


async def invite_candidates(
    uow: UnitOfWork, actor_id: int, job_id: int, limit: int = 8
) -> tuple[Job, list[tuple[User, FreelancerProfile]]]:
    """Freelancers to invite to one's open job, through the talent index over every
    profile (domain/usecases/talent.py has the ranking and the reasons)."""
    job = await own_job(uow, actor_id, job_id)
    if job.status is not JobStatus.OPEN:
        raise NotAllowed("job_not_open", "Invite freelancers to open jobs.")
    hits = await uow.talent.invite_candidates(job, actor_id, date.today(), limit)
    found = []
    for hit in hits:
        user, profile = await uow.users.get(hit.user_id), await uow.profiles.get(hit.user_id)
        if user is not None and profile is not None:
            found.append((user, profile))
    return job, found


async def browse_jobs(uow: UnitOfWork, actor_id: int, query: JobQuery) -> tuple[list[Job], int]:
    """A page of open jobs for the query, without those the user marked "Not
    interested", and how many there are: the search leaves them out, so pages
    and the total are exact however many jobs match."""
    hidden = tuple(sorted(await off_market_clients(uow, actor_id)))
    return await uow.search.search(
        replace(query, exclude_dismissed_by=actor_id, exclude_clients=hidden)
    )


@dataclass(frozen=True, slots=True)
class Escrow:
    """What escrow holds, told apart: the milestone amounts and the client fees paid
    with them (the ledger's escrow accounts hold both until settlement)."""

    amount: int = 0
    fee: int = 0

    @property
    def total(self) -> int:
        return self.amount + self.fee

    @classmethod
    def split(cls, held: int, milestone_amount: int) -> Escrow:
        """One escrow account's balance: the milestone's amount first, the rest is fee."""
        part = min(max(held, 0), milestone_amount)
        return cls(part, max(held - part, 0))

    def __add__(self, other: Escrow) -> Escrow:
        return Escrow(self.amount + other.amount, self.fee + other.fee)


async def escrow_of(uow: UnitOfWork, milestones: list[Milestone]) -> Escrow:
    """What the ledger holds in escrow now for these milestones (held ones only)."""
    found = Escrow()
    for m in milestones:
        if m.status in HELD and m.id is not None:
            held = await uow.ledger.balance(ledger.escrow_account(m.id))
            found = found + Escrow.split(held, m.amount)
    return found


@dataclass(frozen=True, slots=True)
class MilestoneView:
    milestone: Milestone
    escrow: int  # minor units held for it now (amount + client fee while funded)


@dataclass(frozen=True, slots=True)
class ContractSummary:
    contract: Contract
    milestones: list[MilestoneView]
    held: int  # in escrow now, all milestones
    released: int  # milestone amounts released (wholly or in part) to the freelancer
    pending: int  # milestone amounts not yet funded


async def contract_summary(
    uow: UnitOfWork, config: MarketConfig, actor_id: int, contract_id: int
) -> ContractSummary:
    contract = await load(uow.contracts, contract_id, "contract")
    if not config.is_admin(actor_id):
        require_party(contract, actor_id)
    views = []
    released = pending = 0
    balances = await uow.ledger.balances("escrow:milestone:")
    for m in await uow.milestones.find(order_by="position", contract_id=contract_id):
        views.append(MilestoneView(m, balances.get(ledger.escrow_account(m.id), 0)))  # type: ignore[arg-type]
        if m.status is MilestoneStatus.RELEASED:
            released += m.amount
        elif m.status is MilestoneStatus.SPLIT:
            released += (await _resolution_share(uow, m.id)) or 0  # type: ignore[arg-type]
        elif m.status in (MilestoneStatus.PENDING, MilestoneStatus.FUNDING):
            pending += m.amount
    return ContractSummary(contract, views, sum(v.escrow for v in views), released, pending)


async def _resolution_share(uow: UnitOfWork, milestone_id: int) -> int | None:
    settled = [
        d
        for d in await uow.disputes.find(milestone_id=milestone_id)
        if d.resolution_share is not None
    ]
    return settled[-1].resolution_share if settled else None


@dataclass(frozen=True, slots=True)
class EarningsEntry:
    at: datetime | None
    kind: str  # release, split, payout …
    key: str
    amount: int  # + credited to the balance, − paid out


@dataclass(frozen=True, slots=True)
class Earnings:
    balance: int
    entries: list[EarningsEntry] = field(default_factory=list)


async def earnings(uow: UnitOfWork, actor_id: int, limit: int = 50) -> Earnings:
    """The freelancer's balance and its history, newest first, from the ledger."""
    account = ledger.freelancer_account(actor_id)
    entries = []
    for tx in list(await uow.ledger.transactions(account))[::-1][:limit]:
        amount = sum(p.amount for p in await uow.ledger.postings_of(tx.key) if p.account == account)
        entries.append(EarningsEntry(tx.created_at, tx.kind, tx.key, amount))
    return Earnings(await uow.ledger.balance(account), entries)


@dataclass(frozen=True, slots=True)
class ClientPayment:
    at: datetime | None
    seq: int  # the ledger transaction's id: orders entries of the same moment
    kind: str  # "paid" (into a milestone's escrow) or "refund" (back to the client)
    milestone: Milestone
    amount: int  # positive, minor units


@dataclass(frozen=True, slots=True)
class ClientMoney:
    paid: int  # everything paid into escrow (amounts and client fees)
    escrow: Escrow  # held now
    refunded: int  # given back to the client by refunds and splits
    entries: list[ClientPayment] = field(default_factory=list)  # newest first


async def client_money(uow: UnitOfWork, actor_id: int, currency: str) -> ClientMoney:
    """A client's money, from the ledger: each funding of one of their milestones (the
    payment entering its escrow) and each settlement that sent part of it back."""
    entries: list[ClientPayment] = []
    held: list[Milestone] = []
    for contract in await uow.contracts.find(client_id=actor_id):
        for m in await uow.milestones.find(contract_id=contract.id):
            if m.currency != currency or m.id is None:
                continue
            held.append(m)
            account = ledger.escrow_account(m.id)
            keys = {ledger.fund_key(m.id): "paid", ledger.settle_key(m.id): "refund"}
            # The prefix also matches longer ids (escrow:milestone:12): kept by key.
            for tx in await uow.ledger.transactions(account):
                kind = keys.get(tx.key)
                if kind is None:
                    continue
                postings = await uow.ledger.postings_of(tx.key)
                if kind == "paid":
                    amount = sum(p.amount for p in postings if p.account == account)
                else:  # a settlement's part for the client flows back out through the gateway
                    amount = sum(p.amount for p in postings if p.account.startswith("gateway:"))
                if amount > 0:
                    entries.append(ClientPayment(tx.created_at, tx.id or 0, kind, m, amount))
    entries.sort(key=lambda e: e.seq, reverse=True)
    return ClientMoney(
        paid=sum(e.amount for e in entries if e.kind == "paid"),
        escrow=await escrow_of(uow, held),
        refunded=sum(e.amount for e in entries if e.kind == "refund"),
        entries=entries,
    )
