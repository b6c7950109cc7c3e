"""The web chat in headless Chromium against the real app in sandbox mode.

Clara (client) sends /start, picks the client role and posts a job through the
wizard by pressing buttons and typing; Felix (freelancer, with a job alert set
up through the use cases) sees the alert arrive, presses Pitch and the pitch
flow starts. The page is read only through its own DOM (bot/sandbox/webchat):
every step waits for the state it needs with Playwright's auto-waiting
`expect`, never a sleep. The screenshot goes to docs/sandbox.png (the README
shows it) and tests/artifacts/ (kept by CI).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot import demo
from bot.app import Runtime
from bot.config import Settings
from domain.ports import UnitOfWork
from domain.usecases import accounts, alerts
from domain.usecases.alerts import SubscriptionFields
from handlers.system import SystemRunner

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "sandbox.png"
ARTIFACTS = ROOT / "tests" / "artifacts"
CLARA, FELIX = 1001, 1002
TIMEOUT_MS = 15_000  # a step's reply goes bot → outbox → sender → emulator → long-poll
JOB_TITLE = "Telegram bot for a bakery"
QUICK_MS = 8_000  # a reply to a click, when the page is not starved of connections


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def running_sandbox(
    db_path: Path, *, demo: bool = False, port: int | None = None
) -> AsyncIterator[Runtime]:
    """The whole app (bot.app.Runtime) in sandbox mode: no token, its own emulator (kept
    beside the database, so a second run on the same db_path and port is a restart)."""
    port = port or free_port()
    settings = Settings(
        _env_file=None,
        bot_token=None,
        database_url=f"sqlite+aiosqlite:///{db_path}",
        http_host="127.0.0.1",
        http_port=port,
        public_url=f"http://127.0.0.1:{port}",
        send_rate=200,
        private_chat_rate=50,
    )
    runtime = Runtime(
        settings,
        sandbox=True,
        demo=demo,
        announce=lambda _: None,
        polling_timeout_s=1,
        run_scheduler=False,
    )
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with running_sandbox(tmp_path / "browser.db") as runtime:
        yield runtime


async def give_felix_a_job_alert(runtime: Runtime) -> None:
    """Felix as a freelancer with a broad instant alert, through the use cases; his chat
    is open (as after /start), so the alert is delivered instead of refused with 403."""
    runtime.emulator.add_user(
        "Felix (freelancer)", user_id=FELIX, username="felix_freelancer", started=True
    )
    assert runtime.database is not None
    config = runtime.settings.market_config()
    runner = SystemRunner(runtime.database.uow, runtime.clock, config)

    async def setup(uow: UnitOfWork) -> None:
        await accounts.register_user(uow, runtime.clock, FELIX, "Felix (freelancer)")
        await accounts.add_role(uow, runtime.clock, FELIX, "freelancer")
        await alerts.create_subscription(
            uow, runtime.clock, FELIX, SubscriptionFields(categories=("development", "design"))
        )

    await runner.run(setup, what="browser test setup")


async def with_people(
    runtime: Runtime,
    lang: str,
    people: tuple[tuple[int, str, str], ...],
    then: Callable[[UnitOfWork], Awaitable[None]] | None = None,
) -> None:
    """These (id, name, role) people in the web chat, their chats open, registered with
    their role through the use cases in `lang`; then `then` in the same unit of work."""
    for uid, name, role in people:
        runtime.emulator.add_user(f"{name} ({role})", user_id=uid, started=True, language_code=lang)
    assert runtime.database is not None
    runner = SystemRunner(runtime.database.uow, runtime.clock, runtime.settings.market_config())

    async def setup(uow: UnitOfWork) -> None:
        for uid, name, role in people:
            await accounts.register_user(uow, runtime.clock, uid, name, language_code=lang)
            await accounts.add_role(uow, runtime.clock, uid, role)
        if then is not None:
            await then(uow)

    await runner.run(setup, what="browser test people")


def job_alerts_rendered() -> bool:
    from domain.events import JobAlert
    from handlers.flows import load_flows
    from handlers.notify import RENDERERS

    load_flows()
    return bool(RENDERERS.get(JobAlert))


@asynccontextmanager
async def chat_page(browser: Any, url: str, failure: str) -> AsyncIterator[Any]:
    """The web chat at `url` in a tall page, Playwright's waits at TIMEOUT_MS; on a
    failure the whole page goes to tests/artifacts/<failure>.png."""
    from playwright.async_api import expect

    page = await browser.new_page(viewport={"width": 1440, "height": 1500})
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        await page.goto(f"{url}/")
        yield page
    except Exception:
        await page.screenshot(path=str(ARTIFACTS / f"{failure}.png"))
        raise
    finally:
        await page.close()


async def snap(locator: Any, path: Path) -> None:
    """A message's picture. The web chat redraws a message when a later update (an
    edit of one before it) arrives, so a picture taken while it was redrawn is
    taken again of the message as it is then."""
    for attempt in range(3):
        try:
            await locator.screenshot(path=str(path))
            return
        except Exception as err:  # playwright's Error; its module loads lazily
            if "not attached" not in str(err) or attempt == 2:
                raise


def column(page: Any, name: str) -> Any:
    return page.locator(".column").filter(has=page.locator(".name", has_text=name))


async def send(col: Any, text: str) -> None:
    await col.locator("input.text").fill(text)
    await col.locator("button.send").click()


def button(col: Any, label: str | re.Pattern[str]) -> Any:
    """The newest inline button with that label (older messages may carry one too)."""
    return col.locator(".keyboard button", has_text=label).last


async def test_client_posts_a_job_and_the_freelancer_pitches_from_the_alert(browser, sandbox):
    from playwright.async_api import expect

    await give_felix_a_job_alert(sandbox)
    page = await browser.new_page(viewport={"width": 1440, "height": 960})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    try:
        await page.goto(f"{sandbox.url}/")
        clara, felix = column(page, "Clara"), column(page, "Felix")
        await expect(clara.locator(".empty")).to_have_text(re.compile("No messages yet"))
        await expect(column(page, "Ada")).to_be_visible()

        # /start → the client role.
        await send(clara, "/start")
        await expect(clara.locator(".msg.in").last).to_contain_text("Welcome to Gigbot")
        await button(clara, "I hire (client)").click()
        await expect(clara).to_contain_text("You're set up as a client")

        # The post-job wizard: title, description (typed), category, skills, budget type
        # (buttons), amount (typed), no deadline, preview, publish.
        await button(clara, "Post a job").click()
        await expect(clara).to_contain_text("step 1 of 7")
        await send(clara, JOB_TITLE)
        await expect(clara).to_contain_text("Step 2 of 7")
        await send(
            clara,
            "Customers order cakes for pick-up and get a message when the order is ready. "
            "Python and aiogram, please.",
        )
        await expect(clara).to_contain_text("Step 3 of 7")
        await button(clara, "Development").click()
        await expect(clara).to_contain_text("Step 4 of 7")
        await button(clara, re.compile(r"^Python$")).click()
        await expect(button(clara, re.compile(r"✓\s*Python"))).to_be_visible()
        await button(clara, "Done").click()
        await expect(clara).to_contain_text("Step 5 of 7")
        await button(clara, "Fixed price").click()
        await expect(clara).to_contain_text("Step 6 of 7")
        await send(clara, "500")
        await expect(clara).to_contain_text("Step 7 of 7")
        await button(clara, "No deadline").click()
        await expect(button(clara, "Publish")).to_be_visible()
        await expect(clara.locator(".msg.in").last).to_contain_text(JOB_TITLE)
        await button(clara, "Publish").click()
        await expect(clara).to_contain_text("Published!")

        # Felix's column: the alert for the new job, with its Pitch button.
        if not job_alerts_rendered():
            await page.screenshot(path=str(ARTIFACTS / "sandbox-partial.png"))
            pytest.xfail(
                "job alerts are not rendered yet: no handlers/flows module has "
                "@renders('job_alert') (the alerts flow); Clara's part passed"
            )
        alert = felix.locator(".msg.in", has_text=JOB_TITLE).last
        await expect(alert).to_be_visible()
        await alert.locator(".keyboard button", has_text="Pitch").click()
        await expect(felix.locator(".msg.in").last).to_contain_text("cover letter")

        await expect(page.locator("#toast")).to_be_hidden()  # "Published" fades after 3.5 s
        await page.screenshot(path=str(ARTIFACTS / "sandbox.png"))
        if os.environ.get("GIGBOT_UPDATE_SCREENSHOT"):  # refresh the README's picture on purpose
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ARTIFACTS / "sandbox.png", SCREENSHOT)
    except Exception:  # what the page showed when it failed (pytest.xfail is no Exception)
        await page.screenshot(path=str(ARTIFACTS / "sandbox-failure.png"))
        raise
    finally:
        await page.close()


async def test_demo_personas_see_a_pitch_and_alerts_at_once(browser, tmp_path):
    """`gigbot sandbox --demo`: on opening the page Clara already has a pitch to look
    at, Felix his job alerts, and every demo person has a column."""
    from playwright.async_api import expect

    if not job_alerts_rendered():
        pytest.xfail("job alerts are not rendered yet: no @renders('job_alert') in handlers/flows")
    async with running_sandbox(tmp_path / "demo.db", demo=True) as runtime:
        page = await browser.new_page(viewport={"width": 1440, "height": 960})
        page.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            await page.goto(f"{runtime.url}/")
            clara, felix = column(page, "Clara"), column(page, "Felix")
            await expect(clara.locator(".msg.in", has_text="New pitch").first).to_be_visible()
            await expect(clara).to_contain_text("Telegram bot for booking yoga classes")
            await expect(felix.locator(".msg.in", has_text="New job for you").first).to_be_visible()
            for person in demo.FREELANCERS:
                await expect(column(page, person.name)).to_be_visible()
            await page.screenshot(path=str(ARTIFACTS / "sandbox-demo.png"))

            # With this many columns the page must still answer a click quickly.
            await send(clara, "/start")
            await expect(clara.locator(".msg.in").last).to_contain_text(
                "Welcome back", timeout=QUICK_MS
            )
        finally:
            await page.close()
