"""Issue 14, parts 1, 2 and 5: sub-ratings and private feedback, one public reply,
the score explained by its parts, badges told, /saved, and Hire again — in English
and Russian."""

from __future__ import annotations

from domain.entities import Job
from domain.states import ContractStatus, JobStatus
from tests.flows.harness import Harness, Person
from tests.flows.test_messaging import deal, gateway, h, person

__all__ = ["gateway", "h"]  # fixtures shared with the messaging tests


async def end(h: Harness, client: Person, freelancer: Person, title: str) -> int:
    d = await deal(h, client, freelancer, title=title)
    await h.press_data(client, f"ct:endok:{d.contract_id}")
    return d.contract_id


async def rich_review(
    h: Harness, who: Person, cid: int, stars: int, subs: tuple[int, int, int], rec: int, why: str
) -> None:
    await h.press_data(who, f"rv:rate:{cid}")
    await h.press_data(who, f"rv:stars:{cid}:{stars}", h.last(who).message_id)
    for value in subs:
        await h.press_data(who, f"rv:subrate:{cid}:{value}", h.last(who).message_id)
    await h.press_data(who, f"rv:recommend:{cid}:{rec}", h.last(who).message_id)
    await h.press_data(who, f"rv:endreason:{cid}:{why}", h.last(who).message_id)


async def test_sub_ratings_private_feedback_and_one_reply(h: Harness) -> None:
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer", lang="ru")
    cid = await end(h, cleo, fran, "Build a Telegram bot")

    # Cleo, in English: stars, then each sub-rating named for a freelancer.
    await h.press_data(cleo, f"rv:rate:{cid}")
    await h.press(cleo, "⭐⭐⭐⭐⭐")
    ask = h.last(cleo)
    assert "Quality" in ask.text and "(1 of 3)" in ask.text and "Skip ›" in ask.labels()
    await h.press(cleo, "5")
    assert "Communication" in h.last(cleo).text and "(2 of 3)" in h.last(cleo).text
    await h.press(cleo, "4")
    assert "Deadlines" in h.last(cleo).text
    await h.press(cleo, "5")
    assert "Private" in h.last(cleo).text and "0 to 10" in h.last(cleo).text
    assert h.last(cleo).labels()[:11] == [str(n) for n in range(11)]
    await h.press(cleo, "9")
    assert "why did the contract end" in h.last(cleo).text
    await h.press(cleo, "✅ The work was done")
    await h.send(cleo, "Great work, on time.")
    assert "stays hidden" in h.last(cleo).text

    # Fran, in Russian: a client is rated on clarity, communication, payment.
    await h.press_data(fran, f"rv:rate:{cid}")
    await h.press(fran, "⭐⭐⭐⭐")
    assert "Ясность задачи" in h.last(fran).text and "(1 из 3)" in h.last(fran).text
    for value in ("4", "5", "3"):
        await h.press(fran, value)
    assert "Закрыто" in h.last(fran).text
    await h.press(fran, "2")
    await h.press(fran, "🔇 Другая сторона пропала")
    await h.press(fran, "Пропустить ›")

    # Both revealed: the public parts with the sub-ratings; the private ones nowhere.
    to_fran = next(m for m in reversed(h.chat(fran)) if "открыты" in m.text)
    assert "Качество 5 · Общение 4 · Сроки 5" in to_fran.text
    assert "Great work, on time." in to_fran.text
    to_cleo = next(m for m in reversed(h.chat(cleo)) if "Reviews on" in m.text)
    assert "Clarity 4 · Communication 5 · Payment promptness 3" in to_cleo.text
    for text in h.texts(cleo):
        assert "went silent" not in text and "recommend" not in text.lower()
    for text in h.texts(fran):
        assert "Работа сделана" not in text
    async with h.db.uow() as uow:
        found = {
            r.reviewer_id: (r.id, r.sub1, r.sub2, r.sub3, r.recommend, r.end_reason)
            for r in await uow.reviews.find(contract_id=cid)
        }
    assert found[cleo.id][1:] == (5, 4, 5, 9, "done")
    assert found[fran.id][1:] == (4, 5, 3, 2, "silent")
    about_fran = found[cleo.id][0]

    # Cleo may not answer the review about Fran; Fran may, once.
    await h.press_data(cleo, f"rv:reply:{about_fran}")
    assert "no longer available" in h.last_answer(cleo).text  # type: ignore[union-attr]
    await h.press(fran, "↩️ Ответить Cleo")
    assert "публичный ответ" in h.last(fran).text
    await h.press(fran, "✖️ Отмена")
    assert "ответ не опубликован" in h.last(fran).text
    await h.press(fran, "↩️ Ответить Cleo")
    await h.send(fran, "Спасибо, <было> приятно!")
    assert "Ваш ответ опубликован" in h.last(fran).text
    assert "Fran replied to your review: Спасибо, <было> приятно!" in h.last(cleo).text
    await h.press_data(cleo, f"rv:reviews:{fran.id}:1")
    listed = h.last(cleo)
    assert "★★★★★ — Cleo" in listed.text and "↩️ Reply: Спасибо, <было> приятно!" in listed.text
    assert "&lt;было&gt;" in listed.html  # user text escaped
    await h.press_data(fran, f"rv:reply:{about_fran}")
    assert "уже ответили" in h.last(fran).text
    await h.send(cleo, f"/reputation {fran.id}")
    assert "↩️ Reply: Спасибо" in h.last(cleo).text


async def test_words_typed_at_a_sub_rating_save_the_review(h: Harness) -> None:
    """Stars, then a few words — the two-step review still works (details optional)."""
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer")
    cid = await end(h, cleo, fran, "Logo")
    await h.press_data(cleo, f"rv:rate:{cid}")
    await h.press(cleo, "⭐⭐⭐⭐")
    await h.press(cleo, "5")
    await h.send(cleo, "Nice logo.")
    assert "stays hidden" in h.last(cleo).text
    async with h.db.uow() as uow:
        (review,) = await uow.reviews.find(contract_id=cid)
        got = (review.rating, review.text, review.sub1, review.recommend)
    assert got == (
        4,
        "Nice logo.",
        None,
        None,
    )


async def test_reputation_explains_own_score_and_repeat_clients(h: Harness) -> None:
    cleo = await person(h, "Cleo", "client")
    fred = await person(h, "Fred", "freelancer")
    first = await end(h, cleo, fred, "First job")
    await rich_review(h, cleo, first, 5, (5, 5, 5), 10, "done")
    await h.send(fred, "/reputation")
    own = h.last(fred).text
    assert "Your score by its parts" in own
    assert "Repeat clients: 0 of 1 — +0 of 6" in own
    await end(h, cleo, fred, "Second job")  # the same client hires Fred again
    await h.send(fred, "/reputation")
    own = h.last(fred).text
    assert "Repeat clients: 1 of 1 — +2 of 6" in own
    assert "Completed contracts: 2" in own and "Disputes: 0 of 2 contracts — +15 of 15" in own
    # Someone else's card shows the number, never the parts.
    await h.send(cleo, f"/reputation {fred.id}")
    assert "/100" in h.last(cleo).text and "by its parts" not in h.last(cleo).text


async def test_new_freelancer_sees_the_rising_talent_path(h: Harness) -> None:
    for lang, new, path in (
        ("en", "New — no score yet", "The way to Rising Talent"),
        ("ru", "Новичок — рейтинга пока нет", "Путь к значку «Восходящий талант»"),
    ):
        nova = await person(h, f"Nova {lang}", "freelancer", lang=lang)
        await h.send(nova, "/reputation")
        card = h.last(nova).text
        assert new in card and path in card and "/100" not in card


async def test_badges_earned_and_lost_are_told(h: Harness) -> None:
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer", lang="ru")
    cid = await end(h, cleo, fran, "First job")
    await rich_review(h, cleo, cid, 5, (5, 5, 5), 10, "done")
    await h.send(cleo, "Top.")
    await h.press_data(fran, f"rv:rate:{cid}")
    await h.press(fran, "⭐⭐⭐⭐⭐")
    await h.press(fran, "Пропустить ›")
    assert sum("Вы получили значок 🌱 Восходящий талант" in t for t in h.texts(fran)) == 1
    async with h.db.uow() as uow:
        assert [b.badge for b in await uow.badges.find(user_id=fran.id)] == ["rising_talent"]
    # Ninety days on she is no longer new: the next change of her record takes it away.
    h.clock.advance(days=91)
    await end(h, cleo, fran, "Second job")
    assert any("Значок 🌱 Восходящий талант снят" in t for t in h.texts(fran))
    await h.send(fran, "/reputation")
    own = h.last(fran).text
    assert "Ваш рейтинг по частям" in own and "Повторные клиенты: 1 из 1 — +2 из 6" in own
    assert "Оценки (отзывов: 1, недавние весят больше)" in own
    async with h.db.uow() as uow:
        assert await uow.badges.find(user_id=fran.id) == []


async def test_saved_freelancers_and_jobs(h: Harness) -> None:
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer", lang="ru")
    await h.send(cleo, "/menu")
    await h.press(cleo, "⭐ Saved")
    assert "None yet" in h.last(cleo).text
    await h.press_data(cleo, f"sv:save_freelancer:{fran.id}")
    assert "Saved" in h.last_answer(cleo).text  # type: ignore[union-attr]
    await h.press_data(cleo, f"sv:save_freelancer:{fran.id}")
    assert "Already" in h.last_answer(cleo).text  # type: ignore[union-attr]
    await h.send(cleo, "/saved")
    listed = h.last(cleo)
    assert "Freelancers (1)" in listed.text and "Fran" in listed.text
    assert listed.labels() == ["1. Fran", "✖ Remove 1"]
    await h.press(cleo, "1. Fran")
    assert "Fran" in h.last(cleo).text
    await h.send(cleo, "/saved")
    await h.press(cleo, "✖ Remove 1")
    assert "None yet" in h.last(cleo).text

    # Fran saves a job from its card; a freelancer cannot save freelancers.
    async with h.db.uow() as uow:
        job = await uow.jobs.add(
            Job(
                client_id=cleo.id,
                title="Bakery bot",
                status=JobStatus.OPEN,
                created_at=h.clock.now(),
            )
        )
        await uow.commit()
    await h.press_data(fran, f"open:show_job:{job.id}")
    await h.press(fran, "☆ Сохранить заказ")
    assert "Сохранено" in h.last_answer(fran).text  # type: ignore[union-attr]
    await h.send(fran, "/saved")
    assert "Заказы (1)" in h.last(fran).text and "Bakery bot" in h.last(fran).text
    await h.press_data(fran, f"sv:save_freelancer:{cleo.id}")
    assert "Сохранено" not in (h.last_answer(fran).text or "")  # type: ignore[union-attr]


async def test_hire_again_in_one_tap(h: Harness) -> None:
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer", lang="ru")
    d = await deal(h, cleo, fran, amounts=(10_000, 5_000), title="Bakery bot")
    await h.press_data(cleo, f"ct:endok:{d.contract_id}")
    await h.press_data(fran, f"ct:view:{d.contract_id}")
    assert "🔁 Нанять снова" not in h.last(fran).labels()  # the client's button only
    await h.press_data(cleo, f"ct:view:{d.contract_id}")
    await h.press(cleo, "🔁 Hire again")
    review = h.last(cleo)
    assert "Hire again" in review.text and "Bakery bot" in review.text
    assert "Part 1" in review.text and "Part 2" in review.text and "$150.00" in review.text
    await h.press(cleo, "📨 Send offer")
    assert "Offer sent" in h.last(cleo).text or "sent" in h.last(cleo).text
    async with h.db.uow() as uow:
        (again,) = await uow.contracts.find(
            client_id=cleo.id, freelancer_id=fran.id, status=ContractStatus.OFFERED
        )
        job = await uow.jobs.get(again.job_id)
        assert job is not None
        invited = await uow.invitations.count(job_id=again.job_id, freelancer_id=fran.id)
        again_id, title = again.id, again.title
        job_state = (job.status, job.published_at)
    assert again_id != d.contract_id and title == "Bakery bot"
    assert job_state == (JobStatus.PAUSED, None)  # never on the market
    assert invited == 1
    await h.press(fran, "✅ Принять")
    async with h.db.uow() as uow:
        accepted = await uow.contracts.get(again_id)
        assert accepted is not None and accepted.status is ContractStatus.ACTIVE


async def test_rising_talent_ends_by_the_calendar_on_the_tick(h: Harness) -> None:
    """Nothing in her record changes, yet at 90 days Rising Talent goes — the tick
    takes it away and tells her, once."""
    cleo = await person(h, "Cleo", "client")
    fred = await person(h, "Fred", "freelancer")
    cid = await end(h, cleo, fred, "Only job")
    await rich_review(h, cleo, cid, 5, (5, 5, 5), 10, "done")
    await h.send(cleo, "Top.")
    await h.press_data(fred, f"rv:rate:{cid}")
    await h.press(fred, "⭐⭐⭐⭐⭐")
    await h.press(fred, "Skip ›")
    assert any("You earned the badge 🌱 Rising Talent" in t for t in h.texts(fred))
    await h.tick()
    assert not any("is gone" in t for t in h.texts(fred))  # still new: kept
    h.clock.advance(days=91)
    await h.tick()
    await h.tick()
    gone = [t for t in h.texts(fred) if "Your badge 🌱 Rising Talent is gone" in t]
    assert len(gone) == 1 and "members under 90 days" in gone[0]
    async with h.db.uow() as uow:
        assert await uow.badges.count(user_id=fred.id) == 0
