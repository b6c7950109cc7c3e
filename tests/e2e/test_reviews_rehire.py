"""Issue 14, parts 1, 2 and 5, through the real frameworks (aiogram and
python-telegram-bot, long polling) against the Bot API emulator, with the real
Runtime: after a contract both review with sub-ratings and private feedback (the
client in English, the freelancer in Russian), the freelancer's public reply
appears under the review, and the client hires again in one tap."""

from __future__ import annotations

import pytest

from domain.states import ContractStatus
from tests.e2e.story_steps import visible
from tests.e2e.test_capabilities import World, open_contract, world

__all__ = ["world"]

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_reviews_with_details_a_reply_and_hire_again(world: World) -> None:
    s = world.stage
    bea = await world.join("Bea", "client")
    cal = world.person("Cal", lang="ru")  # a freelancer who speaks Russian
    await s.send(cal, "/start")
    await s.press(cal, "🧑\u200d💻 Я работаю (фрилансер)")
    await s.sees(cal, "Вы — фрилансер")
    cid, [m1] = await world.hired(bea, cal, "Rehire contract", (10_000,))
    await world.funded(bea, m1)
    await world.submitted(cal, m1)
    await world.released(bea, m1)
    await world.ended(bea, cid)

    # Bea rates Cal: stars, three sub-ratings, the private feedback, a few words.
    await s.send(bea, "/rate")
    await s.sees(bea, "Waiting for your review")
    await s.press(bea, "⭐ Cal · Rehire contract")
    await s.press(bea, "⭐⭐⭐⭐⭐")
    await s.sees(bea, "Quality", "(1 of 3)")
    await s.press(bea, "5")
    await s.sees(bea, "Communication", "(2 of 3)")
    await s.press(bea, "4")
    await s.sees(bea, "Deadlines", "(3 of 3)")
    await s.press(bea, "5")
    await s.sees(bea, "Private", "0 to 10")
    await s.press(bea, "9")
    await s.sees(bea, "why did the contract end")
    await s.press(bea, "✅ The work was done")
    await s.sees(bea, "Add a few words")
    await s.send(bea, "Great work, on time.")
    await s.sees(bea, "stays hidden")

    # Cal, in Russian: a client is rated on clarity, communication and payment.
    await s.send(cal, "/rate")
    await s.press(cal, "⭐ Bea · Rehire contract")
    await s.press(cal, "⭐⭐⭐⭐")
    await s.sees(cal, "Ясность задачи", "(1 из 3)")
    await s.press(cal, "4")
    await s.sees(cal, "Общение", "(2 из 3)")
    await s.press(cal, "5")
    await s.sees(cal, "Своевременность оплаты", "(3 из 3)")
    await s.press(cal, "3")
    await s.sees(cal, "Закрыто", "от 0 до 10")
    await s.press(cal, "8")
    await s.sees(cal, "почему контракт закончился")
    await s.press(cal, "✅ Работа сделана")
    await s.press(cal, "Пропустить ›")

    # Both revealed, with the sub-ratings; the private answers shown to nobody.
    to_cal = visible(await s.sees(cal, "открыты", "Качество 5 · Общение 4 · Сроки 5"))
    assert "Great work, on time." in to_cal and "рекоменд" not in to_cal.lower()
    to_bea = visible(
        await s.sees(bea, "Reviews on", "Clarity 4 · Communication 5 · Payment promptness 3")
    )
    assert "went silent" not in to_bea and "The work was done" not in to_bea

    # Cal replies once, publicly; Bea is told and sees it under the review.
    await s.press(cal, "↩️ Ответить Bea")
    await s.sees(cal, "публичный ответ")
    await s.send(cal, "Спасибо, было приятно!")
    await s.sees(cal, "Ваш ответ опубликован")
    await s.sees(bea, "Cal replied to your review: Спасибо, было приятно!")
    await s.send(bea, f"/reputation {cal}")
    card = visible(await s.sees(bea, "Reputation of Cal"))
    assert "★★★★★ — Bea" in card and "↩️ Reply: Спасибо, было приятно!" in card

    # Bea hires Cal again: one tap opens the offer, prefilled; one more sends it.
    await open_contract(world, bea, "Rehire contract")
    await s.press(bea, "🔁 Hire again")
    review = visible(await s.sees(bea, "Hire again", "Part 1", "$100.00"))
    assert "Rehire contract" in review
    await s.press(bea, "📨 Send offer")
    await s.sees(bea, "Offer sent to Cal")
    await s.sees(cal, "Rehire contract")
    await s.press(cal, "✅ Принять")
    await s.sees(cal, "Вы приняли «Rehire contract»")
    async with world.db.uow() as uow:
        mine = await uow.contracts.find(client_id=bea, freelancer_id=cal, order_by="id")
        assert [c.status for c in mine] == [ContractStatus.ENDED, ContractStatus.ACTIVE]
