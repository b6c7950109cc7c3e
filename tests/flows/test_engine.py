"""The engine's guarantees, with test steps on a router of their own (real SQLite)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import pytest

from domain.entities import Report
from domain.errors import ValidationError
from domain.events import Event as DomainEvent
from domain.usecases.deadlines import DEADLINES
from handlers import engine as engine_module
from handlers.callbacks import encode
from handlers.context import Context, Scope
from handlers.events import Event
from handlers.notify import renders
from handlers.render import bold, button, esc, keyboard
from handlers.routing import Router, Steps
from tests.flows.harness import Harness

router = Router()


class QuizStep(Steps, flow="quiz"):
    ANSWER = "answer"


async def _add_report(ctx: Context, reason: str) -> None:
    await ctx.uow.reports.add(
        Report(reporter_id=ctx.user.id, target_type="user", target_id=1, reason=reason)
    )


@router.command("effect")
async def effect(ctx: Context) -> None:
    await _add_report(ctx, "effect")
    await ctx.reply(bold("done"), keyboard(button("Again", encode("t", "again", 1))))


@router.command("fail")
async def fail(ctx: Context) -> None:
    await _add_report(ctx, "half-done")
    await ctx.reply("this reply must never be sent")
    raise ValidationError("text_too_long", "too long", field="reason", max=10, length=11)


@router.command("crash")
async def crash(ctx: Context) -> None:
    await _add_report(ctx, "half-done")
    raise RuntimeError("secret internals")


@router.command("echo")
async def echo(ctx: Context) -> None:
    await ctx.reply(esc(ctx.args), keyboard(button("Last", encode("t", "last"))))


@router.command("ask")
async def ask(ctx: Context) -> None:
    await ctx.set_state(QuizStep.ANSWER, {"asked": 1})
    await ctx.reply("What is your answer?")


@router.step(QuizStep.ANSWER)
async def answer(ctx: Context) -> None:
    if ctx.event.files:
        await ctx.reply(f"file {esc(ctx.event.files[0].file_id)}")
        return
    data = ctx.data
    await ctx.clear_state()
    await ctx.reply(f"answer {esc(ctx.text)} after {data['asked']}")


@router.command("ping", admin=True)
async def ping(ctx: Context) -> None:
    await ctx.reply("pong")


@router.command("tell")
async def tell(ctx: Context) -> None:
    ctx.uow.emit(Told(sender=ctx.user.id, recipient=int(ctx.args)))
    await ctx.reply("told")


@dataclass(frozen=True, kw_only=True)
class Told(DomainEvent):
    """An event of these tests only: `sender` told `recipient`."""

    kind = "test_told"
    sender: int
    recipient: int


@renders(Told)
async def render_told(scope: Scope, event: Told) -> None:
    await scope.notify(
        event.recipient,
        "menu.title",
        name=f"<{event.sender}>",
        buttons=lambda t: keyboard(button(t.plain("btn.menu"), encode("t", "again", 2))),
    )


@router.button("t")
async def t_button(ctx: Context) -> None:
    cb = ctx.callback
    assert cb is not None
    if cb.action == "again":
        await _add_report(ctx, "pressed")
        await ctx.edit(bold(f"pressed {cb.require_id()}"))
        ctx.answer("ok")
    elif cb.action == "long":
        await ctx.edit(esc("y " * 5000), keyboard(button("End", encode("t", "last"))))
    elif cb.action == "boom":
        raise ValidationError("roles_none", "x")
    # "last" does nothing and answers nothing: the engine still answers


@pytest.fixture
def th(db, clock, config) -> Harness:
    return Harness(db, clock, config, router=router)


async def reports(db) -> list[str]:
    async with db.uow() as uow:
        return [r.reason for r in await uow.reports.find()]


async def test_effect_and_reply_commit_together(th, db):
    alice = th.person("Alice")
    outcome = await th.send(alice, "/effect")
    assert await reports(db) == ["effect"]
    assert th.last(alice).html == "<b>done</b>"
    assert outcome.outbox_ids and not outcome.duplicate


async def test_duplicate_update_has_one_effect(th, db):
    alice = th.person("Alice")
    await th.send(alice, "/effect", update_id=77)
    again = await th.send(alice, "/effect", update_id=77)
    assert again.duplicate and again.outbox_ids == []
    assert await reports(db) == ["effect"]
    assert len(th.chat(alice)) == 1


async def test_duplicate_button_press_is_answered_once_effective(th, db):
    alice = th.person("Alice")
    await th.send(alice, "/effect")
    message = th.last(alice)
    await th.press_data(alice, "t:again:1", message.message_id, update_id=500)
    dup = await th.press_data(alice, "t:again:1", message.message_id, update_id=500)
    assert dup.duplicate and dup.callback_answer is not None
    assert await reports(db) == ["effect", "pressed"]
    assert message.edits == 1


async def test_domain_error_changes_nothing_and_says_why(th, db):
    alice = th.person("Alice")
    await th.send(alice, "/fail", update_id=10)
    assert await reports(db) == []
    assert th.texts(alice) == ["The reason can be at most 10 characters; yours has 11."]
    # The refusal was recorded: a redelivery is a duplicate, not a second answer.
    assert (await th.send(alice, "/fail", update_id=10)).duplicate
    assert len(th.chat(alice)) == 1


async def test_domain_error_is_translated(th):
    boris = th.person("Boris", lang="ru")
    await th.send(boris, "/fail")
    assert th.texts(boris) == ["Поле «причина»: не больше 10 символов, а у вас 11."]


async def test_unexpected_error_is_logged_and_apologised_for(th, db, caplog):
    alice = th.person("Alice")
    with caplog.at_level(logging.ERROR, logger="handlers.engine"):
        await th.send(alice, "/crash")
    assert await reports(db) == []
    text = th.last(alice).text
    assert text == "Something went wrong, nothing was changed." and "secret" not in text
    assert "secret internals" in caplog.text


async def _no_register(_self, _uow, _event):
    raise RuntimeError("the users table refuses this user")


async def test_apology_when_even_the_refusal_fails(th, db, caplog, monkeypatch):
    """The user's record cannot be written (the refusal registers the user too): the
    apology still goes out, in Telegram's language, and the update is recorded."""
    boris = th.person("Boris", lang="ru")
    monkeypatch.setattr(engine_module.Engine, "_register", _no_register)
    with caplog.at_level(logging.ERROR, logger="handlers.engine"):
        await th.send(boris, "/effect", update_id=4242)
    assert th.texts(boris) == ["Что-то пошло не так, ничего не изменилось."]
    assert await reports(db) == []
    failures = [r for r in caplog.records if "4242" in r.getMessage()]
    assert failures and all(r.exc_info for r in failures)  # each with its traceback
    again = await th.send(boris, "/effect", update_id=4242)
    assert again.duplicate and len(th.chat(boris)) == 1


async def test_button_apology_when_even_the_refusal_fails(th, monkeypatch):
    alice = th.person("Alice")
    monkeypatch.setattr(engine_module.Engine, "_register", _no_register)
    outcome = await th.press_data(alice, "t:again:1")
    assert outcome.callback_answer is not None and outcome.callback_answer.show_alert
    assert outcome.callback_answer.text == "Something went wrong, nothing was changed."
    assert th.chat(alice) == []


async def test_button_refusal_is_an_alert_without_a_message(th):
    alice = th.person("Alice")
    await th.press_data(alice, "t:boom")
    answer = th.last_answer(alice)
    assert answer.show_alert and "at least one role" in answer.text
    assert th.chat(alice) == []


async def test_every_press_is_answered(th):
    alice = th.person("Alice")
    outcome = await th.press_data(alice, "t:last")
    assert outcome.callback_answer is not None and outcome.callback_answer.text is None


@pytest.mark.parametrize(
    "data", ["t:again", "zz:again:1", "t:again:x", "", "t:again:1:" + "a" * 60]
)
async def test_stale_and_forged_buttons(th, db, data):
    alice = th.person("Alice")
    await th.press_data(alice, data)
    assert th.last_answer(alice).text == "This button is no longer available."
    assert await reports(db) == []


async def test_admin_commands_are_unknown_to_others(th, config):
    alice = th.person("Alice")
    await th.send(alice, "/ping")
    assert th.texts(alice) == ["I didn't get that. Send /menu to see what I can do."]
    admin = th.person("Admin", id=next(iter(config.admin_ids)))
    await th.send(admin, "/ping")
    assert th.texts(admin) == ["pong"]


async def test_banned_user_is_refused_briefly(th, db):
    alice = th.person("Alice")
    await th.send(alice, "/echo hi")
    async with db.uow() as uow:
        (await uow.users.get(alice.id)).banned = True
        await uow.commit()
    await th.send(alice, "/effect")
    assert th.last(alice).text == "Your account is suspended. You can /appeal once."
    await th.press_data(alice, "t:again:1")
    assert th.last_answer(alice).show_alert
    assert await reports(db) == []


async def test_conversation_state_routes_text_and_survives_a_restart(th, db, clock, config):
    alice = th.person("Alice")
    await th.send(alice, "/ask")
    # A new engine (a restart, or another process): the state is in the database.
    restarted = Harness(db, clock, config, router=router, first_update_id=1000)
    await restarted.upload(alice, "doc-1")
    assert restarted.last(alice).text == "file doc-1"
    await restarted.send(alice, "<42> & 🙂")
    assert restarted.last(alice).text == "answer <42> & 🙂 after 1"
    await restarted.send(alice, "again")
    assert "didn't get that" in restarted.last(alice).text


async def test_a_command_ends_the_conversation(th):
    alice = th.person("Alice")
    await th.send(alice, "/ask")
    await th.send(alice, "/echo x")
    await th.send(alice, "my answer")
    assert "didn't get that" in th.last(alice).text


async def test_long_replies_are_split_with_buttons_on_the_last(th):
    alice = th.person("Alice")
    await th.send(alice, "/echo " + "<b>&" * 2500)  # 10,000 characters of markup-like text
    messages = th.chat(alice)
    assert len(messages) >= 5  # escaped, it is 25,000 characters
    assert "".join(m.text for m in messages) == "<b>&" * 2500
    assert [m.buttons is not None for m in messages] == [False] * (len(messages) - 1) + [True]


async def test_long_edit_edits_then_sends_the_rest(th):
    alice = th.person("Alice")
    await th.send(alice, "/effect")
    first = th.last(alice)
    await th.press_data(alice, "t:long", first.message_id)
    messages = th.chat(alice)
    assert first.edits == 1 and len(messages) == 3  # 10,000 characters: 3 parts
    assert messages[-1].labels() == ["End"] and first.buttons is None


async def test_group_chats_are_redirected_to_private(th):
    alice = th.person("Alice")
    await th.handle(
        Event(
            kind="command",
            user_id=alice.id,
            chat_id=-100,
            chat_type="group",
            command="effect",
            update_id=900,
        )
    )
    assert th.texts(-100) == ["Let's talk in a private chat with me."]
    await th.handle(
        Event(
            kind="text", user_id=alice.id, chat_id=-100, chat_type="group", text="hi", update_id=901
        )
    )
    assert len(th.chat(-100)) == 1


async def test_notifications_are_rendered_in_the_recipients_language(th):
    alice, boris = th.person("Alice"), th.person("Boris", lang="ru")
    await th.send(boris, "/echo hi")
    await th.send(alice, f"/tell {boris.id}")
    note = th.last(boris)
    assert note.text.startswith("Главное меню") and f"<{alice.id}>" in note.text
    assert note.labels() == ["‹ Меню"]
    assert th.texts(alice) == ["told"]


async def test_no_notifications_to_users_who_blocked_the_bot(th):
    alice, boris = th.person("Alice"), th.person("Boris")
    await th.send(boris, "/echo hi")
    await th.handle(Event(kind="blocked", user_id=boris.id, chat_id=boris.id, update_id=950))
    await th.send(alice, f"/tell {boris.id}")
    assert th.texts(boris) == ["hi"]
    await th.handle(Event(kind="unblocked", user_id=boris.id, chat_id=boris.id, update_id=951))
    await th.send(alice, f"/tell {boris.id}")
    assert len(th.chat(boris)) == 2


async def test_tick_runs_each_deadline_in_its_own_transaction(th, db, monkeypatch):
    alice = th.person("Alice")
    await th.send(alice, "/echo hi")

    async def remind(uow, clock):
        uow.emit(Told(sender=0, recipient=alice.id))
        return 1

    async def broken(uow, clock, config):
        raise RuntimeError("deadline bug")

    async def another(uow, clock, config, gateway):
        uow.emit(Told(sender=1, recipient=alice.id))
        return 2

    monkeypatch.setattr(engine_module, "deadline_jobs", lambda: [remind, broken, another])
    assert await th.tick() == 3
    assert th.texts(alice)[-2:] == [
        "Main menu\nHi, <0>! What would you like to do?",
        "Main menu\nHi, <1>! What would you like to do?",
    ]


async def test_tick_with_nothing_to_run_does_nothing(th, monkeypatch):
    monkeypatch.setattr(engine_module, "deadline_jobs", lambda: [])
    assert await th.tick() == 0


async def test_same_update_in_two_processes_takes_effect_once(any_db, clock, config, caplog):
    """Two engines (as two bot processes) get the same update at the same time."""
    first = Harness(any_db, clock, config, router=router)
    second = Harness(any_db, clock, config, router=router)
    alice = first.person("Alice")
    event = first._event(alice, "command", 4242, command="effect", args="")
    with caplog.at_level(logging.ERROR, logger="handlers.engine"):
        outcomes = await asyncio.gather(first.engine.handle(event), second.engine.handle(event))
    assert sorted(o.duplicate for o in outcomes) == [False, True]
    assert await reports(any_db) == ["effect"]
    assert caplog.records == []


async def test_refusal_rolls_back_on_both_databases(any_db, clock, config):
    h = Harness(any_db, clock, config, router=router)
    alice = h.person("Alice")
    await h.send(alice, "/fail", update_id=1)
    await h.send(alice, "/effect", update_id=2)
    assert await reports(any_db) == ["effect"]
    assert (await h.send(alice, "/fail", update_id=1)).duplicate


def test_tick_runs_the_domains_deadlines_in_their_order():
    assert engine_module.deadline_jobs() == list(DEADLINES)
