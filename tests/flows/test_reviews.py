"""Rating each other, double-blind, and the reputation card (FLOWS 20)."""

from __future__ import annotations

from domain.states import ReviewStatus
from tests.flows.harness import Harness, Person
from tests.flows.test_messaging import HOSTILE, deal, gateway, h, person

__all__ = ["gateway", "h"]  # fixtures shared with the messaging tests


async def ended(h: Harness, title: str = "Build a Telegram bot"):
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer", lang="ru")
    d = await deal(h, cleo, fran, title=title)
    await h.press_data(cleo, f"ct:endok:{d.contract_id}")
    return cleo, fran, d.contract_id


async def reviews(h: Harness, contract_id: int):
    async with h.db.uow() as uow:
        return [
            (r.reviewer_id, r.rating, r.text, r.status)
            for r in await uow.reviews.find(order_by="id", contract_id=contract_id)
        ]


async def rate(h: Harness, who: Person, contract_id: int, n: int, text: str | None) -> None:
    await h.press_data(who, f"rv:rate:{contract_id}")
    await h.press_data(who, f"rv:stars:{contract_id}:{n}", h.last(who).message_id)
    if text is None:
        await h.press_data(who, "rv:skip", h.last(who).message_id)
    else:
        await h.send(who, text)


async def test_double_blind_until_both_rate(h: Harness) -> None:
    cleo, fran, cid = await ended(h)
    ask = h.last(cleo)
    assert "Rate Fran" in ask.text and "double-blind" in ask.text
    assert "⭐⭐⭐⭐⭐" in ask.labels()
    # The other party is asked too, in their language, whoever ended the contract.
    assert "Оцените Cleo" in h.last(fran).text and "⭐⭐⭐⭐⭐" in h.last(fran).labels()

    await h.press(cleo, "⭐⭐⭐⭐⭐")
    assert "Your rating: ★★★★★" in h.last(cleo).text
    await h.send(cleo, HOSTILE)
    assert "stays hidden" in h.last(cleo).text
    assert "Cleo оценил(а) вас" in h.last(fran).text
    assert HOSTILE not in " ".join(h.texts(fran))  # not before Fran rates
    await h.press_data(fran, f"rv:show:{cid}")
    assert "откроется" in h.last(fran).text and HOSTILE not in h.last(fran).text

    await h.press(fran, "⭐ Оценить")  # on the "Cleo has rated you" notice
    await h.press(fran, "⭐⭐⭐⭐")
    await h.press(fran, "Пропустить ›")
    assert "оба отзыва теперь видны" in h.texts(fran)[-3]
    # Issue 14: the badge the rule now gives her is told (before the reviews).
    assert "Вы получили значок 🌱 Восходящий талант" in h.texts(fran)[-2]
    revealed_fran = h.last(fran).text
    assert "Отзывы по «Build a Telegram bot» открыты" in revealed_fran
    assert HOSTILE in revealed_fran and "★★★★★ — Cleo" in revealed_fran
    revealed_cleo = h.last(cleo).text
    assert "★★★★☆ — Fran" in revealed_cleo
    assert await reviews(h, cid) == [
        (cleo.id, 5, HOSTILE, ReviewStatus.REVEALED),
        (fran.id, 4, "", ReviewStatus.REVEALED),
    ]
    # The reputation reflects the revealed rating.
    await h.press(cleo, "🏅 Reputation")
    card = h.last(cleo).text
    assert "Reputation of Cleo" in card and "Rating: 4.0★ from 1 review" in card
    assert "1 reviews" not in card and "/100" in card  # rated: a score, in the singular
    await h.send(cleo, f"/reputation {fran.id}")
    assert "Rating: 5.0★ from 1 review" in h.last(cleo).text
    assert "🌱 Rising Talent" in h.last(cleo).text  # new member, 1 contract, 5★
    await h.press(cleo, "ℹ️ How the score works")
    assert "Rating, 35 points" in h.last(cleo).text


async def test_window_closes_and_the_tick_reveals(h: Harness) -> None:
    cleo, fran, cid = await ended(h)
    await rate(h, cleo, cid, 2, "Slow to answer.")
    h.clock.advance(days=h.config.review_window_days, seconds=1)
    await h.tick()
    assert await reviews(h, cid) == [(cleo.id, 2, "Slow to answer.", ReviewStatus.REVEALED)]
    shown = h.last(fran).text
    assert "Slow to answer." in shown and "★★☆☆☆ — Cleo" in shown
    assert "Fran не оставил(а) отзыв" not in shown
    assert "Fran left no review." in h.last(cleo).text
    # Too late to rate now.
    await h.press_data(fran, f"rv:rate:{cid}")
    assert h.last_answer(fran).text == "Срок для отзыва истёк."


async def test_bad_input_wrong_people_and_stale_buttons(h: Harness) -> None:
    cleo, fran, cid = await ended(h)
    eve = await person(h, "Eve", "client")
    await h.press_data(eve, f"rv:rate:{cid}")
    assert h.last_answer(eve).text == "This contract is not yours."
    await h.press_data(eve, f"rv:stars:{cid}:5")
    assert h.last_answer(eve).text == "This contract is not yours."
    for data in (f"rv:stars:{cid}:9", f"rv:stars:{cid}:x", "rv:skip", "rv:zz", "rv:rate"):
        await h.press_data(cleo, data)
        assert h.last_answer(cleo).text == "This button is no longer available.", data
    await h.press_data(cleo, f"rv:stars:{cid}:3")
    await h.send(cleo, "y" * 10_000)
    assert "1000" in h.last(cleo).text
    await h.upload(cleo, "some-file")
    assert "can't be empty" in h.last(cleo).text
    await h.send(cleo, "Fine 👍")
    await h.press_data(cleo, f"rv:rate:{cid}")  # a second review of the same contract
    assert h.last_answer(cleo).text == "You have already reviewed this contract."
    assert [r[:3] for r in await reviews(h, cid)] == [(cleo.id, 3, "Fine 👍")]
    # An active contract cannot be rated yet.
    d = await deal(h, cleo, fran, title="Second")
    await h.press_data(cleo, f"rv:rate:{d.contract_id}")
    assert h.last_answer(cleo).text == "Reviews open when the contract ends."


async def test_rate_command_lists_waiting_and_duplicate_update(h: Harness) -> None:
    cleo, fran, cid = await ended(h)
    await h.send(cleo, "/rate")
    await h.press(cleo, "⭐ Fran · Build a Telegram bot")
    await h.press(cleo, "⭐⭐⭐⭐⭐")
    await h.send(cleo, "Great work", update_id=888_001)
    assert (await h.send(cleo, "Great work", update_id=888_001)).duplicate
    assert len(await reviews(h, cid)) == 1
    await h.send(cleo, "/rate")
    assert "No ended contract is waiting" in h.last(cleo).text
    await h.send(cleo, "/reputation abc")
    assert "/reputation 12345" in h.last(cleo).text
    await h.send(cleo, "/reputation 424242")
    assert h.last(cleo).text == "There is no such user."
    assert fran.id != cleo.id
