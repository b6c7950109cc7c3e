"""The admins' commands (user ids in config.admin_ids; for everyone else these
commands do not exist: "unknown command", no effect).

/disputes            open disputes, oldest first, as buttons (where each is on its clock)
/dispute <id>        the evidence: that milestone's timeline (funding, submissions, the
                     dispute's messages and steps, labelled), amounts, both records
/resolve <id> <share> [reason]  the freelancer's share (all, none, 60%, 120.50); a
                     confirmation shows who gets what (domain.fees.settlement) before
                     anything moves, and asks for an optional short reason both parties
                     receive (typed, or given after the share; Skip resolves without one)
/take <id>           handle a dispute: both parties are told who decides
/ban <user id> [reason], /unban <user id>, /user <user id>
/stats               users, jobs by status, contracts, escrow held, stalled escrow, fees
                     earned, disputes
/stalled             stalled escrow: funded milestones with no submission well past due
/audit               the audit log, latest first, paged
/reports             open reports: view the target, ban, close (audited)

Callback data (prefix "adm", handlers/prefixes.py ADMIN; every press is re-checked:
admins only; the old codes of buttons already sent, still honoured, in brackets):
- "adm:evidence:<dispute_id>" evidence (d), "adm:files:<dispute_id>" the evidence files (ev),
  "adm:resolve:<dispute_id>:<share>" confirm a resolution and ask for a reason (rs),
  "adm:confirm_resolve:<dispute_id>:<share>" resolve with the reason typed (rsok),
  "adm:skip_reason:<dispute_id>:<share>" resolve without a reason,
  "adm:take:<dispute_id>" take the dispute, "adm:stalled::<page>" stalled escrow
- "adm:disputes::<page>" open disputes (dl), "adm:audit::<page>" audit log (al),
  "adm:reports::<page>" open reports (rl)
- "adm:user:<user_id>" user card (u), "adm:ban_user:<user_id>" (ban) / "adm:confirm_ban:<user_id>"
  ban (banok), "adm:unban:<user_id>"
- "adm:report:<report_id>" a report with its target (rp), "adm:close_report:<report_id>"
  close it (rc)
- "adm:frozen:<milestone_id>" a milestone frozen by a chargeback (payment, escrow,
  parties) (fz), "adm:decide_frozen:<milestone_id>:<share>" confirm a decision (fzs),
  "adm:settle_frozen:<milestone_id>:<share>" settle it (fzok)
  (domain.usecases.disputes.resolve_frozen)
Ban, unban, resolve and closing a report are written to the audit log by the use cases.

Chargebacks: "milestone_frozen" reaches every admin with Inspect and the quick
decisions; "chargeback_after_settlement" (the money had already left escrow) is
reported with the parties' cards. Frozen milestones head the /disputes list.
"""

from __future__ import annotations

import re
from typing import Any

from domain import ledger, validation
from domain.entities import Contract, Milestone, Report, User
from domain.errors import NotAllowed, NotFound
from domain.events import (
    ChargebackAfterSettlement,
    DisputeAdminReminder,
    DisputeEscalated,
    MilestoneFrozen,
    UserBanned,
    UserUnbanned,
)
from domain.fees import Settlement, settlement
from domain.reputation import FreelancerRecord
from domain.states import HELD, ContractStatus, DisputeStage, JobStatus, MilestoneStatus
from domain.usecases import accounts
from domain.usecases import admin as uc
from domain.usecases import disputes as disputes_uc
from domain.usecases import reports as reports_uc
from domain.usecases.common import load, milestone_with_contract
from domain.usecases.queries import Escrow
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.contract_views import escrow_line
from handlers.events import Button
from handlers.flows.charts import send_weekly_chart
from handlers.flows.disputes import next_step, when
from handlers.helpers import gateway_of, int_arg, name_of, page_nav, page_of
from handlers.i18n import Translator
from handlers.notify import dispute_rows, renders
from handlers.prefixes import ADMIN, OPEN, REVIEW
from handlers.render import Html, button, esc, join, keyboard, money, shorten
from handlers.routing import Menu, Steps, command, step

PAGE = 8
TIMELINE_TEXT = 300  # characters of one timeline entry
FILE_NOTE = 800  # characters of a file's note in its caption (Telegram allows 1024)
_ID = re.compile(r"[1-9][0-9]{0,17}")
MONEY_DETAILS = ("share", "amount")  # audit details in minor units


class AdminStep(Steps, flow="admin"):
    """An admin's conversation (the values are stored: never change one)."""

    REASON = "resolve_reason"  # the optional reason of a decision, typed


def _require_admin(ctx: Context) -> None:
    if not ctx.is_admin:
        raise NotAllowed("admin_only", "Only an admin can do this.")


async def _name(scope: Scope, user_id: int | None) -> str:
    return "—" if user_id is None else await name_of(scope, user_id)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def _user_id(text: str) -> int | None:
    return int(text) if _ID.fullmatch(text) else None


# --- what the dispute and the frozen-milestone views share ---------------------------------


def _share_buttons(t: Translator, action: str, target_id: int, amount: int) -> list[Button]:
    """The quick decisions: all, half or none of `amount` to the freelancer."""
    return [
        button(t.plain("adm.btn.all"), ADMIN.data(action, target_id, amount)),
        button(t.plain("adm.btn.half"), ADMIN.data(action, target_id, amount // 2)),
        button(t.plain("adm.btn.none"), ADMIN.data(action, target_id, 0)),
    ]


def _party_buttons(t: Translator, contract: Contract) -> list[Button]:
    return [
        button(t.plain("adm.btn.client"), ADMIN.data("user", contract.client_id)),
        button(t.plain("adm.btn.freelancer"), ADMIN.data("user", contract.freelancer_id)),
    ]


def _disputes_button(t: Translator) -> Button:
    return button(t.plain("adm.btn.disputes"), ADMIN.data("disputes", arg=1))


def _case_lines(
    t: Translator, contract: Contract, m: Milestone, escrow: int, client: str, freelancer: str
) -> list[Html]:
    """The contract, its parties and the milestone with what its escrow holds."""
    return [
        t("adm.ev.contract", id=contract.id, title=contract.title),
        t(
            "adm.ev.parties",
            client=client,
            client_id=contract.client_id,
            freelancer=freelancer,
            freelancer_id=contract.freelancer_id,
        ),
        t(
            "adm.ev.milestone",
            title=m.title,
            amount=money(m.amount, m.currency),
            status=t.plain(f"milestone.status.{m.status}"),
        ),
        escrow_line(t, Escrow.split(escrow, m.amount), m.currency),
    ]


async def _split_text(
    ctx: Context, key: str, target_id: int, m: Milestone, contract: Contract, share: int
) -> Html:
    """Who gets what (domain.fees.settlement) if the freelancer's share is `share`."""
    if not 0 <= share <= m.amount:
        raise StaleButton()
    s = settlement(m.amount, share, contract.client_fee_bp, contract.freelancer_fee_bp)
    cur = m.currency
    return ctx.t(
        key,
        id=target_id,
        share=money(share, cur),
        amount=money(m.amount, cur),
        freelancer=await _name(ctx, contract.freelancer_id),
        to_freelancer=money(s.to_freelancer, cur),
        client=await _name(ctx, contract.client_id),
        to_client=money(s.to_client, cur),
        fees=money(s.to_platform, cur),
    )


async def _confirm_split(
    ctx: Context,
    key: str,
    target_id: int,
    m: Milestone,
    contract: Contract,
    share: int,
    ok: str,
    cancel: str,
) -> None:
    """Who gets what before anything moves; `ok` is the confirming button's data,
    `cancel` the way back."""
    t = ctx.t
    await ctx.edit(
        await _split_text(ctx, key, target_id, m, contract, share),
        keyboard(
            [button(t.plain("adm.btn.resolve_sure"), ok), button(t.plain("btn.cancel"), cancel)]
        ),
    )


async def _show_settled(
    ctx: Context, key: str, target_id: int, split: Settlement, currency: str
) -> None:
    await ctx.edit(
        ctx.t(
            key,
            id=target_id,
            to_freelancer=money(split.to_freelancer, currency),
            to_client=money(split.to_client, currency),
        ),
        keyboard(_disputes_button(ctx.t)),
    )
    ctx.answer(ctx.t.plain("adm.resolved_short"))


# --- disputes --------------------------------------------------------------------------------


def _stage_label(t: Translator, d: Any) -> str:
    """Where a live dispute is on its clock, for the admins' list."""
    if d.status not in disputes_uc.LIVE:
        return t.plain(f"dsp.status.{d.status}")
    if d.stage is DisputeStage.ADMIN:
        return t.plain("adm.stage.taken" if d.handled_by else "adm.stage.admin")
    return t.plain(f"adm.stage.{d.stage}")


async def _show_disputes(ctx: Context, page: int) -> None:
    t = ctx.t
    found = await uc.open_disputes(ctx.uow, ctx.config, ctx.user.id, limit=500)
    frozen = await ctx.uow.milestones.find(order_by="id", status=MilestoneStatus.FROZEN)
    if not found and not frozen:
        await ctx.edit(t("adm.disputes_none"))
        return
    # Chargebacks first: the bank is already involved; then those awaiting an admin.
    items: list[Button] = [
        button(
            f"🧊 {t.plain('adm.frozen.item', id=m.id)} · {money(m.amount, m.currency)}",
            ADMIN.data("frozen", m.id),
        )
        for m in frozen
    ]
    found.sort(key=lambda d: d.stage is not DisputeStage.ADMIN)
    for d in found:
        milestone = await ctx.uow.milestones.get(d.milestone_id)
        amount = money(milestone.amount, milestone.currency) if milestone else "?"
        label = f"⚖️ #{d.id} · {amount} · {_stage_label(t, d)}"
        items.append(button(label, ADMIN.data("evidence", d.id)))
    shown, page, pages = page_of(items, page, PAGE)
    text = t("adm.disputes_title", count=len(found))
    if frozen:
        text = join([text, t("adm.frozen.count", count=len(frozen))])
    await ctx.edit(
        text, keyboard(*[[b] for b in shown], page_nav(t, ADMIN, "disputes", page, pages) or None)
    )


def _record_line(t: Translator, role: str, name: str, record: FreelancerRecord) -> Html:
    ratings = record.ratings
    average = f"{sum(ratings) / len(ratings):.1f}★ ({len(ratings)})" if ratings else "—"
    return t(
        "adm.record",
        role=t.plain(f"role.{role}"),
        name=name,
        completed=record.contracts_completed,
        disputed=record.contracts_disputed,
        rating=average,
        on_time=record.milestones_on_time,
        late=record.milestones_late,
    )


async def _timeline_line(ctx: Context, item: uc.TimelineItem, currency: str) -> Html:
    """One labelled event of the milestone: when, what (in words), who, how much."""
    t = ctx.t
    label = t(f"adm.tl.{item.kind}", name=await _name(ctx, item.actor_id))
    line = Html(f"• {esc(_when(item.at))} — {label}")
    if item.amount is not None:
        line = join([line, esc(money(item.amount, currency))], " · ")
    if item.text:
        line = join([line, esc(shorten(item.text, TIMELINE_TEXT))])
    if item.files:
        line = join([line, t("adm.ev.files", count=len(item.files))])
    return line


async def _show_evidence(ctx: Context, dispute_id: int) -> None:
    t = ctx.t
    ev = await uc.dispute_evidence(ctx.uow, ctx.clock, ctx.config, ctx.user.id, dispute_id)
    d, m, c = ev.dispute, ev.milestone, ev.contract
    cur = m.currency
    client, freelancer = await _name(ctx, c.client_id), await _name(ctx, c.freelancer_id)
    lines = [
        t("adm.ev.title", id=d.id, status=t.plain(f"dsp.status.{d.status}")),
        *_case_lines(t, c, m, ev.escrow, client, freelancer),
        t("adm.ev.opened", name=await _name(ctx, d.opened_by), date=_when(d.created_at)),
    ]
    upcoming = await next_step(ctx, t, d, m, c, ctx.user.id)
    if upcoming:
        lines.append(upcoming)
    lines += [Html(""), t("adm.ev.timeline")]
    lines += [await _timeline_line(ctx, item, cur) for item in ev.timeline]
    lines += [
        Html(""),
        _record_line(t, "client", client, ev.client_record),
        _record_line(t, "freelancer", freelancer, ev.freelancer_record),
    ]
    files = len(_evidence_files(ev.timeline))
    rows_: list[list[Button] | Button | None] = []
    if d.status in disputes_uc.LIVE:
        rows_.append(_share_buttons(t, "resolve", d.id, m.amount))  # type: ignore[arg-type]
        if d.handled_by != ctx.user.id:
            rows_.append(button(t.plain("adm.btn.take"), ADMIN.data("take", d.id)))
    if files:
        rows_.append(button(t.plain("adm.btn.files", count=files), ADMIN.data("files", d.id)))
    rows_ += [_party_buttons(t, c), _disputes_button(t)]
    await ctx.edit(join(lines), keyboard(*rows_))


def _evidence_files(timeline: list[uc.TimelineItem]) -> list[tuple[uc.TimelineItem, str]]:
    """Each file once. An answer's files are also added to the dispute's evidence:
    credit them to the message that brought them, not to the opening."""
    owner: dict[str, uc.TimelineItem] = {}
    for item in timeline:
        for file_id in item.files:
            if file_id not in owner or owner[file_id].kind == "dispute_opened":
                owner[file_id] = item
    return [(item, file_id) for file_id, item in owner.items()]


async def _send_files(ctx: Context, dispute_id: int) -> None:
    ev = await uc.dispute_evidence(ctx.uow, ctx.clock, ctx.config, ctx.user.id, dispute_id)
    for item, file_id in _evidence_files(ev.timeline):
        caption = ctx.t(
            "adm.ev.file_caption",
            kind=ctx.t.plain(f"adm.kind.{item.kind}"),
            name=await _name(ctx, item.actor_id),
        )
        if item.kind in ("message", "chat") and item.text:  # the caption or note it came with
            caption = join([caption, esc(shorten(item.text, FILE_NOTE))])
        await ctx.reply_file(file_id, caption)


async def _existing(ctx: Context, dispute_id: int) -> Any:
    """The dispute an admin named: "No dispute #9" when there never was one;
    "no longer exists" is for one that existed and is closed."""
    dispute = await ctx.uow.disputes.get(dispute_id)
    if dispute is None:
        raise NotFound("no_dispute", f"No dispute #{dispute_id}.", id=dispute_id)
    return dispute


def _require_open(dispute: Any) -> None:
    if dispute.status not in disputes_uc.LIVE:
        raise NotAllowed(
            "dispute_gone", "This dispute no longer exists: it is closed.", id=dispute.id
        )


async def _ask_resolve(
    ctx: Context, dispute_id: int, share: int, reason: str | None = None
) -> None:
    """Who gets what; then the optional reason: asked for (typed, or Skip), or shown
    when already given. The reason waits in the conversation state, not in a button."""
    d = await _existing(ctx, dispute_id)
    ev = await uc.dispute_evidence(ctx.uow, ctx.clock, ctx.config, ctx.user.id, dispute_id)
    _require_open(ev.dispute)
    if not 0 <= share <= ev.milestone.amount:
        raise StaleButton()
    t = ctx.t
    await ctx.set_state(AdminStep.REASON, {"d": d.id, "share": share, "reason": reason or ""})
    cancel = button(t.plain("btn.cancel"), ADMIN.data("evidence", d.id))
    if reason:
        extra = t("adm.resolve_reason_given", reason=reason)
        buttons = [
            [
                button(t.plain("adm.btn.resolve_sure"), ADMIN.data("confirm_resolve", d.id, share)),
                cancel,
            ]
        ]
    else:
        extra = t("adm.resolve_ask_reason")
        buttons = [
            [button(t.plain("adm.btn.skip_reason"), ADMIN.data("skip_reason", d.id, share))],
            [cancel],
        ]
    await ctx.edit(
        join(
            [
                await _split_text(
                    ctx, "adm.resolve_confirm", d.id, ev.milestone, ev.contract, share
                ),
                Html(""),
                extra,
            ]
        ),
        keyboard(*buttons),
    )


async def _resolve(ctx: Context, dispute_id: int, share: int, reason: str = "") -> None:
    await _existing(ctx, dispute_id)
    split = await disputes_uc.resolve_dispute(
        ctx.uow, ctx.clock, ctx.config, gateway_of(ctx), ctx.user.id, dispute_id, share, reason
    )
    if ctx.in_step(AdminStep):
        await ctx.clear_state()
    dispute = await load(ctx.uow.disputes, dispute_id, "dispute")
    milestone = await load(ctx.uow.milestones, dispute.milestone_id, "milestone")
    await _show_settled(ctx, "adm.resolved", dispute_id, split, milestone.currency)


def _typed_reason(ctx: Context, dispute_id: int, share: int) -> str:
    """The reason typed for exactly this decision (dispute and share), if any."""
    if not ctx.in_step(AdminStep.REASON):
        return ""
    data = ctx.data
    if int(data.get("d", 0)) != dispute_id or int(data.get("share", -1)) != share:
        return ""
    return str(data.get("reason") or "")


@step(AdminStep.REASON)
async def reason_step(ctx: Context) -> None:
    """The admin typed the reason of the decision being confirmed."""
    _require_admin(ctx)
    reason = validation.clean_text(ctx.text, "reason", 1, disputes_uc.REASON_MAX)
    await _ask_resolve(ctx, int(ctx.data["d"]), int(ctx.data["share"]), reason)


async def _take(ctx: Context, dispute_id: int) -> None:
    await _existing(ctx, dispute_id)
    await disputes_uc.take_dispute(ctx.uow, ctx.clock, ctx.config, ctx.user.id, dispute_id)
    await _show_evidence(ctx, dispute_id)


@command("disputes", admin=True, order=10, menu=Menu.ADMIN, menu_order=140)
async def disputes_command(ctx: Context) -> None:
    await _show_disputes(ctx, 1)


@command("dispute", admin=True, order=20)
async def dispute_command(ctx: Context) -> None:
    dispute_id = _user_id(ctx.args.lstrip("#"))
    if dispute_id is None:
        await ctx.reply(ctx.t("adm.usage_dispute"))
        return
    await _existing(ctx, dispute_id)
    await _show_evidence(ctx, dispute_id)


def _share_and_reason(text: str, amount: int, currency: str) -> tuple[int, str]:
    """ "50% the reason" → the share and the reason ("50 %" is one share too)."""
    words = text.split()
    taken = 2 if len(words) > 1 and words[1] == "%" else 1
    share = validation.parse_percent_or_amount(" ".join(words[:taken]), amount, currency)
    return share, " ".join(words[taken:])


@command("resolve", admin=True, order=30)
async def resolve_command(ctx: Context) -> None:
    head, _, rest = ctx.args.partition(" ")
    dispute_id = _user_id(head.lstrip("#"))
    if dispute_id is None or not rest.strip():
        await ctx.reply(ctx.t("adm.usage_resolve"))
        return
    dispute = await _existing(ctx, dispute_id)
    _require_open(dispute)
    milestone = await load(ctx.uow.milestones, dispute.milestone_id, "milestone")
    share, reason = _share_and_reason(rest, milestone.amount, milestone.currency)
    if reason:
        reason = validation.clean_text(reason, "reason", 1, disputes_uc.REASON_MAX)
    await _ask_resolve(ctx, dispute_id, share, reason or None)


@command("take", admin=True, order=35)
async def take_command(ctx: Context) -> None:
    dispute_id = _user_id(ctx.args.strip().lstrip("#"))
    if dispute_id is None:
        await ctx.reply(ctx.t("adm.usage_take"))
        return
    await _take(ctx, dispute_id)


@renders(DisputeEscalated, load=dispute_rows)
async def tell_admins_escalated(
    scope: Scope, event: DisputeEscalated, dispute: Any, milestone: Milestone, contract: Contract
) -> None:
    """Every admin: the parties' time is over, the dispute waits for one of them."""
    await _tell_admins(scope, "adm.notify_escalated", dispute, milestone, contract)


@renders(DisputeAdminReminder, load=dispute_rows)
async def remind_admins(
    scope: Scope,
    event: DisputeAdminReminder,
    dispute: Any,
    milestone: Milestone,
    contract: Contract,
) -> None:
    """Every admin, at most once a day: a dispute has waited for an admin for days."""
    await _tell_admins(
        scope,
        "adm.notify_waiting_taken" if event.handled_by else "adm.notify_waiting",
        dispute,
        milestone,
        contract,
        admin=await _name(scope, event.handled_by),
    )


async def _tell_admins(
    scope: Scope, key: str, dispute: Any, milestone: Milestone, contract: Contract, **params: object
) -> None:
    did = dispute.id
    for admin_id in sorted(scope.config.admin_ids):
        t = await scope.translator_for(admin_id)
        await scope.notify(
            admin_id,
            key,
            buttons=lambda t: keyboard(
                [
                    button(t.plain("dsp.btn.evidence"), ADMIN.data("evidence", did)),
                    button(t.plain("adm.btn.take"), ADMIN.data("take", did)),
                ]
            ),
            id=did,
            title=milestone.title,
            amount=money(milestone.amount, milestone.currency),
            since=when(t, dispute.escalated_at),
            **params,
        )


# --- users -------------------------------------------------------------------------------------


def _roles(t: Translator, user: User) -> str:
    roles = [
        t.plain(f"role.{r}")
        for r, on in (("client", user.is_client), ("freelancer", user.is_freelancer))
        if on
    ]
    return ", ".join(roles) or t.plain("role.none")


async def _show_user(ctx: Context, user_id: int) -> None:
    t = ctx.t
    card = await uc.user_card(ctx.uow, ctx.clock, ctx.config, ctx.user.id, user_id)
    user, record = card.user, card.record
    filed = await ctx.uow.reports.count(reporter_id=user_id)
    lines = [
        t("adm.user.title", name=user.name or f"#{user.id}", id=user.id),
        t("adm.user.username", username=f"@{user.username}" if user.username else "—"),
        t("adm.user.roles", roles=_roles(t, user), language=user.language),
        t("adm.user.dates", created=_when(user.created_at), active=_when(user.last_active_at)),
        _record_line(t, "freelancer", user.name or f"#{user.id}", record),
        t("adm.user.balance", balance=money(card.balance, ctx.config.currency)),
        t("adm.user.reports", against=card.open_reports, filed=filed),
    ]
    if user.banned:
        lines.append(t("adm.user.banned", reason=user.ban_reason or "—"))
    if user.unreachable:
        lines.append(t("adm.user.unreachable"))
    ban = (
        button(t.plain("adm.btn.unban"), ADMIN.data("unban", user.id))
        if user.banned
        else button(t.plain("adm.btn.ban"), ADMIN.data("ban_user", user.id))
    )
    reputation = button(t.plain("rv.btn.reputation"), REVIEW.data("reputation", user.id))
    await ctx.edit(join(lines), keyboard([ban, reputation]))


async def _ban(ctx: Context, user_id: int, reason: str = "") -> None:
    user = await accounts.ban_user(ctx.uow, ctx.clock, ctx.config, ctx.user.id, user_id, reason)
    await ctx.edit(
        ctx.t(
            "adm.banned", name=user.name or f"#{user.id}", id=user.id, reason=user.ban_reason or "—"
        ),
        keyboard(button(ctx.t.plain("adm.btn.unban"), ADMIN.data("unban", user.id))),
    )


async def _unban(ctx: Context, user_id: int) -> None:
    user = await accounts.unban_user(ctx.uow, ctx.clock, ctx.config, ctx.user.id, user_id)
    await ctx.edit(ctx.t("adm.unbanned", name=user.name or f"#{user.id}", id=user.id))


@command("ban", admin=True, order=40)
async def ban_command(ctx: Context) -> None:
    head, _, reason = ctx.args.partition(" ")
    user_id = _user_id(head)
    if user_id is None:
        await ctx.reply(ctx.t("adm.usage_ban"))
        return
    await _ban(
        ctx,
        user_id,
        validation.clean_text(reason, "reason", 0, accounts.MAX_REASON) if reason.strip() else "",
    )


@command("unban", admin=True, order=50)
async def unban_command(ctx: Context) -> None:
    user_id = _user_id(ctx.args)
    if user_id is None:
        await ctx.reply(ctx.t("adm.usage_unban"))
        return
    await _unban(ctx, user_id)


@command("user", admin=True, order=60)
async def user_command(ctx: Context) -> None:
    user_id = _user_id(ctx.args)
    if user_id is None:
        await ctx.reply(ctx.t("adm.usage_user"))
        return
    await _show_user(ctx, user_id)


@renders(UserBanned)
async def tell_banned(scope: Scope, event: UserBanned) -> None:
    await scope.notify(event.user_id, "adm.notify_banned", reason=event.reason or "—")


@renders(UserUnbanned)
async def tell_unbanned(scope: Scope, event: UserUnbanned) -> None:
    await scope.notify(event.user_id, "adm.notify_unbanned")


# --- stats and the audit log -----------------------------------------------------------------


@command("stats", admin=True, order=70, menu=Menu.ADMIN, menu_order=160)
async def stats_command(ctx: Context) -> None:
    t = ctx.t
    s = await uc.stats(ctx.uow, ctx.config, ctx.user.id)
    cur = ctx.config.currency
    jobs = [
        f"{t.plain(f'job.status.{st}')}: {await ctx.uow.jobs.count(status=st)}" for st in JobStatus
    ]
    contracts = [
        f"{t.plain(f'contract.status.{st}')}: {await ctx.uow.contracts.count(status=st)}"
        for st in ContractStatus
    ]
    held = await ctx.uow.milestones.count(status__in=list(HELD))
    stalled = await uc.stalled_escrow(ctx.uow, ctx.clock, ctx.config, ctx.user.id)
    await send_weekly_chart(ctx)  # the picture first; the numbers and buttons below it
    lines = [
        t("adm.stats.title"),
        t(
            "adm.stats.users",
            users=s.users,
            clients=s.clients,
            freelancers=s.freelancers,
            banned=s.banned,
        ),
        t("adm.stats.jobs", jobs=" · ".join(jobs)),
        t("adm.stats.contracts", contracts=" · ".join(contracts)),
        t("adm.stats.escrow", amount=money(s.escrow_held, cur), milestones=held),
        t(
            "adm.stats.stalled",
            amount=money(sum(x.escrow for x in stalled), cur),
            count=len(stalled),
        ),
        t("adm.stats.fees", amount=money(s.platform_fees, cur)),
        t("adm.stats.disputes", disputes=s.open_disputes, reports=s.open_reports),
    ]
    await ctx.reply(
        join(lines),
        keyboard(
            [
                _disputes_button(t),
                button(t.plain("adm.btn.reports"), ADMIN.data("reports", arg=1)),
                button(t.plain("adm.btn.audit"), ADMIN.data("audit", arg=1)),
            ],
            button(t.plain("adm.btn.stalled"), ADMIN.data("stalled", arg=1)) if stalled else None,
        ),
    )


async def _show_stalled(ctx: Context, page: int) -> None:
    """Stalled escrow, the longest overdue first: each milestone with its parties."""
    t = ctx.t
    found = await uc.stalled_escrow(ctx.uow, ctx.clock, ctx.config, ctx.user.id)
    if not found:
        await ctx.edit(t("adm.stalled.none", days=ctx.config.stalled_after_days))
        return
    cur = ctx.config.currency
    shown, page, pages = page_of(found, page, PAGE)
    lines = [
        t(
            "adm.stalled.title",
            count=len(found),
            amount=money(sum(x.escrow for x in found), cur),
            days=ctx.config.stalled_after_days,
        )
    ]
    rows_: list[list[Button] | None] = []
    for x in shown:
        m, c = x.milestone, x.contract
        client, freelancer = await _name(ctx, c.client_id), await _name(ctx, c.freelancer_id)
        lines.append(
            t(
                "adm.stalled.item",
                id=m.id,
                title=m.title,
                contract=c.title,
                escrow=money(x.escrow, m.currency),
                due=m.due_date.isoformat() if m.due_date else "—",
                days=x.days_overdue,
                client=client,
                freelancer=freelancer,
            )
        )
        rows_.append(
            [
                button(f"👤 #{m.id} {shorten(client, 20)}", ADMIN.data("user", c.client_id)),
                button(
                    f"👤 #{m.id} {shorten(freelancer, 20)}", ADMIN.data("user", c.freelancer_id)
                ),
            ]
        )
    await ctx.edit(
        join(lines, "\n\n"), keyboard(*rows_, page_nav(t, ADMIN, "stalled", page, pages) or None)
    )


@command("stalled", admin=True, order=75, menu=Menu.ADMIN, menu_order=165)
async def stalled_command(ctx: Context) -> None:
    await _show_stalled(ctx, 1)


async def _show_audit(ctx: Context, page: int) -> None:
    t = ctx.t
    page = max(page, 1)
    # One more than the page needs tells whether there is a next page.
    found = await uc.audit_log(ctx.uow, ctx.config, ctx.user.id, limit=page * PAGE + 1)
    shown = found[(page - 1) * PAGE : page * PAGE]
    if not shown:
        await ctx.edit(t("adm.audit_empty"))
        return
    lines = [t("adm.audit_title"), Html("")]
    for entry in shown:
        details = _details(entry.details, ctx.config.currency)
        lines.append(
            t(
                "adm.audit_line",
                when=_when(entry.created_at),
                admin=await _name(ctx, entry.admin_id),
                action=entry.action,
                target=entry.target,
                details=shorten(details, 200) if details else "",
            )
        )
    pages = page + 1 if len(found) > page * PAGE else page
    await ctx.edit(join(lines), keyboard(page_nav(t, ADMIN, "audit", page, pages) or None))


def _details(details: dict[str, Any], currency: str) -> str:
    """An audit entry's details for people: amounts as money ("share=$30.00"), not
    minor units, in the currency recorded with them."""
    cur = str(details.get("currency") or currency)
    shown = []
    for k, v in sorted(details.items()):
        if v in (None, "") or k == "currency":
            continue
        if k in MONEY_DETAILS and isinstance(v, int) and not isinstance(v, bool):
            v = money(v, cur)
        shown.append(f"{k}={v}")
    return ", ".join(shown)


@command("audit", admin=True, order=80, menu=Menu.ADMIN, menu_order=170)
async def audit_command(ctx: Context) -> None:
    await _show_audit(ctx, 1)


# --- reports -------------------------------------------------------------------------------------


async def _target_label(ctx: Context, report: Report) -> str:
    if report.target_type == "job":
        job = await ctx.uow.jobs.get(report.target_id)
        return f"💼 {shorten(job.title, 40)}" if job else f"💼 #{report.target_id}"
    return f"👤 {await _name(ctx, report.target_id)}"


async def _show_reports(ctx: Context, page: int) -> None:
    t = ctx.t
    _require_admin(ctx)
    found = await ctx.uow.reports.find(order_by="id", status="open")
    if not found:
        await ctx.edit(t("adm.reports_none"))
        return
    shown, page, pages = page_of(found, page, PAGE)
    rows_: list[list[Button] | None] = [
        [button(f"🚩 #{r.id} {await _target_label(ctx, r)}", ADMIN.data("report", r.id))]
        for r in shown
    ]
    await ctx.edit(
        t("adm.reports_title", count=len(found)),
        keyboard(*rows_, page_nav(t, ADMIN, "reports", page, pages) or None),
    )


async def _show_report(ctx: Context, report_id: int) -> None:
    t = ctx.t
    _require_admin(ctx)
    report = await load(ctx.uow.reports, report_id, "report")
    target_owner: int | None = report.target_id
    if report.target_type == "job":
        job = await ctx.uow.jobs.get(report.target_id)
        target_owner = job.client_id if job else None
    lines = [
        t("adm.report.title", id=report.id, status=report.status),
        t("adm.report.target", target=await _target_label(ctx, report)),
        t(
            "adm.report.by",
            name=await _name(ctx, report.reporter_id),
            id=report.reporter_id,
            date=_when(report.created_at),
        ),
        Html(""),
        esc(report.reason),
    ]
    first: list[Button] = []
    if report.target_type == "job":
        first.append(button(t.plain("btn.open_job"), OPEN.data("show_job", report.target_id)))
    if target_owner is not None:
        first.append(button(t.plain("adm.btn.owner"), ADMIN.data("user", target_owner)))
        first.append(button(t.plain("adm.btn.ban"), ADMIN.data("ban_user", target_owner)))
    close = (
        button(t.plain("adm.btn.close_report"), ADMIN.data("close_report", report.id))
        if report.status == "open"
        else None
    )
    await ctx.edit(
        join(lines),
        keyboard(
            first or None, close, button(t.plain("adm.btn.reports"), ADMIN.data("reports", arg=1))
        ),
    )


@command("reports", admin=True, order=90, menu=Menu.ADMIN, menu_order=150)
async def reports_command(ctx: Context) -> None:
    await _show_reports(ctx, 1)


# --- buttons -------------------------------------------------------------------------------------


# --- chargebacks: frozen milestones ------------------------------------------------------------


async def _frozen(ctx: Scope, milestone_id: int) -> tuple[Any, Any]:
    return await milestone_with_contract(ctx.uow, milestone_id, lock=False)


async def _show_frozen(ctx: Context, milestone_id: int) -> None:
    t = ctx.t
    m, c = await _frozen(ctx, milestone_id)
    escrow = await ctx.uow.ledger.balance(ledger.escrow_account(m.id))  # type: ignore[arg-type]
    client, freelancer = await _name(ctx, c.client_id), await _name(ctx, c.freelancer_id)
    lines = [
        t("adm.frozen.title", id=m.id, status=t.plain(f"milestone.status.{m.status}")),
        *_case_lines(t, c, m, escrow, client, freelancer),
    ]
    for p in await ctx.uow.payments.find(order_by="id", milestone_id=m.id, status="succeeded"):
        lines.append(
            t(
                "adm.frozen.payment",
                id=p.id,
                gateway=p.gateway,
                amount=money(p.amount, p.currency),
                ref=p.charge_ref or p.external_id or "—",
            )
        )
    live = await ctx.uow.disputes.find(milestone_id=m.id, status__in=disputes_uc.LIVE)
    rows_: list[list[Button] | Button | None] = []
    if m.status is MilestoneStatus.FROZEN:
        lines += [Html(""), t("adm.frozen.decide")]
        rows_.append(_share_buttons(t, "decide_frozen", m.id, m.amount))  # type: ignore[arg-type]
    else:
        lines += [Html(""), t("adm.frozen.settled")]
    rows_ += [button(t.plain("dsp.btn.evidence"), ADMIN.data("evidence", d.id)) for d in live]
    rows_ += [_party_buttons(t, c), _disputes_button(t)]
    await ctx.edit(join(lines), keyboard(*rows_))


async def _ask_frozen(ctx: Context, milestone_id: int, share: int) -> None:
    m, c = await _frozen(ctx, milestone_id)
    if m.status is not MilestoneStatus.FROZEN:
        raise NotAllowed("milestone_not_frozen", "This milestone is not frozen.")
    ok, cancel = ADMIN.data("settle_frozen", m.id, share), ADMIN.data("frozen", m.id)
    await _confirm_split(ctx, "adm.frozen.confirm", milestone_id, m, c, share, ok, cancel)


async def _resolve_frozen(ctx: Context, milestone_id: int, share: int) -> None:
    split = await disputes_uc.resolve_frozen(
        ctx.uow, ctx.clock, ctx.config, gateway_of(ctx), ctx.user.id, milestone_id, share
    )
    m, _ = await _frozen(ctx, milestone_id)
    await _show_settled(ctx, "adm.frozen.resolved", milestone_id, split, m.currency)


@renders(MilestoneFrozen)
async def tell_admins_frozen(scope: Scope, event: MilestoneFrozen) -> None:
    """Every admin: what was charged back, with Inspect and the quick decisions."""
    m, c = await _frozen(scope, event.milestone_id)
    mid, amount = m.id, m.amount
    assert mid is not None

    def buttons(t: Translator) -> Any:
        return keyboard(
            button(t.plain("adm.btn.inspect"), ADMIN.data("frozen", mid)),
            _share_buttons(t, "decide_frozen", mid, amount),
        )

    for admin_id in sorted(scope.config.admin_ids):
        await scope.notify(
            admin_id,
            "adm.frozen.notify",
            buttons=buttons,
            id=mid,
            title=m.title,
            amount=money(m.amount, m.currency),
            contract=c.title,
            contract_id=c.id,
            client=await _name(scope, c.client_id),
            freelancer=await _name(scope, c.freelancer_id),
        )


@renders(ChargebackAfterSettlement)
async def tell_admins_late_chargeback(scope: Scope, event: ChargebackAfterSettlement) -> None:
    """The money already left escrow: nothing to decide in the bot, but admins must know."""
    m, c = await _frozen(scope, event.milestone_id)
    for admin_id in sorted(scope.config.admin_ids):
        await scope.notify(
            admin_id,
            "adm.frozen.late",
            buttons=lambda t: keyboard(_party_buttons(t, c)),
            id=m.id,
            title=m.title,
            amount=money(m.amount, m.currency),
            status=event.status,
            payment_id=event.payment_id,
        )


def _pressed_id(ctx: Context) -> int:
    """The id an "adm:<action>:<id>" button carries; only admins press these."""
    _require_admin(ctx)
    assert ctx.callback is not None
    return ctx.callback.require_id()


def _pressed_arg(ctx: Context) -> int:
    """The number a button carries after its id (a share, a page); admins only."""
    _require_admin(ctx)
    assert ctx.callback is not None
    return int_arg(ctx.callback.arg)


@ADMIN.on("evidence", old=("d",))
async def evidence_pressed(ctx: Context) -> None:
    dispute_id = _pressed_id(ctx)
    if ctx.in_step(AdminStep):  # Cancel on the reason's screen: no reason is waited for
        await ctx.clear_state()
    await _show_evidence(ctx, dispute_id)
    ctx.answer()


@ADMIN.on("files", old=("ev",))
async def files_pressed(ctx: Context) -> None:
    await _send_files(ctx, _pressed_id(ctx))
    ctx.answer()


@ADMIN.on("resolve", old=("rs",))
async def resolve_pressed(ctx: Context) -> None:
    await _ask_resolve(ctx, _pressed_id(ctx), _pressed_arg(ctx))
    ctx.answer()


@ADMIN.on("confirm_resolve", old=("rsok",))
async def confirm_resolve_pressed(ctx: Context) -> None:
    dispute_id, share = _pressed_id(ctx), _pressed_arg(ctx)
    await _resolve(ctx, dispute_id, share, _typed_reason(ctx, dispute_id, share))


@ADMIN.on("skip_reason")
async def skip_reason_pressed(ctx: Context) -> None:
    await _resolve(ctx, _pressed_id(ctx), _pressed_arg(ctx))


@ADMIN.on("take")
async def take_pressed(ctx: Context) -> None:
    await _take(ctx, _pressed_id(ctx))
    ctx.answer(ctx.t.plain("adm.taken_short"))


@ADMIN.on("disputes", old=("dl",))
async def disputes_pressed(ctx: Context) -> None:
    await _show_disputes(ctx, _pressed_arg(ctx))
    ctx.answer()


@ADMIN.on("stalled")
async def stalled_pressed(ctx: Context) -> None:
    await _show_stalled(ctx, _pressed_arg(ctx))
    ctx.answer()


@ADMIN.on("audit", old=("al",))
async def audit_pressed(ctx: Context) -> None:
    await _show_audit(ctx, _pressed_arg(ctx))
    ctx.answer()


@ADMIN.on("reports", old=("rl",))
async def reports_pressed(ctx: Context) -> None:
    await _show_reports(ctx, _pressed_arg(ctx))
    ctx.answer()


@ADMIN.on("user", old=("u",))
async def user_pressed(ctx: Context) -> None:
    await _show_user(ctx, _pressed_id(ctx))
    ctx.answer()


@ADMIN.on("ban_user", old=("ban",))
async def ban_user_pressed(ctx: Context) -> None:
    user = await load(ctx.uow.users, _pressed_id(ctx), "user")
    await ctx.edit(
        ctx.t("adm.ban_confirm", name=user.name or f"#{user.id}", id=user.id),
        keyboard(
            [
                button(ctx.t.plain("adm.btn.ban_sure"), ADMIN.data("confirm_ban", user.id)),
                button(ctx.t.plain("btn.cancel"), ADMIN.data("user", user.id)),
            ]
        ),
    )
    ctx.answer()


@ADMIN.on("confirm_ban", old=("banok",))
async def confirm_ban_pressed(ctx: Context) -> None:
    await _ban(ctx, _pressed_id(ctx))
    ctx.answer()


@ADMIN.on("unban")
async def unban_pressed(ctx: Context) -> None:
    await _unban(ctx, _pressed_id(ctx))
    ctx.answer()


@ADMIN.on("frozen", old=("fz",))
async def frozen_pressed(ctx: Context) -> None:
    await _show_frozen(ctx, _pressed_id(ctx))
    ctx.answer()


@ADMIN.on("decide_frozen", old=("fzs",))
async def decide_frozen_pressed(ctx: Context) -> None:
    await _ask_frozen(ctx, _pressed_id(ctx), _pressed_arg(ctx))
    ctx.answer()


@ADMIN.on("settle_frozen", old=("fzok",))
async def settle_frozen_pressed(ctx: Context) -> None:
    await _resolve_frozen(ctx, _pressed_id(ctx), _pressed_arg(ctx))


@ADMIN.on("report", old=("rp",))
async def report_pressed(ctx: Context) -> None:
    await _show_report(ctx, _pressed_id(ctx))
    ctx.answer()


@ADMIN.on("close_report", old=("rc",))
async def close_report_pressed(ctx: Context) -> None:
    report = await reports_uc.close_report(
        ctx.uow, ctx.clock, ctx.config, ctx.user.id, _pressed_id(ctx)
    )
    await _show_report(ctx, report.id)  # type: ignore[arg-type]
    ctx.answer(ctx.t.plain("adm.report_closed"))
