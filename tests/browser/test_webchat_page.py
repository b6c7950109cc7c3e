"""The web chat page's own behaviour (issue 11, items 1 and 16), in headless Chromium
against the whole app in sandbox mode: no empty strips above the message box; the "/"
command menu closes on a second press, on Escape and after choosing; markup typed by a
person is not a command link; the command menu follows the person's app language; the page
reconnects by itself after the app restarts. Every wait is Playwright's auto-waiting
`expect`, never a sleep."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_webchat import (
    ARTIFACTS,
    FELIX,
    TIMEOUT_MS,
    button,
    column,
    free_port,
    running_sandbox,
    send,
)


@pytest.fixture
async def page(browser: Any, sandbox: Any) -> AsyncIterator[Any]:
    from playwright.async_api import expect

    page = await browser.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.goto(f"{sandbox.url}/")
    await expect(column(page, "Clara").locator(".empty")).to_be_visible()
    yield page
    await page.close()


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Any]:
    async with running_sandbox(tmp_path / "page.db") as runtime:
        yield runtime


async def test_no_empty_strips_above_the_message_box(page: Any) -> None:
    from playwright.async_api import expect

    for name in ("Clara", "Felix", "Ada"):
        col = column(page, name)
        # Hidden, not drawn as grey strips: nothing between the messages and the composer.
        await expect(col.locator(".reply-keyboard")).to_be_hidden()
        await expect(col.locator(".commands")).to_be_hidden()
        messages = await col.locator(".messages").bounding_box()
        composer = await col.locator(".composer").bounding_box()
        assert messages is not None and composer is not None
        assert composer["y"] - (messages["y"] + messages["height"]) < 1


async def test_the_command_menu_closes_on_a_second_press_escape_and_choosing(page: Any) -> None:
    from playwright.async_api import expect

    clara = column(page, "Clara")
    menu, commands = clara.locator("button.menu"), clara.locator(".commands")
    await menu.click()
    await expect(commands).to_be_visible()
    await expect(commands).to_contain_text("/start")
    await menu.click()
    await expect(commands).to_be_hidden()

    await menu.click()
    await expect(commands).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(commands).to_be_hidden()

    await menu.click()
    await commands.locator("button", has_text="/help").click()
    await expect(commands).to_be_hidden()
    await expect(clara.locator(".msg.out").last).to_have_text(re.compile(r"^/help"))
    await expect(clara.locator(".msg.in").last).to_be_visible()


async def test_typed_markup_is_not_a_command_link(page: Any) -> None:
    from playwright.async_api import expect

    clara = column(page, "Clara")
    await send(clara, "I wrote </b> by mistake, see /help")
    mine = clara.locator(".msg.out").last
    await expect(mine).to_contain_text("</b> by mistake")
    # Only the real command at a word boundary is a link.
    await expect(mine.locator(".command")).to_have_count(1)
    await expect(mine.locator(".command")).to_have_text("/help")


async def test_the_command_menu_follows_the_person_s_language(page: Any, sandbox: Any) -> None:
    from playwright.async_api import expect

    felix = column(page, "Felix")
    lang = felix.locator("button.lang")
    await expect(lang).to_have_text("EN")
    await lang.click()  # his app's language, as in Telegram's settings
    await expect(lang).to_have_text("RU")
    assert sandbox.emulator.user(FELIX).language_code == "ru"

    await send(felix, "/start")  # a new person: the bot speaks his app's language
    await button(felix, "Я работаю").click()
    await expect(felix.locator(".msg.in").last).to_contain_text("фрилансер")
    await felix.locator("button.menu").click()
    commands = felix.locator(".commands")
    await expect(commands).to_contain_text("Главное меню")
    alerts = commands.locator("button", has_text="/alerts")
    # The menu and the screen it opens use the same word.
    await expect(alerts).to_contain_text("Оповещения о заказах")
    await page.screenshot(path=str(ARTIFACTS / "sandbox-ru-menu.png"))
    await alerts.click()
    await expect(felix.locator(".msg.in").last).to_contain_text("Мои оповещения")
    await page.screenshot(path=str(ARTIFACTS / "sandbox-ru.png"))

    await lang.click()  # and back: the menu follows again
    await expect(lang).to_have_text("EN")
    await felix.locator("button.menu").click()
    await expect(commands.locator("button", has_text="/alerts")).to_contain_text("Job alerts")


async def test_the_page_reconnects_after_the_app_restarts(browser: Any, tmp_path: Path) -> None:
    from playwright.async_api import expect

    db, port = tmp_path / "restart.db", free_port()
    page = await browser.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    try:
        async with running_sandbox(db, port=port):
            await page.goto(f"http://127.0.0.1:{port}/")
            clara = column(page, "Clara")
            await send(clara, "/start")
            await expect(clara.locator(".msg.in").last).to_contain_text("Welcome to Gigbot")
            await expect(page.locator("#status")).to_be_hidden()
        # The app is stopped: the page says so and keeps trying.
        await expect(page.locator("#status")).to_be_visible()
        await page.screenshot(path=str(ARTIFACTS / "sandbox-offline.png"))
        async with running_sandbox(db, port=port):
            await expect(page.locator("#status")).to_be_hidden()
            # The history is still there, and the same person gets answers again.
            await expect(clara.locator(".msg.in").first).to_contain_text("Welcome to Gigbot")
            await button(clara, "I hire (client)").click()
            await expect(clara).to_contain_text("You're set up as a client")
            await send(clara, "/menu")
            await expect(clara.locator(".msg.out").last).to_have_text(re.compile(r"^/menu"))
            await expect(clara.locator(".msg.in").last).to_contain_text("Post a job")
            await expect(page.locator("#toast")).not_to_contain_text("no sandbox user")
    except Exception:
        await page.screenshot(path=str(ARTIFACTS / "sandbox-restart-failure.png"))
        raise
    finally:
        await page.close()


async def test_the_page_comes_back_to_a_sandbox_started_afresh(
    browser: Any, tmp_path: Path
) -> None:
    """Even a sandbox that lost its state (another database) gets the page's people back:
    no "no sandbox user" error, and they can start over."""
    from playwright.async_api import expect

    port = free_port()
    page = await browser.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    try:
        async with running_sandbox(tmp_path / "one.db", port=port):
            await page.goto(f"http://127.0.0.1:{port}/")
            clara = column(page, "Clara")
            await send(clara, "/start")
            await expect(clara.locator(".msg.in").last).to_contain_text("Welcome to Gigbot")
        await expect(page.locator("#status")).to_be_visible()
        async with running_sandbox(tmp_path / "two.db", port=port) as runtime:
            await expect(page.locator("#status")).to_be_hidden()
            await expect(clara.locator(".empty")).to_be_visible()  # a new Telegram
            assert {1001, 1002, 1003} <= set(runtime.emulator.users)
            await send(clara, "/start")
            await expect(clara.locator(".msg.in").last).to_contain_text("Welcome to Gigbot")
            await expect(page.locator("#toast")).not_to_contain_text("no sandbox user")
    finally:
        await page.close()


async def test_inline_results_list_above_the_input_and_the_chosen_card(
    page: Any, sandbox: Any
) -> None:
    """Issue 18, part 1: "@gigbot_sandbox_bot python bot" typed in a column lists the
    bot's inline results above the input, 20 and then "More results…"; the chosen one
    is posted "via @bot", and its "Open in Gigbot" deep link opens the job."""
    from playwright.async_api import expect

    from tests.e2e.test_inline import _seed

    ids = await _seed(sandbox)
    felix = column(page, "Felix")
    await felix.locator("input.text").fill("@gigbot_sandbox_bot python bot")
    results = felix.locator(".inline-results .inline-result")
    await expect(results).to_have_count(20)
    await expect(results.first).to_contain_text("Python bot number 23")
    await expect(results.first).to_contain_text("$500.00")
    box = await felix.locator(".inline-results").bounding_box()
    composer = await felix.locator(".composer").bounding_box()
    assert box is not None and composer is not None
    assert abs(box["y"] + box["height"] - composer["y"]) < 1  # right above the input
    await page.screenshot(path=str(ARTIFACTS / "inline-results.png"))

    await felix.locator(".inline-more").click()
    await expect(results).to_have_count(23)
    await expect(felix.locator(".inline-more")).to_have_count(0)

    await results.filter(has_text="Python bot number 7").click()
    await expect(felix.locator(".inline-results")).to_be_hidden()
    await expect(felix.locator("input.text")).to_have_value("")
    card = felix.locator(".msg.out", has_text="Python bot number 7")
    await expect(card).to_have_count(1)
    await expect(card.locator(".via")).to_have_text("via @gigbot_sandbox_bot")

    await card.locator(".keyboard button", has_text="Open in Gigbot").click()
    await expect(
        felix.locator(".msg.out", has_text=f"/start job_{ids['Python bot number 7']}")
    ).to_have_count(1)
    reply = felix.locator(".msg.in", has_text="Python bot number 7")
    await expect(reply).to_have_count(1)
    await expect(reply).to_contain_text("A Telegram bot in Python")

    # Other words, a new list; words no longer addressed to the bot close it.
    await felix.locator("input.text").fill("@gigbot_sandbox_bot logo")
    await expect(results).to_have_count(2)
    await felix.locator("input.text").fill("logo")
    await expect(felix.locator(".inline-results")).to_be_hidden()
