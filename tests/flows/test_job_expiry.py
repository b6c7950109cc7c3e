"""Jobs that end (issue 13, part 5): a job with no activity for
GIGBOT_JOB_EXPIRY_DAYS asks its client "Still hiring?"; without an answer it closes
a week later and freelancers with pending pitches are told. The deadline is two
job columns ticked by Engine.tick, so another engine (a restart) carries it on."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.config import MarketConfig
from domain.entities import Job
from domain.states import JobStatus
from domain.usecases import jobs
from handlers.callbacks import encode
from tests.flows.harness import Harness
from tests.flows.test_offers import add_pitch, label, money_harness, open_job, people

DAYS = MarketConfig().job_expiry_days  # 30


@pytest.fixture
def h(db, clock) -> Harness:
    return money_harness(db, clock)


async def job(h: Harness, job_id: int) -> Job:
    async with h.db.uow() as uow:
        found = await uow.jobs.get(job_id)
        assert found is not None
        return replace(found)


def asked(h: Harness, who, lang: str = "en") -> bool:  # type: ignore[no-untyped-def]
    return any(m.button(label("jobend.btn.keep", lang)) is not None for m in h.chat(who))


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_quiet_job_asks_then_closes_unanswered_and_pitchers_are_told(h, db, clock, lang):
    carla, fred = await people(h, client_lang=lang, freelancer_lang=lang)
    job_id = await open_job(h, carla)
    clock.advance(days=10)
    await add_pitch(h, job_id, fred)  # activity: the 30 days count from the pitch
    clock.advance(days=DAYS - 1)
    await h.tick()
    assert not asked(h, carla, lang)
    clock.advance(days=1, seconds=1)
    await h.tick()
    question = h.last(carla)
    assert question.button(label("jobend.btn.close", lang))
    assert (await job(h, job_id)).expiry_asked_at is not None
    assert (clock.now().date() + timedelta(days=7)).isoformat() in question.text
    await h.tick()  # asked once
    assert sum(1 for m in h.chat(carla) if m.button(label("jobend.btn.keep", lang))) == 1

    # A restart: another engine on the same database carries the deadline on.
    h2 = money_harness(db, clock)
    clock.advance(days=6)
    await h2.tick()
    assert (await job(h, job_id)).status is JobStatus.OPEN
    clock.advance(days=1, seconds=1)
    await h2.tick()
    assert (await job(h, job_id)).status is JobStatus.CLOSED
    assert label("jobend.closed_client", lang, title="Landing <page> & logo") == h2.last(carla).text
    assert (
        label("jobend.closed_freelancer", lang, title="Landing <page> & logo") == h2.last(fred).text
    )
    # The old question's buttons change nothing now.
    await h2.press_data(carla, encode("jx", "keep", job_id))
    assert (await job(h, job_id)).status is JobStatus.CLOSED


async def test_keep_open_starts_the_days_again_and_close_closes_now(h, clock):
    carla, fred = await people(h)
    job_id = await open_job(h, carla)
    clock.advance(days=DAYS, seconds=1)
    await h.tick()
    await h.press(carla, label("jobend.btn.keep"))
    assert label("jobend.kept", title="Landing <page> & logo") == h.last(carla).text
    found = await job(h, job_id)
    assert found.status is JobStatus.OPEN and found.expiry_asked_at is None
    clock.advance(days=8)
    await h.tick()  # the grace week passed, but the client answered: still open
    assert (await job(h, job_id)).status is JobStatus.OPEN
    clock.advance(days=DAYS - 8, seconds=1)
    await h.tick()
    await h.press(carla, label("jobend.btn.close"))
    assert (await job(h, job_id)).status is JobStatus.CLOSED
    # A stranger's (or the freelancer's) press is refused.
    await h.press_data(fred, encode("jx", "keep", job_id))
    assert (await job(h, job_id)).status is JobStatus.CLOSED


async def test_an_edit_or_a_pitch_after_the_question_keeps_the_job(h, clock, config):
    carla, fred = await people(h)
    job_id = await open_job(h, carla)
    clock.advance(days=DAYS, seconds=1)
    await h.tick()
    assert asked(h, carla)
    clock.advance(days=3)
    await add_pitch(h, job_id, fred)  # a pitch in the grace week is activity
    clock.advance(days=5)
    await h.tick()
    found = await job(h, job_id)
    assert found.status is JobStatus.OPEN and found.expiry_asked_at is None
    # Published through the use case: publication is activity, edits are too.
    async with h.db.uow() as uow:
        draft = await uow.jobs.add(
            Job(client_id=carla.id, title="Another job", created_at=clock.now())
        )
        await jobs.publish_job(uow, clock, carla.id, draft.id)
        await uow.commit()
    assert (await job(h, draft.id)).active_at == clock.now()
