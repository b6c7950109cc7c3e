"""The services catalogue for clients (/catalog): categories as buttons, full-text
search (typed words), filters (price range, delivery time, the seller's rating,
identity verified), ranked by relevance and the seller's record (domain/catalog.py),
a page at a time; each result opens THE service card (handlers/service_views.py) with
its packages as buttons. `/start service_<id>` (flows/start.py) and inline results
(flows/inline.py) open the same card through `open_service`.

The search lives in the conversation state ("catalog", step): {"q", "cat", "min",
"max" (minor units), "days", "rating" ("4" / "4.5"), "ver"}. While searching, any
text is a new search; step "price" waits for a price range. A command ends the
search, and its buttons then answer "no longer available".

Callback data (prefix "cat"):
- "cat:show:<service>"               open a service's card (a new message)
- "cat:page::<page>"                 a page of the current search, edited in place
- "cat:categories" / "cat:category::<slug>|any"   choose a category
- "cat:search"                       how to search by words
- "cat:price" / "cat:no_price"       type a price range / drop it
- "cat:delivery" / "cat:max_days::1|3|7|any"      choose a delivery time
- "cat:rating::4|4.5"                minimum rating (pressed again: off)
- "cat:verified"                     toggle the filter
- "cat:reset"                        all filters off
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.catalog import SERVICE_COUNT_CAP, ServiceHit, ServiceQuery
from domain.usecases import catalog as uc
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.events import Button, Event, InlineResult, Keyboard
from handlers.i18n import Translator
from handlers.paging import fetch_page, page_row, picks_and_pager, pressed_page
from handlers.prefixes import CATALOG as PREFIX
from handlers.render import Html, bold, button, join, money, shorten
from handlers.routing import Menu, Steps, command, step
from handlers.search_views import (
    ask_typed_filter,
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
from handlers.service_views import service_card, service_screen
from handlers.taxonomy_names import category_name

PAGE_SIZE = 5
RATINGS = ("4", "4.5")
DAYS = ("1", "3", "7")


class CatalogStep(Steps, flow="catalog"):
    """Searching the catalogue (the values are stored: never change one)."""

    QUERY = "query"
    PRICE = "price"


def _query(filters: dict[str, Any], page: int) -> ServiceQuery:
    return ServiceQuery(
        text=filters.get("q") or "",
        category=filters.get("cat") or None,
        min_price=filters.get("min"),
        max_price=filters.get("max"),
        max_days=int(filters["days"]) if filters.get("days") else None,
        min_rating=Decimal(filters["rating"]) if filters.get("rating") else None,
        verified=bool(filters.get("ver")),
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )


def _summary(ctx: Context, filters: dict[str, Any]) -> Html:
    t = ctx.t
    parts: list[Html] = []
    if filters.get("q"):
        parts.append(t("catalog.f_text", text=shorten(filters["q"], 60)))
    if filters.get("cat"):
        parts.append(t("catalog.f_category", category=category_name(t, filters["cat"])))
    if shown := money_range_shown(filters, ctx.config.currency):
        parts.append(t("catalog.f_price", low=shown[0], high=shown[1]))
    if filters.get("days"):
        parts.append(t("catalog.f_days", count=int(filters["days"])))
    if filters.get("rating"):
        parts.append(t("catalog.f_rating", rating=filters["rating"]))
    if filters.get("ver"):
        parts.append(t("catalog.f_verified"))
    return join(parts, " · ") if parts else t("catalog.f_none")


def hit_facts(t: Translator, hit: ServiceHit) -> Html:
    """ "from $50 · ⏱ 3 days · 👤 Felix · ⭐4.8 (12) · 🪪" — a result's second line."""
    facts: list[Html] = [
        t("catalog.from", price=money(hit.min_price, hit.currency)),
        t("catalog.days", count=hit.min_days),
        t("catalog.seller", name=shorten(hit.seller_name or f"#{hit.seller_id}", 30)),
    ]
    if hit.rating is not None:
        facts.append(t("catalog.rating", rating=str(hit.rating), count=hit.ratings))
    else:
        facts.append(t("catalog.no_reviews"))
    if hit.verified:
        facts.append(t("catalog.verified"))
    return join(facts, " · ")


def _line(t: Translator, n: int, hit: ServiceHit, category: bool = True) -> Html:
    head = Html(f"{n}. ") + bold(shorten(hit.title, 80))
    if category and hit.category:
        head = head + Html(" · ") + category_name(t, hit.category)
    return head + Html("\n    ") + hit_facts(t, hit)


async def show_results(ctx: Context, filters: dict[str, Any], page: int = 1) -> None:
    """One page of services for the filters; edits the pressed message in place."""
    await ctx.set_state(CatalogStep.QUERY, filters)
    hits, total, page, pages = await fetch_page(
        lambda p: uc.search_services(ctx.uow, ctx.user.id, _query(filters, p)), page, PAGE_SIZE
    )
    t = ctx.t
    start = (page - 1) * PAGE_SIZE
    lines: list[Html] = []
    picks: list[Button] = []
    for n, hit in enumerate(hits, start=start + 1):
        lines.append(_line(t, n, hit, category=not filters.get("cat")))
        picks.append(button(f"{n}. {shorten(hit.title, 40)}", PREFIX.data("show", hit.service_id)))
    shown = count_shown(total, SERVICE_COUNT_CAP, ctx.user.language)
    text = results_text(
        t("catalog.title", total=shown),
        _summary(ctx, filters),
        lines,
        t("catalog.nothing"),
        t("catalog.hint"),
    )
    pager = page_row(t, page, pages, lambda p: PREFIX.data("page", arg=p))
    await ctx.edit(text, picks_and_pager(picks, pager, _filter_rows(t, filters)))


def _filter_rows(t: Translator, filters: dict[str, Any]) -> Keyboard:
    rating = filters.get("rating")
    priced = filters.get("min") is not None or filters.get("max") is not None
    return [
        [
            button(t.plain("catalog.btn.search"), PREFIX.data("search")),
            button(
                mark(bool(filters.get("cat")), t.plain("catalog.btn.category")),
                PREFIX.data("categories"),
            ),
        ],
        [
            button(mark(priced, t.plain("catalog.btn.price")), PREFIX.data("price")),
            button(
                mark(bool(filters.get("days")), t.plain("catalog.btn.delivery")),
                PREFIX.data("delivery"),
            ),
        ],
        [
            *rating_buttons(
                RATINGS,
                rating,
                lambda r: t.plain("catalog.btn.rating", rating=r),
                lambda r: PREFIX.data("rating", arg=r),
            ),
            button(
                mark(bool(filters.get("ver")), t.plain("catalog.btn.verified")),
                PREFIX.data("verified"),
            ),
        ],
        [button(t.plain("catalog.btn.reset"), PREFIX.data("reset"))],
    ]


def _searching(ctx: Context) -> dict[str, Any]:
    return searching(ctx, CatalogStep)


# --- entry points --------------------------------------------------------------------------


async def show_home(ctx: Context) -> None:
    """The catalogue's front: every category as a button, search, everything."""
    await ctx.set_state(CatalogStep.QUERY, {})
    _, total = await uc.search_services(ctx.uow, ctx.user.id, ServiceQuery(limit=0))
    t = ctx.t
    choices = category_rows(
        t, lambda slug: PREFIX.data("category", arg=slug), t.plain("catalog.btn.everything")
    )
    await ctx.edit(
        join(
            [
                t("catalog.home", total=count_shown(total, SERVICE_COUNT_CAP, ctx.user.language)),
                Html(""),
                t("catalog.home_hint"),
            ]
        ),
        [*choices, [button(t.plain("catalog.btn.search"), PREFIX.data("search"))]],
    )


@command("catalog", order=77, menu=Menu.CLIENT, menu_order=27, read_only=True)
async def catalog(ctx: Context) -> None:
    """/catalog [words]: the categories (or the services matching the words)."""
    if ctx.args.strip():
        await show_results(ctx, {"q": clean_query(ctx.args)})
        return
    await show_home(ctx)


@step(CatalogStep.QUERY, read_only=True)
async def search_text(ctx: Context) -> None:
    q = clean_query(ctx.text)
    if not q:
        await ctx.reply(ctx.t("catalog.ask_text"))
        return
    await show_results(ctx, dict(ctx.data) | {"q": q})


@step(CatalogStep.PRICE, read_only=True)
async def price_typed(ctx: Context) -> None:
    """ "20-100", "20" (from), "-100" (up to): the cheapest package's price range."""
    low, high = parse_money_range(ctx.text, ctx.config.currency, "min_price", "max_price")
    await show_results(ctx, dict(ctx.data) | {"min": low, "max": high})


# --- filter buttons --------------------------------------------------------------------------


@PREFIX.on("page", read_only=True)
async def page_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    await show_results(ctx, filters, pressed_page(ctx))
    ctx.answer()


@PREFIX.on("categories", read_only=True)
async def categories_pressed(ctx: Context) -> None:
    _searching(ctx)
    t = ctx.t
    choices = category_rows(
        t, lambda slug: PREFIX.data("category", arg=slug), t.plain("catalog.btn.any_category")
    )
    await ctx.edit(t("catalog.choose_category"), choices)
    ctx.answer()


@PREFIX.on("category", read_only=True)
async def category_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    await show_results(ctx, filters | {"cat": pressed_category(ctx)})
    ctx.answer()


@PREFIX.on("search", read_only=True)
async def search_pressed(ctx: Context) -> None:
    _searching(ctx)
    await ctx.reply(ctx.t("catalog.ask_text"))
    ctx.answer()


@PREFIX.on("price", read_only=True)
async def price_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    t = ctx.t
    await ask_typed_filter(
        ctx,
        CatalogStep.PRICE,
        filters,
        t("catalog.ask_price", currency=ctx.config.currency),
        [
            button(t.plain("catalog.btn.any_price"), PREFIX.data("no_price")),
            button(t.plain("btn.cancel"), PREFIX.data("page", arg=1)),
        ],
    )
    ctx.answer()


@PREFIX.on("no_price", read_only=True)
async def no_price_pressed(ctx: Context) -> None:
    await show_results(ctx, _searching(ctx) | {"min": None, "max": None})
    ctx.answer()


@PREFIX.on("delivery", read_only=True)
async def delivery_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    t = ctx.t
    choices = [
        button(
            mark(filters.get("days") == d, t.plain("catalog.btn.within", count=int(d))),
            PREFIX.data("max_days", arg=d),
        )
        for d in DAYS
    ]
    any_ = button(t.plain("catalog.btn.any_time"), PREFIX.data("max_days", arg="any"))
    await ctx.edit(t("catalog.choose_days"), [choices, [any_]])
    ctx.answer()


@PREFIX.on("max_days", read_only=True)
async def max_days_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    days = ctx.callback.arg if ctx.callback else None
    if days not in (*DAYS, "any"):
        raise StaleButton()
    await show_results(ctx, filters | {"days": None if days == "any" else days})
    ctx.answer()


@PREFIX.on("rating", read_only=True)
async def rating_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    await show_results(ctx, filters | {"rating": pressed_rating(ctx, filters, RATINGS)})
    ctx.answer()


@PREFIX.on("verified", read_only=True)
async def verified_pressed(ctx: Context) -> None:
    filters = _searching(ctx)
    await show_results(ctx, filters | {"ver": not filters.get("ver")})
    ctx.answer()


@PREFIX.on("reset", read_only=True)
async def reset_pressed(ctx: Context) -> None:
    _searching(ctx)
    await show_results(ctx, {})
    ctx.answer()


# --- a service's card ------------------------------------------------------------------------


async def open_service(ctx: Context, service_id: int) -> None:
    """THE service card (handlers/service_views.py) as a new message, so the results
    stay above: packages to buy for others, the seller's own buttons for the seller."""
    text, kb = await service_screen(ctx, service_id)
    await ctx.reply(text, kb or None)


@PREFIX.on("show", read_only=True)
async def show_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await open_service(ctx, ctx.callback.require_id())
    ctx.answer()


# --- inline sharing (flows/inline.py: "@bot service <words>") --------------------------------

INLINE_WORDS = ("service", "services", "услуга", "услуги", "услуг")


def inline_service_words(text: str) -> str | None:
    """The words after "service" when an inline query asks for services; else None."""
    head, _, rest = text.strip().partition(" ")
    return rest.strip() if head.lower() in INLINE_WORDS else None


async def service_result(
    scope: Scope, t: Translator, hit: ServiceHit, bot_username: str | None
) -> InlineResult:
    """THE service card as an inline article, with a deep link that opens it in the bot
    (a message sent "via @bot" belongs to no conversation: URL buttons only)."""
    from handlers.flows.inline import deep_link

    service = await scope.uow.services.get(hit.service_id)
    assert service is not None
    packages = await scope.uow.services.packages(hit.service_id)
    extras = await scope.uow.services.extras(hit.service_id)
    card = service_card(t, service, packages, extras, seller_name=hit.seller_name)
    about = t.plain(
        "catalog.inline_about",
        price=money(hit.min_price, hit.currency),
        days=t.plain("catalog.days", count=hit.min_days),
        name=hit.seller_name or f"#{hit.seller_id}",
    )
    link = deep_link(bot_username, f"service_{hit.service_id}")
    return InlineResult(
        id=f"service_{hit.service_id}",
        title=shorten(f"🛍 {hit.title}", 120),
        description=shorten(about, 200),
        text=str(card),
        buttons=[[{"text": t.plain("catalog.inline_open"), "url": link}]],
    )


async def inline_services(
    scope: Scope, event: Event, t: Translator, words: str, start: int, page: int
) -> tuple[tuple[InlineResult, ...], bool, bool]:
    """Services for an inline query: the catalogue's best for the words; without words
    the asker's own services (personal), or the catalogue's best when they have none.
    The results, whether more follow, and whether the answer is personal."""
    search = scope.uow.service_search
    personal = False
    hits, total = [], 0
    if not words:
        hits, total = await search.search(
            ServiceQuery(seller_id=event.user_id, offset=start, limit=page)
        )
        personal = bool(total)
    if not personal:
        hits, total = await search.search(
            ServiceQuery(text=words, viewer_id=event.user_id, offset=start, limit=page)
        )
    results = tuple([await service_result(scope, t, hit, event.bot_username) for hit in hits])
    return results, start + len(hits) < total, personal
