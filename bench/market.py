"""A deterministic synthetic marketplace for the benchmarks: users, job texts
that read like real ones (so full-text queries hit a realistic share of them),
and seeding through the use cases.

Everything is drawn from a `random.Random(seed)`, so the same seed gives the
same jobs, queries and scripts on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from domain import taxonomy
from domain.config import MarketConfig
from domain.entities import User
from domain.ports import Clock
from domain.usecases import alerts, jobs
from storage.database import Database

# (what is needed, category, skills): the head of a job title.
WORK: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Telegram bot", "development", ("telegram-bots", "python")),
    ("Booking bot", "development", ("telegram-bots", "backend")),
    ("Python script", "development", ("python", "databases")),
    ("REST API", "development", ("backend", "python")),
    ("Mobile app", "development", ("mobile-apps", "typescript")),
    ("Landing page", "development", ("web-development", "javascript")),
    ("Online shop", "development", ("web-development", "databases")),
    ("Logo", "design", ("logo-design", "branding")),
    ("Brand identity", "design", ("branding", "logo-design")),
    ("App UI design", "design", ("ui-ux", "web-design")),
    ("Illustrations", "design", ("illustration",)),
    ("Pitch deck", "design", ("presentation-design",)),
    ("Blog articles", "writing", ("blog-articles", "copywriting")),
    ("Product descriptions", "writing", ("copywriting",)),
    ("User manual", "writing", ("technical-writing", "editing-proofreading")),
    ("SEO audit", "marketing", ("seo",)),
    ("Instagram campaign", "marketing", ("social-media", "paid-ads")),
    ("Newsletter", "marketing", ("email-marketing", "content-strategy")),
    ("Channel growth", "marketing", ("telegram-channels", "social-media")),
)
FOR = (
    "bakery",
    "coffee shop",
    "dental clinic",
    "yoga studio",
    "law firm",
    "bike repair shop",
    "flower delivery",
    "language school",
    "craft brewery",
    "pet grooming salon",
    "real estate agency",
    "fitness club",
    "bookstore",
    "hotel",
    "car wash",
    "startup",
    "charity",
    "podcast",
    "restaurant",
    "kindergarten",
)
DETAILS = (
    "We need it to work on phones first.",
    "Orders should reach our manager within a minute.",
    "Please keep the design clean and friendly.",
    "A short weekly report would help us a lot.",
    "We already have a domain name and hosting.",
    "The text should be in simple English.",
    "Payments go through Stripe.",
    "Our customers are mostly students and young families.",
    "It must integrate with Google Sheets.",
    "We want something modern but not flashy.",
    "The deadline is flexible for the right person.",
    "Experience with similar projects is a plus.",
)
# Words a freelancer types into search: most hit some jobs, a few hit nothing.
QUERIES = (
    "telegram",
    "bot",
    "logo",
    "bakery",
    "python",
    "landing page",
    "seo",
    "design",
    "shop",
    "booking bot",
    "coffee",
    "articles",
    "stripe",
    "mobile",
    "clinic",
    "brand",
    "newsletter",
    "api",
    "illustrations hotel",
    "blockchain",
)


@dataclass(frozen=True)
class JobText:
    title: str
    description: str
    category: str
    skills: tuple[str, ...]
    budget_type: str
    budget: int  # minor units: the whole budget or the hourly rate


def job_text(rng: random.Random) -> JobText:
    work, category, skills = rng.choice(WORK)
    business = rng.choice(FOR)
    title = f"{work} for a {business}"
    details = " ".join(rng.sample(DETAILS, 2))
    description = f"We are a small {business} looking for help with a {work.lower()}. {details}"
    hourly = rng.random() < 0.25
    budget = rng.randrange(15, 80) * 100 if hourly else rng.randrange(50, 3000) * 100
    return JobText(title, description, category, skills, "hourly" if hourly else "fixed", budget)


def skills_of(category: str) -> list[str]:
    found = next(c for c in taxonomy.CATEGORIES if c.slug == category)
    return [s.slug for s in found.skills]


async def add_users(
    db: Database,
    clock: Clock,
    ids: range,
    *,
    client: bool = False,
    freelancer: bool = False,
) -> None:
    async with db.uow() as uow:
        for uid in ids:
            await uow.users.add(
                User(
                    id=uid,
                    name=f"user {uid}",
                    is_client=client,
                    is_freelancer=freelancer,
                    created_at=clock.now(),
                )
            )
        await uow.commit()


async def publish_jobs(
    db: Database,
    clock: Clock,
    config: MarketConfig,
    clients: list[int],
    count: int,
    rng: random.Random,
    batch: int = 100,
) -> list[int]:
    """`count` open jobs posted and published through the use cases, `batch` a transaction."""
    ids: list[int] = []
    while len(ids) < count:
        async with db.uow() as uow:
            for _ in range(min(batch, count - len(ids))):
                text = job_text(rng)
                client = rng.choice(clients)
                fields = jobs.JobFields(
                    title=text.title,
                    description=text.description,
                    category=text.category,
                    skills=text.skills,
                    budget_type=text.budget_type,
                    budget=text.budget,
                )
                draft = await jobs.post_job(uow, clock, config, client, fields)
                assert draft.id is not None
                await jobs.publish_job(uow, clock, client, draft.id)
                ids.append(draft.id)
            await uow.commit()
    return ids


async def subscribe(db: Database, clock: Clock, freelancers: list[int], rng: random.Random) -> None:
    """One instant alert each, on a random category: publishing fans out to them."""
    async with db.uow() as uow:
        for uid in freelancers:
            category = rng.choice(taxonomy.CATEGORIES).slug
            fields = alerts.SubscriptionFields(categories=[category], mode="instant")
            await alerts.create_subscription(uow, clock, uid, fields)
        await uow.commit()
