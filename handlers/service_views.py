"""THE service card (issue 15): one rendering of a service for every screen that
shows one — the seller's preview and manage card (flows/services.py), the
catalogue (flows/catalog.py) and the orders (flows/service_orders.py).

`service_card` is the text: title, the seller with their track record (and the
identity-verified mark, as on profile cards), description, each package with
its price, delivery days, revisions and what it includes, the extras, the
orders in the queue and the samples. `buy_buttons` are the packages as buttons
(`ord:purchase:<service>:<tier>`, handled by flows/service_orders.py) for buyers;
`manage_buttons` the seller's own (pause / resume, edit, delete).
`show_service(ctx, service_id)` puts the right one on screen for whoever looks.

Every text that came from a user is escaped here (ctx.t escapes parameters;
free text goes through esc).
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.services import (
    SAMPLE_LINK,
    SAMPLE_PHOTO,
    Service,
    ServiceExtra,
    ServicePackage,
    ServiceStatus,
)
from domain.usecases import services as uc
from domain.usecases.track_record import FreelancerRecord
from handlers.context import Context
from handlers.events import Button, Keyboard
from handlers.prefixes import ORDER, SERVICE
from handlers.render import (
    CardTranslator,
    Html,
    bold,
    button,
    esc,
    join,
    keyboard,
    money,
    shorten,
)
from handlers.taxonomy_names import category_name, skill_names
from handlers.track_record import freelancer_of, freelancer_record

TIER_ICON = {"basic": "🥉", "standard": "🥈", "premium": "🥇"}
DESCRIPTION_MAX_ON_CARD = 1200
INCLUDED_MAX_ON_CARD = 300
LINK_MAX_ON_CARD = 80


def clip(text: str, limit: int) -> str:
    """User text cut to `limit` characters (line breaks kept), with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def tier_label(t: CardTranslator, tier: str) -> str:
    return f"{TIER_ICON.get(tier, '•')} {t.plain(f'svc.tier.{tier}')}"


def days(t: CardTranslator, count: int) -> str:
    return t.plain("svc.days", count=count)


def package_lines(t: CardTranslator, package: ServicePackage, currency: str) -> Html:
    return join(
        [
            t(
                "svc.card.package",
                tier=tier_label(t, package.tier),
                name=package.name,
                price=money(package.price, currency),
            ),
            t(
                "svc.card.package_terms",
                days=days(t, package.delivery_days),
                revisions=t.plain("svc.revisions", count=package.revisions),
            ),
            esc(clip(package.included, INCLUDED_MAX_ON_CARD)),
        ]
    )


def extra_line(t: CardTranslator, extra: ServiceExtra, currency: str) -> Html:
    if extra.days_delta < 0:
        when = t.plain("svc.extra.faster", count=-extra.days_delta)
    elif extra.days_delta > 0:
        when = t.plain("svc.extra.slower", count=extra.days_delta)
    else:
        when = ""
    return t(
        "svc.card.extra",
        title=extra.title,
        price=money(extra.price, currency),
        when=f" ({when})" if when else "",
    )


def service_card(
    t: CardTranslator,
    service: Service,
    packages: Sequence[ServicePackage],
    extras: Sequence[ServiceExtra],
    *,
    seller_name: str = "",
    record: FreelancerRecord | None = None,
    queued: int = 0,
    show_status: bool = False,
) -> Html:
    """The service as a message (a draft without an id is the wizard's preview)."""
    currency = service.currency
    lines: list[str] = [Html(f"🧩 {bold(service.title)}")]
    if seller_name:
        lines.append(t("svc.card.seller", name=seller_name))
    if record is not None:
        lines.append(freelancer_record(t, record))
    if service.category:
        lines.append(t("svc.card.category", category=category_name(t, service.category)))
    if service.skills:
        lines.append(t("svc.card.skills", skills=skill_names(t, service.skills)))
    if show_status or service.status is ServiceStatus.PAUSED:
        lines.append(t("svc.card.status", status=t.plain(f"svc.status.{service.status}")))
    if service.description:
        lines += [Html(""), esc(clip(service.description, DESCRIPTION_MAX_ON_CARD))]
    for package in packages:
        lines += [Html(""), package_lines(t, package, currency)]
    if extras:
        lines += [Html(""), t("svc.card.extras")]
        lines += [extra_line(t, x, currency) for x in extras]
    if queued:
        lines += [Html(""), t("svc.card.queue", count=queued)]
    photos = sum(1 for s in service.samples if s.get("kind") == SAMPLE_PHOTO)
    links = [s["value"] for s in service.samples if s.get("kind") == SAMPLE_LINK]
    if photos or links:
        lines += [Html(""), t("svc.card.samples")]
        if photos:
            lines.append(t("svc.card.photos", count=photos))
        lines += [Html(f"🔗 {esc(shorten(link, LINK_MAX_ON_CARD))}") for link in links]
    if service.id is not None:
        lines += [Html(""), t("svc.card.id", id=service.id)]
    return join(lines)


def buy_buttons(
    t: CardTranslator,
    service: Service,
    packages: Sequence[ServicePackage],
    chosen: str | None = None,
) -> list[Button]:
    """One button a package: the buyer's way in (flows/service_orders.py). `chosen`:
    the tier bought last time (🔁 Order again), first and marked."""
    assert service.id is not None
    ordered = sorted(packages, key=lambda p: p.tier != chosen)
    return [
        button(
            t.plain(
                "ord.btn.buy_again" if p.tier == chosen else "svc.btn.buy",
                tier=tier_label(t, p.tier),
                price=money(p.price, service.currency),
            ),
            ORDER.data("purchase", service.id, p.tier),
        )
        for p in ordered
    ]


def samples_button(t: CardTranslator, service: Service) -> Button | None:
    photos = sum(1 for s in service.samples if s.get("kind") == SAMPLE_PHOTO)
    if not photos or service.id is None:
        return None
    return button(t.plain("svc.btn.photos", count=photos), SERVICE.data("photos", service.id))


def manage_buttons(t: CardTranslator, service: Service) -> Keyboard:
    """The seller's own card: publish / pause / resume, edit, delete, their list."""
    assert service.id is not None
    sid = service.id
    toggle: Button | None = None
    if service.status is ServiceStatus.ACTIVE:
        toggle = button(t.plain("svc.btn.pause"), SERVICE.data("pause", sid))
    elif service.status is ServiceStatus.PAUSED:
        toggle = button(t.plain("svc.btn.resume"), SERVICE.data("resume", sid))
    elif service.status is ServiceStatus.DRAFT:
        toggle = button(t.plain("svc.btn.publish"), SERVICE.data("publish_saved", sid))
    return (
        keyboard(
            [b for b in (toggle, button(t.plain("svc.btn.edit"), SERVICE.data("edit", sid))) if b],
            [
                b
                for b in (
                    samples_button(t, service),
                    button(t.plain("svc.btn.delete"), SERVICE.data("delete", sid)),
                )
                if b
            ],
            button(t.plain("svc.btn.my_services"), SERVICE.data("list")),
        )
        or []
    )


async def service_screen(
    ctx: Context, service_id: int, back: Button | None = None, chosen: str | None = None
) -> tuple[Html, Keyboard]:
    """The card and its buttons for whoever looks: the seller gets manage buttons,
    anyone else the packages to buy (none while the service is paused; `chosen`, the
    package bought last time, first). `back` is added under them (e.g. the
    catalogue's page)."""
    view = await uc.service_view(ctx.uow, ctx.user.id, service_id)
    service = view.service
    seller = await ctx.uow.users.get(service.seller_id)
    record = await freelancer_of(ctx.uow, ctx.clock, service.seller_id)
    text = service_card(
        ctx.t,
        service,
        view.packages,
        view.extras,
        seller_name=seller.name if seller else "",
        record=record,
        queued=view.queued,
        show_status=view.own,
    )
    if view.own:
        kb = manage_buttons(ctx.t, service)
    else:
        buys = (
            buy_buttons(ctx.t, service, view.packages, chosen)
            if service.status is ServiceStatus.ACTIVE
            else []
        )
        kb = [*([[b] for b in buys]), *([[sb]] if (sb := samples_button(ctx.t, service)) else [])]
    if back is not None:
        kb = [*kb, [back]]
    return text, kb


async def show_service(
    ctx: Context, service_id: int, back: Button | None = None, notice: Html | None = None
) -> None:
    """The service card on screen (in place after a button press)."""
    text, kb = await service_screen(ctx, service_id, back)
    if notice is not None:
        text = join([notice, Html(""), text])
    await ctx.edit(text, kb)
