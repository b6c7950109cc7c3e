"""My jobs (/myjobs): the client's jobs with pitch counts; a job's card with
Edit / Pause / Resume / Close / Pitches / Invite; its pitches ranked with each
freelancer's reputation; per pitch: the full pitch and profile, Shortlist,
Decline, Message, Hire; inviting matching freelancers. The Message button opens
the messaging flow's compose ("msg:write_pitch:<pitch id>").

Callback data (prefix "mj", handlers.prefixes.MY_JOBS; the first three are
linked from other flows; the old codes in brackets still work):
- "mj:manage_job:<job id>"         the job's manage card (the owner only) [job]
- "mj:view_pitch:<pitch id>"       one pitch with its actions (the job's client) [pitch]
- "mj:pitches:<job id>:<page>"     the ranked pitches on a job
- "mj:list::<page>"                my jobs, page 1-based
- "mj:pause:<job>" / "mj:resume:<job>" / "mj:close:<job>" (asks) /
  "mj:confirm_close:<job>" [closey]
- "mj:shortlist:<pitch>" [sl], "mj:decline:<pitch>" [dec]
- "mj:candidates:<job>" whom to invite [inv], "mj:invite:<job>:<freelancer id>"
  invite one [invy] (an away freelancer: "mj:invite_anyway:<job>:<freelancer id>" after
  saying so)
Elsewhere: Hire is the offers flow's "of:hire:<pitch id>" (an invited freelancer
who has not pitched: "of:hire_invited:<job id>:<freelancer id>", on the pitches
page); editing fields is the post flow's "pj:edit:<job id>"; the invitation's Pitch
is "pitch:start:<job id>".
"""

from __future__ import annotations

from domain.entities import FreelancerProfile, Job, Pitch, User
from domain.events import FreelancerInvited, JobClosed, PitchDeclined, PitchShortlisted
from domain.reputation import Reputation
from domain.states import PITCH, JobStatus, PitchStatus
from domain.usecases import jobs, pitches, queries, talent
from domain.usecases.contracts import HIRING
from handlers import track_record
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.events import Button, Keyboard
from handlers.flows.blocking import block_button
from handlers.flows.menu import cmd_data
from handlers.i18n import Translator
from handlers.notify import renders
from handlers.paging import page_count, page_row, picks_and_pager
from handlers.prefixes import BROWSE, MESSAGE, OFFER, POST_JOB, PROFILE
from handlers.prefixes import MY_JOBS as PREFIX
from handlers.prefixes import PITCH as PITCHING
from handlers.render import (
    Html,
    bold,
    button,
    esc,
    job_card,
    join,
    keyboard,
    money,
    rows,
    shorten,
)
from handlers.routing import Menu, command
from handlers.talent_views import reason_text
from handlers.taxonomy_names import skill_names

JOBS_PAGE = 6
PITCHES_PAGE = 6
STATUS_ICON = {
    JobStatus.DRAFT: "📝",
    JobStatus.OPEN: "🟢",
    JobStatus.PAUSED: "⏸",
    JobStatus.CLOSED: "⚫",
}
# Pitches waiting for the client's answer: those the domain lets the client hire.
ANSWERABLE = PITCH.allowing("hire")


def _name(user: User | None, fallback_id: int) -> str:
    return (user.name if user else "") or f"#{fallback_id}"


# --- my jobs ------------------------------------------------------------------------------


@command("myjobs", order=70, menu=Menu.CLIENT, menu_order=20)
async def my_jobs(ctx: Context) -> None:
    await show_list(ctx, 1)


async def show_list(ctx: Context, page: int) -> None:
    t = ctx.t
    summaries = await queries.my_jobs(ctx.uow, ctx.user.id, JOBS_PAGE, (page - 1) * JOBS_PAGE)
    total = await ctx.uow.jobs.count(client_id=ctx.user.id)
    pages = page_count(total, JOBS_PAGE)
    new_job = button(t.plain("myjobs.btn.post"), cmd_data("post"))
    if not total:
        await ctx.edit(t("myjobs.empty"), keyboard(new_job))
        return
    picks = [
        button(
            t.plain(
                "myjobs.list_item",
                icon=STATUS_ICON.get(s.job.status, ""),
                title=shorten(s.job.title, 36),
                pitches=s.pitches,
            ),
            PREFIX.data("manage_job", s.job.id),
        )
        for s in summaries
    ]
    pager = page_row(t, page, pages, lambda p: PREFIX.data("list", arg=p))
    await ctx.edit(
        join([t("myjobs.title", total=total), t("myjobs.hint")]),
        picks_and_pager(picks, pager, [[new_job]]),
    )


def manage_keyboard(t: Translator, job: Job, pitches: int) -> Keyboard:
    assert job.id is not None
    jid = job.id
    first = [button(t.plain("myjobs.btn.pitches", count=pitches), PREFIX.data("pitches", jid, 1))]
    if job.status == JobStatus.OPEN:
        first.append(button(t.plain("myjobs.btn.invite"), PREFIX.data("candidates", jid)))
    out: Keyboard = [first]
    if job.status != JobStatus.CLOSED:
        toggle = (
            button(t.plain("myjobs.btn.pause"), PREFIX.data("pause", jid))
            if job.status == JobStatus.OPEN
            else button(t.plain("myjobs.btn.resume"), PREFIX.data("resume", jid))
        )
        out.append([button(t.plain("myjobs.btn.edit"), POST_JOB.data("edit", jid)), toggle])
        out.append([button(t.plain("myjobs.btn.close"), PREFIX.data("close", jid))])
    out.append([button(t.plain("myjobs.btn.list"), PREFIX.data("list", arg=1))])
    return out


async def show_manage_card(ctx: Context, job: Job, notice: Html | None = None) -> None:
    """The job's card with the owner's buttons (in place after a button press)."""
    pitches = await ctx.uow.pitches.count(job_id=job.id)
    card = job_card(job, ctx.t)
    text = join([notice, Html(""), card]) if notice else card
    await ctx.edit(text, manage_keyboard(ctx.t, job, pitches))


# --- pitches --------------------------------------------------------------------------------


def reputation_text(t: Translator, rep: Reputation) -> str:
    """Compact: "⭐ 4.7 (12) · 88/100 · Top Rated" (or "new")."""
    # No number before a completed contract: the priors alone are not a record.
    parts = (
        [t.plain("rv.no_score")]
        if rep.is_new
        else [
            t.plain("myjobs.rep_rated", rating=str(rep.average_rating), count=rep.rating_count)
            if rep.average_rating is not None
            else t.plain("myjobs.rep_new"),
            t.plain("myjobs.rep_score", score=rep.score),
        ]
    )
    parts += [t.plain(f"myjobs.badge.{b}") for b in rep.badges]
    return " · ".join(parts)


def _price(t: Translator, pitch: Pitch, job: Job) -> str:
    amount = money(pitch.price, pitch.currency)
    return t.plain("browse.per_hour", amount=amount) if job.budget_type == "hourly" else amount


async def show_pitches(ctx: Context, job_id: int, page: int) -> None:
    t = ctx.t
    job = await queries.own_job(ctx.uow, ctx.user.id, job_id)
    ranked = await queries.ranked_pitches(ctx.uow, ctx.clock, ctx.user.id, job_id)
    assert job.id is not None
    pages = page_count(len(ranked), PITCHES_PAGE)
    page = min(max(1, page), pages)
    start = (page - 1) * PITCHES_PAGE
    lines: list[Html] = [t("myjobs.pitches_title", title=shorten(job.title, 80), count=len(ranked))]
    if not ranked:
        lines.append(t("myjobs.no_pitches"))
    picks: list[Button] = []
    shown = ranked[start : start + PITCHES_PAGE]
    # The page's freelancers in one call (handlers/track_record.py), not one per pitch.
    records = await track_record.freelancers_of(
        ctx.uow, ctx.clock, [p.freelancer_id for p, _, _ in shown]
    )
    for n, (p, reputation, _) in enumerate(shown, start=start + 1):
        assert p.id is not None
        freelancer = await ctx.uow.users.get(p.freelancer_id)
        name = shorten(_name(freelancer, p.freelancer_id), 40)
        lines.append(
            Html(f"{n}. ")
            + bold(name)
            + Html(" — ")
            + _price(t, p, job)
            + Html(" · ")
            + t.plain(f"myjobs.pstatus.{p.status}")
            + (Html(" · ") + t.plain("myjobs.invited") if p.invited else Html(""))
            + Html("\n    ")
            + reputation_text(t, reputation)
            + Html("\n    ")
            + track_record.freelancer_brief(t, records.get(p.freelancer_id))
        )
        picks.append(button(f"{n}. {name}", PREFIX.data("view_pitch", p.id)))
    pager = page_row(t, page, pages, lambda p: PREFIX.data("pitches", job.id, p))
    hires = await _invited_without_pitch(ctx, job, lines) if page == 1 else []
    back = button(t.plain("myjobs.btn.job"), PREFIX.data("manage_job", job.id))
    keys = [*rows(picks, 2), *([pager] if pager else []), *rows(hires, 1), [back]]
    await ctx.edit(join(lines), keys)


async def _invited_without_pitch(ctx: Context, job: Job, lines: list[Html]) -> list[Button]:
    """Invited freelancers who have not pitched can be hired straight away (offers flow)."""
    if job.status not in HIRING:
        return []
    pitched = {p.freelancer_id for p in await ctx.uow.pitches.find(job_id=job.id)}
    hires: list[Button] = []
    for inv in await ctx.uow.invitations.find(job_id=job.id):
        if inv.freelancer_id in pitched:
            continue
        user = await ctx.uow.users.get(inv.freelancer_id)
        name = shorten(_name(user, inv.freelancer_id), 30)
        if not hires:
            lines += [Html(""), ctx.t("myjobs.invited_waiting")]
        lines.append(Html("• ") + bold(name))
        hires.append(
            button(
                ctx.t.plain("myjobs.btn.hire_invited", name=name),
                OFFER.data("hire_invited", job.id, str(inv.freelancer_id)),
            )
        )
    return hires


def profile_lines(t: Translator, profile: FreelancerProfile | None) -> list[Html]:
    if profile is None:
        return [t("myjobs.no_profile")]
    lines: list[Html] = []
    if profile.headline:
        lines.append(bold(profile.headline))
    if profile.skills or profile.tags:
        skills = skill_names(t, [*profile.skills, *profile.tags])
        lines.append(t("myjobs.profile_skills", skills=skills))
    if profile.hourly_rate:
        lines.append(t("myjobs.profile_rate", amount=money(profile.hourly_rate, profile.currency)))
    if profile.years_experience is not None:
        lines.append(t("myjobs.profile_years", years=profile.years_experience))
    if profile.portfolio:
        lines.append(t("myjobs.profile_portfolio", links=" ".join(profile.portfolio[:5])))
    if profile.bio:
        lines += [Html(""), esc(shorten(profile.bio, 600))]
    return lines or [t("myjobs.no_profile")]


async def show_pitch(ctx: Context, pitch_id: int) -> None:
    t = ctx.t
    pitch, job = await queries.pitch_on_own_job(ctx.uow, ctx.user.id, pitch_id)
    user = await ctx.uow.users.get(pitch.freelancer_id)
    rep = await queries.reputation_of(ctx.uow, ctx.clock, pitch.freelancer_id)
    profile = await ctx.uow.profiles.get(pitch.freelancer_id)
    lines: list[Html] = [
        t(
            "myjobs.pitch_title",
            name=_name(user, pitch.freelancer_id),
            title=shorten(job.title, 80),
        ),
        t("myjobs.pitch_price", price=_price(t, pitch, job)),
    ]
    if pitch.duration_days:
        lines.append(t("myjobs.pitch_days", days=pitch.duration_days))
    lines.append(t("myjobs.pitch_status", status=t.plain(f"myjobs.pstatus.{pitch.status}")))
    lines.append(t("myjobs.pitch_reputation", reputation=reputation_text(t, rep)))
    record = await track_record.freelancer_of(ctx.uow, ctx.clock, pitch.freelancer_id)
    lines.append(track_record.freelancer_record(t, record))
    for k, ms in enumerate(pitch.proposed_milestones or [], start=1):
        amount = ms.get("amount")
        lines.append(
            t(
                "myjobs.pitch_milestone",
                n=k,
                title=str(ms.get("title", "")),
                amount=money(amount, pitch.currency) if isinstance(amount, int) else "",
            )
        )
    lines += [Html(""), Html(esc(pitch.cover_letter)), Html("")]
    lines += [t("myjobs.profile_title"), *profile_lines(t, profile)]
    await ctx.edit(join(lines), pitch_keyboard(t, pitch, job))


def pitch_keyboard(t: Translator, pitch: Pitch, job: Job) -> Keyboard:
    assert pitch.id is not None and job.id is not None
    answerable = pitch.status in ANSWERABLE
    first = []
    if pitch.status == PitchStatus.PENDING:
        first.append(button(t.plain("myjobs.btn.shortlist"), PREFIX.data("shortlist", pitch.id)))
    if answerable:
        first.append(button(t.plain("myjobs.btn.decline"), PREFIX.data("decline", pitch.id)))
    second = [button(t.plain("myjobs.btn.message"), MESSAGE.data("write_pitch", pitch.id))]
    if answerable and job.status in HIRING:
        second.append(button(t.plain("myjobs.btn.hire"), OFFER.data("hire", pitch.id)))
    profile = button(t.plain("myjobs.btn.profile"), PROFILE.data("card", pitch.freelancer_id))
    back = button(t.plain("myjobs.btn.back_pitches"), PREFIX.data("pitches", job.id, 1))
    block = [block_button(t, pitch.freelancer_id)]
    return [row for row in (first, second, [profile, back], block) if row]


# --- invitations --------------------------------------------------------------------------


async def show_candidates(ctx: Context, job_id: int) -> None:
    """Everyone who fits, through the talent index, with why each is suggested."""
    t = ctx.t
    job, found = await talent.invite_candidates(ctx.uow, ctx.clock, ctx.user.id, job_id)
    assert job.id is not None
    lines: list[Html] = [t("myjobs.invite_title", title=shorten(job.title, 80))]
    picks: list[Button] = []
    if not found:
        lines.append(t("myjobs.invite_none"))
    for hit in found:
        name = shorten(hit.name or f"#{hit.user_id}", 40)
        lines.append(
            Html("• ")
            + bold(name)
            + (Html(" — ") + esc(shorten(hit.headline, 60)) if hit.headline else Html(""))
            + Html("\n    ")
            + reason_text(t, hit)
        )
        picks.append(
            button(
                t.plain("myjobs.btn.invite_one", name=shorten(name, 30)),
                PREFIX.data("invite", job.id, str(hit.user_id)),
            )
        )
    back = button(t.plain("myjobs.btn.job"), PREFIX.data("manage_job", job.id))
    await ctx.edit(join(lines), [*rows(picks, 1), [back]])


# --- buttons --------------------------------------------------------------------------------


def _id(ctx: Context) -> int:
    assert ctx.callback is not None
    return ctx.callback.require_id()


def _page(ctx: Context) -> int:
    arg = ctx.callback.arg if ctx.callback else None
    return max(1, int(arg)) if arg and arg.isdigit() else 1


@PREFIX.on("list")
async def list_pressed(ctx: Context) -> None:
    await show_list(ctx, _page(ctx))


@PREFIX.on("manage_job", old=("job",))
async def manage_job_pressed(ctx: Context) -> None:
    await show_manage_card(ctx, await queries.own_job(ctx.uow, ctx.user.id, _id(ctx)))


@PREFIX.on("pause")
async def pause_pressed(ctx: Context) -> None:
    job = await jobs.pause_job(ctx.uow, ctx.clock, ctx.user.id, _id(ctx))
    await show_manage_card(ctx, job)
    ctx.answer(ctx.t.plain("myjobs.paused"))


@PREFIX.on("resume")
async def resume_pressed(ctx: Context) -> None:
    job = await jobs.resume_job(ctx.uow, ctx.clock, ctx.user.id, _id(ctx))
    await show_manage_card(ctx, job)
    ctx.answer(ctx.t.plain("myjobs.resumed"))


@PREFIX.on("close")
async def close_pressed(ctx: Context) -> None:
    t = ctx.t
    job = await queries.own_job(ctx.uow, ctx.user.id, _id(ctx))
    if job.status == JobStatus.CLOSED:
        raise StaleButton()
    await ctx.edit(
        t("myjobs.close_confirm", title=job.title),
        keyboard(
            [
                button(t.plain("myjobs.btn.close_yes"), PREFIX.data("confirm_close", job.id)),
                button(t.plain("myjobs.btn.job"), PREFIX.data("manage_job", job.id)),
            ]
        ),
    )


@PREFIX.on("confirm_close", old=("closey",))
async def confirm_close_pressed(ctx: Context) -> None:
    t = ctx.t
    job = await jobs.close_job(ctx.uow, ctx.clock, ctx.user.id, _id(ctx))
    await show_manage_card(ctx, job, notice=t("myjobs.closed"))
    ctx.answer(t.plain("myjobs.closed_short"))


@PREFIX.on("pitches")
async def pitches_pressed(ctx: Context) -> None:
    arg = ctx.callback.arg if ctx.callback else None
    await show_pitches(ctx, _id(ctx), int(arg) if arg and arg.isdigit() else 1)


@PREFIX.on("view_pitch", old=("pitch",))
async def view_pitch_pressed(ctx: Context) -> None:
    await show_pitch(ctx, _id(ctx))


@PREFIX.on("shortlist", old=("sl",))
async def shortlist_pressed(ctx: Context) -> None:
    await pitches.shortlist_pitch(ctx.uow, ctx.clock, ctx.user.id, _id(ctx))
    await show_pitch(ctx, _id(ctx))
    ctx.answer(ctx.t.plain("myjobs.shortlisted"))


@PREFIX.on("decline", old=("dec",))
async def decline_pressed(ctx: Context) -> None:
    await pitches.decline_pitch(ctx.uow, ctx.clock, ctx.user.id, _id(ctx))
    await show_pitch(ctx, _id(ctx))
    ctx.answer(ctx.t.plain("myjobs.declined"))


@PREFIX.on("candidates", old=("inv",))
async def candidates_pressed(ctx: Context) -> None:
    await show_candidates(ctx, _id(ctx))


@PREFIX.on("invite", old=("invy",))
async def invite_pressed(ctx: Context) -> None:
    freelancer = ctx.callback.arg if ctx.callback else None
    if not freelancer or not freelancer.isdigit():
        raise StaleButton()
    until = await talent.away_until(ctx.uow, ctx.clock, int(freelancer))
    if until is not None:  # say so before sending (domain/talent.py)
        t = ctx.t
        who = await ctx.uow.users.get(int(freelancer))
        await ctx.edit(
            t("talent.away_warning", name=_name(who, int(freelancer)), date=until.isoformat()),
            keyboard(
                [
                    button(
                        t.plain("talent.btn.invite_anyway"),
                        PREFIX.data("invite_anyway", _id(ctx), freelancer),
                    ),
                    button(t.plain("btn.cancel"), PREFIX.data("candidates", _id(ctx))),
                ]
            ),
        )
        ctx.answer()
        return
    await _invite(ctx, int(freelancer))


@PREFIX.on("invite_anyway")
async def invite_anyway_pressed(ctx: Context) -> None:
    freelancer = ctx.callback.arg if ctx.callback else None
    if not freelancer or not freelancer.isdigit():
        raise StaleButton()
    await _invite(ctx, int(freelancer))


async def _invite(ctx: Context, freelancer_id: int) -> None:
    await pitches.invite_freelancer(ctx.uow, ctx.clock, ctx.user.id, _id(ctx), freelancer_id)
    await show_candidates(ctx, _id(ctx))
    ctx.answer(ctx.t.plain("myjobs.invited_short"))


# --- notifications ------------------------------------------------------------------------


async def _pitch_and_job(scope: Scope, pitch_id: int) -> tuple[Pitch, Job] | None:
    pitch = await scope.uow.pitches.get(pitch_id)
    job = await scope.uow.jobs.get(pitch.job_id) if pitch else None
    return (pitch, job) if pitch and job else None


def _open_job(t: Translator, job_id: int) -> Button:
    return button(t.plain("btn.open_job"), BROWSE.data("show_job", job_id))


def _browse(t: Translator) -> Button:
    return button(t.plain("myjobs.btn.browse"), cmd_data("jobs"))


@renders(PitchDeclined)
async def pitch_declined(scope: Scope, event: PitchDeclined) -> None:
    found = await _pitch_and_job(scope, event.pitch_id)
    if found is None:
        return
    pitch, job = found
    await scope.notify(
        pitch.freelancer_id,
        "myjobs.notify_declined",
        title=job.title,
        buttons=lambda t: keyboard(_browse(t)),
    )


@renders(PitchShortlisted)
async def pitch_shortlisted(scope: Scope, event: PitchShortlisted) -> None:
    found = await _pitch_and_job(scope, event.pitch_id)
    if found is None:
        return
    pitch, job = found
    assert job.id is not None
    await scope.notify(
        pitch.freelancer_id,
        "myjobs.notify_shortlisted",
        title=job.title,
        buttons=lambda t: keyboard(_open_job(t, job.id)),  # type: ignore[arg-type]
    )


@renders(FreelancerInvited)
async def freelancer_invited(scope: Scope, event: FreelancerInvited) -> None:
    job = await scope.uow.jobs.get(event.job_id)
    if job is None or job.id is None:
        return
    client_user = await scope.uow.users.get(job.client_id)
    jid = job.id
    await scope.notify(
        event.freelancer_id,
        "myjobs.notify_invited",
        name=_name(client_user, job.client_id),
        title=job.title,
        buttons=lambda t: keyboard(
            [button(t.plain("btn.pitch"), PITCHING.data("start", jid)), _open_job(t, jid)]
        ),
    )


@renders(JobClosed)
async def job_closed(scope: Scope, event: JobClosed) -> None:
    """Freelancers still waiting on a pitch hear that the job is closed."""
    job = await scope.uow.jobs.get(event.job_id)
    if job is None:
        return
    waiting = await scope.uow.pitches.find(job_id=job.id, status__in=sorted(ANSWERABLE))
    for pitch in waiting:
        await scope.notify(
            pitch.freelancer_id,
            "myjobs.notify_closed",
            title=job.title,
            buttons=lambda t: keyboard(_browse(t)),
        )
