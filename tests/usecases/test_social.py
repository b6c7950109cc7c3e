"""Reviews, messages, reports and profiles."""

import pytest

from domain.errors import NotAllowed, ValidationError
from domain.states import ReviewStatus
from domain.taxonomy import skill_key
from domain.usecases import contracts, deadlines, messaging, profiles, reports, reviews
from domain.usecases.profiles import ProfileFields
from tests.usecases.conftest import ADMIN, CLIENT, FREELANCER, OTHER_FREELANCER, STRANGER
from tests.usecases.story import hired, open_job


async def _ended(db, clock, config) -> int:
    contract_id, _ = await hired(db, clock, config, (10_000,))
    async with db.uow() as uow:
        await contracts.end_contract(uow, clock, config, CLIENT, contract_id)
        await uow.commit()
    return contract_id


async def test_reviews_are_double_blind(users, clock, config):
    db = users
    contract_id = await _ended(db, clock, config)
    async with db.uow() as uow:
        with pytest.raises(NotAllowed):
            await reviews.leave_review(uow, clock, config, STRANGER, contract_id, 5)
        with pytest.raises(ValidationError):
            await reviews.leave_review(uow, clock, config, CLIENT, contract_id, 6)
        first = await reviews.leave_review(uow, clock, config, CLIENT, contract_id, "5", "Great")
        assert first.status is ReviewStatus.HIDDEN and first.reviewee_id == FREELANCER
        with pytest.raises(NotAllowed) as err:
            await reviews.leave_review(uow, clock, config, CLIENT, contract_id, 4)
        assert err.value.code == "already_reviewed"
        await uow.commit()
    async with db.uow() as uow:
        await reviews.leave_review(uow, clock, config, FREELANCER, contract_id, 4, "Clear brief")
        # Issue 14: the revealed 5★ earns the new freelancer Rising Talent, told first.
        assert [e.kind for e in uow.events] == ["review_left", "badge_earned", "reviews_revealed"]
        await uow.commit()
    async with db.uow() as uow:
        found = await uow.reviews.find(contract_id=contract_id)
        assert {r.status for r in found} == {ReviewStatus.REVEALED}


async def test_review_window_reveals_a_lone_review(sqlite_users, clock, config):
    db = sqlite_users
    contract_id = await _ended(db, clock, config)
    async with db.uow() as uow:
        await reviews.leave_review(uow, clock, config, FREELANCER, contract_id, 3)
        assert await deadlines.reveal_due_reviews(uow, clock) == []
        await uow.commit()
    clock.advance(days=config.review_window_days, seconds=1)
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await reviews.leave_review(uow, clock, config, CLIENT, contract_id, 5)
        assert err.value.code == "review_window_closed"
        assert await deadlines.reveal_due_reviews(uow, clock) == [contract_id]
        await uow.commit()
    async with db.uow() as uow:
        assert await deadlines.reveal_due_reviews(uow, clock) == []


async def test_messages_before_and_within_a_contract(users, clock, config):
    db = users
    contract_id, _ = await hired(db, clock, config, (10_000,))
    lonely_job = await open_job(db, clock)
    async with db.uow() as uow:
        job_id = (await uow.contracts.get(contract_id)).job_id
        with pytest.raises(NotAllowed):  # never pitched on this job
            await messaging.send_message(
                uow, clock, CLIENT, "hi", job_id=lonely_job, recipient_id=OTHER_FREELANCER
            )
        with pytest.raises(NotAllowed):
            await messaging.send_message(uow, clock, STRANGER, "hi", contract_id=contract_id)
        inside = await messaging.send_message(
            uow, clock, FREELANCER, "Mail me at ana@example.com", contract_id=contract_id
        )
        assert inside.recipient_id == CLIENT and not inside.flagged_contact
        before = await messaging.send_message(
            uow, clock, CLIENT, "Call +1 415 555 0100", job_id=job_id, recipient_id=FREELANCER
        )
        assert before.flagged_contact
        assert [e.kind for e in uow.events] == [
            "message_sent",
            "message_sent",
            "contact_details_flagged",  # the sender's first flag: warned, no case yet
            "contact_details_warning",
        ]


async def test_reports_and_admin_close(sqlite_users, clock, config):
    db = sqlite_users
    job_id = await open_job(db, clock)
    async with db.uow() as uow:
        filed = await reports.report(
            uow, clock, config, FREELANCER, "job", job_id, "This is a scam job"
        )
        with pytest.raises(NotAllowed):
            await reports.report(uow, clock, config, FREELANCER, "job", job_id, "Again, a scam")
        with pytest.raises(NotAllowed):
            await reports.report(uow, clock, config, FREELANCER, "user", FREELANCER, "Myself, oops")
        with pytest.raises(NotAllowed):
            await reports.close_report(uow, clock, config, CLIENT, filed.id)
        await reports.close_report(uow, clock, config, ADMIN, filed.id, "checked")
        assert [a.action for a in await uow.audit.find()] == ["close_report"]


async def test_profile_upsert(sqlite_users, clock, config):
    db = sqlite_users
    async with db.uow() as uow:
        with pytest.raises(NotAllowed):
            await profiles.update_profile(
                uow, clock, config, CLIENT, ProfileFields(headline="Hi there")
            )
        p = await profiles.update_profile(
            uow,
            clock,
            config,
            FREELANCER,
            ProfileFields(
                headline="Python developer",
                skills=["Python", "Scrapy wizardry"],
                portfolio=["github.com/ana"],
                years_experience="7",
                hourly_rate=4_000,
            ),
        )
        await uow.commit()
    # A free tag keeps its typed case for display (issue 11, item 5); matching uses its key.
    assert p.skills == ["python"] and p.tags == ["Scrapy wizardry"]
    assert [skill_key(tag) for tag in p.tags] == ["scrapy-wizardry"]
    async with db.uow() as uow:
        await profiles.update_profile(
            uow, clock, config, FREELANCER, ProfileFields(bio="Ten years")
        )
        with pytest.raises(ValidationError):
            await profiles.update_profile(
                uow, clock, config, FREELANCER, ProfileFields(portfolio=["javascript:alert(1)"])
            )
        await uow.commit()
    async with db.uow() as uow:
        stored = await uow.profiles.get(FREELANCER)
        assert (stored.headline, stored.bio, stored.portfolio) == (
            "Python developer",
            "Ten years",
            ["https://github.com/ana"],
        )
        assert (stored.years_experience, stored.hourly_rate) == (7, 4_000)
