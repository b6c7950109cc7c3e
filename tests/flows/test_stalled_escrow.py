"""Stalled escrow (issue 12, part 2): a funded milestone with no submission 7 days
past its due date nudges both parties, then every 7 days (missed nudges fold into
one); admins see the count and amount in /stats and the list in /stalled. On SQLite
and PostgreSQL, ticked by a fresh engine each time (the count is a database column)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.usecases import milestones
from handlers.engine import Engine
from tests.flows.conftest import ADMIN_ID
from tests.flows.harness import Harness
from tests.flows.test_messaging import admin, deal, fund, gateway, person

__all__ = ["gateway"]


@pytest.fixture
def h(any_db, clock, config, gateway) -> Harness:
    return Harness(any_db, clock, config, gateway=gateway)


async def tick(h: Harness) -> int:
    h.engine = Engine(h.db.uow, h.clock, h.config, h.engine.gateway)
    return await h.tick()


async def due_on(h: Harness, milestone_id: int, day: date | None) -> None:
    async with h.db.uow() as uow:
        (await uow.milestones.get(milestone_id)).due_date = day
        await uow.commit()


async def test_stalled_escrow_nudges_both_and_shows_to_admins(h: Harness) -> None:
    ada = await admin(h)
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer", lang="ru")
    d = await deal(h, cleo, fran, amounts=(10_000, 20_000, 30_000))
    late, later, undated = d.milestones
    for ms in d.milestones:
        await fund(h, cleo, ms)
    await due_on(h, late, date(2026, 1, 10))  # the clock starts on Mon 5 Jan 2026
    await due_on(h, later, date(2026, 1, 20))
    await due_on(h, undated, None)

    # Six days past due: not yet stalled.
    h.clock.advance(days=11)  # Fri 16 Jan
    counts = (len(h.chat(cleo)), len(h.chat(fran)))
    await tick(h)
    assert (len(h.chat(cleo)), len(h.chat(fran))) == counts
    await h.send(ada, "/stats")
    assert "Stalled escrow: 0 milestones, $0.00" in h.last(ada).text

    # Seven days past due: both nudged, with what each can do and when they hear again.
    h.clock.advance(hours=15)  # Sat 17 Jan, 00:00
    await tick(h)
    told = h.last(cleo)
    assert "“Part 1” is 7 days overdue (Build a Telegram bot): it was due on 2026-01-10" in (
        told.text
    )
    assert "Fran has submitted nothing. $100.00 is held in escrow" in told.text
    assert "again on Sat 24 Jan 2026, 00:00 UTC" in told.text
    assert told.button("⚖️ Open a dispute")["data"] == f"dsp:open:{late}"
    told = h.last(fran)
    assert "«Part 1» просрочен на 7 дней" in told.text and "24.01.2026, 00:00 UTC" in told.text
    assert told.button("📤 Сдать работу") or told.button("📤 Submit work")
    counts = (len(h.chat(cleo)), len(h.chat(fran)))
    await tick(h)  # once
    assert (len(h.chat(cleo)), len(h.chat(fran))) == counts

    await h.send(ada, "/stats")
    assert "Stalled escrow: 1 milestone, $105.00" in h.last(ada).text
    await h.press(ada, "⏳ Stalled escrow")
    listed = h.last(ada).text
    assert f"#{late} “Part 1” (Build a Telegram bot) — $105.00 in escrow, due 2026-01-10" in listed
    assert "7 days overdue" in listed and "Client Cleo · freelancer Fran" in listed

    # Every 7 days while nothing comes; the bot down for two weeks sends one nudge.
    h.clock.advance(days=7)
    await tick(h)
    assert "“Part 1” is 14 days overdue" in h.last(cleo).text
    h.clock.advance(days=14)  # Sat 7 Feb: two nudges of Part 1 missed, Part 2 stalled too
    counts = (len(h.chat(cleo)), len(h.chat(fran)))
    await tick(h)
    assert (len(h.chat(cleo)), len(h.chat(fran))) == (counts[0] + 2, counts[1] + 2)
    news = h.texts(cleo)[-2:]
    assert any("“Part 1” is 28 days overdue" in t for t in news)
    assert any("“Part 2” is 18 days overdue" in t for t in news)
    await h.send(ada, "/stalled")
    listed = h.last(ada).text
    assert "Stalled escrow: 2 funded milestones" in listed and "$315.00 in escrow" in listed
    assert listed.index("“Part 1”") < listed.index("“Part 2”")  # the longest overdue first
    assert "Part 3" not in listed  # no due date: never stalled

    # Work comes: no more nudges for it, and it leaves the list.
    async with h.db.uow() as uow:
        await milestones.submit_work(uow, h.clock, h.config, fran.id, late, "Here it is.")
        await uow.commit()
    await h.deliver()
    h.clock.advance(days=7)
    await tick(h)
    assert not any("“Part 1” is" in t for t in h.texts(cleo)[-2:])
    await h.send(ada, "/stalled")
    assert "“Part 1”" not in h.last(ada).text and "“Part 2”" in h.last(ada).text
    assert [m.text for m in h.chat(ADMIN_ID)][-1] == h.last(ada).text
