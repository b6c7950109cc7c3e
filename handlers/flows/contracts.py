"""My contracts: the list (/contracts), each contract's card, and ending a contract.

Callback data (prefix "ct", handlers/prefixes.py):
- "ct:list::<page>"          the viewer's contracts, page n (1-based)
- "ct:view:<contract>"       a contract's card: parties, milestones, escrow, the
                             viewer's buttons (old code "v")
- "ct:end_contract:<contract>"  ask to end the contract (old "end");
                             "ct:confirm_end:<contract>" ends it (old "endok")

The card's buttons belong to the other money flows (their prefixes are in
handlers/prefixes.py). Which milestone buttons a viewer gets is
handlers/contract_views.py's `milestone_actions`, shared with the milestone
notifications of work.py and funding.py.
"""

from __future__ import annotations

from domain.entities import Contract, Milestone
from domain.errors import NotAllowed
from domain.events import ContractSettled
from domain.states import CONTRACT as CONTRACT_MACHINE
from domain.states import MILESTONE, ContractStatus, MilestoneStatus
from domain.usecases import contracts as uc
from domain.usecases import queries, reviews
from domain.usecases.common import load, other_party, require_party
from domain.usecases.disputes import LIVE
from domain.usecases.hourly import terms_of as hourly_terms
from domain.usecases.messaging import WRITABLE
from handlers.context import Context, Scope
from handlers.contract_views import (
    done_with_card,
    escrow_line,
    message_button,
    milestone_actions,
    milestone_line,
    milestones_of,
    open_contract_button,
)
from handlers.events import Button, Keyboard
from handlers.flows import timesheet
from handlers.helpers import int_arg, name_of, page_nav, page_of
from handlers.i18n import Translator
from handlers.notify import renders
from handlers.prefixes import BONUS, CONTRACT, DISPUTE, FUND, OFFER, REVIEW, SAVED, WORK
from handlers.render import Html, bold, button, join, keyboard, money, rows
from handlers.routing import Menu, command

PAGE_SIZE = 6


# --- the card -------------------------------------------------------------------


async def contract_text(scope: Scope, t: Translator, contract: Contract) -> Html:
    milestones = await milestones_of(scope, contract.id)  # type: ignore[arg-type]
    client = await name_of(scope, contract.client_id)
    freelancer = await name_of(scope, contract.freelancer_id)
    lines = [
        Html(f"📄 {bold(contract.title)}"),
        t("contracts.card.parties", client=client, freelancer=freelancer),
        t("contracts.card.status", status=t.plain(f"contract.status.{contract.status}")),
        Html(""),
        t("contracts.card.milestones"),
        *(milestone_line(t, m) for m in milestones),
    ]
    total = sum(m.amount for m in milestones if m.status is not MilestoneStatus.CANCELLED)
    lines.append(t("contracts.card.total", total=money(total, contract.currency)))
    held = await queries.escrow_of(scope.uow, milestones)
    lines.append(escrow_line(t, held, contract.currency))
    bonuses = await scope.uow.milestones.find(
        contract_id=contract.id, kind="bonus", status=MilestoneStatus.RELEASED
    )
    if bonuses:  # flows/bonus.py
        lines.append(
            t("bonus.card.paid", total=money(sum(b.amount for b in bonuses), contract.currency))
        )
    if CONTRACT_MACHINE.allows(contract.status, "expire"):  # an offer still open
        if contract.expires_at is not None:
            lines.append(t("contracts.card.expires", date=contract.expires_at.date().isoformat()))
    lines.append(t("contracts.card.id", id=contract.id))
    return join(lines)


def _milestone_buttons(t: Translator, side: str, m: Milestone) -> list[Button]:
    """The viewer's main action on the milestone, as the state machine allows it."""
    n = m.position
    if side == "client":
        if MILESTONE.allows(m.status, "start_funding"):
            return [button(t.plain("contracts.btn.fund", n=n), FUND.data("quote", m.id))]
        if MILESTONE.allows(m.status, "request_changes"):  # submitted work to review
            return [button(t.plain("contracts.btn.review", n=n), WORK.data("view", m.id))]
        if MILESTONE.allows(m.status, "release"):
            return [button(t.plain("contracts.btn.release", n=n), WORK.data("approve", m.id))]
        if m.status is MilestoneStatus.PARTIAL:  # their partial release, unanswered
            return [button(t.plain("partial.btn.withdraw_n", n=n), BONUS.data("withdraw", m.id))]
        return []
    if MILESTONE.allows(m.status, "submit"):
        return [button(t.plain("contracts.btn.submit", n=n), WORK.data("submit", m.id))]
    if m.status is MilestoneStatus.PARTIAL:  # a partial release to answer (flows/bonus.py)
        return [button(t.plain("partial.btn.show_n", n=n), BONUS.data("show", m.id))]
    return []


async def contract_buttons(
    scope: Scope, t: Translator, contract: Contract, viewer_id: int
) -> Keyboard | None:
    """The buttons that fit the viewer's side and the contract's state."""
    side = contract.party(viewer_id)
    cid = contract.id
    assert cid is not None
    back = button(t.plain("contracts.btn.list"), CONTRACT.data("list", arg=1))
    if side is None:
        return keyboard(back)
    status = contract.status
    top: list[Button] = []
    if contract.job_id is None and status is ContractStatus.OFFERED:
        # A service order before the seller accepted: answered on the order.
        from handlers.flows.service_orders import contract_card_buttons

        top = await contract_card_buttons(scope, t, contract, side)
    elif status is ContractStatus.OFFERED and side == "freelancer":
        top = [
            button(t.plain("offers.btn.accept"), OFFER.data("accept", cid)),
            button(t.plain("offers.btn.decline"), OFFER.data("decline", cid)),
            button(t.plain("offers.btn.counter"), OFFER.data("counter", cid)),
        ]
    elif status is ContractStatus.COUNTERED and side == "client":
        top = [
            button(t.plain("offers.btn.accept_counter"), OFFER.data("accept_counter", cid)),
            button(t.plain("offers.btn.revise"), OFFER.data("revise", cid)),
        ]
    if CONTRACT_MACHINE.allows(status, "withdraw") and side == "client" and contract.job_id:
        top.append(button(t.plain("offers.btn.withdraw"), OFFER.data("withdraw", cid)))
    per_milestone: list[list[Button] | None] = []
    bottom: list[Button] = []
    if status is ContractStatus.ACTIVE:
        today = scope.clock.now().date()
        weeks = await timesheet.week_milestones(scope, cid)  # an hourly contract's weeks
        for m in await milestones_of(scope, cid):
            if m.kind == "revision" and not MILESTONE.allows(m.status, "start_funding"):
                continue  # a paid extra revision follows its order (service_orders.follow_order)
            mine = _milestone_buttons(t, side, m)
            if m.id in weeks and not MILESTONE.allows(m.status, "start_funding"):
                mine = []  # a week is paid by its invoice (/timesheet), not released whole
            found = mine + milestone_actions(t, side, m, today)
            if m.status is MilestoneStatus.DISPUTED:
                found += await _dispute_view(scope, t, m)
            per_milestone += rows(found, 2)
        if await hourly_terms(scope.uow, cid):
            bottom.append(button(t.plain("ts.btn.timesheet"), timesheet.TS.data("week", cid, 0)))
        else:
            # Either party proposes a milestone; the other accepts (flows/proposals.py).
            bottom.append(
                button(t.plain("contracts.btn.add_milestone"), OFFER.data("add_milestone", cid))
            )
        bottom.append(button(t.plain("contracts.btn.end"), CONTRACT.data("end_contract", cid)))
    if status is ContractStatus.ENDED and await _may_rate(scope, contract, viewer_id):
        bottom.append(button(t.plain("rv.btn.rate"), REVIEW.data("rate", cid)))
    if status in (ContractStatus.ACTIVE, ContractStatus.ENDED) and side == "client":
        bottom.append(button(t.plain("bonus.btn.start"), BONUS.data("start", cid)))
    if status is ContractStatus.ENDED and side == "client" and contract.job_id is None:
        from handlers.flows.service_orders import order_again_for_contract

        if (again := await order_again_for_contract(scope, t, contract)) is not None:
            bottom.append(again)  # a service order: 🔁 Order again
    elif status is ContractStatus.ENDED and side == "client":  # flows/saved.py
        bottom.append(button(t.plain("sv.btn.hire_again"), SAVED.data("rehire", cid)))
    if status in WRITABLE:
        bottom.insert(0, message_button(t, cid))
    return keyboard(*rows(top, 2), *per_milestone, *rows(bottom, 2), back)


async def _may_rate(scope: Scope, contract: Contract, viewer_id: int) -> bool:
    """What leave_review allows now (reviews.py checks again on press)."""
    try:
        await reviews.require_reviewable(scope.uow, scope.clock.now(), contract, viewer_id)
    except NotAllowed:
        return False
    return True


async def _dispute_view(scope: Scope, t: Translator, m: Milestone) -> list[Button]:
    """The open dispute's card for a disputed milestone."""
    live = await scope.uow.disputes.find(
        milestone_id=m.id, status__in=LIVE, order_by="-id", limit=1
    )
    if not live:
        return []
    label = t.plain("contracts.btn.dispute_view_n", n=m.position)
    return [button(label, DISPUTE.data("view", live[0].id))]


async def show_contract(ctx: Context, contract_id: int, edit: bool = True) -> None:
    contract = await load(ctx.uow.contracts, contract_id, "contract")
    require_party(contract, ctx.user.id)
    text = await contract_text(ctx, ctx.t, contract)
    kb = await contract_buttons(ctx, ctx.t, contract, ctx.user.id)
    await (ctx.edit(text, kb) if edit else ctx.reply(text, kb))


# --- the list -----------------------------------------------------------------------


async def show_list(ctx: Context, page: int) -> None:
    t = ctx.t
    found = await queries.my_contracts(ctx.uow, ctx.user.id)  # newest first
    if not found:
        await ctx.edit(t("contracts.list.empty"))
        return
    shown, page, pages = page_of(found, page, PAGE_SIZE)
    lines = [t("contracts.list.title", count=len(found)), Html("")]
    buttons = []
    for c in shown:
        role = "client" if c.client_id == ctx.user.id else "freelancer"
        status = t.plain(f"contract.status.{c.status}")
        lines.append(
            t(
                "contracts.list.item",
                id=c.id,
                title=c.title,
                status=status,
                role=t.plain(f"role.{role}"),
            )
        )
        buttons.append(button(f"#{c.id} {c.title} · {status}", CONTRACT.data("view", c.id)))
    nav = page_nav(t, CONTRACT, "list", page, pages)
    await ctx.edit(join(lines), keyboard(*[[b] for b in buttons], nav or None))


@command("contracts", order=110, menu=Menu.ANY, menu_order=70)
async def contracts_command(ctx: Context) -> None:
    await show_list(ctx, 1)


@CONTRACT.on("list")
async def list_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await show_list(ctx, int_arg(ctx.callback.arg))


@CONTRACT.on("view", old=("v",))
async def view_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await show_contract(ctx, ctx.callback.require_id())


@CONTRACT.on("end_contract", old=("end",))
async def end_contract_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await _ask_end(ctx, ctx.callback.require_id())


@CONTRACT.on("confirm_end", old=("endok",))
async def confirm_end_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await _end(ctx, ctx.callback.require_id())


# --- ending ---------------------------------------------------------------------------


async def _ask_end(ctx: Context, contract_id: int) -> None:
    t = ctx.t
    contract = await load(ctx.uow.contracts, contract_id, "contract")
    require_party(contract, ctx.user.id)
    if contract.status is not ContractStatus.ACTIVE:
        raise NotAllowed("contract_not_active", "This contract is not active.")
    milestones = await milestones_of(ctx, contract_id)
    uc.require_endable(milestones)
    pending = [
        m for m in milestones if m.status in (MilestoneStatus.PENDING, MilestoneStatus.PROPOSED)
    ]
    text = t("contracts.end.ask", title=contract.title)
    if pending:
        text = join([text, t("contracts.end.pending_cancelled", count=len(pending))])
    await ctx.edit(
        text,
        keyboard(
            [
                button(
                    t.plain("contracts.btn.end_confirm"), CONTRACT.data("confirm_end", contract_id)
                ),
                button(t.plain("contracts.btn.back"), CONTRACT.data("view", contract_id)),
            ]
        ),
    )


async def _end(ctx: Context, contract_id: int) -> None:
    contract = await uc.end_contract(ctx.uow, ctx.clock, ctx.config, ctx.user.id, contract_id)
    text = join(
        [ctx.t("contracts.end.done", title=contract.title), ctx.t("contracts.end.rate_hint")]
    )
    await done_with_card(ctx, text, contract_id, "contracts.end.done_short")


@renders(ContractSettled)
async def contract_settled(scope: Scope, event: ContractSettled) -> None:
    """The last milestone is settled: both parties may end and rate in one tap
    ("rv:end_and_rate", flows/reviews.py)."""
    contract = await scope.uow.contracts.get(event.contract_id)
    if contract is None or contract.status is not ContractStatus.ACTIVE:
        return
    cid = event.contract_id
    for user_id in (contract.client_id, contract.freelancer_id):
        await scope.notify(
            user_id,
            "contracts.settled.offer_end",
            buttons=lambda t: keyboard(
                button(t.plain("contracts.btn.end_and_rate"), REVIEW.data("end_and_rate", cid)),
                open_contract_button(t, cid),
            ),
            name=await name_of(scope, other_party(contract, user_id)),
            title=contract.title,
        )
