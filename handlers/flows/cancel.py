"""/cancel, and the drafts long wizards leave behind.

/cancel ends the conversation in progress ("Cancelled" and the main menu); with
nothing in progress it says so and shows the menu.

A wizard declared with drafts (`class PostJobStep(Steps, flow="post_job",
drafts=True)`, handlers/routing.py) that is left by another command keeps its
conversation as a draft (Context.leave, in the database). Its start calls
`offer_draft`: with a draft of the same subject there, the person chooses
"Continue your draft" (the flow's @resumes handler shows the step it is at) or
"Start over" (the draft goes, and the button or command that started the wizard
runs again). A wizard's Cancel calls `confirm_discard` first: on the preview of
a draft with DISCARD_ASKS_FROM answers or more it asks "Discard this draft?".

Callback data (prefix "draft"):
- "draft:resume:<draft id>", "draft:restart:<draft id>"  continue / start over
- "draft:keep" (a wizard screen's) No to "Discard this draft?"; its Yes is the
  wizard's own Cancel with the arg "yes" (e.g. "pj:cancel::yes")
"""

from __future__ import annotations

from typing import Any

from domain.entities import Draft
from handlers.callbacks import StaleButton, decode, encode
from handlers.context import Context
from handlers.flows.menu import cmd_data, menu_keyboard, menu_text
from handlers.render import Html, button, join, keyboard
from handlers.routing import ROUTER, Buttons, Steps, command

DRAFT = Buttons("draft")
DISCARD_ASKS_FROM = 5  # answered questions on a preview before Cancel asks first
CONFIRMED = "yes"  # the arg of a wizard's Cancel pressed again on "Discard this draft?"


@command("cancel", order=35, sees_conversation=True)
async def cancel(ctx: Context) -> None:
    t = ctx.t
    key = "cancel.nothing" if ctx.state is None else "cancel.done"
    await ctx.clear_state()
    await ctx.reply(join([t(key), Html(""), menu_text(ctx)]), menu_keyboard(ctx))


# --- continuing a draft ------------------------------------------------------------


def _entry(ctx: Context) -> str:
    """The button that starts the wizard again: the pressed one, or a typed
    command's menu button."""
    event = ctx.event
    if event.kind == "button" and event.callback_data:
        return event.callback_data
    return cmd_data(event.command or "menu")


async def offer_draft(ctx: Context, steps: type[Steps], data: dict[str, Any]) -> bool:
    """At the start of a wizard that keeps drafts (`data`: the fresh conversation's):
    if the person has a draft of the same subject, offer to continue it or start
    over, and return True (the caller stops there). A conversation of this wizard
    in progress is kept as a draft first, so pressing "start" again loses nothing."""
    subject = steps.draft_subject(data)
    if subject is None:
        return False
    if ctx.in_step(steps):
        await ctx.leave()
    found = await ctx.uow.drafts.find(user_id=ctx.user.id, flow=steps.flow, subject=subject)
    if not found:
        return False
    draft = found[0]
    draft.entry = _entry(ctx)
    t = ctx.t
    assert draft.id is not None
    await ctx.edit(
        t(
            "drafts.offer",
            what=t.plain(f"drafts.what.{steps.flow}"),
            answered=steps.answered(draft.data),
        ),
        keyboard(
            button(t.plain("drafts.btn.continue"), DRAFT.data("resume", draft.id)),
            button(t.plain("drafts.btn.restart"), DRAFT.data("restart", draft.id)),
        ),
    )
    ctx.answer()
    return True


async def _own_draft(ctx: Context) -> Draft:
    assert ctx.callback is not None
    draft = await ctx.uow.drafts.get(ctx.callback.require_id())
    if draft is None or draft.user_id != ctx.user.id:
        raise StaleButton()  # continued, started over, or not theirs
    return draft


@DRAFT.on("resume")
async def resume_pressed(ctx: Context) -> None:
    draft = await _own_draft(ctx)
    step = Steps.of(draft.flow, draft.step)
    resume = ROUTER.resumers.get(draft.flow)
    await ctx.uow.drafts.delete(draft)
    if step is None or resume is None:
        raise StaleButton()  # a step that no longer exists (after an upgrade)
    await ctx.set_state(step, dict(draft.data))
    await resume(ctx)
    await _retire(ctx, "drafts.continued")
    ctx.answer()


async def _retire(ctx: Context, key: str) -> None:
    """The wizard went on in a new message: the pressed one says so, without buttons."""
    pressed = ctx.event.message_id
    if pressed is not None and pressed not in ctx.edited:
        await ctx.edit_message(ctx.event.chat_id, pressed, ctx.t(key))


@DRAFT.on("restart")
async def restart_pressed(ctx: Context) -> None:
    draft = await _own_draft(ctx)
    entry = draft.entry
    await ctx.uow.drafts.delete(draft)
    if not entry:
        raise StaleButton()
    ctx.callback = decode(entry)
    start = ROUTER.find_button(ctx.callback.prefix, ctx.callback.action)
    if start is None:
        raise StaleButton()
    await start(ctx)  # the wizard's start, now with no draft to offer
    await _retire(ctx, "drafts.restarted")


# --- "Discard this draft?" -------------------------------------------------------------


async def confirm_discard(ctx: Context, preview: Steps) -> bool:
    """A wizard's Cancel, before it discards: at `preview` with DISCARD_ASKS_FROM
    answers or more, ask "Discard this draft?" in place of the preview and return
    True (asked; the caller stops). "Yes" is the same Cancel button confirmed
    (arg "yes": then this returns False and the wizard's Cancel goes on)."""
    steps = type(preview)
    pressed = ctx.callback
    if pressed is None or pressed.arg == CONFIRMED:
        return False
    if not ctx.in_step(preview) or steps.answered(ctx.data) < DISCARD_ASKS_FROM:
        return False
    t = ctx.t
    yes = encode(pressed.prefix, pressed.action, arg=CONFIRMED)
    await ctx.edit(
        t("drafts.discard_ask", answered=steps.answered(ctx.data)),
        keyboard(
            [
                button(t.plain("drafts.btn.discard"), yes),
                button(t.plain("drafts.btn.keep"), DRAFT.data("keep")),
            ]
        ),
    )
    ctx.answer()
    return True


@DRAFT.on("keep", wizard=True)
async def keep_pressed(ctx: Context) -> None:
    state = ctx.state
    resume = ROUTER.resumers.get(state.flow) if state else None
    if resume is None:
        raise StaleButton()
    await resume(ctx)  # the preview again
    await _retire(ctx, "drafts.kept")
    ctx.answer()
