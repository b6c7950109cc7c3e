"""Balance, earnings history (from the ledger) and withdrawals.

/balance shows a freelancer what can be withdrawn (the ledger account
freelancer:<id>), what is held in escrow for their work, and totals earned and
paid out; a client what they paid into escrow, what it holds now and the refunds
they received (the escrow:milestone:<id> accounts of their milestones), with a
payments history; someone who is both sees both parts. Withdraw goes through
the gateway's payout (request_payout); "Paid out" follows when the gateway
confirms it (PayoutSent). A gateway whose payouts need the freelancer to set up an
account first (Stripe Connect) may offer `payout_setup_link(uow, clock,
user_id) -> str | None`: a link while setup is unfinished, None when payouts
work; then the chat shows that link as a button instead of Withdraw.

Callback data (prefix "bal"):
- "bal:show"             the balance card
- "bal:hist::<page>"     earnings history, page n
- "bal:payments::<page>" a client's payments history, page n
- "bal:wd"               withdraw: choose all or another amount
- "bal:amt"              type another amount
- "bal:ok:<amount>"      confirm a withdrawal of <amount> minor units
- "bal:x"                cancel
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from domain import ledger
from domain.errors import NotAllowed, ValidationError
from domain.events import PayoutSent
from domain.money import Money, parse_money
from domain.states import HELD
from domain.usecases import payouts as uc
from domain.usecases import queries
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.contract_views import escrow_line, open_contract_button
from handlers.flows.charts import earnings_button, spending_button
from handlers.i18n import Translator
from handlers.notify import renders
from handlers.prefixes import BALANCE
from handlers.render import Html, button, join, keyboard, money, pagination_row, url_button
from handlers.routing import Menu, Steps, command, step


class BalanceStep(Steps, flow="balance"):
    """Withdrawing, step by step (the values are stored: never change one)."""

    AMOUNT = "amount"


HISTORY_PAGE = 8

SetupLink = Callable[[Any, Any, int], Awaitable[str | None]]


async def _held_for_work(ctx: Context) -> int:
    """Escrow held (amounts, fees excluded) for the user's work as a freelancer."""
    held = 0
    for contract in await ctx.uow.contracts.find(freelancer_id=ctx.user.id):
        for m in await ctx.uow.milestones.find(contract_id=contract.id):
            if m.status in HELD and m.currency == ctx.config.currency:
                held += m.amount
    return held


async def _movements(scope: Scope, user_id: int) -> list[tuple[Any, int]]:
    """(transaction, amount to this user's account) for every movement of the account."""
    account = ledger.freelancer_account(user_id)
    out = []
    for tx in await scope.uow.ledger.transactions(account):
        postings = await scope.uow.ledger.postings_of(tx.key)  # type: ignore[attr-defined]
        amount = sum(p.amount for p in postings if p.account == account)
        if amount:
            out.append((tx, amount))
    return out


async def show_balance(ctx: Context) -> None:
    """The freelancer's part (withdrawable, held for their work, earned, withdrawn)
    and the client's part (paid, in escrow, refunds received): each to whoever has
    that role or money in it; both to someone who is both."""
    t, cur = ctx.t, ctx.config.currency
    available = await uc.balance(ctx.uow, ctx.user.id)
    moves = await _movements(ctx, ctx.user.id)
    for_work = await _held_for_work(ctx)
    client = await queries.client_money(ctx.uow, ctx.user.id, cur)
    as_client = ctx.user.is_client or bool(client.entries)
    as_freelancer = ctx.user.is_freelancer or bool(moves or for_work) or not as_client
    both = as_client and as_freelancer
    lines = [t("balance.title")]
    if as_freelancer:
        earned = sum(a for _, a in moves if a > 0)
        paid = -sum(a for _, a in moves if a < 0)
        if both:
            lines += [Html(""), t("balance.as_freelancer")]
        lines += [
            t("balance.available", amount=money(available, cur)),
            t("balance.held_work", amount=money(for_work, cur)),
            t("balance.earned", amount=money(earned, cur)),
            t("balance.paid_out", amount=money(paid, cur)),
        ]
    if as_client:
        if both:
            lines += [Html(""), t("balance.as_client")]
        lines += [
            t("balance.client.paid", amount=money(client.paid, cur)),
            escrow_line(t, client.escrow, cur),
            t("balance.client.refunded", amount=money(client.refunded, cur)),
        ]
    withdraw = (
        button(t.plain("balance.btn.withdraw"), BALANCE.data("withdraw"))
        if as_freelancer and available > 0
        else None
    )
    history = (
        button(t.plain("balance.btn.history"), BALANCE.data("history", arg=1)) if moves else None
    )
    payments = (
        button(t.plain("balance.btn.payments"), BALANCE.data("payments", arg=1))
        if client.entries
        else None
    )
    charts = [
        earnings_button(t) if as_freelancer and moves else None,
        spending_button(t) if client.entries else None,
    ]
    await ctx.edit(
        join(lines), keyboard(withdraw, history, payments, [b for b in charts if b] or None)
    )


async def show_payments(ctx: Context, page: int) -> None:
    """The client's payments history, newest first: paid into escrow, refunds."""
    t, cur = ctx.t, ctx.config.currency
    entries = (await queries.client_money(ctx.uow, ctx.user.id, cur)).entries
    if not entries:
        await ctx.edit(t("balance.payments.empty"), keyboard(_back(ctx)))
        return
    pages = (len(entries) + HISTORY_PAGE - 1) // HISTORY_PAGE
    page = min(max(page, 1), pages)
    lines = [t("balance.payments.title"), Html("")]
    for e in entries[(page - 1) * HISTORY_PAGE : page * HISTORY_PAGE]:
        sign = "−" if e.kind == "paid" else "+"
        lines.append(
            t(
                "balance.history.item",
                date=e.at.date().isoformat() if e.at else "",
                amount=sign + money(e.amount, cur),
                what=t.plain(f"balance.payments.{e.kind}", title=e.milestone.title),
            )
        )
    nav = pagination_row(
        page,
        pages,
        lambda p: BALANCE.data("payments", arg=p),
        prev=t.plain("btn.prev"),
        next_=t.plain("btn.next"),
    )
    await ctx.edit(join(lines), keyboard(nav or None, _back(ctx)))


async def show_history(ctx: Context, page: int) -> None:
    t, cur = ctx.t, ctx.config.currency
    moves = list(reversed(await _movements(ctx, ctx.user.id)))
    if not moves:
        await ctx.edit(t("balance.history.empty"), keyboard(_back(ctx)))
        return
    pages = (len(moves) + HISTORY_PAGE - 1) // HISTORY_PAGE
    page = min(max(page, 1), pages)
    lines = [t("balance.history.title"), Html("")]
    for tx, amount in moves[(page - 1) * HISTORY_PAGE : page * HISTORY_PAGE]:
        when = tx.created_at.date().isoformat() if tx.created_at else ""
        what = await _describe(ctx, t, tx.key)
        sign = "+" if amount > 0 else "−"
        lines.append(
            t("balance.history.item", date=when, amount=sign + money(abs(amount), cur), what=what)
        )
    nav = pagination_row(
        page,
        pages,
        lambda p: BALANCE.data("history", arg=p),
        prev=t.plain("btn.prev"),
        next_=t.plain("btn.next"),
    )
    await ctx.edit(join(lines), keyboard(nav or None, _back(ctx)))


async def _describe(scope: Scope, t: Translator, key: str) -> str:
    """A ledger key in words: "released: <milestone>", "withdrawal #3" …"""
    parts = key.split(":")
    if parts[0] in ("settle", "transfer") and len(parts) == 3 and parts[2].isdigit():
        milestone = await scope.uow.milestones.get(int(parts[2]))
        title = milestone.title if milestone else "#" + parts[2]
        kind = "release" if parts[0] == "settle" else "transfer"
        return t.plain(f"balance.history.{kind}", title=title)
    if parts[0] == "payout" and len(parts) == 2:
        return t.plain("balance.history.payout", id=parts[1])
    return key


def where_to(t: Translator, gateway: str | None, destination: str | None) -> str:
    """Where a withdrawal goes, in words: "your sandbox account", "your Stripe
    account …1234" (the account's last characters when the gateway names one)."""
    if destination and t.has(f"balance.to.{gateway}_account"):
        return t.plain(f"balance.to.{gateway}_account", last4=destination[-4:])
    if gateway and t.has(f"balance.to.{gateway}"):
        return t.plain(f"balance.to.{gateway}")
    return t.plain("balance.to.account")


async def _where(ctx: Context) -> str:
    if ctx.gateway is None:
        return where_to(ctx.t, None, None)
    found = await uc.destination(ctx.uow, ctx.gateway, ctx.user.id)
    return where_to(ctx.t, ctx.gateway.name, found)


def _back(ctx: Context) -> dict[str, str]:
    return button(ctx.t.plain("balance.btn.back"), BALANCE.data("show"))


# --- withdrawing -------------------------------------------------------------------------


async def _setup_link(ctx: Context) -> str | None:
    hook: SetupLink | None = getattr(ctx.gateway, "payout_setup_link", None)
    return await hook(ctx.uow, ctx.clock, ctx.user.id) if hook else None


async def ask_withdraw(ctx: Context) -> None:
    t, cur = ctx.t, ctx.config.currency
    if ctx.gateway is None:
        raise NotAllowed("payments_unavailable", "Payments are not available right now.")
    available = await uc.balance(ctx.uow, ctx.user.id)
    if available <= 0:
        raise NotAllowed("balance_empty", "There is nothing to withdraw yet.")
    link = await _setup_link(ctx)
    if link:
        await ctx.edit(
            t("balance.setup_needed"),
            keyboard(url_button(t.plain("balance.btn.setup"), link), _back(ctx)),
        )
        return
    await ctx.edit(
        t("balance.withdraw.ask", amount=money(available, cur), where=await _where(ctx)),
        keyboard(
            button(
                t.plain("balance.btn.withdraw_all", amount=money(available, cur)),
                BALANCE.data("confirm", available),
            ),
            button(t.plain("balance.btn.other_amount"), BALANCE.data("other_amount")),
            _back(ctx),
        ),
    )


async def confirm_withdraw(ctx: Context, amount: int) -> None:
    if ctx.gateway is None:
        raise NotAllowed("payments_unavailable", "Payments are not available right now.")
    if await _setup_link(ctx):
        raise NotAllowed("payout_setup_needed", "Set up payouts first.")
    payout = await uc.request_payout(
        ctx.uow, ctx.clock, ctx.config, ctx.gateway, ctx.user.id, amount
    )
    if ctx.in_step(BalanceStep):
        await ctx.clear_state()
    left = await uc.balance(ctx.uow, ctx.user.id)
    assert payout.id is not None
    gateway, destination = await uc.paid_to(ctx.uow, payout.id)
    await ctx.edit(
        ctx.t(
            "balance.withdraw.done",
            amount=money(payout.amount, payout.currency),
            id=payout.id,
            left=money(left, payout.currency),
            where=where_to(ctx.t, gateway, destination),
        ),
        keyboard(_back(ctx)),
    )
    ctx.answer(ctx.t.plain("balance.withdraw.done_short"))


async def ask_amount(ctx: Context) -> None:
    available = await uc.balance(ctx.uow, ctx.user.id)
    if available <= 0:
        raise NotAllowed("balance_empty", "There is nothing to withdraw yet.")
    await ctx.set_state(BalanceStep.AMOUNT, {})
    await ctx.edit(
        ctx.t("balance.withdraw.ask_amount", amount=money(available, ctx.config.currency)),
        keyboard(button(ctx.t.plain("btn.cancel"), BALANCE.data("cancel"))),
    )


@step(BalanceStep.AMOUNT)
async def amount_step(ctx: Context) -> None:
    t, cur = ctx.t, ctx.config.currency
    amount = parse_money(ctx.text, cur).amount
    available = await uc.balance(ctx.uow, ctx.user.id)
    if amount > available:
        raise ValidationError(
            "balance_insufficient",
            "That is more than your balance.",
            balance=Money(available, cur),
        )
    await ctx.clear_state()
    await ctx.reply(
        t("balance.withdraw.confirm", amount=money(amount, cur), where=await _where(ctx)),
        keyboard(
            button(
                t.plain("balance.btn.confirm", amount=money(amount, cur)),
                BALANCE.data("confirm", amount),
            ),
            button(t.plain("btn.cancel"), BALANCE.data("cancel")),
        ),
    )


@command("balance", order=130, menu=Menu.ANY, menu_order=90)
async def balance_command(ctx: Context) -> None:
    await show_balance(ctx)


@BALANCE.on("show")
async def show_pressed(ctx: Context) -> None:
    await show_balance(ctx)


@BALANCE.on("history", old=("hist",))
async def history_pressed(ctx: Context) -> None:
    page = ctx.callback.arg if ctx.callback else None
    if page is None or not page.isdigit():
        raise StaleButton()
    await show_history(ctx, int(page))


@BALANCE.on("payments")
async def payments_pressed(ctx: Context) -> None:
    page = ctx.callback.arg if ctx.callback else None
    if page is None or not page.isdigit():
        raise StaleButton()
    await show_payments(ctx, int(page))


@BALANCE.on("withdraw", old=("wd",))
async def withdraw_pressed(ctx: Context) -> None:
    await ask_withdraw(ctx)


@BALANCE.on("other_amount", old=("amt",))
async def other_amount_pressed(ctx: Context) -> None:
    await ask_amount(ctx)


@BALANCE.on("confirm", old=("ok",))
async def confirm_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await confirm_withdraw(ctx, ctx.callback.require_id())


@BALANCE.on("cancel", old=("x",))
async def cancel_pressed(ctx: Context) -> None:
    if ctx.in_step(BalanceStep):
        await ctx.clear_state()
    await ctx.edit(ctx.t("balance.cancelled"), keyboard(_back(ctx)))


@renders(PayoutSent)
async def payout_sent(scope: Scope, event: PayoutSent) -> None:
    """The gateway confirmed a payout (the runner recorded its answer): "Paid out $X
    to <where>" — a withdrawal, or a released milestone's transfer (Stripe Connect).
    The withdrawal step itself only says the money is on its way."""
    gateway, destination = await uc.paid_to(scope.uow, event.payout_id)
    t = await scope.translator_for(event.user_id)
    where = where_to(t, gateway, destination)
    amount = money(event.amount, event.currency)
    if event.milestone_id is None:
        await scope.notify(
            event.user_id,
            "balance.notify.paid_out",
            buttons=lambda t: keyboard(button(t.plain("balance.btn.back"), BALANCE.data("show"))),
            amount=amount,
            where=where,
            id=event.payout_id,
        )
        return
    milestone = await scope.uow.milestones.get(event.milestone_id)
    cid = milestone.contract_id if milestone else None
    await scope.notify(
        event.user_id,
        "balance.notify.transfer",
        buttons=(lambda t: keyboard(open_contract_button(t, cid))) if cid else None,  # type: ignore[arg-type]
        amount=amount,
        where=where,
        title=milestone.title if milestone else "—",
    )
