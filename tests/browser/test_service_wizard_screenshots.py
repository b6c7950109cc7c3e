"""The New service wizard's ‹ Back in the sandbox's web chat, in headless Chromium, in
English and Russian: Felix types a package's price, takes it back, and reaches the
preview, whose Back and section list he uses too. Pictures of the package question
and of the preview go to tests/artifacts/ (kept by CI)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.test_webchat import (
    ARTIFACTS,
    FELIX,
    button,
    chat_page,
    column,
    running_sandbox,
    send,
    snap,
    with_people,
)

WORDS = {
    "en": {
        "back": "‹ Back",
        "new": "New service",
        "done": "Done",
        "add": "Add another package",
        "continue": "Continue",
        "skip": "Skip",
        "edit": "Edit",
        "publish": "Publish",
        "price": "price",
        "days": "days",
        "design": "Design",
        "preview": "Preview",
    },
    "ru": {
        "back": "‹ Назад",
        "new": "Новая услуга",
        "done": "Готово",
        "add": "Добавить пакет",
        "continue": "Далее",
        "skip": "Пропустить",
        "edit": "Изменить",
        "publish": "Опубликовать",
        "price": "Цена",
        "days": "дн",
        "design": "Дизайн",
        "preview": "Предпросмотр",
    },
}


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_felix_goes_back_in_the_service_wizard(browser, tmp_path: Path, lang: str):
    from playwright.async_api import expect

    w = WORDS[lang]
    tail = "" if lang == "en" else "-ru"
    async with running_sandbox(tmp_path / "wizard.db") as runtime:
        await with_people(runtime, lang, ((FELIX, "Felix", "freelancer"),))
        async with chat_page(browser, runtime.url, f"service-wizard-failure{tail}") as page:
            felix = column(page, "Felix")
            await expect(felix.locator(".lang")).to_have_text(lang.upper())
            last = felix.locator(".msg.in").last

            async def typed(text: str) -> None:
                """Send text and wait for the answer: a new message."""
                seen = await felix.locator(".msg.in").count()
                await send(felix, text)
                await expect(felix.locator(".msg.in")).to_have_count(seen + 1)

            async def pressed(label: str | re.Pattern[str], then: str | re.Pattern[str]) -> None:
                """Press a button of the newest message; it becomes the screen `then`."""
                await button(felix, label).click()
                await expect(last).to_contain_text(then)

            def step(n: int) -> re.Pattern[str]:
                return re.compile(rf"{n}\D+8")

            await typed("/services")
            await pressed(w["new"], step(1))  # the list becomes the first question
            await expect(button(felix, w["back"])).to_have_count(0)  # the title: first
            await typed("A minimalist logo for your brand")
            await expect(button(felix, w["back"])).to_be_visible()
            await typed("I draw clean, memorable logos for small brands, in vector.")
            await pressed(re.compile(w["design"]), step(4))
            await typed("logo design, branding")
            await pressed(w["done"], step(5))
            for answer in ("Basic", "Two concepts, vector files and a PNG", "50"):
                await typed(answer)
            await expect(last).to_contain_text(w["days"])
            await pressed(w["back"], w["price"])  # the price again
            await snap(last, ARTIFACTS / f"service-wizard-back{tail}.png")
            await typed("60")
            await typed("3")
            await pressed(re.compile(r"^1$"), "$60.00")
            await pressed(w["continue"], step(6))  # the extras
            await pressed(w["skip"], step(7))
            await pressed(w["skip"], step(8))
            await button(felix, w["skip"]).click()
            await expect(button(felix, w["publish"])).to_be_visible()
            await button(felix, w["edit"]).click()  # the sections
            await expect(button(felix, w["publish"])).to_have_count(0)
            await button(felix, w["back"]).click()  # → the preview again
            await expect(button(felix, w["publish"])).to_be_visible()
            await expect(last).to_contain_text("$60.00")
            await snap(last, ARTIFACTS / f"service-wizard-preview{tail}.png")
