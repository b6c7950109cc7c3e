"""Read models behind the client's job screens (queries.py): loading one's job
or a pitch on it, my jobs a page at a time, and freelancers to invite."""

import pytest

from domain.entities import FreelancerProfile, User
from domain.errors import NotAllowed
from domain.usecases import jobs, pitches, queries
from domain.usecases.pitches import PitchFields
from tests.usecases.conftest import CLIENT, FREELANCER, OTHER_FREELANCER, STRANGER
from tests.usecases.story import open_job

LETTER = "I have drawn forty logos for coffee shops."


async def test_own_job_and_pitches_on_it_are_the_clients_only(sqlite_users, clock, config):
    db = sqlite_users
    job_id = await open_job(db, clock)
    others = await open_job(db, clock, client_id=OTHER_FREELANCER)
    async with db.uow() as uow:
        pitch = await pitches.submit_pitch(
            uow, clock, config, FREELANCER, job_id, PitchFields(LETTER, 100)
        )
        assert (await queries.own_job(uow, CLIENT, job_id)).id == job_id
        seen, job = await queries.pitch_on_own_job(uow, CLIENT, pitch.id)
        assert (seen.id, job.id) == (pitch.id, job_id)
        for actor, job, code in [
            (CLIENT, others, "not_your_job"),
            (FREELANCER, job_id, "client_only"),
            (STRANGER, job_id, "client_only"),
        ]:
            with pytest.raises(NotAllowed) as err:
                await queries.own_job(uow, actor, job)
            assert err.value.code == code
        with pytest.raises(NotAllowed):
            await queries.pitch_on_own_job(uow, OTHER_FREELANCER, pitch.id)


async def test_my_jobs_a_page_at_a_time(sqlite_users, clock, config):
    db = sqlite_users
    ids = [await open_job(db, clock, title=f"Job number {k}") for k in range(5)]
    async with db.uow() as uow:
        first = await queries.my_jobs(uow, CLIENT, limit=2)
        rest = await queries.my_jobs(uow, CLIENT, limit=2, offset=4)
        assert [s.job.id for s in first] == ids[:-3:-1]
        assert [s.job.id for s in rest] == [ids[0]]
        with pytest.raises(NotAllowed):
            await queries.my_jobs(uow, FREELANCER)


async def test_invite_candidates_share_a_skill_or_the_category(users, clock, config):
    db = users
    async with db.uow() as uow:
        for uid in (210, 211, 212, 213):
            await uow.users.add(User(id=uid, name=f"f{uid}", is_freelancer=True))
        await uow.users.add(User(id=214, name="banned", is_freelancer=True, banned=True))
        profiles = {
            210: FreelancerProfile(user_id=210, skills=["python"], category="design"),
            211: FreelancerProfile(user_id=211, skills=["python", "sql"]),
            212: FreelancerProfile(user_id=212, category="development"),
            213: FreelancerProfile(user_id=213, skills=["logo-design"], category="design"),
            214: FreelancerProfile(user_id=214, skills=["python", "sql"]),
            FREELANCER: FreelancerProfile(user_id=FREELANCER, skills=["python", "sql"]),
        }
        for profile in profiles.values():
            await uow.profiles.add(profile)
        fields = jobs.JobFields(
            title="Price scraper in Python",
            description="Scrape three shops daily and store the prices.",
            category="development",
            skills=["python", "sql"],
            budget=30_000,
        )
        job = await jobs.post_job(uow, clock, config, CLIENT, fields)
        with pytest.raises(NotAllowed) as err:  # a draft takes no invitations
            await queries.invite_candidates(uow, CLIENT, job.id)
        assert err.value.code == "job_not_open"
        await jobs.publish_job(uow, clock, CLIENT, job.id)
        await pitches.submit_pitch(uow, clock, config, FREELANCER, job.id, PitchFields(LETTER, 100))
        _, found = await queries.invite_candidates(uow, CLIENT, job.id)
        # Two shared skills, one shared skill, the category only; not the one who
        # pitched, the banned one, or a profile with nothing in common.
        assert [u.id for u, _ in found] == [211, 210, 212]
        await pitches.invite_freelancer(uow, clock, CLIENT, job.id, 211)
        _, found = await queries.invite_candidates(uow, CLIENT, job.id, limit=1)
        assert [u.id for u, _ in found] == [210]
        with pytest.raises(NotAllowed):
            await queries.invite_candidates(uow, OTHER_FREELANCER, job.id)
