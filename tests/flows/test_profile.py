"""The freelancer's profile flow, through the real engine on SQLite."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.entities import Contract, ContractMessage, FreelancerProfile, Milestone, Review
from domain.states import ContractStatus, MilestoneStatus, ReviewStatus
from domain.usecases.profiles import ProfileFields, update_profile
from handlers.context import Scope
from handlers.flows.profile import profile_card
from tests.flows.harness import Harness, Person
from tests.flows.test_pitch import HOSTILE, add_job, client, freelancer


async def profile_of(h: Harness, who: Person) -> dict:
    async with h.db.uow() as uow:
        p = await uow.profiles.get(who.id)
        if p is None:
            return {}
        return {
            "headline": p.headline,
            "bio": p.bio,
            "category": p.category,
            "skills": list(p.skills),
            "tags": list(p.tags),
            "rate": p.hourly_rate,
            "years": p.years_experience,
            "portfolio": list(p.portfolio),
            "certifications": list(p.certifications),
        }


async def test_profile_needs_the_freelancer_role(h: Harness) -> None:
    cleo = await client(h)
    await h.send(cleo, "/profile")
    assert "Profiles are for freelancers" in h.last(cleo).text
    await h.press_data(cleo, "prof:edit::headline")
    assert "Only freelancers" in h.last_answer(cleo).text
    assert await profile_of(h, cleo) == {}


async def test_meter_leads_field_by_field_to_a_complete_profile(h: Harness) -> None:
    fran = await freelancer(h)
    await h.send(fran, "/profile")
    card = h.last(fran)
    assert "Profile 0% complete" in card.text and "Next: add a headline" in card.text
    assert "No reviews yet" in card.text and "not known yet" in card.text

    await h.press(fran, "➕ Add a headline")
    await h.send(fran, HOSTILE)
    assert "Saved" in h.texts(fran)[-2]
    assert HOSTILE in h.last(fran).text and "<script>" not in h.last(fran).html
    assert "Profile 15% complete" in h.last(fran).text
    assert "Next: add at least 3 skills" in h.last(fran).text

    await h.press(fran, "➕ Add skills")
    await h.press(fran, "Development")
    await h.press(fran, "Python")
    await h.press(fran, "Telegram bots")
    assert "✓ Python" in h.last(fran).labels()
    await h.press(fran, "✓ Python")  # a second press removes it
    assert "Python" in h.last(fran).labels()
    await h.press(fran, "Python")
    await h.press(fran, "‹ Back")
    await h.press(fran, "➕ Type a skill")
    await h.send(fran, "C++")
    assert "Skills: Telegram bots, Python, C++" in h.last(fran).text
    await h.press(fran, "➕ Type a skill")
    await h.send(fran, "!!!")
    assert "letters or digits" in h.last(fran).text
    await h.send(fran, "x" * 50)
    assert "at most 32 characters" in h.last(fran).text
    await h.send(fran, "Google Ads")
    await h.press(fran, "✖ Google Ads")
    assert (await profile_of(h, fran))["tags"] == ["C++"]
    await h.press(fran, "✅ Done")
    assert "Next: choose your category" in h.last(fran).text

    await h.press(fran, "➕ Choose a category")
    await h.press(fran, "Development")
    await h.press(fran, "➕ Write a bio")
    await h.send(fran, "x" * 10_000)
    assert "at most 2000 characters; yours has 10000" in h.last(fran).text
    await h.send(fran, "I build bots 🤖 & <tools> for small shops. " * 3)
    assert "I build bots 🤖 & <tools>" in h.last(fran).text

    await h.press(fran, "➕ Set an hourly rate")
    for bad, reason in [("abc", "not an amount"), ("-3", "positive"), ("0", "more than zero")]:
        await h.send(fran, bad)
        assert reason in h.last(fran).text, bad
    await h.send(fran, "40")
    assert "$40.00/hour" in h.last(fran).text

    await h.press(fran, "➕ Add a portfolio link")
    await h.press(fran, "➕ Add a link")
    for bad, reason in [
        ("javascript:alert(1)", "Only http"),
        ("not a link", "not a link"),
        ("ftp://files.example.com", "Only http"),
        ("http://user:pw@example.com", "not a link"),
        ("https://" + "a" * 300 + ".com", "at most"),
    ]:
        await h.send(fran, bad)
        assert reason in h.last(fran).text, (bad, h.last(fran).text)
    await h.send(fran, "github.com/fran?a=<b>&c=1")
    assert "https://github.com/fran?a=<b>&c=1" in h.last(fran).text
    await h.press(fran, "➕ Add a link")
    await h.send(fran, "https://dribbble.com/fran")
    await h.press(fran, "✖ 1. https://github.com/fran?a=<…")
    assert (await profile_of(h, fran))["portfolio"] == ["https://dribbble.com/fran"]
    await h.press(fran, "✅ Done")

    await h.press(fran, "➕ Add experience")
    for bad in ("-1", "abc", "71"):
        await h.send(fran, bad)
        assert "years of experience" in h.last(fran).text or "whole number" in h.last(fran).text
    await h.send(fran, "6")
    await h.press(fran, "➕ Add a certification")
    await h.press(fran, "➕ Add a certification")
    await h.send(fran, "AWS <Certified> & 🏅")
    assert "AWS <Certified> & 🏅" in h.last(fran).text
    await h.press(fran, "✅ Done")
    card = h.last(fran).text
    assert "Profile 100% complete" in card and "Next:" not in card
    saved = await profile_of(h, fran)
    assert saved["skills"] == ["telegram-bots", "python"] and saved["category"] == "development"
    assert (saved["rate"], saved["years"]) == (4_000, 6)
    assert saved["certifications"] == ["AWS <Certified> & 🏅"]


async def test_forged_and_stale_profile_buttons(h: Harness) -> None:
    fran = await freelancer(h)
    await h.send(fran, "/profile")
    for data, reason in [
        ("prof:sk::not-a-skill", "from the list"),
        ("prof:cat::nowhere", "from the list"),
        ("prof:rm:3:tags", "no longer there"),
        ("prof:rm:0:evil", "no longer available"),
        ("prof:edit::evil", "no longer available"),
        ("prof:skc::nowhere", "no longer available"),
        ("prof:card:424242", ""),
    ]:
        await h.press_data(fran, data)
        answer = h.last_answer(fran)
        assert answer.show_alert and reason in answer.text, data
    assert await profile_of(h, fran) == {}


async def test_cancel_and_duplicate_update(h: Harness) -> None:
    fran = await freelancer(h)
    await h.send(fran, "/profile")
    await h.press(fran, "✏️ Headline")
    await h.press(fran, "✖️ Cancel")
    assert "Profile 0% complete" in h.last(fran).text
    await h.send(fran, "Just chatting")  # no longer in the prompt
    assert await profile_of(h, fran) == {}
    await h.press(fran, "✏️ Headline")
    await h.send(fran, "First headline", update_id=880_001)
    await h.press(fran, "✏️ Headline")
    again = await h.send(fran, "First headline", update_id=880_001)
    assert again.duplicate
    assert "Send your headline" in h.last(fran).text  # still asking: the repeat did nothing


async def test_clients_see_the_card_with_the_record(h: Harness) -> None:
    cleo = await client(h)
    fran = await freelancer(h)
    await h.send(fran, "/profile")
    await h.press(fran, "➕ Add a headline")
    await h.send(fran, "Bot developer")
    job_id = await add_job(h, cleo)
    now = h.clock.now()
    async with h.db.uow() as uow:
        contract = await uow.contracts.add(
            Contract(
                job_id=job_id,
                client_id=cleo.id,
                freelancer_id=fran.id,
                status=ContractStatus.ENDED,
                offered_at=now,
                accepted_at=now + timedelta(minutes=20),
            )
        )
        await uow.milestones.add(
            Milestone(
                contract_id=contract.id,
                title="All of it",
                amount=50_000,
                due_date=date(2026, 1, 10),
                submitted_at=now + timedelta(days=2),
                status=MilestoneStatus.RELEASED,
            )
        )
        await uow.reviews.add(
            Review(
                contract_id=contract.id,
                reviewer_id=cleo.id,
                reviewee_id=fran.id,
                rating=5,
                status=ReviewStatus.REVEALED,
            )
        )
        await uow.messages.add(
            ContractMessage(
                contract_id=contract.id, sender_id=cleo.id, recipient_id=fran.id, created_at=now
            )
        )
        await uow.messages.add(
            ContractMessage(
                contract_id=contract.id,
                sender_id=fran.id,
                recipient_id=cleo.id,
                created_at=now + timedelta(minutes=30),
            )
        )
        await uow.commit()

    await h.press_data(cleo, f"prof:card:{fran.id}")
    card = h.last(cleo)
    assert "Bot developer" in card.text
    assert "⭐ 5.0 (1 review)" in card.text  # one, not "1 reviews" (issue 11, item 14)
    assert "Jobs done: 1 · On time: 100%" in card.text
    assert "within an hour" in card.text and "Fast Responder" in card.text
    assert "Rising Talent" in card.text
    assert "complete" not in card.text  # the meter is for the owner only
    assert card.labels() == ["🚩 Report user"] or all("✏️" not in x for x in card.labels())

    async with h.db.uow() as uow:
        scope = Scope(uow, h.clock, h.config)
        html, buttons = await profile_card(scope, fran.id, "ru")
    assert "Выполнено заказов: 1" in html and "Bot developer" in html
    # All reviews (issue 11, item 14), then Report.
    assert buttons and buttons[0][0]["data"] == f"rv:reviews:{fran.id}:1"
    assert buttons[1][0]["data"] == f"report:user:{fran.id}"


# --- issue 11: typed skills, and text typed on a list screen -----------------------------

FALLBACK = {"en": "I didn't get that", "ru": "Я не понял"}
LABELS = {
    "en": {
        "skills": "✏️ Skills",
        "type": "➕ Type a skill",
        "portfolio": "➕ Add a portfolio link",
        "certs": "✏️ Certifications",
        "done": "✅ Done",
    },
    "ru": {
        "skills": "✏️ Навыки",
        "type": "➕ Ввести навык",
        "portfolio": "➕ Добавить ссылку",
        "certs": "✏️ Сертификаты",
        "done": "✅ Готово",
    },
}


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_typed_skills_are_split_and_keep_their_case(h: Harness, lang: str) -> None:
    """ "HTML, CSS, Figma" is three skills, shown as typed, as in the job wizard
    (it was one skill "html-css-figma"); typing one again in another case adds nothing."""
    fran = await freelancer(h, lang=lang)
    words = LABELS[lang]
    await h.send(fran, "/profile")
    await h.press(fran, words["skills"])
    await h.press(fran, words["type"])
    await h.send(fran, "HTML, CSS, Figma")
    screen = h.last(fran)
    assert "HTML, CSS, Figma" in screen.text, screen.text
    assert {"✖ HTML", "✖ CSS", "✖ Figma"} <= set(screen.labels())
    assert (await profile_of(h, fran))["tags"] == ["HTML", "CSS", "Figma"]

    await h.send(fran, "css, Python, Google Ads")  # typed right on the skills screen
    saved = await profile_of(h, fran)
    assert saved["tags"] == ["HTML", "CSS", "Figma", "Google Ads"] and saved["skills"] == ["python"]
    assert FALLBACK[lang] not in h.last(fran).text
    await h.press(fran, words["done"])
    card = h.last(fran).text
    assert "Python, HTML, CSS, Figma, Google Ads" in card, card


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_old_lowercase_tags_still_show_and_match_typed_case(h: Harness, lang: str) -> None:
    fran = await freelancer(h, lang=lang)
    async with h.db.uow() as uow:  # a tag stored before case was kept: a slug
        await uow.profiles.add(FreelancerProfile(user_id=fran.id, tags=["google-ads", "css"]))
        await uow.commit()
    await h.send(fran, "/profile")
    await h.press(fran, LABELS[lang]["skills"])
    assert "google-ads, css" in h.last(fran).text
    await h.send(fran, "Google Ads, CSS, Figma")
    assert (await profile_of(h, fran))["tags"] == ["google-ads", "css", "Figma"]


async def complete_up_to_portfolio(h: Harness, who: Person) -> None:
    async with h.db.uow() as uow:
        await update_profile(
            uow,
            h.clock,
            h.config,
            who.id,
            ProfileFields(
                headline="Bot developer",
                skills=["python", "telegram-bots", "backend"],
                category="development",
                bio="I build Telegram bots for small shops: orders, payments, reminders. " * 2,
                hourly_rate=4_000,
            ),
        )
        await uow.commit()


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_link_typed_on_the_portfolio_screen_is_added(h: Harness, lang: str) -> None:
    """Profile → "Add a portfolio link" → typing a URL right there adds it (it was
    answered "I didn't get that": the screen asked for a link but set no step)."""
    fran = await freelancer(h, lang=lang)
    await complete_up_to_portfolio(h, fran)
    words = LABELS[lang]
    await h.send(fran, "/profile")
    await h.press(fran, words["portfolio"])
    assert "https://github.com/you" in h.last(fran).text  # it says what to send
    await h.send(fran, "github.com/fran")
    assert FALLBACK[lang] not in h.last(fran).text
    assert "1. https://github.com/fran" in h.last(fran).text
    await h.send(fran, "https://dribbble.com/fran")  # and another, still on the list
    assert (await profile_of(h, fran))["portfolio"] == [
        "https://github.com/fran",
        "https://dribbble.com/fran",
    ]
    await h.press(fran, words["done"])
    await h.send(fran, "https://example.com/later")  # after leaving: not a link for the list
    assert FALLBACK[lang] in h.last(fran).text
    assert len((await profile_of(h, fran))["portfolio"]) == 2

    await h.send(fran, "/profile")  # the certifications list takes a name the same way
    await h.press(fran, words["certs"])
    await h.send(fran, "AWS Solutions Architect")
    assert "1. AWS Solutions Architect" in h.last(fran).text
    assert (await profile_of(h, fran))["certifications"] == ["AWS Solutions Architect"]


async def test_every_profile_button_that_asks_for_text_takes_it(h: Harness) -> None:
    """The class of the portfolio defect: walk every screen of the profile editor;
    where a ➕ button leads (other than a list to choose from) or the screen asks to
    send or type something, text sent next is taken, never "I didn't get that"."""
    fran = await freelancer(h)
    await complete_up_to_portfolio(h, fran)  # the meter's ➕ leads to the portfolio
    await h.send(fran, "/profile")
    todo = [(b["text"], b["data"]) for row in h.last(fran).buttons or [] for b in row]
    seen: set[str] = set()
    checked = 0
    while todo:
        label, data = todo.pop(0)
        choice = any(f":{a}:" in data for a in ("remove", "toggle_skill", "set_category"))
        if data in seen or not data.startswith("prof:") or choice:
            continue
        seen.add(data)
        await h.send(fran, "/profile")  # from the card each time: no step left over
        await h.press_data(fran, data)
        screen = h.last(fran)
        todo += [(b["text"], b["data"]) for row in screen.buttons or [] for b in row]
        asks = label.startswith("➕") and not screen.text.startswith("Choose")
        asks = asks or any(w in screen.text for w in ("Send", "send", "type"))
        if asks:
            await h.send(fran, "https://example.com/work")
            assert "I didn't get that" not in h.last(fran).text, (label, screen.text)
            checked += 1
    assert checked >= 8 and "prof:edit::portfolio" in seen
