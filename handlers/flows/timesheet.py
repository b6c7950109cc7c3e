"""Hourly contracts in chat (domain/usecases/hourly.py): the hourly offer, logging
time, the timesheet, and the weekly invoice.

- Hire on an hourly job: the rate (the pitch's) and a weekly limit of hours
  (presets or typed) or ♾ No limit (the client's explicit choice, warned that
  nothing is pre-funded; the freelancer's offer says so too), a review with the
  weekly escrow and its fee, Send.
- `/log 2h30 memo` logs on the newest active hourly contract; `/log` alone offers
  today / yesterday × duration presets, then asks the memo (or Skip).
- `/timesheet` shows this week's entries (✏️ to change one, 🗑 to delete one while
  the week is open) and earlier weeks; the client sees the invoice's buttons
  there too (a no-limit week's invoice: 💳 Pay the invoice, the funding checkout).
- A week's invoice reaches the client with ✅ Approve, ✂️ Pay less (amount, then
  the reason) and ⚖️ Dispute (the disputes flow's own button).

Callback data (prefix "ts"):
- "ts:limit::<hours>"              offer: a weekly limit preset (0: no limit)
- "ts:send"                        offer: send the hourly offer on screen
- "ts:quick:<contract>:<d>_<min>"  log <min> minutes today (d=0) or yesterday (d=1)
- "ts:skip"                        no memo for the entry
- "ts:edit:<entry>"                change an entry (asks "duration memo")
- "ts:delete:<entry>"              delete an entry (its week still open)
- "ts:week:<contract>:<back>"      the timesheet <back> weeks ago
- "ts:close:<week>"                either party: close this week now (to end the contract)
- "ts:approve:<week>"              client: pay the invoice
- "ts:less:<week>"                 client: pay less (asks the amount, then the reason)
- "ts:cancel"                      leave any of the steps above
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.entities import Contract, Job, Milestone
from domain.errors import NotAllowed
from domain.events import (
    InvoiceIssued,
    InvoiceOverdue,
    InvoicePaid,
    PaymentFailed,
    WeekOpened,
    WeekUnfunded,
)
from domain.fees import funding_quote
from domain.money import parse_money
from domain.states import MilestoneStatus
from domain.timesheet import (
    INVOICE_KIND,
    MAX_WEEKLY_LIMIT_HOURS,
    NO_LIMIT,
    HourlyTerms,
    TimesheetWeek,
    split_log_text,
    week_start_of,
    weekly_escrow,
)
from domain.usecases import hourly
from domain.usecases.common import load
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.contract_views import open_contract_button
from handlers.events import Keyboard
from handlers.helpers import int_arg, name_of, percent
from handlers.i18n import Translator
from handlers.notify import milestone_rows, renders
from handlers.prefixes import DISPUTE, FUND
from handlers.render import Html, button, join, keyboard, money
from handlers.routing import Buttons, Steps, command, step

TS = Buttons("ts")
LIMIT_PRESETS = (10, 20, 40)
DURATION_PRESETS = (30, 60, 120, 240)
MAX_EDIT_BUTTONS = 8


class TimesheetStep(Steps, flow="timesheet"):
    """The values are stored: never change one."""

    LIMIT = "limit"  # the hourly offer's weekly limit, then its review
    MEMO = "memo"  # a quick entry's memo
    EDIT = "edit"  # an entry's new "duration memo"
    LESS = "less"  # the amount the client pays of an invoice
    REASON = "reason"  # and why


def hm(t: Translator, minutes: int) -> str:
    """Minutes for people: "2h30" / "2 ч 30 мин"."""
    h, m = divmod(minutes, 60)
    if not m:
        return t.plain("ts.hours", h=h)
    if not h:
        return t.plain("ts.minutes", m=m)
    return t.plain("ts.hm", h=h, m=f"{m:02d}")


def _cancel(t: Translator) -> Any:
    return button(t.plain("btn.cancel"), TS.data("cancel"))


def terms_line(t: Translator, terms: HourlyTerms, currency: str) -> Html:
    if terms.no_limit:
        return t("ts.terms_nolimit", rate=money(terms.rate, currency))
    return t(
        "ts.terms",
        rate=money(terms.rate, currency),
        limit=terms.weekly_limit_hours,
        escrow=money(weekly_escrow(terms.rate, terms.weekly_limit_hours), currency),
    )


async def offer_terms(scope: Scope, t: Translator, contract: Contract) -> Html | None:
    """An hourly offer's terms, for the offer's message (flows/offers.py)."""
    terms = await hourly.terms_of(scope.uow, contract.id)
    if terms is None:
        return None
    line = terms_line(t, terms, contract.currency)
    if terms.no_limit:  # the freelancer accepts knowingly
        days = scope.config.timesheet_review_days
        return join([line, t("ts.offer.nolimit_warning", days=days)])
    return line


async def is_no_limit(scope: Scope, contract_id: int) -> bool:
    """An hourly contract with no weekly limit (flows/offers.py words its news)."""
    terms = await hourly.terms_of(scope.uow, contract_id)
    return terms is not None and terms.no_limit


async def week_milestones(scope: Scope, contract_id: int) -> set[int]:
    """The milestones that are an hourly contract's weeks (flows/contracts.py)."""
    weeks = await scope.uow.weeks.find(contract_id=contract_id)
    return {w.milestone_id for w in weeks if w.milestone_id is not None}


# --- the hourly offer -------------------------------------------------------------------


async def start_hourly_offer(ctx: Context, job: Job, freelancer_id: int, rate: int) -> None:
    """Hire on an hourly job (flows/offers.py sends the client here)."""
    await ctx.set_state(TimesheetStep.LIMIT, {"job": job.id, "fl": freelancer_id, "rate": rate})
    await ctx.reply(
        ctx.t(
            "ts.offer.ask_limit",
            name=await name_of(ctx, freelancer_id),
            rate=money(rate, job.currency),
            max=MAX_WEEKLY_LIMIT_HOURS,
        ),
        keyboard(
            [
                button(ctx.t.plain("ts.btn.limit", h=h), TS.data("limit", arg=h))
                for h in LIMIT_PRESETS
            ],
            button(ctx.t.plain("ts.btn.no_limit"), TS.data("limit", arg=NO_LIMIT)),
            _cancel(ctx.t),
        ),
    )


async def _offer_review(ctx: Context, limit: int) -> None:
    """The offer to send; NO_LIMIT only from its own button (never typed)."""
    data = dict(ctx.data)
    if limit != NO_LIMIT and not 1 <= limit <= MAX_WEEKLY_LIMIT_HOURS:
        raise NotAllowed("weekly_limit_range", "1 to 168 hours.", max=MAX_WEEKLY_LIMIT_HOURS)
    data["lim"] = limit
    await ctx.set_state(TimesheetStep.LIMIT, data)
    job = await load(ctx.uow.jobs, int(data["job"]), "job")
    cur, rate = job.currency, int(data["rate"])
    q = funding_quote(weekly_escrow(rate, limit), ctx.config.client_fee_bp)
    t = ctx.t
    terms = HourlyTerms(contract_id=0, rate=rate, weekly_limit_hours=limit)
    if terms.no_limit:  # nothing pre-funded: said plainly before sending
        how = [
            t(
                "ts.offer.nolimit_client",
                percent=percent(ctx.config.client_fee_bp),
                days=ctx.config.timesheet_review_days,
            )
        ]
    else:
        how = [
            t(
                "ts.offer.fee",
                percent=percent(ctx.config.client_fee_bp),
                fee=money(q.client_fee, cur),
                total=money(q.total, cur),
            ),
            t("ts.offer.how"),
        ]
    await ctx.reply(
        join(
            [
                t("ts.offer.review", name=await name_of(ctx, int(data["fl"])), title=job.title),
                terms_line(t, terms, cur),
                *how,
            ]
        ),
        keyboard([button(t.plain("ts.btn.send"), TS.data("send")), _cancel(t)]),
    )


@TS.on("limit", wizard=True)
async def limit_pressed(ctx: Context) -> None:
    if not ctx.in_step(TimesheetStep.LIMIT):
        raise StaleButton()
    assert ctx.callback is not None
    await _offer_review(ctx, int_arg(ctx.callback.arg))
    ctx.answer()


@step(TimesheetStep.LIMIT)
async def limit_step(ctx: Context) -> None:
    text = ctx.text.strip()
    if not text.isdigit():
        raise NotAllowed("weekly_limit_range", "1 to 168 hours.", max=MAX_WEEKLY_LIMIT_HOURS)
    await _offer_review(ctx, int(text))


@TS.on("send", wizard=True)
async def send_pressed(ctx: Context) -> None:
    if not ctx.in_step(TimesheetStep.LIMIT) or "lim" not in ctx.data:
        raise StaleButton()
    data = ctx.data
    contract = await hourly.send_hourly_offer(
        ctx.uow,
        ctx.clock,
        ctx.config,
        ctx.user.id,
        int(data["job"]),
        int(data["fl"]),
        int(data["rate"]),
        int(data["lim"]),
    )
    await ctx.clear_state()
    await ctx.edit(
        ctx.t("ts.offer.sent", name=await name_of(ctx, contract.freelancer_id)),
        keyboard(open_contract_button(ctx.t, contract.id)),  # type: ignore[arg-type]
    )
    ctx.answer()


# --- logging time -----------------------------------------------------------------------


async def _my_hourly(ctx: Context, role: str = "freelancer_id") -> list[Contract]:
    found = await hourly.hourly_contracts_of(ctx.uow, ctx.user.id)
    return [c for c in found if getattr(c, role) == ctx.user.id]


async def _logged_reply(ctx: Context, logged: hourly.Logged, contract: Contract) -> None:
    t = ctx.t
    lines = [
        t(
            "ts.logged",
            time=hm(t, logged.entry.minutes),
            day=logged.entry.day.isoformat(),
            memo=logged.entry.memo or "—",
            title=contract.title,
        ),
        _week_total(t, logged.week_minutes, logged.limit_hours),
    ]
    if logged.limit_hours != NO_LIMIT and logged.week_minutes > logged.limit_hours * 60:
        lines.append(t("ts.over_limit", limit=logged.limit_hours))
    await ctx.reply(
        join(lines),
        keyboard(
            button(t.plain("ts.btn.edit"), TS.data("edit", logged.entry.id)),
            button(t.plain("ts.btn.timesheet"), TS.data("week", contract.id, 0)),
        ),
    )


def _week_total(t: Translator, minutes: int, limit: int) -> Html:
    if limit == NO_LIMIT:
        return t("ts.week_total_nolimit", time=hm(t, minutes))
    return t("ts.week_total", time=hm(t, minutes), limit=limit)


@command("log", order=135)
async def log_command(ctx: Context) -> None:
    contracts = await _my_hourly(ctx)
    if not contracts:
        await ctx.reply(ctx.t("ts.no_contract"))
        return
    contract = contracts[0]
    if ctx.args:
        minutes, memo = split_log_text(ctx.args)
        logged = await hourly.log_time(
            ctx.uow,
            ctx.clock,
            ctx.config,
            ctx.user.id,
            contract.id,
            minutes,
            memo,  # type: ignore[arg-type]
        )
        await _logged_reply(ctx, logged, contract)
        return
    t = ctx.t
    rows = [
        [
            button(t.plain(label, time=hm(t, m)), TS.data("quick", contract.id, f"{back}_{m}"))
            for m in DURATION_PRESETS
        ]
        for back, label in ((0, "ts.btn.today"), (1, "ts.btn.yesterday"))
    ]
    await ctx.reply(t("ts.log_help", title=contract.title), keyboard(*rows))


@TS.on("quick")
async def quick_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    back, _, minutes = (ctx.callback.arg or "").partition("_")
    if back not in ("0", "1") or not minutes.isdigit():
        raise StaleButton()
    day = ctx.clock.now().date() - timedelta(days=int(back))
    data = {"c": ctx.callback.require_id(), "d": day.isoformat(), "m": int(minutes)}
    await ctx.set_state(TimesheetStep.MEMO, data)
    await ctx.reply(
        ctx.t("ts.ask_memo", time=hm(ctx.t, int(minutes)), day=day.isoformat()),
        keyboard([button(ctx.t.plain("ts.btn.skip"), TS.data("skip")), _cancel(ctx.t)]),
    )
    ctx.answer()


async def _log_quick(ctx: Context, memo: str) -> None:
    data = ctx.data
    contract = await load(ctx.uow.contracts, int(data["c"]), "contract")
    logged = await hourly.log_time(
        ctx.uow,
        ctx.clock,
        ctx.config,
        ctx.user.id,
        contract.id,  # type: ignore[arg-type]
        int(data["m"]),
        memo,
        date.fromisoformat(str(data["d"])),
    )
    await ctx.clear_state()
    await _logged_reply(ctx, logged, contract)


@step(TimesheetStep.MEMO)
async def memo_step(ctx: Context) -> None:
    await _log_quick(ctx, ctx.text)


@TS.on("skip", wizard=True)
async def skip_pressed(ctx: Context) -> None:
    if not ctx.in_step(TimesheetStep.MEMO):
        raise StaleButton()
    await _log_quick(ctx, "")
    ctx.answer()


@TS.on("edit")
async def edit_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    entry = await ctx.uow.time_entries.get(ctx.callback.require_id())
    if entry is None:
        raise StaleButton()
    await ctx.set_state(TimesheetStep.EDIT, {"e": entry.id})
    await ctx.reply(
        ctx.t(
            "ts.ask_edit",
            time=hm(ctx.t, entry.minutes),
            day=entry.day.isoformat(),
            memo=entry.memo or "—",
        ),
        keyboard(_cancel(ctx.t)),
    )
    ctx.answer()


@step(TimesheetStep.EDIT)
async def edit_step(ctx: Context) -> None:
    minutes, memo = split_log_text(ctx.text)
    entry = await hourly.edit_entry(
        ctx.uow, ctx.clock, ctx.config, ctx.user.id, int(ctx.data["e"]), minutes, memo
    )
    await ctx.clear_state()
    await ctx.reply(
        ctx.t("ts.edited", time=hm(ctx.t, entry.minutes), memo=entry.memo or "—"),
        keyboard(button(ctx.t.plain("ts.btn.timesheet"), TS.data("week", entry.contract_id, 0))),
    )


@TS.on("delete")
async def delete_pressed(ctx: Context) -> None:
    """🗑 on /timesheet: the entry goes while its week is open; the timesheet is
    shown again in place."""
    assert ctx.callback is not None
    entry = await ctx.uow.time_entries.get(ctx.callback.require_id())
    if entry is None:
        raise StaleButton()
    await hourly.delete_entry(ctx.uow, ctx.clock, ctx.config, ctx.user.id, entry.id)  # type: ignore[arg-type]
    contract = await load(ctx.uow.contracts, entry.contract_id, "contract")
    start = week_start_of(ctx.clock.now(), ctx.config.timesheet_week_start)
    entry_week = week_start_of(
        datetime.combine(entry.day, datetime.min.time(), tzinfo=UTC),
        ctx.config.timesheet_week_start,
    )
    back = max((start - entry_week).days // 7, 0)
    text, buttons = await timesheet_text(ctx, ctx.t, contract, back, ctx.user.id)
    await ctx.edit(text, buttons)
    ctx.answer(ctx.t.plain("ts.deleted"))


# --- the timesheet ----------------------------------------------------------------------


def _status(t: Translator, week: TimesheetWeek, milestone: Milestone | None, now: datetime) -> Html:
    status = milestone.status if milestone else None
    if milestone is None:  # a no-limit week: open, or closed with nothing to pay
        return t("ts.status.open_nolimit" if week.closed_at is None else "ts.status.closed")
    if milestone.kind == INVOICE_KIND and status in (
        MilestoneStatus.PENDING,
        MilestoneStatus.FUNDING,
    ):
        overdue = week.review_until is not None and week.review_until <= now
        key = "ts.status.overdue" if overdue else "ts.status.invoice_due"
        return t(key, until=_moment(week.review_until))
    if week.settled_at is not None and week.paid is not None:
        return t("ts.status.paid", paid=money(week.paid, milestone.currency))  # type: ignore[union-attr]
    if status is MilestoneStatus.SUBMITTED:
        return t("ts.status.invoiced", until=_moment(week.review_until))
    if status is MilestoneStatus.DISPUTED:
        return t("ts.status.disputed")
    if status in (MilestoneStatus.PENDING, MilestoneStatus.FUNDING):
        return t("ts.status.unfunded")
    if status is MilestoneStatus.FUNDED:
        return t("ts.status.open")
    return t("ts.status.closed")


def _moment(at: Any) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "—"


async def timesheet_text(
    scope: Scope, t: Translator, contract: Contract, back: int, viewer: int
) -> tuple[Html, Keyboard | None]:
    terms = await hourly.terms_of(scope.uow, contract.id)
    assert terms is not None
    start = week_start_of(scope.clock.now(), scope.config.timesheet_week_start)
    start -= timedelta(days=7 * back)
    found = await scope.uow.weeks.find(contract_id=contract.id, week_start=start, limit=1)
    week = found[0] if found else None
    lines = [
        t("ts.title", title=contract.title, week=start.date().isoformat()),
        terms_line(t, terms, contract.currency),
    ]
    rows: list[Any] = []
    if week is None:
        lines.append(t("ts.no_week"))
    else:
        milestone = await scope.uow.milestones.get(week.milestone_id) if week.milestone_id else None
        lines.append(_status(t, week, milestone, scope.clock.now()))
        entries = await hourly.entries_of(scope.uow, week.id)  # type: ignore[arg-type]
        for i, e in enumerate(entries, start=1):
            lines.append(
                t("ts.entry", n=i, day=e.day.isoformat(), time=hm(t, e.minutes), memo=e.memo or "—")
            )
        total = sum(e.minutes for e in entries)
        lines.append(_week_total(t, total, terms.weekly_limit_hours))
        if week.closed_at is not None and week.invoice:
            lines.append(
                t(
                    "ts.invoice_line",
                    time=hm(t, week.billed_minutes),
                    amount=money(week.invoice, contract.currency),
                )
            )
        is_freelancer = viewer == contract.freelancer_id
        if week.closed_at is None and back == 0:  # to end the contract: invoice it now
            rows.append([button(t.plain("ts.btn.close_now"), TS.data("close", week.id))])
        if is_freelancer and week.closed_at is None:
            rows += [
                [
                    button(t.plain("ts.btn.edit_n", n=i), TS.data("edit", e.id)),
                    button(t.plain("ts.btn.delete_n", n=i), TS.data("delete", e.id)),
                ]
                for i, e in enumerate(entries[:MAX_EDIT_BUTTONS], start=1)
            ]
        if not is_freelancer and milestone is not None:
            rows.append(_invoice_buttons(t, week, milestone))
            if milestone.status is MilestoneStatus.PENDING:
                rows.append([_fund_button(t, milestone)])
    rows.append(
        [
            button(t.plain("ts.btn.earlier"), TS.data("week", contract.id, back + 1)),
            *(
                [button(t.plain("ts.btn.later"), TS.data("week", contract.id, back - 1))]
                if back
                else []
            ),
        ]
    )
    return join(lines), keyboard(*[r for r in rows if r])


def _fund_button(t: Translator, milestone: Milestone) -> Any:
    """Fund a week's escrow, or pay a no-limit week's invoice: the same checkout."""
    key = "ts.btn.pay_invoice" if milestone.kind == INVOICE_KIND else "ts.btn.fund"
    return button(t.plain(key), FUND.data("quote", milestone.id))


def _invoice_buttons(t: Translator, week: TimesheetWeek, milestone: Milestone) -> list[Any]:
    if milestone.status is not MilestoneStatus.SUBMITTED or week.settled_at is not None:
        return []
    return [
        button(t.plain("ts.btn.approve"), TS.data("approve", week.id)),
        button(t.plain("ts.btn.less"), TS.data("less", week.id)),
        button(t.plain("ts.btn.dispute"), DISPUTE.data("open", milestone.id)),
    ]


@command("timesheet", order=136)
async def timesheet_command(ctx: Context) -> None:
    contracts = await hourly.hourly_contracts_of(ctx.uow, ctx.user.id)
    if not contracts:
        await ctx.reply(ctx.t("ts.no_contract"))
        return
    for contract in contracts[:3]:
        text, buttons = await timesheet_text(ctx, ctx.t, contract, 0, ctx.user.id)
        await ctx.reply(text, buttons)


@TS.on("week")
async def week_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    contract = await load(ctx.uow.contracts, ctx.callback.require_id(), "contract")
    if ctx.user.id not in (contract.client_id, contract.freelancer_id):
        raise StaleButton()
    back = int_arg(ctx.callback.arg)
    text, buttons = await timesheet_text(ctx, ctx.t, contract, back, ctx.user.id)
    await ctx.edit(text, buttons)
    ctx.answer()


# --- the invoice ------------------------------------------------------------------------


@TS.on("approve")
async def approve_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await hourly.approve_invoice(ctx.uow, ctx.clock, ctx.user.id, ctx.callback.require_id())
    ctx.answer()


@TS.on("close")
async def close_pressed(ctx: Context) -> None:
    """Either party closes this week now: its time is invoiced at once, so the
    contract can end once the invoice is settled."""
    assert ctx.callback is not None
    week = await hourly.close_week_now(
        ctx.uow, ctx.clock, ctx.config, ctx.user.id, ctx.callback.require_id()
    )
    contract = await load(ctx.uow.contracts, week.contract_id, "contract")
    text, buttons = await timesheet_text(ctx, ctx.t, contract, 0, ctx.user.id)
    await ctx.edit(text, buttons)
    ctx.answer()


@TS.on("less")
async def less_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    week = await load(ctx.uow.weeks, ctx.callback.require_id(), "week")
    contract = await load(ctx.uow.contracts, week.contract_id, "contract")
    if contract.client_id != ctx.user.id or week.settled_at is not None:
        raise StaleButton()
    await ctx.set_state(TimesheetStep.LESS, {"w": week.id})
    await ctx.reply(
        ctx.t("ts.ask_less", invoice=money(week.invoice, contract.currency)),
        keyboard(_cancel(ctx.t)),
    )
    ctx.answer()


@step(TimesheetStep.LESS)
async def less_step(ctx: Context) -> None:
    week = await load(ctx.uow.weeks, int(ctx.data["w"]), "week")
    contract = await load(ctx.uow.contracts, week.contract_id, "contract")
    text = ctx.text.strip()
    amount = 0 if text in ("0", "0.00") else parse_money(text, contract.currency).amount
    if not 0 <= amount < week.invoice:
        raise NotAllowed("pay_less_range", "Less than the invoice.", invoice=week.invoice)
    await ctx.set_state(TimesheetStep.REASON, {"w": week.id, "a": amount})
    await ctx.reply(ctx.t("ts.ask_reason"), keyboard(_cancel(ctx.t)))


@step(TimesheetStep.REASON)
async def reason_step(ctx: Context) -> None:
    await hourly.pay_less(
        ctx.uow, ctx.clock, ctx.user.id, int(ctx.data["w"]), int(ctx.data["a"]), ctx.text
    )
    await ctx.clear_state()


@TS.on("cancel")
async def cancel_pressed(ctx: Context) -> None:
    if not ctx.in_step(TimesheetStep):
        raise StaleButton()
    await ctx.clear_state()
    await ctx.edit(ctx.t("ts.cancelled"))
    ctx.answer()


# --- what both are told -----------------------------------------------------------------


@renders(WeekOpened, load=milestone_rows)
async def week_opened(
    scope: Scope, event: WeekOpened, milestone: Milestone, contract: Contract
) -> None:
    cur = event.currency
    q = funding_quote(event.amount, contract.client_fee_bp)
    mid = milestone.id
    await scope.notify(
        contract.client_id,
        "ts.notify.week_client",
        buttons=lambda t: keyboard(
            button(t.plain("ts.btn.fund"), FUND.data("quote", mid)),
        ),
        title=contract.title,
        week=event.week_start,
        limit=event.limit_hours,
        escrow=money(event.amount, cur),
        total=money(q.total, cur),
    )
    await scope.notify(
        contract.freelancer_id,
        "ts.notify.week_freelancer",
        title=contract.title,
        week=event.week_start,
        limit=event.limit_hours,
    )


@renders(WeekUnfunded, load=milestone_rows)
async def week_unfunded(
    scope: Scope, event: WeekUnfunded, milestone: Milestone, contract: Contract
) -> None:
    for who in (contract.client_id, contract.freelancer_id):
        await scope.notify(who, "ts.notify.unfunded", title=contract.title, week=event.week_start)


@renders(PaymentFailed)
async def week_payment_failed(scope: Scope, event: PaymentFailed) -> None:
    """The client hears of the failure from flows/funding.py; the freelancer of a
    week's escrow is told that logging stays paused."""
    week = await hourly.week_of_milestone(scope.uow, event.milestone_id)
    if week is None:
        return
    milestone = await scope.uow.milestones.get(event.milestone_id)
    if milestone is not None and milestone.kind == INVOICE_KIND:
        return  # a no-limit invoice: logging goes on until its window ends
    contract = await scope.uow.contracts.get(week.contract_id)
    if contract is None:
        return
    await scope.notify(
        contract.freelancer_id,
        "ts.notify.payment_failed",
        title=contract.title,
        week=week.week_start.date().isoformat(),
    )


@renders(InvoiceIssued, load=milestone_rows)
async def invoice_issued(
    scope: Scope, event: InvoiceIssued, milestone: Milestone, contract: Contract
) -> None:
    """Both parties hear of the week's invoice, each in their language. With a weekly
    limit the escrow is held and the client may approve or dispute it; with none
    (INVOICE_KIND) nothing is held and the client pays it now."""
    cur = event.currency
    until = event.review_until[:16].replace("T", " ") + " UTC"
    if milestone.kind == INVOICE_KIND:
        kind, total = "_nolimit", funding_quote(event.invoice, contract.client_fee_bp).total
        buttons = _fund_button
    else:
        kind, total = "", event.amount
        week = await load(scope.uow.weeks, event.week_id, "week")

        def buttons(t: Translator, milestone: Milestone) -> Any:
            return _invoice_buttons(t, week, milestone)

    for who, key in (
        (contract.client_id, "ts.notify.invoice_client"),
        (contract.freelancer_id, "ts.notify.invoice_freelancer"),
    ):
        t = await scope.translator_for(who)
        text = t(
            key + kind,
            title=contract.title,
            week=event.week_start,
            logged=hm(t, event.logged_minutes),
            billed=hm(t, event.billed_minutes),
            invoice=money(event.invoice, cur),
            escrow=money(total, cur),
            total=money(total, cur),
            until=until,
        )
        shown = keyboard(buttons(t, milestone)) if who == contract.client_id else None
        await scope.notify(who, text=text, buttons=shown)


@renders(InvoiceOverdue, load=milestone_rows)
async def invoice_overdue(
    scope: Scope, event: InvoiceOverdue, milestone: Milestone, contract: Contract
) -> None:
    common = {
        "title": contract.title,
        "week": event.week_start,
        "invoice": money(event.invoice, event.currency),
    }
    await scope.notify(
        contract.client_id,
        "ts.notify.overdue_client",
        buttons=lambda t: keyboard(_fund_button(t, milestone)),
        **common,
    )
    await scope.notify(contract.freelancer_id, "ts.notify.overdue_freelancer", **common)


@renders(InvoicePaid, load=milestone_rows)
async def invoice_paid(
    scope: Scope, event: InvoicePaid, milestone: Milestone, contract: Contract
) -> None:
    cur = event.currency
    why = "ts.notify.paid_auto" if event.auto else "ts.notify.paid"
    common = {"title": contract.title, "week": event.week_start}
    await scope.notify(
        contract.freelancer_id,
        why + "_freelancer",
        buttons=lambda t: keyboard(open_contract_button(t, contract.id)),  # type: ignore[arg-type]
        invoice=money(event.invoice, cur),
        paid=money(event.paid, cur),
        net=money(event.to_freelancer, cur),
        percent=percent(contract.freelancer_fee_bp),
        **common,
    )
    if milestone.kind == INVOICE_KIND:  # no limit: nothing held, nothing comes back
        why = "ts.notify.paid_invoice"
    await scope.notify(
        contract.client_id,
        why + "_client",
        invoice=money(event.invoice, cur),
        paid=money(event.paid, cur),
        refunded=money(event.refunded, cur),
        **common,
    )
    if event.reason:
        await scope.notify(
            contract.freelancer_id, "ts.notify.paid_less_reason", reason=event.reason
        )
