"""Jobs that end (domain/usecases/job_expiry.py): "Still hiring?" to the client of
a quiet job, with Keep open / Close; the news when it closed unanswered, to the
client and to the freelancers whose pitches were pending.

Callback data (prefix "jx"):
- "jx:keep:<job>"   keep the job open (the quiet days count again from now)
- "jx:close:<job>"  close it now
"""

from __future__ import annotations

from datetime import datetime

from domain.events import JobExpired, JobStillHiring
from domain.usecases import job_expiry as uc
from handlers.context import Context, Scope
from handlers.notify import renders
from handlers.prefixes import JOB_END, MY_JOBS
from handlers.render import button, keyboard


def _when(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")


@renders(JobStillHiring)
async def still_hiring(scope: Scope, event: JobStillHiring) -> None:
    job = await scope.uow.jobs.get(event.job_id)
    if job is None:
        return
    jid = event.job_id
    await scope.notify(
        event.client_id,
        "jobend.ask",
        buttons=lambda t: keyboard(
            [
                button(t.plain("jobend.btn.keep"), JOB_END.data("keep", jid)),
                button(t.plain("jobend.btn.close"), JOB_END.data("close", jid)),
            ]
        ),
        title=job.title,
        days=scope.config.job_expiry_days,
        date=_when(event.closes_at),
    )


@renders(JobExpired)
async def job_expired(scope: Scope, event: JobExpired) -> None:
    job = await scope.uow.jobs.get(event.job_id)
    if job is None:
        return
    jid = event.job_id
    await scope.notify(
        event.client_id,
        "jobend.closed_client",
        buttons=lambda t: keyboard(
            button(t.plain("jobend.btn.manage"), MY_JOBS.data("manage_job", jid))
        ),
        title=job.title,
    )
    for freelancer_id in event.freelancer_ids:
        await scope.notify(freelancer_id, "jobend.closed_freelancer", title=job.title)


async def _answer(ctx: Context, keep_open: bool) -> None:
    assert ctx.callback is not None
    job = await uc.answer_still_hiring(
        ctx.uow, ctx.clock, ctx.user.id, ctx.callback.require_id(), keep_open
    )
    key = "jobend.kept" if keep_open and job.status != "closed" else "jobend.closed_you"
    await ctx.edit(ctx.t(key, title=job.title))
    ctx.answer()


@JOB_END.on("keep")
async def keep_pressed(ctx: Context) -> None:
    await _answer(ctx, keep_open=True)


@JOB_END.on("close")
async def close_pressed(ctx: Context) -> None:
    await _answer(ctx, keep_open=False)
