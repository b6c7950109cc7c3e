"""Posting a job through the wizard (/post), previewing, publishing, job alerts,
and editing / pausing / resuming / closing a published job from its card."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

from domain.entities import AlertSubscription, Job
from domain.states import JobStatus
from tests.flows.harness import Harness, Person

HOSTILE = '<b>Bold</b> <script>alert(1)</script> "a < b & c" 👩‍💻🚀'


async def client(h: Harness, name: str = "Carol", lang: str = "en") -> Person:
    who = h.person(name, lang=lang)
    await h.send(who, "/start")
    await h.press_data(who, "role:pick::client")
    return who


async def freelancer(h: Harness, name: str = "Fred", lang: str = "en") -> Person:
    who = h.person(name, lang=lang)
    await h.send(who, "/start")
    await h.press_data(who, "role:pick::freelancer")
    return who


def snapshot(obj):
    """A detached copy (the unit of work's objects expire when it ends)."""
    return type(obj)(**{f.name: getattr(obj, f.name) for f in fields(obj)})


async def jobs_in(db) -> list[Job]:
    async with db.uow() as uow:
        return [snapshot(j) for j in await uow.jobs.find()]


async def post_job(
    h: Harness,
    who: Person,
    title: str = "Logo for a coffee shop",
    description: str = "A round logo with a coffee bean, vector files, two revisions.",
    category: str = "Design",
    skills: tuple[str, ...] = ("Logo design",),
    hourly: bool = False,
    amount: str = "500",
    deadline: str | None = "2026-02-01",
    publish: bool = True,
) -> None:
    """Walk the wizard with the buttons and texts a person would use."""
    await h.send(who, "/post")
    await h.send(who, title)
    await h.send(who, description)
    await h.press(who, category)
    for skill in skills:
        await h.press(who, skill)
    await h.press(who, "✅ Done")
    await h.press(who, "⏱ Hourly rate" if hourly else "💰 Fixed price")
    await h.send(who, amount)
    if deadline is None:
        await h.press(who, "⏭ No deadline")
    else:
        await h.send(who, deadline)
    if publish:
        await h.press(who, "🚀 Publish")


async def test_post_a_job_step_by_step_preview_and_publish(h, db):
    carol = await client(h)
    await post_job(h, carol, publish=False)
    preview = h.last(carol)
    assert "Preview" in preview.text
    assert "Logo for a coffee shop" in preview.text and "$500.00" in preview.text
    assert "Skills: Logo design" in preview.text and "2026-02-01" in preview.text
    assert "logo-design" not in preview.text  # names, not slugs
    assert "Job #" not in preview.text  # no id before publishing
    assert preview.labels() == ["🚀 Publish", "✏️ Edit a field", "‹ Back", "✖️ Cancel"]
    assert await jobs_in(db) == []

    await h.press(carol, "🚀 Publish")
    [job] = await jobs_in(db)
    assert (job.title, job.category, job.skills) == (
        "Logo for a coffee shop",
        "design",
        ["logo-design"],
    )
    assert (job.budget_type, job.budget, job.currency) == ("fixed", 50000, "USD")
    assert job.deadline == date(2026, 2, 1) and job.status == JobStatus.OPEN
    assert job.published_at is not None
    card = h.last(carol)
    assert "Published!" in card.text and f"Job #{job.id}" in card.text
    assert "✏️ Edit" in card.labels() and "⏸ Pause" in card.labels()
    assert h.last_answer(carol).text == "Published"
    # A second press of the same Publish button is stale: still one job.
    await h.press_data(carol, "pj:pub", card.message_id)
    assert h.last_answer(carol).text == "This button is no longer available."
    assert len(await jobs_in(db)) == 1


async def test_hourly_job_without_deadline_in_russian(h, db):
    carol = await client(h, "Карина", lang="ru")
    await h.send(carol, "/post")
    assert "Новый заказ" in h.last(carol).text
    await h.send(carol, "Телеграм-бот для записи")
    await h.send(carol, "Нужен бот для записи клиентов в салон, с напоминаниями.")
    await h.press(carol, "Разработка")
    await h.press(carol, "Telegram-боты")  # skills by their Russian names
    await h.send(carol, "aiogram, Python")  # a free tag and a taxonomy skill by name
    assert "Telegram-боты, aiogram, Python" in h.last(carol).text
    await h.press(carol, "✅ Готово")
    await h.press(carol, "⏱ Почасовая ставка")
    assert "ставку в час" in h.last(carol).text
    await h.send(carol, "$25.50")
    await h.press(carol, "⏭ Без срока")
    assert "Предпросмотр" in h.last(carol).text and "$25.50" in h.last(carol).text
    assert "Категория: Разработка" in h.last(carol).text
    await h.press(carol, "🚀 Опубликовать")
    [job] = await jobs_in(db)
    assert job.budget_type == "hourly" and job.budget == 2550 and job.deadline is None
    assert job.skills == ["telegram-bots", "aiogram", "python"]
    assert "Опубликовано" in h.last(carol).text


async def test_bad_input_at_every_step_is_refused_and_the_draft_kept(h, db):
    carol = await client(h)
    await h.send(carol, "/post")
    await h.send(carol, "Logo")  # too short
    assert "at least 5 characters" in h.last(carol).text
    await h.send(carol, "x" * 10_000)
    assert "at most 120 characters" in h.last(carol).text
    await h.send(carol, "   ")
    assert "can't be empty" in h.last(carol).text
    await h.send(carol, HOSTILE[:100])
    await h.send(carol, "too short")
    assert "at least 20 characters" in h.last(carol).text
    await h.send(carol, "y" * 10_000)
    assert "at most 4000 characters" in h.last(carol).text
    await h.send(carol, HOSTILE + " and more words here")
    await h.send(carol, "Design please")  # the category step wants a button
    assert "choose with the buttons" in h.last(carol).text
    await h.press(carol, "Design")
    await h.press(carol, "✅ Done")  # no skill yet
    assert h.last_answer(carol).text == "Choose or type at least one skill."
    await h.send(carol, "!!!")
    assert "needs letters or digits" in h.last(carol).text
    await h.send(carol, "z" * 100)
    assert "at most 32 characters" in h.last(carol).text
    await h.send(carol, "<b>figma</b> 🎨")
    await h.press(carol, "✅ Done")
    await h.press(carol, "💰 Fixed price")
    for bad, reason in [
        ("abc", "not an amount I can read"),
        ("-5", "must be positive"),
        ("0", "more than zero"),
        ("1.234", "decimal places"),
        ("50 EUR", "marketplace's currency"),
        ("99999999999", "above the limit"),
        ("", "send an amount"),
    ]:
        await h.send(carol, bad or " ")
        assert reason in h.last(carol).text, (bad, h.last(carol).text)
    await h.send(carol, "1,250.50")
    for bad, reason in [
        ("someday", "not a date I can read"),
        ("2020-01-01", "in the past"),
        ("2099-01-01", "too far ahead"),
        ("31.02.2026", "not a date I can read"),
    ]:
        await h.send(carol, bad)
        assert reason in h.last(carol).text, bad
    await h.send(carol, "in 10 days")
    preview = h.last(carol)
    # The user's HTML comes back escaped, exactly as typed.
    assert HOSTILE[:100] in preview.text and "<b>" not in preview.text.replace(HOSTILE, "")
    assert "&lt;b&gt;Bold" in preview.html and "<script>" not in preview.html
    assert "b-figma-b" in preview.text and "$1,250.50" in preview.text
    await h.press(carol, "🚀 Publish")
    [job] = await jobs_in(db)
    assert job.title == HOSTILE[:100] and job.description.startswith(HOSTILE)
    assert job.budget == 125050 and job.deadline == date(2026, 1, 15)


async def test_back_cancel_and_edit_a_field_from_the_preview(h, db):
    carol = await client(h)
    await h.send(carol, "/post")
    assert "‹ Back" not in h.last(carol).labels()  # nothing before the first step
    await h.send(carol, "Landing page copy")
    await h.press(carol, "‹ Back")
    assert "title" in h.last(carol).text
    await h.send(carol, "Landing page copywriting")
    await h.send(carol, "Write the texts for a one-page site selling handmade soap.")
    await h.press(carol, "Writing")
    await h.press(carol, "Copywriting")
    await h.press(carol, "✓ Copywriting")  # toggled off again
    assert "Chosen: none yet" in h.last(carol).text
    await h.press(carol, "Copywriting")
    await h.press(carol, "✅ Done")
    await h.press(carol, "‹ Back")  # back to the skills, draft kept
    assert "Chosen: Copywriting" in h.last(carol).text
    await h.press(carol, "✅ Done")
    await h.press(carol, "💰 Fixed price")
    await h.send(carol, "300")
    await h.press(carol, "⏭ No deadline")
    await h.press(carol, "✏️ Edit a field")
    await h.press(carol, "Amount")
    await h.send(carol, "350")
    assert "Preview" in h.last(carol).text and "$350.00" in h.last(carol).text
    await h.press(carol, "✏️ Edit a field")
    await h.press(carol, "Category")  # the skills are asked again after a category
    await h.press(carol, "Marketing")
    await h.press(carol, "SEO")
    await h.press(carol, "✅ Done")
    preview = h.last(carol)
    assert "Marketing" in preview.text and "Copywriting, SEO" in preview.text
    await h.press(carol, "✖️ Cancel")  # a preview of 7 answers: asked first
    assert "Discard this draft?" in h.last(carol).text
    await h.press(carol, "Yes, discard")
    assert "not posted" in h.last(carol).text
    assert await jobs_in(db) == []
    await h.press_data(carol, "pj:pub")  # the wizard is over
    assert h.last_answer(carol).text == "This button is no longer available."


async def test_a_restart_mid_wizard_loses_nothing(h, db, clock, config):
    carol = await client(h)
    await h.send(carol, "/post")
    await h.send(carol, "Logo for a coffee shop")
    # A new engine on the same database: the draft lives in the database.
    fresh = Harness(db, clock, config)
    fresh.chats, fresh._updates, fresh._messages = h.chats, h._updates, h._messages
    await fresh.send(carol, "A round logo with a coffee bean, vector files, two revisions.")
    assert "category" in fresh.last(carol).text


async def test_only_clients_post_and_a_command_ends_the_wizard(h, db):
    fred = await freelancer(h)
    await h.send(fred, "/post")
    assert "Only clients can do this." in h.last(fred).text
    carol = await client(h)
    await h.send(carol, "/post")
    await h.send(carol, "Logo for a coffee shop")
    await h.send(carol, "/menu")
    await h.send(carol, "A round logo with a coffee bean, vector files, two revisions.")
    assert "category" not in h.last(carol).text  # no longer in the wizard


async def test_duplicate_update_has_one_effect(h, db):
    carol = await client(h)
    await post_job(h, carol, publish=False)
    preview = h.last(carol)
    first = await h.press_data(carol, "pj:pub", preview.message_id, update_id=777)
    again = await h.press_data(carol, "pj:pub", preview.message_id, update_id=777)
    assert not first.duplicate and again.duplicate
    assert len(await jobs_in(db)) == 1


async def test_forged_wizard_buttons_are_stale(h, db):
    carol = await client(h)
    await h.send(carol, "/post")
    for data in (
        "pj:cat::design",
        "pj:sk::python",
        "pj:bt::fixed",
        "pj:skip",
        "pj:zz",
        "pj:fix::x",
    ):
        await h.press_data(carol, data)
        assert h.last_answer(carol).text == "This button is no longer available.", data
    await h.send(carol, "Logo for a coffee shop")
    await h.send(carol, "A round logo with a coffee bean, vector files, two revisions.")
    # forged on the current screen (a wizard's buttons count nowhere else)
    await h.press_data(carol, "pj:cat::nonsense", h.last(carol).message_id)
    assert h.last_answer(carol).text == "Choose a category from the list."
    await h.press(carol, "Design")
    await h.press_data(carol, "pj:sk::python")  # not a skill of this category
    assert h.last_answer(carol).text == "This button is no longer available."


async def test_publishing_alerts_matching_freelancers(h, db, clock):
    fred = await freelancer(h, "Fred")
    gina = await freelancer(h, "Gina")
    hank = await freelancer(h, "Hank")
    async with db.uow() as uow:
        for who, skills, mode in [
            (fred, ["logo-design"], "instant"),
            (gina, ["python"], "instant"),  # no match
            (hank, ["logo-design"], "daily"),  # digest, not an instant alert
        ]:
            await uow.subscriptions.add(
                AlertSubscription(user_id=who.id, skills=skills, mode=mode, created_at=clock.now())
            )
        await uow.commit()
    carol = await client(h)
    before = {who.id: len(h.chat(who)) for who in (fred, gina, hank)}
    await post_job(h, carol)
    [job] = await jobs_in(db)
    alert = h.last(fred)  # rendered by the alerts flow, from the outbox
    assert "Logo for a coffee shop" in alert.text
    assert alert.button("✋ Pitch")["data"] == f"pitch:start:{job.id}"
    assert len(alert.labels()) == 2  # Pitch and Not interested
    async with db.uow() as uow:
        alerts = await uow.outbox.find(chat_id=fred.id, priority=2)
        assert len(alerts) == 1  # bulk priority: after replies
    assert len(h.chat(fred)) == before[fred.id] + 1
    assert len(h.chat(gina)) == before[gina.id]  # another skill
    assert len(h.chat(hank)) == before[hank.id]  # daily digest, not instant


async def test_edit_pause_resume_close_a_published_job(h, db):
    carol = await client(h)
    await post_job(h, carol)
    [job] = await jobs_in(db)
    await h.press(carol, "✏️ Edit")
    assert "which field" in h.last(carol).text
    await h.press(carol, "Title")
    assert "Now: Logo for a coffee shop" in h.last(carol).text
    await h.send(carol, "x")
    assert "at least 5 characters" in h.last(carol).text
    await h.send(carol, "Logo & sign <for> a café ☕")
    card = h.last(carol)
    assert "Saved." in card.text and "Logo & sign <for> a café ☕" in card.text
    await h.press(carol, "✏️ Edit")
    await h.press(carol, "Fixed / hourly")
    await h.press(carol, "⏱ Hourly rate")
    await h.send(carol, "40")
    assert "$40.00 per hour" in h.last(carol).text
    await h.press(carol, "✏️ Edit")
    await h.press(carol, "Deadline")
    await h.press(carol, "⏭ No deadline")
    [job] = await jobs_in(db)
    assert (job.title, job.budget_type, job.budget, job.deadline) == (
        "Logo & sign <for> a café ☕",
        "hourly",
        4000,
        None,
    )

    await h.press(carol, "⏸ Pause")
    assert h.last_answer(carol).text.startswith("Paused")
    assert (await jobs_in(db))[0].status == JobStatus.PAUSED
    assert "▶️ Resume" in h.last(carol).labels()
    await h.press(carol, "▶️ Resume")
    assert (await jobs_in(db))[0].status == JobStatus.OPEN
    await h.press(carol, "⚫ Close job")
    assert "cannot be undone" in h.last(carol).text
    await h.press(carol, "Yes, close it")
    assert (await jobs_in(db))[0].status == JobStatus.CLOSED
    assert "✏️ Edit" not in h.last(carol).labels()
    # Old buttons for a closed job are refused, and nothing changes.
    for data in (
        f"mj:pause:{job.id}",
        f"mj:resume:{job.id}",
        f"pj:edit:{job.id}",
        f"pj:jf:{job.id}:title",
    ):
        await h.press_data(carol, data)
        assert h.last_answer(carol).text == "That can't be done in the current state.", data
    assert (await jobs_in(db))[0].status == JobStatus.CLOSED


async def test_someone_elses_job_cannot_be_edited_or_paused(h, db):
    carol = await client(h)
    await post_job(h, carol)
    [job] = await jobs_in(db)
    dave = await client(h, "Dave")
    fred = await freelancer(h)
    # A freelancer is refused as a non-client or as a non-owner, depending on the action.
    not_for_fred = ("Only clients can do this.", "This job is not yours.")
    for who, refusal in ((dave, ("This job is not yours.",)), (fred, not_for_fred)):
        for data in (
            f"pj:edit:{job.id}",
            f"pj:jf:{job.id}:title",
            f"mj:pause:{job.id}",
            f"mj:closey:{job.id}",
            f"mj:job:{job.id}",
        ):
            await h.press_data(who, data)
            assert h.last_answer(who).text.startswith(refusal), (who.name, data)
    await h.press_data(dave, "pj:edit:999999")
    assert h.last_answer(dave).text == "This job no longer exists."
    assert (await jobs_in(db))[0].status == JobStatus.OPEN
