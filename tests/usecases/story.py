"""Building blocks for the money stories: a gateway that records what it was
asked (no network), and a hired contract set up through the use cases."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.config import MarketConfig
from domain.entities import GatewayCall, Job, Payment, Pitch
from domain.ports import CheckoutStarted
from domain.states import JobStatus
from domain.usecases import contracts, payments
from domain.usecases.contracts import MilestoneSpec
from handlers.gateway_calls import GatewayCallRunner
from tests.funding import open_checkout
from tests.usecases.conftest import CLIENT, FREELANCER


@dataclass
class RecordingGateway:
    name: str = "sandbox"
    checkouts: list[str] = field(default_factory=list)
    refunds: list[tuple[int, str]] = field(default_factory=list)
    payouts: list[tuple[int, str]] = field(default_factory=list)

    async def start_checkout(
        self, payment: Payment, description: str, idempotency_key: str
    ) -> CheckoutStarted:
        self.checkouts.append(idempotency_key)
        return CheckoutStarted(f"cs_{idempotency_key}", f"http://127.0.0.1/pay/{payment.id}")

    async def payout_params(self, uow, user_id: int) -> dict:  # type: ignore[no-untyped-def]
        return {}

    async def execute(self, call: GatewayCall, payment: Payment | None = None) -> str:
        """Record each movement once per key, as a gateway keeps its idempotency keys."""
        book = self.refunds if call.kind in ("refund", "late_refund") else self.payouts
        if (call.amount, call.key) not in book:
            book.append((call.amount, call.key))
        prefix = "re_" if book is self.refunds else "tr_"
        return f"{prefix}{call.key}"


async def make_calls(db, clock, config: MarketConfig, gateway) -> int:  # type: ignore[no-untyped-def]
    """Make the gateway calls the use cases committed (the engine does it after
    each commit; tests that call use cases directly do it here)."""
    runner = GatewayCallRunner(db.uow, clock, config, gateway)
    return await runner.make_due(idle_seconds=0)


async def open_job(db, clock, client_id: int = CLIENT, title: str = "Logo design") -> int:
    async with db.uow() as uow:
        job = await uow.jobs.add(
            Job(
                client_id=client_id,
                title=title,
                description="A clean logo for a coffee shop",
                budget=50_000,
                currency="USD",
                status=JobStatus.OPEN,
                created_at=clock.now(),
                published_at=clock.now(),
            )
        )
        await uow.commit()
        return job.id


async def hired(
    db,
    clock,
    config: MarketConfig,
    amounts: tuple[int, ...] = (10_000,),
    client_id: int = CLIENT,
    freelancer_id: int = FREELANCER,
    job_id: int | None = None,
) -> tuple[int, list[int]]:
    """An active contract with milestones of the given amounts: (contract id, milestone ids)."""
    if job_id is None:
        job_id = await open_job(db, clock, client_id)
    async with db.uow() as uow:
        await uow.pitches.add(
            Pitch(
                job_id=job_id,
                freelancer_id=freelancer_id,
                cover_letter="I can do it",
                price=sum(amounts),
                created_at=clock.now(),
            )
        )
        contract = await contracts.send_offer(
            uow,
            clock,
            config,
            client_id,
            job_id,
            freelancer_id,
            [MilestoneSpec(f"Part {i}", a) for i, a in enumerate(amounts, 1)],
        )
        await contracts.accept_offer(uow, clock, freelancer_id, contract.id)
        await uow.commit()
        ids = [m.id for m in await uow.milestones.find(contract_id=contract.id)]
        return contract.id, ids


async def fund(db, clock, config, gateway, milestone_id: int, client_id: int = CLIENT) -> str:
    """Start the checkout and confirm it, as the payment page would: the external id."""
    payment = await open_checkout(db, clock, config, gateway, client_id, milestone_id)
    async with db.uow() as uow:
        assert await payments.confirm_payment(
            uow, clock, config, gateway.name, payment.external_id, f"ch_{payment.id}"
        )
        await uow.commit()
    return payment.external_id
