"""Track records on cards: a client's on job cards, alerts and digests; a
freelancer's on pitches and offers. One call computes a whole page of them
(uow.records answers with a constant number of queries, never one per card).

The rules:
- member since: the month the account was made;
- jobs posted: jobs ever published; hires: offers accepted (contracts active or ended);
- total spent: what reached freelancers — released milestones in full, split ones by
  the freelancer's share — in the marketplace's currency (fees are not counted);
- rating: the plain average of revealed reviews of them in that role;
- on time: milestones with a due date delivered by it, over those delivered or overdue
  (domain.reputation counts on-time delivery the same way);
- payment verified: a payment of theirs succeeded at the gateway, entered escrow and
  was not charged back; identity verified: the gateway says so (domain/usecases/verification.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from domain.config import MarketConfig
from domain.ports import Clock, DueMilestone, UnitOfWork


@dataclass(frozen=True, slots=True)
class ClientRecord:
    user_id: int
    member_since: date | None
    jobs_posted: int
    hires: int
    spent: int  # minor units of `currency`
    currency: str
    rating: Decimal | None  # one decimal, None before any review
    ratings: int
    payment_verified: bool


@dataclass(frozen=True, slots=True)
class FreelancerRecord:
    user_id: int
    member_since: date | None
    completed: int
    rating: Decimal | None
    ratings: int
    on_time_percent: int | None  # None before any milestone with a due date counted
    identity_verified: bool


def average(total: int, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def on_time_share(due: Iterable[DueMilestone], today: date) -> int | None:
    """Percent of milestones delivered by their due date, over those delivered or
    overdue while held; None with nothing to count."""
    on_time = late = 0
    for m in due:
        if m.submitted_at is not None:
            if m.submitted_at.date() <= m.due_date:
                on_time += 1
            else:
                late += 1
        elif m.held and today > m.due_date:
            late += 1
    counted = on_time + late
    if not counted:
        return None
    return int((Decimal(100 * on_time) / counted).quantize(Decimal(1), rounding=ROUND_HALF_UP))


async def client_records(
    uow: UnitOfWork, config: MarketConfig, user_ids: Iterable[int]
) -> dict[int, ClientRecord]:
    """The clients' records, by user id (unknown ids are left out)."""
    facts = await uow.records.clients(list(user_ids))
    return {
        i: ClientRecord(
            user_id=i,
            member_since=f.member_since.date() if f.member_since else None,
            jobs_posted=f.jobs_posted,
            hires=f.hires,
            spent=f.spent.get(config.currency, 0),
            currency=config.currency,
            rating=average(f.rating_sum, f.rating_count),
            ratings=f.rating_count,
            payment_verified=f.payment_verified,
        )
        for i, f in facts.items()
    }


async def freelancer_records(
    uow: UnitOfWork, clock: Clock, user_ids: Iterable[int]
) -> dict[int, FreelancerRecord]:
    """The freelancers' records, by user id (unknown ids are left out)."""
    facts = await uow.records.freelancers(list(user_ids))
    today = clock.now().date()
    return {
        i: FreelancerRecord(
            user_id=i,
            member_since=f.member_since.date() if f.member_since else None,
            completed=f.completed,
            rating=average(f.rating_sum, f.rating_count),
            ratings=f.rating_count,
            on_time_percent=on_time_share(f.due, today),
            identity_verified=f.identity_verified,
        )
        for i, f in facts.items()
    }
