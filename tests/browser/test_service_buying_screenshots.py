"""Buying a service in the sandbox's web chat, in headless Chromium (issue 15), in
English and in Russian: Felix has a published logo service (three packages, two
extras, a question for the buyer); Clara finds it in /catalog by a word, opens it,
taps Standard, ticks an extra, answers Felix's question, sees the total with the
fee, pays on the sandbox page; Felix gets the new order with Accept / Decline and
accepts. Pictures go to tests/artifacts/ and, with GIGBOT_UPDATE_SCREENSHOT=1, to
docs/ (docs/features.md, "Buying a service", shows them)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from bot.app import Runtime
from domain.ports import UnitOfWork
from domain.usecases import services as svc
from tests.browser.test_webchat import (
    ARTIFACTS,
    FELIX,
    ROOT,
    button,
    chat_page,
    column,
    running_sandbox,
    send,
    snap,
    with_people,
)

LOGO = svc.ServiceFields(
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
    extras=(
        svc.ExtraFields("Delivery a day sooner", 2_000, -1),
        svc.ExtraFields("Source files (AI, Figma)", 1_500, 0),
    ),
    questions=("What is the name on the logo, and is there a colour you love?",),
)

WORDS = {
    "en": {
        "client": "I hire (client)",
        "set_up": "You're set up as a client",
        "found": "Services found: 1",
        "standard": re.compile(r"Standard · \$120\.00"),
        "extra": re.compile(r"Delivery a day sooner"),
        "next": re.compile(r"Continue"),
        "pay": re.compile(r"Pay \$147\.00"),
        "new_order": "New order",
        "accept": re.compile(r"Accept"),
        "accepted": "accepted",
    },
    "ru": {
        "client": "Я нанимаю (заказчик)",
        "set_up": "Вы — заказчик",
        "found": "Найдено услуг: 1",
        "standard": re.compile(r"Стандарт · \$120\.00"),
        "extra": re.compile(r"Delivery a day sooner"),
        "next": re.compile(r"Дальше"),
        "pay": re.compile(r"\$147\.00"),
        "new_order": "Новый заказ",
        "accept": re.compile(r"Принять"),
        "accepted": "принял",
    },
}


def pictures(lang: str) -> tuple[str, str, str]:
    tail = "" if lang == "en" else "-ru"
    return (
        f"service-buy-extras{tail}.png",
        f"service-buy-total{tail}.png",
        f"service-order-seller{tail}.png",
    )


async def publish_logo(runtime: Runtime, lang: str) -> None:
    config = runtime.settings.market_config()

    async def publish(uow: UnitOfWork) -> None:
        service = await svc.create_service(uow, runtime.clock, config, FELIX, LOGO)
        assert service.id is not None
        await svc.publish_service(uow, runtime.clock, FELIX, service.id)

    await with_people(runtime, lang, ((FELIX, "Felix", "freelancer"),), publish)


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_clara_buys_a_package_and_felix_accepts(browser, tmp_path: Path, lang: str):
    from playwright.async_api import expect

    w = WORDS[lang]
    names = pictures(lang)
    async with running_sandbox(tmp_path / "buying.db") as runtime:
        await publish_logo(runtime, lang)
        async with chat_page(browser, runtime.url, f"buying-failure-{lang}") as page:
            clara = column(page, "Clara")
            felix = column(page, "Felix")
            if lang == "ru":
                await clara.locator(".lang").click()
                await expect(clara.locator(".lang")).to_have_text("RU")
            await send(clara, "/start")
            await button(clara, w["client"]).click()
            await expect(clara).to_contain_text(w["set_up"])

            await send(clara, "/catalog")
            await expect(clara.locator(".msg.in").last.locator(".keyboard")).to_be_visible()
            await send(clara, "logo")  # words typed while the catalogue is open: a search
            await expect(clara.locator(".msg.in").last).to_contain_text(w["found"])
            await button(clara, re.compile(r"A logo for your bakery")).click()
            await expect(button(clara, w["standard"])).to_be_visible()
            await button(clara, w["standard"]).click()

            extras = clara.locator(".msg.in", has_text="Delivery a day sooner").last
            await button(clara, w["extra"]).click()
            await expect(extras).to_contain_text("$140.00")
            await snap(extras, ARTIFACTS / names[0])
            await button(clara, w["next"]).click()
            await expect(clara.locator(".msg.in").last).to_contain_text("colour you love")
            await send(clara, "Bean There — and a warm orange")
            total = clara.locator(".msg.in", has_text="$147.00").last
            await expect(total).to_contain_text("Bean There")
            await snap(total, ARTIFACTS / names[1])

            await button(clara, w["pay"]).click()
            link = clara.locator(".keyboard a").last
            await expect(link).to_be_visible()
            href = await link.get_attribute("href")
            assert href
            checkout = await browser.new_page()
            await checkout.goto(href)
            await checkout.locator("button[value=pay]").click()
            await checkout.wait_for_load_state()
            await checkout.close()

            order = felix.locator(".msg.in", has_text=w["new_order"]).last
            await expect(order).to_contain_text("Bean There")
            await expect(order).to_contain_text("$126.00")  # what Felix gets: $140 less 10 %
            await snap(order, ARTIFACTS / names[2])
            await button(felix, w["accept"]).click()
            await expect(clara.locator(".msg.in").last).to_contain_text(w["accepted"])
    if os.environ.get("GIGBOT_UPDATE_SCREENSHOT"):  # refresh the docs' pictures on purpose
        for name in names:
            shutil.copyfile(ARTIFACTS / name, ROOT / "docs" / name)
