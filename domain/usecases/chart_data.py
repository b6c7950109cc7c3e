"""The numbers behind the charts (handlers/charts.py draws them): the marketplace's
last 12 weeks for admins, a freelancer's earnings and a client's spending for the
last 12 months. Money comes from the ledger, in minor units of the market currency.

Weeks start on Monday, months on the 1st, both in UTC; the last bucket is the
current (unfinished) one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from domain import ledger
from domain.config import MarketConfig
from domain.ports import Clock, UnitOfWork
from domain.usecases import queries
from domain.usecases.common import require_admin

WEEKS = 12
MONTHS = 12


@dataclass(frozen=True, slots=True)
class WeeklyActivity:
    weeks: list[date]  # each week's Monday
    jobs_posted: list[int]
    contracts_started: list[int]
    disputes_opened: list[int]
    funded: list[int]  # paid into escrow that week
    released: list[int]  # released from escrow to freelancers that week
    held: list[int]  # in escrow at the week's end (now, for the current week)
    currency: str


@dataclass(frozen=True, slots=True)
class MonthlyMoney:
    months: list[date]  # each month's 1st
    incoming: list[int]  # earned (freelancer) or paid into escrow (client)
    outgoing: list[int]  # withdrawn (freelancer) or refunded (client)
    currency: str


def _utc(at: datetime | None) -> datetime | None:
    if at is None:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def week_starts(now: datetime, weeks: int = WEEKS) -> list[date]:
    today = now.astimezone(UTC).date()
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - k) for k in range(weeks)]


def month_starts(now: datetime, months: int = MONTHS) -> list[date]:
    today = now.astimezone(UTC).date()
    out: list[date] = []
    year, month = today.year, today.month
    for _ in range(months):
        out.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _bucket(starts: list[date], at: datetime | None) -> int | None:
    """The index of the bucket `at` falls in, or None before the first."""
    at = _utc(at)
    if at is None or at.date() < starts[0]:
        return None
    index = None
    for k, start in enumerate(starts):
        if at.date() >= start:
            index = k
    return index


def _count(starts: list[date], times: Iterable[datetime | None]) -> list[int]:
    counts = [0] * len(starts)
    for at in times:
        k = _bucket(starts, at)
        if k is not None:
            counts[k] += 1
    return counts


def _since(starts: list[date]) -> datetime:
    return datetime.combine(starts[0], datetime.min.time(), tzinfo=UTC)


async def weekly_activity(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int
) -> WeeklyActivity:
    """Jobs posted, contracts started, disputes opened and escrow money moved, per week."""
    require_admin(config, actor_id)
    starts = week_starts(clock.now())
    since = _since(starts)
    jobs = await uow.jobs.find(published_at__gte=since)
    contracts = await uow.contracts.find(accepted_at__gte=since)
    disputes = await uow.disputes.find(created_at__gte=since)
    funded, released, net = [0] * WEEKS, [0] * WEEKS, [0] * WEEKS
    for tx in await uow.ledger.transactions("escrow:milestone:"):
        k = _bucket(starts, tx.created_at)
        if k is None:
            continue
        for p in await uow.ledger.postings_of(tx.key):
            if p.currency != config.currency:
                continue
            if p.account.startswith("escrow:milestone:"):
                net[k] += p.amount
                if tx.key.startswith("fund:") and p.amount > 0:
                    funded[k] += p.amount
            elif tx.key.startswith("settle:") and p.account.startswith("freelancer:"):
                released[k] += p.amount
    # Held at each week's end: from today's balance, walked back by each week's change.
    escrows = await uow.ledger.balances("escrow:milestone:")
    held = [0] * WEEKS
    level = sum(escrows.values())
    for k in range(WEEKS - 1, -1, -1):
        held[k] = level
        level -= net[k]
    return WeeklyActivity(
        weeks=starts,
        jobs_posted=_count(starts, (j.published_at for j in jobs)),
        contracts_started=_count(starts, (c.accepted_at for c in contracts)),
        disputes_opened=_count(starts, (d.created_at for d in disputes)),
        funded=funded,
        released=released,
        held=held,
        currency=config.currency,
    )


async def freelancer_earnings(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int
) -> MonthlyMoney:
    """What came into the actor's freelancer balance, and what they withdrew, per month."""
    starts = month_starts(clock.now())
    account = ledger.freelancer_account(actor_id)
    earned, withdrawn = [0] * MONTHS, [0] * MONTHS
    for tx in await uow.ledger.transactions(account):
        k = _bucket(starts, tx.created_at)
        if k is None:
            continue
        amount = sum(
            p.amount
            for p in await uow.ledger.postings_of(tx.key)
            if p.account == account and p.currency == config.currency
        )
        if amount > 0:
            earned[k] += amount
        else:
            withdrawn[k] -= amount
    return MonthlyMoney(starts, earned, withdrawn, config.currency)


async def client_spending(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int
) -> MonthlyMoney:
    """What the actor paid into escrow, and got back as refunds, per month."""
    starts = month_starts(clock.now())
    paid, refunded = [0] * MONTHS, [0] * MONTHS
    for entry in (await queries.client_money(uow, actor_id, config.currency)).entries:
        k = _bucket(starts, entry.at)
        if k is None:
            continue
        if entry.kind == "paid":
            paid[k] += entry.amount
        else:
            refunded[k] += entry.amount
    return MonthlyMoney(starts, paid, refunded, config.currency)
