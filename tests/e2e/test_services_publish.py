"""Publishing a service through the REAL frameworks (aiogram and
python-telegram-bot, long polling against the Bot API emulator, the real
Runtime): Felix publishes a service with three packages and an extra, pauses it
and resumes it (issue 15, part 1)."""

from __future__ import annotations

import pytest

from tests.e2e.harness import FELIX, FRAMEWORKS, make_emulator, serve_emulator
from tests.e2e.service_steps import publish_service
from tests.e2e.story_steps import Stage, labels, running
from tests.e2e.test_runtime import settings_for


@pytest.fixture(params=FRAMEWORKS)
async def stage(request, tmp_path):
    emu = make_emulator()
    async with serve_emulator(emu) as api_base:
        settings = settings_for(request.param, "polling", api_base, emu.token, tmp_path / "s.db")
        async with running(settings):
            yield Stage(emu)


async def test_a_freelancer_publishes_pauses_and_resumes_a_service(stage: Stage) -> None:
    s = stage
    await s.send(FELIX, "/start")
    await s.sees(FELIX, "Welcome to Gigbot")
    await s.press(FELIX, "🧑‍💻 I work (freelancer)")
    await s.sees(FELIX, "You're set up as a")
    await publish_service(
        s,
        FELIX,
        "A minimalist logo for your brand",
        "I draw clean, memorable logos for small brands, with vector files.",
        "Design",
        "Logo design",
        [
            ("Basic", "One concept, PNG", "50", "3", "1"),
            ("Standard", "Two concepts, vector files", "120", "5", "2"),
            ("Premium", "Three concepts, brand guide", "300", "7", "3"),
        ],
        extras=[("Source files", "20", "1 day faster")],
        links=["https://dribbble.com/felix"],
        questions=["What is the name of your brand?"],
    )
    card = await s.sees(FELIX, "$50.00", "$120.00", "$300.00", "Source files (1 day faster)")
    assert "⏸ Pause" in labels(card)
    await s.press(FELIX, "⏸ Pause")
    card = await s.sees(FELIX, "Paused")
    assert "▶️ Resume" in labels(card)
    await s.press(FELIX, "▶️ Resume")
    await s.sees(FELIX, "Live again")
    await s.send(FELIX, "/services")
    listed = await s.sees(FELIX, "Your services (1 of 20)")
    assert any("A minimalist logo" in label for label in labels(listed))
