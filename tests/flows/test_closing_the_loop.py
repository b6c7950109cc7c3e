"""Closing the loop (issue 11, items 12–14): after a hire the job leaves the market
unless the client keeps it open; the last settled milestone offers "End contract
and rate" to both, a release offers the next milestone's funding; reviews on the
profile card, plural forms, and no score before a completed contract."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.entities import AlertSubscription, Contract, Review
from domain.states import ContractStatus, JobStatus, ReviewStatus
from domain.usecases import alerts
from handlers.callbacks import encode
from handlers.i18n import translator
from tests.flows.harness import Harness, Person
from tests.flows.test_offers import (
    add_pitch,
    all_of,
    contract,
    deal,
    fund,
    join_as,
    label,
    money_harness,
    open_job,
    people,
    send_offer,
)
from tests.flows.test_work import submit

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


async def in_digest(h: Harness, vera: Person, job_id: int) -> bool:
    """Whether Vera's daily alert for "bakery", due now, would bring the job."""
    async with h.db.uow() as uow:
        await uow.subscriptions.add(
            AlertSubscription(
                user_id=vera.id,
                keywords=["bakery"],
                mode="daily",
                last_digest_at=h.clock.now() - timedelta(days=2),
                created_at=h.clock.now() - timedelta(days=2),
            )
        )
        found = await alerts.daily_digest(uow, h.clock, h.config)
        await uow.rollback()
    return job_id in found.get(vera.id, [])


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
    assert not await in_digest(h, vera, job_id)
    # Fred, who was hired, still reads his job.
    await h.send(fred, f"/start job_{job_id}")
    assert "Landing page for a bakery" in h.last(fred).text

    await tap(h, carla, ask, label("offers.hired.btn.keep_open", lang))
    assert await job_status(h, job_id) is JobStatus.OPEN
    assert await on_market(h, vera, job_id) == EVERYWHERE
    assert await in_digest(h, vera, job_id)


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


async def test_accepting_a_counter_is_a_hire_too(h):
    """The client accepts the freelancer's milestones: the same question, to the client."""
    carla, fred = await people(h, "ru", "en")
    job_id = await open_job(h, carla, "Landing page for a bakery")
    cid = await send_offer(h, carla, await add_pitch(h, job_id, fred))
    await h.press(fred, label("offers.btn.counter"))
    await h.press(fred, label("offers.btn.send_counter"))  # the same milestones back
    await h.press(carla, label("offers.btn.accept_counter", "ru"))
    assert await job_status(h, job_id) is JobStatus.PAUSED
    ask = question(h, carla, "ru")
    assert "Закрыть «Landing page for a bakery» для новых откликов?" in ask.text
    await tap(h, carla, ask, label("offers.hired.btn.close", "ru"))
    assert await job_status(h, job_id) is JobStatus.CLOSED
    assert "закрыт для новых откликов" in ask.text
    _ = cid


# --- item 13: the last settled milestone, the next one to fund ------------------------------


async def contract_status(h: Harness, cid: int) -> ContractStatus:
    return (await contract(h, cid)).status


async def release(h: Harness, carla: Person, fred: Person, mid: int) -> None:
    await submit(h, fred, mid, "Done")
    await h.press_data(carla, encode("wk", "approve", mid))
    await h.press(carla, label("work.btn.release_confirm", carla.language_code or "en"))


def offers_to_end(h: Harness, who: Person) -> list:  # type: ignore[type-arg]
    end = label("contracts.btn.end_and_rate", who.language_code or "en")
    return [m for m in h.chat(who) if end in m.labels()]


@pytest.mark.parametrize("lang", LANGS)
async def test_release_offers_the_next_milestone_then_the_last_offers_end_and_rate(h, lang):
    carla, fred, cid, [first, second] = await deal(
        h, amounts=("100", "200"), client_lang=lang, freelancer_lang=lang
    )
    await fund(h, carla, first)
    await release(h, carla, fred, first)
    done = h.last(carla)
    fund_next = label("work.btn.fund_next", lang, n=2, title="Part 2")
    # Before the fix the release only linked back to the contract card.
    assert done.labels() == [fund_next, label("contracts.btn.open", lang)]
    assert offers_to_end(h, carla) == offers_to_end(h, fred) == []  # one is left
    await h.press(carla, fund_next)
    quote = h.last(carla)
    assert quote.message_id == done.message_id  # straight into its quote, in place
    assert ("Fund milestone" if lang == "en" else "Оплата этапа") in quote.text
    assert "Part 2" in quote.text
    await fund(h, carla, second)

    await release(h, carla, fred, second)
    assert await contract_status(h, cid) is ContractStatus.ACTIVE  # offered, not done for them
    [to_carla], [to_fred] = offers_to_end(h, carla), offers_to_end(h, fred)
    assert to_fred is h.last(fred) and to_carla is h.last(carla)
    # Nothing is left to fund: the last release links to the card alone.
    assert h.chat(carla)[-2].labels() == [label("contracts.btn.open", lang)]

    # One tap ends the contract and shows the stars in place.
    await h.press(fred, label("contracts.btn.end_and_rate", lang))
    assert await contract_status(h, cid) is ContractStatus.ENDED
    assert to_fred.labels()[0] == "⭐" and "⭐⭐⭐⭐⭐" in to_fred.labels()
    assert to_fred is h.last(fred)  # no second rating prompt for the one who ended it
    # Carla hears that Fred ended it and gets the stars; her offer's tap opens them too.
    assert "⭐⭐⭐⭐⭐" in h.last(carla).labels()
    end = to_carla.button(label("contracts.btn.end_and_rate", lang))
    await h.press_data(carla, end["data"], to_carla.message_id)  # type: ignore[index]
    assert "⭐⭐⭐⭐⭐" in to_carla.labels()
    await h.press_data(fred, f"rv:stars:{cid}:5", to_fred.message_id)
    await h.press_data(fred, "rv:skip", to_fred.message_id)
    async with h.db.uow() as uow:
        assert await uow.reviews.count(contract_id=cid, reviewer_id=fred.id) == 1


async def test_a_refund_of_the_last_milestone_offers_end_and_rate_but_cancelling_all_does_not(h):
    carla, fred, cid, [mid] = await deal(h)
    await fund(h, carla, mid)
    await h.press_data(fred, encode("wk", "refund", mid))
    await h.press(fred, label("work.btn.refund_confirm"))
    assert len(offers_to_end(h, carla)) == len(offers_to_end(h, fred)) == 1

    assert await contract_status(h, cid) is ContractStatus.ACTIVE


async def test_cancelling_every_unfunded_milestone_offers_nothing(h):
    carla, fred, cid, [mid] = await deal(h)
    await h.press_data(carla, encode("wk", "cancel_milestone", mid))
    await h.press(carla, label("work.btn.cancel_confirm"))
    assert offers_to_end(h, carla) == offers_to_end(h, fred) == []
    assert await contract_status(h, cid) is ContractStatus.ACTIVE


async def test_end_and_rate_from_strangers_and_after_a_new_milestone(h):
    carla, fred, cid, [mid] = await deal(h)
    vera = h.person("Vera")
    await join_as(h, vera, "freelancer")
    await fund(h, carla, mid)
    await release(h, carla, fred, mid)
    await h.press_data(vera, encode("rv", "end_and_rate", cid))
    assert await contract_status(h, cid) is ContractStatus.ACTIVE
    # Carla adds a milestone before Fred taps: ending would cancel it, so he is asked first.
    await h.press_data(carla, encode("of", "add_milestone", cid))
    await h.send(carla, "Extra")
    await h.send(carla, "50")
    await h.press(carla, label("offers.btn.skip_due"))
    await h.press(carla, label("offers.btn.send_add"))
    [offer] = offers_to_end(h, fred)
    await h.press(fred, label("contracts.btn.end_and_rate"))
    assert await contract_status(h, cid) is ContractStatus.ACTIVE
    assert "Unfunded milestones (1) will be cancelled" in offer.text


# --- item 14: reviews on the profile card, plural forms, no score before a record -----------


async def more_reviews(h: Harness, about: Person, texts: list[str]) -> None:
    """Revealed reviews of `about` from ended contracts of the same client, as rows."""
    async with h.db.uow() as uow:
        [first] = await uow.contracts.find(freelancer_id=about.id, limit=1)
        for k, text in enumerate(texts):
            other = await uow.contracts.add(
                Contract(
                    job_id=first.job_id,
                    client_id=first.client_id,
                    freelancer_id=about.id,
                    title=f"Job {k}",
                    status=ContractStatus.ENDED,
                    ended_at=h.clock.now(),
                )
            )
            await uow.reviews.add(
                Review(
                    contract_id=other.id,  # type: ignore[arg-type]
                    reviewer_id=first.client_id,
                    reviewee_id=about.id,
                    rating=4,
                    text=text,
                    status=ReviewStatus.REVEALED,
                    created_at=h.clock.now(),
                )
            )
        await uow.commit()


@pytest.mark.parametrize("lang", LANGS)
async def test_profile_card_shows_reviews_counts_in_plural_and_no_score_when_new(h, lang):
    carla, fred, cid, [mid] = await deal(h, client_lang=lang, freelancer_lang=lang)
    vera = h.person("Vera", lang=lang)
    await join_as(h, vera, "client")
    no_score = label("rv.no_score", lang)

    # A brand-new freelancer: no number (before the fix "Reputation score: 71/100").
    await h.press_data(vera, f"prof:card:{fred.id}")
    card = h.last(vera).text
    assert no_score in card and "/100" not in card
    await h.send(vera, f"/reputation {fred.id}")
    assert no_score in h.last(vera).text and "/100" not in h.last(vera).text

    await fund(h, carla, mid)
    await release(h, carla, fred, mid)
    await h.press(fred, label("contracts.btn.end_and_rate", lang))
    await h.press_data(fred, f"rv:stars:{cid}:5", h.last(fred).message_id)
    await h.press_data(fred, "rv:skip", h.last(fred).message_id)
    await h.press_data(carla, f"rv:rate:{cid}")
    await h.press_data(carla, f"rv:stars:{cid}:5", h.last(carla).message_id)
    await h.send(carla, "Great <work> & fast 🚀")

    await h.press_data(vera, f"prof:card:{fred.id}")
    card = h.last(vera)
    one = "(1 review)" if lang == "en" else "(1 отзыв)"
    assert one in card.text and "1 reviews" not in card.text  # was "(1 reviews)"
    assert "Great <work> & fast 🚀" in card.text and "&lt;work&gt;" in card.html
    assert no_score not in card.text and "/100" in card.text  # a completed contract: a score
    all_one = label("rv.btn.all_reviews", lang, count=1)
    assert all_one in card.labels()

    # Seven reviews in all: the card shows the latest three with words, the list pages them.
    await more_reviews(h, fred, ["Review A", "", "Review C", "Review D", "", "Review F"])
    await h.press_data(vera, f"prof:card:{fred.id}")
    card = h.last(vera)
    seven = "(7 reviews)" if lang == "en" else "(7 отзывов)"
    assert seven in card.text
    assert [w in card.text for w in ("Review F", "Review D", "Review C", "Review A")] == [
        True,
        True,
        True,
        False,
    ]
    await h.press(vera, label("rv.btn.all_reviews", lang, count=7))
    page = h.last(vera)
    assert page.message_id == card.message_id  # in place
    assert ("7 reviews" if lang == "en" else "7 отзывов") in page.text
    assert "Review F" in page.text and "Great <work>" not in page.text
    assert "1/2" in page.labels()
    await h.press(vera, label("btn.next", lang))
    assert "Great <work> & fast 🚀" in h.last(vera).text and "Review F" not in h.last(vera).text
    await h.press(vera, label("rv.btn.profile", lang))
    assert seven in h.last(vera).text


async def test_russian_plural_forms_for_counts(h):
    ru = translator("ru")
    forms = {n: ru.plain("profile.rating", average="4.5", count=n) for n in (1, 2, 5, 11, 21)}
    assert forms == {
        1: "⭐ 4.5 (1 отзыв)",
        2: "⭐ 4.5 (2 отзыва)",
        5: "⭐ 4.5 (5 отзывов)",
        11: "⭐ 4.5 (11 отзывов)",
        21: "⭐ 4.5 (21 отзыв)",
    }
    en = translator("en")
    assert en.plain("myjobs.pitch_days", days=1) == "Duration: 1 day"
    assert ru.plain("myjobs.pitch_days", days=3) == "Срок: 3 дня"
    assert en.plain("adm.stats.escrow", amount="$5", milestones=1) == "In escrow: $5 (1 milestone)"
