"""SqlServiceSearch on SQLite (FTS5) and PostgreSQL (tsvector): the service index kept in
step by reindex (publish, edit, pause, delete) and by the seller's record (reviews,
bans); ranking (relevance tiers, the seller's record, a service published last found
first when best matching), filters, exact paging, the bounded count, blocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from domain.catalog import SERVICE_COUNT_CAP, ServiceQuery
from domain.entities import Block, IdentityVerification, User
from domain.services import Service, ServicePackage, ServiceStatus
from storage.service_search import refresh_services
from storage.tables import service_index, services
from tests.records import reviewed

CLIENT = 1
T0 = datetime(2026, 3, 1, tzinfo=UTC)
_clock = {"n": 0}


async def _seller(db, uid: int, **fields) -> int:
    async with db.uow() as uow:
        if await uow.users.get(uid) is None:
            await uow.users.add(User(id=uid, name=f"S{uid}", is_freelancer=True, **fields))
        if await uow.users.get(CLIENT) is None:
            await uow.users.add(User(id=CLIENT, name="Clara", is_client=True))
        await uow.commit()
    return uid


async def _services(db, *specs: dict) -> list[int]:
    """Published services in the order given (the last published last)."""
    ids = []
    for spec in specs:
        spec = dict(spec)
        seller = await _seller(db, spec.pop("seller", 100))
        packages = spec.pop("packages", [{"price": 5_000, "days": 3}])
        status = spec.pop("status", ServiceStatus.ACTIVE)
        _clock["n"] += 1
        async with db.uow() as uow:
            service = await uow.services.add(
                Service(
                    seller_id=seller,
                    title=spec.pop("title", "A service"),
                    description=spec.pop("description", "Done well."),
                    category=spec.pop("category", "design"),
                    skills=spec.pop("skills", []),
                    status=status,
                    published_at=T0 + timedelta(minutes=_clock["n"]),
                    **spec,
                )
            )
            for tier, p in zip(("basic", "standard", "premium"), packages, strict=False):
                await uow.service_packages.add(
                    ServicePackage(
                        service_id=service.id,
                        tier=tier,
                        name=p.get("name", tier.title()),
                        included=p.get("included", "The work."),
                        price=p["price"],
                        delivery_days=p["days"],
                    )
                )
            await uow.service_search.reindex(service.id)
            await uow.commit()
            ids.append(service.id)
    return ids


async def _search(db, **query) -> tuple[list[int], int]:
    async with db.uow() as uow:
        hits, total = await uow.service_search.search(ServiceQuery(**query))
        return [h.service_id for h in hits], total


async def _set_status(db, service_id: int, status: ServiceStatus) -> None:
    async with db.uow() as uow:
        service = await uow.services.get(service_id)
        service.status = status
        await uow.service_search.reindex(service_id)
        await uow.commit()


async def _review(db, seller_id: int, stars: int) -> None:
    """An ended contract of the seller with a revealed review of them."""
    await reviewed(db, CLIENT, seller_id, stars)


async def test_text_finds_title_skills_description_and_packages(any_db):
    a, b, c, d = await _services(
        any_db,
        {"title": "A logo for your bakery", "description": "Vector files."},
        {"title": "Brand book", "description": "Colours, fonts and a logo refresh."},
        {"title": "Landing page copy", "skills": ["seo"]},
        {
            "title": "Telegram bot",
            "packages": [{"price": 9_000, "days": 5, "included": "Stripe payments"}],
        },
    )
    found, total = await _search(any_db, text="logo")
    assert (found, total) == ([a, b], 2)  # the title's tier above the description's
    assert await _search(any_db, text="seo") == ([c], 1)
    assert await _search(any_db, text="stripe payment") == ([d], 1)  # a package, stemmed
    assert await _search(any_db, text="logos bakery") == ([a], 1)  # every word required
    assert await _search(any_db, text="haskell") == ([], 0)
    assert await _search(any_db, text="'\"*) OR NEAR(") == ([], 0)  # no syntax gets through


async def test_published_last_is_found_first_when_best_matching(any_db):
    older = await _services(any_db, *({"title": "Rust code review"} for _ in range(30)))
    (newest,) = await _services(any_db, {"title": "Rust code review"})
    found, total = await _search(any_db, text="rust", limit=3)
    assert total == 31 and found[0] == newest and set(found[1:]) <= set(older)
    assert (await _search(any_db, limit=1))[0] == [newest]  # no words: record, then newer


async def test_the_sellers_record_ranks_and_follows_reviews_and_bans(any_db):
    strong = await _seller(any_db, 200)
    weak = await _seller(any_db, 201)
    s1, s2 = await _services(
        any_db,
        {"title": "Go microservice", "seller": strong},
        {"title": "Go microservice", "seller": weak},
    )
    assert (await _search(any_db, text="go"))[0] == [s2, s1]  # equal records: newer first
    await _review(any_db, strong, 5)
    await _review(any_db, strong, 5)
    assert (await _search(any_db, text="go"))[0] == [s1, s2]  # the review moved the index
    async with any_db.uow() as uow:
        hits, _ = await uow.service_search.search(ServiceQuery(text="go"))
        assert (hits[0].rating, hits[0].ratings, hits[0].completed) == (Decimal("5.0"), 2, 2)
        assert hits[0].seller_name == "S200"
        user = await uow.users.get(strong)
        user.banned = True
        await uow.commit()
    assert await _search(any_db, text="go") == ([s2], 1)
    async with any_db.uow() as uow:
        user = await uow.users.get(strong)
        user.banned = False
        await uow.commit()
    assert (await _search(any_db, text="go"))[1] == 2


async def test_filters(any_db):
    await _seller(any_db, 300)
    async with any_db.uow() as uow:
        await uow.verifications.add(
            IdentityVerification(user_id=300, gateway="sandbox", status="verified")
        )
        await uow.commit()
    cheap, dear, slow, verified = await _services(
        any_db,
        {"title": "Logo sketch", "packages": [{"price": 2_000, "days": 2}]},
        {
            "title": "Logo suite",
            "category": "writing",
            "packages": [{"price": 20_000, "days": 3}, {"price": 50_000, "days": 1}],
        },
        {"title": "Logo animation", "packages": [{"price": 8_000, "days": 14}]},
        {"title": "Logo audit", "seller": 300, "packages": [{"price": 6_000, "days": 7}]},
    )
    assert set((await _search(any_db, category="design"))[0]) == {cheap, slow, verified}
    assert set((await _search(any_db, min_price=5_000, max_price=10_000))[0]) == {slow, verified}
    assert set((await _search(any_db, max_price=20_000))[0]) == {cheap, dear, slow, verified}
    assert set((await _search(any_db, max_days=2))[0]) == {cheap, dear}  # dear's fastest is 1
    assert await _search(any_db, verified=True) == ([verified], 1)
    await _review(any_db, 300, 5)
    assert await _search(any_db, min_rating=Decimal("4.5")) == ([verified], 1)
    assert await _search(any_db, min_rating=Decimal("4.5"), text="sketch") == ([], 0)
    assert await _search(any_db, seller_id=300) == ([verified], 1)
    async with any_db.uow() as uow:
        (hit,) = (await uow.service_search.search(ServiceQuery(text="suite")))[0]
        assert (hit.min_price, hit.min_days, hit.category) == (20_000, 1, "writing")


async def test_paging_is_exact_and_the_count_bounded(any_db):
    ids = await _services(any_db, *({"title": "Translation"} for _ in range(7)))
    seen = []
    for page in range(3):
        found, total = await _search(any_db, text="translation", offset=page * 3, limit=3)
        assert total == 7
        seen += found
    assert seen == sorted(ids, reverse=True)
    async with any_db.uow() as uow:
        # The count stops at the cap: rows straight in (the FTS follows by trigger).
        row = {
            "seller_id": 100,
            "category": "design",
            "min_price": 100,
            "currency": "USD",
            "min_days": 1,
            "rating_x10": 0,
            "ratings": 0,
            "completed": 0,
            "verified": False,
            "rank": 0,
            "published_at": T0,
            "title": "Translation",
            "skills": "",
            "body": "",
        }
        more = range(100_000, 100_000 + SERVICE_COUNT_CAP)
        await uow.session.execute(
            sa.insert(services),
            [
                {
                    "id": i,
                    "seller_id": 100,
                    "title": "Translation",
                    "description": "",
                    "category": "design",
                    "skills": [],
                    "status": ServiceStatus.ACTIVE,
                    "currency": "USD",
                    "questions": [],
                    "samples": [],
                }
                for i in more
            ],
        )
        await uow.session.execute(sa.insert(service_index), [{"service_id": i} | row for i in more])
        hits, total = await uow.service_search.search(ServiceQuery(text="translation"))
        assert total == SERVICE_COUNT_CAP and len(hits) == 5


async def test_paused_and_deleted_vanish_and_resumed_return(any_db):
    a, b = await _services(any_db, {"title": "Podcast editing"}, {"title": "Podcast cover art"})
    await _set_status(any_db, a, ServiceStatus.PAUSED)
    assert await _search(any_db, text="podcast") == ([b], 1)
    await _set_status(any_db, a, ServiceStatus.ACTIVE)
    assert set((await _search(any_db, text="podcast"))[0]) == {a, b}
    await _set_status(any_db, b, ServiceStatus.DELETED)
    assert await _search(any_db, text="podcast") == ([a], 1)
    (draft,) = await _services(any_db, {"title": "Podcast intro", "status": ServiceStatus.DRAFT})
    assert await _search(any_db, text="podcast") == ([a], 1)
    async with any_db.uow() as uow:
        await uow.service_search.remove(a)
        await uow.commit()
    assert await _search(any_db, text="podcast") == ([], 0)
    async with any_db.engine.begin() as conn:
        await conn.run_sync(lambda c: refresh_services(c, [a, b, draft]))
    assert await _search(any_db, text="podcast") == ([a], 1)


async def test_edits_reach_the_index(any_db):
    (a,) = await _services(any_db, {"title": "Watercolour portrait"})
    async with any_db.uow() as uow:
        service = await uow.services.get(a)
        service.title = "Oil portrait"
        (package,) = await uow.services.packages(a)
        package.price = 1_000
        await uow.service_search.reindex(a)
        await uow.commit()
    assert await _search(any_db, text="watercolour") == ([], 0)
    assert await _search(any_db, text="oil", max_price=1_000) == ([a], 1)


async def test_blocked_sellers_are_left_out_either_way(any_db):
    a, b, c = await _services(
        any_db,
        {"title": "QA pass", "seller": 400},
        {"title": "QA pass", "seller": 401},
        {"title": "QA pass", "seller": 402},
    )
    async with any_db.uow() as uow:
        await uow.blocks.add(Block(blocker_id=CLIENT, blocked_id=400))
        await uow.blocks.add(Block(blocker_id=401, blocked_id=CLIENT))
        await uow.commit()
    assert await _search(any_db, text="qa", viewer_id=CLIENT) == ([c], 1)
    assert await _search(any_db, text="qa", viewer_id=402) == ([c, b, a], 3)


@pytest.mark.parametrize("dense", [1, 10_000])
async def test_walking_or_sorting_a_tier_gives_the_same_pages(any_db, monkeypatch, dense):
    """A tier is walked in record order when its words match many services and sorted when
    few (storage/tiers.py WALK_FROM): both ways give the same pages, across the
    boundary between the tiers, with filters and a category."""
    await _seller(any_db, 500)
    await _review(any_db, 500, 5)
    specs = []
    for n in range(12):
        specs.append(
            {
                "title": "Vector logo" if n % 3 == 0 else "Brand refresh",
                "description": "A logo and colours." if n % 3 else "Files.",
                "seller": 500 if n % 4 == 0 else 100,
                "category": "design" if n % 5 else "writing",
                "packages": [{"price": 1_000 * (n + 1), "days": 1 + n % 4}],
            }
        )
    await _services(any_db, *specs)
    expected = {}
    queries = [
        {"text": "logo"},
        {"text": "logo", "category": "design"},
        {"text": "logo", "max_days": 2},
        {"text": "logo", "min_price": 3_000, "max_price": 9_000},
    ]
    monkeypatch.setattr("storage.tiers.WALK_FROM", 10_000)
    for n, q in enumerate(queries):
        expected[n] = [await _search(any_db, **q, offset=o, limit=2) for o in range(0, 10, 2)]
    monkeypatch.setattr("storage.tiers.WALK_FROM", dense)
    for n, q in enumerate(queries):
        got = [await _search(any_db, **q, offset=o, limit=2) for o in range(0, 10, 2)]
        assert got == expected[n], q
    async with any_db.uow() as uow:
        hits, total = await uow.service_search.search(ServiceQuery(text="logo", limit=6))
    titles = [h.title for h in hits]
    assert total == 12 and titles == ["Vector logo"] * 4 + ["Brand refresh"] * 2  # tiers
    assert hits[0].seller_id == 500  # within a tier, the seller's record
