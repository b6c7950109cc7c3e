"""The services catalogue in the sandbox's web chat, in headless Chromium (issue 15):
Felix and Olga publish services through the use cases; Clara opens /catalog, picks a
category, sees the ranked page with its filters, and opens a service's card with its
packages as buttons. Pictures of her column go to tests/artifacts/ (kept by CI) and,
with GIGBOT_UPDATE_SCREENSHOT=1, to docs/catalog.png, docs/catalog-results.png and
docs/service-card.png (docs/features.md shows them)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from bot.app import Runtime
from domain.entities import IdentityVerification, Job
from domain.ports import UnitOfWork
from domain.states import JobStatus, ReviewStatus
from domain.usecases import accounts
from domain.usecases import services as svc
from handlers.system import SystemRunner
from tests.browser.test_webchat import (
    ARTIFACTS,
    FELIX,
    ROOT,
    TIMEOUT_MS,
    button,
    column,
    running_sandbox,
    send,
)
from tests.records import add_reviewed_contract

OLGA, DORA = 1_000_777, 1_000_778
PICTURES = ("catalog.png", "catalog-results.png", "service-card.png")

SERVICES = [
    (
        FELIX,
        svc.ServiceFields(
            title="A logo for your bakery or coffee shop",
            description=(
                "A simple, memorable logo that works on a cup, a sign and a phone screen. "
                "You get vector files and a short guide to the colours and fonts."
            ),
            category="design",
            skills=("logo-design", "branding"),
            packages=(
                svc.PackageFields("One concept", "One logo concept, PNG and SVG.", 5_000, 3, 1),
                svc.PackageFields(
                    "Three concepts", "Three concepts to choose from, all files.", 12_000, 5, 3
                ),
                svc.PackageFields(
                    "Brand kit", "Logo, colours, fonts, business card and menu.", 30_000, 7, 5
                ),
            ),
            extras=(svc.ExtraFields("Delivery a day sooner", 2_000, -1),),
        ),
    ),
    (
        OLGA,
        svc.ServiceFields(
            title="Logo animation for social media",
            description="Your logo comes alive in a 5-second animation for Reels and Stories.",
            category="design",
            skills=("motion-graphics",),
            packages=(svc.PackageFields("Animation", "One 5-second MP4 and a GIF.", 8_000, 4, 2),),
        ),
    ),
    (
        OLGA,
        svc.ServiceFields(
            title="Menu and poster design for a cafe",
            description="A menu that is easy to read and a poster for the window. Print-ready.",
            category="design",
            skills=("illustration",),
            packages=(
                svc.PackageFields("Menu", "A one-page menu, print-ready PDF.", 6_000, 3, 2),
                svc.PackageFields("Menu + poster", "The menu and an A2 poster.", 10_000, 5, 2),
            ),
        ),
    ),
    (
        FELIX,
        svc.ServiceFields(
            title="Telegram bot for orders with Stripe payments",
            description="Customers order and pay in Telegram; you get every order at once.",
            category="development",
            skills=("telegram-bots", "python"),
            packages=(svc.PackageFields("Bot", "Orders, payments, an admin chat.", 40_000, 10, 2),),
        ),
    ),
]


async def publish_services(runtime: Runtime) -> None:
    """Felix and Olga as sellers with published services, through the use cases."""
    runtime.emulator.add_user("Felix (freelancer)", user_id=FELIX, started=True)
    assert runtime.database is not None
    config = runtime.settings.market_config()
    runner = SystemRunner(runtime.database.uow, runtime.clock, config)

    async def setup(uow: UnitOfWork) -> None:
        for uid, name in ((FELIX, "Felix"), (OLGA, "Olga")):
            await accounts.register_user(uow, runtime.clock, uid, name)
            await accounts.add_role(uow, runtime.clock, uid, "freelancer")
        for seller, fields in SERVICES:
            service = await svc.create_service(uow, runtime.clock, config, seller, fields)
            assert service.id is not None
            await svc.publish_service(uow, runtime.clock, seller, service.id)
        await give_felix_a_record(uow, runtime)

    async def reveal(uow: UnitOfWork) -> None:  # as reviews are: revealed later
        for review in await uow.reviews.find(reviewee_id=FELIX):
            review.status = ReviewStatus.REVEALED

    await runner.run(setup, what="catalogue screenshots setup")
    await runner.run(reveal, what="catalogue screenshots reviews")


async def give_felix_a_record(uow: UnitOfWork, runtime: Runtime) -> None:
    """Two ended contracts with 5★ reviews and a verified identity: Felix's record, which
    ranks his services first and shows on the result lines (the index follows it)."""
    await accounts.register_user(uow, runtime.clock, DORA, "Dora")
    await accounts.add_role(uow, runtime.clock, DORA, "client")
    job = await uow.jobs.add(Job(client_id=DORA, title="Logos", status=JobStatus.CLOSED))
    assert job.id is not None
    for _ in range(2):
        await add_reviewed_contract(uow, job.id, DORA, FELIX, 5, title="Logos")
    await uow.verifications.add(
        IdentityVerification(user_id=FELIX, gateway="sandbox", status="verified")
    )


async def test_clara_browses_the_catalogue_and_opens_a_card(browser, tmp_path: Path):
    from playwright.async_api import expect

    async with running_sandbox(tmp_path / "catalog.db") as runtime:
        await publish_services(runtime)
        page = await browser.new_page(viewport={"width": 1440, "height": 1400})
        page.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            await page.goto(f"{runtime.url}/")
            clara = column(page, "Clara")
            await send(clara, "/start")
            await expect(clara.locator(".msg.in").last).to_contain_text("Welcome to Gigbot")
            await button(clara, "I hire (client)").click()
            await expect(clara).to_contain_text("You're set up as a client")

            await send(clara, "/catalog")
            home = clara.locator(".msg.in", has_text="Services catalogue").last
            await expect(home).to_contain_text("4 services")
            await home.screenshot(path=str(ARTIFACTS / PICTURES[0]))

            await button(clara, re.compile(r"^Design$")).click()
            results = clara.locator(".msg.in", has_text="Services found: 3").last
            await expect(results).to_contain_text("A logo for your bakery")
            await results.screenshot(path=str(ARTIFACTS / PICTURES[1]))

            await button(clara, re.compile(r"A logo for your bakery")).click()
            card = clara.locator(".msg.in", has_text="Brand kit").last
            await expect(card).to_contain_text("Delivery a day sooner")
            await expect(card.locator(".keyboard button").first).to_be_visible()
            await card.screenshot(path=str(ARTIFACTS / PICTURES[2]))
        except Exception:
            await page.screenshot(path=str(ARTIFACTS / "catalog-failure.png"))
            raise
        finally:
            await page.close()
    if os.environ.get("GIGBOT_UPDATE_SCREENSHOT"):  # refresh the docs' pictures on purpose
        for name in PICTURES:
            shutil.copyfile(ARTIFACTS / name, ROOT / "docs" / name)
