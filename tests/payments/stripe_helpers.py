"""Small steps the Stripe tests share."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from domain.states import MilestoneStatus
from storage.database import Database
from storage.tables import stripe_events
from tests.clock import ManualClock
from tests.funding import open_checkout
from tests.payments.market import CONFIG, Deal
from tests.payments.stripe_servers import StripeEnv


@dataclass(frozen=True)
class Started:
    payment_id: int
    session_id: str
    url: str


async def start(
    env: StripeEnv, db: Database, clock: ManualClock, deal: Deal, milestone_id: int | None = None
) -> Started:
    payment = await open_checkout(
        db, clock, CONFIG, env.gateway, deal.client_id, milestone_id or deal.milestone_id
    )
    return Started(payment.id, payment.external_id, payment.checkout_url)  # type: ignore[arg-type]


async def milestone_status(db: Database, milestone_id: int) -> MilestoneStatus:
    async with db.uow() as uow:
        m = await uow.milestones.get(milestone_id)
        assert m is not None
        return m.status


async def payment_row(db: Database, payment_id: int) -> tuple[str, str | None]:
    async with db.uow() as uow:
        p = await uow.payments.get(payment_id)
        assert p is not None
        return p.status, p.charge_ref


async def fund_keys(db: Database) -> list[str]:
    async with db.uow() as uow:
        return [t.key for t in await uow.ledger.transactions()]


async def recorded_events(db: Database) -> list[str]:
    async with db.uow() as uow:
        return list(await uow.session.scalars(sa.select(stripe_events.c.type)))  # type: ignore[attr-defined]


async def outbox_kinds(db: Database) -> list[str]:
    async with db.uow() as uow:
        return [m.payload.get("kind") for m in await uow.outbox.find()]
