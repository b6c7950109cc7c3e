"""The lookup tables follow the entities' lists automatically, and
subscriptions_for finds the alert candidates through them."""

from __future__ import annotations

import sqlalchemy as sa

from domain.entities import AlertSubscription, Job, User
from domain.ports import JobQuery
from domain.states import JobStatus
from storage.skill_index import ANY, index_values, skill_values
from storage.tables import job_skills, subscription_categories, subscription_skills

CLIENT, FELIX, GRETA = 1, 2, 3


async def _rows(db, table: sa.Table) -> set[tuple]:
    async with db.engine.connect() as conn:
        return {tuple(row) for row in await conn.execute(sa.select(table))}


async def _users(db) -> None:
    async with db.uow() as uow:
        for user_id in (CLIENT, FELIX, GRETA):
            await uow.users.add(User(id=user_id))
        await uow.commit()


def test_index_values_are_normalised_and_distinct():
    assert index_values([" Python", "python", "", "Django ", "x" * 80]) == [
        "django",
        "python",
        "x" * 64,
    ]
    assert index_values(None) == []


async def test_job_skills_follow_insert_update_and_delete(any_db):
    await _users(any_db)
    async with any_db.uow() as uow:
        job = await uow.jobs.add(
            Job(client_id=CLIENT, title="Bot", skills=["Python", "django", "python"])
        )
        other = await uow.jobs.add(Job(client_id=CLIENT, title="Logo", skills=["logo-design"]))
        await uow.commit()
    assert await _rows(any_db, job_skills) == {
        (job.id, "python"),
        (job.id, "django"),
        (other.id, "logo-design"),
    }

    async with any_db.uow() as uow:  # an in-place edit of the list
        stored = await uow.jobs.get_for_update(job.id)
        stored.skills.append("telegram-bots")
        await uow.commit()
    assert await _rows(any_db, job_skills) == {
        (job.id, "python"),
        (job.id, "django"),
        (job.id, "telegram-bots"),
        (other.id, "logo-design"),
    }

    async with any_db.uow() as uow:  # a new list; and an unrelated change leaves rows alone
        stored = await uow.jobs.get_for_update(job.id)
        stored.skills = ["rust"]
        (await uow.jobs.get_for_update(other.id)).status = JobStatus.OPEN
        await uow.commit()
    assert await _rows(any_db, job_skills) == {(job.id, "rust"), (other.id, "logo-design")}

    async with any_db.uow() as uow:  # rolled back: the rows roll back with the list
        (await uow.jobs.get_for_update(job.id)).skills = []
        await uow.jobs.add(Job(client_id=CLIENT, title="Never", skills=["go"]))
    assert await _rows(any_db, job_skills) == {(job.id, "rust"), (other.id, "logo-design")}

    async with any_db.uow() as uow:
        await uow.jobs.delete(await uow.jobs.get(job.id))
        await uow.commit()
    assert await _rows(any_db, job_skills) == {(other.id, "logo-design")}


async def test_subscription_skills_and_categories_follow_the_lists(any_db):
    await _users(any_db)
    async with any_db.uow() as uow:
        sub = await uow.subscriptions.add(
            AlertSubscription(user_id=FELIX, skills=["python"], categories=["development"])
        )
        await uow.commit()
    assert await _rows(any_db, subscription_skills) == {(sub.id, "python")}
    assert await _rows(any_db, subscription_categories) == {(sub.id, "development")}

    async with any_db.uow() as uow:
        stored = await uow.subscriptions.get_for_update(sub.id)
        stored.skills.remove("python")
        stored.categories.append("design")
        await uow.commit()
    # Naming no skills any more: indexed under ANY (found for every job's skills).
    assert await _rows(any_db, subscription_skills) == {(sub.id, ANY)}
    assert await _rows(any_db, subscription_categories) == {
        (sub.id, "development"),
        (sub.id, "design"),
    }

    async with any_db.uow() as uow:
        await uow.subscriptions.delete(await uow.subscriptions.get(sub.id))
        await uow.commit()
    assert await _rows(any_db, subscription_categories) == set()
    assert await _rows(any_db, subscription_skills) == set()


async def test_subscriptions_for_returns_the_candidates(any_db):
    await _users(any_db)
    async with any_db.uow() as uow:
        subs = {
            "shared skill": AlertSubscription(user_id=FELIX, skills=["design-stuff", "Python"]),
            "other skills": AlertSubscription(user_id=FELIX, skills=["logo-design"]),
            "category only": AlertSubscription(user_id=GRETA, categories=["design"]),
            "category with other skills": AlertSubscription(
                user_id=GRETA, skills=["ui-ux"], categories=["development"]
            ),
            "anything": AlertSubscription(user_id=GRETA),
            "paused": AlertSubscription(user_id=FELIX, paused=True),
            "the client's own": AlertSubscription(user_id=CLIENT, skills=["python"]),
        }
        for sub in subs.values():
            await uow.subscriptions.add(sub)
        job = await uow.jobs.add(
            Job(client_id=CLIENT, title="Bot", category="development", skills=["python", "django"])
        )
        await uow.commit()

    async with any_db.uow() as uow:
        found = {sub.id for sub in await uow.search.subscriptions_for(job)}
    # Skills named and none shared, or categories named without the job's, can never
    # match (domain.matching): not candidates.
    expected = {"shared skill", "anything"}
    assert found == {subs[name].id for name in expected}

    async with any_db.uow() as uow:  # a job with no skills and no category
        bare = await uow.jobs.add(Job(client_id=CLIENT, title="Help"))
        found = {sub.id for sub in await uow.search.subscriptions_for(bare)}
        await uow.commit()
    assert found == {subs["anything"].id}  # categories named: a job without one misses


async def test_typed_case_is_indexed_by_key_and_meets_old_slugs(any_db):
    """Free tags keep their typed case ("CSS"); the index holds their key, the same
    as the slug rows written before ("css", "google-ads"), so lookups still meet."""
    assert skill_values(["CSS", "css", " Google Ads", "UI/UX design"]) == [
        "css",
        "google-ads",
        "ui-ux",
    ]
    await _users(any_db)
    async with any_db.uow() as uow:
        old = await uow.subscriptions.add(AlertSubscription(user_id=FELIX, skills=["google-ads"]))
        typed = await uow.subscriptions.add(AlertSubscription(user_id=GRETA, skills=["CSS"]))
        await uow.subscriptions.add(AlertSubscription(user_id=GRETA, skills=["python"]))
        job = await uow.jobs.add(
            Job(client_id=CLIENT, title="Landing page", skills=["css", "Google Ads"])
        )
        job.status = JobStatus.OPEN
        await uow.commit()
        ids = (job.id, old.id, typed.id)
    job_id, old_id, typed_id = ids
    assert (job_id, "google-ads") in await _rows(any_db, job_skills)
    async with any_db.uow() as uow:
        stored = await uow.jobs.get(job_id)
        found = {sub.id for sub in await uow.search.subscriptions_for(stored)}
        page, total = await uow.search.search(JobQuery(skills=("Css",)))
        assert [j.id for j in page] == [job_id] and total == 1
    assert found == {old_id, typed_id}


async def test_the_candidates_never_miss_a_match(any_db):
    """Issue 16, part 4: the indexed candidate query is a superset of what
    domain.matching.job_matches accepts, for many random subscriptions and jobs
    (skills, categories, both, neither, budgets fixed and hourly; old subscriptions
    indexed by the migration look the same)."""
    import random

    from domain.matching import job_matches

    rng = random.Random(16)
    skills = ["python", "django", "logo-design", "seo", "CSS", "ui-ux"]
    categories = ["development", "design", "marketing"]
    await _users(any_db)
    async with any_db.uow() as uow:
        subs = []
        for n in range(120):
            subs.append(
                await uow.subscriptions.add(
                    AlertSubscription(
                        user_id=(FELIX, GRETA)[n % 2],
                        skills=rng.sample(skills, rng.choice([0, 0, 1, 2])),
                        categories=rng.sample(categories, rng.choice([0, 1, 1, 2])),
                        mode=rng.choice(["instant", "daily"]),
                        paused=rng.random() < 0.1,
                        min_budget=rng.choice([0, 1_000, 5_000, 20_000, 100_000]),
                    )
                )
            )
        jobs = []
        for _ in range(25):
            job = await uow.jobs.add(
                Job(
                    client_id=CLIENT,
                    title="Work",
                    category=rng.choice([None, *categories]),
                    skills=rng.sample(skills, rng.choice([0, 1, 2, 3])),
                    budget_type=rng.choice(["fixed", "hourly"]),
                    budget=rng.choice([0, 500, 3_000, 30_000]),
                )
            )
            job.status = JobStatus.OPEN
            jobs.append(job)
        await uow.commit()
    async with any_db.uow() as uow:
        for job in jobs:
            for mode in ("instant", "daily"):
                found = await uow.search.subscriptions_for(job, mode)
                assert all(s.mode == mode and not s.paused for s in found)
                wanted = {s.id for s in subs if s.mode == mode and job_matches(job, s)}
                assert wanted <= {s.id for s in found}, (job.skills, job.category)
                assert wanted == {s.id for s in found if job_matches(job, s)}
