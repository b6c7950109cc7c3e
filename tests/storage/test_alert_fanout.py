"""Issue 16, part 4: a job's alerts are matched and written set-based
(JobSearch.alert_audience over subscription_keys, then JobSearch.write_alerts:
one INSERT … SELECT per language and part) — and reach exactly the people, with
exactly the rows, that the one-by-one path (interested_users_each, then
Scope.notify per recipient) did, on SQLite and PostgreSQL.

The population mixes every rule: instant and daily, paused, banned, not a
freelancer, unreachable, away (open-ended, until a future day, until a past
day), in a block with the client either way, "Not interested" to the job,
keywords (wanted, excluded, phrases), budgets fixed and hourly, categories and
skills named or not, a user with two subscriptions, the client's own
subscription, and English, Russian and an unsupported language.
"""

from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa

from domain.config import MarketConfig
from domain.entities import (
    AlertSubscription,
    Block,
    FreelancerProfile,
    Job,
    JobDismissal,
    User,
)
from domain.matching import job_matches
from domain.states import JobStatus
from domain.usecases import jobs
from handlers.context import Scope
from handlers.flows import load_flows
from handlers.flows.alerts import write_alerts_bulk, write_alerts_each
from handlers.i18n import translator
from storage.skill_index import ANY, subscription_keys
from storage.tables import outbox

CLIENT = 1
SKILLS = ["python", "django", "logo-design", "seo", "CSS", "ui-ux"]
CATEGORIES = ["development", "design", "marketing"]
KEYWORDS = [[], [], [], ["bot"], ["shop", "logo"], ["-wordpress"], ["telegram bot"], ["java"]]


async def _population(db, clock, rng: random.Random, people: int = 60) -> list[AlertSubscription]:
    today = clock.now().date()
    async with db.uow() as uow:
        await uow.users.add(User(id=CLIENT, name="Clara", is_client=True))
        subs = []
        for n in range(people):
            user_id = 100 + n
            await uow.users.add(
                User(
                    id=user_id,
                    name=f"f{n}",
                    is_freelancer=n % 13 != 5,  # a few are clients only
                    banned=n % 17 == 3,
                    unreachable=n % 11 == 4,
                    language=("en", "ru", "de")[n % 3],
                )
            )
            if n % 7 in (1, 2, 3):
                until = {1: None, 2: today + timedelta(days=3), 3: today - timedelta(days=1)}
                await uow.profiles.add(
                    FreelancerProfile(user_id=user_id, availability="away", away_until=until[n % 7])
                )
            for _ in range(1 + (n % 5 == 0)):  # every fifth has two subscriptions
                subs.append(
                    await uow.subscriptions.add(
                        AlertSubscription(
                            user_id=user_id,
                            skills=rng.sample(SKILLS, rng.choice([0, 0, 1, 2])),
                            categories=rng.sample(CATEGORIES, rng.choice([0, 1, 1, 2])),
                            keywords=rng.choice(KEYWORDS),
                            mode=rng.choice(["instant", "instant", "daily"]),
                            paused=rng.random() < 0.1,
                            min_budget=rng.choice([0, 1_000, 5_000, 20_000, 100_000]),
                            created_at=clock.now(),
                        )
                    )
                )
        # The client's own subscription, and blocks either way.
        subs.append(
            await uow.subscriptions.add(AlertSubscription(user_id=CLIENT, created_at=clock.now()))
        )
        await uow.blocks.add(Block(blocker_id=CLIENT, blocked_id=106))
        await uow.blocks.add(Block(blocker_id=109, blocked_id=CLIENT))
        await uow.commit()
    return subs


async def _open_job(db, clock, rng: random.Random, n: int) -> Job:
    async with db.uow() as uow:
        job = await uow.jobs.add(
            Job(
                client_id=CLIENT,
                title=rng.choice(["Telegram bot for a shop", "Logo", "Java backend", "SEO"]),
                description=rng.choice(["A WordPress site.", "Python scripts.", "Work."]),
                category=rng.choice([None, *CATEGORIES]),
                skills=rng.sample(SKILLS, rng.choice([0, 1, 2, 3])),
                budget_type=rng.choice(["fixed", "hourly"]),
                budget=rng.choice([0, 500, 3_000, 30_000]),
                status=JobStatus.OPEN,
                created_at=clock.now(),
                published_at=clock.now(),
            )
        )
        for user_id in (100 + n % 60, 112):  # "Not interested" (as to an earlier publication)
            await uow.dismissals.add(
                JobDismissal(user_id=user_id, job_id=job.id, created_at=clock.now())
            )
        await uow.commit()
    return job


async def _rows_written(db, clock, job: Job, users: list[int], write) -> list[tuple]:
    """The outbox rows `write` adds for `users`, rolled back afterwards."""
    async with db.uow() as uow:
        first = await uow.session.scalar(sa.select(sa.func.coalesce(sa.func.max(outbox.c.id), 0)))
        await write(Scope(uow, clock, MarketConfig()), await uow.jobs.get(job.id), users)
        await uow.session.flush()
        found = await uow.session.execute(
            sa.select(
                outbox.c.chat_id,
                outbox.c.method,
                outbox.c.payload,
                outbox.c.priority,
                outbox.c.status,
                outbox.c.attempts,
                outbox.c.not_before,
                outbox.c.created_at,
            )
            .where(outbox.c.id > first)
            .order_by(outbox.c.chat_id, outbox.c.id)  # a chat's rows in the order sent
        )
        rows = [tuple(row) for row in found.all()]
        await uow.rollback()
    return rows


async def test_set_based_fan_out_writes_what_the_one_by_one_path_did(any_db, clock):
    load_flows()  # the buttons' handlers
    rng = random.Random(4)
    subs = await _population(any_db, clock, rng)
    checked = alerted = 0
    for n in range(12):
        job = await _open_job(any_db, clock, rng, n)
        async with any_db.uow() as uow:
            stored = await uow.jobs.get(job.id)
            for mode in ("instant", "daily"):
                new = await jobs.interested_users(uow, stored, mode)
                old = await jobs.interested_users_each(uow, stored, mode)
                assert new == old, (mode, job.category, job.skills, job.budget)
                # and neither misses what domain.matching accepts, the rules aside
                assert set(new) <= {s.user_id for s in subs if job_matches(stored, s)}
            users = await jobs.interested_users(uow, stored, "instant")
        bulk = await _rows_written(any_db, clock, job, users, write_alerts_bulk)
        each = await _rows_written(any_db, clock, job, users, write_alerts_each)
        assert bulk == each
        assert all(row[3] == 2 and row[4] == "pending" for row in bulk)  # bulk priority
        checked += 1
        alerted += len(bulk)
    assert checked == 12 and alerted > 20  # the population reaches people at all
    languages = set()
    async with any_db.uow() as uow:
        for u in await uow.users.find(id__in=[r for r in range(100, 160)]):
            languages.add(u.language)
    assert languages == {"en", "ru", "de"}


async def test_publishing_writes_the_alerts_in_its_transaction(any_db, clock):
    from handlers.unit import UnitRunner

    rng = random.Random(9)
    await _population(any_db, clock, rng)
    async with any_db.uow() as uow:
        draft = await uow.jobs.add(
            Job(
                client_id=CLIENT,
                title="Telegram bot for a shop",
                description="Python scripts.",
                category="development",
                skills=["python"],
                budget=30_000,
                created_at=clock.now(),
            )
        )
        await uow.commit()

    async def publish(unit) -> list[int]:
        await jobs.publish_job(unit.uow, clock, CLIENT, draft.id)
        return [e.user_id for e in unit.uow.events if e.kind == "job_alert"]

    alerted = await UnitRunner(any_db.uow, clock, MarketConfig()).run(publish, "publish")
    assert alerted
    async with any_db.uow() as uow:
        rows = await uow.outbox.find(priority=2)
        reachable = {u.id for u in await uow.users.find(id__in=alerted, unreachable=False)}
        assert sorted(r.chat_id for r in rows) == sorted(reachable)
        assert all("Telegram bot for a shop" in r.payload["text"] for r in rows)
        ru = {u.id for u in await uow.users.find(id__in=list(reachable), language="ru")}
        heading = translator("ru").plain("alerts.new_job")
        assert ru and {r.chat_id for r in rows if heading in r.payload["text"]} == ru


async def _keys(db) -> set[tuple]:
    async with db.engine.connect() as conn:
        found = await conn.execute(
            sa.select(
                subscription_keys.c.subscription_id,
                subscription_keys.c.category,
                subscription_keys.c.skill,
                subscription_keys.c.mode,
                subscription_keys.c.min_budget,
                subscription_keys.c.keywords,
            )
        )
        return {tuple(row) for row in found}


async def test_subscription_keys_follow_the_subscription(any_db, clock):
    async with any_db.uow() as uow:
        await uow.users.add(User(id=7, is_freelancer=True))
        sub = await uow.subscriptions.add(
            AlertSubscription(
                user_id=7, categories=["design"], skills=["CSS", "logo-design"], created_at=None
            )
        )
        await uow.commit()
    assert await _keys(any_db) == {
        (sub.id, "design", "css", "instant", 0, False),
        (sub.id, "design", "logo-design", "instant", 0, False),
    }
    async with any_db.uow() as uow:
        stored = await uow.subscriptions.get_for_update(sub.id)
        stored.paused = True
        await uow.commit()
    assert await _keys(any_db) == set()  # paused: not indexed
    async with any_db.uow() as uow:
        stored = await uow.subscriptions.get_for_update(sub.id)
        stored.paused = False
        stored.skills = []
        stored.keywords = ["logo"]
        stored.min_budget = 5_000
        stored.mode = "daily"
        await uow.commit()
    assert await _keys(any_db) == {(sub.id, "design", ANY, "daily", 5_000, True)}
    async with any_db.uow() as uow:  # rolled back: the keys roll back with it
        (await uow.subscriptions.get_for_update(sub.id)).categories = []
    assert await _keys(any_db) == {(sub.id, "design", ANY, "daily", 5_000, True)}
    async with any_db.uow() as uow:
        await uow.subscriptions.delete(await uow.subscriptions.get(sub.id))
        await uow.commit()
    assert await _keys(any_db) == set()
