"""Talent search through the REAL frameworks (aiogram and python-telegram-bot, long
polling against the Bot API emulator, the real Runtime): Felix fills in his profile
and says he is away for a week; Clara posts a job, finds him with /talent, sees he
is away, invites him anyway from his card; Felix gets the invitation and pitches on
it, and Clara gets the pitch (issue 14, parts 3, 4 and 6)."""

from __future__ import annotations

import pytest

from tests.e2e.harness import CLARA, FELIX, FRAMEWORKS, make_emulator, serve_emulator
from tests.e2e.story_steps import Stage, labels, post_fixed_job, running
from tests.e2e.test_runtime import settings_for


@pytest.fixture(params=FRAMEWORKS)
async def stage(request, tmp_path):
    emu = make_emulator()
    async with serve_emulator(emu) as api_base:
        settings = settings_for(request.param, "polling", api_base, emu.token, tmp_path / "t.db")
        async with running(settings):
            yield Stage(emu)


async def test_client_finds_talent_invites_and_the_freelancer_pitches(stage: Stage) -> None:
    s = stage
    for who, role in ((CLARA, "💼 I hire (client)"), (FELIX, "🧑‍💻 I work (freelancer)")):
        await s.send(who, "/start")
        await s.sees(who, "Welcome to Gigbot")
        await s.press(who, role)
        await s.sees(who, "You're set up as a")

    # --- Felix: a profile, and away for a week ----------------------------------------------
    await s.send(FELIX, "/profile")
    await s.press(FELIX, "➕ Add a headline")
    await s.send(FELIX, "Python developer, Telegram bots")
    await s.press(FELIX, "➕ Add skills")
    await s.press(FELIX, "Development")
    for skill in ("Python", "Telegram bots"):
        await s.press(FELIX, skill)
    await s.press(FELIX, "✅ Done")
    await s.press(FELIX, "📅 Availability: available")
    await s.press(FELIX, "🌴 Away…")
    await s.press(FELIX, "1 week")
    await s.sees(FELIX, "Saved: 🌴 Away until", "Job alerts pause while you are away")

    # --- Clara posts a job --------------------------------------------------------------------
    await post_fixed_job(
        s,
        CLARA,
        "Telegram bot for a bakery",
        "A Telegram bot that takes orders for a small bakery, with an admin panel.",
        "Development",
        "Python",
        "500",
    )

    # --- Clara searches talent, opens Felix's card, invites him --------------------------------
    await s.send(CLARA, "/talent")
    await s.sees(CLARA, "Freelancers found: 1")
    await s.send(CLARA, "telegram bots")
    found = await s.sees(CLARA, "Freelancers found: 1", "Felix", "🌴 Away until")
    assert "1. Felix" in labels(found)
    await s.press(CLARA, "1. Felix")
    await s.sees(CLARA, "Python developer, Telegram bots")
    await s.press(CLARA, "📨 Invite to a job")
    await s.press(CLARA, "Telegram bot for a bakery")
    await s.sees(CLARA, "Felix is away until")  # said before sending
    await s.press(CLARA, "📨 Invite anyway")
    await s.sees(CLARA, "Invited.")

    # --- Felix pitches on the invitation ----------------------------------------------------
    await s.sees(FELIX, "invites you to pitch", "Telegram bot for a bakery")
    await s.press(FELIX, "✋ Pitch")
    await s.sees(FELIX, "cover letter")
    await s.send(FELIX, "I have built three ordering bots for cafés; two weeks is enough.")
    await s.sees(FELIX, "Your price")
    await s.send(FELIX, "450")
    await s.sees(FELIX, "How many days")
    await s.send(FELIX, "14")
    await s.press(FELIX, "No milestones")
    await s.press(FELIX, "📤 Send pitch")
    await s.sees(FELIX, "was sent")
    await s.sees(CLARA, "New pitch", "from Felix: $450.00, 14 days")
