"""Moderation: warnings about contact details, the admins' queue (/moderation),
and a banned user's appeal (/appeal).

The rules are the domain's (domain/usecases/moderation.py): a text with contact
details is saved and flagged; its author is warned here ("contact_details_flagged";
a message's sender is warned by the messaging flow itself); the third flag in 30
days opens a case for the admins.

Callback data (prefix "mod"):
- "mod:queue"                     the open cases (as /moderation)
- "mod:case:<case>"               a case: the user, what was spotted where
- "mod:dismiss:<case>"            dismiss it
- "mod:warn:<case>" / "mod:suspend:<case>"  ask the admin's reason (step "moderation",
                                  "reason"), then warn (the user receives it) or ban
- "mod:unban:<appeal>" / "mod:reject:<appeal>"  decide an appeal
- "mod:stop"                      leave the reason prompt
/appeal (open to banned users: routing.open_to_banned) asks for the text (step
"appeal", "text") and sends it to every admin with the ban's reason and the
user's record.
"""

from __future__ import annotations

from domain.errors import NotAllowed
from domain.events import (
    AppealDecided,
    AppealFiled,
    ContactDetailsFlagged,
    ModerationCaseOpened,
    ModerationDecided,
)
from domain.usecases import moderation as uc
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.helpers import name_of
from handlers.i18n import Translator
from handlers.notify import renders
from handlers.prefixes import ADMIN
from handlers.render import Html, bold, button, esc, join, keyboard, shorten
from handlers.routing import Buttons, Menu, Steps, command, open_to_banned, step

MOD = Buttons("mod")
SHOWN_FLAGS = 10
FOUND_SHOWN = 5


class ModerationStep(Steps, flow="moderation"):
    """An admin's reason for a decision (the values are stored: never change one)."""

    REASON = "reason"


class AppealStep(Steps, flow="appeal"):
    """A banned user's appeal (the values are stored: never change one)."""

    TEXT = "text"


open_to_banned("appeal")


def _require_admin(ctx: Context) -> None:
    if not ctx.is_admin:
        raise NotAllowed("admin_only", "Only an admin can do this.")


def _found(found: list[str]) -> str:
    return ", ".join(shorten(f, 60) for f in found[:FOUND_SHOWN])


# --- the author's warning --------------------------------------------------------------


@renders(ContactDetailsFlagged)
async def warn_author(scope: Scope, event: ContactDetailsFlagged) -> None:
    if event.source == "message":
        return  # the messaging flow warns the sender under its "sent"
    await scope.notify(
        event.user_id,
        "mod.warn_author",
        where=(await scope.translator_for(event.user_id)).plain(f"mod.source.{event.source}"),
        found=_found(event.found),
    )


# --- the admins' queue ----------------------------------------------------------------


@renders(ModerationCaseOpened)
async def case_opened(scope: Scope, event: ModerationCaseOpened) -> None:
    name = await name_of(scope, event.user_id)
    cid = event.case_id
    for admin_id in sorted(scope.config.admin_ids):
        await scope.notify(
            admin_id,
            "mod.notify_case",
            buttons=lambda t: keyboard(button(t.plain("mod.btn.open_case"), MOD.data("case", cid))),
            id=cid,
            name=name,
            uid=event.user_id,
            count=event.flags,
        )


@command("moderation", admin=True, order=85, menu=Menu.ADMIN, menu_order=155)
async def moderation_command(ctx: Context) -> None:
    await _queue(ctx)


async def _queue(ctx: Context) -> None:
    cases = await uc.open_cases(ctx.uow, ctx.config, ctx.user.id)
    if not cases:
        await ctx.edit(ctx.t("mod.queue_empty"))
        return
    rows = []
    for case in cases[:20]:
        label = f"#{case.id} · {shorten(await name_of(ctx, case.user_id), 30)}"
        rows.append([button(label, MOD.data("case", case.id))])
    await ctx.edit(ctx.t("mod.queue", count=len(cases)), keyboard(*rows))


def _decision_buttons(t: Translator, case_id: int) -> list[list]:
    return [
        [
            button(t.plain("mod.btn.dismiss"), MOD.data("dismiss", case_id)),
            button(t.plain("mod.btn.warn"), MOD.data("warn", case_id)),
            button(t.plain("mod.btn.ban"), MOD.data("suspend", case_id)),
        ],
        [button(t.plain("mod.btn.queue"), MOD.data("queue"))],
    ]


async def _show_case(ctx: Context, case_id: int) -> None:
    t = ctx.t
    view = await uc.case_view(ctx.uow, ctx.config, ctx.user.id, case_id)
    case, user = view.case, view.user
    lines = [
        t(
            "mod.case_title",
            id=case.id,
            name=user.name or f"#{user.id}",
            user_id=user.id,
            count=len(view.flags),
        ),
        t("mod.case_earlier", count=view.earlier_cases),
        Html(""),
    ]
    for flag in view.flags[-SHOWN_FLAGS:]:
        when = flag.created_at.strftime("%Y-%m-%d") if flag.created_at else ""
        where = t.plain(f"mod.source.{flag.source}")
        ref = f" #{flag.ref_id}" if flag.ref_id else ""
        lines.append(
            Html(f"• {esc(when)} · {esc(where)}{esc(ref)}: <code>{esc(_found(flag.found))}</code>")
        )
    if case.status != "open":
        lines += [Html(""), t(f"mod.decided.{case.status}", reason=case.reason or "—")]
        await ctx.edit(join(lines), keyboard(button(t.plain("mod.btn.queue"), MOD.data("queue"))))
        return
    await ctx.edit(join(lines), keyboard(*_decision_buttons(t, case.id)))


@MOD.on("queue")
async def queue_pressed(ctx: Context) -> None:
    _require_admin(ctx)
    await _queue(ctx)
    ctx.answer()


@MOD.on("case")
async def case_pressed(ctx: Context) -> None:
    _require_admin(ctx)
    assert ctx.callback is not None
    await _show_case(ctx, ctx.callback.require_id())
    ctx.answer()


@MOD.on("dismiss")
async def dismiss_pressed(ctx: Context) -> None:
    _require_admin(ctx)
    assert ctx.callback is not None
    case = await uc.decide(
        ctx.uow, ctx.clock, ctx.config, ctx.user.id, ctx.callback.require_id(), "dismissed"
    )
    await ctx.edit(ctx.t("mod.done.dismissed", id=case.id))
    ctx.answer()


async def _ask_reason(ctx: Context, decision: str) -> None:
    _require_admin(ctx)
    assert ctx.callback is not None
    case_id = ctx.callback.require_id()
    view = await uc.case_view(ctx.uow, ctx.config, ctx.user.id, case_id)
    if view.case.status != "open":
        raise NotAllowed("case_decided", "This case was already decided.")
    await ctx.set_state(ModerationStep.REASON, {"case": case_id, "decision": decision})
    await ctx.reply(
        ctx.t(f"mod.ask_reason.{decision}", name=view.user.name or f"#{view.user.id}"),
        keyboard(button(ctx.t.plain("btn.cancel"), MOD.data("stop"))),
    )
    ctx.answer()


@MOD.on("warn")
async def warn_pressed(ctx: Context) -> None:
    await _ask_reason(ctx, "warned")


@MOD.on("suspend")
async def ban_pressed(ctx: Context) -> None:
    await _ask_reason(ctx, "banned")


@MOD.on("stop")
async def stop_pressed(ctx: Context) -> None:
    if ctx.in_step(ModerationStep):
        await ctx.clear_state()
    await ctx.edit(ctx.t("mod.stopped"))
    ctx.answer()


@step(ModerationStep.REASON)
async def reason_step(ctx: Context) -> None:
    _require_admin(ctx)
    data = ctx.data
    case_id, decision = data.get("case"), data.get("decision")
    if not isinstance(case_id, int) or decision not in ("warned", "banned"):
        await ctx.clear_state()
        raise StaleButton()
    case = await uc.decide(ctx.uow, ctx.clock, ctx.config, ctx.user.id, case_id, decision, ctx.text)
    await ctx.clear_state()
    await ctx.reply(ctx.t(f"mod.done.{decision}", id=case.id, reason=case.reason or "—"))


@renders(ModerationDecided)
async def tell_user(scope: Scope, event: ModerationDecided) -> None:
    # A dismissal concerns nobody but the admins; a ban is told by "user_banned".
    if event.decision == "warned":
        await scope.notify(event.user_id, "mod.notify_warned", reason=event.reason or "—")


# --- appeals ----------------------------------------------------------------------------


@command("appeal", order=180)
async def appeal_command(ctx: Context) -> None:
    user = await uc.check_can_appeal(ctx.uow, ctx.user.id)
    await ctx.set_state(AppealStep.TEXT, {})
    await ctx.reply(ctx.t("appeal.ask", reason=user.ban_reason or "—"))


@step(AppealStep.TEXT)
async def appeal_text(ctx: Context) -> None:
    if not ctx.text.strip():
        await ctx.reply(ctx.t("appeal.text_only"))
        return
    await uc.file_appeal(ctx.uow, ctx.clock, ctx.user.id, ctx.text)
    await ctx.clear_state()
    await ctx.reply(ctx.t("appeal.sent"))


def _record_lines(t: Translator, view: uc.AppealView) -> list[Html]:
    r = view.record
    decided = {s: sum(1 for c in r.cases if c.status == s) for s in uc.DECISIONS}
    return [
        t("appeal.record", jobs=r.jobs, contracts=r.contracts, disputes=r.disputes),
        t(
            "appeal.record_moderation",
            flags=r.flags,
            cases=len(r.cases),
            dismissed=decided["dismissed"],
            warned=decided["warned"],
            banned=decided["banned"],
        ),
    ]


@renders(AppealFiled)
async def appeal_to_admins(scope: Scope, event: AppealFiled) -> None:
    aid = event.appeal_id
    for admin_id in sorted(scope.config.admin_ids):
        view = await uc.appeal_view(scope.uow, scope.config, admin_id, aid)
        t = await scope.translator_for(admin_id)
        text = join(
            [
                t(
                    "appeal.notify",
                    id=aid,
                    name=view.user.name or f"#{view.user.id}",
                    user_id=view.user.id,
                    reason=view.appeal.ban_reason or "—",
                ),
                Html(""),
                bold(t.plain("appeal.their_words")),
                esc(view.appeal.text),
                Html(""),
                *_record_lines(t, view),
            ]
        )
        await scope.notify(
            admin_id,
            text=text,
            buttons=keyboard(
                [
                    button(t.plain("appeal.btn.unban"), MOD.data("unban", aid)),
                    button(t.plain("appeal.btn.reject"), MOD.data("reject", aid)),
                ],
                button(t.plain("appeal.btn.user"), ADMIN.data("user", view.user.id)),
            ),
        )


async def _decide_appeal(ctx: Context, accept: bool) -> None:
    _require_admin(ctx)
    assert ctx.callback is not None
    appeal = await uc.decide_appeal(
        ctx.uow, ctx.clock, ctx.config, ctx.user.id, ctx.callback.require_id(), accept
    )
    name = await name_of(ctx, appeal.user_id)
    key = "appeal.done_unbanned" if accept else "appeal.done_rejected"
    await ctx.edit(ctx.t(key, id=appeal.id, name=name))
    ctx.answer()


@MOD.on("unban")
async def unban_pressed(ctx: Context) -> None:
    await _decide_appeal(ctx, True)


@MOD.on("reject")
async def reject_pressed(ctx: Context) -> None:
    await _decide_appeal(ctx, False)


@renders(AppealDecided)
async def tell_appellant(scope: Scope, event: AppealDecided) -> None:
    # An accepted appeal lifts the ban: "user_unbanned" tells them, in one message.
    if not event.accepted:
        await scope.notify(event.user_id, "appeal.notify_rejected")
