"""Job alerts (/alerts, menu "Alerts"): subscribe by category, skills, keywords and
minimum budget (a wizard with buttons and Skip), instant or daily digest; pause,
resume, switch mode, delete; alerts arrive as job cards with Pitch and Not interested.

Callback data (prefix "al"; the old codes in brackets still work):

    al:list                          my alerts
    al:new_alert                     start the wizard [new]
    al:view:<sub_id>                 one alert with its actions
    al:pause:<sub_id> / al:resume:<sub_id>
    al:switch_mode:<sub_id>:<instant|daily>   [mode]
    al:delete:<sub_id> (asks) [del] / al:confirm_delete:<sub_id> [dely]
    al:not_interested:<job_id>       dismiss the job (no more alerts or browse results) [no]

Wizard-internal (only inside the alerts conversation):
    al:toggle_category::<category> [c]     al:category_skills::<category>  its skills [skc]
    al:toggle_skill::<skill> [s]           al:next / al:back / al:skip / al:cancel
    al:choose_mode::<instant|daily>  choose the mode and create the alert [m]
"""

from __future__ import annotations

from typing import Any

from domain import taxonomy
from domain.entities import AlertSubscription
from domain.events import JobAlert, JobDigest
from domain.money import parse_money
from domain.ports import UnitOfWork
from domain.usecases import alerts as uc
from domain.usecases import jobs
from domain.usecases.alerts import SubscriptionFields
from handlers import track_record
from handlers.callbacks import StaleButton
from handlers.context import BULK, Context, Scope
from handlers.events import Keyboard
from handlers.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator, translator
from handlers.notify import renders
from handlers.prefixes import OPEN, PITCH
from handlers.render import (
    Html,
    button,
    job_card,
    join,
    keyboard,
    money,
    rows,
    shorten,
    split_message,
)
from handlers.routing import Buttons, Menu, Steps, command, step
from handlers.taxonomy_names import category_name, skill_name, skill_names

PREFIX = Buttons("al")


class AlertsStep(Steps, flow="alerts"):
    """Setting up job alerts, step by step (the values are stored: never change one)."""

    CATS = "cats"
    SKILLS = "skills"
    SKILLS_CAT = "skills_cat"
    KEYWORDS = "keywords"
    BUDGET = "budget"
    MODE = "mode"


STEPS = ("cats", "skills", "keywords", "budget", "mode")


# --- describing a subscription ----------------------------------------------------


def describe(t: Translator, currency: str, sub: dict[str, Any]) -> Html:
    """The filters of a subscription (or a wizard draft) as lines."""
    any_ = t.plain("alerts.any")
    cats = ", ".join(category_name(t, c) for c in sub.get("cats") or []) or any_
    skills = skill_names(t, sub.get("skills") or []) or any_
    keywords = ", ".join(sub.get("kw") or []) or any_
    budget = money(sub["min"], currency) if sub.get("min") else any_
    lines = [
        t("alerts.f_categories", value=cats),
        t("alerts.f_skills", value=skills),
        t("alerts.f_keywords", value=keywords),
        t("alerts.f_budget", value=budget),
    ]
    if sub.get("mode"):
        lines.append(t("alerts.f_mode", value=t.plain(f"alerts.mode.{sub['mode']}")))
    return join(lines)


def as_draft(sub: AlertSubscription) -> dict[str, Any]:
    return {
        "cats": sub.categories,
        "skills": sub.skills,
        "kw": sub.keywords,
        "min": sub.min_budget,
        "mode": sub.mode,
    }


def label(t: Translator, sub: AlertSubscription) -> str:
    parts = [category_name(t, c) for c in sub.categories]
    parts += [skill_name(t, s) for s in sub.skills] + list(sub.keywords)
    name = shorten(", ".join(parts), 36) if parts else t.plain("alerts.all_jobs")
    state = "⏸" if sub.paused else ("🔔" if sub.mode == "instant" else "🗓")
    return f"{state} {name}"


# --- list and one alert --------------------------------------------------------------


@command("alerts", order=100, menu=Menu.FREELANCER, menu_order=60)
async def alerts_command(ctx: Context) -> None:
    await show_list(ctx)


async def show_list(ctx: Context) -> None:
    subs = await uc.list_subscriptions(ctx.uow, ctx.user.id)
    t = ctx.t
    entries = [button(label(t, s), PREFIX.data("view", s.id)) for s in subs]
    new = (
        button(t.plain("alerts.btn_new"), PREFIX.data("new_alert"))
        if len(subs) < uc.MAX_SUBSCRIPTIONS
        else None
    )
    text = (
        t("alerts.list_title", count=len(subs))
        + "\n"
        + t("alerts.list_hint" if subs else "alerts.list_empty")
    )
    await ctx.edit(text, keyboard(*rows(entries, 1), new))


async def show_one(ctx: Context, sub: AlertSubscription, header: Html | None = None) -> None:
    t = ctx.t
    status = t("alerts.paused") if sub.paused else t("alerts.active")
    lines = [t("alerts.one_title"), status, describe(t, ctx.config.currency, as_draft(sub))]
    text = join([header, *lines] if header else lines)
    pause = (
        button(t.plain("alerts.btn_resume"), PREFIX.data("resume", sub.id))
        if sub.paused
        else button(t.plain("alerts.btn_pause"), PREFIX.data("pause", sub.id))
    )
    other = "daily" if sub.mode == "instant" else "instant"
    switch = button(t.plain(f"alerts.btn_to_{other}"), PREFIX.data("switch_mode", sub.id, other))
    await ctx.edit(
        text,
        keyboard(
            [pause, switch],
            button(t.plain("alerts.btn_delete"), PREFIX.data("delete", sub.id)),
            button(t.plain("alerts.btn_list"), PREFIX.data("list")),
        ),
    )


# --- the wizard --------------------------------------------------------------------


def _nav(t: Translator, back: bool, skip: bool, next_: bool = False) -> list[dict[str, str]]:
    return [
        b
        for b in (
            button(t.plain("alerts.btn_back"), PREFIX.data("back")) if back else None,
            button(t.plain("alerts.btn_skip"), PREFIX.data("skip")) if skip else None,
            button(t.plain("alerts.btn_next"), PREFIX.data("next")) if next_ else None,
        )
        if b
    ]


def _cancel(t: Translator) -> dict[str, str]:
    return button(t.plain("btn.cancel"), PREFIX.data("cancel"))


async def ask(
    ctx: Context, step_name: str, data: dict[str, Any], new_message: bool = False
) -> None:
    await ctx.set_state(AlertsStep(step_name), data)
    t = ctx.t
    kb: Keyboard | None
    if step_name == "cats":
        chosen = set(data.get("cats") or [])
        toggles = [
            button(
                ("✓ " if c.slug in chosen else "") + category_name(t, c.slug),
                PREFIX.data("toggle_category", arg=c.slug),
            )
            for c in taxonomy.CATEGORIES
        ]
        text = t("alerts.ask_cats")
        kb = keyboard(*rows(toggles, 2), _nav(t, False, not chosen, bool(chosen)), _cancel(t))
    elif step_name == "skills":
        chosen = data.get("skills") or []
        names = skill_names(t, chosen) or t.plain("alerts.any")
        cats = data.get("cats") or [c.slug for c in taxonomy.CATEGORIES]
        browse = [button(category_name(t, c), PREFIX.data("category_skills", arg=c)) for c in cats]
        text = t("alerts.ask_skills", skills=names)
        kb = keyboard(*rows(browse, 2), _nav(t, True, not chosen, bool(chosen)), _cancel(t))
    elif step_name == "keywords":
        text = t("alerts.ask_keywords", max=uc.MAX_KEYWORDS)
        kb = keyboard(_nav(t, True, True), _cancel(t))
    elif step_name == "budget":
        text = t("alerts.ask_budget", currency=ctx.config.currency)
        kb = keyboard(_nav(t, True, True), _cancel(t))
    elif step_name == "mode":
        text = join([t("alerts.ask_mode"), describe(t, ctx.config.currency, data)])
        kb = keyboard(
            [
                button(t.plain("alerts.mode.instant"), PREFIX.data("choose_mode", arg="instant")),
                button(t.plain("alerts.mode.daily"), PREFIX.data("choose_mode", arg="daily")),
            ],
            _nav(t, True, False),
            _cancel(t),
        )
    else:
        raise StaleButton()
    await (ctx.reply(text, kb) if new_message else ctx.edit(text, kb))


async def skills_of_category(ctx: Context, slug: str | None) -> None:
    category = taxonomy.category(slug or "")
    if category is None:
        raise StaleButton()
    t = ctx.t
    chosen = set(ctx.data.get("skills") or [])
    toggles = [
        button(
            ("✓ " if s.slug in chosen else "") + skill_name(t, s.slug),
            PREFIX.data("toggle_skill", arg=s.slug),
        )
        for s in category.skills
    ]
    await ctx.edit(
        t("alerts.pick_skills", category=category_name(t, category.slug)),
        keyboard(
            *rows(toggles, 2),
            button(t.plain("alerts.btn_back"), PREFIX.data("back")),
        ),
    )


def _toggle(items: list[str], value: str) -> list[str]:
    return [x for x in items if x != value] if value in items else [*items, value]


def _wizard(ctx: Context, *steps: str) -> dict[str, Any]:
    """The draft, while the alerts conversation is at one of `steps`; else the button
    is no longer available."""
    state = ctx.state
    if state is None or state.flow != AlertsStep.flow or state.step not in steps:
        raise StaleButton()
    return ctx.data


def _arg(ctx: Context) -> str:
    return (ctx.callback.arg if ctx.callback else None) or ""


@PREFIX.on("toggle_category", old=("c",))
async def toggle_category_pressed(ctx: Context) -> None:
    d, slug = _wizard(ctx, "cats"), _arg(ctx)
    if not taxonomy.is_known_category(slug):
        raise StaleButton()
    await ask(ctx, "cats", d | {"cats": _toggle(list(d.get("cats") or []), slug)})


@PREFIX.on("category_skills", old=("skc",))
async def category_skills_pressed(ctx: Context) -> None:
    d, slug = _wizard(ctx, "skills"), _arg(ctx)
    if not taxonomy.is_known_category(slug):
        raise StaleButton()
    await ctx.set_state(AlertsStep.SKILLS_CAT, d | {"_cat": slug})
    await skills_of_category(ctx, slug)


@PREFIX.on("toggle_skill", old=("s",))
async def toggle_skill_pressed(ctx: Context) -> None:
    d, slug = _wizard(ctx, "skills_cat"), _arg(ctx)
    if taxonomy.category_of(slug) != d.get("_cat"):
        raise StaleButton()
    skills = jobs.clean_skills(_toggle(list(d.get("skills") or []), slug))
    await ctx.set_state(AlertsStep.SKILLS_CAT, d | {"skills": skills})
    await skills_of_category(ctx, d.get("_cat"))


@PREFIX.on("back")
async def back_pressed(ctx: Context) -> None:
    d = _wizard(ctx, "skills_cat", *STEPS[1:])
    assert ctx.state is not None
    at = ctx.state.step
    await ask(ctx, "skills" if at == "skills_cat" else STEPS[STEPS.index(at) - 1], d)


async def _forward(ctx: Context, skip: bool) -> None:
    """Next (keep what was chosen) or Skip (clear it) at a step before the mode."""
    d = _wizard(ctx, "cats", "skills", "keywords", "budget")
    assert ctx.state is not None
    at = ctx.state.step
    cleared = {"cats": "cats", "skills": "skills", "keywords": "kw", "budget": "min"}[at]
    data = d | {cleared: [] if cleared != "min" else 0} if skip else d
    await ask(ctx, STEPS[STEPS.index(at) + 1], data)


@PREFIX.on("next")
async def next_pressed(ctx: Context) -> None:
    await _forward(ctx, skip=False)


@PREFIX.on("skip")
async def skip_pressed(ctx: Context) -> None:
    await _forward(ctx, skip=True)


@PREFIX.on("choose_mode", old=("m",))
async def choose_mode_pressed(ctx: Context) -> None:
    d, mode = _wizard(ctx, "mode"), _arg(ctx)
    if mode not in uc.MODES:
        raise StaleButton()
    fields = SubscriptionFields(
        categories=d.get("cats") or [],
        skills=d.get("skills") or [],
        keywords=d.get("kw") or [],
        min_budget=int(d.get("min") or 0),
        mode=mode,
    )
    sub = await uc.create_subscription(ctx.uow, ctx.clock, ctx.user.id, fields)
    await ctx.clear_state()
    ctx.answer(ctx.t.plain("alerts.created_short"))
    await show_one(ctx, sub, ctx.t("alerts.created"))


@step(AlertsStep.KEYWORDS)
async def keywords_step(ctx: Context) -> None:
    words = uc.parse_keywords(ctx.text)
    await ask(ctx, "budget", ctx.data | {"kw": words}, new_message=True)


@step(AlertsStep.BUDGET)
async def budget_step(ctx: Context) -> None:
    amount = parse_money(ctx.text, ctx.config.currency, "min_budget").amount
    await ask(ctx, "mode", ctx.data | {"min": amount}, new_message=True)


@step(AlertsStep.CATS)
@step(AlertsStep.SKILLS)
@step(AlertsStep.SKILLS_CAT)
@step(AlertsStep.MODE)
async def buttons_only(ctx: Context) -> None:
    await ctx.reply(ctx.t("alerts.use_buttons"))
    state = ctx.state
    assert state is not None
    step_name = "skills" if state.step == "skills_cat" else state.step
    await ask(ctx, step_name, ctx.data, new_message=True)


# --- buttons -----------------------------------------------------------------------------


def _id(ctx: Context) -> int:
    assert ctx.callback is not None
    return ctx.callback.require_id()


@PREFIX.on("list")
async def list_pressed(ctx: Context) -> None:
    await show_list(ctx)


@PREFIX.on("new_alert", old=("new",))
async def new_alert_pressed(ctx: Context) -> None:
    subs = await uc.list_subscriptions(ctx.uow, ctx.user.id)
    if len(subs) >= uc.MAX_SUBSCRIPTIONS:
        max_ = uc.MAX_SUBSCRIPTIONS
        ctx.answer(ctx.t.plain("error.subscriptions_too_many", max=max_), alert=True)
        return
    await ask(ctx, "cats", {"cats": [], "skills": [], "kw": [], "min": 0})


@PREFIX.on("view")
async def view_pressed(ctx: Context) -> None:
    await show_one(ctx, await uc.own_subscription(ctx.uow, ctx.user.id, _id(ctx)))


@PREFIX.on("pause")
async def pause_pressed(ctx: Context) -> None:
    await pause_or_resume(ctx, _id(ctx), pause=True)


@PREFIX.on("resume")
async def resume_pressed(ctx: Context) -> None:
    await pause_or_resume(ctx, _id(ctx), pause=False)


@PREFIX.on("switch_mode", old=("mode",))
async def switch_mode_pressed(ctx: Context) -> None:
    mode = _arg(ctx)
    if mode not in uc.MODES:
        raise StaleButton()
    sub = await uc.own_subscription(ctx.uow, ctx.user.id, _id(ctx))
    fields = SubscriptionFields(sub.categories, sub.skills, sub.keywords, sub.min_budget, mode=mode)
    sub = await uc.update_subscription(ctx.uow, ctx.clock, ctx.user.id, _id(ctx), fields)
    await show_one(ctx, sub)


@PREFIX.on("delete", old=("del",))
async def delete_pressed(ctx: Context) -> None:
    sub = await uc.own_subscription(ctx.uow, ctx.user.id, _id(ctx))
    t = ctx.t
    await ctx.edit(
        t("alerts.delete_confirm") + "\n" + describe(t, ctx.config.currency, as_draft(sub)),
        keyboard(
            [
                button(t.plain("alerts.btn_delete_yes"), PREFIX.data("confirm_delete", sub.id)),
                button(t.plain("alerts.btn_keep"), PREFIX.data("view", sub.id)),
            ]
        ),
    )


@PREFIX.on("confirm_delete", old=("dely",))
async def confirm_delete_pressed(ctx: Context) -> None:
    await uc.delete_subscription(ctx.uow, ctx.clock, ctx.user.id, _id(ctx))
    ctx.answer(ctx.t.plain("alerts.deleted"))
    await show_list(ctx)


@PREFIX.on("not_interested", old=("no",))
async def not_interested_pressed(ctx: Context) -> None:
    await jobs.dismiss_job(ctx.uow, ctx.clock, ctx.config, ctx.user.id, _id(ctx))
    ctx.answer(ctx.t.plain("alerts.dismissed_short"))
    await ctx.edit(ctx.t("alerts.dismissed"))


@PREFIX.on("cancel")
async def cancel_pressed(ctx: Context) -> None:
    if ctx.in_step(AlertsStep):
        await ctx.clear_state()
    await ctx.edit(ctx.t("alerts.cancelled"))


async def pause_or_resume(ctx: Context, subscription_id: int, pause: bool) -> None:
    sub = await uc.own_subscription(ctx.uow, ctx.user.id, subscription_id)
    if sub.paused == pause:  # a stale button: say so rather than silently redo it
        key = "error.alert_already_paused" if pause else "error.alert_not_paused"
        ctx.answer(ctx.t.plain(key), alert=True)
        return
    sub = await uc.set_subscription_paused(ctx.uow, ctx.clock, ctx.user.id, subscription_id, pause)
    ctx.answer(ctx.t.plain("alerts.done_pause" if pause else "alerts.done_resume"))
    await show_one(ctx, sub)


# --- notifications -------------------------------------------------------------------------


def alert_buttons_for(t: Translator, job_id: int) -> Keyboard | None:
    return keyboard(
        [
            button(t.plain("btn.pitch"), PITCH.data("start", job_id)),
            button(t.plain("alerts.btn_not_interested"), PREFIX.data("not_interested", job_id)),
        ]
    )


async def _alert_card(scope: Scope, job: Any, t: Translator) -> tuple[str, Keyboard | None]:
    client = await track_record.client_of(scope.uow, scope.config, job.client_id)
    text = t("alerts.new_job") + "\n\n" + job_card(job, t, full=False, client=client)
    return text, alert_buttons_for(t, job.id)


async def _alerted(uow: UnitOfWork, event: JobAlert) -> tuple[Any, list[int]]:
    """The job (if still open) and the users the event names, without those who
    said "Not interested" to it."""
    job = await uow.jobs.get(event.job_id)
    if job is None or job.status != "open":
        return None, []
    dismissed = {d.user_id for d in await uow.dismissals.find(order_by="", job_id=event.job_id)}
    return job, sorted(set(event.user_ids) - dismissed)


async def write_alerts_bulk(scope: Scope, job: Any, user_ids: list[int]) -> None:
    """A job's alerts in set-based statements (issue 16, part 4): the card is
    rendered once per language, split as Scope.send splits it, and recorded with
    the recipients as one fan-out by JobSearch.write_alerts; the outbox sender
    expands it into a row per reachable recipient and part (storage/outbox_store.py)."""
    messages: dict[str, list[dict[str, Any]]] = {}
    for lang in LANGUAGES:
        text, buttons = await _alert_card(scope, job, translator(lang))
        parts = split_message(text)
        messages[lang] = [
            {"text": part, "buttons": buttons if k == len(parts) - 1 else None}
            for k, part in enumerate(parts)
        ]
    await scope.uow.search.write_alerts(
        user_ids, messages, DEFAULT_LANGUAGE, priority=BULK, created_at=scope.clock.now()
    )


async def write_alerts_each(scope: Scope, job: Any, user_ids: list[int]) -> None:
    """The same alerts one recipient at a time through Scope.notify (how they were
    written before; the baseline tests/storage/test_alert_fanout.py and
    `python -m bench alerts` compare against)."""
    cards: dict[str, tuple[str, Keyboard | None]] = {}
    for user_id in user_ids:
        t = await scope.translator_for(user_id)
        if t.lang not in cards:  # the same card for everyone of a language
            cards[t.lang] = await _alert_card(scope, job, t)
        text, buttons = cards[t.lang]
        await scope.notify(user_id, text=text, buttons=buttons, priority=BULK)


@renders(JobAlert)
async def job_alert(scope: Scope, event: JobAlert) -> None:
    """A job's instant alerts: its card with Pitch and Not interested (bulk priority),
    rendered once per language, one fan-out record for all its recipients."""
    job, user_ids = await _alerted(scope.uow, event)
    if job is None or not user_ids:
        return
    if isinstance(scope, Context) and scope.event.chat_id in user_ids:
        # The person acting (never a job's own client, so not from publishing):
        # their rows keep ids, for the screen they become (Context._wrote).
        user_ids.remove(scope.event.chat_id)
        await write_alerts_each(scope, job, [scope.event.chat_id])
    await write_alerts_bulk(scope, job, user_ids)


@renders(JobDigest)
async def job_digest(scope: Scope, event: JobDigest) -> None:
    """The daily digest: one message listing the jobs, a button for each."""
    user_id = event.user_id
    t = await scope.translator_for(user_id)
    lines = [t("alerts.digest_title")]
    entries = []
    jobs = [await scope.uow.jobs.get(job_id) for job_id in event.job_ids or []]
    # Every client of the digest in one call (handlers/track_record.py).
    clients = await track_record.clients_of(
        scope.uow, scope.config, [j.client_id for j in jobs if j is not None]
    )
    for k, job in enumerate(jobs, start=1):
        if job is None or job.status != "open":
            continue
        job_id = job.id
        budget = money(job.budget, job.currency)
        if job.budget_type == "hourly":
            budget = t.plain("alerts.per_hour", amount=budget)
        lines.append(t("alerts.digest_line", n=k, title=shorten(job.title, 80), budget=budget))
        lines.append(Html("    ") + track_record.client_brief(t, clients.get(job.client_id)))
        entries.append(button(f"{k}. {shorten(job.title, 40)}", OPEN.data("show_job", job_id)))
    if not entries:
        return
    manage = button(t.plain("alerts.btn_manage"), PREFIX.data("list"))
    await scope.notify(
        user_id, text=join(lines), buttons=keyboard(*rows(entries, 1), manage), priority=BULK
    )
