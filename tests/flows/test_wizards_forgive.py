"""Wizards that forgive (issue 11, items 3 and 4): /cancel everywhere, drafts kept
when a long wizard is left by another command (continued or started over, across
a restart), "Discard this draft?" on a long preview, and only the newest wizard
message with live buttons (a press on an older one is stale)."""

from __future__ import annotations

import pytest

from domain.entities import Job
from handlers.commands import admin_command_menu, command_menu
from handlers.i18n import LANGUAGES, translator
from tests.flows.harness import Harness, Message, Person
from tests.flows.test_post_job import client, freelancer, jobs_in

LANGS = pytest.mark.parametrize("lang", ["en", "ru"])
TITLE = "Logo for a coffee shop"
DESCRIPTION = "A round logo with a coffee bean, vector files, two revisions."


def message(h: Harness, who: Person, message_id: int) -> Message:
    return next(m for m in h.chat(who) if m.message_id == message_id)


def restart(h: Harness) -> Harness:
    """A new engine on the same database (a restart), seeing the same chats."""
    again = Harness(h.db, h.clock, h.config, first_update_id=10_000)
    again.chats, again._messages = h.chats, h._messages
    again._sent_as = getattr(h, "_sent_as", {})
    return again


async def drafts_of(h: Harness, who: Person) -> list[tuple[str, str, str]]:
    async with h.db.uow() as uow:
        return [(d.flow, d.subject, d.step) for d in await uow.drafts.find(user_id=who.id)]


async def to_skills(h: Harness, who: Person) -> Message:
    """/post up to step 4 (skills, in the Development category); its message."""
    t = translator(who.language_code)
    await h.send(who, "/post")
    await h.send(who, TITLE)
    await h.send(who, DESCRIPTION)
    await h.press(who, t.plain("category.development"))
    return h.last(who)


# --- item 4: only the newest wizard message has live buttons -------------------------


@LANGS
async def test_a_typed_skill_takes_the_older_step_message_buttons_away(h, lang):
    """The named defect: type a skill at step 4, then tap "Python" on the older
    step-4 message — the newer one did not show it, the preview did."""
    t = translator(lang)
    carol = await client(h, lang=lang)
    older = await to_skills(h, carol)
    python = older.button(t.plain("skill.python"))
    assert python is not None
    await h.send(carol, "Figma")
    newer = h.last(carol)
    assert newer.message_id != older.message_id and newer.buttons
    assert message(h, carol, older.message_id).buttons is None  # the old screen is inert

    # Its button pressed all the same (a client that still shows it): stale, no effect.
    await h.press_data(carol, python["data"], older.message_id)
    assert h.last_answer(carol).text == t.plain("error.stale_button")
    assert h.last(carol).message_id == newer.message_id
    assert t.plain("skill.python") not in h.last(carol).text
    await h.press(carol, t.plain("post.btn.skills_done"))
    await h.press(carol, t.plain("post.btn.fixed"))
    await h.send(carol, "500")
    await h.press(carol, t.plain("post.btn.no_deadline"))
    preview = h.last(carol).text
    assert "Figma" in preview and t.plain("skill.python") not in preview


async def test_each_step_leaves_one_message_with_live_buttons(h):
    carol = await client(h)
    before = len(h.chat(carol))
    await to_skills(h, carol)
    await h.send(carol, "Figma")
    await h.send(carol, "Sketch")
    wizard = [m for m in h.chat(carol)[before:] if m.buttons]
    assert len(wizard) == 1 and wizard[0].message_id == h.last(carol).message_id


async def test_a_stale_wizard_press_from_before_a_restart_is_refused(h):
    """The screen is kept with the conversation: after a restart a press on an old
    wizard message (one whose buttons could not be removed) is still stale, and the
    current screen still works."""
    carol = await client(h)
    older = await to_skills(h, carol)
    python = older.button("Python")
    assert python is not None
    await h.send(carol, "Figma")
    current = h.last(carol)

    restarted = restart(h)
    await restarted.press_data(carol, python["data"], older.message_id)
    assert restarted.last_answer(carol).text == "This button is no longer available."
    await restarted.press_data(carol, python["data"], current.message_id)
    assert "Python" in restarted.last(carol).text  # the current screen's press applies


async def test_a_wizard_button_needs_a_conversation_and_its_screen(h):
    carol = await client(h)
    await h.press_data(carol, "pj:skills_done", h.last(carol).message_id)
    assert h.last_answer(carol).text == "This button is no longer available."


# --- item 3: /cancel -----------------------------------------------------------------


@LANGS
async def test_cancel_ends_the_wizard_with_the_menu(h, db, lang):
    t = translator(lang)
    carol = await client(h, lang=lang)
    await h.send(carol, "/post")
    await h.send(carol, TITLE)
    asked = h.last(carol)
    assert asked.buttons
    await h.send(carol, "/cancel")
    reply = h.last(carol)
    assert reply.text.startswith(t.plain("cancel.done"))
    assert t.plain("menu.post") in reply.labels()  # the main menu
    assert message(h, carol, asked.message_id).buttons is None
    await h.send(carol, DESCRIPTION)  # no longer an answer to the wizard
    assert await jobs_in(db) == []
    assert await drafts_of(h, carol) == []  # cancelled: nothing kept
    await h.send(carol, "/post")  # a new job, no draft to continue
    assert t.plain("drafts.btn.continue") not in h.last(carol).labels()
    assert t.plain("btn.cancel") in h.last(carol).labels()


@LANGS
async def test_cancel_with_nothing_in_progress_says_so_and_shows_the_menu(h, lang):
    t = translator(lang)
    carol = await client(h, lang=lang)
    await h.send(carol, "/cancel")
    reply = h.last(carol)
    assert reply.text.startswith(t.plain("cancel.nothing"))
    assert t.plain("menu.post") in reply.labels()


def test_cancel_is_in_every_command_menu():
    for lang in (None, *LANGUAGES):
        assert "cancel" in dict(command_menu(lang))
        assert "cancel" in dict(admin_command_menu(lang))


# --- item 3: drafts --------------------------------------------------------------------


@LANGS
async def test_a_job_wizard_left_by_another_command_is_kept_and_continued(h, db, lang):
    t = translator(lang)
    carol = await client(h, lang=lang)
    await to_skills(h, carol)
    await h.send(carol, "/myjobs")  # elsewhere: the draft is kept

    await h.send(carol, "/post")
    offer = h.last(carol)
    assert t.plain("drafts.btn.continue") in offer.labels()
    assert t.plain("drafts.btn.restart") in offer.labels()
    assert await drafts_of(h, carol) == [("post_job", "", "skills")]
    await h.press(carol, t.plain("drafts.btn.continue"))
    assert await drafts_of(h, carol) == []
    await h.press(carol, t.plain("skill.python"))  # step 4 again, where it was left
    await h.press(carol, t.plain("post.btn.skills_done"))
    await h.press(carol, t.plain("post.btn.fixed"))
    await h.send(carol, "500")
    await h.press(carol, t.plain("post.btn.no_deadline"))
    await h.press(carol, t.plain("post.btn.publish"))
    [job] = await jobs_in(db)
    assert isinstance(job, Job) and job.title == TITLE and job.skills == ["python"]


async def test_a_draft_survives_a_restart_and_can_be_started_over(h):
    carol = await client(h)
    await h.send(carol, "/post")
    await h.send(carol, TITLE)
    await h.send(carol, "/menu")

    restarted = restart(h)
    await restarted.send(carol, "/post")
    assert "▶️ Continue your draft" in restarted.last(carol).labels()
    await restarted.press(carol, "🔄 Start over")
    assert await drafts_of(restarted, carol) == []
    assert "step 1 of 7" in restarted.last(carol).text  # a new job, from the title
    await restarted.send(carol, "Another title for a job")
    assert "Step 2 of 7" in restarted.last(carol).text


async def test_a_draft_with_nothing_answered_is_not_kept(h):
    carol = await client(h)
    await h.send(carol, "/post")
    await h.send(carol, "/menu")
    assert await drafts_of(h, carol) == []
    await h.send(carol, "/post")
    assert "step 1 of 7" in h.last(carol).text


async def test_pitch_and_offer_drafts_are_kept_per_job(h, db):
    carol = await client(h)
    fred = await freelancer(h)
    await h.send(carol, "/post")
    for text in (TITLE, DESCRIPTION):
        await h.send(carol, text)
    await h.press(carol, "Design")
    await h.press(carol, "Logo design")
    await h.press(carol, "✅ Done")
    await h.press(carol, "💰 Fixed price")
    await h.send(carol, "500")
    await h.press(carol, "⏭ No deadline")
    await h.press(carol, "🚀 Publish")
    [job] = await jobs_in(db)

    start = f"pitch:start:{job.id}"
    await h.press_data(fred, start)
    await h.send(fred, "I have drawn fifty coffee logos; here is how I would do yours.")
    await h.send(fred, "/jobs")
    assert await drafts_of(h, fred) == [("pitch", f"job:{job.id}", "price")]
    await h.press_data(fred, start)
    await h.press(fred, "▶️ Continue your draft")
    await h.send(fred, "450")  # the price question, where it was left
    await h.send(fred, "7")
    await h.press(fred, "No milestones")
    await h.press(fred, "📤 Send pitch")
    async with db.uow() as uow:
        [pitch] = await uow.pitches.find(job_id=job.id)
        pitch_id, price = pitch.id, pitch.price
    assert price == 45_000

    hire = f"of:hire:{pitch_id}"
    await h.press_data(carol, hire)
    await h.send(carol, "Logo drafts")
    await h.send(carol, "/balance")
    assert await drafts_of(h, carol) == [("offer", f"new:{job.id}:{fred.id}", "amount")]
    await h.press_data(carol, hire)
    await h.press(carol, "▶️ Continue your draft")
    assert "Logo drafts" in h.last(carol).text  # its amount is asked


@LANGS
async def test_cancel_on_a_long_preview_asks_first(h, db, lang):
    t = translator(lang)
    carol = await client(h, lang=lang)
    await to_skills(h, carol)
    await h.press(carol, t.plain("skill.python"))
    await h.press(carol, t.plain("post.btn.skills_done"))
    await h.press(carol, t.plain("post.btn.fixed"))
    await h.send(carol, "500")
    await h.press(carol, t.plain("post.btn.no_deadline"))
    preview = h.last(carol)
    await h.press(carol, t.plain("btn.cancel"))
    asked = h.last(carol)
    assert asked.message_id == preview.message_id  # asked in place of the preview
    assert t.plain("drafts.btn.discard") in asked.labels()
    await h.press(carol, t.plain("drafts.btn.keep"))
    assert t.plain("post.btn.publish") in h.last(carol).labels()  # the preview again
    await h.press(carol, t.plain("btn.cancel"))
    await h.press(carol, t.plain("drafts.btn.discard"))
    assert h.last(carol).text == t.plain("post.cancelled")
    assert await jobs_in(db) == [] and await drafts_of(h, carol) == []


async def test_cancel_early_in_a_wizard_does_not_ask(h):
    carol = await client(h)
    await h.send(carol, "/post")
    await h.send(carol, TITLE)
    await h.press(carol, "✖️ Cancel")
    assert "not posted" in h.last(carol).text


async def test_a_fast_tap_before_the_sender_recorded_the_message_still_counts(h, db):
    """The screen's row went out but its message id is not recorded yet (the sender
    is between the call and marking it sent): a tap on that newest message counts,
    one on an older message does not."""
    carol = await client(h)
    older = await to_skills(h, carol)
    python = older.button("Python")
    assert python is not None
    await h.send(carol, "Figma")
    current = h.last(carol)
    async with db.uow() as uow:
        [screen] = await uow.outbox.find(message_id=current.message_id, chat_id=carol.id)
        screen.status, screen.message_id = "sending", None
        await uow.commit()
    await h.press_data(carol, python["data"], older.message_id)
    assert h.last_answer(carol).text == "This button is no longer available."
    await h.press_data(carol, python["data"], current.message_id)
    assert "Python" in h.last(carol).text and h.last(carol).message_id == current.message_id
    assert h.last(carol).buttons  # still the screen, its buttons live


async def test_screens_and_drafts_on_sqlite_and_postgresql(any_db, clock, config):
    h = Harness(any_db, clock, config)
    carol = await client(h)
    older = await to_skills(h, carol)
    python = older.button("Python")
    assert python is not None
    await h.send(carol, "Figma")
    assert message(h, carol, older.message_id).buttons is None
    await h.press_data(carol, python["data"], older.message_id)
    assert h.last_answer(carol).text == "This button is no longer available."
    await h.send(carol, "/menu")
    again = restart(h)
    await again.send(carol, "/post")
    await again.press(carol, "▶️ Continue your draft")
    assert "Figma" in again.last(carol).text and "Python" not in again.last(carol).text


async def test_a_fast_tap_on_a_non_wizard_screen_keeps_its_buttons(h, db):
    """The same race on a conversation's screen pressed by a button that is not a
    wizard's (a search filter): edited in place, the screen keeps its buttons."""
    fred = await freelancer(h)
    await h.send(fred, "/jobs")
    page = h.last(fred)
    async with db.uow() as uow:
        [row] = await uow.outbox.find(message_id=page.message_id, chat_id=fred.id)
        row.status, row.message_id = "sending", None
        await uow.commit()
    await h.press(fred, "Hourly")
    assert h.last(fred).message_id == page.message_id and page.buttons
