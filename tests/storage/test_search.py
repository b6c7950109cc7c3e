"""SqlJobSearch.search on SQLite (FTS5) and PostgreSQL (tsvector): ranking,
filters, paging, what is excluded, and text a person might type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.entities import Job, User
from domain.ports import JobQuery
from domain.states import JobStatus

CLIENT = 1
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def _post(db, *specs: dict) -> list[Job]:
    """Jobs published one minute apart, in the order given (the last is the newest)."""
    async with db.uow() as uow:
        if await uow.users.get(CLIENT) is None:
            await uow.users.add(User(id=CLIENT, name="Clara", is_client=True))
        existing = await uow.jobs.count()
        jobs = []
        for i, spec in enumerate(specs, start=existing):
            fields = {"status": JobStatus.OPEN, "published_at": T0 + timedelta(minutes=i)}
            jobs.append(await uow.jobs.add(Job(client_id=CLIENT, **(fields | spec))))
        await uow.commit()
    return jobs


async def _search(db, **query) -> tuple[list[str], int]:
    async with db.uow() as uow:
        found, total = await uow.search.search(JobQuery(**query))
        return [job.title for job in found], total


async def test_text_matches_rank_title_hits_first(any_db):
    await _post(
        any_db,
        # The title hit is the older job: rank, not recency, puts it first.
        {"title": "Python developer for a Telegram bot", "description": "Long-running bot."},
        {"title": "Landing page", "description": "Static site; the backend is written in Python."},
        {"title": "Logo for a bakery", "description": "Warm colours, bread."},
    )
    assert await _search(any_db, text="python") == (
        ["Python developer for a Telegram bot", "Landing page"],
        2,
    )
    # Every word is required, and words are stemmed ("developers" finds "developer").
    assert await _search(any_db, text="Python BOT") == (["Python developer for a Telegram bot"], 1)
    assert await _search(any_db, text="developers") == (["Python developer for a Telegram bot"], 1)
    assert await _search(any_db, text="haskell") == ([], 0)


async def test_skills_are_searchable_text_too(any_db):
    await _post(any_db, {"title": "Shop", "skills": ["web-development"]})
    assert await _search(any_db, text="development") == (["Shop"], 1)


async def test_without_text_newest_first(any_db):
    await _post(any_db, {"title": "old"}, {"title": "middle"}, {"title": "new"})
    assert await _search(any_db) == (["new", "middle", "old"], 3)
    assert await _search(any_db, text="  🙂 ") == (["new", "middle", "old"], 3)  # no words


async def test_filters(any_db):
    await _post(
        any_db,
        {"title": "A", "category": "development", "skills": ["python"], "budget": 50_000},
        {
            "title": "B",
            "category": "development",
            "skills": ["javascript", "typescript"],
            "budget": 20_000,
        },
        {"title": "C", "category": "design", "skills": ["logo-design"], "budget": 5_000},
        {"title": "D", "category": "development", "budget_type": "hourly", "budget": 4_000},
    )
    assert await _search(any_db, category="development") == (["D", "B", "A"], 3)
    assert await _search(any_db, skills=("python", "TypeScript")) == (["B", "A"], 2)
    assert await _search(any_db, min_budget=20_000) == (["B", "A"], 2)
    assert await _search(any_db, budget_type="hourly") == (["D"], 1)
    assert await _search(
        any_db, budget_type="fixed", category="development", min_budget=30_000
    ) == (["A"], 1)
    assert await _search(any_db, category="writing") == ([], 0)


async def test_paging_with_a_total(any_db):
    await _post(any_db, *({"title": f"Python job {n}"} for n in range(7)))
    assert await _search(any_db, limit=3) == (["Python job 6", "Python job 5", "Python job 4"], 7)
    assert await _search(any_db, offset=3, limit=3) == (
        ["Python job 3", "Python job 2", "Python job 1"],
        7,
    )
    assert await _search(any_db, offset=6, limit=3) == (["Python job 0"], 7)
    assert await _search(any_db, offset=9, limit=3) == ([], 7)
    titles, total = await _search(any_db, text="python", offset=5, limit=5)
    assert len(titles) == 2 and total == 7


async def test_only_open_jobs_are_found(any_db):
    await _post(
        any_db,
        {"title": "Python open"},
        {"title": "Python paused", "status": JobStatus.PAUSED},
        {"title": "Python closed", "status": JobStatus.CLOSED},
        {"title": "Python draft", "status": JobStatus.DRAFT, "published_at": None},
    )
    assert await _search(any_db) == (["Python open"], 1)
    assert await _search(any_db, text="python") == (["Python open"], 1)


async def test_the_index_follows_edits_and_deletes(any_db):
    [job] = await _post(any_db, {"title": "Python scraper"})
    async with any_db.uow() as uow:
        stored = await uow.jobs.get_for_update(job.id)
        stored.title = "Rust scraper"
        await uow.commit()
    assert await _search(any_db, text="python") == ([], 0)
    assert await _search(any_db, text="rust") == (["Rust scraper"], 1)
    async with any_db.uow() as uow:
        stored = await uow.jobs.get_for_update(job.id)
        stored.apply("pause")
        await uow.commit()
    assert await _search(any_db, text="rust") == ([], 0)
    async with any_db.uow() as uow:
        stored = await uow.jobs.get_for_update(job.id)
        stored.apply("resume")
        await uow.commit()
    assert await _search(any_db, text="rust") == (["Rust scraper"], 1)
    async with any_db.uow() as uow:
        await uow.jobs.delete(await uow.jobs.get(job.id))
        await uow.commit()
    assert await _search(any_db, text="rust") == ([], 0)


HOSTILE = [
    '"',
    '""',
    '"python',
    "AND OR",
    "OR",
    "NOT",
    "NEAR(python bot)",
    "*",
    "python*",
    "(",
    ")(",
    "title:python",
    "^python",
    "-python",
    "python -",
    "!",
    "&|!<->:*",
    "'",
    "\\",
    "%_",
    "🔥🐍",
    "python 🐍",
    "\x00python\x00",
    "\ud800",
    "naïve café ΚΑΛΗΜΕΡΑ 日本語",
    "a" * 10_000,
    "python " * 2_000,
]


async def test_hostile_text_never_errors(any_db):
    await _post(any_db, {"title": "Python developer for a Telegram bot"})
    for text in HOSTILE:
        titles, total = await _search(any_db, text=text)
        assert total == len(titles) <= 1, text


async def test_operators_are_plain_words(any_db):
    await _post(any_db, {"title": "Python bot"}, {"title": "Rust bot"})
    assert await _search(any_db, text='"python"') == (["Python bot"], 1)
    assert await _search(any_db, text="python*") == (["Python bot"], 1)
    assert await _search(any_db, text="(python)") == (["Python bot"], 1)
