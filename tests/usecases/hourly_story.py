"""Building blocks for hourly stories: an accepted hourly contract, and its week."""

from __future__ import annotations

from domain.config import MarketConfig
from domain.entities import Job, Pitch
from domain.states import JobStatus
from domain.usecases import contracts, hourly
from tests.usecases.conftest import CLIENT, FREELANCER

RATE = 4_000  # $40.00 an hour
LIMIT = 10  # hours a week


async def hourly_hired(
    db, clock, config: MarketConfig, rate: int = RATE, limit: int = LIMIT
) -> tuple[int, int]:
    """An accepted hourly contract with its first week open: (contract id, week id)."""
    async with db.uow() as uow:
        job = await uow.jobs.add(
            Job(
                client_id=CLIENT,
                title="Backend work",
                description="Ongoing backend work, billed by the hour",
                budget_type="hourly",
                budget=rate,
                currency="USD",
                status=JobStatus.OPEN,
                created_at=clock.now(),
                published_at=clock.now(),
            )
        )
        await uow.pitches.add(
            Pitch(
                job_id=job.id,
                freelancer_id=FREELANCER,
                cover_letter="Happy to help",
                price=rate,
                created_at=clock.now(),
            )
        )
        contract = await hourly.send_hourly_offer(
            uow, clock, config, CLIENT, job.id, FREELANCER, rate, limit
        )
        await contracts.accept_offer(uow, clock, FREELANCER, contract.id)
        await uow.commit()
    async with db.uow() as uow:
        (week_id,) = await hourly.open_weeks_due(uow, clock, config)
        await uow.commit()
    return contract.id, week_id  # type: ignore[return-value]


async def week_milestone(db, week_id: int) -> int:
    async with db.uow() as uow:
        return (await uow.weeks.get(week_id)).milestone_id


async def log(db, clock, config, contract_id: int, minutes: int, memo: str = "work") -> None:
    async with db.uow() as uow:
        await hourly.log_time(uow, clock, config, FREELANCER, contract_id, minutes, memo)
        await uow.commit()


async def tick_weeks(db, clock, config) -> tuple[list[int], list[int], list[int]]:
    """What the scheduler's hourly deadlines did: (closed, opened, auto-paid) weeks."""
    done = []
    for fn in (hourly.close_weeks_due, hourly.open_weeks_due, hourly.auto_pay_due):
        async with db.uow() as uow:
            done.append(await fn(uow, clock, config))
            await uow.commit()
    return done[0], done[1], done[2]
