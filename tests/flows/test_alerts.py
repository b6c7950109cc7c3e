"""Job alerts: the subscription wizard, managing alerts, instant alerts with Pitch /
Not interested, and the daily digest — through the real engine on SQLite."""

from __future__ import annotations

from types import SimpleNamespace

from domain.events import Event, JobAlert
from domain.usecases.deadlines import daily_digest
from handlers.context import Scope
from handlers.notify import render_events
from tests.flows.harness import Harness, Person
from tests.flows.test_pitch import add_job, client, freelancer

HOSTILE_KEYWORD = "<b>x</b> & <script>s</script> 👩‍💻"  # one keyword, ≤ 40 characters


async def subs_of(h: Harness, who: Person) -> list[SimpleNamespace]:
    async with h.db.uow() as uow:
        return [
            SimpleNamespace(
                id=s.id,
                categories=list(s.categories),
                skills=list(s.skills),
                keywords=list(s.keywords),
                min_budget=s.min_budget,
                mode=s.mode,
                paused=s.paused,
            )
            for s in await uow.subscriptions.find(user_id=who.id)
        ]


async def emit(h: Harness, event: Event) -> None:
    """Render an event the way the engine does after a use case emitted it."""
    async with h.db.uow() as uow:
        uow.emit(event)
        await render_events(Scope(uow, h.clock, h.config), uow.events)
        await uow.commit()
    await h.deliver()


async def digest_tick(h: Harness) -> int:
    async with h.db.uow() as uow:
        sent = len(await daily_digest(uow, h.clock, h.config))  # the scheduler's job
        await render_events(Scope(uow, h.clock, h.config), uow.events)
        await uow.commit()
    await h.deliver()
    return sent


async def make_alert(h: Harness, fran: Person, mode: str = "🔔 Instantly") -> None:
    await h.send(fran, "/alerts")
    await h.press(fran, "➕ New alert")
    await h.press(fran, "Development")
    await h.press(fran, "Next ›")
    await h.press(fran, "Development")
    await h.press(fran, "Python")
    await h.press(fran, "‹ Back")
    await h.press(fran, "Next ›")
    await h.send(fran, "bot, -wordpress")
    await h.send(fran, "200")
    await h.press(fran, mode)


async def test_wizard_creates_an_alert_and_alerts_arrive_with_pitch_and_dismiss(h: Harness) -> None:
    cleo = await client(h)
    fran = await freelancer(h)
    await h.send(fran, "/alerts")
    assert "No alerts yet" in h.last(fran).text
    await make_alert(h, fran)
    view = h.last(fran).text
    assert "Alert created" in view and "Categories: Development" in view
    assert "Skills: Python" in view and "Keywords: bot, -wordpress" in view
    assert "Minimum budget: $200.00" in view and "Instantly" in view
    [sub] = await subs_of(h, fran)
    assert (sub.categories, sub.skills, sub.keywords) == (
        ["development"],
        ["python"],
        ["bot", "-wordpress"],
    )
    assert (sub.min_budget, sub.mode) == (20_000, "instant")

    job_id = await add_job(h, cleo, title="Telegram <bot> & shop 🛒")
    await emit(h, JobAlert(job_id=job_id, user_ids=(fran.id,)))
    alert = h.last(fran)
    assert "New job for you" in alert.text and "Telegram <bot> & shop 🛒" in alert.text
    assert alert.labels() == ["✋ Pitch", "🙈 Not interested"]
    async with h.db.uow() as uow:
        [row] = await uow.outbox.find(order_by="-id", limit=1, chat_id=fran.id)
        assert row.priority == 2  # bulk: behind replies to people acting

    await h.press(fran, "🙈 Not interested")
    assert "Hidden" in h.last(fran).text
    async with h.db.uow() as uow:
        assert await uow.dismissals.count(user_id=fran.id, job_id=job_id) == 1
    before = len(h.chat(fran))
    await emit(h, JobAlert(job_id=job_id, user_ids=(fran.id,)))
    assert len(h.chat(fran)) == before  # a dismissed job is not alerted again
    await h.press_data(fran, f"al:no:{job_id}")  # twice: harmless
    async with h.db.uow() as uow:
        assert await uow.dismissals.count(user_id=fran.id, job_id=job_id) == 1

    other = await add_job(h, cleo, title="Another bot job")
    await emit(h, JobAlert(job_id=other, user_ids=(fran.id,)))
    await h.press(fran, "✋ Pitch")
    assert "Pitch on “Another bot job”" in h.texts(fran)[-2]


async def test_daily_digest_lists_new_matching_jobs_once(h: Harness) -> None:
    cleo = await client(h)
    fran = await freelancer(h, lang="ru")
    await h.send(fran, "/alerts")
    await h.press(fran, "➕ Новое оповещение")
    await h.press(fran, "Пропустить ›")
    await h.press(fran, "Пропустить ›")
    await h.send(fran, "bot")
    await h.press(fran, "Пропустить ›")
    await h.press(fran, "🗓 Раз в день")
    [sub] = await subs_of(h, fran)
    assert sub.mode == "daily" and sub.categories == [] and sub.min_budget == 0

    h.clock.advance(hours=1)
    first = await add_job(h, cleo, title="Bot for a bakery")
    await add_job(h, cleo, title="Logo for a bakery", description="A round logo, warm colours.")
    hourly = await add_job(h, cleo, title="Bot support", budget_type="hourly", budget=3_000)
    assert await digest_tick(h) == 0  # not a day yet
    h.clock.advance(hours=24)
    assert await digest_tick(h) == 1
    digest = h.last(fran)
    assert "Заказы для вас за день" in digest.text
    assert "Bot for a bakery — $500.00" in digest.text and "$30.00/час" in digest.text
    assert "Logo" not in digest.text
    assert [b["data"] for row in digest.buttons for b in row][:2] == [
        f"open:show_job:{hourly}",
        f"open:show_job:{first}",
    ]
    assert await digest_tick(h) == 0  # once a day
    h.clock.advance(hours=25)
    assert await digest_tick(h) == 0  # nothing new: no empty digest
    await h.press(fran, "1. Bot support")
    assert "Bot support" in h.last(fran).text


async def test_manage_pause_resume_mode_delete(h: Harness) -> None:
    fran = await freelancer(h)
    mallory = await freelancer(h, name="Mallory")
    await make_alert(h, fran)
    [sub] = await subs_of(h, fran)
    await h.press(fran, "⏸ Pause")
    assert "Paused" in h.last(fran).text and (await subs_of(h, fran))[0].paused
    await h.press_data(fran, f"al:pause:{sub.id}")
    assert "already paused" in h.last_answer(fran).text
    await h.press(fran, "▶️ Resume")
    await h.press(fran, "🗓 Switch to daily")
    assert (await subs_of(h, fran))[0].mode == "daily"
    await h.send(fran, "/alerts")
    assert "My job alerts (1)" in h.last(fran).text
    await h.press(fran, "🗓 Development, Python, bot, -wordpress")

    for data in (
        f"al:view:{sub.id}",
        f"al:pause:{sub.id}",
        f"al:del:{sub.id}",
        f"al:dely:{sub.id}",
    ):
        await h.press_data(mallory, data)
        assert "isn't yours" in h.last_answer(mallory).text, data

    await h.press(fran, "🗑 Delete")
    await h.press(fran, "No, keep it")
    assert len(await subs_of(h, fran)) == 1
    await h.press(fran, "🗑 Delete")
    await h.press(fran, "Yes, delete")
    assert await subs_of(h, fran) == []
    assert "No alerts yet" in h.last(fran).text
    await h.press_data(fran, f"al:dely:{sub.id}")
    assert "no longer exists" in h.last_answer(fran).text


async def test_bad_input_hostile_text_and_stale_buttons(h: Harness) -> None:
    cleo = await client(h)
    await h.send(cleo, "/alerts")
    assert "Only freelancers" in h.last(cleo).text
    fran = await freelancer(h)
    for data in (
        "al:m::instant",
        "al:c::development",
        "al:next",
        "al:s::python",
        "al:zz",
        "al:mode:1:weekly",
    ):
        await h.press_data(fran, data)
        assert h.last_answer(fran).show_alert, data
    await h.send(fran, "/alerts")
    await h.press(fran, "➕ New alert")
    await h.press_data(fran, "al:c::nowhere")
    assert "no longer available" in h.last_answer(fran).text
    await h.send(fran, "typing instead of pressing")
    assert "use the buttons" in h.texts(fran)[-2]
    await h.press(fran, "Skip ›")
    await h.press(fran, "Skip ›")
    await h.send(fran, "x" * 10_000)
    assert "at most" in h.last(fran).text
    await h.send(fran, ", , ,")
    assert "letters or digits" in h.last(fran).text
    await h.send(fran, "w" * 41)
    assert "at most 40 characters" in h.last(fran).text
    await h.send(fran, HOSTILE_KEYWORD)
    for bad, reason in [("abc", "not an amount"), ("-5", "positive"), ("0", "more than zero")]:
        await h.send(fran, bad)
        assert reason in h.last(fran).text, bad
    await h.press(fran, "‹ Back")  # back to keywords
    await h.press(fran, "Skip ›")  # keywords cleared
    await h.send(fran, "150")
    await h.press(fran, "‹ Back")
    await h.press(fran, "‹ Back")
    await h.send(fran, HOSTILE_KEYWORD)
    await h.send(fran, "150")
    mode_screen = h.last(fran)
    assert HOSTILE_KEYWORD in mode_screen.text and "<script>" not in mode_screen.html
    data = mode_screen.button("🔔 Instantly")["data"]
    first = await h.press_data(fran, data, mode_screen.message_id, update_id=990_001)
    again = await h.press_data(fran, data, mode_screen.message_id, update_id=990_001)
    assert again.duplicate and not first.duplicate
    [sub] = await subs_of(h, fran)
    assert sub.keywords == [HOSTILE_KEYWORD]
    await h.press_data(fran, "al:m::instant")  # the wizard is over
    assert "no longer available" in h.last_answer(fran).text
    assert len(await subs_of(h, fran)) == 1


async def test_cancel_keeps_nothing(h: Harness) -> None:
    fran = await freelancer(h)
    await h.send(fran, "/alerts")
    await h.press(fran, "➕ New alert")
    await h.press(fran, "Design")
    await h.press(fran, "✖️ Cancel")
    assert "nothing was saved" in h.last(fran).text
    await h.send(fran, "bot")
    assert await subs_of(h, fran) == []
