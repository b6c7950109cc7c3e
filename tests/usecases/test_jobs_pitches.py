import pytest

from domain.entities import JobDismissal, User
from domain.errors import IllegalTransition, NotAllowed, NotFound, QuotaExceeded, ValidationError
from domain.states import JobStatus, PitchStatus
from domain.usecases import alerts, jobs, pitches
from domain.usecases.alerts import SubscriptionFields
from domain.usecases.jobs import JobFields
from domain.usecases.pitches import PitchFields
from tests.usecases.conftest import CLIENT, FREELANCER, OTHER_FREELANCER, STRANGER
from tests.usecases.story import open_job

FIELDS = JobFields(
    title="Python scraper for prices",
    description="Scrape three shops daily and store the prices in a sheet.",
    category="development",
    skills=["Python", "python", "web scraping"],
    budget=30_000,
)
PITCH = PitchFields(cover_letter="I have built many scrapers like this one.", price=25_000)


async def test_publish_alerts_matching_instant_subscribers_only(users, clock, config):
    db = users
    async with db.uow() as uow:
        for uid in (202, 203):
            await uow.users.add(User(id=uid, name=f"f{uid}", is_freelancer=True))
        python = SubscriptionFields(skills=["python"])
        await alerts.create_subscription(uow, clock, FREELANCER, python)
        await alerts.create_subscription(
            uow, clock, OTHER_FREELANCER, SubscriptionFields(keywords=["logo"])
        )
        await alerts.create_subscription(uow, clock, 202, python)
        await alerts.create_subscription(
            uow, clock, 203, SubscriptionFields(skills=["python"], mode="daily")
        )
        job = await jobs.post_job(uow, clock, config, CLIENT, FIELDS)
        assert job.status is JobStatus.DRAFT and job.skills == ["python", "web-scraping"]
        with pytest.raises(NotFound):  # a draft is its client's alone
            await jobs.dismiss_job(uow, clock, config, 202, job.id)
        # 202 said "Not interested" to it (as if to an earlier publication).
        await uow.dismissals.add(JobDismissal(user_id=202, job_id=job.id, created_at=clock.now()))
        await uow.commit()
    clock.advance(minutes=1)
    async with db.uow() as uow:
        with pytest.raises(NotFound):  # someone else's draft: as if there were none
            await jobs.publish_job(uow, clock, FREELANCER, job.id)
        await jobs.publish_job(uow, clock, CLIENT, job.id)
        assert [(e.kind, getattr(e, "user_ids", None)) for e in uow.events] == [
            ("job_published", None),
            ("job_alert", (FREELANCER,)),
        ]
        assert await jobs.dismiss_job(uow, clock, config, FREELANCER, job.id)
        assert not await jobs.dismiss_job(uow, clock, config, FREELANCER, job.id)
        assert not await jobs.dismiss_job(uow, clock, config, 202, job.id)
        await uow.commit()
    async with db.uow() as uow:
        assert await alerts.daily_digest(uow, clock, config) == {}  # not a day yet
    clock.advance(days=1)
    async with db.uow() as uow:
        assert await alerts.daily_digest(uow, clock, config) == {203: [job.id]}
        assert [e.kind for e in uow.events] == ["job_digest"]
        await uow.commit()
    async with db.uow() as uow:
        assert await alerts.daily_digest(uow, clock, config) == {}  # sent once a day


async def test_job_lifecycle_and_refusals(sqlite_users, clock, config):
    db = sqlite_users
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await jobs.post_job(uow, clock, config, FREELANCER, FIELDS)
        assert err.value.code == "client_only"
        with pytest.raises(ValidationError) as err:
            await jobs.post_job(uow, clock, config, CLIENT, JobFields(title="Hi", description="x"))
        assert err.value.code == "text_too_short"
        with pytest.raises(ValidationError):
            await jobs.post_job(
                uow, clock, config, CLIENT, JobFields(FIELDS.title, FIELDS.description, "nope")
            )
        job = await jobs.post_job(uow, clock, config, CLIENT, FIELDS)
        with pytest.raises(IllegalTransition):
            await jobs.pause_job(uow, clock, CLIENT, job.id)
        await jobs.publish_job(uow, clock, CLIENT, job.id)
        await jobs.pause_job(uow, clock, CLIENT, job.id)
        edited = await jobs.edit_job(
            uow, clock, CLIENT, job.id, JobFields(FIELDS.title + " v2", FIELDS.description)
        )
        assert edited.title.endswith("v2") and edited.status is JobStatus.PAUSED
        await jobs.resume_job(uow, clock, CLIENT, job.id)
        with pytest.raises(NotAllowed):
            await jobs.close_job(uow, clock, STRANGER, job.id)
        await jobs.close_job(uow, clock, CLIENT, job.id)
        with pytest.raises(IllegalTransition):
            await jobs.resume_job(uow, clock, CLIENT, job.id)


async def test_pitch_rules_and_weekly_quota(users, clock, config):
    db = users  # config.weekly_pitch_quota == 3
    job_ids = [await open_job(db, clock, title=f"Job number {i}") for i in range(5)]
    own = await open_job(db, clock, client_id=OTHER_FREELANCER)
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await pitches.submit_pitch(uow, clock, config, CLIENT, job_ids[0], PITCH)
        assert err.value.code == "freelancer_only"
        with pytest.raises(NotAllowed) as err:
            await pitches.submit_pitch(uow, clock, config, OTHER_FREELANCER, own, PITCH)
        assert err.value.code == "own_job"
        for job_id in job_ids[:3]:
            await pitches.submit_pitch(uow, clock, config, FREELANCER, job_id, PITCH)
        with pytest.raises(NotAllowed) as err:
            await pitches.submit_pitch(uow, clock, config, FREELANCER, job_ids[0], PITCH)
        assert err.value.code == "already_pitched"
        with pytest.raises(QuotaExceeded):
            await pitches.submit_pitch(uow, clock, config, FREELANCER, job_ids[3], PITCH)
        # An invitation makes the pitch free.
        await pitches.invite_freelancer(uow, clock, CLIENT, job_ids[3], FREELANCER)
        invited = await pitches.submit_pitch(uow, clock, config, FREELANCER, job_ids[3], PITCH)
        assert invited.invited
        assert await pitches.pitches_left(uow, clock, config, FREELANCER) == 0
        await uow.commit()
    clock.advance(days=7, seconds=1)
    async with db.uow() as uow:
        assert await pitches.pitches_left(uow, clock, config, FREELANCER) == 3
        await pitches.submit_pitch(uow, clock, config, FREELANCER, job_ids[4], PITCH)
        await uow.commit()


async def test_pitch_edit_withdraw_shortlist_decline(sqlite_users, clock, config):
    db = sqlite_users
    job_id = await open_job(db, clock)
    async with db.uow() as uow:
        p1 = await pitches.submit_pitch(uow, clock, config, FREELANCER, job_id, PITCH)
        p2 = await pitches.submit_pitch(uow, clock, config, OTHER_FREELANCER, job_id, PITCH)
        with pytest.raises(NotAllowed):
            await pitches.edit_pitch(uow, clock, OTHER_FREELANCER, p1.id, PITCH)
        edited = await pitches.edit_pitch(
            uow, clock, FREELANCER, p1.id, PitchFields(PITCH.cover_letter, 20_000, 10)
        )
        assert (edited.price, edited.duration_days) == (20_000, 10)
        with pytest.raises(NotAllowed):
            await pitches.shortlist_pitch(uow, clock, FREELANCER, p1.id)
        await pitches.shortlist_pitch(uow, clock, CLIENT, p1.id)
        with pytest.raises(IllegalTransition):
            await pitches.edit_pitch(uow, clock, FREELANCER, p1.id, PITCH)
        await pitches.decline_pitch(uow, clock, CLIENT, p2.id)
        with pytest.raises(IllegalTransition):
            await pitches.withdraw_pitch(uow, clock, OTHER_FREELANCER, p2.id)
        withdrawn = await pitches.withdraw_pitch(uow, clock, FREELANCER, p1.id)
        assert withdrawn.status is PitchStatus.WITHDRAWN
        kinds = [e.kind for e in uow.events]
        assert kinds == [
            "pitch_received",
            "pitch_received",
            "pitch_edited",
            "pitch_shortlisted",
            "pitch_declined",
            "pitch_withdrawn",
        ]
