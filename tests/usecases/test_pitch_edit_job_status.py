"""pitches.edit_pitch refuses a pending pitch whose job is paused or closed
(code "pitch_job_not_open"), leaving the pitch as it was; on SQLite and PostgreSQL."""

import pytest

from domain.errors import IllegalTransition, NotAllowed
from domain.states import PitchStatus
from domain.usecases import jobs, pitches
from domain.usecases.pitches import PitchFields
from tests.usecases.conftest import CLIENT, FREELANCER
from tests.usecases.story import open_job

PITCH = PitchFields(cover_letter="I have built many scrapers like this one.", price=25_000)
NEW_TERMS = PitchFields(cover_letter="Cheaper and faster: done within a week.", price=20_000)


async def _pitch(db, clock, config) -> tuple[int, int]:
    job_id = await open_job(db, clock)
    async with db.uow() as uow:
        pitch = await pitches.submit_pitch(uow, clock, config, FREELANCER, job_id, PITCH)
        await uow.commit()
    return job_id, pitch.id


async def _refused_edit(db, clock, pitch_id: int) -> NotAllowed:
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await pitches.edit_pitch(uow, clock, FREELANCER, pitch_id, NEW_TERMS)
        assert [e.kind for e in uow.events] == []
    async with db.uow() as uow:
        stored = await uow.pitches.get(pitch_id)
        assert (stored.status, stored.price) == (PitchStatus.PENDING, PITCH.price)
        assert stored.cover_letter == PITCH.cover_letter
    return err.value


@pytest.mark.parametrize("action", ["pause_job", "close_job"])
async def test_no_edits_once_the_job_is_not_open(users, clock, config, action):
    db = users
    job_id, pitch_id = await _pitch(db, clock, config)
    async with db.uow() as uow:
        await getattr(jobs, action)(uow, clock, CLIENT, job_id)
        await uow.commit()
    err = await _refused_edit(db, clock, pitch_id)
    status = {"pause_job": "paused", "close_job": "closed"}[action]
    assert (err.code, err.params) == ("pitch_job_not_open", {"status": status})


async def test_a_resumed_job_takes_edits_again(users, clock, config):
    db = users
    job_id, pitch_id = await _pitch(db, clock, config)
    async with db.uow() as uow:
        await jobs.pause_job(uow, clock, CLIENT, job_id)
        await uow.commit()
    await _refused_edit(db, clock, pitch_id)
    async with db.uow() as uow:
        await jobs.resume_job(uow, clock, CLIENT, job_id)
        await uow.commit()
    async with db.uow() as uow:
        edited = await pitches.edit_pitch(uow, clock, FREELANCER, pitch_id, NEW_TERMS)
        assert [e.kind for e in uow.events] == ["pitch_edited"]
        await uow.commit()
    assert (edited.status, edited.price) == (PitchStatus.PENDING, NEW_TERMS.price)


async def test_a_pitch_past_pending_is_refused_by_its_own_state_first(users, clock, config):
    db = users
    job_id, pitch_id = await _pitch(db, clock, config)
    async with db.uow() as uow:
        await pitches.shortlist_pitch(uow, clock, CLIENT, pitch_id)
        await jobs.close_job(uow, clock, CLIENT, job_id)
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(IllegalTransition):
            await pitches.edit_pitch(uow, clock, FREELANCER, pitch_id, NEW_TERMS)
