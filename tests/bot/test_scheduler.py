"""The scheduler loop (no sleeping: ticks are observed through events), and two
schedulers running the real Engine.tick at once on one SQLite/PostgreSQL database."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

import pytest
import sqlalchemy as sa

from bot.scheduler import Scheduler
from domain import entities as e
from domain.config import MarketConfig
from domain.states import ContractStatus, JobStatus
from handlers.engine import Engine
from storage.database import Database
from storage.tables import outbox
from tests.clock import ManualClock

FOREVER = 3600.0  # an interval no test waits for: ticks come from start() and wake()


class Ticks:
    """A tick function whose calls the test can await, one by one."""

    def __init__(self, results: list[int | Exception]) -> None:
        self.results = list(results)
        self.count = 0
        self.changed = asyncio.Condition()

    async def __call__(self) -> int:
        result = self.results.pop(0) if self.results else 0
        async with self.changed:
            self.count += 1
            self.changed.notify_all()
        if isinstance(result, Exception):
            raise result
        return result

    async def reach(self, count: int) -> None:
        async with asyncio.timeout(5), self.changed:
            await self.changed.wait_for(lambda: self.count >= count)


async def test_ticks_at_start_and_on_wake() -> None:
    ticks = Ticks([2, 0, 3])
    scheduler = Scheduler(ticks, interval_s=FOREVER)
    scheduler.start()
    await ticks.reach(1)
    scheduler.wake()
    await ticks.reach(2)
    scheduler.wake()
    await ticks.reach(3)
    await scheduler.stop()
    assert (scheduler.ticks, scheduler.done, scheduler.failures) == (3, 5, 0)


async def test_ticks_again_every_interval() -> None:
    ticks = Ticks([])
    scheduler = Scheduler(ticks, interval_s=0.01)
    scheduler.start()
    await ticks.reach(4)  # nobody woke it: the interval did
    await scheduler.stop()


async def test_a_failing_tick_is_logged_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ticks = Ticks([RuntimeError("database went away"), 1])
    seen: list[int] = []
    scheduler = Scheduler(ticks, interval_s=FOREVER, on_tick=seen.append)
    with caplog.at_level(logging.ERROR, logger="bot.scheduler"):
        scheduler.start()
        await ticks.reach(1)
        scheduler.wake()
        await ticks.reach(2)
        await scheduler.stop()
    assert (scheduler.failures, scheduler.done, seen) == (1, 1, [1])
    assert "database went away" in caplog.text


async def test_stop_lets_the_tick_in_progress_finish() -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    finished: list[bool] = []

    async def slow_tick() -> int:
        entered.set()
        await release.wait()
        finished.append(True)
        return 1

    scheduler = Scheduler(slow_tick, interval_s=FOREVER)
    task = scheduler.start()
    await entered.wait()
    stopping = asyncio.create_task(scheduler.stop())
    await asyncio.sleep(0)
    assert not stopping.done()  # waits for the tick, which is one unit of work
    release.set()
    await stopping
    assert finished == [True] and task.done()


async def test_start_twice_is_refused_and_a_bad_interval_too() -> None:
    scheduler = Scheduler(Ticks([]), interval_s=FOREVER)
    scheduler.start()
    with pytest.raises(RuntimeError):
        scheduler.start()
    await scheduler.stop()
    with pytest.raises(ValueError):
        Scheduler(Ticks([]), interval_s=0)


# -- two processes' schedulers on one database ----------------------------------------


async def _expired_offers(db: Database, clock: ManualClock, count: int) -> list[int]:
    """Offers that were due to expire an hour ago."""
    async with db.uow() as uow:
        for uid in (1, 2):
            await uow.users.add(e.User(id=uid, name=f"user {uid}"))
        ids = []
        for i in range(count):
            job = await uow.jobs.add(e.Job(client_id=1, title=f"Job {i}", status=JobStatus.OPEN))
            contract = await uow.contracts.add(
                e.Contract(
                    job_id=job.id,
                    client_id=1,
                    freelancer_id=2,
                    title=f"Contract {i}",
                    status=ContractStatus.OFFERED,
                    offered_at=clock.now(),
                    expires_at=clock.advance(minutes=1),
                )
            )
            ids.append(contract.id)
        await uow.commit()
    clock.advance(hours=1)
    return ids


def _together(
    tick: Callable[[], Awaitable[int]],
    barrier: asyncio.Barrier,
    log: list[int],
    both: asyncio.Event,
) -> Callable[[], Awaitable[int]]:
    async def run() -> int:
        await barrier.wait()  # both processes tick at the same moment
        done = await tick()
        log.append(done)
        if len(log) == 2:
            both.set()
        return done

    return run


async def test_two_schedulers_ticking_at_once_act_once(
    any_db: Database, clock: ManualClock
) -> None:
    contract_ids = await _expired_offers(any_db, clock, 5)
    other_process = Database(any_db.url, now=clock.now)
    try:
        barrier, results, both = asyncio.Barrier(2), [], asyncio.Event()
        schedulers = [
            Scheduler(
                _together(Engine(db.uow, clock, MarketConfig()).tick, barrier, results, both),
                interval_s=FOREVER,
            )
            for db in (any_db, other_process)
        ]
        for scheduler in schedulers:
            scheduler.start()
        await asyncio.wait_for(both.wait(), 30)  # each ticked once, at the same moment
        for scheduler in schedulers:
            await scheduler.stop()
    finally:
        await other_process.dispose()

    assert sum(results) == len(contract_ids)  # every offer expired exactly once
    async with any_db.uow() as uow:
        for cid in contract_ids:
            assert (await uow.contracts.get(cid)).status is ContractStatus.EXPIRED
        rows = (await uow.session.execute(sa.select(outbox.c.chat_id, outbox.c.payload))).all()
    notices = Counter((chat_id, payload.get("text")) for chat_id, payload in rows)
    assert notices and max(notices.values()) == 1  # and each party told once
