"""A chart goes out as a real photo through the REAL frameworks (aiogram and
python-telegram-bot, long polling against the Bot API emulator, the real Runtime):
an admin's /stats is answered with the 12 weeks' PNG uploaded by sendPhoto (multipart,
aiogram's BufferedInputFile / PTB's InputFile), the caption with the totals, then the
text stats; asked again with the same data, the sender sends the cached picture
(issue 18, part 3)."""

from __future__ import annotations

import pytest

from tests.e2e.harness import ADA, FRAMEWORKS, make_emulator, serve_emulator
from tests.e2e.story_steps import Stage, running
from tests.e2e.test_runtime import settings_for
from tests.flows.test_charts import check_png


@pytest.fixture(params=FRAMEWORKS)
async def stage(request, tmp_path):
    emu = make_emulator()
    async with serve_emulator(emu) as api_base:
        settings = settings_for(request.param, "polling", api_base, emu.token, tmp_path / "t.db")
        async with running(settings) as rt:
            yield Stage(emu), rt


async def test_admin_stats_arrives_as_a_photo(stage) -> None:
    s, rt = stage
    await s.send(ADA, "/start")
    await s.sees(ADA, "Welcome to Gigbot")
    await s.send(ADA, "/stats")
    picture = await s.sees(ADA, "The last 12 weeks", "0 jobs posted")
    await s.sees(ADA, "Users: 1")  # the text stats follow the picture
    assert "photo" in picture and "text" not in picture
    [size] = picture["photo"]
    stored = s.emu.files[size["file_id"]]
    width, height = check_png(stored.data)
    assert (size["width"], size["height"]) == (width, height)
    assert stored.mime_type == "image/png"
    uploads = [c for c in s.emu.calls_to("sendPhoto") if c.status == 200]
    assert len(uploads) == 1

    await s.send(ADA, "/stats")
    again = await s.sees(ADA, "The last 12 weeks")
    assert again["message_id"] != picture["message_id"]
    assert s.emu.files[again["photo"][0]["file_id"]].data == stored.data
    assert rt.sender.charts.drawn == 1  # the same data: drawn once, sent twice
