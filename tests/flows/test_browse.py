"""Browsing and searching open jobs (/jobs): text, filters, paging in place,
opening a card with Pitch; hostile search text never errors."""

from __future__ import annotations

import pytest

from domain.usecases import jobs
from tests.flows.harness import Harness, Person
from tests.flows.test_post_job import client, freelancer

STALE = "This button is no longer available."


async def publish(
    h: Harness,
    who: Person,
    title: str,
    category: str = "design",
    skills: tuple[str, ...] = ("logo-design",),
    budget: int = 50000,
    budget_type: str = "fixed",
    description: str = "A longer description of what is needed for this job.",
) -> int:
    async with h.db.uow() as uow:
        fields = jobs.JobFields(
            title=title,
            description=description,
            category=category,
            skills=skills,
            budget_type=budget_type,
            budget=budget,
        )
        draft = await jobs.post_job(uow, h.clock, h.config, who.id, fields)
        assert draft.id is not None
        await jobs.publish_job(uow, h.clock, who.id, draft.id)
        await uow.commit()
        h.clock.advance(minutes=1)  # distinct publication times: newest first is stable
        return draft.id


async def market(h: Harness) -> tuple[Person, Person, dict[str, int]]:
    carol = await client(h)
    ids = {
        "logo": await publish(h, carol, "Logo for a coffee shop"),
        "bot": await publish(
            h,
            carol,
            "Telegram bot for bookings",
            "development",
            ("telegram-bots", "python"),
            budget=4000,
            budget_type="hourly",
        ),
        "seo": await publish(h, carol, "SEO audit of a shop", "marketing", ("seo",), budget=20000),
    }
    fred = await freelancer(h)
    return carol, fred, ids


async def test_browse_newest_first_and_open_a_card_with_pitch(h, db):
    _, fred, ids = await market(h)
    await h.send(fred, "/jobs")
    page = h.last(fred)
    assert "Open jobs: 3 found" in page.text and "All open jobs" in page.text
    assert page.labels()[:3] == [
        "1. SEO audit of a shop",
        "2. Telegram bot for bookings",
        "3. Logo for a coffee shop",
    ]
    assert "$40.00/h" in page.text and "$500.00" in page.text and "Marketing" in page.text
    await h.press(fred, "2. Telegram bot for bookings")
    card = h.last(fred)
    assert "Telegram bot for bookings" in card.text and "per hour" in card.text
    assert card.button("✋ Pitch")["data"] == f"pitch:start:{ids['bot']}"
    assert "🚩 Report" in card.labels()


async def test_text_search_and_filters_edit_the_page_in_place(h, db):
    _, fred, _ = await market(h)
    await h.send(fred, "/jobs")
    page = h.last(fred)
    await h.send(fred, "telegram")  # any text while browsing is a search
    found = h.last(fred)
    assert "1 found" in found.text and found.labels()[0] == "1. Telegram bot for bookings"
    await h.press(fred, "♻️ Reset filters")
    assert "3 found" in h.last(fred).text
    await h.press(fred, "📂 Category")
    await h.press(fred, "Design")
    assert "1 found" in h.last(fred).text and "📂 Design" in h.last(fred).text
    await h.press(fred, "📂 Category")
    await h.press(fred, "Any category")
    await h.press(fred, "Hourly")
    assert h.last(fred).labels()[0] == "1. Telegram bot for bookings"
    assert "1 found" in h.last(fred).text
    await h.press(fred, "Hourly")  # pressed again: the filter is off
    assert "3 found" in h.last(fred).text
    await h.press(fred, "Fixed")
    assert "2 found" in h.last(fred).text
    await h.press(fred, "💰 Min budget")
    await h.send(fred, "abc")
    assert "not an amount I can read" in h.last(fred).text
    await h.send(fred, "300")
    result = h.last(fred)
    assert "1 found" in result.text and result.labels()[0] == "1. Logo for a coffee shop"
    assert "from $300.00" in result.text and "fixed price" in result.text
    await h.press(fred, "💰 Min budget")
    await h.press(fred, "No minimum")
    assert "2 found" in h.last(fred).text
    assert found.edits >= 5  # filters edit the latest page in place
    assert page.buttons is None  # the older page's buttons were taken away


async def test_paging_with_buttons(h, db):
    carol = await client(h)
    for n in range(12):
        await publish(h, carol, f"Logo design number {n:02d}")
    fred = await freelancer(h)
    await h.send(fred, "/jobs")
    page = h.last(fred)
    assert "12 found" in page.text and page.labels()[0] == "1. Logo design number 11"
    assert "1/3" in page.labels() and "Next ›" in page.labels() and "‹ Prev" not in page.labels()
    await h.press(fred, "Next ›")
    assert page.labels()[0] == "6. Logo design number 06" and "2/3" in page.labels()
    await h.press(fred, "Next ›")
    assert page.labels()[:2] == ["11. Logo design number 01", "12. Logo design number 00"]
    assert "Next ›" not in page.labels()
    await h.press(fred, "‹ Prev")
    assert "2/3" in page.labels()
    await h.press_data(fred, "br:pg::99", page.message_id)  # past the end: the last page
    assert "3/3" in page.labels()
    assert len([m for m in h.chat(fred) if "found" in m.text]) == 1  # all in place


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced quote',
        "logo OR NOT AND NEAR(x) * ^ : - + ~ ( ) { } [ ]",
        "x" * 10_000,
        "🚀🎨 эмодзи",
        "<script>alert(1)</script> & 'a < b'",
        "'; DROP TABLE jobs; --",
        "\u0000 nul \u202e",
    ],
)
async def test_hostile_search_text_never_errors(h, db, query):
    _, fred, _ = await market(h)
    await h.send(fred, "/jobs")
    await h.send(fred, query)
    reply = h.last(fred)
    assert "found" in reply.text, reply.text
    assert "<script>" not in reply.html
    await h.send(fred, f"/jobs {query}")
    assert "found" in h.last(fred).text


async def test_search_in_russian_and_the_query_is_escaped(h, db):
    carol = await client(h)
    await publish(h, carol, "Логотип для кофейни <кофе & чай>")
    ivan = await freelancer(h, "Иван", lang="ru")
    await h.send(ivan, "/jobs")
    assert "Открытые заказы" in h.last(ivan).text
    await h.send(ivan, "<логотип> & кофе")
    found = h.last(ivan)
    assert "«<логотип> & кофе»" in found.text and "&lt;логотип&gt; &amp;" in found.html
    assert "Логотип для кофейни <кофе & чай>" in found.text
    await h.send(ivan, "несуществующее")
    assert "Ничего не нашлось" in h.last(ivan).text


async def test_closed_paused_and_missing_jobs_are_not_shown(h, db):
    carol, fred, ids = await market(h)
    async with db.uow() as uow:
        await jobs.pause_job(uow, h.clock, carol.id, ids["logo"])
        await jobs.close_job(uow, h.clock, carol.id, ids["seo"])
        await uow.commit()
    await h.send(fred, "/jobs")
    assert "1 found" in h.last(fred).text
    for job_id in (ids["logo"], ids["seo"], 999_999):
        await h.press_data(fred, f"br:job:{job_id}")
        assert "no longer open" in h.last(fred).text
    await h.press_data(carol, f"br:job:{ids['logo']}")  # the owner still sees it
    own = h.last(carol)
    assert "Logo for a coffee shop" in own.text and "✋ Pitch" not in own.labels()
    assert own.button("⚙️ Manage")["data"] == f"mj:manage_job:{ids['logo']}"


async def test_stale_and_forged_buttons(h, db):
    _, fred, _ = await market(h)
    await h.send(fred, "/jobs")
    page = h.last(fred)
    await h.send(fred, "/menu")  # a command ends the search
    await h.press_data(fred, "br:pg::2", page.message_id)
    assert h.last_answer(fred).text == STALE
    await h.send(fred, "/jobs")
    for data in ("br:pg::0", "br:pg::x", "br:cat::nope", "br:type::weekly", "br:zzz", "br:job"):
        await h.press_data(fred, data)
        assert h.last_answer(fred).text == STALE, data


async def test_duplicate_update_is_handled_once(h, db):
    _, fred, _ = await market(h)
    await h.send(fred, "/jobs")
    count = len(h.chat(fred))
    first = await h.send(fred, "logo", update_id=4242)
    again = await h.send(fred, "logo", update_id=4242)
    assert not first.duplicate and again.duplicate
    assert len(h.chat(fred)) == count + 1


async def test_not_interested_jobs_are_left_out(h, db):
    _, fred, ids = await market(h)
    await h.send(fred, "/jobs")
    await h.press_data(fred, f"al:no:{ids['bot']}")  # an alert's "Not interested"
    await h.send(fred, "/jobs")
    page = h.last(fred)
    assert "Open jobs: 2 found" in page.text
    assert page.labels()[:2] == ["1. SEO audit of a shop", "2. Logo for a coffee shop"]
    await h.send(fred, "telegram")
    assert "0 found" in h.last(fred).text
    other = await freelancer(h, "Olga")  # someone else's dismissal changes nothing
    await h.send(other, "/jobs")
    assert "Open jobs: 3 found" in h.last(other).text
