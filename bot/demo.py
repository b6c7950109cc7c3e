"""Demo data for the local sandbox: `gigbot sandbox --demo` (and `make sandbox`).

`seed(runtime)` is called by bot.app.Runtime once the sandbox is up. It fills
the marketplace through the domain use cases (so every rule holds, and the
notifications they cause are rendered into the outbox like any other):

- the web chat's personas: Clara (1001) a client with two open jobs, Felix
  (1002) a freelancer with a broad instant job alert (Development and Design);
- four demo freelancers with full profiles (headline, bio, taxonomy skills,
  rate, portfolio, certifications) and alert subscriptions;
- two demo clients with open jobs, so browse and search have something to show;
- pitches by demo freelancers, one of them on Clara's job, so Clara has a pitch
  to look at as soon as the page opens;
- three published services by demo freelancers, so /catalog has something to show.

Every person is also a user of the Bot API emulator, with the chat already
open, so notifications reach them (instead of a 403 that would mark them
unreachable) and each has a column on the web page.

Idempotent: each item is looked up by its natural key (user id, a client's job
title, one pitch per job and freelancer, one subscription per person, a seller's
service title) and only what is missing is added, so running it on every start adds
nothing new.
Ada (1003) is not seeded: who is an admin is the operator's setting
(GIGBOT_ADMIN_IDS), not data.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from domain.config import MarketConfig
from domain.entities import Job
from domain.money import exponent
from domain.ports import Clock, PaymentGateway, UnitOfWork
from domain.usecases import accounts, alerts, jobs, pitches, profiles, services
from domain.usecases.alerts import SubscriptionFields
from handlers.system import SystemRunner
from storage.database import Database

log = logging.getLogger(__name__)

CLARA, FELIX, ADA = 1001, 1002, 1003  # the web chat's personas (webchat/app.js PERSONAS)


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    username: str


@dataclass(frozen=True)
class DemoFreelancer(Person):
    headline: str
    bio: str
    category: str
    skills: tuple[str, ...]  # taxonomy slugs
    tags: tuple[str, ...]  # free tags
    hourly_rate: int  # whole units of the marketplace currency
    years: int
    portfolio: tuple[str, ...]
    certifications: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoJob:
    title: str
    description: str
    category: str
    skills: tuple[str, ...]
    budget_type: str  # "fixed" or "hourly"
    budget: int  # whole units of the marketplace currency
    deadline_days: int | None = None  # from the day of seeding


@dataclass(frozen=True)
class DemoClient(Person):
    jobs: tuple[DemoJob, ...] = ()


@dataclass(frozen=True)
class DemoAlert:
    categories: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    min_budget: int = 0  # whole units


@dataclass(frozen=True)
class DemoPitch:
    freelancer_id: int
    client_id: int
    job_title: str
    cover_letter: str
    price: int  # whole units (the hourly rate on an hourly job)
    duration_days: int
    milestones: tuple[tuple[str, int], ...] = ()  # (title, whole units)


@dataclass(frozen=True)
class DemoService:
    seller_id: int
    title: str
    description: str
    category: str
    skills: tuple[str, ...]
    # (name, what is included, price in whole units, delivery days, revisions)
    packages: tuple[tuple[str, str, int, int, int], ...]
    extras: tuple[tuple[str, int, int], ...] = ()  # (title, whole units, days delta)
    questions: tuple[str, ...] = ()


# --- the data --------------------------------------------------------------------

PERSONAS = (
    Person(CLARA, "Clara (client)", "clara_client"),
    Person(FELIX, "Felix (freelancer)", "felix_freelancer"),
    Person(ADA, "Ada (admin)", "ada_admin"),
)

FREELANCERS = (
    DemoFreelancer(
        2001,
        "Priya Raman",
        "priya_codes",
        headline="Python backend developer · Telegram bots and APIs",
        bio="Eight years of Python: aiogram bots, FastAPI services and the "
        "PostgreSQL behind them. I write tests first and ship small.",
        category="development",
        skills=("python", "telegram-bots", "backend", "databases"),
        tags=("aiogram", "fastapi"),
        hourly_rate=55,
        years=8,
        portfolio=("https://github.com/priya-demo", "https://priya.example.com/cases"),
        certifications=("AWS Certified Developer",),
    ),
    DemoFreelancer(
        2002,
        "Mateo García",
        "mateo_design",
        headline="Brand identity and logo designer",
        bio="Logos, brand books and UI kits for start-ups. Three concepts, "
        "two rounds of changes, source files included.",
        category="design",
        skills=("logo-design", "branding", "ui-ux"),
        tags=("figma",),
        hourly_rate=40,
        years=6,
        portfolio=("https://dribbble.com/mateo-demo", "https://www.behance.net/mateo-demo"),
    ),
    DemoFreelancer(
        2003,
        "Hannah Weber",
        "hannah_writes",
        headline="Technical writer and English–German translator",
        bio="Docs, API references and release notes people actually read; "
        "German localization of apps and sites.",
        category="writing",
        skills=("technical-writing", "copywriting", "editing-proofreading"),
        tags=("docs-as-code",),
        hourly_rate=45,
        years=10,
        portfolio=("https://hannah.example.com/portfolio",),
        certifications=("tekom Technical Communicator",),
    ),
    DemoFreelancer(
        2004,
        "Kenji Sato",
        "kenji_data",
        headline="Data analyst · dashboards, SQL and web scraping",
        bio="I turn spreadsheets and scraped data into dashboards your team "
        "opens every morning. Python, SQL, Metabase.",
        category="data",
        skills=("data-analysis", "sql", "dashboards", "web-scraping"),
        tags=("pandas", "metabase"),
        hourly_rate=50,
        years=5,
        portfolio=("https://kenji.example.com/dashboards",),
    ),
)

CLIENTS = (
    DemoClient(
        CLARA,
        "Clara (client)",
        "clara_client",
        jobs=(
            DemoJob(
                "Telegram bot for booking yoga classes",
                "A bot where students see the week's classes, book a spot and get a "
                "reminder an hour before. Admin commands to add classes. Python preferred.",
                "development",
                ("python", "telegram-bots"),
                "fixed",
                800,
                deadline_days=30,
            ),
            DemoJob(
                "Logo for a yoga studio",
                "A calm, modern logo for a small yoga studio called Sunrise Flow. "
                "Three concepts, then refine one; vector files at the end.",
                "design",
                ("logo-design", "branding"),
                "fixed",
                300,
                deadline_days=14,
            ),
        ),
    ),
    DemoClient(
        3001,
        "Olivia Brooks",
        "olivia_shop",
        jobs=(
            DemoJob(
                "Sales dashboard from Shopify exports",
                "Weekly CSV exports from our shop should become a dashboard: revenue, "
                "repeat customers, best sellers. Metabase or similar.",
                "data",
                ("dashboards", "data-analysis", "sql"),
                "fixed",
                600,
                deadline_days=21,
            ),
            DemoJob(
                "Product descriptions for 40 items",
                "Short, friendly product descriptions (80-120 words each) for a shop "
                "of handmade ceramics. Brief and photos provided.",
                "writing",
                ("copywriting",),
                "fixed",
                350,
            ),
        ),
    ),
    DemoClient(
        3002,
        "Noah Fischer",
        "noah_startup",
        jobs=(
            DemoJob(
                "Backend developer for a REST API (ongoing)",
                "We need help extending our Python REST API: new endpoints, tests and "
                "PostgreSQL migrations. About 10 hours a week.",
                "development",
                ("python", "backend", "databases"),
                "hourly",
                50,
            ),
            DemoJob(
                "Translate our app into German",
                "About 1,200 strings of a mobile app (JSON files) into German, with a "
                "consistent glossary. Context screenshots provided.",
                "translation",
                ("german", "localization"),
                "fixed",
                400,
                deadline_days=20,
            ),
        ),
    ),
)

ALERTS: dict[int, DemoAlert] = {
    # Felix gets (almost) everything a new demo user would post.
    FELIX: DemoAlert(categories=("development", "design")),
    2001: DemoAlert(skills=("python", "telegram-bots", "backend")),
    2002: DemoAlert(categories=("design",)),
    2003: DemoAlert(categories=("writing", "translation"), keywords=("docs", "german")),
    2004: DemoAlert(skills=("data-analysis", "dashboards", "sql"), min_budget=200),
}

PITCHES = (
    DemoPitch(
        2001,
        CLARA,
        "Telegram bot for booking yoga classes",
        "Hi Clara! I have built three booking bots with aiogram, one for a fitness "
        "studio. I would start with the schedule and booking, then reminders and admin "
        "commands. Tests and a short handover doc included.",
        750,
        21,
        milestones=(("Schedule and booking", 450), ("Reminders and admin commands", 300)),
    ),
    DemoPitch(
        2002,
        CLARA,
        "Logo for a yoga studio",
        "Hello! Sunrise Flow sounds lovely. I would sketch three directions (sun, "
        "breath, movement), refine your favourite twice and deliver SVG, PNG and a "
        "one-page brand sheet.",
        280,
        10,
    ),
    DemoPitch(
        2004,
        3001,
        "Sales dashboard from Shopify exports",
        "I have set up Metabase for two online shops. I would load the CSVs into "
        "PostgreSQL with a small import script, then build the three views you "
        "listed plus a cohort chart.",
        600,
        14,
    ),
    DemoPitch(
        2003,
        3002,
        "Translate our app into German",
        "Native German speaker and localization specialist. I keep a glossary and "
        "style guide, check plurals and placeholders, and review strings in context.",
        380,
        12,
    ),
)

# Services in the catalogue (/catalog), published by the demo freelancers.
SERVICES = (
    DemoService(
        2001,
        "A Telegram bot for orders, with payments",
        "Your customers order and pay in Telegram; you get each order in a chat at once. "
        "aiogram and PostgreSQL, tested, with a short guide to run it.",
        "development",
        ("telegram-bots", "python"),
        (
            ("Simple bot", "A menu, an order form and orders sent to your chat.", 150, 5, 1),
            ("Shop bot", "The simple bot plus a catalogue and Stripe payments.", 400, 10, 2),
            ("Shop and admin", "The shop bot plus an admin panel and reports.", 800, 14, 3),
        ),
        extras=(("Delivery 3 days sooner", 100, -3), ("Hosting set up for you", 60, 1)),
        questions=("What should the bot sell, and to whom?",),
    ),
    DemoService(
        2002,
        "A logo for your cafe, shop or start-up",
        "A simple, memorable logo that works on a cup, a sign and a phone screen. "
        "Vector files and a one-page guide to its colours and fonts.",
        "design",
        ("logo-design", "branding"),
        (
            ("One concept", "One logo concept, PNG and SVG.", 50, 3, 1),
            ("Three concepts", "Three concepts to choose from, all files.", 120, 5, 3),
            ("Brand kit", "Logo, colours, fonts, business card and menu.", 300, 7, 5),
        ),
        extras=(("Source files (AI, Figma)", 20, 0),),
        questions=("Your business's name, and what it sells?",),
    ),
    DemoService(
        2003,
        "Product descriptions that sell",
        "Clear, friendly descriptions for your online shop, checked for SEO.",
        "writing",
        ("copywriting",),
        (
            ("10 products", "Ten descriptions of up to 120 words.", 40, 2, 1),
            ("30 products", "Thirty descriptions and a style sheet.", 110, 5, 2),
        ),
    ),
)


# --- seeding ---------------------------------------------------------------------


def _minor(whole: int, currency: str) -> int:
    return whole * 10 ** exponent(currency)


async def seed(runtime: Any) -> None:
    """Seed the running sandbox (a bot.app.Runtime after start-up)."""
    settings = runtime.settings
    config: MarketConfig = settings.market_config()
    added = await seed_data(
        runtime.database,
        runtime.clock,
        config,
        emulator=runtime.emulator,
        gateway=runtime.payments.gateway,
        public_url=settings.public_url,
    )
    sender = getattr(runtime, "sender", None)
    if sender is not None:
        sender.wake()  # deliver the seeded notifications now, not at the next poll
    what = ", ".join(f"{n} {k}" for k, n in added.items() if n) or "nothing new"
    runtime.announce(f"Demo data: {what}.")


async def seed_data(
    database: Database,
    clock: Clock,
    config: MarketConfig,
    *,
    emulator: Any = None,
    gateway: PaymentGateway | None = None,
    public_url: str = "http://127.0.0.1:8080",
) -> dict[str, int]:
    """Add whatever demo data is missing; returns how many of each kind were added."""
    if emulator is not None:
        add_emulator_users(emulator)
    runner = SystemRunner(database.uow, clock, config, gateway=gateway, public_url=public_url)
    # What to add, in this order (alerts before the jobs, so publishing the jobs
    # sends their first alerts): each item's step returns 1 if it added the item.
    steps: list[tuple[str, Iterable[Any], Callable[[UnitOfWork, Any], Awaitable[int]]]] = [
        ("users", _people_and_roles(), lambda uow, pr: _user(uow, clock, *pr)),
        ("profiles", FREELANCERS, lambda uow, f: _profile(uow, clock, config, f)),
        ("alerts", ALERTS.items(), lambda uow, ua: _alert(uow, clock, config, *ua)),
        (
            "jobs",
            [(c.id, j) for c in CLIENTS for j in c.jobs],
            lambda uow, cj: _job(uow, clock, config, *cj),
        ),
        ("pitches", PITCHES, lambda uow, p: _pitch(uow, clock, config, p)),
        ("services", SERVICES, lambda uow, sv: _service(uow, clock, config, sv)),
    ]
    added: dict[str, int] = {}
    for kind, items, step in steps:
        added[kind] = 0
        for item in items:
            # One transaction per item: what is seeded is visible (and notified) step by step.
            added[kind] += await runner.run(
                lambda uow, s=step, i=item: s(uow, i), what=f"demo {kind.removesuffix('s')}"
            )
    log.info("demo data added: %s", added)
    return added


def add_emulator_users(emulator: Any) -> None:
    """Everyone gets an emulator user with the chat open (as if they had pressed Start)."""
    people: list[Person] = [*PERSONAS, *FREELANCERS, *(c for c in CLIENTS if c.id != CLARA)]
    for person in people:
        if person.id not in emulator.users:
            emulator.add_user(
                person.name, user_id=person.id, username=person.username, started=True
            )


def _people_and_roles() -> list[tuple[Person, str]]:
    return [
        (PERSONAS[0], "client"),
        (PERSONAS[1], "freelancer"),
        *((f, "freelancer") for f in FREELANCERS),
        *((c, "client") for c in CLIENTS if c.id != CLARA),
    ]


async def _user(uow: UnitOfWork, clock: Clock, person: Person, role: str) -> int:
    """Register the person with `role`; an existing user keeps what they chose."""
    _, created = await accounts.register_user(
        uow, clock, person.id, person.name, person.username, "en"
    )
    if created:
        await accounts.add_role(uow, clock, person.id, role)
    return int(created)


async def _profile(uow: UnitOfWork, clock: Clock, config: MarketConfig, f: DemoFreelancer) -> int:
    if await uow.profiles.get(f.id) is not None:
        return 0
    fields = profiles.ProfileFields(
        headline=f.headline,
        bio=f.bio,
        category=f.category,
        skills=[*f.skills, *f.tags],
        hourly_rate=_minor(f.hourly_rate, config.currency),
        years_experience=f.years,
        portfolio=list(f.portfolio),
        certifications=list(f.certifications),
    )
    await profiles.update_profile(uow, clock, config, f.id, fields)
    return 1


async def _alert(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, user_id: int, alert: DemoAlert
) -> int:
    """One instant subscription per person, unless they have one already."""
    if await uow.subscriptions.count(user_id=user_id):
        return 0
    user = await uow.users.get(user_id)
    if user is None or not user.is_freelancer:
        return 0  # the person chose another role since: no alert for them
    fields = SubscriptionFields(
        categories=alert.categories,
        skills=alert.skills,
        keywords=alert.keywords,
        min_budget=_minor(alert.min_budget, config.currency),
        mode="instant",
    )
    await alerts.create_subscription(uow, clock, user_id, fields)
    return 1


async def _find_job(uow: UnitOfWork, client_id: int, title: str) -> Job | None:
    found = await uow.jobs.find(limit=1, client_id=client_id, title=title)
    return found[0] if found else None


async def _job(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, client_id: int, job: DemoJob
) -> int:
    if await _find_job(uow, client_id, job.title) is not None:
        return 0
    user = await uow.users.get(client_id)
    if user is None or not user.is_client:
        return 0  # the persona chose to be a freelancer only: no jobs for them
    deadline = None
    if job.deadline_days is not None:
        deadline = clock.now().date() + timedelta(days=job.deadline_days)
    fields = jobs.JobFields(
        title=job.title,
        description=job.description,
        category=job.category,
        skills=job.skills,
        budget_type=job.budget_type,
        budget=_minor(job.budget, config.currency),
        deadline=deadline,
    )
    draft = await jobs.post_job(uow, clock, config, client_id, fields)
    assert draft.id is not None
    await jobs.publish_job(uow, clock, client_id, draft.id)
    return 1


async def _pitch(uow: UnitOfWork, clock: Clock, config: MarketConfig, pitch: DemoPitch) -> int:
    job = await _find_job(uow, pitch.client_id, pitch.job_title)
    if job is None or job.id is None:
        return 0
    if await uow.pitches.count(job_id=job.id, freelancer_id=pitch.freelancer_id):
        return 0
    fields = pitches.PitchFields(
        pitch.cover_letter,
        _minor(pitch.price, config.currency),
        pitch.duration_days,
        [{"title": t, "amount": _minor(a, config.currency)} for t, a in pitch.milestones],
    )
    await pitches.submit_pitch(uow, clock, config, pitch.freelancer_id, job.id, fields)
    return 1


async def _service(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, service: DemoService
) -> int:
    """A published service, unless the seller has one of that title (or is no
    freelancer any more)."""
    user = await uow.users.get(service.seller_id)
    if user is None or not user.is_freelancer:
        return 0
    mine = await uow.services.of_seller(service.seller_id, live_only=False)
    if any(s.title == service.title for s in mine):
        return 0
    fields = services.ServiceFields(
        title=service.title,
        description=service.description,
        category=service.category,
        skills=service.skills,
        packages=tuple(
            services.PackageFields(name, included, _minor(price, config.currency), days, revs)
            for name, included, price, days, revs in service.packages
        ),
        extras=tuple(
            services.ExtraFields(title, _minor(price, config.currency), delta)
            for title, price, delta in service.extras
        ),
        questions=service.questions,
    )
    created = await services.create_service(uow, clock, config, service.seller_id, fields)
    assert created.id is not None
    await services.publish_service(uow, clock, service.seller_id, created.id)
    return 1
