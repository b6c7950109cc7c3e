"""Charts as pictures (issue 18, part 3): a scripted history over twelve weeks on a
real database, then the admin's /stats chart, the freelancer's earnings chart and
the client's spending chart — their numbers, their words in both languages, and the
PNG each draws (bot/charts.py, as the sender does)."""

from __future__ import annotations

import asyncio
import io
import os
import struct
from pathlib import Path

import pytest
from PIL import Image

from bot.charts import ChartCache, render_png
from bot.ratelimit import RateLimiter
from bot.sender import OutboxSender
from handlers.callbacks import encode
from handlers.charts import fingerprint
from tests.bot.test_sender import FAST, api, emu, framework, limits, open_chats  # noqa: F401
from tests.flows.conftest import ADMIN_ID
from tests.flows.harness import Harness, Message, Person
from tests.flows.test_disputes import open_by
from tests.flows.test_offers import deal, fund, label, money_harness
from tests.flows.test_work import submit

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def h(db, clock) -> Harness:
    return money_harness(db, clock)


def check_png(data: bytes) -> tuple[int, int]:
    """A valid PNG of a sane size with a real picture in it; (width, height)."""
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    assert 600 <= width <= 1600 and 300 <= height <= 1600, (width, height)
    assert 15_000 < len(data) < 1_000_000, len(data)
    Image.open(io.BytesIO(data)).verify()  # every chunk and its CRC
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert image.size == (width, height)
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # bars, text, antialiasing: not blank
    return width, height


def chart_of(message: Message) -> dict:
    assert message.media == "chart", message
    assert message.chart is not None
    return message.chart


def series(spec: dict, panel: int, kind: str, k: int) -> list:
    return spec["panels"][panel][kind][k]["values"]


async def history(h: Harness) -> tuple[Person, Person]:
    """Carla hires Fred for three milestones ($100, $50, $200; the client pays 5 % on
    top, the freelancer keeps 90 %): the first paid and released in the week of 5
    January, the second in the week of 2 February, the third funded in the week of
    2 March and disputed; Fred withdraws everything that week. Now: 23 March."""
    carla, fred, _cid, mids = await deal(h, amounts=("100", "50", "200"))
    for mid in mids[:2]:
        await fund(h, carla, mid)
        await submit(h, fred, mid, "done")
        await h.press_data(carla, encode("wk", "rel", mid))
        h.clock.advance(days=28)  # type: ignore[attr-defined]
    await fund(h, carla, mids[2])
    await open_by(h, carla, mids[2])
    await h.send(fred, "/balance")
    await h.press(fred, label("balance.btn.withdraw"))
    await h.press(fred, label("balance.btn.withdraw_all", amount="$135.00"))
    h.clock.advance(days=21)  # type: ignore[attr-defined]
    return carla, fred


async def test_admin_stats_answers_with_the_twelve_weeks_chart_and_the_numbers(h: Harness) -> None:
    await history(h)
    ada = h.person("Ada", id=ADMIN_ID)
    await h.send(ada, "/start")
    await h.send(ada, "/stats")
    picture, numbers = h.chat(ada)[-2:]
    assert "Users: 3" in numbers.text  # the text stats stay, with their buttons
    assert numbers.buttons
    spec = chart_of(picture)
    assert spec["title"] == "Gigbot: the last 12 weeks"
    assert spec["x"][0] == "5 Jan" and spec["x"][4] == "2 Feb" and spec["x"][-1] == "23 Mar"
    activity, money = spec["panels"]
    assert [s["name"] for s in activity["bars"]] == [
        "Jobs posted",
        "Contracts started",
        "Disputes opened",
    ]
    assert series(spec, 0, "bars", 0) == [1] + [0] * 11  # the one job, week 1
    assert series(spec, 0, "bars", 1) == [1] + [0] * 11  # its contract
    assert series(spec, 0, "bars", 2) == [0] * 8 + [1, 0, 0, 0]  # the dispute, 2 March
    funded = series(spec, 1, "bars", 0)
    released = series(spec, 1, "bars", 1)
    held = series(spec, 1, "lines", 0)
    assert funded == [105.0, 0, 0, 0, 52.5, 0, 0, 0, 210.0, 0, 0, 0]
    assert released == [90.0, 0, 0, 0, 45.0, 0, 0, 0, 0, 0, 0, 0]
    assert held == [0.0] * 8 + [210.0] * 4  # the disputed milestone stays in escrow
    assert money["unit"] == "USD"
    caption = picture.text
    assert "The last 12 weeks: 1 jobs posted, 1 contracts started, 1 disputes opened" in caption
    assert "$367.50 paid into escrow, $135.00 released" in caption
    image = render_png(spec)
    check_png(image)
    if shot := os.environ.get("GIGBOT_CHART_SHOT"):  # docs/charts.png is made this way
        Path(shot).write_bytes(image)  # noqa: ASYNC240 (only when asked, once)


async def test_the_chart_speaks_the_admins_language(h: Harness) -> None:
    await history(h)
    ada = h.person("Ада", lang="ru", id=ADMIN_ID)
    await h.send(ada, "/start")
    await h.send(ada, "/stats")
    spec = chart_of(h.chat(ada)[-2])
    assert spec["title"] == "Gigbot: последние недели (12)"
    assert spec["x"][0] == "5 янв." and spec["x"][-1] == "23 мар."
    assert spec["panels"][0]["bars"][0]["name"] == "Опубликовано заказов"
    assert spec["panels"][1]["lines"][0]["name"] == "В эскроу (на конец недели)"
    assert "Последние недели (12)" in h.chat(ada)[-2].text
    check_png(render_png(spec))


async def test_freelancer_earnings_chart_per_month(h: Harness) -> None:
    carla, fred = await history(h)
    await h.send(fred, "/balance")
    assert label("chart.btn.earnings") in h.last(fred).labels()
    assert label("chart.btn.spending") not in h.last(fred).labels()  # he never paid anything
    await h.press(fred, label("chart.btn.earnings"))
    picture = h.last(fred)
    spec = chart_of(picture)
    assert spec["title"] == "Your earnings: the last 12 months"
    assert spec["x"][0] == "Apr 25" and spec["x"][-3:] == ["Jan 26", "Feb 26", "Mar 26"]
    earned, withdrawn = series(spec, 0, "bars", 0), series(spec, 0, "bars", 1)
    assert earned == [0] * 9 + [90.0, 45.0, 0]
    assert withdrawn == [0] * 11 + [135.0]
    assert "$135.00 earned, $135.00 withdrawn" in picture.text
    check_png(render_png(spec))
    _ = carla


async def test_client_spending_chart_per_month(h: Harness) -> None:
    carla, _fred = await history(h)
    await h.send(carla, "/balance")
    assert label("chart.btn.earnings") not in h.last(carla).labels()
    await h.press(carla, label("chart.btn.spending"))
    picture = h.last(carla)
    spec = chart_of(picture)
    assert spec["title"] == "Your spending: the last 12 months"
    assert series(spec, 0, "bars", 0) == [0] * 9 + [105.0, 52.5, 210.0]
    assert series(spec, 0, "bars", 1) == [0] * 12  # nothing refunded yet
    assert "$367.50 paid into escrow, $0.00 refunded" in picture.text
    check_png(render_png(spec))


async def test_no_chart_buttons_without_money(h: Harness) -> None:
    fred = h.person("Fred")
    await h.send(fred, "/start")
    await h.press(fred, label("role.pick_freelancer"))
    await h.send(fred, "/balance")
    labels = h.last(fred).labels()
    assert label("chart.btn.earnings") not in labels and label("chart.btn.spending") not in labels


async def test_a_chart_is_drawn_once_until_its_data_changes(h: Harness) -> None:
    """The same numbers give the same fingerprint and the cached PNG; a new job
    posted changes the fingerprint, so the next chart is drawn afresh."""
    carla, _fred = await history(h)
    ada = h.person("Ada", id=ADMIN_ID)
    await h.send(ada, "/start")
    await h.send(ada, "/stats")
    first = chart_of(h.chat(ada)[-2])
    await h.send(ada, "/stats")
    again = chart_of(h.chat(ada)[-2])
    assert fingerprint(first) == fingerprint(again)

    cache = ChartCache()
    # Three rows of the same chart sent at once: drawn once, in a worker thread.
    images = await asyncio.gather(*(cache.png(first) for _ in range(3)))
    assert cache.drawn == 1 and len(set(images)) == 1
    image = images[0]
    assert await cache.png(again) is image and cache.drawn == 1

    from tests.flows.test_offers import open_job

    await open_job(h, carla, "Another job")
    await h.send(ada, "/stats")
    changed = chart_of(h.chat(ada)[-2])
    assert series(changed, 0, "bars", 0)[-1] == 1
    assert fingerprint(changed) != fingerprint(first)
    assert await cache.png(changed) != image and cache.drawn == 2


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_the_history_charts_go_out_as_photos_through_a_real_framework(
    h: Harness,
    emu,  # noqa: F811
    api,  # noqa: F811
) -> None:
    """The very rows the flows wrote for the three charts, delivered by the real sender
    through aiogram / python-telegram-bot to the Bot API emulator: sendPhoto uploads
    (multipart), each a valid PNG with its caption."""
    carla, fred = await history(h)
    ada = h.person("Ada", id=ADMIN_ID)
    await h.send(ada, "/start")
    await h.send(ada, "/stats")
    await h.send(fred, "/balance")
    await h.press(fred, label("chart.btn.earnings"))
    await h.send(carla, "/balance")
    await h.press(carla, label("chart.btn.spending"))
    async with h.db.uow() as uow:
        rows = await uow.outbox.find(method="chart", order_by="id")
        assert [r.chat_id for r in rows] == [ada.id, fred.id, carla.id]
        for row in rows:  # the harness played Telegram; now the real sender does
            row.status, row.attempts, row.message_id = "pending", 0, None
        await uow.commit()
    open_chats(emu, [ada.id, fred.id, carla.id])

    assert await OutboxSender(h.db, api, RateLimiter(FAST)).flush(20)

    assert [c.status for c in emu.calls_to("sendPhoto")] == [200, 200, 200]
    for who, row in zip((ada, fred, carla), rows, strict=True):
        [shown] = emu.messages(who.id)
        assert shown["caption"] == h.chat(who)[-1 if who != ada else -2].text
        stored = emu.files[shown["photo"][-1]["file_id"]]
        width, height = check_png(stored.data)
        assert (shown["photo"][-1]["width"], shown["photo"][-1]["height"]) == (width, height)
        assert row.payload["fingerprint"] == fingerprint(row.payload["chart"])


async def test_the_weekly_numbers_on_both_databases(any_db, clock) -> None:
    """The same history gives the same weekly series on SQLite and PostgreSQL (dates
    compared as timestamps with a time zone, amounts from the ledger)."""
    h = money_harness(any_db, clock)
    await history(h)
    ada = h.person("Ada", id=ADMIN_ID)
    await h.send(ada, "/start")
    await h.send(ada, "/stats")
    spec = chart_of(h.chat(ada)[-2])
    assert series(spec, 0, "bars", 0) == [1] + [0] * 11
    assert series(spec, 0, "bars", 2) == [0] * 8 + [1, 0, 0, 0]
    assert series(spec, 1, "bars", 0) == [105.0, 0, 0, 0, 52.5, 0, 0, 0, 210.0, 0, 0, 0]
    assert series(spec, 1, "lines", 0) == [0.0] * 8 + [210.0] * 4
