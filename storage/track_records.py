"""Track records of many people at once (domain.ports.TrackRecords): queries over
a page's ids, so a page of cards costs the same query whether it shows one
person or twenty — one a role: each person's counts in one row (a correlated
subquery per figure), and the rows that are lists (money spent per currency,
milestones due), sent together as one UNION ALL (`_together`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ports import ClientFacts, DueMilestone, FreelancerFacts
from domain.states import HELD, ContractStatus, MilestoneStatus, ReviewStatus
from storage.direct import Direct
from storage.tables import (
    contracts,
    disputes,
    identity_verifications,
    jobs,
    milestones,
    payments,
    reviews,
    users,
)

HIRED = (ContractStatus.ACTIVE, ContractStatus.ENDED)


IDS = sa.bindparam("ids", expanding=True)  # the page's people, bound at execution


def _whose(column: sa.ColumnElement[int], one: bool) -> sa.ColumnElement[bool]:
    """The people a statement is about: one (a card: a plain parameter) or a page's
    (an expanding IN, rewritten for its values at every execution, ~0.1 ms)."""
    return column == sa.bindparam("id") if one else column.in_(IDS)


def _any_of(column: sa.ColumnElement[Any], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """`column` is one of these constants, as plain equalities (an IN of a literal
    list is an expanding parameter too)."""
    return sa.or_(*(column == v for v in values))


def _rating(role: sa.Column[int], figure: sa.ColumnElement[int]) -> sa.ScalarSelect[int]:
    """Each person's revealed reviews in one role (the contract's client or
    freelancer): the sum of their ratings, or how many."""
    return (
        sa.select(figure)
        .select_from(reviews.join(contracts, contracts.c.id == reviews.c.contract_id))
        .where(
            reviews.c.reviewee_id == users.c.id,
            role == users.c.id,
            reviews.c.status == ReviewStatus.REVEALED,
        )
        .scalar_subquery()
    )


def _facts(one: bool, *figures: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """One row a person (id, member since, the figures), for those who exist."""
    return sa.select(users.c.id, users.c.created_at, *figures).where(_whose(users.c.id, one))


# The statements are built once (values bound at execution): building one of these
# and its cache key cost more than running it.


@cache
def _client_facts(one: bool) -> sa.Select[Any]:
    posted = (
        sa.select(sa.func.count())
        .where(jobs.c.client_id == users.c.id, jobs.c.published_at.is_not(None))
        .scalar_subquery()
    )
    hires = (
        sa.select(sa.func.count())
        .where(contracts.c.client_id == users.c.id, _any_of(contracts.c.status, HIRED))
        .scalar_subquery()
    )
    # A payment the gateway confirmed, that went into escrow (not a late one sent
    # back) and that the payer's bank did not take back.
    verified = sa.exists().where(
        payments.c.payer_id == users.c.id,
        payments.c.status == "succeeded",
        payments.c.failure_reason.is_(None),
        payments.c.charged_back_at.is_(None),
    )
    return _facts(
        one,
        posted,
        hires,
        _rating(contracts.c.client_id, sa.func.coalesce(sa.func.sum(reviews.c.rating), 0)),
        _rating(contracts.c.client_id, sa.func.count()),
        verified,
    )


@cache
def _client_spent(one: bool) -> sa.Select[Any]:
    # Paid to freelancers: released milestones in full, split ones by the share
    # the settlement gave the freelancer (one settled dispute per split milestone).
    share = (
        sa.select(sa.func.max(disputes.c.resolution_share))
        .where(disputes.c.milestone_id == milestones.c.id)
        .scalar_subquery()
    )
    paid = sa.case(
        (milestones.c.status == MilestoneStatus.RELEASED, milestones.c.amount),
        else_=sa.func.coalesce(share, 0),
    )
    return (
        sa.select(contracts.c.client_id, milestones.c.currency, sa.func.sum(paid))
        .join(contracts, contracts.c.id == milestones.c.contract_id)
        .where(
            _whose(contracts.c.client_id, one),
            _any_of(milestones.c.status, (MilestoneStatus.RELEASED, MilestoneStatus.SPLIT)),
        )
        .group_by(contracts.c.client_id, milestones.c.currency)
    )


@cache
def _freelancer_facts(one: bool) -> sa.Select[Any]:
    completed = (
        sa.select(sa.func.count())
        .where(
            contracts.c.freelancer_id == users.c.id,
            contracts.c.status == ContractStatus.ENDED,
        )
        .scalar_subquery()
    )
    verified = sa.exists().where(
        identity_verifications.c.user_id == users.c.id,
        identity_verifications.c.status == "verified",
    )
    return _facts(
        one,
        completed,
        _rating(contracts.c.freelancer_id, sa.func.coalesce(sa.func.sum(reviews.c.rating), 0)),
        _rating(contracts.c.freelancer_id, sa.func.count()),
        verified,
    )


@cache
def _freelancer_due(one: bool) -> sa.Select[Any]:
    return (
        sa.select(
            contracts.c.freelancer_id,
            milestones.c.due_date,
            milestones.c.submitted_at,
            milestones.c.status,
        )
        .join(contracts, contracts.c.id == milestones.c.contract_id)
        .where(
            _whose(contracts.c.freelancer_id, one),
            _any_of(contracts.c.status, HIRED),
            milestones.c.due_date.is_not(None),
            sa.or_(
                milestones.c.submitted_at.is_not(None), _any_of(milestones.c.status, sorted(HELD))
            ),
        )
    )


@cache
def _together(facts: Callable[[bool], sa.Select[Any]], lists: Callable[[bool], sa.Select[Any]],
              one: bool) -> Direct:  # fmt: skip
    """A role's facts (one row a person) and list rows (the person's id first) in one
    statement, one round trip where there were two: a UNION ALL of both, each padded
    with typed NULLs where the other has columns, told apart by its first column
    (FACTS or LIST). Layout: kind, person, the facts' other columns, the lists'.
    Every card and page reads it: straight on SQLite's driver (storage/direct.py),
    flushing nothing first, as a Core statement through the session never did."""
    fact_columns = list(facts(one).selected_columns)
    list_columns = list(lists(one).selected_columns)

    def blank(columns: list[Any]) -> list[Any]:
        return [sa.cast(sa.null(), c.type) for c in columns]

    together = sa.union_all(
        facts(one).with_only_columns(
            sa.literal(FACTS), *fact_columns, *blank(list_columns[1:]), maintain_column_froms=True
        ),
        lists(one).with_only_columns(
            sa.literal(LIST),
            list_columns[0],
            *blank(fact_columns[1:]),
            *list_columns[1:],
            maintain_column_froms=True,
        ),
    )
    return Direct(together, autoflush=False)


FACTS, LIST = 0, 1


class SqlTrackRecords:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _rows(
        self,
        facts: Callable[[bool], sa.Select[Any]],
        lists: Callable[[bool], sa.Select[Any]],
        ids: list[int],
    ) -> tuple[dict[int, tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Each person's facts (id, member since, figures) and the list rows
        (person, values), from one statement (_together)."""
        one = len(ids) == 1
        values = {"id": ids[0]} if one else {"ids": ids}
        width = len(facts(one).selected_columns)
        found: dict[int, tuple[Any, ...]] = {}
        rows: list[tuple[Any, ...]] = []
        for row in await _together(facts, lists, one).rows(self.session, values):
            if row[0] == FACTS:
                found[row[1]] = tuple(row[1 : 1 + width])
            else:
                rows.append((row[1], *row[1 + width :]))
        return found, rows

    async def clients(self, user_ids: Sequence[int]) -> dict[int, ClientFacts]:
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        facts, rows = await self._rows(_client_facts, _client_spent, ids)
        spent: dict[int, dict[str, int]] = {}
        for client_id, currency, amount in rows:
            spent.setdefault(client_id, {})[currency] = int(amount or 0)
        return {
            i: ClientFacts(
                user_id=i,
                member_since=row[1],
                jobs_posted=int(row[2]),
                hires=int(row[3]),
                spent=spent.get(i, {}),
                rating_sum=int(row[4]),
                rating_count=int(row[5]),
                payment_verified=bool(row[6]),
            )
            for i, row in sorted(facts.items())
        }

    async def freelancers(self, user_ids: Sequence[int]) -> dict[int, FreelancerFacts]:
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        facts, rows = await self._rows(_freelancer_facts, _freelancer_due, ids)
        due: dict[int, list[DueMilestone]] = {}
        for freelancer_id, due_date, submitted_at, status in rows:
            due.setdefault(freelancer_id, []).append(
                DueMilestone(due_date, submitted_at, status in HELD)
            )
        return {
            i: FreelancerFacts(
                user_id=i,
                member_since=row[1],
                completed=int(row[2]),
                rating_sum=int(row[3]),
                rating_count=int(row[4]),
                due=tuple(due.get(i, ())),
                identity_verified=bool(row[5]),
            )
            for i, row in sorted(facts.items())
        }
