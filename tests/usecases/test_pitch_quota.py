"""What the pitch flow needs from pitches.py and queries.py: the rolling quota
with the time the next pitch is free, the up-front check, the milestone rule,
and the re-authorising pitch loaders."""

from datetime import timedelta

import pytest

from domain.errors import NotAllowed, QuotaExceeded, ValidationError
from domain.usecases import pitches, queries
from domain.usecases.pitches import PitchFields
from tests.usecases.conftest import CLIENT, FREELANCER, OTHER_FREELANCER, STRANGER
from tests.usecases.story import open_job

LETTER = "I have drawn forty logos for coffee shops."


async def test_quota_is_rolling_and_says_when_the_next_pitch_is_free(users, clock, config):
    db = users  # config.weekly_pitch_quota == 3
    job_ids = [await open_job(db, clock, title=f"Job number {i}") for i in range(5)]
    first_at = clock.now()
    async with db.uow() as uow:
        quota = await pitches.pitch_quota(uow, clock, config, FREELANCER)
        assert (quota.used, quota.left, quota.next_free_at) == (0, 3, None)
        for job_id in job_ids[:3]:
            await pitches.submit_pitch(
                uow, clock, config, FREELANCER, job_id, PitchFields(LETTER, 100)
            )
            clock.advance(days=1)
        await uow.commit()
    async with db.uow() as uow:
        quota = await pitches.pitch_quota(uow, clock, config, FREELANCER)
        assert (quota.used, quota.left) == (3, 0)
        assert quota.next_free_at == first_at + timedelta(days=7)
        with pytest.raises(QuotaExceeded) as err:
            await pitches.check_can_pitch(uow, clock, config, FREELANCER, job_ids[3])
        assert err.value.code == "pitch_quota" and err.value.params == {"quota": 3}
    clock.advance(days=4, seconds=1)  # the first pitch leaves the 7-day window
    async with db.uow() as uow:
        job, invited, quota = await pitches.check_can_pitch(
            uow, clock, config, FREELANCER, job_ids[3]
        )
        assert (job.id, invited, quota.left, quota.next_free_at) == (job_ids[3], False, 1, None)


async def test_check_can_pitch_refuses_what_submit_refuses(users, clock, config):
    db = users
    job_id = await open_job(db, clock)
    async with db.uow() as uow:
        for actor, code in ((CLIENT, "freelancer_only"), (STRANGER, "freelancer_only")):
            with pytest.raises(NotAllowed) as err:
                await pitches.check_can_pitch(uow, clock, config, actor, job_id)
            assert err.value.code == code
        await pitches.invite_freelancer(uow, clock, CLIENT, job_id, FREELANCER)
        _, invited, _ = await pitches.check_can_pitch(uow, clock, config, FREELANCER, job_id)
        assert invited
        await pitches.submit_pitch(uow, clock, config, FREELANCER, job_id, PitchFields(LETTER, 100))
        with pytest.raises(NotAllowed) as err:
            await pitches.check_can_pitch(uow, clock, config, FREELANCER, job_id)
        assert err.value.code == "already_pitched"
        with pytest.raises(NotAllowed) as err:
            await pitches.invite_freelancer(uow, clock, CLIENT, job_id, FREELANCER)
        assert err.value.code == "already_invited"


async def test_milestones_add_up_to_a_fixed_price(sqlite_users, clock, config):
    db = sqlite_users
    job_id = await open_job(db, clock)  # fixed price
    halves = [{"title": "Sketches", "amount": 200}, {"title": "Final files", "amount": 300}]
    async with db.uow() as uow:
        with pytest.raises(ValidationError) as err:
            await pitches.submit_pitch(
                uow, clock, config, FREELANCER, job_id, PitchFields(LETTER, 450, 3, halves)
            )
        assert err.value.code == "pitch_milestones_over"
        assert err.value.params == {"total": "$5.00", "price": "$4.50", "diff": "$0.50"}
        with pytest.raises(ValidationError) as err:
            await pitches.submit_pitch(
                uow, clock, config, FREELANCER, job_id, PitchFields(LETTER, 600, 3, halves)
            )
        assert err.value.code == "pitch_milestones_short"
        assert err.value.params == {"total": "$5.00", "price": "$6.00", "diff": "$1.00"}
        pitch = await pitches.submit_pitch(
            uow, clock, config, FREELANCER, job_id, PitchFields(LETTER, 500, 3, halves)
        )
        assert pitch.proposed_milestones == halves
        with pytest.raises(ValidationError):  # an edit keeps the rule
            await pitches.edit_pitch(
                uow, clock, FREELANCER, pitch.id, PitchFields(LETTER, 600, 3, halves)
            )
        edited = await pitches.edit_pitch(
            uow, clock, FREELANCER, pitch.id, PitchFields(LETTER, 600)
        )
        assert edited.proposed_milestones == []


async def test_pitch_loaders_reauthorise(sqlite_users, clock, config):
    db = sqlite_users
    job_id = await open_job(db, clock)
    async with db.uow() as uow:
        pitch = await pitches.submit_pitch(
            uow, clock, config, FREELANCER, job_id, PitchFields(LETTER, 100)
        )
        for actor in (FREELANCER, CLIENT):
            seen, job = await queries.visible_pitch(uow, actor, pitch.id)
            assert (seen.id, job.id) == (pitch.id, job_id)
        assert (await queries.own_pitch(uow, FREELANCER, pitch.id)).id == pitch.id
        for load in (queries.visible_pitch, queries.own_pitch):
            with pytest.raises(NotAllowed) as err:
                await load(uow, OTHER_FREELANCER, pitch.id)
            assert err.value.code == "not_your_pitch"
        with pytest.raises(NotAllowed):
            await queries.own_pitch(uow, CLIENT, pitch.id)
