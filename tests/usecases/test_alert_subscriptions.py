"""What the alerts flow needs from alerts.py: typed keywords, listing and
loading one's subscriptions, a mode switch that starts the digest afresh, and
the digest's order (newest first)."""

import pytest

from domain.errors import NotAllowed, NotFound, ValidationError
from domain.usecases import alerts, jobs
from domain.usecases.alerts import SubscriptionFields
from domain.usecases.jobs import JobFields
from tests.usecases.conftest import CLIENT, FREELANCER, OTHER_FREELANCER

BOT_JOB = JobFields(
    title="Telegram bot for a bakery",
    description="Orders, opening hours and a daily special, in Telegram.",
    skills=["python"],
    budget=40_000,
)


def test_keywords_as_typed():
    assert alerts.parse_keywords(" logo,\nbranding , -wordpress, logo ") == [
        "logo",
        "branding",
        "-wordpress",
    ]
    for text, code in [
        (", , ,", "keyword_invalid"),
        ("w" * 41, "keyword_too_long"),
        (",".join(f"k{i}" for i in range(11)), "keywords_too_many"),
        ("   ", "text_empty"),
    ]:
        with pytest.raises(ValidationError) as err:
            alerts.parse_keywords(text)
        assert err.value.code == code, text


async def test_list_and_load_only_ones_own(sqlite_users, clock, config):
    db = sqlite_users
    async with db.uow() as uow:
        first = await alerts.create_subscription(uow, clock, FREELANCER, SubscriptionFields())
        second = await alerts.create_subscription(
            uow, clock, FREELANCER, SubscriptionFields(keywords=["bot"], mode="daily")
        )
        await alerts.create_subscription(uow, clock, OTHER_FREELANCER, SubscriptionFields())
        mine = await alerts.list_subscriptions(uow, FREELANCER)
        assert [s.id for s in mine] == [first.id, second.id]
        assert (await alerts.own_subscription(uow, FREELANCER, second.id)).keywords == ["bot"]
        with pytest.raises(NotAllowed) as err:
            await alerts.own_subscription(uow, OTHER_FREELANCER, first.id)
        assert err.value.code == "not_your_subscription"
        with pytest.raises(NotAllowed):
            await alerts.list_subscriptions(uow, CLIENT)
        await alerts.delete_subscription(uow, clock, FREELANCER, first.id)
        with pytest.raises(NotFound):
            await alerts.own_subscription(uow, FREELANCER, first.id)


async def test_switching_to_daily_starts_the_digest_from_now(users, clock, config):
    db = users
    async with db.uow() as uow:
        sub = await alerts.create_subscription(
            uow, clock, FREELANCER, SubscriptionFields(skills=["python"])
        )
        await uow.commit()
    clock.advance(days=2)
    async with db.uow() as uow:
        old = await jobs.post_job(uow, clock, config, CLIENT, BOT_JOB)
        await jobs.publish_job(uow, clock, CLIENT, old.id)  # alerted instantly
        await uow.commit()
    clock.advance(hours=1)
    async with db.uow() as uow:
        daily = SubscriptionFields(skills=["python"], mode="daily")
        await alerts.update_subscription(uow, clock, FREELANCER, sub.id, daily)
        await uow.commit()
    clock.advance(hours=1)
    async with db.uow() as uow:
        new_ids = []
        for _ in range(2):
            job = await jobs.post_job(uow, clock, config, CLIENT, BOT_JOB)
            await jobs.publish_job(uow, clock, CLIENT, job.id)
            new_ids.append(job.id)
        await uow.commit()
    clock.advance(days=1)
    async with db.uow() as uow:
        assert await alerts.daily_digest(uow, clock, config) == {
            FREELANCER: sorted(new_ids, reverse=True)  # newest first; not the instant one
        }
