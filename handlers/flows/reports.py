"""Report a job or a user to the admins.

"report:job_post:<id>" / "report:user:<id>" buttons (or "/report job 12"; the old
"report:job:<id>" buttons too) ask for the
reason through the conversation state ("report", "reason"); the reason becomes a
Report (domain.usecases.reports.report), and every admin in config.admin_ids is
notified with buttons to open the job, see the report in the admin flow
("adm:report:<id>") and close it ("adm:close_report:<id>"): closing has one path, the admin
flow's, through the audited use case close_report. "report:close:<id>" buttons on
notifications sent before that are still honoured, by the same use case;
"report:cancel" stops reporting.
"""

from __future__ import annotations

import re

from domain.entities import Job, Report
from domain.errors import NotAllowed
from domain.events import ReportFiled
from domain.usecases import reports as uc
from domain.validation import REPORT_REASON_MAX, clean_text
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.i18n import Translator
from handlers.notify import renders
from handlers.prefixes import ADMIN, OPEN, REPORT
from handlers.render import button, keyboard, shorten
from handlers.routing import Steps, command, step


class ReportStep(Steps, flow="report"):
    """Reporting, step by step (the values are stored: never change one)."""

    REASON = "reason"


REASON_MIN = 5
TARGETS = ("job", "user")
_ARGS = re.compile(r"(job|user)\s+([1-9][0-9]{0,17})", re.IGNORECASE)


async def _reportable(ctx: Context, target_type: str, target_id: int) -> str:
    """The target's name for the question; the use case refuses what may not be reported."""
    target = await uc.report_target(ctx.uow, ctx.config, ctx.user.id, target_type, target_id)
    if isinstance(target, Job):
        return target.title
    return target.name or f"#{target.id}"


async def _begin(ctx: Context, target_type: str, target_id: int) -> None:
    name = await _reportable(ctx, target_type, target_id)
    await ctx.set_state(ReportStep.REASON, {"type": target_type, "id": target_id})
    await ctx.reply(
        ctx.t(f"report.ask_{target_type}", name=shorten(name, 100)),
        keyboard(button(ctx.t.plain("btn.cancel"), REPORT.data("cancel"))),
    )


@command("report", order=170)
async def report_command(ctx: Context) -> None:
    m = _ARGS.fullmatch(ctx.args)
    if m is None:
        await ctx.reply(ctx.t("report.usage"))
        return
    await _begin(ctx, m.group(1).lower(), int(m.group(2)))


@REPORT.on("cancel")
async def cancel_pressed(ctx: Context) -> None:
    if ctx.in_step(ReportStep):
        await ctx.clear_state()
    await ctx.edit(ctx.t("report.cancelled"))


@REPORT.on("close")
async def close_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await _close(ctx, ctx.callback.require_id())


@REPORT.on("job_post", old=("job",))
async def job_post_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await _begin(ctx, "job", ctx.callback.require_id())
    ctx.answer()


@REPORT.on("user")
async def user_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await _begin(ctx, "user", ctx.callback.require_id())
    ctx.answer()


@step(ReportStep.REASON)
async def reason(ctx: Context) -> None:
    if ctx.event.kind == "file" and not ctx.text.strip():
        await ctx.reply(ctx.t("report.text_only"))
        return
    data = ctx.data
    target_type, target_id = data.get("type"), data.get("id")
    if target_type not in TARGETS or not isinstance(target_id, int):
        await ctx.clear_state()
        raise StaleButton()
    text = clean_text(ctx.text, "reason", REASON_MIN, REPORT_REASON_MAX)
    await file_report(ctx, target_type, target_id, text)
    await ctx.clear_state()
    await ctx.reply(ctx.t("report.thanks"))


async def file_report(ctx: Context, target_type: str, target_id: int, reason: str) -> Report:
    """One open report per reporter and target; the admins hear of it via "report_filed"."""
    return await uc.report(
        ctx.uow, ctx.clock, ctx.config, ctx.user.id, target_type, target_id, reason
    )


async def _close(ctx: Context, report_id: int) -> None:
    """An old notification's close button: the admin flow's audited use case."""
    if not ctx.is_admin:
        raise NotAllowed("admin_only", "Only an admin can do this.")
    await uc.close_report(ctx.uow, ctx.clock, ctx.config, ctx.user.id, report_id)
    ctx.answer(ctx.t.plain("report.closed"))


@renders(ReportFiled)
async def notify_admins(scope: Scope, event: ReportFiled) -> None:
    report = await scope.uow.reports.get(event.report_id)
    if report is None:
        return
    reporter = await scope.uow.users.get(report.reporter_id)
    target = await _target_name(scope, report)

    def buttons(t: Translator) -> list[list[dict[str, str]]] | None:
        open_target = (
            button(t.plain("btn.open_job"), OPEN.data("show_job", report.target_id))
            if report.target_type == "job"
            else None
        )
        details = button(t.plain("report.btn.details"), ADMIN.data("report", report.id))
        close = button(t.plain("btn.close_report"), ADMIN.data("close_report", report.id))
        return keyboard([open_target, details] if open_target else details, close)

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
