"""Typed skills are one thing everywhere (issue 11, item 5): the job wizard and the
profile split "HTML, CSS, Figma" the same way and keep the case typed, while
alerts compare skills in any case."""

from __future__ import annotations

import pytest

from domain.entities import AlertSubscription
from tests.flows.harness import Harness
from tests.flows.test_post_job import client, freelancer

WORDS = {
    "en": {
        "design": "Design",
        "done": "✅ Done",
        "fixed": "💰 Fixed price",
        "no_deadline": "⏭ No deadline",
        "publish": "🚀 Publish",
        "skills": "✏️ Skills",
    },
    "ru": {
        "design": "Дизайн",
        "done": "✅ Готово",
        "fixed": "💰 Фиксированная цена",
        "no_deadline": "⏭ Без срока",
        "publish": "🚀 Опубликовать",
        "skills": "✏️ Навыки",
    },
}


async def skills_of_jobs(h: Harness) -> list[list[str]]:
    async with h.db.uow() as uow:
        return [list(j.skills) for j in await uow.jobs.find()]


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_the_job_wizard_and_the_profile_parse_typed_skills_alike(
    h: Harness, lang: str
) -> None:
    w = WORDS[lang]
    clara = await client(h, "Clara", lang=lang)
    greta = await freelancer(h, "Greta", lang=lang)
    async with h.db.uow() as uow:  # an alert naming a skill in lower case
        await uow.subscriptions.add(
            AlertSubscription(user_id=greta.id, skills=["css"], created_at=h.clock.now())
        )
        await uow.commit()

    await h.send(clara, "/post")
    await h.send(clara, "Landing page for a bakery")
    await h.send(clara, "A one-page site with the menu, opening hours and a map.")
    await h.press(clara, w["design"])
    await h.send(clara, "HTML, CSS, Figma")
    assert "HTML, CSS, Figma" in h.last(clara).text
    await h.send(clara, "css")  # typed again, in any case: taken off
    assert "HTML, Figma" in h.last(clara).text and "CSS" not in h.last(clara).text
    await h.send(clara, "CSS")
    await h.press(clara, w["done"])
    await h.press(clara, w["fixed"])
    await h.send(clara, "300")
    await h.press(clara, w["no_deadline"])
    await h.press(clara, w["publish"])
    assert await skills_of_jobs(h) == [["HTML", "Figma", "CSS"]]
    # The alert on "css" finds the job that says "CSS".
    assert "Landing page for a bakery" in h.last(greta).text

    await h.send(greta, "/profile")
    await h.press(greta, w["skills"])
    await h.send(greta, "HTML, CSS, Figma")  # the same parser: three skills
    async with h.db.uow() as uow:
        profile = await uow.profiles.get(greta.id)
        assert profile is not None and profile.tags == ["HTML", "CSS", "Figma"]


@pytest.mark.parametrize(
    ("lang", "typed", "shown"),
    [
        ("en", "Web design, Figma", "Web design, Figma"),
        ("ru", "веб-дизайн, Figma", "Веб-дизайн, Figma"),
    ],
)
async def test_a_taxonomy_skill_typed_by_its_name_in_the_persons_language(
    h: Harness, lang: str, typed: str, shown: str
) -> None:
    """Typed by its name in the person's language, a taxonomy skill is that skill
    (ticked in its category, found by alerts on it), not a free tag of the same name."""
    greta = await freelancer(h, "Greta", lang=lang)
    await h.send(greta, "/profile")
    await h.press(greta, WORDS[lang]["skills"])
    await h.send(greta, typed)
    assert shown in h.last(greta).text
    async with h.db.uow() as uow:
        profile = await uow.profiles.get(greta.id)
        assert profile is not None
        assert (profile.skills, profile.tags) == (["web-design"], ["Figma"])
