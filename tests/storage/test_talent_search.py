"""SqlTalentSearch on SQLite (FTS5) and PostgreSQL (tsvector): the index kept in
step with profile, review, contract and verification writes; ranking (a freelancer
created last is found first when best matching), filters, paging, blocks; invite
candidates over everyone (no scan cap)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from domain.entities import (
    Block,
    FreelancerProfile,
    IdentityVerification,
    Invitation,
    Job,
    User,
)
from domain.states import JobStatus, ReviewStatus
from domain.talent import Availability, TalentQuery
from storage.tables import profile_skills, talent_index
from tests.records import reviewed

CLIENT = 1
TODAY = date(2026, 3, 10)
T0 = datetime(2026, 3, 1, tzinfo=UTC)


async def _people(db, *specs: dict) -> list[int]:
    """Freelancers with profiles, ids 100, 101, … in the order given (the last is newest)."""
    ids = []
    async with db.uow() as uow:
        if await uow.users.get(CLIENT) is None:
            await uow.users.add(User(id=CLIENT, name="Clara", is_client=True))
        start = 100 + await uow.profiles.count()
        for n, spec in enumerate(specs):
            uid = start + n
            spec = dict(spec)
            name = spec.pop("name", f"F{uid}")
            banned = spec.pop("banned", False)
            await uow.users.add(User(id=uid, name=name, is_freelancer=True, banned=banned))
            await uow.profiles.add(FreelancerProfile(user_id=uid, **spec))
            ids.append(uid)
        await uow.commit()
    return ids


async def _search(db, **query) -> tuple[list[int], int]:
    async with db.uow() as uow:
        hits, total = await uow.talent.search(TalentQuery(today=TODAY, **query))
        return [h.user_id for h in hits], total


async def _review(db, freelancer_id: int, stars: int) -> None:
    """An ended contract of the freelancer with a revealed review of them."""
    await reviewed(db, CLIENT, freelancer_id, stars)


async def test_text_finds_headline_bio_and_skills(any_db):
    a, b, c = await _people(
        any_db,
        {"headline": "Python backend developer", "bio": "APIs."},
        {"headline": "Designer", "bio": "Logos; I also script in Python."},
        {"headline": "Copywriter", "skills": ["seo"]},
    )
    found, total = await _search(any_db, text="python")
    assert (set(found), total) == ({a, b}, 2)
    assert found[0] == a  # the headline weighs more than the bio
    assert await _search(any_db, text="seo") == ([c], 1)
    assert await _search(any_db, text="developers") == ([a], 1)  # stemmed
    assert await _search(any_db, text="haskell") == ([], 0)


async def test_created_last_is_found_first_when_best_matching(any_db):
    # Many older, equal matches: the newest equal one comes first, beyond any scan cap.
    older = await _people(any_db, *({"headline": "Rust engineer"} for _ in range(30)))
    (newest,) = await _people(any_db, {"headline": "Rust engineer"})
    found, total = await _search(any_db, text="rust", limit=3)
    assert total == 31 and found[0] == newest and set(found[1:]) <= set(older)
    found, _ = await _search(any_db, limit=1)
    assert found == [newest]  # without text: record rank, then newer


async def test_record_ranks_and_follows_reviews(any_db):
    strong, weak = await _people(any_db, {"headline": "Go developer"}, {"headline": "Go developer"})
    assert (await _search(any_db, text="go developer"))[0][0] == weak  # newer wins a tie
    await _review(any_db, strong, 5)
    await _review(any_db, strong, 5)
    found, _ = await _search(any_db, text="go developer")
    assert found[0] == strong  # the review reached the index in the same transaction
    async with any_db.uow() as uow:
        hits, _ = await uow.talent.search(TalentQuery(today=TODAY, text="go"))
        best = hits[0]
        assert (best.rating, best.ratings, best.completed) == (Decimal("5.0"), 2, 2)


async def test_filters(any_db):
    a, b, c, d = await _people(
        any_db,
        {"category": "development", "skills": ["python", "django"], "hourly_rate": 5_000},
        {"category": "development", "skills": ["python"], "hourly_rate": 2_000},
        {"category": "design", "tags": ["Figma"], "hourly_rate": 9_000},
        {"category": "development", "availability": "away", "away_until": TODAY},
    )
    assert set((await _search(any_db, category="development"))[0]) == {a, b, d}
    assert await _search(any_db, skills=("python", "Django")) == ([a], 1)
    assert await _search(any_db, skills=("figma",)) == ([c], 1)  # free tags too
    assert set((await _search(any_db, min_rate=3_000))[0]) == {a, c}
    assert await _search(any_db, min_rate=1_000, max_rate=3_000) == ([b], 1)
    assert d not in (await _search(any_db, available=True))[0]
    async with any_db.uow() as uow:  # away ends by itself after its date
        hits, _ = await uow.talent.search(
            TalentQuery(today=date(2026, 3, 11), available=True, category="development")
        )
        assert d in {h.user_id for h in hits}
        hits, _ = await uow.talent.search(TalentQuery(today=TODAY, category="development"))
        assert {h.user_id: h.availability for h in hits}[d] is Availability.AWAY
    await _review(any_db, a, 5)
    await _review(any_db, b, 3)
    assert await _search(any_db, min_rating=Decimal("4.5")) == ([a], 1)
    async with any_db.uow() as uow:
        await uow.verifications.add(
            IdentityVerification(user_id=c, gateway="fake", status="verified")
        )
        await uow.commit()
    assert await _search(any_db, verified=True) == ([c], 1)


async def test_paging_is_exact(any_db):
    ids = await _people(any_db, *({"headline": "Translator"} for _ in range(7)))
    seen = []
    for page in range(3):
        found, total = await _search(any_db, text="translator", offset=page * 3, limit=3)
        assert total == 7
        seen += found
    assert seen == sorted(ids, reverse=True)


async def test_blocked_either_way_banned_and_self_are_left_out(any_db):
    a, b, c, d = await _people(
        any_db, {"headline": "QA"}, {"headline": "QA"}, {"headline": "QA"}, {"headline": "QA"}
    )
    async with any_db.uow() as uow:
        await uow.blocks.add(Block(blocker_id=CLIENT, blocked_id=a))
        await uow.blocks.add(Block(blocker_id=b, blocked_id=CLIENT))
        user = await uow.users.get(c)
        user.banned = True
        await uow.commit()
    assert await _search(any_db, text="qa", viewer_id=CLIENT) == ([d], 1)
    assert await _search(any_db, text="qa", viewer_id=d) == ([b, a], 2)


async def test_index_follows_profile_edits_and_deletes(any_db):
    (a,) = await _people(any_db, {"headline": "Painter", "skills": ["oil"]})
    async with any_db.uow() as uow:
        profile = await uow.profiles.get(a)
        profile.headline = "Sculptor"
        profile.skills = ["bronze"]
        await uow.commit()
    assert await _search(any_db, text="painter") == ([], 0)
    assert await _search(any_db, text="sculptor", skills=("bronze",)) == ([a], 1)
    async with any_db.uow() as uow:
        await uow.profiles.delete(await uow.profiles.get(a))
        await uow.commit()
    async with any_db.engine.connect() as conn:
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(talent_index))
        ).scalar() == 0
        assert (
            await conn.execute(sa.select(sa.func.count()).select_from(profile_skills))
        ).scalar() == 0


async def test_invite_candidates_rank_fit_and_reach_everyone(any_db):
    # 600 profiles before the best fit: the old scan stopped at the first 500 by id.
    await _people(any_db, *({"category": "writing", "skills": ["seo"]} for _ in range(600)))
    partial, full, same_category, blocked, invited = await _people(
        any_db,
        {"skills": ["python"], "category": "design"},
        {"skills": ["python", "django"], "category": "development"},
        {"category": "development"},
        {"skills": ["python", "django"]},
        {"skills": ["python", "django"]},
    )
    async with any_db.uow() as uow:
        job = await uow.jobs.add(
            Job(
                client_id=CLIENT,
                title="API",
                category="development",
                skills=["python", "django"],
                status=JobStatus.OPEN,
            )
        )
        await uow.blocks.add(Block(blocker_id=blocked, blocked_id=CLIENT))
        await uow.invitations.add(
            Invitation(job_id=job.id, client_id=CLIENT, freelancer_id=invited)
        )
        await uow.commit()
        hits = await uow.talent.invite_candidates(job, CLIENT, TODAY)
    assert [h.user_id for h in hits[:3]] == [full, partial, same_category]
    assert (hits[0].shared_skills, hits[0].wanted_skills) == (2, 2)
    assert len(hits) == 3


async def test_away_users(any_db):
    a, b, c = await _people(
        any_db,
        {"availability": "away", "away_until": TODAY},
        {"availability": "away", "away_until": date(2026, 3, 9)},
        {"availability": "busy"},
    )
    async with any_db.uow() as uow:
        assert await uow.talent.away_users([a, b, c, 999], TODAY) == {a}


async def _until_someone_waits_for_a_lock(db) -> None:
    """Returns once another session of this database waits for a row lock (a state
    PostgreSQL reports, not a guess at how long that takes)."""
    probe = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with db.engine.connect() as conn:
        while not (await conn.execute(probe)).scalar():  # noqa: ASYNC110 (a database state)
            await asyncio.sleep(0.01)


async def test_concurrent_writers_leave_the_row_whole(any_db):
    """A profile edit and a review revealed at once, for one freelancer: whichever
    re-indexes last reads what the other committed (PostgreSQL runs them at once;
    SQLite has one writer at a time)."""
    if any_db.engine.dialect.name != "postgresql":
        return
    (a,) = await _people(any_db, {"headline": "Tester", "category": "design"})
    await _review(any_db, a, 3)  # a contract with a review, revealed
    async with any_db.uow() as uow:
        (review,) = await uow.reviews.find(reviewee_id=a)
        review.status = ReviewStatus.HIDDEN
        await uow.commit()
    editing = any_db.uow()
    uow_a = await editing.__aenter__()
    profile = await uow_a.profiles.get_for_update(a)
    profile.category = "writing"
    await uow_a.session.flush()  # re-indexed, not committed: the profile row stays locked

    async def reveal() -> None:
        async with any_db.uow() as uow_b:
            (review,) = await uow_b.reviews.find(reviewee_id=a)
            review.status = ReviewStatus.REVEALED
            await uow_b.commit()  # its re-index waits for the profile row

    revealing = asyncio.create_task(reveal())
    await _until_someone_waits_for_a_lock(any_db)
    await uow_a.commit()
    await editing.__aexit__(None, None, None)
    await revealing
    async with any_db.engine.connect() as conn:
        row = (await conn.execute(sa.select(talent_index).where(talent_index.c.user_id == a))).one()
    assert (row.category, row.ratings, row.rating_x10) == ("writing", 1, 30)


# --- the two ways a text tier is read (storage/tiers.py WALK_FROM) ----------------------


async def _pages(db, queries: list[dict]) -> list[tuple[list[int], int]]:
    found = []
    for query in queries:
        for offset in (0, 3, 6, 9):
            found.append(await _search(db, offset=offset, limit=3, **query))
    return found


async def test_walking_the_rank_index_gives_the_pages_sorting_does(any_db, monkeypatch):
    # Strong matches (headline, skills) and weak ones (bio), over categories and
    # records, some blocked: every page must be the same however a tier is read.
    specs = []
    for n in range(40):
        specs.append(
            {
                "headline": "Python developer" if n % 3 == 0 else "Engineer",
                "bio": "I write python scripts." if n % 2 == 0 else "Design work.",
                "category": ("development", "design")[n % 2],
                "skills": ["python"] if n % 5 == 0 else ["figma"],
                "hourly_rate": 1_000 + 100 * n,
            }
        )
    ids = await _people(any_db, *specs)
    for n, uid in enumerate(ids[:12]):
        await _review(any_db, uid, 3 + n % 3)
    async with any_db.uow() as uow:
        await uow.blocks.add(Block(blocker_id=CLIENT, blocked_id=ids[6]))
        await uow.commit()
    queries = [
        {"text": "python", "viewer_id": CLIENT},
        {"text": "python", "category": "design"},
        {"text": "python developer", "category": "development"},
        {"text": "python", "min_rate": 2_000, "max_rate": 4_000},
        {"text": "python", "min_rating": Decimal("4")},
        {"text": "design"},
    ]
    from storage import tiers

    monkeypatch.setattr(tiers, "WALK_FROM", 10**9)
    sorted_pages = await _pages(any_db, queries)
    monkeypatch.setattr(tiers, "WALK_FROM", 0)
    walked_pages = await _pages(any_db, queries)
    assert walked_pages == sorted_pages
    # And the pages are the order the search promises: every word in the headline or
    # skills first, then the rest, each by record rank, then newer; blocked left out.
    async with any_db.engine.connect() as conn:
        rank = dict(
            (await conn.execute(sa.select(talent_index.c.user_id, talent_index.c.rank))).all()
        )

    def strong(n: int) -> bool:
        return "Python" in specs[n]["headline"] or "python" in specs[n]["skills"]

    def weak(n: int) -> bool:
        return not strong(n) and "python" in specs[n]["bio"]

    def by_record(ns: list[int]) -> list[int]:
        return sorted((ids[n] for n in ns if n != 6), key=lambda u: (rank[u], u), reverse=True)

    expected = by_record([n for n in range(40) if strong(n)])
    expected += by_record([n for n in range(40) if weak(n)])
    walked = [uid for found, _ in sorted_pages[:4] for uid in found]
    assert walked == expected[:12] and sorted_pages[0][1] == len(expected)


async def test_a_category_is_a_filter_not_a_word(any_db):
    # The category is in the full-text index (migration 0022), in a column of its own:
    # typing the word "design" finds design in the text, not everyone in the category.
    plain, worded = await _people(
        any_db,
        {"category": "design", "headline": "Illustrator"},
        {"category": "writing", "headline": "Writer", "bio": "Some design sense."},
    )
    assert await _search(any_db, text="design") == ([worded], 1)
    assert await _search(any_db, text="illustrator", category="design") == ([plain], 1)
    assert await _search(any_db, text="illustrator", category="writing") == ([], 0)
    assert await _search(any_db, text="writer", category='wri"ting') == ([], 0)  # quoted


async def test_skill_rows_carry_the_category_and_rank_they_are_ranked_by(any_db):
    (a,) = await _people(any_db, {"category": "design", "skills": ["figma", "logo"]})
    await _review(any_db, a, 5)
    async with any_db.uow() as uow:
        profile = await uow.profiles.get(a)
        profile.category = "development"
        await uow.commit()
    async with any_db.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(profile_skills.c.category, profile_skills.c.rank).where(
                    profile_skills.c.user_id == a
                )
            )
        ).all()
        rank = (
            await conn.execute(sa.select(talent_index.c.rank).where(talent_index.c.user_id == a))
        ).scalar()
    assert rank > 0 and set(rows) == {("development", rank)} and len(rows) == 2


async def test_invite_tiers_every_skill_in_category_then_outside_then_some(any_db):
    inside_low, inside_high, outside, some = await _people(
        any_db,
        {"category": "development", "skills": ["python", "django"]},
        {"category": "development", "skills": ["python", "django"]},
        {"category": "design", "skills": ["django", "python"]},
        {"category": "development", "skills": ["python"]},
    )
    await _review(any_db, inside_low, 3)
    await _review(any_db, inside_high, 5)
    await _review(any_db, outside, 5)
    await _review(any_db, outside, 5)
    job = Job(
        id=77,
        client_id=CLIENT,
        title="API",
        category="development",
        skills=["python", "django"],
        status=JobStatus.OPEN,
    )
    async with any_db.uow() as uow:
        hits = await uow.talent.invite_candidates(job, CLIENT, TODAY)
    assert [h.user_id for h in hits] == [inside_high, inside_low, outside, some]
    assert [h.shared_skills for h in hits] == [2, 2, 2, 1]
