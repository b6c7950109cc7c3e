"""Browse and search open jobs (/jobs): free text plus filters (category,
minimum budget, fixed / hourly), a page of results at a time; each result
opens the job's card with the pitch flow's "Pitch" button. Jobs the freelancer
marked "Not interested" (an alert's button) are left out.

The search lives in the conversation state ("browse", step): {"q", "cat",
"min" (minor units), "type"}. While browsing, any text is a new search; step
"min" waits for a minimum budget. A command ends the search, and its page
buttons then answer "no longer available".

Callback data (prefix "br"; the old codes in brackets still work):
- "br:show_job:<job id>"        open a job's card [job]
- "br:page::<page>"             a page of the current search, edited in place [pg]
- "br:categories" / "br:category::<slug>|any"     choose a category [cats / cat]
- "br:budget_type::fixed|hourly|any"              budget type [type]
- "br:min_budget" / "br:no_min_budget"  ask for a minimum budget / drop it [min / minx]
- "br:search_text"  how to search by text [q];  "br:reset" all filters off
"""

from __future__ import annotations

from typing import Any

from domain.entities import Job
from domain.errors import NotFound
from domain.money import parse_money
from domain.ports import JOB_COUNT_CAP, JobQuery
from domain.states import JobStatus
from domain.usecases import queries, visibility
from handlers import track_record
from handlers.callbacks import StaleButton
from handlers.context import Context
from handlers.events import Button, Keyboard
from handlers.i18n import Translator
from handlers.paging import fetch_page, page_row, picks_and_pager, pressed_page
from handlers.prefixes import BROWSE as PREFIX
from handlers.prefixes import MY_JOBS, PITCH, REPORT, SAVED
from handlers.render import Html, bold, button, job_card, join, keyboard, money, shorten
from handlers.routing import Menu, Steps, command, step
from handlers.search_views import (
    ask_typed_filter,
    category_rows,
    clean_query,
    count_shown,
    pressed_category,
    results_text,
    searching,
)
from handlers.taxonomy_names import category_name


class BrowseStep(Steps, flow="browse"):
    """Searching jobs, step by step (the values are stored: never change one)."""

    QUERY = "query"
    MIN = "min"


PAGE_SIZE = 5
BUDGET_TYPES = ("fixed", "hourly")


def budget_text(t: Translator, job: Job) -> str:
    amount = money(job.budget, job.currency)
    return t.plain("browse.per_hour", amount=amount) if job.budget_type == "hourly" else amount


# --- the search --------------------------------------------------------------------------


def _filters(ctx: Context) -> dict[str, Any]:
    return ctx.data if ctx.in_step(BrowseStep) else {}


def _query(filters: dict[str, Any], page: int) -> JobQuery:
    return JobQuery(
        text=filters.get("q") or "",
        category=filters.get("cat") or None,
        min_budget=int(filters.get("min") or 0),
        budget_type=filters.get("type") or None,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )


def _summary(ctx: Context, filters: dict[str, Any]) -> Html:
    t = ctx.t
    parts: list[Html] = []
    if filters.get("q"):
        parts.append(t("browse.f_text", text=shorten(filters["q"], 60)))
    if filters.get("cat"):
        parts.append(t("browse.f_category", category=category_name(t, filters["cat"])))
    if filters.get("min"):
        parts.append(t("browse.f_min", amount=money(int(filters["min"]), ctx.config.currency)))
    if filters.get("type"):
        parts.append(t(f"browse.f_type_{filters['type']}"))
    return join(parts, " · ") if parts else t("browse.f_none")


async def show_results(ctx: Context, filters: dict[str, Any], page: int = 1) -> None:
    """One page of open jobs for the filters; edits the pressed message in place."""
    await ctx.set_state(BrowseStep.QUERY, filters)
    jobs, total, page, pages = await fetch_page(
        lambda p: queries.browse_jobs(ctx.uow, ctx.user.id, _query(filters, p)), page, PAGE_SIZE
    )
    t = ctx.t
    start = (page - 1) * PAGE_SIZE
    lines: list[Html] = []
    picks: list[Button] = []
    # The page's clients in one call, not one per job.
    clients = await track_record.clients_of(ctx.uow, ctx.config, [j.client_id for j in jobs])
    for n, job in enumerate(jobs, start=start + 1):
        assert job.id is not None
        lines.append(
            Html(f"{n}. ")
            + bold(shorten(job.title, 80))
            + Html(" — ")
            + budget_text(t, job)
            + (Html(" · ") + category_name(t, job.category) if job.category else Html(""))
            + Html("\n    ")
            + track_record.client_brief(t, clients.get(job.client_id))
        )
        picks.append(button(f"{n}. {shorten(job.title, 40)}", PREFIX.data("show_job", job.id)))
    shown = count_shown(total, JOB_COUNT_CAP, ctx.user.language)
    text = results_text(
        t("browse.title", total=shown),
        _summary(ctx, filters),
        lines,
        t("browse.nothing"),
        t("browse.hint"),
    )
    pager = page_row(t, page, pages, lambda p: PREFIX.data("page", arg=p))
    await ctx.edit(text, picks_and_pager(picks, pager, _filter_rows(t)))


def _filter_rows(t: Translator) -> Keyboard:
    return [
        [
            button(t.plain("browse.btn.text"), PREFIX.data("search_text")),
            button(t.plain("browse.btn.category"), PREFIX.data("categories")),
        ],
        [
            button(t.plain("browse.btn.min"), PREFIX.data("min_budget")),
            button(t.plain("browse.btn.fixed"), PREFIX.data("budget_type", arg="fixed")),
            button(t.plain("browse.btn.hourly"), PREFIX.data("budget_type", arg="hourly")),
        ],
        [button(t.plain("browse.btn.reset"), PREFIX.data("reset"))],
    ]


# --- entry points -------------------------------------------------------------------------


@command("jobs", order=50, menu=Menu.FREELANCER, menu_order=30, read_only=True)
async def jobs(ctx: Context) -> None:
    """/jobs [words]: open jobs, newest first (or matching the words)."""
    filters = {"q": clean_query(ctx.args)} if ctx.args.strip() else {}
    await show_results(ctx, filters)


@step(BrowseStep.QUERY, read_only=True)
async def search_text(ctx: Context) -> None:
    q = clean_query(ctx.text)
    if not q:
        await ctx.reply(ctx.t("browse.ask_text"))
        return
    filters = _filters(ctx) | {"q": q}
    await show_results(ctx, filters)


@step(BrowseStep.MIN)
async def min_budget(ctx: Context) -> None:
    amount = parse_money(ctx.text, ctx.config.currency, "min_budget").amount
    await show_results(ctx, _filters(ctx) | {"min": amount})


@PREFIX.on("show_job", old=("job",), read_only=True)
async def show_job_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await open_job(ctx, ctx.callback.require_id())
    ctx.answer()


def _searching(ctx: Context) -> dict[str, Any]:
    return searching(ctx, BrowseStep)


@PREFIX.on("page", old=("pg",), read_only=True)
async def page_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    await show_results(ctx, filters, pressed_page(ctx))
    ctx.answer()


@PREFIX.on("categories", old=("cats",))
async def categories_pressed(ctx: Context) -> None:
    _searching(ctx)
    t = ctx.t
    choices = category_rows(
        t, lambda slug: PREFIX.data("category", arg=slug), t.plain("browse.btn.any_category")
    )
    await ctx.edit(t("browse.choose_category"), choices)
    ctx.answer()


@PREFIX.on("category", old=("cat",))
async def category_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    await show_results(ctx, filters | {"cat": pressed_category(ctx)})
    ctx.answer()


@PREFIX.on("budget_type", old=("type",))
async def budget_type_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    kind = ctx.callback.arg if ctx.callback else None
    if kind not in (*BUDGET_TYPES, "any"):
        raise StaleButton()
    same = filters.get("type") == kind
    await show_results(ctx, filters | {"type": None if same or kind == "any" else kind})
    ctx.answer()


@PREFIX.on("min_budget", old=("min",))
async def min_budget_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    t = ctx.t
    await ask_typed_filter(
        ctx,
        BrowseStep.MIN,
        filters,
        t("browse.ask_min", currency=ctx.config.currency),
        [
            button(t.plain("browse.btn.no_min"), PREFIX.data("no_min_budget")),
            button(t.plain("btn.cancel"), PREFIX.data("page", arg=1)),
        ],
    )
    ctx.answer()


@PREFIX.on("no_min_budget", old=("minx",))
async def no_min_budget_pressed(ctx: Context) -> None:
    await show_results(ctx, _searching(ctx) | {"min": 0})
    ctx.answer()


@PREFIX.on("search_text", old=("q",))
async def search_text_pressed(ctx: Context) -> None:
    _searching(ctx)
    await ctx.reply(ctx.t("browse.ask_text"))
    ctx.answer()


@PREFIX.on("reset")
async def reset_pressed(ctx: Context) -> None:
    _searching(ctx)
    await show_results(ctx, {})
    ctx.answer()


async def open_job(ctx: Context, job_id: int) -> None:
    """A job's card with Pitch while it is open (a new message, so the results stay
    above); a job the user may not see gets the answer an unknown id gets."""
    try:
        job = await visibility.visible_job(ctx.uow, ctx.config, ctx.user.id, job_id)
    except NotFound:
        await ctx.reply(ctx.t("job.unavailable"))
        return
    t = ctx.t
    own = job.client_id == ctx.user.id
    assert job.id is not None
    pitch = (
        button(t.plain("btn.pitch"), PITCH.data("start", job.id))
        if not own and job.status == JobStatus.OPEN
        else None
    )
    report = None if own else button(t.plain("btn.report_job"), REPORT.data("job_post", job.id))
    manage = (
        button(t.plain("browse.btn.manage"), MY_JOBS.data("manage_job", job.id)) if own else None
    )
    client = await track_record.client_of(ctx.uow, ctx.config, job.client_id)
    card = job_card(job, t, client=client)
    save = (  # flows/saved.py
        button(t.plain("sv.btn.save_job"), SAVED.data("save_job", job.id))
        if not own and ctx.user.is_freelancer
        else None
    )
    await ctx.reply(card, keyboard([b for b in (pitch, report, manage) if b], save))
