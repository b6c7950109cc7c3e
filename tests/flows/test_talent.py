"""Talent search (/talent), invite candidates with reasons, and availability (issue 14,
parts 3, 4 and 6), through the real engine, in English and Russian: a client
searches, filters, pages, opens a card and invites; a freelancer sets away until a
date from the profile — alerts wait and resume by themselves after it, search shows
it, and inviting them says so first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.entities import Block
from domain.usecases import alerts, jobs, profiles
from domain.usecases.profiles import ProfileFields
from handlers.context import Scope
from handlers.notify import render_events
from tests.flows.harness import Harness, Person
from tests.flows.test_browse import publish
from tests.flows.test_post_job import client, freelancer

L = {
    "en": {
        "found": "Freelancers found: {n}",
        "available": "🟢 Available",
        "next": "Next ›",
        "invite": "📨 Invite to a job",
        "message": "💬 Message",
        "invited": "Invited.",
        "notify": "invites you to pitch",
        "profile_btn": "📅 Availability: available",
        "away": "🌴 Away…",
        "until": "Until a date…",
        "week": "1 week",
        "saved": "Saved: 🌴 Away until {d}",
        "away_line": "🌴 Away until {d}",
        "warning": "is away until {d}",
        "anyway": "📨 Invite anyway",
        "bad_date": "YYYY-MM-DD",
        "skills_btn": "🧩 Skills",
        "rate_btn": "💵 Rate",
        "fit": "2 of 2 skills",
    },
    "ru": {
        "found": "Найдено фрилансеров: {n}",
        "available": "🟢 Свободные",
        "next": "Далее ›",
        "invite": "📨 Пригласить в заказ",
        "message": "💬 Написать",
        "invited": "Приглашение отправлено.",
        "notify": "приглашает",
        "profile_btn": "📅 Доступность: свободен",
        "away": "🌴 Недоступен…",
        "until": "До даты…",
        "week": "1 неделя",
        "saved": "Сохранено: 🌴 Недоступен до {d}",
        "away_line": "🌴 Недоступен до {d}",
        "warning": "недоступен до {d}",
        "anyway": "📨 Всё равно пригласить",
        "bad_date": "ГГГГ-ММ-ДД",
        "skills_btn": "🧩 Навыки",
        "rate_btn": "💵 Ставка",
        "fit": "навыков: 2 из 2",
    },
}


async def publish_alerting(h: Harness, who: Person, title: str) -> int:
    """Publish a Python job and render its events as the engine does (the alerts)."""
    async with h.db.uow() as uow:
        fields = jobs.JobFields(
            title=title,
            description="A longer description of what is needed for this job.",
            category="development",
            skills=("python",),
            budget=50_000,
        )
        draft = await jobs.post_job(uow, h.clock, h.config, who.id, fields)
        assert draft.id is not None
        await jobs.publish_job(uow, h.clock, who.id, draft.id)
        await render_events(Scope(uow, h.clock, h.config), uow.events)
        await uow.commit()
    await h.deliver()
    return draft.id


async def profile(h: Harness, who: Person, **fields) -> None:
    async with h.db.uow() as uow:
        await profiles.update_profile(uow, h.clock, h.config, who.id, ProfileFields(**fields))
        await uow.commit()


async def talent_pool(h: Harness, lang: str) -> tuple[Person, Person, Person]:
    carol = await client(h, "Carol", lang)
    olga = await freelancer(h, "Olga", lang)
    await profile(
        h,
        olga,
        headline="Python developer: Telegram bots",
        category="development",
        skills=["python", "django"],
        hourly_rate=4000,
    )
    fred = await freelancer(h, "Fred", lang)
    await profile(
        h,
        fred,
        headline="Logo designer",
        category="design",
        skills=["logo-design"],
        hourly_rate=2500,
    )
    return carol, olga, fred


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_search_filter_open_card_invite_and_pitch(h, lang):
    w = L[lang]
    carol, olga, _ = await talent_pool(h, lang)
    job_id = await publish(h, carol, "Booking bot", "development", ("python", "django"))
    await h.send(carol, "/talent")
    page = h.last(carol)
    assert w["found"].format(n=2) in page.text
    await h.send(carol, "telegram bots")  # any text while searching is a search
    found = h.last(carol)
    assert w["found"].format(n=1) in found.text and found.labels()[0] == "1. Olga"
    assert "$40.00" in found.text
    await h.press(carol, w["skills_btn"])
    await h.send(carol, "logo-design")
    assert w["found"].format(n=0) in h.last(carol).text  # words AND skills
    await h.send(carol, "designer")
    assert h.last(carol).labels()[0] == "1. Fred"
    await h.press(carol, w["rate_btn"])
    await h.send(carol, "30-50")
    assert w["found"].format(n=0) in h.last(carol).text  # Fred's $25 is below
    await h.send(carol, "python")
    await h.press(carol, w["skills_btn"])
    await h.send(carol, "python")
    assert h.last(carol).labels()[0] == "1. Olga"
    await h.press(carol, "1. Olga")
    card = h.last(carol)
    assert "Olga" in card.text and w["message"] in card.labels()
    await h.press(carol, w["invite"])
    await h.press(carol, "Booking bot")
    assert w["invited"] in h.last(carol).text
    await h.deliver()
    note = h.last(olga)
    assert w["notify"] in note.text
    assert note.button("✋ Pitch" if lang == "en" else note.labels()[0])["data"] == (
        f"pitch:start:{job_id}"
    )


async def test_paging_with_buttons(h):
    carol = await client(h)
    for n in range(7):
        who = await freelancer(h, f"Writer{n}")
        await profile(h, who, headline="Copywriter", category="writing")
    await h.send(carol, "/talent copywriter")
    page = h.last(carol)
    assert "Freelancers found: 7" in page.text
    assert page.labels()[0] == "1. Writer6"  # equal matches: the newest first
    await h.press(carol, "Next ›")
    assert page.labels()[0] == "6. Writer1" and "2/2" in page.labels()


async def test_freelancers_only_and_clients_only(h):
    fred = await freelancer(h)
    await h.send(fred, "/talent")
    assert "Only clients" in h.last(fred).text


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_away_until_a_date_pauses_alerts_shows_and_warns(h, lang):
    w = L[lang]
    carol, olga, _ = await talent_pool(h, lang)
    async with h.db.uow() as uow:
        await alerts.create_subscription(
            uow, h.clock, olga.id, alerts.SubscriptionFields(skills=("python",))
        )
        await uow.commit()
    until = h.clock.now().date() + timedelta(days=3)
    await h.send(olga, "/profile")
    await h.press(olga, w["profile_btn"])
    await h.press(olga, w["away"])
    await h.press(olga, w["until"])
    await h.send(olga, "03/20/2026")
    assert w["bad_date"] in h.last(olga).text
    await h.send(olga, until.isoformat())
    assert w["saved"].format(d=until.isoformat()) in h.last(olga).text
    # Alerts wait while away …
    before = len(h.chat(olga))
    await publish_alerting(h, carol, "Python scraper")
    assert len(h.chat(olga)) == before
    # … search shows it and can leave her out …
    await h.send(carol, "/talent python")
    assert w["away_line"].format(d=until.isoformat()) in h.last(carol).text
    await h.press(carol, w["available"])
    assert w["found"].format(n=0) in h.last(carol).text
    # … inviting says so before sending.
    job_id = await publish(h, carol, "Bot for orders", "development", ("python", "django"))
    await h.press_data(carol, f"mj:candidates:{job_id}")
    assert w["fit"] in h.last(carol).text
    await h.press_data(carol, f"mj:invite:{job_id}:{olga.id}")
    assert w["warning"].format(d=until.isoformat()) in h.last(carol).text
    await h.deliver()
    assert len(h.chat(olga)) == before  # nothing sent yet
    await h.press(carol, w["anyway"])
    await h.deliver()
    assert len(h.chat(olga)) == before + 1
    # After the date alerts resume by themselves: no timer, the date is compared.
    h.clock.advance(days=4)
    await publish_alerting(h, carol, "Python API")
    assert "Python API" in h.last(olga).text


async def test_away_for_a_week_by_button_and_back_to_available(h):
    _, olga, _ = await talent_pool(h, "en")
    await h.send(olga, "/profile")
    await h.press(olga, "📅 Availability: available")
    await h.press(olga, "🌴 Away…")
    await h.press(olga, "1 week")
    until = (h.clock.now().date() + timedelta(days=7)).isoformat()
    assert f"Saved: 🌴 Away until {until}" in h.last(olga).text
    await h.send(olga, "/profile")
    assert "📅 Availability: away" in h.last(olga).labels()
    await h.press(olga, "📅 Availability: away")
    await h.press(olga, "🔴 Busy")
    assert "Saved: 🔴 Busy" in h.last(olga).text


async def test_invite_candidates_show_why_and_leave_out_blocked(h):
    carol, olga, _ = await talent_pool(h, "en")
    job_id = await publish(h, carol, "Bot for orders", "development", ("python", "django"))
    await h.press_data(carol, f"mj:candidates:{job_id}")
    text = h.last(carol).text
    assert "Olga" in text and "2 of 2 skills" in text and "no reviews yet" in text
    assert "0 contracts" in text
    async with h.db.uow() as uow:
        await uow.blocks.add(Block(blocker_id=olga.id, blocked_id=carol.id))  # she blocked
        await uow.commit()
    await h.press_data(carol, f"mj:candidates:{job_id}")
    assert "Olga" not in h.last(carol).text


async def test_message_from_the_card_invites_first_then_delivers(h):
    carol, olga, _ = await talent_pool(h, "en")
    await publish(h, carol, "Booking bot", "development", ("python",))
    await h.send(carol, "/talent python")
    await h.press(carol, "1. Olga")
    await h.press(carol, "💬 Message")
    await h.press(carol, "Booking bot")
    assert "Write to Olga about “Booking bot”" in h.last(carol).text
    await h.send(carol, "Could you start next week?")
    assert "Delivered to Olga" in h.last(carol).text
    await h.deliver()
    texts = h.texts(olga)
    assert any("invites you to pitch" in t for t in texts)
    assert "Could you start next week?" in texts[-1]
