"""Buying a service and its orders (issue 15, ORDERS; domain/usecases/service_orders.py).

Buyer: a package button on the service card → the extras (toggle buttons) → the
seller's questions, one text step each → the total with the client fee (the
funding quote of domain/fees.py, the figures a milestone's funding shows) → Pay:
the order, its contract and its one milestone are made and paid through the
funding path (its checkout link comes as "funding_started", flows/funding.py).
Paid, the seller is told with the answers and has GIGBOT_SERVICE_ACCEPT_HOURS to
accept or decline (silence refunds, by the tick). Then the contract machinery:
the seller delivers with Submit (flows/work.py), the buyer requests changes (the
package's revisions are counted; past them a paid extra revision) or approves;
a delivery waits GIGBOT_SERVICE_AUTO_COMPLETE_DAYS. An order not delivered by its
due time may be cancelled by the buyer for a full refund.

/orders: the seller's orders under way with their deadlines and the earnings per
service; the buyer's purchases.

Callback data (prefix "ord", handlers/prefixes.py):
- "ord:purchase:<service>:<tier>"  buyer: buy a package (the service card's buttons,
                               made as ORDER.data("buy", …): "buy" is its old code, as
                               the flow rules want actions of 4+ letters)
- "ord:extra:<extra>"          buyer: add or remove an extra (the wizard's screen)
- "ord:next"                   buyer: the extras chosen, on to the questions / total
- "ord:pay_order"              buyer: pay the order shown on the total's screen
- "ord:cancel"                 buyer: leave the purchase before paying
- "ord:view:<order>"           buyer or seller: the order's card
- "ord:pay_again:<order>"      buyer: pay an order not paid yet (the same checkout)
- "ord:accept:<order>"         seller: accept a paid order
- "ord:decline:<order>"        seller: decline, asks first; "ord:confirm_decline:<order>"
- "ord:cancel_late:<order>"    buyer: cancel a late order, asks first;
                               "ord:confirm_late:<order>" cancels and refunds
- "ord:revision:<order>"       buyer: a paid extra revision's price, with Pay;
                               "ord:pay_revision:<order>:<price>" pays it
- "ord:list::<page>"           /orders, page n
- "ord:again:<order>"          buyer: 🔁 Order again — the service's card, the package
                               bought last time first (an ended order or contract)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.entities import Contract, Milestone
from domain.errors import NotAllowed, NotFound
from domain.events import (
    ServiceOrderAccepted,
    ServiceOrderLapsed,
    ServiceOrderPaid,
    ServiceOrderRefunded,
    ServiceOrderReminder,
    ServiceRevisionPaid,
    ServiceRevisionsSettled,
    WorkSubmitted,
)
from domain.fees import funding_quote, settlement
from domain.services import ServiceOrder, ServiceOrderStatus, delivery_days_of, order_total
from domain.states import MILESTONE, ContractStatus
from domain.usecases import service_orders as uc
from domain.usecases.common import load
from handlers.callbacks import StaleButton
from handlers.context import REPLY, Context, Scope
from handlers.contract_views import open_contract_button
from handlers.events import Button, Keyboard
from handlers.helpers import gateway_of, int_arg, name_of, page_nav, page_of, percent
from handlers.i18n import Translator
from handlers.notify import milestone_rows, renders
from handlers.prefixes import ORDER, WORK
from handlers.render import Html, bold, button, join, keyboard, money, rows
from handlers.routing import Menu, Steps, command, step

SO = ServiceOrderStatus
PAGE_SIZE = 8


class OrderStep(Steps, flow="service_order"):
    """The values are stored: never change one."""

    EXTRAS = "extras"  # choosing extras
    ANSWER = "answer"  # answering the seller's questions, one at a time
    SUMMARY = "summary"  # the total with fees, Pay


def _pressed_id(ctx: Context) -> int:
    assert ctx.callback is not None
    return ctx.callback.require_id()


def _when(at: datetime | None) -> str:
    """A deadline as people read it: the date and the time, UTC."""
    return at.strftime("%Y-%m-%d %H:%M UTC") if at is not None else "—"


def _days(t: Translator, count: int) -> str:
    return t.plain("ord.days", count=count)


def _cancel_row(t: Translator) -> Button:
    return button(t.plain("btn.cancel"), ORDER.data("cancel"))


# --- buying: package → extras → answers → total → pay --------------------------------------


@ORDER.on("purchase", old=("buy",))
async def buy_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    service_id = ctx.callback.require_id()
    tier = ctx.callback.arg or ""
    _, package, extras = await uc.buyable(ctx.uow, ctx.user.id, service_id, tier)
    data = {"s": service_id, "tier": tier, "x": [], "a": [], "p": package.price}
    if extras:
        await ctx.set_state(OrderStep.EXTRAS, data)
        await _show_extras(ctx, data, new=True)
    else:
        await _after_extras(ctx, data, new=True)
    ctx.answer()


async def _draft(ctx: Context) -> tuple[Any, Any, list[Any], dict[str, Any]]:
    """The purchase under way, re-read: the service may have changed or stopped."""
    data = dict(ctx.data)
    service, package, extras = await uc.buyable(ctx.uow, ctx.user.id, int(data["s"]), data["tier"])
    if package.price != data.get("p"):
        raise NotAllowed("order_changed", "The service changed; open it again.")
    return service, package, extras, data


async def _show_extras(ctx: Context, data: dict[str, Any], new: bool = False) -> None:
    t = ctx.t
    service, package, extras = await uc.buyable(ctx.uow, ctx.user.id, int(data["s"]), data["tier"])
    chosen = set(data["x"])
    cur = service.currency
    picked = [x for x in extras if x.id in chosen]
    total = package.price + sum(x.price for x in picked)
    text = join(
        [
            t("ord.pick.title", service=service.title),
            t(
                "ord.pick.package",
                tier=t.plain(f"svc.tier.{package.tier}"),
                name=package.name,
                price=money(package.price, cur),
            ),
            Html(""),
            t("ord.extras.ask"),
            t("ord.extras.subtotal", total=money(total, cur)),
        ]
    )
    toggles = [
        button(
            t.plain(
                "ord.btn.extra_on" if x.id in chosen else "ord.btn.extra_off",
                title=x.title,
                price=money(x.price, cur),
            ),
            ORDER.data("extra", x.id),
        )
        for x in extras
    ]
    kb = keyboard(
        *[[b] for b in toggles],
        [button(t.plain("ord.btn.next"), ORDER.data("next")), _cancel_row(t)],
    )
    await (ctx.reply(text, kb) if new else ctx.edit(text, kb))


@step(OrderStep.EXTRAS)
async def typed_at_extras(ctx: Context) -> None:
    """Text while choosing extras: the screen again, with its buttons."""
    _, _, _, data = await _draft(ctx)
    await ctx.set_state(OrderStep.EXTRAS, data)  # the new message is the screen
    await _show_extras(ctx, data, new=True)


@ORDER.on("extra", wizard=True)
async def extra_pressed(ctx: Context) -> None:
    if not ctx.in_step(OrderStep.EXTRAS):
        raise StaleButton()
    _, _, extras, data = await _draft(ctx)
    extra_id = _pressed_id(ctx)
    if extra_id not in {x.id for x in extras}:
        raise StaleButton()
    chosen = list(data["x"])
    data["x"] = [x for x in chosen if x != extra_id] if extra_id in chosen else [*chosen, extra_id]
    await ctx.set_state(OrderStep.EXTRAS, data)
    await _show_extras(ctx, data)
    ctx.answer()


@ORDER.on("next", wizard=True)
async def next_pressed(ctx: Context) -> None:
    if not ctx.in_step(OrderStep.EXTRAS):
        raise StaleButton()
    _, _, _, data = await _draft(ctx)
    await _after_extras(ctx, data)
    ctx.answer()


async def _after_extras(ctx: Context, data: dict[str, Any], new: bool = False) -> None:
    """The first question (each one a text step), or straight to the total."""
    (
        service,
        _,
        _,
    ) = await uc.buyable(ctx.uow, ctx.user.id, int(data["s"]), data["tier"])
    if len(data["a"]) < len(service.questions):
        await ctx.set_state(OrderStep.ANSWER, data)
        await _ask(ctx, data, service.questions, service.seller_id, new)
    else:
        await _summary(ctx, data, new)


async def _ask(
    ctx: Context, data: dict[str, Any], questions: list[str], seller_id: int, new: bool
) -> None:
    n = len(data["a"])
    text = ctx.t(
        "ord.ask_answer",
        n=n + 1,
        count=len(questions),
        name=await name_of(ctx, seller_id),
        question=questions[n],
    )
    kb = keyboard(_cancel_row(ctx.t))
    await (ctx.reply(text, kb) if new else ctx.edit(text, kb))


@step(OrderStep.ANSWER)
async def answer_step(ctx: Context) -> None:
    service, _, _, data = await _draft(ctx)
    if ctx.event.kind == "file" and not ctx.text.strip():
        await ctx.reply(ctx.t("ord.answer_text_only"))
        return
    data["a"] = [*data["a"], uc.clean_answer(ctx.text)]
    if len(data["a"]) < len(service.questions):
        await ctx.set_state(OrderStep.ANSWER, data)
        await _ask(ctx, data, service.questions, service.seller_id, new=True)
    else:
        await _summary(ctx, data, new=True)


def quote_lines(t: Translator, subtotal: int, client_fee_bp: int, currency: str) -> list[Html]:
    """The price, the client fee on top and the total: funding_quote's figures, the
    same as a milestone's funding quote shows (flows/funding.py)."""
    q = funding_quote(subtotal, client_fee_bp)
    return [
        t("ord.summary.subtotal", amount=money(q.amount, currency)),
        t("ord.summary.fee", percent=percent(client_fee_bp), fee=money(q.client_fee, currency)),
        t("ord.summary.total", total=money(q.total, currency)),
    ]


async def _summary(ctx: Context, data: dict[str, Any], new: bool) -> None:
    t = ctx.t
    service, package, extras = await uc.buyable(ctx.uow, ctx.user.id, int(data["s"]), data["tier"])
    picked = uc.chosen_extras(extras, data["x"])
    total = order_total(package.price, picked)
    data = data | {"t": total}
    await ctx.set_state(OrderStep.SUMMARY, data)
    cur = service.currency
    seller = await name_of(ctx, service.seller_id)
    lines: list[str] = [
        t("ord.summary.title", service=service.title, name=seller),
        t(
            "ord.pick.package",
            tier=t.plain(f"svc.tier.{package.tier}"),
            name=package.name,
            price=money(package.price, cur),
        ),
        *(
            t("ord.summary.extra", title=x["title"], price=money(int(x["price"]), cur))
            for x in picked
        ),
        t(
            "ord.summary.terms",
            days=_days(t, delivery_days_of(package.delivery_days, picked)),
            revisions=t.plain("ord.revisions", count=package.revisions),
        ),
    ]
    for question, answer in zip(service.questions, data["a"], strict=False):
        lines.append(t("ord.summary.answer", question=question, answer=answer))
    lines += ["", *quote_lines(t, total, ctx.config.client_fee_bp, cur), ""]
    lines.append(t("ord.summary.escrow", name=seller, hours=ctx.config.service_accept_hours))
    q = funding_quote(total, ctx.config.client_fee_bp)
    kb = keyboard(
        [
            button(t.plain("ord.btn.pay", total=money(q.total, cur)), ORDER.data("pay_order")),
            _cancel_row(t),
        ]
    )
    text = join(lines)
    await (ctx.reply(text, kb) if new else ctx.edit(text, kb))


@step(OrderStep.SUMMARY)
async def typed_at_summary(ctx: Context) -> None:
    """Text on the total's screen: the total again, with Pay."""
    _, _, _, data = await _draft(ctx)
    await _summary(ctx, data, new=True)


@ORDER.on("pay_order", wizard=True)
async def pay_pressed(ctx: Context) -> None:
    if not ctx.in_step(OrderStep.SUMMARY):
        raise StaleButton()  # a second tap: the first one placed the order
    data = dict(ctx.data)
    await ctx.clear_state()
    order, _ = await uc.place_order(
        ctx.uow,
        ctx.clock,
        ctx.config,
        gateway_of(ctx),
        ctx.user.id,
        int(data["s"]),
        data["tier"],
        [int(x) for x in data["x"]],
        list(data["a"]),
        int(data["t"]),
        shown_in=ctx.event.message_id,
    )
    # The checkout opens right after this step commits; its link replaces this
    # message (funding_started, flows/funding.py).
    await ctx.edit(
        ctx.t("ord.preparing", title=order.package_name),
        keyboard(button(ctx.t.plain("ord.btn.view"), ORDER.data("view", order.id))),
    )
    ctx.answer(ctx.t.plain("ord.preparing_short"))


@ORDER.on("cancel")
async def cancel_pressed(ctx: Context) -> None:
    if ctx.in_step(OrderStep):
        await ctx.clear_state()
    await ctx.edit(ctx.t("ord.cancelled"))
    ctx.answer()


# --- the order's card -----------------------------------------------------------------


def extras_text(t: Translator, order: ServiceOrder) -> list[Html]:
    return [
        t("ord.summary.extra", title=x["title"], price=money(int(x["price"]), order.currency))
        for x in order.extras
    ]


def answers_text(t: Translator, order: ServiceOrder) -> list[Html]:
    return [
        t("ord.summary.answer", question=a["question"], answer=a["answer"]) for a in order.answers
    ]


def deadline_line(t: Translator, order: ServiceOrder, now: datetime) -> Html | None:
    if order.status is SO.AWAITING_ACCEPTANCE:
        return t("ord.card.accept_by", date=_when(order.accept_by))
    if order.status is SO.IN_PROGRESS:
        key = "ord.card.late" if order.due_at and now > order.due_at else "ord.card.due"
        return t(key, date=_when(order.due_at))
    return None


async def order_text(scope: Scope, t: Translator, order: ServiceOrder, viewer_id: int) -> Html:
    service = await scope.uow.services.get(order.service_id)
    title = service.title if service else order.package_name
    buyer = await name_of(scope, order.buyer_id)
    seller = await name_of(scope, order.seller_id)
    lines: list[str] = [
        Html(f"🛒 {bold(title)}"),
        t(
            "ord.pick.package",
            tier=t.plain(f"svc.tier.{order.tier}"),
            name=order.package_name,
            price=money(order.package_price, order.currency),
        ),
        *extras_text(t, order),
        t("ord.card.total", total=money(order.total, order.currency)),
        t("ord.card.parties", buyer=buyer, seller=seller),
        t("ord.card.status", status=t.plain(f"ord.status.{order.status}")),
    ]
    if (line := deadline_line(t, order, scope.clock.now())) is not None:
        lines.append(line)
    lines.append(
        t(
            "ord.card.revisions",
            used=order.revisions_used,
            allowed=order.revisions_allowed,
        )
    )
    if order.answers:
        lines += ["", *answers_text(t, order)]
    lines += ["", t("ord.card.id", id=order.id)]
    return join(lines)


async def order_buttons(
    scope: Scope, t: Translator, order: ServiceOrder, viewer_id: int
) -> Keyboard | None:
    """What the viewer may do with the order now; every press is checked again."""
    oid = order.id
    assert oid is not None
    found: list[Button] = []
    milestone = (
        await uc.main_milestone(scope.uow, order.contract_id, lock=False)
        if order.contract_id is not None
        else None
    )
    if viewer_id == order.buyer_id:
        if order.status is SO.AWAITING_PAYMENT:
            found.append(button(t.plain("ord.btn.pay_again"), ORDER.data("pay_again", oid)))
        if milestone is not None and uc.is_late(order, milestone, scope.clock.now()):
            found.append(button(t.plain("ord.btn.cancel_late"), ORDER.data("cancel_late", oid)))
        if (
            milestone is not None
            and order.status is SO.DELIVERED
            and MILESTONE.allows(milestone.status, "request_changes")
        ):
            if order.revisions_used < order.revisions_allowed:
                found.append(button(t.plain("ord.btn.review"), WORK.data("view", milestone.id)))
            else:
                price = uc.extra_revision_price(order, scope.config)
                found.append(_revision_button(t, oid, price, order.currency))
    elif viewer_id == order.seller_id:
        if order.status is SO.AWAITING_ACCEPTANCE:
            found += _decision_buttons(t, oid)
        if milestone is not None and order.status is SO.IN_PROGRESS:
            if MILESTONE.allows(milestone.status, "submit"):
                found.append(button(t.plain("ord.btn.deliver"), WORK.data("submit", milestone.id)))
    if viewer_id == order.buyer_id and order.status in ENDED_ORDERS:
        found.append(order_again_button(t, oid))
    bottom = [open_contract_button(t, order.contract_id)] if order.contract_id else []
    bottom.append(button(t.plain("ord.btn.list"), ORDER.data("list", arg=1)))
    return keyboard(*rows(found, 2), *rows(bottom, 2))


def _decision_buttons(t: Translator, order_id: int) -> list[Button]:
    return [
        button(t.plain("ord.btn.accept"), ORDER.data("accept", order_id)),
        button(t.plain("ord.btn.decline"), ORDER.data("decline", order_id)),
    ]


def _revision_button(t: Translator, order_id: int, price: int, currency: str) -> Button:
    label = t.plain("ord.btn.extra_revision", price=money(price, currency))
    return button(label, ORDER.data("revision", order_id))


async def show_order(ctx: Context, order_id: int, notice: Html | None = None) -> None:
    order = await uc.view_order(ctx.uow, ctx.user.id, order_id)
    text = await order_text(ctx, ctx.t, order, ctx.user.id)
    if notice is not None:
        text = join([notice, Html(""), text])
    await ctx.edit(text, await order_buttons(ctx, ctx.t, order, ctx.user.id))


@ORDER.on("view", read_only=True)
async def view_pressed(ctx: Context) -> None:
    await show_order(ctx, _pressed_id(ctx))


@ORDER.on("pay_again")
async def pay_again_pressed(ctx: Context) -> None:
    order_id = _pressed_id(ctx)
    payment = await uc.pay_again(
        ctx.uow,
        ctx.clock,
        ctx.config,
        gateway_of(ctx),
        ctx.user.id,
        order_id,
        shown_in=ctx.event.message_id,
    )
    if payment.checkout_url:  # already open: the same page again
        from handlers.flows.funding import checkout_message

        order = await uc.view_order(ctx.uow, ctx.user.id, order_id)
        milestone = await uc.main_milestone(ctx.uow, order.contract_id or 0, lock=False)
        contract = await load(ctx.uow.contracts, milestone.contract_id, "contract")
        await ctx.edit(
            *checkout_message(ctx.t, milestone, contract, payment.amount, payment.checkout_url)
        )
    else:
        order = await uc.view_order(ctx.uow, ctx.user.id, order_id)
        await ctx.edit(ctx.t("ord.preparing", title=order.package_name))
    ctx.answer(ctx.t.plain("ord.preparing_short"))


# --- the seller decides ------------------------------------------------------------------


@ORDER.on("accept")
async def accept_pressed(ctx: Context) -> None:
    order = await uc.accept_order(ctx.uow, ctx.clock, ctx.config, ctx.user.id, _pressed_id(ctx))
    await show_order(ctx, order.id, ctx.t("ord.accepted.seller", date=_when(order.due_at)))  # type: ignore[arg-type]
    ctx.answer(ctx.t.plain("ord.accepted_short"))


@ORDER.on("decline")
async def decline_pressed(ctx: Context) -> None:
    order_id = _pressed_id(ctx)
    order = await uc.view_order(ctx.uow, ctx.user.id, order_id)
    if ctx.user.id != order.seller_id or order.status is not SO.AWAITING_ACCEPTANCE:
        raise NotAllowed("order_not_awaiting", "This order is not waiting for your answer.")
    q = funding_quote(order.total, await _client_fee_bp(ctx, order))
    await ctx.edit(
        ctx.t(
            "ord.decline.ask",
            name=await name_of(ctx, order.buyer_id),
            title=order.package_name,
            total=money(q.total, order.currency),
        ),
        keyboard(
            [
                button(
                    ctx.t.plain("ord.btn.confirm_decline"), ORDER.data("confirm_decline", order_id)
                ),
                button(ctx.t.plain("ord.btn.back"), ORDER.data("view", order_id)),
            ]
        ),
    )
    ctx.answer()


async def _client_fee_bp(scope: Scope, order: ServiceOrder) -> int:
    if order.contract_id is None:
        return scope.config.client_fee_bp
    contract = await load(scope.uow.contracts, order.contract_id, "contract")
    return contract.client_fee_bp


@ORDER.on("confirm_decline")
async def confirm_decline_pressed(ctx: Context) -> None:
    order_id = _pressed_id(ctx)
    await uc.decline_order(ctx.uow, ctx.clock, ctx.config, gateway_of(ctx), ctx.user.id, order_id)
    await show_order(ctx, order_id, ctx.t("ord.declined_you"))
    ctx.answer(ctx.t.plain("ord.declined_short"))


# --- late delivery: the buyer cancels --------------------------------------------------------


@ORDER.on("cancel_late")
async def cancel_late_pressed(ctx: Context) -> None:
    order_id = _pressed_id(ctx)
    order = await uc.view_order(ctx.uow, ctx.user.id, order_id)
    if ctx.user.id != order.buyer_id or order.contract_id is None:
        raise NotAllowed("order_not_late", "The order is not late.")
    milestone = await uc.main_milestone(ctx.uow, order.contract_id, lock=False)
    if not uc.is_late(order, milestone, ctx.clock.now()):
        raise NotAllowed("order_not_late", "The order is not late.")
    q = funding_quote(order.total, await _client_fee_bp(ctx, order))
    await ctx.edit(
        ctx.t(
            "ord.late.ask",
            name=await name_of(ctx, order.seller_id),
            title=order.package_name,
            date=_when(order.due_at),
            total=money(q.total, order.currency),
        ),
        keyboard(
            [
                button(ctx.t.plain("ord.btn.confirm_late"), ORDER.data("confirm_late", order_id)),
                button(ctx.t.plain("ord.btn.back"), ORDER.data("view", order_id)),
            ]
        ),
    )
    ctx.answer()


@ORDER.on("confirm_late")
async def confirm_late_pressed(ctx: Context) -> None:
    order_id = _pressed_id(ctx)
    await uc.cancel_late(ctx.uow, ctx.clock, ctx.config, gateway_of(ctx), ctx.user.id, order_id)
    await show_order(ctx, order_id, ctx.t("ord.late.done"))
    ctx.answer(ctx.t.plain("ord.late.done_short"))


# --- a paid extra revision ----------------------------------------------------------------


@ORDER.on("revision")
async def revision_pressed(ctx: Context) -> None:
    order_id = _pressed_id(ctx)
    order = await uc.view_order(ctx.uow, ctx.user.id, order_id)
    if ctx.user.id != order.buyer_id:
        raise NotAllowed("order_not_found", "There is no such order.")
    if order.revisions_used < order.revisions_allowed:
        raise NotAllowed("order_revisions_left", "The package still has revisions left.")
    price = uc.extra_revision_price(order, ctx.config)
    fee_bp = await _client_fee_bp(ctx, order)
    cur = order.currency
    text = join(
        [
            ctx.t(
                "ord.revision.ask",
                title=order.package_name,
                allowed=order.revisions_allowed,
                name=await name_of(ctx, order.seller_id),
            ),
            *quote_lines(ctx.t, price, fee_bp, cur),
        ]
    )
    q = funding_quote(price, fee_bp)
    await ctx.edit(
        text,
        keyboard(
            [
                button(
                    ctx.t.plain("ord.btn.pay", total=money(q.total, cur)),
                    ORDER.data("pay_revision", order_id, str(price)),
                ),
                button(ctx.t.plain("ord.btn.back"), ORDER.data("view", order_id)),
            ]
        ),
    )
    ctx.answer()


@ORDER.on("pay_revision")
async def pay_revision_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    order_id = _pressed_id(ctx)
    payment = await uc.start_extra_revision(
        ctx.uow,
        ctx.clock,
        ctx.config,
        gateway_of(ctx),
        ctx.user.id,
        order_id,
        int_arg(ctx.callback.arg),
        shown_in=ctx.event.message_id,
    )
    if payment.checkout_url:  # a second tap: the same page again
        from handlers.flows.funding import checkout_message

        milestone = await load(ctx.uow.milestones, payment.milestone_id, "milestone")
        contract = await load(ctx.uow.contracts, milestone.contract_id, "contract")
        await ctx.edit(
            *checkout_message(ctx.t, milestone, contract, payment.amount, payment.checkout_url)
        )
    else:
        await ctx.edit(ctx.t("ord.preparing", title=ctx.t.plain("ord.revision.title")))
    ctx.answer(ctx.t.plain("ord.preparing_short"))


# --- /orders -----------------------------------------------------------------------------


async def show_list(ctx: Context, page: int) -> None:
    t = ctx.t
    selling = await uc.orders_of(ctx.uow, ctx.user.id, "seller")
    buying = await uc.orders_of(
        ctx.uow, ctx.user.id, "buyer", (SO.AWAITING_PAYMENT, *uc.ACTIVE_ORDERS)
    )
    earnings = await uc.earnings_per_service(ctx.uow, ctx.user.id)
    if not selling and not buying and not earnings:
        await ctx.edit(t("ord.list.empty"))
        return
    everyone = [*selling, *buying]
    shown, page, pages = page_of(everyone, page, PAGE_SIZE)
    now = ctx.clock.now()
    lines: list[str] = []
    buttons: list[Button] = []
    titles = await _titles(ctx, {o.service_id for o in everyone} | set(earnings))
    if selling:
        lines.append(t("ord.list.selling", count=len(selling)))
    if buying:
        lines.append(t("ord.list.buying", count=len(buying)))
    lines.append("")
    for o in shown:
        role = "sell" if o.seller_id == ctx.user.id else "buy"
        status = t.plain(f"ord.status.{o.status}")
        deadline = deadline_line(t, o, now)
        lines.append(
            t(
                f"ord.list.item_{role}",
                id=o.id,
                title=titles.get(o.service_id, o.package_name),
                package=o.package_name,
                status=status,
                total=money(o.total, o.currency),
            )
        )
        if deadline is not None:
            lines.append(Html(f"   {deadline}"))
        icon = "📥" if role == "sell" else "🛒"
        buttons.append(
            button(
                f"{icon} #{o.id} {titles.get(o.service_id, o.package_name)[:40]} · {status}",
                ORDER.data("view", o.id),
            )
        )
    if earnings:
        currency = ctx.config.currency
        lines += ["", t("ord.list.earnings")]
        for service_id, (count, earned) in sorted(earnings.items()):
            lines.append(
                t(
                    "ord.list.earned",
                    title=titles.get(service_id, f"#{service_id}"),
                    count=count,
                    total=money(earned, currency),
                )
            )
    nav = page_nav(t, str(ORDER), "list", page, pages)
    await ctx.edit(join(lines), keyboard(*[[b] for b in buttons], nav or None))


async def _titles(scope: Scope, ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for service_id in sorted(ids):
        found = await scope.uow.services.get(service_id)
        if found is not None:
            out[service_id] = found.title
    return out


@command("orders", order=117, menu=Menu.ANY, menu_order=77, read_only=True)
async def orders_command(ctx: Context) -> None:
    await show_list(ctx, 1)


@ORDER.on("list", read_only=True)
async def list_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await show_list(ctx, int_arg(ctx.callback.arg))


# --- 🔁 Order again ------------------------------------------------------------------------

ENDED_ORDERS = (SO.COMPLETED, SO.CANCELLED, SO.DECLINED, SO.EXPIRED)


def order_again_button(t: Translator, order_id: int) -> Button:
    return button(t.plain("ord.btn.order_again"), ORDER.data("again", order_id))


@ORDER.on("again", read_only=True)
async def again_pressed(ctx: Context) -> None:
    """The buyer orders the same service again: its card as a new message, the package
    bought last time first; a service no longer on sale (paused, deleted, or its
    seller in a block) is said to be gone."""
    await order_again(ctx, _pressed_id(ctx))
    ctx.answer()


async def order_again(ctx: Context, order_id: int) -> None:
    order = await uc.view_order(ctx.uow, ctx.user.id, order_id)
    if ctx.user.id != order.buyer_id:
        raise NotAllowed("order_not_found", "There is no such order.")
    from domain.services import ServiceStatus
    from handlers.service_views import service_screen

    service = await ctx.uow.services.get(order.service_id)
    try:
        if service is None or service.status is not ServiceStatus.ACTIVE:
            raise NotAllowed("service_not_found", "This service is not available.")
        await uc.buyable(ctx.uow, ctx.user.id, order.service_id, order.tier)
        text, kb = await service_screen(ctx, order.service_id, chosen=order.tier)
    except (NotAllowed, NotFound):
        title = service.title if service is not None else order.package_name
        await ctx.reply(ctx.t("ord.again.gone", title=title))
        return
    await ctx.reply(text, kb or None)


async def order_again_for_contract(
    scope: Scope, t: Translator, contract: Contract
) -> Button | None:
    """An ended order's contract card (flows/contracts.py): 🔁 Order again instead of
    a job's 🔁 Hire again."""
    order = await uc.order_of(scope.uow, contract.id)  # type: ignore[arg-type]
    return order_again_button(t, order.id) if order is not None and order.id else None


# --- the contract card's part (flows/contracts.py) ------------------------------------------


async def contract_card_buttons(
    scope: Scope, t: Translator, contract: Contract, side: str
) -> list[Button]:
    """An order's contract card, before the seller accepted: Accept / Decline for the
    seller; the order for both (instead of an offer's buttons)."""
    order = await uc.order_of(scope.uow, contract.id)  # type: ignore[arg-type]
    if order is None or order.id is None:
        return []
    found: list[Button] = []
    if side == "freelancer" and order.status is SO.AWAITING_ACCEPTANCE:
        found += _decision_buttons(t, order.id)
    found.append(button(t.plain("ord.btn.view"), ORDER.data("view", order.id)))
    return found


# --- notifications ------------------------------------------------------------------------


def _order_button(t: Translator, order_id: int) -> Button:
    return button(t.plain("ord.btn.view"), ORDER.data("view", order_id))


@renders(ServiceOrderPaid, load=milestone_rows)
async def order_paid(
    scope: Scope, event: ServiceOrderPaid, milestone: Milestone, contract: Contract
) -> None:
    order = await scope.uow.service_orders.get(event.order_id)
    if order is None:
        return
    accept_by = datetime.fromisoformat(event.accept_by)
    q = funding_quote(order.total, contract.client_fee_bp)
    net = settlement(order.total, order.total, contract.client_fee_bp, contract.freelancer_fee_bp)
    buyer = await name_of(scope, order.buyer_id)
    seller = await name_of(scope, order.seller_id)
    await scope.notify(
        order.buyer_id,
        "ord.paid.buyer",
        buttons=lambda t: keyboard(_order_button(t, order.id)),  # type: ignore[arg-type]
        total=money(q.total, order.currency),
        title=contract.title,
        name=seller,
        date=_when(accept_by),
    )
    t = await scope.translator_for(order.seller_id)
    text = join(
        [
            t(
                "ord.paid.seller",
                title=contract.title,
                name=buyer,
                amount=money(order.total, order.currency),
                net=money(net.to_freelancer, order.currency),
                percent=percent(contract.freelancer_fee_bp),
                days=_days(t, order.package_delivery_days),
                revisions=t.plain("ord.revisions", count=order.revisions_allowed),
            ),
            *(["", *extras_text(t, order)] if order.extras else []),
            *(["", *answers_text(t, order)] if order.answers else []),
            "",
            t("ord.paid.accept_by", date=_when(accept_by)),
        ]
    )
    await scope.notify(
        order.seller_id,
        text=text,
        buttons=lambda t: keyboard(
            _decision_buttons(t, order.id),  # type: ignore[arg-type]
            _order_button(t, order.id),  # type: ignore[arg-type]
        ),
    )


@renders(ServiceOrderReminder, load=milestone_rows)
async def order_reminder(
    scope: Scope, event: ServiceOrderReminder, milestone: Milestone, contract: Contract
) -> None:
    """The seller has a third of the acceptance window left (service_orders.remind_unaccepted)."""
    accept_by = datetime.fromisoformat(event.accept_by)
    hours = max(1, round((accept_by - scope.clock.now()).total_seconds() / 3600))
    await scope.notify(
        contract.freelancer_id,
        "ord.reminder.seller",
        buttons=lambda t: keyboard(
            _decision_buttons(t, event.order_id), _order_button(t, event.order_id)
        ),
        name=await name_of(scope, contract.client_id),
        title=contract.title,
        date=_when(accept_by),
        hours=hours,
    )


@renders(ServiceOrderAccepted, load=milestone_rows)
async def order_accepted(
    scope: Scope, event: ServiceOrderAccepted, milestone: Milestone, contract: Contract
) -> None:
    await scope.notify(
        contract.client_id,
        "ord.accepted.buyer",
        buttons=lambda t: keyboard(
            _order_button(t, event.order_id), open_contract_button(t, contract.id)
        ),  # type: ignore[arg-type]
        name=await name_of(scope, contract.freelancer_id),
        title=contract.title,
        date=_when(datetime.fromisoformat(event.due_at)),
    )


@renders(ServiceOrderRefunded, load=milestone_rows)
async def order_refunded(
    scope: Scope, event: ServiceOrderRefunded, milestone: Milestone, contract: Contract
) -> None:
    total = money(event.to_client, event.currency)
    buyer = await name_of(scope, contract.client_id)
    seller = await name_of(scope, contract.freelancer_id)
    why = event.why
    again = why in ("declined", "expired")  # the seller said no, or nothing: buy it later

    def buyer_buttons(t: Translator) -> Keyboard:
        shown = [_order_button(t, event.order_id)]
        return keyboard([*shown, order_again_button(t, event.order_id)] if again else shown)

    await scope.notify(
        contract.client_id,
        f"ord.refunded.{why}.buyer",
        buttons=buyer_buttons,
        name=seller,
        title=contract.title,
        total=total,
    )
    if why == "declined":  # the seller's own step says it
        return
    await scope.notify(
        contract.freelancer_id,
        f"ord.refunded.{why}.seller",
        buttons=lambda t: keyboard(_order_button(t, event.order_id)),
        name=buyer,
        title=contract.title,
        total=total,
    )


@renders(ServiceOrderLapsed)
async def order_lapsed(scope: Scope, event: ServiceOrderLapsed) -> None:
    contract = await scope.uow.contracts.get(event.contract_id)
    await scope.notify(
        event.client_id,
        "ord.lapsed.buyer",
        buttons=lambda t: keyboard(order_again_button(t, event.order_id)),
        title=contract.title if contract else "—",
        hours=scope.config.service_accept_hours,
    )


@renders(ServiceRevisionPaid, load=milestone_rows)
async def revision_paid(
    scope: Scope, event: ServiceRevisionPaid, milestone: Milestone, contract: Contract
) -> None:
    main = await uc.main_milestone(scope.uow, contract.id, lock=False)  # type: ignore[arg-type]
    mid = main.id
    await scope.notify(
        contract.client_id,
        "ord.revision_paid.buyer",
        buttons=lambda t: keyboard(
            button(t.plain("ord.btn.request_changes"), WORK.data("request_changes", mid))
            if MILESTONE.allows(main.status, "request_changes")
            else None,
            _order_button(t, event.order_id),
        ),
        total=money(event.total, event.currency),
        name=await name_of(scope, contract.freelancer_id),
        title=contract.title,
    )
    await scope.notify(
        contract.freelancer_id,
        "ord.revision_paid.seller",
        buttons=lambda t: keyboard(_order_button(t, event.order_id)),
        net=money(event.to_freelancer, event.currency),
        name=await name_of(scope, contract.client_id),
        title=contract.title,
    )


@renders(ServiceRevisionsSettled, load=milestone_rows)
async def revisions_settled(
    scope: Scope, event: ServiceRevisionsSettled, milestone: Milestone, contract: Contract
) -> None:
    """The order's paid extra revisions followed its milestone (service_orders.follow_order):
    both are told where their money went."""
    if event.to_client == 0:
        how, name = "released", await name_of(scope, contract.freelancer_id)
    elif event.to_freelancer == 0:
        how, name = "refunded", await name_of(scope, contract.client_id)
    else:
        how, name = "split", ""
    for user_id in (contract.client_id, contract.freelancer_id):
        await scope.notify(
            user_id,
            f"ord.revisions_settled.{how}",
            buttons=lambda t: keyboard(_order_button(t, event.order_id)),
            count=event.count,
            title=contract.title,
            name=name,
            net=money(event.to_freelancer, event.currency),
            back=money(event.to_client, event.currency),
        )


@renders(WorkSubmitted, load=milestone_rows)
async def order_delivered(
    scope: Scope, event: WorkSubmitted, milestone: Milestone, contract: Contract
) -> None:
    """Beside the review (flows/work.py): the order's revisions, and once they are
    used up, the way to a paid extra revision."""
    if contract.job_id is not None or contract.status is not ContractStatus.ACTIVE:
        return
    order = await uc.order_of(scope.uow, contract.id)  # type: ignore[arg-type]
    if order is None or order.id is None or milestone.kind != "work":
        return
    oid = order.id
    if order.revisions_used < order.revisions_allowed:
        await scope.notify(
            contract.client_id,
            "ord.delivered.revisions",
            left=order.revisions_allowed - order.revisions_used,
            count=order.revisions_allowed,
            days=contract.auto_release_days or scope.config.auto_release_days,
        )
        return
    price = uc.extra_revision_price(order, scope.config)
    await scope.notify(
        contract.client_id,
        "ord.delivered.no_revisions",
        buttons=lambda t: keyboard(_revision_button(t, oid, price, order.currency)),
        count=order.revisions_allowed,
        days=contract.auto_release_days or scope.config.auto_release_days,
    )


__all__ = ["REPLY", "contract_card_buttons", "show_order"]
