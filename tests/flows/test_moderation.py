"""Moderation (issue 12, part 6) through the real engine on SQLite: contact details
in job posts, pitches, profiles and messages before a contract are saved,
flagged and their author warned; the third flag in 30 days opens a case for the
admins (/moderation), who dismiss, warn (the user receives the reason) or ban;
a banned user appeals once per ban and an admin unbans or rejects with a tap."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from domain.usecases import jobs, moderation, pitches, profiles
from domain.usecases.profiles import ProfileFields
from handlers.context import Scope
from handlers.notify import render_events
from tests.flows.harness import Harness, Person
from tests.flows.test_messaging import admin, deal, person
from tests.usecases.story import RecordingGateway

PHONE_RU = "Звоните +7 916 123-45-67, обсудим детали"


@pytest.fixture
def gateway() -> RecordingGateway:
    return RecordingGateway()


@pytest.fixture
def h(db, clock, config, gateway) -> Harness:
    return Harness(db, clock, config, gateway=gateway)


async def run(h: Harness, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """A use case as a flow runs it: its events rendered in the same transaction."""
    async with h.db.uow() as uow:
        result = await work(uow)
        await render_events(Scope(uow, h.clock, h.config), uow.events)
        await uow.commit()
    await h.deliver()
    return result


async def post(h: Harness, who: Person, description: str) -> int:
    fields = jobs.JobFields(title="A shop website", description=description, budget=40_000)
    job = await run(h, lambda uow: jobs.post_job(uow, h.clock, h.config, who.id, fields))
    return job.id


async def set_bio(h: Harness, who: Person, bio: str) -> None:
    await run(
        h,
        lambda uow: profiles.update_profile(uow, h.clock, h.config, who.id, ProfileFields(bio=bio)),
    )


async def flags(h: Harness, who: Person) -> list[tuple[str, list[str], int | None]]:
    async with h.db.uow() as uow:
        return [
            (f.source, list(f.found), f.case_id)
            for f in await uow.contact_flags.find(user_id=who.id)
        ]


async def cases(h: Harness) -> list[tuple[int, str, str | None]]:
    async with h.db.uow() as uow:
        return [(c.user_id, c.status, c.reason) for c in await uow.moderation_cases.find()]


async def three_flags(h: Harness, fran: Person, tag: str = "") -> None:
    """Three new flags (the same address saved again would not be new)."""
    for i in range(3):
        h.clock.advance(hours=1)
        await set_bio(h, fran, f"Write to me at fran{i}{tag}@example.com for a quote")


# --- warnings -----------------------------------------------------------------------------


async def test_texts_with_contacts_are_saved_flagged_and_the_author_warned(h) -> None:
    cleo = await person(h, "Клео", "client", lang="ru")
    fran = await person(h, "Fran", "freelancer")
    job_id = await post(h, cleo, PHONE_RU)
    async with h.db.uow() as uow:
        assert PHONE_RU in (await uow.jobs.get(job_id)).description  # saved, not refused
    warning = h.last(cleo).text
    assert "содержит контакты (+7 916 123-45-67)" in warning and "заказ" in warning
    assert await flags(h, cleo) == [("job", ["+7 916 123-45-67"], None)]

    # Saving the same text again (an edit elsewhere in the job) is not another case.
    seen = len(h.chat(cleo))
    fields = jobs.JobFields(title="A shop website, v2", description=PHONE_RU, budget=40_000)
    await run(h, lambda uow: jobs.edit_job(uow, h.clock, cleo.id, job_id, fields))
    assert len(h.chat(cleo)) == seen and len(await flags(h, cleo)) == 1

    # A pitch, a profile.
    async with h.db.uow() as uow:
        await jobs.publish_job(uow, h.clock, cleo.id, job_id)
        await uow.commit()
    pitch = pitches.PitchFields("Happy to help, mail fran@example.com", 30_000, 5, [])
    await run(h, lambda uow: pitches.submit_pitch(uow, h.clock, h.config, fran.id, job_id, pitch))
    assert "Your pitch contains contact details (fran@example.com)" in h.last(fran).text
    await set_bio(h, fran, "Ten years of Django. Portfolio: t.me/fran_dev")
    assert "Your profile contains contact details (t.me/fran_dev)" in h.last(fran).text
    seen = len(h.chat(fran))
    await set_bio(h, fran, "Ten years of Django, 3.10.12, budget $1,250.50")
    assert len(h.chat(fran)) == seen  # a clean text: no warning
    assert [f[0] for f in await flags(h, fran)] == ["pitch", "profile"]


async def test_messages_before_a_contract_are_flagged_and_within_one_are_not(h) -> None:
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer")
    d = await deal(h, cleo, fran, accept=False)
    await h.press_data(cleo, f"msg:write:{d.contract_id}")
    await h.send(cleo, "Call me on +1 415 555 0100")
    assert "Your message contains contact details" in h.last(cleo).text  # warned inline, once
    assert "contains contact details" in h.last(fran).text  # the recipient's notice
    assert await flags(h, cleo) == [("message", ["+1 415 555 0100"], None)]
    async with h.db.uow() as uow:
        from domain.usecases import contracts

        await contracts.accept_offer(uow, h.clock, fran.id, d.contract_id)
        await uow.commit()
    await h.send(cleo, "Now that we have a contract: +1 415 555 0100")
    assert len(await flags(h, cleo)) == 1  # a contract exists: sharing is allowed


# --- the queue ------------------------------------------------------------------------------


async def test_the_third_flag_in_30_days_opens_a_case(h) -> None:
    ada = await admin(h)
    fran = await person(h, "Fran", "freelancer")
    await set_bio(h, fran, "Mail old@example.com")
    h.clock.advance(days=31)  # outside the window
    await set_bio(h, fran, "Mail one@example.com")
    await set_bio(h, fran, "Mail two@example.com")
    assert await cases(h) == []
    seen = len(h.chat(ada))
    await set_bio(h, fran, "Mail three@example.com")
    assert await cases(h) == [(fran.id, "open", None)]
    assert len(h.chat(ada)) == seen + 1
    assert (
        "Moderation case #1: Fran" in h.last(ada).text and "3 times in 30 days" in h.last(ada).text
    )
    assert [f[2] for f in await flags(h, fran)] == [None, 1, 1, 1]
    await set_bio(h, fran, "Mail four@example.com")  # joins the open case
    assert [f[2] for f in await flags(h, fran)][-1] == 1 and len(await cases(h)) == 1
    assert moderation.REPEAT_THRESHOLD == 3


async def test_admins_dismiss_warn_and_ban_from_the_queue(h) -> None:
    ada = await admin(h)
    fran = await person(h, "Fran", "freelancer", lang="ru")
    await h.send(ada, "/moderation")
    assert h.last(ada).text == "🛡 No moderation cases are waiting."

    # A warning with the admin's words.
    await three_flags(h, fran)
    await h.send(ada, "/moderation")
    assert "1 moderation case is waiting" in h.last(ada).text
    await h.press(ada, "#1 · Fran")
    view = h.last(ada).text
    assert (
        "Case #1" in view and "contact details in 3 texts" in view and "fran2@example.com" in view
    )
    await h.press(ada, "⚠️ Warn")
    assert "Why do you warn Fran?" in h.last(ada).text
    await h.send(ada, "Keep deals on <Gigbot>, please")
    assert "the user was warned — Keep deals on <Gigbot>, please" in h.last(ada).text
    assert "Предупреждение от администраторов Gigbot" in h.last(fran).text
    assert "Keep deals on <Gigbot>, please" in h.last(fran).text
    assert await cases(h) == [(fran.id, "warned", "Keep deals on <Gigbot>, please")]
    await h.press_data(ada, "mod:dismiss:1")  # decided already
    assert h.last_answer(ada).text == "This case was already decided."

    # Flags before the decision are settled: the next case needs three new ones.
    h.clock.advance(hours=1)
    await set_bio(h, fran, "Again: x@example.com")
    assert len(await cases(h)) == 1

    # A dismissal tells the user nothing.
    await set_bio(h, fran, "Again: y@example.com")
    await set_bio(h, fran, "Again: z@example.com")
    seen = len(h.chat(fran))
    await h.press(ada, "🛡 Open the case")
    await h.press(ada, "✅ Dismiss")
    assert "Case #2 dismissed" in h.last(ada).text and len(h.chat(fran)) == seen

    # A ban with a reason: the user is told and may appeal.
    await three_flags(h, fran, "b")
    await h.press(ada, "🛡 Open the case")
    await h.press(ada, "🚫 Ban")
    await h.send(ada, "Moves every client off the platform")
    assert "the user was banned — Moves every client off the platform" in h.last(ada).text
    assert "Moves every client off the platform" in h.last(fran).text
    assert "/appeal" in h.last(fran).text
    async with h.db.uow() as uow:
        assert (await uow.users.get(fran.id)).banned
        actions = [a.action for a in await uow.audit.find()]
    assert actions == ["case_warned", "case_dismissed", "ban", "case_banned"]


async def test_the_queue_is_the_admins_alone(h) -> None:
    fran = await person(h, "Fran", "freelancer")
    cleo = await person(h, "Cleo", "client")
    await three_flags(h, fran)
    await h.send(cleo, "/moderation")
    assert "I don't know the command /moderation" in h.last(cleo).text
    for data in ("mod:case:1", "mod:dismiss:1", "mod:warn:1", "mod:suspend:1", "mod:queue"):
        await h.press_data(cleo, data)
        assert h.last_answer(cleo).text == "Only an admin can do this."
    assert await cases(h) == [(fran.id, "open", None)]


# --- appeals --------------------------------------------------------------------------------


async def test_a_banned_user_appeals_once_per_ban_and_is_told_the_decision(h) -> None:
    ada = await admin(h)
    cleo = await person(h, "Cleo", "client")
    fran = await person(h, "Fran", "freelancer")
    await deal(h, cleo, fran)
    await h.send(fran, "/appeal")
    assert h.last(fran).text == "Your account is not suspended: there is nothing to appeal."

    await h.send(ada, f"/ban {fran.id} Spam in pitches")
    await h.send(fran, "/menu")
    assert h.last(fran).text == "Your account is suspended. You can /appeal once."
    await h.send(fran, "/appeal")
    assert "Reason: Spam in pitches" in h.last(fran).text
    seen = len(h.chat(ada))
    await h.send(fran, "I am sorry, it was a <misunderstanding>")
    assert "Your appeal was sent to the admins" in h.last(fran).text
    assert len(h.chat(ada)) == seen + 1
    note = h.last(ada)
    assert "Appeal #1 from Fran" in note.text and "Reason of the ban: Spam in pitches" in note.text
    assert "I am sorry, it was a <misunderstanding>" in note.text
    assert "jobs posted: 0 · contracts: 1 · disputes on them: 0" in note.text
    assert "contact-detail flags: 0 · cases: 0" in note.text
    assert note.labels() == ["✅ Unban", "✖️ Reject", "👤 User card"]

    await h.send(fran, "/appeal")  # once per ban
    assert "already appealed" in h.last(fran).text
    await h.press_data(fran, "mod:unban:1")  # a banned user's buttons stay refused
    assert h.last_answer(fran).show_alert

    await h.press(ada, "✅ Unban")
    assert "Appeal #1: Fran is unbanned" in h.last(ada).text
    assert "active again" in h.last(fran).text
    await h.press_data(ada, "mod:reject:1")
    assert h.last_answer(ada).text == "This appeal was already decided."

    # A new ban is a new chance to appeal; a rejection keeps the ban.
    await h.send(ada, f"/ban {fran.id} Spam again")
    await h.send(fran, "/appeal")
    await h.send(fran, "Please, one more chance for me")
    await h.press(ada, "✖️ Reject")
    assert "rejected" in h.last(ada).text
    assert h.last(fran).text == "✖️ Your appeal was rejected: your account stays suspended."
    await h.send(fran, "/appeal")
    assert "already appealed" in h.last(fran).text
    async with h.db.uow() as uow:
        assert (await uow.users.get(fran.id)).banned
        assert [(a.status, a.ban_reason) for a in await uow.appeals.find()] == [
            ("accepted", "Spam in pitches"),
            ("rejected", "Spam again"),
        ]
