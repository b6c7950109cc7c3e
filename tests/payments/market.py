"""Set up a client, a freelancer, a job, a contract and a milestone through the
use cases, on a real database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from domain.config import MarketConfig
from domain.entities import Invitation, Job, OutboxMessage
from domain.events import Event
from domain.ports import Clock, UnitOfWork
from domain.states import JobStatus
from domain.usecases.accounts import register_user, set_roles
from domain.usecases.contracts import MilestoneSpec, accept_offer, send_offer
from storage.database import Database

CONFIG = MarketConfig(
    currency="USD", client_fee_bp=500, freelancer_fee_bp=1000, admin_ids=frozenset({9})
)


@dataclass(frozen=True)
class Deal:
    client_id: int
    freelancer_id: int
    job_id: int
    contract_id: int
    milestone_ids: tuple[int, ...]

    @property
    def milestone_id(self) -> int:
        return self.milestone_ids[0]


async def _job(uow: UnitOfWork, clock: Clock, client_id: int, freelancer_id: int) -> int:
    # The job use cases are another engineer's; an open job plus an invitation is
    # all that send_offer needs, so they are written through the repositories.
    job = await uow.jobs.add(
        Job(
            client_id=client_id,
            title="Landing page <for> a bakery",
            description="One page, responsive.",
            budget=50_000,
            currency="USD",
            status=JobStatus.OPEN,
            created_at=clock.now(),
            published_at=clock.now(),
        )
    )
    await uow.invitations.add(
        Invitation(
            job_id=job.id, client_id=client_id, freelancer_id=freelancer_id, created_at=clock.now()
        )
    )
    return job.id  # type: ignore[return-value]


async def make_deal(
    db: Database,
    clock: Clock,
    config: MarketConfig = CONFIG,
    amounts: Sequence[int] = (10_000,),
    client_id: int = 1001,
    freelancer_id: int = 2002,
) -> Deal:
    async with db.uow() as uow:
        await register_user(uow, clock, client_id, "Carla <Client>", "carla", "en")
        await register_user(uow, clock, freelancer_id, "Fred Freelancer", "fred", "en")
        await set_roles(uow, clock, client_id, client=True, freelancer=False)
        await set_roles(uow, clock, freelancer_id, client=False, freelancer=True)
        job_id = await _job(uow, clock, client_id, freelancer_id)
        contract = await send_offer(
            uow,
            clock,
            config,
            client_id,
            job_id,
            freelancer_id,
            [MilestoneSpec(f"Design & <b>build</b> {i}", a) for i, a in enumerate(amounts, 1)],
        )
        await accept_offer(uow, clock, freelancer_id, contract.id)  # type: ignore[arg-type]
        milestones = await uow.milestones.find(contract_id=contract.id, order_by="position")
        await uow.commit()
    return Deal(client_id, freelancer_id, job_id, contract.id, tuple(m.id for m in milestones))  # type: ignore[arg-type, misc]


async def outbox_renderer(uow: UnitOfWork, events: Sequence[Event]) -> None:
    """A stand-in for handlers/notify.py: one outbox row per event, so tests can
    see that notifications commit (or roll back) with the money change."""
    for event in events:
        await uow.outbox.add(
            OutboxMessage(chat_id=0, payload={"kind": event.kind, **asdict(event)})
        )


async def ledger_state(db: Database) -> dict[str, int]:
    async with db.uow() as uow:
        return await uow.ledger.balances()
