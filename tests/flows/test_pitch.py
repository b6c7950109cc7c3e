"""The freelancer's pitch flow, through the real engine on SQLite."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from domain.config import MarketConfig
from domain.entities import Invitation, Job, Pitch
from domain.states import JobStatus, PitchStatus
from tests.flows.harness import Harness, Person

HOSTILE = "<b>bold</b> <script>alert(1)</script> a < b & c 👩‍💻"
COVER = "I have built twelve Telegram bots like this one, quickly and cleanly."


async def freelancer(h: Harness, name: str = "Fran", lang: str = "en") -> Person:
    who = h.person(name, lang=lang)
    await h.send(who, "/start")
    label = "🧑‍💻 I work (freelancer)" if lang == "en" else "🧑‍💻 Я работаю (фрилансер)"
    await h.press(who, label)
    return who


async def client(h: Harness, name: str = "Cleo") -> Person:
    who = h.person(name)
    await h.send(who, "/start")
    await h.press(who, "💼 I hire (client)")
    return who


async def add_job(
    h: Harness,
    owner: Person,
    title: str = "Build a Telegram bot",
    budget_type: str = "fixed",
    budget: int = 50_000,
    status: JobStatus = JobStatus.OPEN,
    **kw,
) -> int:
    async with h.db.uow() as uow:
        job = await uow.jobs.add(
            Job(
                client_id=owner.id,
                title=title,
                description=kw.pop("description", "A bot that takes orders for a bakery."),
                category=kw.pop("category", "development"),
                skills=kw.pop("skills", ["python", "telegram-bots"]),
                budget_type=budget_type,
                budget=budget,
                currency="USD",
                status=status,
                created_at=h.clock.now(),
                published_at=h.clock.now(),
                **kw,
            )
        )
        await uow.commit()
        assert job.id is not None
        return job.id


async def pitches_of(h: Harness, who: Person) -> list[SimpleNamespace]:
    """Snapshots of the freelancer's pitches (plain values, readable after the session)."""
    async with h.db.uow() as uow:
        found = await uow.pitches.find(freelancer_id=who.id)
        return [
            SimpleNamespace(
                id=p.id,
                price=p.price,
                duration_days=p.duration_days,
                status=p.status,
                proposed_milestones=list(p.proposed_milestones),
                invited=p.invited,
            )
            for p in found
        ]


async def start_pitch(h: Harness, who: Person, job_id: int) -> None:
    await h.send(who, f"/start job_{job_id}")
    await h.press(who, "✋ Pitch")


async def pitch_through(
    h: Harness, who: Person, job_id: int, cover: str = COVER, price: str = "450"
) -> None:
    await start_pitch(h, who, job_id)
    await h.send(who, cover)
    await h.send(who, price)
    await h.send(who, "7")


async def test_fixed_job_pitch_with_milestones_reaches_the_client(h: Harness) -> None:
    cleo = await client(h)
    fran = await freelancer(h)
    job_id = await add_job(h, cleo)

    await start_pitch(h, fran, job_id)
    assert "You have 20 of 20 pitches left" in h.texts(fran)[-2]
    assert "cover letter" in h.last(fran).text
    await h.send(fran, COVER)
    assert "price for the whole job" in h.last(fran).text
    assert "$500.00" in h.last(fran).text  # the client's budget
    await h.send(fran, "$450")
    await h.send(fran, "7")
    assert "Propose milestones" in h.last(fran).text
    await h.send(fran, "Design")
    await h.send(fran, "150")
    await h.send(fran, "Build and deploy")
    await h.send(fran, "300")
    assert "1. Design — $150.00" in h.last(fran).text
    await h.press(fran, "✅ Done")
    preview = h.last(fran).text
    assert "Preview of your pitch" in preview
    assert "Price: $450.00" in preview and "Duration: 7 days" in preview
    assert "2. Build and deploy — $300.00" in preview
    await h.press(fran, "📤 Send pitch")
    assert "was sent" in h.last(fran).text
    assert "19 of 20" in h.last(fran).text

    [pitch] = await pitches_of(h, fran)
    assert (pitch.price, pitch.duration_days, pitch.status) == (45_000, 7, PitchStatus.PENDING)
    assert pitch.proposed_milestones == [
        {"title": "Design", "amount": 15_000},
        {"title": "Build and deploy", "amount": 30_000},
    ]
    note = h.last(cleo)
    assert "New pitch on “Build a Telegram bot” from Fran: $450.00, 7 days." in note.text
    assert "👤 Freelancer profile" in note.labels()
    await h.press(cleo, "👤 Freelancer profile")
    # A brand-new freelancer has no number yet (issue 11, item 14).
    assert "Fran" in h.last(cleo).text and "New — no score yet" in h.last(cleo).text
    await h.press(cleo, "📨 View pitch")  # edits the notification into the pitch
    assert any(COVER in m.text for m in h.chat(cleo))


async def test_hourly_job_asks_a_rate_and_no_milestones(h: Harness) -> None:
    cleo = await client(h)
    fran = await freelancer(h)
    job_id = await add_job(h, cleo, budget_type="hourly", budget=4_000)
    await start_pitch(h, fran, job_id)
    await h.send(fran, COVER)
    assert "hourly rate" in h.last(fran).text and "$40.00/hour" in h.last(fran).text
    await h.send(fran, "35.50")
    await h.send(fran, "30")
    preview = h.last(fran).text
    assert "Price: $35.50/hour" in preview and "Milestones" not in preview
    await h.press(fran, "📤 Send pitch")
    [pitch] = await pitches_of(h, fran)
    assert pitch.price == 3_550 and pitch.proposed_milestones == []
    assert "$35.50/hour" in h.last(cleo).text


async def test_bad_input_is_refused_specifically_and_changes_nothing(h: Harness) -> None:
    cleo = await client(h)
    fran = await freelancer(h)
    job_id = await add_job(h, cleo)
    await start_pitch(h, fran, job_id)

    await h.send(fran, "too short")
    assert "at least 20 characters" in h.last(fran).text
    await h.send(fran, "x" * 10_000)
    assert "at most 3000 characters; yours has 10000" in h.last(fran).text
    await h.send(fran, "   ")
    assert "can't be empty" in h.last(fran).text
    await h.upload(fran, "file-1")
    assert "can't be empty" in h.last(fran).text
    await h.send(fran, COVER)

    for bad, reason in [
        ("abc", "not an amount"),
        ("-5", "must be positive"),
        ("0", "more than zero"),
        ("1.234", "decimal places"),
        ("40 EUR", "currency"),
        ("99999999", "limit"),
    ]:
        await h.send(fran, bad)
        assert reason in h.last(fran).text, (bad, h.last(fran).text)
    await h.send(fran, "450")
    for bad, reason in [("0", "duration"), ("731", "1 and 730"), ("abc", "whole number")]:
        await h.send(fran, bad)
        assert reason in h.last(fran).text, bad
    await h.send(fran, "10")
    await h.send(fran, "Only part")
    await h.send(fran, "100")
    await h.press(fran, "✅ Done")
    assert "add up to $100.00: $350.00 short of $450.00" in h.last_answer(fran).text
    await h.press(fran, "No milestones")
    assert "Preview" in h.last(fran).text
    assert await pitches_of(h, fran) == []
    await h.press(fran, "📤 Send pitch")
    [pitch] = await pitches_of(h, fran)
    assert pitch.duration_days == 10 and pitch.proposed_milestones == []


async def test_html_and_emoji_are_shown_back_escaped(h: Harness) -> None:
    cleo = await client(h, name="<i>Cleo</i>")
    fran = await freelancer(h, name="Fran <b>&</b>")
    job_id = await add_job(h, cleo, title="Fix <b>my</b> site & more")
    await start_pitch(h, fran, job_id)
    assert "Fix <b>my</b> site & more" in h.last(fran).text or "Fix <b>my</b>" in h.texts(fran)[-2]
    await h.send(fran, HOSTILE + " and more words to pass the minimum")
    await h.send(fran, "100")
    await h.send(fran, "3")
    await h.send(fran, HOSTILE)
    await h.send(fran, "100")
    assert HOSTILE in h.last(fran).text  # escaped in HTML, shown verbatim
    await h.press(fran, "✅ Done")
    assert "<script>" not in h.last(fran).html
    assert HOSTILE in h.last(fran).text
    await h.press(fran, "📤 Send pitch")
    assert "Fran <b>&</b>" in h.last(cleo).text
    await h.press(cleo, "📨 View pitch")
    assert HOSTILE in h.last(cleo).text and "<script>" not in h.last(cleo).html


async def test_who_may_pitch_where(h: Harness) -> None:
    cleo = await client(h)
    fran = await freelancer(h)
    job_id = await add_job(h, cleo)
    closed_id = await add_job(h, cleo, title="Old closed job", status=JobStatus.CLOSED)

    await h.press_data(cleo, f"pitch:new:{job_id}")
    assert "Only freelancers" in h.last_answer(cleo).text
    # Both roles, own job.
    await h.send(cleo, "/settings")
    await h.press(cleo, "Freelancer")
    await h.press_data(cleo, f"pitch:new:{job_id}")
    assert "own job" in h.last_answer(cleo).text
    # A closed job she has nothing to do with is hidden: answered as an unknown id.
    await h.press_data(fran, f"pitch:new:{closed_id}")
    hidden = h.last_answer(fran)
    await h.press_data(fran, "pitch:new:987654")
    assert h.last_answer(fran) == hidden and hidden.show_alert
    assert hidden.text == "This job no longer exists."
    await pitch_through(h, fran, job_id)
    await h.press(fran, "No milestones")
    await h.press(fran, "📤 Send pitch")
    await h.press_data(fran, f"pitch:new:{job_id}")
    assert "already pitched" in h.last_answer(fran).text.lower()
    assert len(await pitches_of(h, fran)) == 1
    # The job she pitched on stays visible to her once paused: it is "not open".
    async with h.db.uow() as uow:
        (await uow.jobs.get(job_id)).status = JobStatus.PAUSED
        await uow.commit()
    await h.press_data(fran, f"pitch:new:{job_id}")
    assert "not open" in h.last_answer(fran).text


async def test_quota_is_shown_enforced_and_invitations_are_free(db, clock) -> None:
    h = Harness(db, clock, MarketConfig(weekly_pitch_quota=1))
    cleo = await client(h)
    fran = await freelancer(h)
    first, second, invited = [await add_job(h, cleo, title=f"Job number {k}") for k in range(3)]
    await pitch_through(h, fran, first)
    await h.press(fran, "No milestones")
    await h.press(fran, "📤 Send pitch")
    assert "0 of 1" in h.last(fran).text
    assert "next pitch is free from 2026-01-12 09:00 UTC" in h.last(fran).text

    clock.advance(days=3)  # a rolling window: three days on, the pitch still counts
    await h.press_data(fran, f"pitch:new:{second}")
    answer = h.last_answer(fran).text
    assert "used all 1 pitches of the last 7 days" in answer
    async with db.uow() as uow:
        await uow.invitations.add(
            Invitation(job_id=invited, client_id=cleo.id, freelancer_id=fran.id)
        )
        await uow.commit()
    await start_pitch(h, fran, invited)
    assert "this pitch is free" in h.texts(fran)[-2]
    await h.send(fran, COVER)
    await h.send(fran, "100")
    await h.send(fran, "2")
    await h.press(fran, "No milestones")
    await h.press(fran, "📤 Send pitch")
    assert len(await pitches_of(h, fran)) == 2
    # Seven days after the first pitch, its slot is free again.
    clock.advance(days=4)
    await start_pitch(h, fran, second)
    assert "1 of 1" in h.texts(fran)[-2]


async def test_edit_and_withdraw_from_my_pitches(h: Harness) -> None:
    cleo = await client(h)
    fran = await freelancer(h)
    job_id = await add_job(h, cleo)
    await pitch_through(h, fran, job_id)
    await h.press(fran, "No milestones")
    await h.press(fran, "📤 Send pitch")
    [pitch] = await pitches_of(h, fran)

    await h.send(fran, "/pitches")
    assert "My pitches (1)" in h.last(fran).text
    await h.press(fran, "⏳ pending · Build a Telegram bot")
    await h.press(fran, "✏️ Edit")
    await h.press(fran, "✏️ Price")
    await h.send(fran, "nope")
    assert "not an amount" in h.last(fran).text
    await h.send(fran, "480")
    assert "Pitch updated" in h.last(fran).text and "$480.00" in h.last(fran).text
    assert "updated their pitch" in h.last(cleo).text and "$480.00" in h.last(cleo).text

    await h.press(fran, "✏️ Edit")
    await h.press(fran, "✏️ Cover letter")
    await h.send(fran, HOSTILE + " — a better letter than before")
    assert HOSTILE in h.last(fran).text

    await h.press(fran, "↩️ Withdraw")
    await h.press(fran, "No, keep it")
    [kept] = await pitches_of(h, fran)
    assert kept.status == PitchStatus.PENDING
    await h.press(fran, "↩️ Withdraw")
    await h.press(fran, "Yes, withdraw")
    assert "withdrawn" in h.last(fran).text
    assert "✏️ Edit" not in h.last(fran).labels()
    assert "withdrew their pitch" in h.last(cleo).text
    [gone] = await pitches_of(h, fran)
    assert gone.status == PitchStatus.WITHDRAWN and gone.price == 48_000
    # Stale buttons on a withdrawn pitch change nothing.
    await h.press_data(fran, f"pitch:wdy:{pitch.id}")
    assert "withdrawn or declined" in h.last_answer(fran).text
    await h.press_data(fran, f"pitch:ef:{pitch.id}:price")
    assert "pending" in h.last_answer(fran).text


async def test_someone_elses_pitch_and_forged_buttons(h: Harness) -> None:
    cleo = await client(h)
    fran = await freelancer(h)
    mallory = await freelancer(h, name="Mallory")
    job_id = await add_job(h, cleo)
    await pitch_through(h, fran, job_id)
    await h.press(fran, "No milestones")
    await h.press(fran, "📤 Send pitch")
    [pitch] = await pitches_of(h, fran)
    before = len(h.chat(mallory))

    for data in (
        f"pitch:show:{pitch.id}",
        f"pitch:edit:{pitch.id}",
        f"pitch:ef:{pitch.id}:cover",
        f"pitch:wd:{pitch.id}",
        f"pitch:wdy:{pitch.id}",
    ):
        await h.press_data(mallory, data)
        assert "not yours" in h.last_answer(mallory).text, data
    for data in ("pitch:send", "pitch:fix::price", "pitch:back", "pitch:zzz", "pitch:ef:1:evil"):
        await h.press_data(mallory, data)
        assert "no longer available" in h.last_answer(mallory).text, data
    assert len(h.chat(mallory)) == before
    [same] = await pitches_of(h, fran)
    assert same.status == PitchStatus.PENDING


async def test_back_cancel_and_restart_mid_wizard(h: Harness, db, clock, config) -> None:
    cleo = await client(h)
    fran = await freelancer(h)
    job_id = await add_job(h, cleo)
    await start_pitch(h, fran, job_id)
    await h.send(fran, COVER)
    await h.press(fran, "‹ Back")
    assert "cover letter" in h.last(fran).text
    await h.send(fran, COVER + " Again.")
    await h.send(fran, "450")

    # A new engine (a restart) continues the same draft from the database.
    h2 = Harness(db, clock, config)
    h2.chats = h.chats
    h2._updates, h2._messages, h2._queries = h._updates, h._messages, h._queries
    await h2.send(fran, "5")
    await h2.press(fran, "No milestones")
    assert "Again." in h2.last(fran).text and "Duration: 5 days" in h2.last(fran).text
    await h2.press(fran, "✏️ Duration")
    await h2.send(fran, "9")
    assert "Duration: 9 days" in h2.last(fran).text  # back to the preview
    await h2.press(fran, "✖️ Cancel")
    assert "Nothing was sent" in h2.last(fran).text
    await h2.press_data(fran, "pitch:send")
    assert "no longer available" in h2.last_answer(fran).text
    assert await pitches_of(h2, fran) == []


async def test_duplicate_update_has_one_effect(h: Harness) -> None:
    cleo = await client(h)
    fran = await freelancer(h)
    job_id = await add_job(h, cleo)
    await pitch_through(h, fran, job_id)
    await h.press(fran, "No milestones")
    send = h.last(fran).button("📤 Send pitch")
    assert send is not None
    first = await h.press_data(fran, send["data"], h.last(fran).message_id, update_id=777_001)
    again = await h.press_data(fran, send["data"], h.last(fran).message_id, update_id=777_001)
    assert not first.duplicate and again.duplicate
    assert len(await pitches_of(h, fran)) == 1
    assert sum("New pitch" in t for t in h.texts(cleo)) == 1


async def test_my_pitches_pages_and_russian(h: Harness) -> None:
    cleo = await client(h)
    fran = await freelancer(h, lang="ru")
    for k in range(7):
        job_id = await add_job(h, cleo, title=f"Job {k}", deadline=date(2026, 3, 1))
        async with h.db.uow() as uow:
            await uow.pitches.add(
                Pitch(
                    job_id=job_id,
                    freelancer_id=fran.id,
                    cover_letter=COVER,
                    price=100,
                    duration_days=3,
                    created_at=h.clock.now(),
                )
            )
            await uow.commit()
    await h.send(fran, "/pitches")
    page1 = h.last(fran)
    assert "Мои отклики (7)" in page1.text and "Осталось откликов" in page1.text
    assert len([x for x in page1.labels() if "Job" in x]) == 5
    await h.press(fran, "›" if page1.button("›") else page1.labels()[-1])
    assert len([x for x in h.last(fran).labels() if "Job" in x]) == 2
    await h.press_data(fran, "pitch:list::abc")
    assert h.last_answer(fran).show_alert


# --- issue 11, item 6: milestones changed one by one; back to the preview ---------------

WORDS = {
    "en": {
        "pitch": "✋ Pitch",
        "done": "✅ Done",
        "fix": "✏️ Milestones",
        "keep_title": "Keep the title",
        "to_preview": "‹ Back to preview",
        "send": "📤 Send pitch",
        "preview": "Preview of your pitch",
        "short": "$100.00 short of $1,000.00",
        "over": "$50.00 over $1,000.00",
        "even": "They add up to your price",
    },
    "ru": {
        "pitch": "✋ Откликнуться",
        "done": "✅ Готово",
        "fix": "✏️ Этапы",
        "keep_title": "Оставить название",
        "to_preview": "‹ К предпросмотру",
        "send": "📤 Отправить отклик",
        "preview": "Предпросмотр отклика",
        "short": "не хватает $100.00 до $1,000.00",
        "over": "на $50.00 больше $1,000.00",
        "even": "Сумма этапов равна вашей цене",
    },
}


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_milestones_are_changed_one_by_one_and_the_preview_comes_back(
    h: Harness, lang: str
) -> None:
    w = WORDS[lang]
    cleo = await client(h)
    fran = await freelancer(h, lang=lang)
    job_id = await add_job(h, cleo, budget=100_000)
    await h.send(fran, f"/start job_{job_id}")
    await h.press(fran, w["pitch"])
    await h.send(fran, COVER)
    await h.send(fran, "1000")
    await h.send(fran, "7")
    for title, amount in [("Design", "400"), ("Build", "500")]:
        await h.send(fran, title)
        await h.send(fran, amount)
    assert w["short"] in h.last(fran).text.lower()  # the list says how far from the price
    await h.press(fran, w["done"])
    assert w["short"] in h.last_answer(fran).text.lower()  # and so does the refusal
    await h.send(fran, "Deploy")
    await h.send(fran, "150")
    assert w["over"] in h.last(fran).text.lower()
    await h.press(fran, w["done"])
    assert w["over"] in h.last_answer(fran).text.lower()

    # Change the third one's amount, keeping its title.
    await h.press(fran, "✏️ 3. Deploy")
    assert "“Deploy”, $150.00" in h.last(fran).text or "«Deploy», $150.00" in h.last(fran).text
    await h.press(fran, w["keep_title"])
    await h.send(fran, "100")
    screen = h.last(fran).text
    assert "3. Deploy — $100.00" in screen and w["even"] in screen
    # Remove the second; add it again.
    await h.press(fran, "🗑 2")
    assert "Build" not in h.last(fran).text and "2. Deploy — $100.00" in h.last(fran).text
    await h.send(fran, "Build")
    await h.send(fran, "500")
    await h.press(fran, w["done"])
    assert w["preview"] in h.last(fran).text
    assert "3. Build — $500.00" in h.last(fran).text

    # "✏️ Milestones" on the preview: the milestones are there to change (they were
    # wiped), and Done comes back to the preview.
    await h.press(fran, w["fix"])
    assert "1. Design — $400.00" in h.last(fran).text
    await h.press(fran, "✏️ 1. Design")
    await h.send(fran, "Design and specs")
    await h.press(fran, "Keep $400.00" if lang == "en" else "Оставить $400.00")
    await h.press(fran, w["done"])
    preview = h.last(fran).text
    assert w["preview"] in preview and "1. Design and specs — $400.00" in preview

    # "Back to preview" leaves the milestones as they were.
    await h.press(fran, w["fix"])
    await h.press(fran, "🗑 1")
    await h.press(fran, w["to_preview"])
    preview = h.last(fran).text
    assert w["preview"] in preview and "1. Design and specs — $400.00" in preview
    await h.press(fran, w["send"])
    [pitch] = await pitches_of(h, fran)
    assert pitch.proposed_milestones == [
        {"title": "Design and specs", "amount": 40_000},
        {"title": "Deploy", "amount": 10_000},
        {"title": "Build", "amount": 50_000},
    ]


async def test_a_sent_pitchs_milestones_are_changed_one_by_one(h: Harness) -> None:
    cleo = await client(h)
    fran = await freelancer(h)
    job_id = await add_job(h, cleo)
    await pitch_through(h, fran, job_id)
    for title, amount in [("Design", "150"), ("Build", "300")]:
        await h.send(fran, title)
        await h.send(fran, amount)
    await h.press(fran, "✅ Done")
    await h.press(fran, "📤 Send pitch")
    await h.send(fran, "/pitches")
    await h.press(fran, "⏳ pending · Build a Telegram bot")
    await h.press(fran, "✏️ Edit")
    await h.press(fran, "✏️ Milestones")
    assert "2. Build — $300.00" in h.last(fran).text  # the pitch's own, not none
    await h.press(fran, "✏️ 2. Build")
    await h.press(fran, "Keep the title")
    await h.send(fran, "250")
    await h.press(fran, "✅ Done")
    assert "$50.00 short of $450.00" in h.last_answer(fran).text
    await h.send(fran, "Deploy")
    await h.send(fran, "50")
    await h.press(fran, "✅ Done")
    assert "Pitch updated" in h.last(fran).text
    [pitch] = await pitches_of(h, fran)
    assert [m["amount"] for m in pitch.proposed_milestones] == [15_000, 25_000, 5_000]


async def test_stale_milestone_buttons_change_nothing(h: Harness) -> None:
    cleo = await client(h)
    fran = await freelancer(h)
    job_id = await add_job(h, cleo)
    await pitch_through(h, fran, job_id)
    await h.send(fran, "Design")
    await h.send(fran, "450")
    for data in ("pitch:remove_milestone:5", "pitch:edit_milestone:1", "pitch:keep_milestone"):
        await h.press_data(fran, data)
        assert "no longer available" in h.last_answer(fran).text, data
    await h.press(fran, "✅ Done")
    assert "Preview" in h.last(fran).text
    await h.press_data(fran, "pitch:preview")  # not changing a part: nothing to go back to
    assert "no longer available" in h.last_answer(fran).text


async def test_changing_a_part_from_the_preview_can_go_back_to_it_unchanged(h: Harness) -> None:
    """Cancel there drops the whole pitch; "‹ Back to preview" keeps it as it was."""
    cleo = await client(h)
    fran = await freelancer(h)
    job_id = await add_job(h, cleo)
    await pitch_through(h, fran, job_id)
    await h.press(fran, "No milestones")
    for fix in ("✏️ Price", "✏️ Cover letter", "✏️ Duration", "✏️ Milestones"):
        await h.press(fran, fix)
        assert "‹ Back to preview" in h.last(fran).labels(), fix
        await h.press(fran, "‹ Back to preview")
        preview = h.last(fran).text
        assert "Preview of your pitch" in preview and "Price: $450.00" in preview, fix
    await h.press(fran, "📤 Send pitch")
    [pitch] = await pitches_of(h, fran)
    assert (pitch.price, pitch.duration_days, pitch.proposed_milestones) == (45_000, 7, [])
