"""Issue 16, part 1: the job's category inside the full-text index (migration 0024).

On SQLite jobs_fts holds the category as a column of its own: a search with words
and a category is one FTS5 match (`{title description skills} : (…) AND
{category} : "…"`), and the typed words are looked for in the text columns only.
What must hold on both databases: a job in design is not found by the word
"design" unless its text has it; the category still filters exactly (the phrase
"design" is no slug prefix match); editing a job's category or text re-indexes
it; whatever is typed or passed as a category reaches FTS5 as quoted strings.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from domain.entities import Job, User
from domain.ports import JobQuery
from domain.states import JobStatus
from storage.search import SqlJobSearch, fts5_match, fts5_string
from storage.tables import jobs

CLIENT = 1
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def _post(db, *specs: dict) -> list[Job]:
    async with db.uow() as uow:
        if await uow.users.get(CLIENT) is None:
            await uow.users.add(User(id=CLIENT, name="Clara", is_client=True))
        existing = await uow.jobs.count()
        found = []
        for i, spec in enumerate(specs, start=existing):
            fields = {"status": JobStatus.OPEN, "published_at": T0 + timedelta(minutes=i)}
            found.append(await uow.jobs.add(Job(client_id=CLIENT, **(fields | spec))))
        await uow.commit()
    return found


async def _titles(db, window: int | None = 1000, **query) -> tuple[list[str], int]:
    async with db.read_uow() as uow:
        found, total = await SqlJobSearch(uow.session, rank_window=window).search(JobQuery(**query))
        return [job.title for job in found], total


async def _both(db, **query) -> tuple[list[str], int]:
    """The windowed search and every match scored agree; the windowed answer."""
    windowed = await _titles(db, **query)
    assert windowed == await _titles(db, window=None, **query), query
    return windowed


async def test_a_typed_word_does_not_match_the_category(any_db):
    await _post(
        any_db,
        {"title": "Bakery logo", "description": "Warm colours.", "category": "design"},
        {
            "title": "Design system in React",
            "description": "Components.",
            "category": "development",
        },
        {"title": "Menu card", "description": "We need a design for it.", "category": "design"},
        {
            "title": "Shop",
            "description": "Orders.",
            "category": "development",
            "skills": ["design"],
        },
    )
    # "design" is found in titles, descriptions and skills, never in a category alone.
    titles, total = await _both(any_db, text="design")
    assert sorted(titles) == ["Design system in React", "Menu card", "Shop"] and total == 3
    # With the category: the words in the text, the category as a filter.
    assert await _both(any_db, text="design", category="design") == (["Menu card"], 1)
    assert await _both(any_db, text="design", category="development") == (
        ["Design system in React", "Shop"],
        2,
    )
    assert await _both(any_db, text="logo", category="design") == (["Bakery logo"], 1)
    assert await _both(any_db, text="logo", category="development") == ([], 0)
    # A category name typed as a word finds nothing that only has the category.
    assert await _both(any_db, text="development") == ([], 0)


async def test_the_category_filters_exactly(any_db):
    """A slug is matched whole: "support" or "admin" are no categories, and a slug of
    two words (admin-support) matches only itself."""
    await _post(
        any_db,
        {"title": "Inbox help", "category": "admin-support"},
        {"title": "Inbox zero talk", "category": "writing"},
        {"title": "Inbox rules", "category": None},
    )
    assert await _both(any_db, text="inbox", category="admin-support") == (["Inbox help"], 1)
    assert await _both(any_db, text="inbox", category="admin") == ([], 0)
    assert await _both(any_db, text="inbox", category="support") == ([], 0)
    assert await _both(any_db, text="inbox", category="writing") == (["Inbox zero talk"], 1)
    titles, total = await _both(any_db, text="inbox")
    assert len(titles) == total == 3


async def test_editing_the_category_or_text_reindexes_the_job(any_db):
    (job,) = await _post(any_db, {"title": "Python scraper", "category": "development"})
    assert await _both(any_db, text="python", category="data") == ([], 0)
    async with any_db.uow() as uow:
        await uow.session.execute(
            sa.update(jobs).where(jobs.c.id == job.id).values(category="data")
        )
        await uow.commit()
    assert await _both(any_db, text="python", category="data") == (["Python scraper"], 1)
    assert await _both(any_db, text="python", category="development") == ([], 0)
    async with any_db.uow() as uow:
        await uow.session.execute(
            sa.update(jobs).where(jobs.c.id == job.id).values(title="Rust scraper", category=None)
        )
        await uow.commit()
    assert await _both(any_db, text="python") == ([], 0)
    assert await _both(any_db, text="rust") == (["Rust scraper"], 1)
    assert await _both(any_db, text="rust", category="data") == ([], 0)
    # Deleted jobs leave the index.
    async with any_db.uow() as uow:
        await uow.session.execute(sa.delete(jobs).where(jobs.c.id == job.id))
        await uow.commit()
    assert await _both(any_db, text="rust") == ([], 0)


async def test_quotes_and_syntax_in_words_and_category_are_plain_text(any_db):
    await _post(
        any_db,
        {"title": "Python bot", "category": "development"},
        {"title": 'Say "hello" bot', "category": "writing"},
    )
    odd = [
        'python" OR "x',
        '"python',
        'python"',
        "{category} : development",
        "category:writing",
        "NEAR(python bot)",
        "python AND NOT bot",
        "bot*",
        '""',
        "^bot",
        "(bot",
    ]
    for text in odd:
        for category in (None, "development", 'development" OR "writing', '"', "x } OR {"):
            await _both(any_db, text=text, category=category)  # no syntax error
    assert await _both(any_db, text='"hello"', category="writing") == (['Say "hello" bot'], 1)
    assert await _both(any_db, text="bot", category='development" OR "writing') == ([], 0)
    assert await _both(any_db, text="bot", category='"') == ([], 0)
    titles, total = await _both(any_db, text="bot")
    assert sorted(titles) == ["Python bot", 'Say "hello" bot'] and total == 2


async def test_paging_with_a_category_stays_in_order(any_db):
    specs = [
        {
            "title": f"Python job {i}" if i % 3 else f"Python Python job {i}",
            "category": "design" if i % 2 else "development",
        }
        for i in range(40)
    ]
    await _post(any_db, *specs)
    whole, total = await _both(any_db, text="python", category="design", limit=100)
    assert total == 20 and len(whole) == 20
    assert all(int(t.rsplit(" ", 1)[1]) % 2 for t in whole)
    paged: list[str] = []
    for offset in range(0, 25, 6):
        page, count = await _titles(
            any_db, text="python", category="design", offset=offset, limit=6
        )
        assert count == 20
        paged += page
    assert paged == whole


def test_fts5_strings_are_quoted():
    assert fts5_string('a"b') == '"a""b"'
    assert fts5_match(["python", "bot"]) == '{title description skills} : ("python" "bot")'
    assert fts5_match(["python"], "design") == (
        '{title description skills} : ("python") AND {category} : "design"'
    )
    assert (
        fts5_match(["x"], 'de"sign')
        == '{title description skills} : ("x") AND {category} : "de""sign"'
    )
    # A category without a word in it adds no (empty) phrase: the SQL filter decides.
    assert fts5_match(["x"], '"') == '{title description skills} : ("x")'
    assert fts5_match(["x"], "") == '{title description skills} : ("x")'


async def test_sqlite_intersects_the_category_in_fts5(db):
    """The category is part of the MATCH (no category column test drives the walk)."""
    await _post(db, {"title": "Python bot", "category": "design"})
    async with db.read_uow() as uow:
        recent = SqlJobSearch(uow.session).window(JobQuery(text="python", category="design"), 1000)
        sql = str(
            sa.select(recent.c.id).compile(
                dialect=uow.session.get_bind().dialect, compile_kwargs={"literal_binds": True}
            )
        )
    assert 'MATCH \'{title description skills} : ("python") AND {category} : "design"\'' in sql, sql
