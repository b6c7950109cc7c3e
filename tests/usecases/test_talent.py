"""Invite candidates reach everyone (issue 14, part 4: the old suggestion scanned the
first 500 profiles by id, so newer freelancers never appeared), talent search is
for clients, and availability (part 6): away needs a date, and the daily digest
waits while away and resumes by itself after the date."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.entities import FreelancerProfile, User
from domain.errors import NotAllowed, ValidationError
from domain.talent import TalentQuery
from domain.usecases import alerts, jobs, queries, talent
from domain.usecases.deadlines import daily_digest
from tests.usecases.conftest import CLIENT, FREELANCER


async def _publish(uow, clock, config, title: str, skills: tuple[str, ...]) -> int:
    fields = jobs.JobFields(
        title=title,
        description="Scrape three shops daily and store the prices.",
        category="development",
        skills=skills,
        budget=30_000,
    )
    job = await jobs.post_job(uow, clock, config, CLIENT, fields)
    await jobs.publish_job(uow, clock, CLIENT, job.id)
    return job.id


async def test_invite_candidates_find_a_freelancer_beyond_the_first_500(users, clock, config):
    db = users
    async with db.uow() as uow:
        for uid in range(1000, 1600):  # 600 older profiles sharing only the category
            await uow.users.add(User(id=uid, name=f"f{uid}", is_freelancer=True))
            await uow.profiles.add(FreelancerProfile(user_id=uid, category="development"))
        await uow.users.add(User(id=5000, name="Newest", is_freelancer=True))
        await uow.profiles.add(
            FreelancerProfile(user_id=5000, skills=["python", "sql"], category="development")
        )
        job_id = await _publish(uow, clock, config, "Price scraper in Python", ("python", "sql"))
        _, found = await queries.invite_candidates(uow, CLIENT, job_id, limit=3)
        assert found[0][0].id == 5000  # the best fit, created last, comes first
        _, hits = await talent.invite_candidates(uow, clock, CLIENT, job_id, limit=3)
        assert hits[0].user_id == 5000 and (hits[0].shared_skills, hits[0].wanted_skills) == (2, 2)
        assert [h.user_id for h in hits[1:]] == [1599, 1598]  # then the category, newer first
        await uow.commit()


async def test_talent_search_is_for_clients(users, clock):
    async with users.uow() as uow:
        with pytest.raises(NotAllowed):
            await talent.search_talent(uow, clock, FREELANCER, TalentQuery())
        hits, total = await talent.search_talent(uow, clock, CLIENT, TalentQuery())
        assert total == 0 and hits == []


async def test_away_needs_a_date_from_today_within_a_year(users, clock):
    today = clock.now().date()
    async with users.uow() as uow:
        for until, code in (
            (None, "away_date_past"),
            (today - timedelta(days=1), "away_date_past"),
            (today + timedelta(days=400), "away_date_far"),
        ):
            with pytest.raises(ValidationError) as err:
                await talent.set_availability(uow, clock, FREELANCER, "away", until)
            assert err.value.code == code
        with pytest.raises(ValidationError):
            await talent.set_availability(uow, clock, FREELANCER, "sleeping")
        with pytest.raises(NotAllowed):
            await talent.set_availability(uow, clock, CLIENT, "busy")
        profile = await talent.set_availability(uow, clock, FREELANCER, "away", today)
        assert (profile.availability, profile.away_until) == ("away", today)
        profile = await talent.set_availability(uow, clock, FREELANCER, "busy", today)
        assert (profile.availability, profile.away_until) == ("busy", None)
        await uow.commit()


async def test_daily_digest_waits_while_away_and_resumes_after_the_date(users, clock, config):
    db = users
    async with db.uow() as uow:
        await alerts.create_subscription(
            uow, clock, FREELANCER, alerts.SubscriptionFields(skills=("python",), mode="daily")
        )
        await talent.set_availability(
            uow, clock, FREELANCER, "away", clock.now().date() + timedelta(days=1)
        )
        await uow.commit()
    async with db.uow() as uow:
        await _publish(uow, clock, config, "Python scraper for shops", ("python",))
        await uow.commit()
    clock.advance(days=1, minutes=1)
    async with db.uow() as uow:
        assert await daily_digest(uow, clock, config) == {}  # still away today
        await uow.commit()
    clock.advance(minutes=1)
    async with db.uow() as uow:
        job_id = await _publish(uow, clock, config, "Python API for a bakery", ("python",))
        await uow.commit()
    clock.advance(days=1, minutes=1)
    async with db.uow() as uow:  # the day after: digests come again, nothing to switch back
        assert await daily_digest(uow, clock, config) == {FREELANCER: [job_id]}
        await uow.commit()
