"""Closing the loop (issue 11, items 12–14): after a hire the job leaves the market
unless the client keeps it open; the last settled milestone offers "End contract
and rate" to both, a release offers the next milestone's funding; reviews on the
profile card, plural forms, and no score before a completed contract."""

from __future__ import annotations

import pytest

from domain.states import JobStatus
from handlers.callbacks import encode
from tests.flows.harness import Harness, Person
from tests.flows.test_offers import (
    add_pitch,
    all_of,
    join_as,
    label,
    money_harness,
    open_job,
    people,
    send_offer,
)

LANGS = ["en", "ru"]


@pytest.fixture
def h(db, clock) -> Harness:
    return money_harness(db, clock)


async def job_status(h: Harness, job_id: int) -> JobStatus:
    [job] = await all_of(h, "jobs", id=job_id)
    return job.status


async def hired(h: Harness, lang: str) -> tuple[Person, Person, Person, int]:
    """Carla hires Fred on an open job; Vera is another freelancer looking for work."""
    carla, fred = await people(h, lang, lang)
    vera = h.person("Vera", lang=lang)
    await join_as(h, vera, "freelancer")
    job_id = await open_job(h, carla, "Landing page for a bakery")
    cid = await send_offer(h, carla, await add_pitch(h, job_id, fred))
    await h.press_data(fred, encode("of", "accept", cid))
    return carla, fred, vera, job_id


def question(h: Harness, carla: Person, lang: str = "en"):  # type: ignore[no-untyped-def]
    """The latest message asking Carla whether to close the job."""
    close = label("offers.hired.btn.close", lang)
    return next(m for m in reversed(h.chat(carla)) if close in m.labels())


async def on_market(h: Harness, vera: Person, job_id: int) -> dict[str, bool]:
    """Where Vera finds the job: the list, a search, a deep link, the Pitch button."""
    found = {}
    await h.send(vera, "/jobs")
    found["browse"] = "Landing page for a bakery" in h.last(vera).text
    await h.send(vera, "/jobs bakery")
    found["search"] = "Landing page for a bakery" in h.last(vera).text
    await h.send(vera, f"/start job_{job_id}")
    found["link"] = "Landing page for a bakery" in h.last(vera).text
    answers = len(h.chat_of(vera).answers)
    await h.press_data(vera, encode("pitch", "start", job_id))
    refused = [a for a in h.chat_of(vera).answers[answers:] if a.text]
    found["pitch"] = not refused
    return found


async def tap(h: Harness, who: Person, message, text: str) -> None:  # type: ignore[no-untyped-def]
    """Press the button labelled `text` on that very message."""
    found = message.button(text)
    assert found is not None, message.labels()
    await h.press_data(who, found["data"], message.message_id)


NOWHERE = {"browse": False, "search": False, "link": False, "pitch": False}
EVERYWHERE = {"browse": True, "search": True, "link": True, "pitch": True}


@pytest.mark.parametrize("lang", LANGS)
async def test_a_hire_takes_the_job_off_the_market_and_asks_the_client(h, lang):
    carla, fred, vera, job_id = await hired(h, lang)
    # Before the fix the job stayed open: Vera found it everywhere and could pitch.
    assert await job_status(h, job_id) is JobStatus.PAUSED
    ask = question(h, carla, lang)
    assert label("offers.hired.btn.close", lang) in ask.labels()
    assert label("offers.hired.btn.keep_open", lang) in ask.labels()
    assert ("Close “Landing page" if lang == "en" else "Закрыть «Landing page") in ask.text
    assert await on_market(h, vera, job_id) == NOWHERE
    # Fred, who was hired, still reads his job.
    await h.send(fred, f"/start job_{job_id}")
    assert "Landing page for a bakery" in h.last(fred).text

    await tap(h, carla, ask, label("offers.hired.btn.keep_open", lang))
    assert await job_status(h, job_id) is JobStatus.OPEN
    assert await on_market(h, vera, job_id) == EVERYWHERE


@pytest.mark.parametrize("lang", LANGS)
async def test_close_after_a_hire_closes_the_job_and_a_second_answer_changes_nothing(h, lang):
    carla, _, vera, job_id = await hired(h, lang)
    ask = question(h, carla, lang)
    close = ask.button(label("offers.hired.btn.close", lang))
    await h.press_data(carla, close["data"], ask.message_id)  # type: ignore[index]
    assert await job_status(h, job_id) is JobStatus.CLOSED
    assert await on_market(h, vera, job_id) == NOWHERE
    await h.press_data(carla, close["data"], ask.message_id)  # type: ignore[index]
    assert await job_status(h, job_id) is JobStatus.CLOSED
    # A stranger's press is refused as for an unknown job, and changes nothing.
    await h.press_data(vera, encode("of", "keep_open", job_id))
    assert await job_status(h, job_id) is JobStatus.CLOSED


async def test_a_job_kept_open_is_not_taken_off_by_the_next_hire(h):
    carla, _, vera, job_id = await hired(h, "en")
    await tap(h, carla, question(h, carla), label("offers.hired.btn.keep_open"))
    cid = await send_offer(h, carla, await add_pitch(h, job_id, vera))
    asked = len(h.chat(carla))
    await h.press_data(vera, encode("of", "accept", cid))
    assert await job_status(h, job_id) is JobStatus.OPEN
    assert not any(label("offers.hired.btn.close") in m.labels() for m in h.chat(carla)[asked:])
