"""Talent search for clients (/talent): full text over headlines, bios and skills,
filters (category, skills, hourly rate, rating, identity verified, available),
ranked by relevance and record (domain/talent.py), a page at a time; each result
opens the profile card with "Invite to a job" and "Message". Inviting an away
freelancer says so first and asks again.

The search lives in the conversation state ("talent", step): {"q", "cat",
"skills", "min", "max" (minor units), "rating" ("4" / "4.5"), "ver", "av"}.
While searching, any text is a new search; step "skills" waits for skills, step
"rate" for a rate range. A command ends the search, and its buttons then answer
"no longer available".

Callback data (prefix "tal"):
- "tal:show:<user>"                    open a freelancer's card with Invite and Message
- "tal:page::<page>"                   a page of the current search, edited in place
- "tal:categories" / "tal:category::<slug>|any"   choose a category
- "tal:ask_skills" / "tal:ask_rate" / "tal:ask_text"  type skills, a rate range, words
- "tal:rating::4|4.5"                  minimum rating (pressed again: off)
- "tal:verified" / "tal:available"     toggle the filter
- "tal:reset"                          all filters off
- "tal:pick_job:<user>:invite|message" the client's open jobs, for inviting or writing
- "tal:invite:<user>:<job>"            invite (an away freelancer: asks first)
- "tal:invite_anyway:<user>:<job>"     invite although away
- "tal:message:<user>:<job>"           write about the job (invites first if needed)
- "tal:message_anyway:<user>:<job>"    the same, although away
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from domain import taxonomy
from domain.talent import TALENT_COUNT_CAP, TalentHit, TalentQuery
from domain.usecases import pitches
from domain.usecases import talent as uc
from domain.usecases.common import client
from handlers.callbacks import StaleButton
from handlers.context import Context
from handlers.events import Button, Keyboard
from handlers.flows.messaging import MessagingStep
from handlers.flows.profile import profile_card
from handlers.i18n import Translator
from handlers.paging import fetch_page, page_row, picks_and_pager, pressed_page
from handlers.prefixes import MESSAGE
from handlers.prefixes import TALENT as PREFIX
from handlers.render import Html, bold, button, esc, join, keyboard, money, rows, shorten
from handlers.routing import Menu, Steps, command, step
from handlers.search_views import (
    category_rows,
    clean_query,
    count_shown,
    mark,
    money_range_shown,
    parse_money_range,
    pressed_category,
    pressed_rating,
    rating_buttons,
    results_text,
    searching,
)
from handlers.talent_views import record_text, state_line
from handlers.taxonomy_names import category_name, skill_names

PAGE_SIZE = 5
MAX_SKILLS = 5
RATINGS = ("4", "4.5")


class TalentStep(Steps, flow="talent"):
    """Searching talent (the values are stored: never change one)."""

    QUERY = "query"
    SKILLS = "skills"
    RATE = "rate"


def _query(filters: dict[str, Any], page: int) -> TalentQuery:
    return TalentQuery(
        text=filters.get("q") or "",
        category=filters.get("cat") or None,
        skills=tuple(filters.get("skills") or ()),
        min_rate=filters.get("min"),
        max_rate=filters.get("max"),
        min_rating=Decimal(filters["rating"]) if filters.get("rating") else None,
        verified=bool(filters.get("ver")),
        available=bool(filters.get("av")),
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )


def _summary(ctx: Context, filters: dict[str, Any]) -> Html:
    t = ctx.t
    parts: list[Html] = []
    if filters.get("q"):
        parts.append(t("talent.f_text", text=shorten(filters["q"], 60)))
    if filters.get("cat"):
        parts.append(t("talent.f_category", category=category_name(t, filters["cat"])))
    if filters.get("skills"):
        parts.append(t("talent.f_skills", skills=skill_names(t, filters["skills"])))
    if shown := money_range_shown(filters, ctx.config.currency):
        parts.append(t("talent.f_rate", low=shown[0], high=shown[1]))
    if filters.get("rating"):
        parts.append(t("talent.f_rating", rating=filters["rating"]))
    if filters.get("ver"):
        parts.append(t("talent.f_verified"))
    if filters.get("av"):
        parts.append(t("talent.f_available"))
    return join(parts, " · ") if parts else t("talent.f_none")


def _line(ctx: Context, n: int, hit: TalentHit) -> Html:
    t = ctx.t
    head = Html(f"{n}. ") + bold(shorten(hit.name or f"#{hit.user_id}", 40))
    if hit.headline:
        head = head + Html(" — ") + esc(shorten(hit.headline, 60))
    facts: list[Html] = []
    if hit.hourly_rate:
        facts.append(t("talent.per_hour", amount=money(hit.hourly_rate, hit.currency)))
    if hit.category:
        facts.append(esc(category_name(t, hit.category)))
    facts.append(record_text(t, hit))
    facts.append(state_line(t, hit.availability, hit.away_until))
    return head + Html("\n    ") + join(facts, " · ")


async def show_results(ctx: Context, filters: dict[str, Any], page: int = 1) -> None:
    """One page of freelancers for the filters; edits the pressed message in place."""
    await ctx.set_state(TalentStep.QUERY, filters)
    hits, total, page, pages = await fetch_page(
        lambda p: uc.search_talent(ctx.uow, ctx.clock, ctx.user.id, _query(filters, p)),
        page,
        PAGE_SIZE,
    )
    t = ctx.t
    start = (page - 1) * PAGE_SIZE
    lines: list[Html] = []
    picks: list[Button] = []
    for n, hit in enumerate(hits, start=start + 1):
        lines.append(_line(ctx, n, hit))
        picks.append(
            button(
                f"{n}. {shorten(hit.name or str(hit.user_id), 40)}",
                PREFIX.data("show", hit.user_id),
            )
        )
    shown = count_shown(total, TALENT_COUNT_CAP, ctx.user.language)
    text = results_text(
        t("talent.title", total=shown),
        _summary(ctx, filters),
        lines,
        t("talent.nothing"),
        t("talent.hint"),
    )
    pager = page_row(t, page, pages, lambda p: PREFIX.data("page", arg=p))
    await ctx.edit(text, picks_and_pager(picks, pager, _filter_rows(t, filters)))


def _filter_rows(t: Translator, filters: dict[str, Any]) -> Keyboard:
    rating = filters.get("rating")
    return [
        [
            button(t.plain("talent.btn.text"), PREFIX.data("ask_text")),
            button(t.plain("talent.btn.category"), PREFIX.data("categories")),
            button(t.plain("talent.btn.skills"), PREFIX.data("ask_skills")),
        ],
        [
            button(t.plain("talent.btn.rate"), PREFIX.data("ask_rate")),
            *rating_buttons(
                RATINGS,
                rating,
                lambda r: t.plain("talent.btn.rating", rating=r),
                lambda r: PREFIX.data("rating", arg=r),
            ),
        ],
        [
            button(
                mark(bool(filters.get("ver")), t.plain("talent.btn.verified")),
                PREFIX.data("verified"),
            ),
            button(
                mark(bool(filters.get("av")), t.plain("talent.btn.available")),
                PREFIX.data("available"),
            ),
        ],
        [button(t.plain("talent.btn.reset"), PREFIX.data("reset"))],
    ]


def _searching(ctx: Context) -> dict[str, Any]:
    return searching(ctx, TalentStep)


# --- entry points --------------------------------------------------------------------------


@command("talent", order=75, menu=Menu.CLIENT, menu_order=25)
async def talent(ctx: Context) -> None:
    """/talent [words]: freelancers, best record first (or best matching the words)."""
    await client(ctx.uow, ctx.user.id)
    filters = {"q": clean_query(ctx.args)} if ctx.args.strip() else {}
    await show_results(ctx, filters)


@step(TalentStep.QUERY)
async def search_text(ctx: Context) -> None:
    q = clean_query(ctx.text)
    if not q:
        await ctx.reply(ctx.t("talent.ask_text"))
        return
    await show_results(ctx, dict(ctx.data) | {"q": q})


@step(TalentStep.SKILLS)
async def skills_typed(ctx: Context) -> None:
    words = [w.strip() for w in re.split(r"[,;\n]", ctx.text) if w.strip()]
    found = [taxonomy.skill_key(w)[:64] for w in words][:MAX_SKILLS]
    await show_results(ctx, dict(ctx.data) | {"skills": found})


@step(TalentStep.RATE)
async def rate_typed(ctx: Context) -> None:
    """ "20-50", "20" (from), "-50" (up to): the hourly rate range."""
    low, high = parse_money_range(ctx.text, ctx.config.currency, "min_rate", "max_rate")
    await show_results(ctx, dict(ctx.data) | {"min": low, "max": high})


# --- filter buttons --------------------------------------------------------------------------


@PREFIX.on("page")
async def page_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    await show_results(ctx, filters, pressed_page(ctx))
    ctx.answer()


@PREFIX.on("categories")
async def categories_pressed(ctx: Context) -> None:
    _searching(ctx)
    t = ctx.t
    choices = category_rows(
        t, lambda slug: PREFIX.data("category", arg=slug), t.plain("talent.btn.any_category")
    )
    await ctx.edit(t("talent.choose_category"), choices)
    ctx.answer()


@PREFIX.on("category")
async def category_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    await show_results(ctx, filters | {"cat": pressed_category(ctx)})
    ctx.answer()


async def _ask(ctx: Context, state: TalentStep, key: str) -> None:
    filters = _searching(ctx)
    await ctx.set_state(state, filters)
    t = ctx.t
    await ctx.reply(
        t(key, currency=ctx.config.currency),
        keyboard(button(t.plain("btn.cancel"), PREFIX.data("page", arg=1))),
    )
    ctx.answer()


@PREFIX.on("ask_skills")
async def ask_skills_pressed(ctx: Context) -> None:
    await _ask(ctx, TalentStep.SKILLS, "talent.ask_skills")


@PREFIX.on("ask_rate")
async def ask_rate_pressed(ctx: Context) -> None:
    await _ask(ctx, TalentStep.RATE, "talent.ask_rate")


@PREFIX.on("ask_text")
async def ask_text_pressed(ctx: Context) -> None:
    _searching(ctx)
    await ctx.reply(ctx.t("talent.ask_text"))
    ctx.answer()


@PREFIX.on("rating")
async def rating_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    await show_results(ctx, filters | {"rating": pressed_rating(ctx, filters, RATINGS)})
    ctx.answer()


@PREFIX.on("verified")
async def verified_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    await show_results(ctx, filters | {"ver": not filters.get("ver")})
    ctx.answer()


@PREFIX.on("available")
async def available_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    await show_results(ctx, filters | {"av": not filters.get("av")})
    ctx.answer()


@PREFIX.on("reset")
async def reset_pressed(ctx: Context) -> None:
    _searching(ctx)
    await show_results(ctx, {})
    ctx.answer()


# --- a freelancer's card, invite and message ------------------------------------------------


def _user(ctx: Context) -> int:
    assert ctx.callback is not None
    return ctx.callback.require_id()


def _job(ctx: Context) -> int:
    arg = ctx.callback.arg if ctx.callback else None
    if not (arg and arg.isdigit()):
        raise StaleButton()
    return int(arg)


@PREFIX.on("show")
async def show_pressed(ctx: Context) -> None:
    await client(ctx.uow, ctx.user.id)
    freelancer_id = _user(ctx)
    text, kb = await profile_card(ctx, freelancer_id, ctx.user.language)
    t = ctx.t
    profile = await ctx.uow.profiles.get(freelancer_id)
    state = uc.availability_of(profile, ctx.clock.now().date())
    text = text + Html("\n") + state_line(t, state, profile.away_until if profile else None)
    actions = [
        button(t.plain("talent.btn.invite"), PREFIX.data("pick_job", freelancer_id, "invite")),
        button(t.plain("talent.btn.message"), PREFIX.data("pick_job", freelancer_id, "message")),
    ]
    await ctx.reply(text, [actions, *(kb or [])])
    ctx.answer()


@PREFIX.on("pick_job")
async def jobs_pressed(ctx: Context) -> None:
    freelancer_id = _user(ctx)
    action = ctx.callback.arg if ctx.callback else None
    if action not in ("invite", "message"):
        raise StaleButton()
    t = ctx.t
    jobs = await uc.open_jobs(ctx.uow, ctx.user.id)
    if not jobs:
        await ctx.reply(t("talent.no_open_jobs"))
        ctx.answer()
        return
    picks = [
        button(shorten(j.title, 50), PREFIX.data(action, freelancer_id, str(j.id))) for j in jobs
    ]
    await ctx.reply(t(f"talent.pick_job_{action}"), rows(picks, 1))
    ctx.answer()


async def _away_first(ctx: Context, freelancer_id: int, job_id: int, action: str) -> bool:
    """When the freelancer is away, say so and ask again (True: asked, stop here)."""
    until = await uc.away_until(ctx.uow, ctx.clock, freelancer_id)
    if until is None:
        return False
    t = ctx.t
    name = (await ctx.uow.users.get(freelancer_id)) or None
    await ctx.reply(
        t(
            "talent.away_warning",
            name=name.name if name else f"#{freelancer_id}",
            date=until.isoformat(),
        ),
        keyboard(
            [
                button(
                    t.plain(f"talent.btn.{action}_anyway"),
                    PREFIX.data(f"{action}_anyway", freelancer_id, str(job_id)),
                ),
                button(t.plain("btn.cancel"), PREFIX.data("show", freelancer_id)),
            ]
        ),
    )
    ctx.answer()
    return True


async def _invite(ctx: Context, freelancer_id: int, job_id: int) -> None:
    await pitches.invite_freelancer(ctx.uow, ctx.clock, ctx.user.id, job_id, freelancer_id)


@PREFIX.on("invite")
async def invite_pressed(ctx: Context) -> None:
    freelancer_id, job_id = _user(ctx), _job(ctx)
    if await _away_first(ctx, freelancer_id, job_id, "invite"):
        return
    await _invite(ctx, freelancer_id, job_id)
    await ctx.reply(ctx.t("talent.invited"))
    ctx.answer(ctx.t.plain("talent.invited_short"))


@PREFIX.on("invite_anyway")
async def invite_anyway_pressed(ctx: Context) -> None:
    await _invite(ctx, _user(ctx), _job(ctx))
    await ctx.reply(ctx.t("talent.invited"))
    ctx.answer(ctx.t.plain("talent.invited_short"))


async def _compose(ctx: Context, freelancer_id: int, job_id: int) -> None:
    """Write about the job: invites first when they are not invited or pitching yet."""
    uow = ctx.uow
    related = await uow.invitations.count(job_id=job_id, freelancer_id=freelancer_id)
    related = related or await uow.pitches.count(job_id=job_id, freelancer_id=freelancer_id)
    if not related:
        await _invite(ctx, freelancer_id, job_id)
    job = await uow.jobs.get(job_id)
    user = await uow.users.get(freelancer_id)
    await ctx.set_state(MessagingStep.COMPOSE, {"j": job_id, "to": freelancer_id})
    t = ctx.t
    await ctx.reply(
        t(
            "talent.ask_message",
            name=user.name if user else f"#{freelancer_id}",
            title=job.title if job else "",
        ),
        keyboard(button(t.plain("btn.cancel"), MESSAGE.data("close"))),
    )
    ctx.answer()


@PREFIX.on("message")
async def message_pressed(ctx: Context) -> None:
    freelancer_id, job_id = _user(ctx), _job(ctx)
    related = await ctx.uow.invitations.count(job_id=job_id, freelancer_id=freelancer_id)
    if not related and await _away_first(ctx, freelancer_id, job_id, "message"):
        return
    await _compose(ctx, freelancer_id, job_id)


@PREFIX.on("message_anyway")
async def message_anyway_pressed(ctx: Context) -> None:
    await _compose(ctx, _user(ctx), _job(ctx))
