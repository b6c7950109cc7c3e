"""Job alerts (/alerts, menu "Alerts"): subscribe by category, skills, keywords and
minimum budget (a wizard with buttons and Skip), instant or daily digest; pause,
resume, switch mode, delete; alerts arrive as job cards with Pitch and Not interested.

Callback data (prefix "al"):

    al:list                   my alerts
    al:new                    start the wizard
    al:view:<sub_id>          one alert with its actions
    al:pause:<sub_id> / al:resume:<sub_id>
    al:mode:<sub_id>:<instant|daily>
    al:del:<sub_id> (asks) / al:dely:<sub_id>
    al:no:<job_id>            "Not interested": dismiss the job (no more alerts or browse results)

Wizard-internal (only inside the alerts conversation):
    al:c::<category>  toggle a category      al:skc::<category>  its skills
    al:s::<skill>     toggle a skill         al:next / al:back / al:skip / al:cancel
    al:m::<instant|daily>  choose the mode and create the alert
"""

from __future__ import annotations

from typing import Any

from domain import taxonomy
from domain.entities import AlertSubscription
from domain.events import JobAlert, JobDigest
from domain.money import parse_money
from domain.usecases import alerts as uc
from domain.usecases import jobs
from domain.usecases.alerts import SubscriptionFields
from handlers.callbacks import StaleButton, encode
from handlers.context import BULK, Context, Scope
from handlers.events import Keyboard
from handlers.flows.pitch import new_pitch_data
from handlers.i18n import Translator
from handlers.notify import renders
from handlers.render import Html, button, job_card, join, keyboard, money, rows, shorten
from handlers.routing import Menu, Steps, command, step
from handlers.routing import button as on_button
from handlers.taxonomy_names import category_name, skill_name, skill_names

PREFIX = "al"


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
    entries = [button(label(t, s), encode(PREFIX, "view", s.id)) for s in subs]
    new = (
        button(t.plain("alerts.btn_new"), encode(PREFIX, "new"))
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
        button(t.plain("alerts.btn_resume"), encode(PREFIX, "resume", sub.id))
        if sub.paused
        else button(t.plain("alerts.btn_pause"), encode(PREFIX, "pause", sub.id))
    )
    other = "daily" if sub.mode == "instant" else "instant"
    switch = button(t.plain(f"alerts.btn_to_{other}"), encode(PREFIX, "mode", sub.id, other))
    await ctx.edit(
        text,
        keyboard(
            [pause, switch],
            button(t.plain("alerts.btn_delete"), encode(PREFIX, "del", sub.id)),
            button(t.plain("alerts.btn_list"), encode(PREFIX, "list")),
        ),
    )


# --- the wizard --------------------------------------------------------------------


def _nav(t: Translator, back: bool, skip: bool, next_: bool = False) -> list[dict[str, str]]:
    return [
        b
        for b in (
            button(t.plain("alerts.btn_back"), encode(PREFIX, "back")) if back else None,
            button(t.plain("alerts.btn_skip"), encode(PREFIX, "skip")) if skip else None,
            button(t.plain("alerts.btn_next"), encode(PREFIX, "next")) if next_ else None,
        )
        if b
    ]


def _cancel(t: Translator) -> dict[str, str]:
    return button(t.plain("btn.cancel"), encode(PREFIX, "cancel"))


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
                encode(PREFIX, "c", arg=c.slug),
            )
            for c in taxonomy.CATEGORIES
        ]
        text = t("alerts.ask_cats")
        kb = keyboard(*rows(toggles, 2), _nav(t, False, not chosen, bool(chosen)), _cancel(t))
    elif step_name == "skills":
        chosen = data.get("skills") or []
        names = skill_names(t, chosen) or t.plain("alerts.any")
        cats = data.get("cats") or [c.slug for c in taxonomy.CATEGORIES]
        browse = [button(category_name(t, c), encode(PREFIX, "skc", arg=c)) for c in cats]
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
                button(t.plain("alerts.mode.instant"), encode(PREFIX, "m", arg="instant")),
                button(t.plain("alerts.mode.daily"), encode(PREFIX, "m", arg="daily")),
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
            encode(PREFIX, "s", arg=s.slug),
        )
        for s in category.skills
    ]
    await ctx.edit(
        t("alerts.pick_skills", category=category_name(t, category.slug)),
        keyboard(
            *rows(toggles, 2),
            button(t.plain("alerts.btn_back"), encode(PREFIX, "back")),
        ),
    )


def _toggle(items: list[str], value: str) -> list[str]:
    return [x for x in items if x != value] if value in items else [*items, value]


async def wizard_button(ctx: Context, action: str, arg: str | None) -> None:
    state = ctx.state
    if state is None or state.flow != AlertsStep.flow:
        raise StaleButton()
    d = ctx.data
    at = state.step
    index = STEPS.index(at) if at in STEPS else -1
    if action == "c" and at == "cats" and taxonomy.is_known_category(arg or ""):
        cats = _toggle(list(d.get("cats") or []), arg or "")
        await ask(ctx, "cats", d | {"cats": cats})
    elif action == "skc" and at == "skills" and taxonomy.is_known_category(arg or ""):
        await ctx.set_state(AlertsStep.SKILLS_CAT, d | {"_cat": arg})
        await skills_of_category(ctx, arg)
    elif action == "s" and at == "skills_cat" and taxonomy.category_of(arg or "") == d.get("_cat"):
        skills = jobs.clean_skills(_toggle(list(d.get("skills") or []), arg or ""))
        await ctx.set_state(AlertsStep.SKILLS_CAT, d | {"skills": skills})
        await skills_of_category(ctx, d.get("_cat"))
    elif action == "back" and at == "skills_cat":
        await ask(ctx, "skills", d)
    elif action == "back" and index > 0:
        await ask(ctx, STEPS[index - 1], d)
    elif action in ("next", "skip") and at in ("cats", "skills", "keywords", "budget"):
        cleared = {"cats": "cats", "skills": "skills", "keywords": "kw", "budget": "min"}[at]
        data = d if action == "next" else d | {cleared: [] if cleared != "min" else 0}
        await ask(ctx, STEPS[index + 1], data)
    elif action == "m" and at == "mode" and arg in uc.MODES:
        fields = SubscriptionFields(
            categories=d.get("cats") or [],
            skills=d.get("skills") or [],
            keywords=d.get("kw") or [],
            min_budget=int(d.get("min") or 0),
            mode=arg,
        )
        sub = await uc.create_subscription(ctx.uow, ctx.clock, ctx.user.id, fields)
        await ctx.clear_state()
        ctx.answer(ctx.t.plain("alerts.created_short"))
        await show_one(ctx, sub, ctx.t("alerts.created"))
    else:
        raise StaleButton()


@step(AlertsStep.KEYWORDS)
async def keywords_step(ctx: Context) -> None:
    words = uc.parse_keywords(ctx.text)
    await ask(ctx, "budget", ctx.data | {"kw": words}, new_message=True)


@step(AlertsStep.BUDGET)
async def budget_step(ctx: Context) -> None:
    amount = parse_money(ctx.text, ctx.config.currency).amount
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


@on_button(PREFIX)
async def alert_buttons(ctx: Context) -> None:
    cb = ctx.callback
    assert cb is not None
    action = cb.action
    args = (ctx.uow, ctx.clock)
    if action == "list":
        await show_list(ctx)
    elif action == "new":
        subs = await uc.list_subscriptions(ctx.uow, ctx.user.id)
        if len(subs) >= uc.MAX_SUBSCRIPTIONS:
            max_ = uc.MAX_SUBSCRIPTIONS
            ctx.answer(ctx.t.plain("error.subscriptions_too_many", max=max_), alert=True)
            return
        await ask(ctx, "cats", {"cats": [], "skills": [], "kw": [], "min": 0})
    elif action == "view":
        await show_one(ctx, await uc.own_subscription(ctx.uow, ctx.user.id, cb.require_id()))
    elif action in ("pause", "resume"):
        await pause_or_resume(ctx, cb.require_id(), action == "pause")
    elif action == "mode" and cb.arg in uc.MODES:
        sub = await uc.own_subscription(ctx.uow, ctx.user.id, cb.require_id())
        fields = SubscriptionFields(
            sub.categories, sub.skills, sub.keywords, sub.min_budget, mode=cb.arg
        )
        sub = await uc.update_subscription(*args, ctx.user.id, cb.require_id(), fields)
        await show_one(ctx, sub)
    elif action == "del":
        sub = await uc.own_subscription(ctx.uow, ctx.user.id, cb.require_id())
        t = ctx.t
        await ctx.edit(
            t("alerts.delete_confirm") + "\n" + describe(t, ctx.config.currency, as_draft(sub)),
            keyboard(
                [
                    button(t.plain("alerts.btn_delete_yes"), encode(PREFIX, "dely", sub.id)),
                    button(t.plain("alerts.btn_keep"), encode(PREFIX, "view", sub.id)),
                ]
            ),
        )
    elif action == "dely":
        await uc.delete_subscription(*args, ctx.user.id, cb.require_id())
        ctx.answer(ctx.t.plain("alerts.deleted"))
        await show_list(ctx)
    elif action == "no":
        job_id = cb.require_id()
        await jobs.dismiss_job(ctx.uow, ctx.clock, ctx.config, ctx.user.id, job_id)
        ctx.answer(ctx.t.plain("alerts.dismissed_short"))
        await ctx.edit(ctx.t("alerts.dismissed"))
    elif action == "cancel":
        if ctx.in_step(AlertsStep):
            await ctx.clear_state()
        await ctx.edit(ctx.t("alerts.cancelled"))
    else:
        await wizard_button(ctx, action, cb.arg)


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
            button(t.plain("btn.pitch"), new_pitch_data(job_id)),
            button(t.plain("alerts.btn_not_interested"), encode(PREFIX, "no", job_id)),
        ]
    )


@renders(JobAlert)
async def job_alert(scope: Scope, event: JobAlert) -> None:
    """An instant alert: the job's card with Pitch and Not interested (bulk priority)."""
    user_id, job_id = event.user_id, event.job_id
    job = await scope.uow.jobs.get(job_id)
    if job is None or job.status != "open":
        return
    if await scope.uow.dismissals.count(user_id=user_id, job_id=job_id):
        return
    t = await scope.translator_for(user_id)
    text = t("alerts.new_job") + "\n\n" + job_card(job, t, full=False)
    await scope.notify(user_id, text=text, buttons=alert_buttons_for(t, job_id), priority=BULK)


@renders(JobDigest)
async def job_digest(scope: Scope, event: JobDigest) -> None:
    """The daily digest: one message listing the jobs, a button for each."""
    user_id = event.user_id
    t = await scope.translator_for(user_id)
    lines = [t("alerts.digest_title")]
    entries = []
    for k, job_id in enumerate(event.job_ids or [], start=1):
        job = await scope.uow.jobs.get(job_id)
        if job is None or job.status != "open":
            continue
        budget = money(job.budget, job.currency)
        if job.budget_type == "hourly":
            budget = t.plain("alerts.per_hour", amount=budget)
        lines.append(t("alerts.digest_line", n=k, title=shorten(job.title, 80), budget=budget))
        entries.append(button(f"{k}. {shorten(job.title, 40)}", encode("open", "job", job_id)))
    if not entries:
        return
    manage = button(t.plain("alerts.btn_manage"), encode(PREFIX, "list"))
    await scope.notify(
        user_id, text=join(lines), buttons=keyboard(*rows(entries, 1), manage), priority=BULK
    )
