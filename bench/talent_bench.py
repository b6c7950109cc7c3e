"""Talent search and invite ranking: uow.talent.search and uow.talent.invite_candidates
(storage/talent_search.py) over many seeded freelancer profiles — SQLite FTS5 (bm25)
against PostgreSQL tsvector (ts_rank), both through the talent index.

    .venv/bin/python -m bench talent                         # 100,000 profiles: about a minute
    .venv/bin/python -m bench talent --profiles 20000 --time-limit 2

Per database: a fresh database built by the migrations, then --profiles freelancers
inserted in bulk (users, profiles — the FTS5 triggers and the generated tsvector
index them as they would any profile — their talent_index rows with records drawn
from the seed, and profile_skills), then ANALYZE (not timed). The freelancer
created last has the best-matching profile and record for the first query, and
the run checks that search and invite ranking both put them first.

Two mixes, the same on both databases, one query at a time, each bounded by
--time-limit seconds (one unit of work per query, as in the bot):
1. /talent: words (one or two, a few matching nothing), alone or with a category,
   skills, a rate range, a minimum rating, verified, available; filters without
   words; first page mostly, page 2 or 3 sometimes; 5 a page.
2. "Invite candidates": a job's 1–3 skills and category, 8 candidates.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import replace
from datetime import date, timedelta
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
from domain.entities import Job
from domain.states import JobStatus
from domain.talent import TalentQuery, record_rank
from storage.database import Database
from storage.skill_index import skill_values
from storage.tables import profile_skills, profiles, talent_index, users

FIRST_ID = 10_000_000
CLIENT = 9_000_000
BATCH = 5_000
PAGE = 5
TODAY = date(2026, 12, 6)
ROLES = {
    "development": ("Python developer", "Backend engineer", "Bot developer", "Web developer"),
    "design": ("Logo designer", "UI/UX designer", "Illustrator", "Brand designer"),
    "writing": ("Copywriter", "Technical writer", "Editor", "Content writer"),
    "marketing": ("SEO specialist", "SMM manager", "Email marketer", "Growth marketer"),
}
# Bio sentences per category and shared ones: words hit a realistic share of profiles.
STRENGTHS = {
    "development": (
        "Telegram bots with payments and admin panels.",
        "Stripe and PayPal integrations done right.",
        "PostgreSQL schemas, migrations and slow queries fixed.",
        "Async Python services that stay up.",
        "React front ends with clean state management.",
        "Scrapers and data pipelines on a schedule.",
        "Google Sheets and CRM integrations.",
        "Mobile apps in Flutter and React Native.",
        "Shopify and WooCommerce shops.",
        "Automated tests and CI for small teams.",
    ),
    "design": (
        "Logos that work small and large.",
        "Brand books with colours, fonts and voice.",
        "Figma prototypes you can click through.",
        "Illustrations for children's books and apps.",
        "Packaging for food and cosmetics.",
        "Pitch decks investors read to the end.",
        "Icons and UI kits for mobile apps.",
        "Posters and menus for cafes.",
        "Motion graphics for social media.",
        "Website redesigns that keep what works.",
    ),
    "writing": (
        "Blog articles that rank and read well.",
        "Product descriptions for online shops.",
        "User manuals and API documentation.",
        "Proofreading and editing in British English.",
        "Scripts for explainer videos.",
        "Newsletters people open.",
        "Grant applications and reports.",
        "Ghostwriting for founders on LinkedIn.",
        "Translation from Russian and German.",
        "Case studies from customer interviews.",
    ),
    "marketing": (
        "SEO audits with a clear action plan.",
        "Instagram and TikTok campaigns.",
        "Google Ads with honest reporting.",
        "Email funnels for online courses.",
        "Telegram channel growth without bots.",
        "Content plans for three months ahead.",
        "Influencer outreach in beauty and fitness.",
        "Analytics dashboards in Looker Studio.",
        "Landing page copy that converts.",
        "Community management in two languages.",
    ),
}
SHARED_STRENGTHS = tuple(
    f"{years} years of experience; {habit}"
    for years in ("Two", "Three", "Five", "Eight", "Ten")
    for habit in (
        "I answer within an hour.",
        "weekly reports included.",
        "long-term clients welcome.",
        "fixed prices, no surprises.",
        "available on weekends.",
    )
)
TALENT_QUERIES = (
    "python",
    "telegram bot",
    "logo",
    "seo",
    "designer",
    "copywriter",
    "stripe",
    "backend",
    "illustrator",
    "payments",
    "email",
    "blockchain",
)
BEST = "Async Python developer: Telegram bots with Stripe payments"


def profile_rows(
    user_id: int, rng: random.Random, best: bool = False
) -> tuple[dict, dict, dict, list[dict]]:
    category = "development" if best else rng.choice(list(ROLES))
    role = BEST if best else rng.choice(ROLES[category])
    business = rng.choice(market.FOR)
    headline = role if best else f"{role} for a {business}"
    bio = " ".join([*rng.sample(STRENGTHS[category], 2), rng.choice(SHARED_STRENGTHS)])
    pool = market.skills_of(category)
    skills = ["python", "telegram-bots", "backend"] if best else rng.sample(pool, rng.randint(1, 4))
    rate = rng.randrange(10, 120) * 100
    ratings = 40 if best else rng.choice([0, 0, 0, 1, 2, 5, 12, 30])
    stars = 5.0 if best else rng.uniform(3.2, 5.0)
    rating_sum = round(stars * ratings)
    completed = 40 if best else max(0, ratings + rng.randint(-1, 3))
    completeness = 100 if best else rng.choice([35, 50, 70, 85, 100])
    away = not best and rng.random() < 0.1
    user = {
        "id": user_id,
        "name": f"F{user_id}",
        "language": "en",
        "is_client": False,
        "is_freelancer": True,
        "banned": False,
        "unreachable": False,
    }
    profile = {
        "user_id": user_id,
        "headline": headline,
        "bio": bio,
        "category": category,
        "skills": skills,
        "tags": [],
        "hourly_rate": rate,
        "currency": "USD",
        "portfolio": [],
        "certifications": [],
        "availability": "away" if away else rng.choice(["available"] * 5 + ["busy"]),
        "away_until": TODAY + timedelta(days=rng.randint(-5, 20)) if away else None,
    }
    index = {
        "user_id": user_id,
        "listed": True,
        "category": category,
        "hourly_rate": rate,
        "availability": profile["availability"],
        "away_until": profile["away_until"],
        "rating_x10": round(10 * rating_sum / ratings) if ratings else 0,
        "ratings": ratings,
        "completed": completed,
        "completeness": completeness,
        "verified": best or rng.random() < 0.3,
        "rank": record_rank(rating_sum, ratings, completed, completeness),
    }
    copied = {"category": category, "rank": index["rank"]}  # as refresh_talent writes them
    skill_rows = [{"user_id": user_id, "skill": s, **copied} for s in skill_values(skills)]
    return user, profile, index, skill_rows


async def seed(db: Database, count: int, rng: random.Random) -> int:
    """`count` freelancers in bulk; the last one is the best match. Returns their id."""
    last = FIRST_ID + count - 1
    async with db.uow() as uow:
        await uow.session.execute(
            sa.insert(users),
            [{"id": CLIENT, "name": "Client", "language": "en", "is_client": True}],
        )
        await uow.commit()
    for first in range(FIRST_ID, last + 1, BATCH):
        rows: tuple[list[Any], list[Any], list[Any], list[Any]] = ([], [], [], [])
        for uid in range(first, min(first + BATCH, last + 1)):
            user, profile, index, skills = profile_rows(uid, rng, best=uid == last)
            rows[0].append(user)
            rows[1].append(profile)
            rows[2].append(index)
            rows[3].extend(skills)
        async with db.uow() as uow:
            for table, batch in zip(
                (users, profiles, talent_index, profile_skills), rows, strict=True
            ):
                await uow.session.execute(sa.insert(table), batch)
            await uow.commit()
    async with db.engine.connect() as conn:
        await conn.execute(sa.text("ANALYZE"))
        await conn.commit()
    return last


def talent_mix(count: int, seed: int) -> list[TalentQuery]:
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        kind = rng.random()
        text = rng.choice(TALENT_QUERIES)
        category = rng.choice(list(ROLES))
        offset = rng.choices([0, PAGE, 2 * PAGE], weights=[7, 2, 1])[0]
        if kind < 0.35:
            q = TalentQuery(text=text)
        elif kind < 0.50:
            q = TalentQuery(text=text, category=category)
        elif kind < 0.62:
            q = TalentQuery(category=category)
        elif kind < 0.72:
            q = TalentQuery(skills=(rng.choice(market.skills_of(category)),))
        elif kind < 0.80:
            low = rng.randrange(10, 60) * 100
            q = TalentQuery(text=rng.choice(["", text]), min_rate=low, max_rate=low + 3000)
        elif kind < 0.88:
            q = TalentQuery(text=rng.choice(["", text]), min_rating=Decimal("4.5"))
        elif kind < 0.96:
            q = TalentQuery(text=rng.choice(["", text]), verified=True, available=True)
        else:
            q = TalentQuery()
        found.append(replace(q, offset=offset, limit=PAGE, today=TODAY, viewer_id=CLIENT))
    return found


def job_mix(count: int, seed: int) -> list[Job]:
    rng = random.Random(seed + 1)
    found = []
    for n in range(count):
        category = rng.choice(list(ROLES))
        skills = rng.sample(market.skills_of(category), rng.randint(1, 3))
        found.append(
            Job(
                id=n + 1,  # no such job: no invitations or pitches to leave out
                client_id=CLIENT,
                title="t",
                category=category,
                skills=skills,
                status=JobStatus.OPEN,
            )
        )
    return found


async def search_step(uow: Any, query: TalentQuery) -> None:
    page, _ = await uow.talent.search(query)
    assert len(page) <= PAGE


async def invite_step(uow: Any, job: Job) -> None:
    found = await uow.talent.invite_candidates(job, CLIENT, TODAY)
    assert len(found) <= 8


async def check_best_first(db: Database, best: int) -> int:
    """1 when the freelancer created last, the best match, comes first in both."""
    async with db.uow() as uow:
        page, _ = await uow.talent.search(
            TalentQuery(text="python telegram", today=TODAY, viewer_id=CLIENT)
        )
        job = Job(
            id=1,
            client_id=CLIENT,
            title="t",
            category="development",
            skills=["python", "telegram-bots", "backend"],
            status=JobStatus.OPEN,
        )
        invite = await uow.talent.invite_candidates(job, CLIENT, TODAY)
    return int(bool(page) and page[0].user_id == best and invite[0].user_id == best)


async def measure(backend: str, server: str | None, args: argparse.Namespace) -> dict[str, float]:
    searches = talent_mix(args.queries, args.seed)
    jobs = job_mix(args.queries, args.seed)
    async with fresh_database(backend, server) as db:
        best, seeded = await timed_seed(seed(db, args.profiles, random.Random(args.seed)))
        best_first = await check_best_first(db, best)
        await warm_up(db.uow, searches, search_step)
        with MemoryPeak(args.trace_memory) as memory:
            search = await timed_loop(db.uow, searches, args.time_limit, search_step)
            invite = await timed_loop(db.uow, jobs, args.time_limit, invite_step)
    return {
        "seed": seeded,
        "best_first": best_first,
        **mix_figures("searches", search),
        **mix_figures("invites", invite, "inv_"),
        "memory": memory.megabytes,
    }


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profiles", type=int, default=100_000, help="freelancers seeded (default 100,000)"
    )
    add_mix_options(parser, queries=400, seconds=3, mix="each mix", runs="each mix runs")
    add_database_options(parser)


QUICK = ["--profiles", "10000", "--time-limit", "1"]


def report(args: argparse.Namespace, results: dict[str, dict[str, float]]) -> int:
    print_table(
        f"talent: {args.profiles:,} profiles, {args.queries} distinct queries each "
        f"({conditions(args)})",
        results,
        [
            SEED_ROW,
            BEST_FIRST_ROW,
            *mix_rows("searches", "/talent: queries"),
            *mix_rows("invites", "invite candidates: queries", "inv_"),
            memory_row(args),
        ],
    )
    return best_first_everywhere(results)
