"""Track records of many people at once (domain.ports.TrackRecords): grouped
queries over a page's ids, so a page of cards costs the same few queries
whether it shows one person or twenty."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ports import ClientFacts, DueMilestone, FreelancerFacts
from domain.states import HELD, ContractStatus, MilestoneStatus, ReviewStatus
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


class SqlTrackRecords:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _rows(self, stmt: sa.Select[tuple[object, ...]]) -> list[sa.Row[tuple[object, ...]]]:
        return list((await self.session.execute(stmt)).all())

    async def _members(self, ids: list[int]) -> dict[int, object]:
        rows = await self._rows(
            sa.select(users.c.id, users.c.created_at).where(users.c.id.in_(ids))
        )
        return {r[0]: r[1] for r in rows}

    async def _ratings(self, ids: list[int], role: sa.Column[int]) -> dict[int, tuple[int, int]]:
        """Revealed reviews of each person in one role (the contract's client or freelancer)."""
        stmt = (
            sa.select(reviews.c.reviewee_id, sa.func.sum(reviews.c.rating), sa.func.count())
            .join(contracts, contracts.c.id == reviews.c.contract_id)
            .where(
                reviews.c.reviewee_id.in_(ids),
                reviews.c.reviewee_id == role,
                reviews.c.status == ReviewStatus.REVEALED,
            )
            .group_by(reviews.c.reviewee_id)
        )
        return {r[0]: (int(r[1] or 0), int(r[2])) for r in await self._rows(stmt)}

    async def clients(self, user_ids: Sequence[int]) -> dict[int, ClientFacts]:
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        members = await self._members(ids)
        posted = dict(
            await self._rows(
                sa.select(jobs.c.client_id, sa.func.count())
                .where(jobs.c.client_id.in_(ids), jobs.c.published_at.is_not(None))
                .group_by(jobs.c.client_id)
            )
        )
        hires = dict(
            await self._rows(
                sa.select(contracts.c.client_id, sa.func.count())
                .where(contracts.c.client_id.in_(ids), contracts.c.status.in_(HIRED))
                .group_by(contracts.c.client_id)
            )
        )
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
        spent: dict[int, dict[str, int]] = {}
        for client_id, currency, amount in await self._rows(
            sa.select(contracts.c.client_id, milestones.c.currency, sa.func.sum(paid))
            .join(contracts, contracts.c.id == milestones.c.contract_id)
            .where(
                contracts.c.client_id.in_(ids),
                milestones.c.status.in_((MilestoneStatus.RELEASED, MilestoneStatus.SPLIT)),
            )
            .group_by(contracts.c.client_id, milestones.c.currency)
        ):
            spent.setdefault(client_id, {})[currency] = int(amount or 0)  # type: ignore[index]
        ratings = await self._ratings(ids, contracts.c.client_id)
        # A payment the gateway confirmed, that went into escrow (not a late one sent
        # back) and that the payer's bank did not take back.
        verified = {
            r[0]
            for r in await self._rows(
                sa.select(payments.c.payer_id)
                .where(
                    payments.c.payer_id.in_(ids),
                    payments.c.status == "succeeded",
                    payments.c.failure_reason.is_(None),
                    payments.c.charged_back_at.is_(None),
                )
                .distinct()
            )
        }
        return {
            i: ClientFacts(
                user_id=i,
                member_since=members.get(i),  # type: ignore[arg-type]
                jobs_posted=int(posted.get(i, 0)),  # type: ignore[call-overload]
                hires=int(hires.get(i, 0)),  # type: ignore[call-overload]
                spent=spent.get(i, {}),
                rating_sum=ratings.get(i, (0, 0))[0],
                rating_count=ratings.get(i, (0, 0))[1],
                payment_verified=i in verified,
            )
            for i in ids
            if i in members
        }

    async def freelancers(self, user_ids: Sequence[int]) -> dict[int, FreelancerFacts]:
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        members = await self._members(ids)
        completed = dict(
            await self._rows(
                sa.select(contracts.c.freelancer_id, sa.func.count())
                .where(
                    contracts.c.freelancer_id.in_(ids),
                    contracts.c.status == ContractStatus.ENDED,
                )
                .group_by(contracts.c.freelancer_id)
            )
        )
        ratings = await self._ratings(ids, contracts.c.freelancer_id)
        held = sorted(HELD)
        due: dict[int, list[DueMilestone]] = {}
        for freelancer_id, due_date, submitted_at, status in await self._rows(
            sa.select(
                contracts.c.freelancer_id,
                milestones.c.due_date,
                milestones.c.submitted_at,
                milestones.c.status,
            )
            .join(contracts, contracts.c.id == milestones.c.contract_id)
            .where(
                contracts.c.freelancer_id.in_(ids),
                contracts.c.status.in_(HIRED),
                milestones.c.due_date.is_not(None),
                sa.or_(milestones.c.submitted_at.is_not(None), milestones.c.status.in_(held)),
            )
        ):
            due.setdefault(freelancer_id, []).append(  # type: ignore[arg-type]
                DueMilestone(due_date, submitted_at, status in HELD)  # type: ignore[arg-type]
            )
        verified = {
            r[0]
            for r in await self._rows(
                sa.select(identity_verifications.c.user_id).where(
                    identity_verifications.c.user_id.in_(ids),
                    identity_verifications.c.status == "verified",
                )
            )
        }
        return {
            i: FreelancerFacts(
                user_id=i,
                member_since=members.get(i),  # type: ignore[arg-type]
                completed=int(completed.get(i, 0)),  # type: ignore[call-overload]
                rating_sum=ratings.get(i, (0, 0))[0],
                rating_count=ratings.get(i, (0, 0))[1],
                due=tuple(due.get(i, ())),
                identity_verified=i in verified,
            )
            for i in ids
            if i in members
        }
