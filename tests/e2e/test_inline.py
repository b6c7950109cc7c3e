"""Inline mode through the REAL frameworks (aiogram and python-telegram-bot, long
polling against the Bot API emulator, the real Runtime): Felix types
"@gigbot… python bot" in a chat and gets the matching open jobs a page at a time,
the newest jobs for empty words, Telegram's cache for the same words again; he
posts one card into the chat ("via @bot") and its deep links open the job and
start a pitch (issue 18, part 1)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bot.app import SystemClock
from domain.usecases import accounts
from domain.usecases import jobs as job_uc
from tests.e2e.harness import CLARA, FELIX, FRAMEWORKS, make_emulator, serve_emulator
from tests.e2e.story_steps import Stage, database_of, running
from tests.e2e.test_runtime import settings_for

PYTHON_JOBS = 23  # more than one page of 20
OTHER_JOBS = 2


@pytest.fixture(params=FRAMEWORKS)
async def stage(request, tmp_path):
    emu = make_emulator(inline_placeholder="Search jobs…")
    async with serve_emulator(emu) as api_base:
        settings = settings_for(request.param, "polling", api_base, emu.token, tmp_path / "t.db")
        async with running(settings) as rt:
            yield Stage(emu), rt


async def _seed(rt) -> dict[str, int]:
    """Clara's jobs: 23 open Python bots, 2 open logos, one draft and one closed job."""
    clock, config = SystemClock(), rt.engine.config
    ids: dict[str, int] = {}
    async with database_of(rt) as db:
        async with db.uow() as uow:
            await accounts.register_user(uow, clock, CLARA, name="Clara")
            await accounts.set_roles(uow, clock, CLARA, client=True, freelancer=False)
            titles = [f"Python bot number {k}" for k in range(1, PYTHON_JOBS + 1)]
            titles += [f"Logo design {k}" for k in range(1, OTHER_JOBS + 1)]
            for title in [*titles, "Python bot kept as a draft", "Python bot closed"]:
                fields = job_uc.JobFields(
                    title=title,
                    description=(
                        "A Telegram bot in Python, with an admin panel."
                        if "Python" in title
                        else "A logo for a small bakery, two colours."
                    ),
                    budget=50000,
                )
                job = await job_uc.post_job(uow, clock, config, CLARA, fields)
                assert job.id is not None
                ids[title] = job.id
                if "draft" not in title:
                    await job_uc.publish_job(uow, clock, CLARA, job.id)
                if "closed" in title:
                    await job_uc.close_job(uow, clock, CLARA, job.id)
            await uow.commit()
    return ids


async def test_inline_results_paging_and_a_card_that_opens_the_job(stage) -> None:
    s, rt = stage
    emu = s.emu
    ids = await _seed(rt)
    await s.send(FELIX, "/start")
    await s.sees(FELIX, "Welcome to Gigbot")
    await s.press(FELIX, "🧑‍💻 I work (freelancer)")
    await s.sees(FELIX, "You're set up as a")

    # --- the first page: 20 Python jobs, newest first, a next_offset -----------------------
    asked = emu.inline_query(FELIX, "python bot")
    first = await emu.wait_for_inline_answer(asked.id)
    assert not first.cached
    assert len(first.results) == 20 and first.next_offset == "20"
    assert all(r["title"].startswith("Python bot number") for r in first.results)
    assert first.results[0]["id"] == f"job_{ids['Python bot number 23']}"
    assert "$500.00" in first.results[0]["description"]

    # --- the next page: the 3 left, no further offset; draft and closed never listed -------
    second = await emu.wait_for_inline_answer(
        emu.inline_query(FELIX, "python bot", offset=first.next_offset).id
    )
    assert [r["title"] for r in second.results] == [
        "Python bot number 3",
        "Python bot number 2",
        "Python bot number 1",
    ]
    assert second.next_offset == ""
    shown = {r["id"] for r in first.results + second.results}
    assert f"job_{ids['Python bot kept as a draft']}" not in shown
    assert f"job_{ids['Python bot closed']}" not in shown

    # --- empty words: the newest jobs; the same words again come from Telegram's cache ------
    newest = await emu.wait_for_inline_answer(emu.inline_query(FELIX, "").id)
    assert [r["title"] for r in newest.results[:2]] == ["Logo design 2", "Logo design 1"]
    assert newest.next_offset == "20"
    again = emu.inline_query(CLARA, "python bot")
    assert again.answered and again.cached  # is_personal false: Clara gets Felix's answer
    assert [r["id"] for r in again.results] == [r["id"] for r in first.results]
    logos = await emu.wait_for_inline_answer(emu.inline_query(FELIX, "logo").id)
    assert [r["title"] for r in logos.results] == ["Logo design 2", "Logo design 1"]

    # --- choosing one posts the card "via @bot" with its two deep links ---------------------
    job_id = ids["Python bot number 7"]
    pick = next(r for r in first.results if r["id"] == f"job_{job_id}")
    s._mark(FELIX)
    card = emu.choose_inline_result(FELIX, first.id, pick["id"])
    assert card["via_bot"]["username"] == emu.bot_user["username"]
    assert "Python bot number 7" in card["text"] and "$500.00" in card["text"]
    buttons = {b["text"]: b["url"] for row in card["reply_markup"]["inline_keyboard"] for b in row}
    assert set(buttons) == {"🔗 Open in Gigbot", "✍️ Pitch (freelancers)"}
    for url in buttons.values():
        assert urlsplit(url).netloc == "t.me"
        assert urlsplit(url).path == f"/{emu.bot_user['username']}"

    # --- opening the link: /start job_<id> shows the job -------------------------------------
    payload = parse_qs(urlsplit(buttons["🔗 Open in Gigbot"]).query)["start"][0]
    assert payload == f"job_{job_id}"
    await s.send(FELIX, f"/start {payload}")
    shown_card = await s.sees(FELIX, "Python bot number 7", "A Telegram bot in Python")
    # The posted card itself was no message to answer: only the job's card came back.
    assert [m["message_id"] for m in s.fresh(FELIX)] == [shown_card["message_id"]]

    # --- and Pitch: /start pitch_<id> starts the pitch wizard on it --------------------------
    payload = parse_qs(urlsplit(buttons["✍️ Pitch (freelancers)"]).query)["start"][0]
    assert payload == f"pitch_{job_id}"
    await s.send(FELIX, f"/start {payload}")
    await s.sees(FELIX, "cover letter")


async def test_russian_results_for_a_russian_app(stage) -> None:
    s, rt = stage
    emu = s.emu
    await _seed(rt)
    emu.set_language(FELIX, "ru")
    found = await emu.wait_for_inline_answer(emu.inline_query(FELIX, "logo").id)
    card = emu.choose_inline_result(FELIX, found.id, found.results[0]["id"])
    labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["🔗 Открыть в Gigbot", "✍️ Откликнуться (для фрилансеров)"]
