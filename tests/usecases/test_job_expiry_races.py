"""Jobs that end, under races (issue 13, part 5), on SQLite and PostgreSQL: two
schedulers ticking at once ask once and close once; the client's answer at the
moment the grace week ends wins or loses whole, never both."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from domain.entities import Pitch
from domain.errors import DomainError
from domain.states import JobStatus, PitchStatus
from domain.usecases import job_expiry
from tests.usecases.conftest import CLIENT, FREELANCER
from tests.usecases.story import open_job


async def run(db, operation):  # type: ignore[no-untyped-def]
    async with db.uow() as uow:
        try:
            result = await operation(uow)
        except DomainError:
            return None
        await uow.commit()
        return result, list(uow.events)


async def quiet_job(db, clock, config) -> int:  # type: ignore[no-untyped-def]
    job_id = await open_job(db, clock, CLIENT)
    async with db.uow() as uow:
        await uow.pitches.add(
            Pitch(job_id=job_id, freelancer_id=FREELANCER, price=100, created_at=clock.now())
        )
        await uow.commit()
    clock.advance(days=config.job_expiry_days, seconds=1)
    return job_id


async def test_two_schedulers_ask_once_and_close_once(users, clock, config):
    db = users
    job_id = await quiet_job(db, clock, config)
    asked = await asyncio.gather(
        *(run(db, lambda uow: job_expiry.ask_still_hiring(uow, clock, config)) for _ in range(2))
    )
    assert sorted(len(r[0]) for r in asked if r) == [0, 1]
    clock.advance(days=config.job_expiry_grace_days, seconds=1)
    closed = await asyncio.gather(
        *(run(db, lambda uow: job_expiry.close_unanswered(uow, clock, config)) for _ in range(2))
    )
    assert sorted(len(r[0]) for r in closed if r) == [0, 1]
    [news] = [e for r in closed if r for e in r[1] if e.kind == "job_expired"]
    assert news.freelancer_ids == [FREELANCER]
    async with db.uow() as uow:
        job = await uow.jobs.get(job_id)
        assert job.status is JobStatus.CLOSED
        [pitch] = await uow.pitches.find(job_id=job_id)
        assert pitch.status is PitchStatus.PENDING  # pitches stay; their job is closed


@pytest.mark.parametrize("keep_open", [True, False])
async def test_an_answer_at_the_deadline_and_the_tick_act_once(users, clock, config, keep_open):
    db = users
    job_id = await quiet_job(db, clock, config)
    await run(db, lambda uow: job_expiry.ask_still_hiring(uow, clock, config))
    clock.advance(days=config.job_expiry_grace_days, seconds=1)
    answer, tick = await asyncio.gather(
        run(db, lambda uow: job_expiry.answer_still_hiring(uow, clock, CLIENT, job_id, keep_open)),
        run(db, lambda uow: job_expiry.close_unanswered(uow, clock, config)),
    )
    kinds = [e.kind for r in (answer, tick) if r for e in r[1]]
    # Closed once at most: by the client's Close or by the tick, never both.
    assert kinds.count("job_closed") + kinds.count("job_expired") == (
        0 if keep_open and not (tick and tick[0]) else 1
    )
    async with db.uow() as uow:
        job = replace(await uow.jobs.get(job_id))
    if keep_open and not (tick and tick[0]):
        assert job.status is JobStatus.OPEN and job.expiry_asked_at is None
        assert job.active_at >= clock.now() - timedelta(seconds=1)
    else:
        assert job.status is JobStatus.CLOSED
