"""Report a job or a user to the admins.

"report:job:<id>" / "report:user:<id>" buttons (or "/report job 12") ask for the
reason through the conversation state ("report", "reason"); the reason becomes a
Report, and every admin in config.admin_ids is notified with buttons to open the
job and to close the report.
"""

from __future__ import annotations

import re

from domain.entities import Report
from domain.errors import NotAllowed, NotFound, ValidationError
from domain.validation import REPORT_REASON_MAX, clean_text
from handlers.callbacks import StaleButton, encode
from handlers.context import Context, Scope
from handlers.i18n import Translator
from handlers.notify import renders
from handlers.render import button, keyboard, shorten
from handlers.routing import button as on_button
from handlers.routing import command, step

FLOW = "report"
REASON_MIN = 5
TARGETS = ("job", "user")
_ARGS = re.compile(r"(job|user)\s+([1-9][0-9]{0,17})", re.IGNORECASE)


async def _check_target(ctx: Context, target_type: str, target_id: int) -> str:
    """The target's name for the question; refuses missing targets and oneself."""
    if target_type == "job":
        job = await ctx.uow.jobs.get(target_id)
        if job is None:
            raise NotFound("job_not_found", "There is no such job.", id=target_id)
        if job.client_id == ctx.user.id:
            raise NotAllowed("report_self", "You cannot report yourself or your own job.")
        return job.title
    user = await ctx.uow.users.get(target_id)
    if user is None:
        raise NotFound("user_not_found", "There is no such user.", id=target_id)
    if user.id == ctx.user.id:
        raise NotAllowed("report_self", "You cannot report yourself or your own job.")
    return user.name or f"#{user.id}"


async def _begin(ctx: Context, target_type: str, target_id: int) -> None:
    name = await _check_target(ctx, target_type, target_id)
    await ctx.set_state(FLOW, "reason", {"type": target_type, "id": target_id})
    await ctx.reply(
        ctx.t(f"report.ask_{target_type}", name=shorten(name, 100)),
        keyboard(button(ctx.t.plain("btn.cancel"), encode("report", "cancel"))),
    )


@command("report")
async def report_command(ctx: Context) -> None:
    m = _ARGS.fullmatch(ctx.args)
    if m is None:
        await ctx.reply(ctx.t("report.usage"))
        return
    await _begin(ctx, m.group(1).lower(), int(m.group(2)))


@on_button("report")
async def report_button(ctx: Context) -> None:
    cb = ctx.callback
    assert cb is not None
    if cb.action == "cancel":
        if ctx.in_step(FLOW):
            await ctx.clear_state()
        await ctx.edit(ctx.t("report.cancelled"))
        return
    if cb.action == "close":
        await _close(ctx, cb.require_id())
        return
    if cb.action not in TARGETS:
        raise StaleButton()
    await _begin(ctx, cb.action, cb.require_id())
    ctx.answer()


@step(FLOW, "reason")
async def reason(ctx: Context) -> None:
    if ctx.event.kind == "file" and not ctx.text.strip():
        await ctx.reply(ctx.t("report.text_only"))
        return
    data = ctx.data
    target_type, target_id = data.get("type"), data.get("id")
    if target_type not in TARGETS or not isinstance(target_id, int):
        await ctx.clear_state()
        raise StaleButton()
    await _check_target(ctx, target_type, target_id)
    text = clean_text(ctx.text, "reason", REASON_MIN, REPORT_REASON_MAX)
    await file_report(ctx, target_type, target_id, text)
    await ctx.clear_state()
    await ctx.reply(ctx.t("report.thanks"))


async def file_report(ctx: Context, target_type: str, target_id: int, reason: str) -> Report:
    """One open report per reporter and target; the admins hear of it via "report_filed"."""
    existing = await ctx.uow.reports.count(
        reporter_id=ctx.user.id, target_type=target_type, target_id=target_id, status="open"
    )
    if existing:
        raise ValidationError(
            "report_duplicate", "You have already reported this; admins are on it."
        )
    report = await ctx.uow.reports.add(
        Report(
            reporter_id=ctx.user.id,
            target_type=target_type,
            target_id=target_id,
            reason=reason,
            created_at=ctx.clock.now(),
        )
    )
    ctx.uow.emit("report_filed", report_id=report.id)
    return report


async def _close(ctx: Context, report_id: int) -> None:
    if not ctx.is_admin:
        raise NotAllowed("admin_only", "Only an admin can do this.")
    report = await ctx.uow.reports.get_for_update(report_id)
    if report is None:
        raise NotFound("report_not_found", "There is no such report.", id=report_id)
    if report.status == "closed":
        ctx.answer(ctx.t.plain("report.already_closed"))
        return
    report.status = "closed"
    ctx.answer(ctx.t.plain("report.closed"))
    await ctx.reply(ctx.t("report.closed_by_you", id=report_id))


@renders("report_filed")
async def notify_admins(scope: Scope, data: dict) -> None:
    report = await scope.uow.reports.get(data["report_id"])
    if report is None:
        return
    reporter = await scope.uow.users.get(report.reporter_id)
    target = await _target_name(scope, report)

    def buttons(t: Translator) -> list[list[dict[str, str]]] | None:
        open_target = (
            button(t.plain("btn.open_job"), encode("open", "job", report.target_id))
            if report.target_type == "job"
            else None
        )
        close = button(t.plain("btn.close_report"), encode("report", "close", report.id))
        return keyboard(open_target, close)

    for admin_id in sorted(scope.config.admin_ids):
        await scope.notify(
            admin_id,
            f"report.admin_{report.target_type}",
            buttons=buttons,
            id=report.id,
            reporter=(reporter.name if reporter else "") or f"#{report.reporter_id}",
            reporter_id=report.reporter_id,
            target=target,
            target_id=report.target_id,
            reason=report.reason,
        )


async def _target_name(scope: Scope, report: Report) -> str:
    if report.target_type == "job":
        job = await scope.uow.jobs.get(report.target_id)
        return shorten(job.title, 100) if job else "?"
    user = await scope.uow.users.get(report.target_id)
    return (user.name or f"#{user.id}") if user else "?"
