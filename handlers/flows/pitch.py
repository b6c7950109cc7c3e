"""Pitch on a job: cover letter, price, duration, optional milestones, preview, send;
"My pitches" (/pitches) to view, edit or withdraw a pending pitch.

Callback data (prefix "pitch", handlers.prefixes.PITCH; other flows link to the
first three; the old codes in brackets still work):

    pitch:start:<job_id>      start a pitch for a job (job cards, alerts, digests,
                              invitations, the deep link /start job_<id> card) [new]
    pitch:show:<pitch_id>     show one pitch (its freelancer, or the job's client)
    pitch:list::<page>        "My pitches", page 1-based (pitch:list alone = page 1)

Wizard-internal (only valid inside the pitch conversation):
    pitch:cancel, pitch:back, pitch:send,
    pitch:skip_milestones [skipms], pitch:done_milestones [donems],
    pitch:fix_field::<field>  from the preview: cover | price | days | ms [fix]
    pitch:preview             while changing a part from the preview: back to it,
                              the part as it was
    pitch:edit_milestone:<k>  change proposed milestone k (0-based): its title, then
                              its amount, each with a "keep" button (keep_milestone)
    pitch:remove_milestone:<k> remove proposed milestone k
Pending-pitch actions (re-authorised by the use case on every press):
    pitch:edit:<pitch_id>     edit menu;  pitch:edit_field:<pitch_id>:<field> edit a
                              field [ef]
    pitch:withdraw:<pitch_id> ask to withdraw [wd];  pitch:confirm_withdraw:<pitch_id>
                              confirm [wdy]
"""

from __future__ import annotations

import math
from typing import Any

from domain import validation
from domain.entities import Job, Pitch
from domain.errors import NotAllowed, ValidationError
from domain.events import PitchEdited, PitchEvent, PitchReceived, PitchWithdrawn
from domain.money import parse_money
from domain.states import PITCH
from domain.usecases import pitches as uc
from domain.usecases import queries
from handlers import track_record
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.events import Keyboard
from handlers.flows.blocking import block_button
from handlers.flows.cancel import confirm_discard, offer_draft
from handlers.flows.menu import cmd_data
from handlers.i18n import Translator
from handlers.notify import renders
from handlers.prefixes import MY_JOBS, OPEN, PROFILE
from handlers.prefixes import PITCH as PREFIX
from handlers.render import Html, button, esc, join, keyboard, money, pagination_row, shorten
from handlers.routing import ROUTER, Menu, Steps, command, resumes, step


class PitchStep(Steps, flow="pitch", drafts=True):
    """The pitch wizard, step by step (the values are stored: never change one).
    A new pitch left by another command is kept as a draft, one per job."""

    COVER = "cover"
    PRICE = "price"
    DAYS = "days"
    MS_TITLE = "ms_title"
    MS_AMOUNT = "ms_amount"
    PREVIEW = "preview"

    @classmethod
    def draft_subject(cls, data: dict[str, Any]) -> str | None:
        return f"job:{data.get('job_id')}" if data.get("mode") == "new" else None

    @classmethod
    def answered(cls, data: dict[str, Any]) -> int:
        """Cover, price and days; a milestone's title and amount."""
        asked = sum(1 for name in ("cover", "price", "days") if name in data)
        return asked + 2 * len(data.get("ms") or [])


PAGE_SIZE = 5
LISTED_MAX = 200  # "My pitches" lists the newest this many
FIELDS = ("cover", "price", "days", "ms")
# The question before each step, for Back.
PREVIOUS = {"price": "cover", "days": "price", "ms_title": "days", "ms_amount": "ms_title"}
# Draft keys of the milestone step: the index of the milestone being changed, the
# title typed before its amount, and the milestones as they were when "✏️ Milestones"
# was pressed on the preview (restored by "Back to preview").
MS_EDIT, MS_TITLE, MS_BEFORE = "ms_edit", "ms_title", "ms_before"
MS_WORK = (MS_EDIT, MS_TITLE, MS_BEFORE)


# --- texts -----------------------------------------------------------------------


def price_text(t: Translator, amount: int, currency: str, hourly: bool) -> Html:
    shown = money(amount, currency)
    return t("pitch.price_hourly", amount=shown) if hourly else esc(shown)


def quota_line(t: Translator, quota: uc.PitchQuota, invited: bool) -> Html:
    if invited:
        return t("pitch.quota_invited")
    line = t("pitch.quota", left=quota.left, limit=quota.limit)
    if not quota.left and quota.next_free_at is not None:
        when = quota.next_free_at.strftime("%Y-%m-%d %H:%M UTC")
        line = line + Html("\n") + t("pitch.quota_next", when=when)
    return line


def editable(pitch: Pitch) -> bool:
    return PITCH.allows(pitch.status, "edit")


def withdrawable(pitch: Pitch) -> bool:
    return PITCH.allows(pitch.status, "withdraw")


def milestones_text(t: Translator, items: list[dict[str, Any]], currency: str) -> Html:
    lines = [
        Html(f"{k}. ") + esc(m["title"]) + Html(" — ") + esc(money(m["amount"], currency))
        for k, m in enumerate(items, start=1)
    ]
    return join(lines) if lines else t("pitch.no_milestones")


def pitch_body(
    t: Translator,
    job: Job,
    cover: str,
    price: int,
    days: int | None,
    items: list[dict[str, Any]],
) -> list[Html]:
    hourly = job.budget_type == "hourly"
    lines = [
        t("pitch.field_job", title=job.title),
        t("pitch.field_price", price=price_text(t, price, job.currency, hourly)),
        t("pitch.field_days", days=days if days is not None else "—"),
    ]
    if not hourly:
        lines += [t("pitch.field_milestones"), milestones_text(t, items, job.currency)]
    lines += [Html(""), t("pitch.field_cover"), esc(cover)]
    return lines


def pitch_view(t: Translator, pitch: Pitch, job: Job) -> Html:
    head = [
        t("pitch.view_title", id=pitch.id),
        t("pitch.field_status", status=t(f"pitch.status.{pitch.status}")),
    ]
    body = pitch_body(
        t, job, pitch.cover_letter, pitch.price, pitch.duration_days, pitch.proposed_milestones
    )
    return join(head + body)


# --- navigation --------------------------------------------------------------------


def nav(ctx: Context, back: bool = True, *extra: Any) -> Keyboard | None:
    t = ctx.t
    back_button = button(t.plain("pitch.btn_back"), PREFIX.data("back")) if back else None
    if ctx.data.get("fixing") and not back:
        # Changing a part from the preview: back to it, the part as it was.
        back_button = button(t.plain("pitch.btn_to_preview"), PREFIX.data("preview"))
    return keyboard(
        *extra,
        [back_button, button(t.plain("btn.cancel"), PREFIX.data("cancel"))],
    )


async def _job_of_draft(ctx: Context) -> Job:
    job_id = ctx.data.get("job_id")
    job = await ctx.uow.jobs.get(job_id) if isinstance(job_id, int) else None
    if job is None:
        await ctx.clear_state()
        raise StaleButton()
    return job


async def ask(ctx: Context, step_name: str, data: dict[str, Any] | None = None) -> None:
    """Enter a wizard step and ask its question (edit mode has no Back)."""
    await ctx.set_state(PitchStep(step_name), data)
    d = ctx.data
    t = ctx.t
    job = await _job_of_draft(ctx)
    back = d.get("mode") == "new" and not d.get("fixing") and step_name in PREVIOUS
    back = back or MS_EDIT in d  # changing one milestone: Back to the list
    if step_name == "cover":
        await ctx.reply(t("pitch.ask_cover", min=uc.COVER_LETTER_MIN), nav(ctx, back))
    elif step_name == "price":
        key = "pitch.ask_rate" if job.budget_type == "hourly" else "pitch.ask_price"
        budget = money(job.budget, job.currency) if job.budget else "—"
        await ctx.reply(t(key, budget=budget), nav(ctx, back))
    elif step_name == "days":
        await ctx.reply(t("pitch.ask_days", max=uc.MAX_DURATION_DAYS), nav(ctx, back))
    elif step_name == "ms_title" and MS_EDIT in d:
        item = milestone_at(d, d[MS_EDIT])
        keep = button(t.plain("pitch.btn_ms_keep_title"), PREFIX.data("keep_milestone"))
        text = t(
            "pitch.ask_ms_edit_title",
            n=d[MS_EDIT] + 1,
            title=item["title"],
            amount=money(item["amount"], job.currency),
        )
        await ctx.reply(text, nav(ctx, back, keep))
    elif step_name == "ms_title":
        await ctx.reply(*milestones_screen(ctx, job, back))
    elif step_name == "ms_amount" and MS_EDIT in d:
        shown = money(milestone_at(d, d[MS_EDIT])["amount"], job.currency)
        keep = button(
            t.plain("pitch.btn_ms_keep_amount", amount=shown), PREFIX.data("keep_milestone")
        )
        text = t("pitch.ask_ms_edit_amount", title=d.get("ms_title", ""), amount=shown)
        await ctx.reply(text, nav(ctx, back, keep))
    elif step_name == "ms_amount":
        await ctx.reply(t("pitch.ask_ms_amount", title=d.get("ms_title", "")), nav(ctx, back))
    else:
        raise StaleButton()


def milestones_screen(ctx: Context, job: Job, back: bool) -> tuple[Html, Keyboard | None]:
    """The proposed milestones, how far they are from the price, and a ✏️ and a 🗑
    for each; typing a title adds one."""
    d, t = ctx.data, ctx.t
    items: list[dict[str, Any]] = d.get("ms") or []
    price = d.get("price") if isinstance(d.get("price"), int) else None
    total = sum(m["amount"] for m in items)
    lines = [
        t(
            "pitch.ask_ms_title",
            price=money(price, job.currency) if price is not None else "—",
            total=money(total, job.currency),
        )
    ]
    if items and price is not None:
        lines.append(sum_line(t, total, price, job.currency))
    lines += [t("pitch.ms_so_far"), milestones_text(t, items, job.currency)]
    if items:
        lines.append(t("pitch.ms_hint"))
    each = [
        [
            button(f"✏️ {k}. " + shorten(m["title"], 24), PREFIX.data("edit_milestone", k - 1)),
            button(f"🗑 {k}", PREFIX.data("remove_milestone", k - 1)),
        ]
        for k, m in enumerate(items, start=1)
    ]
    done = [
        button(t.plain("pitch.btn_ms_done"), PREFIX.data("done_milestones")) if items else None,
        button(t.plain("pitch.btn_ms_skip"), PREFIX.data("skip_milestones")),
    ]
    return join(lines), nav(ctx, back, *each, done)


def sum_line(t: Translator, total: int, price: int, currency: str) -> Html:
    """ "$100.00 short of $1,000.00" / "$50.00 over $1,000.00" / adds up."""
    if total == price:
        return t("pitch.ms_adds_up")
    key = "pitch.ms_short" if total < price else "pitch.ms_over"
    return t(key, diff=money(abs(price - total), currency), price=money(price, currency))


def milestone_at(d: dict[str, Any], index: Any) -> dict[str, Any]:
    """Milestone `index` of the draft; a button for one no longer there is stale."""
    items = d.get("ms") or []
    if not isinstance(index, int) or not 0 <= index < len(items):
        raise StaleButton()
    return items[index]


def _without(d: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in keys}


async def show_preview(ctx: Context) -> None:
    d = ctx.data
    t = ctx.t
    job = await _job_of_draft(ctx)
    _, invited, quota = await uc.check_can_pitch(
        ctx.uow, ctx.clock, ctx.config, ctx.user.id, job.id
    )
    await ctx.set_state(PitchStep.PREVIEW, _without(d, *MS_WORK) | {"fixing": False})
    lines = [t("pitch.preview_title")]
    lines += pitch_body(t, job, d["cover"], d["price"], d["days"], d.get("ms") or [])
    lines += [Html(""), quota_line(t, quota, invited)]
    fixes = [
        button(t.plain(f"pitch.btn_fix_{f}"), PREFIX.data("fix_field", arg=f))
        for f in FIELDS
        if f != "ms" or job.budget_type != "hourly"
    ]
    kb = keyboard(
        button(t.plain("pitch.btn_send"), PREFIX.data("send")),
        fixes[:2],
        fixes[2:],
        button(t.plain("btn.cancel"), PREFIX.data("cancel")),
    )
    await ctx.reply(join(lines), kb)


async def after_field(ctx: Context, data: dict[str, Any], field: str) -> None:
    """Where a wizard goes once a field is filled: the next question, the preview
    (when fixing from the preview), or — editing a sent pitch — save it now."""
    if data.get("mode") == "edit":
        await _save_edit(ctx, data, field)
        return
    if data.get("fixing"):
        await ctx.set_state(PitchStep.PREVIEW, data)
        await show_preview(ctx)
        return
    job = await _job_of_draft(ctx)
    following = {"cover": "price", "price": "days", "days": "ms_title"}[field]
    if following == "ms_title" and job.budget_type == "hourly":
        await ctx.set_state(PitchStep.PREVIEW, data)
        await show_preview(ctx)
        return
    await ask(ctx, following, data)


async def _save_edit(ctx: Context, data: dict[str, Any], field: str) -> None:
    pitch_id = data.get("pitch_id")
    if not isinstance(pitch_id, int):
        await ctx.clear_state()
        raise StaleButton()
    pitch, job = await queries.visible_pitch(ctx.uow, ctx.user.id, pitch_id)
    fields = edited_fields(pitch, job, field, data)
    pitch = await uc.edit_pitch(ctx.uow, ctx.clock, ctx.user.id, pitch_id, fields)
    await ctx.clear_state()
    await ctx.reply(
        ctx.t("pitch.updated") + "\n\n" + pitch_view(ctx.t, pitch, job), own_buttons(ctx, pitch)
    )


def edited_fields(pitch: Pitch, job: Job, field: str, data: dict[str, Any]) -> uc.PitchFields:
    """The pitch's terms with one field replaced from the draft. A new fixed price
    drops proposed milestones that no longer add up to it."""
    cover, price, days = pitch.cover_letter, pitch.price, pitch.duration_days
    milestones = list(pitch.proposed_milestones)
    if field == "cover":
        cover = data.get("cover", "")
    elif field == "price":
        price = data.get("price", 0)
        if sum(m["amount"] for m in milestones) != price:
            milestones = []
    elif field == "days":
        days = data.get("days")
    elif field == "ms":
        milestones = data.get("ms") or []
    return uc.PitchFields(cover, price, days, milestones)


# --- start --------------------------------------------------------------------------


async def begin(ctx: Context, job_id: int) -> None:
    """Start the wizard for a job (after checking the freelancer may pitch on it)."""
    job, invited, quota = await uc.check_can_pitch(
        ctx.uow, ctx.clock, ctx.config, ctx.user.id, job_id
    )
    fresh: dict[str, Any] = {"mode": "new", "job_id": job.id, "ms": []}
    if await offer_draft(ctx, PitchStep, fresh):
        return
    t = ctx.t
    intro = join([t("pitch.start", title=job.title), quota_line(t, quota, invited)])
    await ctx.reply(intro)
    await ask(ctx, "cover", fresh)


@resumes(PitchStep)
async def resume(ctx: Context) -> None:
    """A continued draft: its step asked again (or its preview shown)."""
    at = ctx.state.step if ctx.state else ""
    await (show_preview(ctx) if at == PitchStep.PREVIEW else ask(ctx, at))


# --- steps ---------------------------------------------------------------------------


@step(PitchStep.COVER)
async def cover_step(ctx: Context) -> None:
    cover = validation.clean_text(
        ctx.text, "cover_letter", uc.COVER_LETTER_MIN, validation.COVER_LETTER_MAX
    )
    await after_field(ctx, ctx.data | {"cover": cover}, "cover")


@step(PitchStep.PRICE)
async def price_step(ctx: Context) -> None:
    job = await _job_of_draft(ctx)
    field = "rate" if job.budget_type == "hourly" else "price"  # the example fits what is asked
    price = parse_money(ctx.text, job.currency, field).amount
    await after_field(ctx, ctx.data | {"price": price}, "price")


@step(PitchStep.DAYS)
async def days_step(ctx: Context) -> None:
    days = validation.parse_int(ctx.text, "duration", 1, uc.MAX_DURATION_DAYS)
    await after_field(ctx, ctx.data | {"days": days}, "days")


@step(PitchStep.MS_TITLE)
async def ms_title_step(ctx: Context) -> None:
    """A new milestone's title, or a new title for the one being changed."""
    items = ctx.data.get("ms") or []
    if MS_EDIT in ctx.data:
        milestone_at(ctx.data, ctx.data[MS_EDIT])
    elif len(items) >= uc.MAX_PROPOSED_MILESTONES:
        raise ValidationError(
            "milestones_too_many", "Too many milestones.", max=uc.MAX_PROPOSED_MILESTONES
        )
    title = validation.clean_text(ctx.text, "milestone_title", 1, validation.MILESTONE_TITLE_MAX)
    await ask(ctx, "ms_amount", ctx.data | {MS_TITLE: title})


@step(PitchStep.MS_AMOUNT)
async def ms_amount_step(ctx: Context) -> None:
    job = await _job_of_draft(ctx)
    amount = parse_money(ctx.text, job.currency).amount
    await put_milestone(ctx, ctx.data, amount)


async def put_milestone(ctx: Context, d: dict[str, Any], amount: int) -> None:
    """The milestone titled d["ms_title"] added, or put in place of the one being
    changed; back to the list."""
    items = list(d.get("ms") or [])
    item = {"title": d.get(MS_TITLE, ""), "amount": amount}
    if MS_EDIT in d:
        milestone_at(d, d[MS_EDIT])
        items[d[MS_EDIT]] = item
    else:
        items.append(item)
    await ask(ctx, "ms_title", _without(d, MS_EDIT, MS_TITLE) | {"ms": items})


@step(PitchStep.PREVIEW)
async def preview_text(ctx: Context) -> None:
    await ctx.reply(ctx.t("pitch.use_buttons"))
    await show_preview(ctx)


# --- buttons ---------------------------------------------------------------------------


def _id(ctx: Context) -> int:
    assert ctx.callback is not None
    return ctx.callback.require_id()


@PREFIX.on("start", old=("new",))
async def start_pressed(ctx: Context) -> None:
    await begin(ctx, _id(ctx))


@PREFIX.on("show")
async def show_pressed(ctx: Context) -> None:
    await show_pitch(ctx, _id(ctx))


@PREFIX.on("list")
async def list_pressed(ctx: Context) -> None:
    await list_pitches(ctx, _page(ctx.callback.arg if ctx.callback else None))


@PREFIX.on("edit")
async def edit_pressed(ctx: Context) -> None:
    await edit_menu(ctx, _id(ctx))


@PREFIX.on("edit_field", old=("ef",))
async def edit_field_pressed(ctx: Context) -> None:
    await edit_field(ctx, _id(ctx), ctx.callback.arg if ctx.callback else None)


@PREFIX.on("withdraw", old=("wd",))
async def withdraw_pressed(ctx: Context) -> None:
    await ask_withdraw(ctx, _id(ctx))


@PREFIX.on("confirm_withdraw", old=("wdy",))
async def confirm_withdraw_pressed(ctx: Context) -> None:
    await withdraw(ctx, _id(ctx))


@PREFIX.on("cancel", wizard=True)
async def cancel_pressed(ctx: Context) -> None:
    if await confirm_discard(ctx, PitchStep.PREVIEW):
        return
    if ctx.in_step(PitchStep):
        await ctx.clear_state()
    await ctx.edit(ctx.t("pitch.cancelled"))


def _page(arg: str | None) -> int:
    if arg is None:
        return 1
    if not arg.isdigit() or not 1 <= int(arg) <= 10_000:
        raise StaleButton()
    return int(arg)


# Buttons that only mean something inside the pitch conversation, at these steps.


def _at(ctx: Context, *steps: str) -> dict[str, Any]:
    """The draft, if the pitch conversation is at one of `steps`; else the button is stale."""
    state = ctx.state
    if state is None or state.flow != PitchStep.flow or state.step not in steps:
        raise StaleButton()
    return ctx.data


@PREFIX.on("back", wizard=True)
async def back_pressed(ctx: Context) -> None:
    d = _at(ctx, *PREVIOUS)
    assert ctx.state is not None
    if MS_EDIT in d:  # changing one milestone: back to the list, unchanged
        await ask(ctx, "ms_title", _without(d, MS_EDIT, MS_TITLE))
        return
    await ask(ctx, PREVIOUS[ctx.state.step], d)


@PREFIX.on("edit_milestone", wizard=True)
async def edit_milestone_pressed(ctx: Context) -> None:
    d = _at(ctx, "ms_title", "ms_amount")
    index = _id(ctx)
    milestone_at(d, index)
    await ask(ctx, "ms_title", _without(d, MS_TITLE) | {MS_EDIT: index})


@PREFIX.on("remove_milestone", wizard=True)
async def remove_milestone_pressed(ctx: Context) -> None:
    d = _at(ctx, "ms_title", "ms_amount")
    index = _id(ctx)
    milestone_at(d, index)
    items = [m for k, m in enumerate(d.get("ms") or []) if k != index]
    ctx.answer(ctx.t.plain("pitch.ms_removed"))
    await ask(ctx, "ms_title", _without(d, MS_EDIT, MS_TITLE) | {"ms": items})


@PREFIX.on("keep_milestone", wizard=True)
async def keep_milestone_pressed(ctx: Context) -> None:
    """Changing a milestone: keep its title (then asked the amount), or its amount."""
    d = _at(ctx, "ms_title", "ms_amount")
    if MS_EDIT not in d:
        raise StaleButton()
    item = milestone_at(d, d[MS_EDIT])
    assert ctx.state is not None
    if ctx.state.step == "ms_title":
        await ask(ctx, "ms_amount", d | {MS_TITLE: item["title"]})
    else:
        await put_milestone(ctx, d, item["amount"])


@PREFIX.on("preview", wizard=True)
async def back_to_preview_pressed(ctx: Context) -> None:
    """Changing a part from the preview: back to it with that part as it was."""
    d = _at(ctx, "cover", "price", "days", "ms_title", "ms_amount")
    if not d.get("fixing"):
        raise StaleButton()
    if MS_BEFORE in d:
        d = d | {"ms": d[MS_BEFORE]}
    await ctx.set_state(PitchStep.PREVIEW, d)
    await show_preview(ctx)


@PREFIX.on("skip_milestones", old=("skipms",), wizard=True)
async def skip_milestones_pressed(ctx: Context) -> None:
    d = _at(ctx, "ms_title")
    await after_ms(ctx, d | {"ms": []})


@PREFIX.on("done_milestones", old=("donems",), wizard=True)
async def done_milestones_pressed(ctx: Context) -> None:
    d = _at(ctx, "ms_title", "ms_amount")
    if not d.get("ms"):
        raise StaleButton()
    await after_ms(ctx, _without(d, MS_EDIT, MS_TITLE))


@PREFIX.on("fix_field", old=("fix",), wizard=True)
async def fix_field_pressed(ctx: Context) -> None:
    d = _at(ctx, "preview")
    field = ctx.callback.arg if ctx.callback else None
    if field not in FIELDS:
        raise StaleButton()
    data = d | {"fixing": True}
    if field == "ms":  # the milestones as they are, to change one by one
        data[MS_BEFORE] = list(d.get("ms") or [])
    await ask(ctx, "ms_title" if field == "ms" else field, data)


@PREFIX.on("send", wizard=True)
async def send_pressed(ctx: Context) -> None:
    await send(ctx, _at(ctx, "preview"))


async def after_ms(ctx: Context, data: dict[str, Any]) -> None:
    job = await _job_of_draft(ctx)
    if data.get("mode") != "edit":
        uc.check_milestones(data.get("ms") or [], job, int(data.get("price") or 0))
    if data.get("mode") == "edit":
        await _save_edit(ctx, data, "ms")
        return
    await ctx.set_state(PitchStep.PREVIEW, data)
    await show_preview(ctx)


async def send(ctx: Context, d: dict[str, Any]) -> None:
    job = await _job_of_draft(ctx)
    fields = uc.PitchFields(d.get("cover", ""), d.get("price", 0), d.get("days"), d.get("ms") or [])
    pitch = await uc.submit_pitch(ctx.uow, ctx.clock, ctx.config, ctx.user.id, job.id, fields)
    await ctx.clear_state()
    quota = await uc.pitch_quota(ctx.uow, ctx.clock, ctx.config, ctx.user.id)
    t = ctx.t
    text = join([t("pitch.sent", title=job.title), quota_line(t, quota, pitch.invited)])
    await ctx.edit(
        text,
        keyboard(
            button(t.plain("pitch.btn_view"), PREFIX.data("show", pitch.id)),
            button(t.plain("pitch.btn_my"), PREFIX.data("list")),
        ),
    )


# --- my pitches ------------------------------------------------------------------------


def own_buttons(ctx: Context, pitch: Pitch) -> Keyboard | None:
    t = ctx.t
    edit = (
        button(t.plain("pitch.btn_edit"), PREFIX.data("edit", pitch.id))
        if editable(pitch)
        else None
    )
    withdraw_ = (
        button(t.plain("pitch.btn_withdraw"), PREFIX.data("withdraw", pitch.id))
        if withdrawable(pitch)
        else None
    )
    return keyboard(
        [edit, withdraw_],
        button(t.plain("pitch.btn_open_job"), OPEN.data("show_job", pitch.job_id)),
        button(t.plain("pitch.btn_my"), PREFIX.data("list")),
    )


async def show_pitch(ctx: Context, pitch_id: int) -> None:
    pitch, job = await queries.visible_pitch(ctx.uow, ctx.user.id, pitch_id)
    t = ctx.t
    if ctx.user.id == pitch.freelancer_id:
        await ctx.edit(pitch_view(t, pitch, job), own_buttons(ctx, pitch))
        return
    freelancer = await ctx.uow.users.get(pitch.freelancer_id)
    name = (freelancer.name if freelancer else "") or f"#{pitch.freelancer_id}"
    text = t("pitch.from", name=name) + "\n" + pitch_view(t, pitch, job)
    await ctx.edit(text, client_buttons(t, pitch))


def client_buttons(t: Translator, pitch: Pitch) -> Keyboard | None:
    """What the job's client gets under a pitch: the my-jobs flow's pitch screen
    ("mj:view_pitch:<id>", with Shortlist / Decline / Hire) and the ranked list
    ("mj:pitches:<job>:1") when that flow is installed; else this flow's read-only view."""
    if ROUTER.find_button(MY_JOBS, "view_pitch") is not None:
        view = button(t.plain("pitch.btn_view"), MY_JOBS.data("view_pitch", pitch.id))
        ranked = button(t.plain("pitch.btn_all"), MY_JOBS.data("pitches", pitch.job_id, 1))
    else:
        view, ranked = button(t.plain("pitch.btn_view"), PREFIX.data("show", pitch.id)), None
    return keyboard(
        view,
        [button(t.plain("pitch.btn_profile"), PROFILE.data("card", pitch.freelancer_id)), ranked],
        block_button(t, pitch.freelancer_id),
    )


@command("pitches", order=80, menu=Menu.FREELANCER, menu_order=40)
async def pitches_command(ctx: Context) -> None:
    await list_pitches(ctx, 1)


async def list_pitches(ctx: Context, page: int) -> None:
    pitches = await queries.my_pitches(ctx.uow, ctx.user.id, limit=LISTED_MAX)
    t = ctx.t
    if not pitches:
        await ctx.edit(
            t("pitch.none"), keyboard(button(t.plain("pitch.btn_browse"), cmd_data("jobs")))
        )
        return
    pages = math.ceil(len(pitches) / PAGE_SIZE)
    page = min(page, pages)
    shown = pitches[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    entries = []
    for pitch in shown:
        job = await ctx.uow.jobs.get(pitch.job_id)
        title = shorten(job.title if job else "?", 40)
        label = f"{t.plain(f'pitch.status.{pitch.status}')} · {title}"
        entries.append([button(label, PREFIX.data("show", pitch.id))])
    quota = await uc.pitch_quota(ctx.uow, ctx.clock, ctx.config, ctx.user.id)
    text = join([t("pitch.list_title", count=len(pitches)), quota_line(t, quota, False)])
    nav_row = pagination_row(
        page,
        pages,
        lambda p: PREFIX.data("list", arg=p),
        prev=t.plain("btn.prev"),
        next_=t.plain("btn.next"),
    )
    await ctx.edit(text, keyboard(*entries, nav_row or None))


async def edit_menu(ctx: Context, pitch_id: int) -> None:
    pitch = await queries.own_pitch(ctx.uow, ctx.user.id, pitch_id)
    if not editable(pitch):
        ctx.answer(ctx.t.plain("pitch.not_editable"), alert=True)
        return
    job = await ctx.uow.jobs.get(pitch.job_id)
    t = ctx.t
    fields = [
        button(t.plain(f"pitch.btn_fix_{f}"), PREFIX.data("edit_field", pitch.id, f))
        for f in FIELDS
        if f != "ms" or (job is not None and job.budget_type != "hourly")
    ]
    await ctx.edit(
        t("pitch.edit_what"),
        keyboard(
            fields[:2],
            fields[2:],
            button(t.plain("pitch.btn_back"), PREFIX.data("show", pitch.id)),
        ),
    )


async def edit_field(ctx: Context, pitch_id: int, field: str | None) -> None:
    if field not in FIELDS:
        raise StaleButton()
    pitch = await queries.own_pitch(ctx.uow, ctx.user.id, pitch_id)
    if not editable(pitch):
        ctx.answer(ctx.t.plain("pitch.not_editable"), alert=True)
        return
    data = {
        "mode": "edit",
        "pitch_id": pitch.id,
        "job_id": pitch.job_id,
        "price": pitch.price,
        # The proposed milestones, to change or remove one by one.
        "ms": [dict(m) for m in pitch.proposed_milestones] if field == "ms" else [],
    }
    await ask(ctx, "ms_title" if field == "ms" else field, data)


async def ask_withdraw(ctx: Context, pitch_id: int) -> None:
    pitch = await queries.own_pitch(ctx.uow, ctx.user.id, pitch_id)
    if not withdrawable(pitch):
        ctx.answer(ctx.t.plain("pitch.not_editable"), alert=True)
        return
    t = ctx.t
    await ctx.edit(
        t("pitch.withdraw_confirm"),
        keyboard(
            [
                button(
                    t.plain("pitch.btn_withdraw_yes"), PREFIX.data("confirm_withdraw", pitch.id)
                ),
                button(t.plain("pitch.btn_keep"), PREFIX.data("show", pitch.id)),
            ]
        ),
    )


async def withdraw(ctx: Context, pitch_id: int) -> None:
    if not withdrawable(await queries.own_pitch(ctx.uow, ctx.user.id, pitch_id)):
        raise NotAllowed("pitch_not_pending", "This pitch was withdrawn or declined.")
    pitch = await uc.withdraw_pitch(ctx.uow, ctx.clock, ctx.user.id, pitch_id)
    await ctx.edit(ctx.t("pitch.withdrawn"), own_buttons(ctx, pitch))


# --- notifications to the client ----------------------------------------------------------


async def _notify_client(scope: Scope, event: PitchEvent, key: str, with_buttons: bool) -> None:
    pitch = await scope.uow.pitches.get(event.pitch_id)
    job = await scope.uow.jobs.get(event.job_id)
    if pitch is None or job is None:
        return
    freelancer = await scope.uow.users.get(pitch.freelancer_id)
    name = (freelancer.name if freelancer else "") or f"#{pitch.freelancer_id}"
    hourly = job.budget_type == "hourly"

    def buttons(t: Translator) -> Keyboard | None:
        return client_buttons(t, pitch) if with_buttons else None

    t_client = await scope.translator_for(job.client_id)
    text = t_client(
        key,
        name=name,
        title=job.title,
        price=price_text(t_client, pitch.price, pitch.currency, hourly),
        days=pitch.duration_days or "—",
    )
    if with_buttons:  # a pitch to consider: whom it is from (handlers/track_record.py)
        record = await track_record.freelancer_of(scope.uow, scope.clock, pitch.freelancer_id)
        text = text + Html("\n") + track_record.freelancer_record(t_client, record)
    await scope.notify(job.client_id, text=text, buttons=buttons)


@renders(PitchReceived)
async def pitch_received(scope: Scope, event: PitchReceived) -> None:
    await _notify_client(scope, event, "pitch.notify_new", True)


@renders(PitchEdited)
async def pitch_edited(scope: Scope, event: PitchEdited) -> None:
    await _notify_client(scope, event, "pitch.notify_edited", True)


@renders(PitchWithdrawn)
async def pitch_withdrawn(scope: Scope, event: PitchWithdrawn) -> None:
    await _notify_client(scope, event, "pitch.notify_withdrawn", False)
