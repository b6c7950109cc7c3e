"""Services catalogue search: uow.service_search.search (storage/service_search.py) over
many seeded services — SQLite FTS5 against PostgreSQL tsvector, both through the
service index.

    .venv/bin/python -m bench services                        # 100,000 services: about a minute
    .venv/bin/python -m bench services --services 20000 --time-limit 2

Per database: a fresh database built by the migrations, then --services services
inserted in bulk (sellers, services with one to three packages, their service_index
rows — the FTS5 triggers and the generated tsvector index them as they would any
service — with sellers' records drawn from the seed), then ANALYZE (not timed). The
service published last has the best-matching title and its seller the best record
for the first query, and the run checks that the search puts it first.

One mix, the same on both databases, one query at a time, bounded by --time-limit
seconds (one unit of work per query, as in the bot; the viewer's blocks asked as in
/catalog): words (one or two, a few matching nothing), alone or with a category, a
price range, a delivery time, a minimum rating, verified; a category or filters
without words; first page mostly, page 2 or 3 sometimes; 5 a page. The figure to
watch: p95 under 20 ms on SQLite at 100,000 services (issue 15).
"""

from __future__ import annotations

import argparse
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from bench import market
from bench.support import (
    BEST_FIRST_ROW,
    SEED_ROW,
    MemoryPeak,
    add_database_options,
    add_mix_options,
    best_first_everywhere,
    conditions,
    fresh_database,
    memory_row,
    mix_figures,
    mix_rows,
    print_table,
    timed_loop,
    timed_seed,
    warm_up,
)
from bench.talent_bench import SHARED_STRENGTHS, STRENGTHS
from domain.catalog import ServiceQuery
from domain.talent import record_rank
from storage.database import Database
from storage.tables import service_index, service_packages, services, users

FIRST_SELLER = 10_000_000
CLIENT = 9_000_000
SERVICES_PER_SELLER = 5
BATCH = 5_000
PAGE = 5
T0 = datetime(2026, 1, 1, tzinfo=UTC)
CATEGORIES = ("development", "design", "writing", "marketing")
TIERS = ("basic", "standard", "premium")
PACKAGE_NAMES = {
    "basic": ("Starter", "Basic", "Essential"),
    "standard": ("Standard", "Business", "Plus"),
    "premium": ("Premium", "Pro", "Complete"),
}
INCLUDED = (
    "Two rounds of changes and the source files.",
    "A short call to agree on the details.",
    "Delivery in the formats you need.",
    "Commercial use included.",
    "A written report with next steps.",
    "Support for two weeks after delivery.",
    "Up to three pages or screens.",
    "Express delivery on request.",
)
QUERIES = (
    "logo",
    "telegram bot",
    "seo",
    "python",
    "landing page",
    "bakery",
    "illustrations",
    "newsletter",
    "stripe payments",
    "brand",
    "coffee shop",
    "blockchain",
)
BEST = "Async Python Telegram bot with Stripe payments"


def service_rows(
    service_id: int, seller_id: int, rng: random.Random, published: datetime, best: bool = False
) -> tuple[dict, list[dict], dict]:
    work, category, skills = (
        ("Telegram bot", "development", ("telegram-bots", "python"))
        if best
        else rng.choice([w for w in market.WORK if w[1] in CATEGORIES])
    )
    business = rng.choice(market.FOR)
    title = BEST if best else f"{work} for your {business}"
    description = " ".join([*rng.sample(STRENGTHS[category], 2), rng.choice(SHARED_STRENGTHS)])
    base = rng.randrange(10, 400) * 100
    days = rng.randint(1, 14)
    packages = []
    for n, tier in enumerate(TIERS[: 1 if best else rng.randint(1, 3)]):
        packages.append(
            {
                "service_id": service_id,
                "tier": tier,
                "name": rng.choice(PACKAGE_NAMES[tier]),
                "included": " ".join(rng.sample(INCLUDED, 2)),
                "price": base * (n + 1) * (1 + n),
                "delivery_days": max(1, days - n),
                "revisions": n + 1,
            }
        )
    service = {
        "id": service_id,
        "seller_id": seller_id,
        "title": title,
        "description": description,
        "category": category,
        "skills": list(skills),
        "status": "active",
        "currency": "USD",
        "questions": [],
        "samples": [],
        "created_at": published,
        "published_at": published,
        "updated_at": published,
    }
    body = "\n".join([description, *(f"{p['name']}\n{p['included']}" for p in packages)])
    index = {
        "service_id": service_id,
        "seller_id": seller_id,
        "category": category,
        "min_price": min(p["price"] for p in packages),
        "currency": "USD",
        "min_days": min(p["delivery_days"] for p in packages),
        "published_at": published,
        "title": title,
        "skills": " ".join(skills),
        "body": body,
    }
    return service, packages, index


def seller_record(rng: random.Random, best: bool) -> dict[str, Any]:
    ratings = 40 if best else rng.choice([0, 0, 0, 1, 2, 5, 12, 30])
    stars = 5.0 if best else rng.uniform(3.2, 5.0)
    rating_sum = round(stars * ratings)
    completed = 40 if best else max(0, ratings + rng.randint(-1, 3))
    completeness = 100 if best else rng.choice([35, 50, 70, 85, 100])
    return {
        "rating_x10": round(10 * rating_sum / ratings) if ratings else 0,
        "ratings": ratings,
        "completed": completed,
        "verified": best or rng.random() < 0.3,
        "rank": record_rank(rating_sum, ratings, completed, completeness),
    }


async def seed(db: Database, count: int, rng: random.Random) -> int:
    """`count` services in bulk; the last one is the best match. Returns its id."""
    sellers = max(1, -(-count // SERVICES_PER_SELLER))
    async with db.uow() as uow:
        await uow.session.execute(
            sa.insert(users),
            [{"id": CLIENT, "name": "Client", "language": "en", "is_client": True}],
        )
        await uow.session.execute(
            sa.insert(users),
            [
                {
                    "id": FIRST_SELLER + n,
                    "name": f"S{n}",
                    "language": "en",
                    "is_client": False,
                    "is_freelancer": True,
                    "banned": False,
                    "unreachable": False,
                }
                for n in range(sellers)
            ],
        )
        await uow.commit()
    records = [seller_record(rng, best=n == sellers - 1) for n in range(sellers)]
    last = count  # service ids 1..count; the seller of the last one has the best record
    for first in range(1, count + 1, BATCH):
        rows: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
        for sid in range(first, min(first + BATCH, count + 1)):
            best = sid == last
            seller = sellers - 1 if best else (sid - 1) // SERVICES_PER_SELLER
            published = T0 + timedelta(minutes=sid)
            service, packages, index = service_rows(
                sid, FIRST_SELLER + seller, rng, published, best
            )
            rows[0].append(service)
            rows[1].extend(packages)
            rows[2].append(index | records[seller])
        async with db.uow() as uow:
            for table, batch in zip((services, service_packages, service_index), rows, strict=True):
                await uow.session.execute(sa.insert(table), batch)
            await uow.commit()
    async with db.engine.connect() as conn:
        await conn.execute(sa.text("ANALYZE"))
        await conn.commit()
    return last


def catalog_mix(count: int, seed: int) -> list[ServiceQuery]:
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        kind = rng.random()
        text = rng.choice(QUERIES)
        category = rng.choice(CATEGORIES)
        offset = rng.choices([0, PAGE, 2 * PAGE], weights=[7, 2, 1])[0]
        if kind < 0.35:
            q = ServiceQuery(text=text)
        elif kind < 0.50:
            q = ServiceQuery(text=text, category=category)
        elif kind < 0.65:
            q = ServiceQuery(category=category)
        elif kind < 0.75:
            low = rng.randrange(10, 200) * 100
            q = ServiceQuery(text=rng.choice(["", text]), min_price=low, max_price=low * 3)
        elif kind < 0.83:
            q = ServiceQuery(text=rng.choice(["", text]), max_days=rng.choice([1, 3, 7]))
        elif kind < 0.90:
            q = ServiceQuery(text=rng.choice(["", text]), min_rating=Decimal("4.5"))
        elif kind < 0.96:
            q = ServiceQuery(text=rng.choice(["", text]), category=category, verified=True)
        else:
            q = ServiceQuery()
        found.append(replace(q, offset=offset, limit=PAGE, viewer_id=CLIENT))
    return found


async def search_step(uow: Any, query: ServiceQuery) -> None:
    page, _ = await uow.service_search.search(query)
    assert len(page) <= PAGE


async def check_best_first(db: Database, best: int) -> int:
    """1 when the service published last, the best match, comes first."""
    async with db.uow() as uow:
        page, _ = await uow.service_search.search(
            ServiceQuery(text="telegram bot stripe", viewer_id=CLIENT)
        )
    return int(bool(page) and page[0].service_id == best)


async def measure(backend: str, server: str | None, args: argparse.Namespace) -> dict[str, float]:
    searches = catalog_mix(args.queries, args.seed)
    async with fresh_database(backend, server) as db:
        best, seeded = await timed_seed(seed(db, args.services, random.Random(args.seed)))
        best_first = await check_best_first(db, best)
        await warm_up(db.uow, searches, search_step)
        with MemoryPeak(args.trace_memory) as memory:
            search = await timed_loop(db.uow, searches, args.time_limit, search_step)
            worded = [q for q in searches if q.text]
            words = await timed_loop(db.uow, worded, args.time_limit / 2, search_step)
    return {
        "seed": seeded,
        "best_first": best_first,
        **mix_figures("searches", search),
        **mix_figures("worded", words, "w_"),
        "memory": memory.megabytes,
    }


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--services", type=int, default=100_000, help="services seeded (default 100,000)"
    )
    add_mix_options(parser, queries=400, seconds=3, mix="the mix", runs="the mix runs")
    add_database_options(parser)


QUICK = ["--services", "10000", "--time-limit", "1"]


def report(args: argparse.Namespace, results: dict[str, dict[str, float]]) -> int:
    print_table(
        f"services: {args.services:,} services, {args.queries} distinct queries; "
        f"target p95 < 20 ms on SQLite ({conditions(args)})",
        results,
        [
            SEED_ROW,
            BEST_FIRST_ROW,
            *mix_rows("searches", "/catalog mix: queries"),
            *mix_rows("worded", "with words only: queries", "w_"),
            memory_row(args),
        ],
    )
    return best_first_everywhere(results)
