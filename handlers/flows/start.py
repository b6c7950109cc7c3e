"""/start: welcome, choose a role, and deep links ("/start job_42" opens job 42,
"/start pitch_42" starts a pitch on it, "/start service_7" opens service 7's card).

Buttons: "role:pick::<client|freelancer|both>" the first role; "open:show_job:<job>"
a job's card (notifications and lists link to it, handlers.prefixes.OPEN)."""

from __future__ import annotations

import re

from domain.entities import Job
from domain.errors import NotFound
from domain.states import JobStatus
from domain.usecases import accounts, visibility
from handlers import track_record
from handlers.callbacks import StaleButton
from handlers.context import Context
from handlers.events import Keyboard
from handlers.flows.menu import menu_keyboard, menu_text
from handlers.prefixes import OPEN, PITCH, REPORT, SAVED
from handlers.render import button, job_card, keyboard
from handlers.routing import Buttons, command

_JOB_LINK = re.compile(r"(job|pitch|service)_([1-9][0-9]{0,17})")

ROLE = Buttons("role")


def role_keyboard(ctx: Context) -> Keyboard | None:
    t = ctx.t
    return keyboard(
        [
            button(t.plain("role.pick_client"), ROLE.data("pick", arg="client")),
            button(t.plain("role.pick_freelancer"), ROLE.data("pick", arg="freelancer")),
        ],
        button(t.plain("role.pick_both"), ROLE.data("pick", arg="both")),
    )


@command("start", order=10)
async def start(ctx: Context) -> None:
    if ctx.args:
        await _deep_link(ctx, ctx.args)
        return
    user = ctx.user
    if user.is_client or user.is_freelancer:
        await ctx.reply(ctx.t("start.welcome_back") + "\n\n" + menu_text(ctx), menu_keyboard(ctx))
        return
    await ctx.reply(
        ctx.t("start.welcome", name=user.name or ctx.t.plain("menu.friend")), role_keyboard(ctx)
    )


@ROLE.on("pick")
async def pick_role(ctx: Context) -> None:
    cb = ctx.callback
    assert cb is not None
    if cb.arg not in ("client", "freelancer", "both"):
        raise StaleButton()
    ctx.user = await accounts.set_roles(
        ctx.uow,
        ctx.clock,
        ctx.user.id,
        client=cb.arg in ("client", "both"),
        freelancer=cb.arg in ("freelancer", "both"),
    )
    await ctx.edit(ctx.t(f"start.role_set_{cb.arg}") + "\n\n" + menu_text(ctx), menu_keyboard(ctx))
    ctx.answer(ctx.t.plain("start.role_saved"))


async def _deep_link(ctx: Context, payload: str) -> None:
    m = _JOB_LINK.fullmatch(payload)
    if m is None:
        await ctx.reply(ctx.t("start.link_unknown"), menu_keyboard(ctx))
        return
    if m.group(1) == "pitch":  # an inline card's "Pitch" (handlers/flows/inline.py)
        from handlers.flows.pitch import begin

        await begin(ctx, int(m.group(2)))
        return
    if m.group(1) == "service":  # the services catalogue's card (flows/catalog.py)
        from handlers.flows.catalog import open_service

        await open_service(ctx, int(m.group(2)))
        return
    await show_job(ctx, int(m.group(2)))


def job_buttons(ctx: Context, job: Job) -> Keyboard | None:
    """Pitch (for others, while the job is open) and Report (for others)."""
    t = ctx.t
    if job.id is None or job.client_id == ctx.user.id:
        return None
    pitch = (
        button(t.plain("btn.pitch"), PITCH.data("start", job.id))
        if job.status == JobStatus.OPEN
        else None
    )
    save = (  # flows/saved.py
        button(t.plain("sv.btn.save_job"), SAVED.data("save_job", job.id))
        if ctx.user.is_freelancer
        else None
    )
    return keyboard(pitch, save, button(t.plain("btn.report_job"), REPORT.data("job_post", job.id)))


async def show_job(ctx: Context, job_id: int) -> None:
    """A job's card, if the user may see it (domain.usecases.visibility); a hidden
    job gets the answer an unknown id gets."""
    try:
        job = await visibility.visible_job(ctx.uow, ctx.config, ctx.user.id, job_id)
    except NotFound:
        await ctx.reply(ctx.t("job.unavailable"), menu_keyboard(ctx))
        return
    client = await track_record.client_of(ctx.uow, ctx.config, job.client_id)
    await ctx.reply(job_card(job, ctx.t, client=client), job_buttons(ctx, job))


@OPEN.on("show_job", old=("job",))
async def show_job_pressed(ctx: Context) -> None:
    """ "open:show_job:<id>": show a job's card (used by notifications and lists)."""
    assert ctx.callback is not None
    await show_job(ctx, ctx.callback.require_id())
