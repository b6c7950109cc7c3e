"""My contracts: the list (/contracts), each contract's card, and ending a contract.

Callback data (prefix "ct"):
- "ct:list::<page>"   the viewer's contracts, page n (1-based)
- "ct:v:<contract>"   a contract's card: parties, milestones, escrow, the viewer's buttons
- "ct:end:<contract>" ask to end the contract; "ct:endok:<contract>" ends it

The card's buttons belong to the other money flows; their prefixes are defined
here so that every module of the area can build the others' buttons without
circular imports: "of" offers.py, "fd" funding.py, "wk" work.py, "bal" balance.py,
"msg" messaging.py ("msg:c:<contract>"), "dsp" disputes.py ("dsp:new:<milestone>",
"dsp:v:<dispute>"). Which milestone buttons a viewer gets is `milestone_actions`,
shared with the milestone notifications of work.py and funding.py. The small
helpers every flow of the area needs (paging, a numeric button argument, the
payment gateway, leaving a conversation, names) are written once here too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any, TypeVar

from domain import ledger
from domain.entities import Contract, Milestone, User
from domain.errors import NotAllowed
from domain.ports import PaymentGateway
from domain.states import HELD, ContractStatus, MilestoneStatus
from domain.usecases import contracts as uc
from domain.usecases import queries
from domain.usecases.common import load, other_party, require_party
from domain.usecases.disputes import LIVE
from domain.usecases.messaging import WRITABLE
from handlers.callbacks import StaleButton, encode
from handlers.context import Context, Scope
from handlers.events import Button, Keyboard
from handlers.i18n import Translator
from handlers.notify import renders
from handlers.render import Html, bold, button, esc, join, keyboard, money, pagination_row, rows
from handlers.routing import button as on_button
from handlers.routing import command

T = TypeVar("T")

CONTRACT, OFFER, FUND, WORK, BALANCE = "ct", "of", "fd", "wk", "bal"
MESSAGE, DISPUTE, REVIEW = "msg", "dsp", "rv"
# Milestone states in which either party may open a dispute (money held, none open).
DISPUTABLE = (MilestoneStatus.FUNDED, MilestoneStatus.SUBMITTED, MilestoneStatus.CHANGES_REQUESTED)
UNFUNDED = (MilestoneStatus.PENDING, MilestoneStatus.FUNDING)
PAGE_SIZE = 6

STATUS_ICON = {
    MilestoneStatus.PENDING: "⏳",
    MilestoneStatus.FUNDING: "💳",
    MilestoneStatus.FUNDED: "🔒",
    MilestoneStatus.SUBMITTED: "📦",
    MilestoneStatus.CHANGES_REQUESTED: "✏️",
    MilestoneStatus.DISPUTED: "⚖️",
    MilestoneStatus.FROZEN: "🧊",
    MilestoneStatus.RELEASED: "✅",
    MilestoneStatus.REFUNDED: "↩️",
    MilestoneStatus.SPLIT: "➗",
    MilestoneStatus.CANCELLED: "✖️",
}


# --- shared pieces for the flows of the area ----------------------------------


def page_of(items: Sequence[T], page: int, size: int) -> tuple[list[T], int, int]:
    """Page `page` (1-based, clamped to the pages there are) of `items`: its items,
    its number and how many pages there are (at least one)."""
    pages = max(1, (len(items) + size - 1) // size)
    page = min(max(page, 1), pages)
    return list(items[(page - 1) * size : page * size]), page, pages


def page_nav(t: Translator, prefix: str, action: str, page: int, pages: int) -> list[Button]:
    """‹ Prev · n/N · Next › to "<prefix>:<action>::<page>" (none for a single page)."""
    return pagination_row(
        page,
        pages,
        lambda p: encode(prefix, action, arg=p),
        prev=t.plain("btn.prev"),
        next_=t.plain("btn.next"),
    )


def int_arg(arg: str | None) -> int:
    """A button's numeric argument (a page, a share); anything else is a stale button."""
    if arg is None or not arg.isdigit():
        raise StaleButton()
    return int(arg)


def gateway_of(scope: Scope) -> PaymentGateway:
    """The payment gateway, for a step that moves money; refused when there is none."""
    if scope.gateway is None:
        raise NotAllowed("payments_unavailable", "Payments are not available right now.")
    return scope.gateway


Loader = Callable[[Scope, dict], Awaitable[tuple[Any, ...] | None]]
LoadedRenderer = Callable[..., Awaitable[None]]


def renders_loaded(kind: str, load: Loader) -> Callable[[LoadedRenderer], LoadedRenderer]:
    """Register a renderer of `kind` that gets, after (scope, data), the rows `load`
    finds for the event; an event whose rows are gone renders nothing."""

    def register(fn: LoadedRenderer) -> LoadedRenderer:
        @renders(kind)
        async def render(scope: Scope, data: dict) -> None:
            found = await load(scope, data)
            if found is not None:
                await fn(scope, data, *found)

        return fn

    return register


async def leave_flow(ctx: Context, flow: str, key: str) -> None:
    """A Cancel/Done press: end the flow's conversation, if still in it, and say `key`."""
    if ctx.in_step(flow):
        await ctx.clear_state()
    await ctx.edit(ctx.t(key))


def open_contract_button(t: Translator, contract_id: int) -> Button:
    return button(t.plain("contracts.btn.open"), encode(CONTRACT, "v", contract_id))


def card_keyboard(contract_id: int) -> Callable[[Translator], Keyboard | None]:
    """A notification's buttons (scope.notify(buttons=…)): the contract card alone."""
    return lambda t: keyboard(open_contract_button(t, contract_id))


def confirm_keyboard(t: Translator, label: str, data: str, contract_id: int) -> Keyboard | None:
    """A confirmation's buttons: do it (`data`), or back to the contract card."""
    return keyboard(button(label, data), open_contract_button(t, contract_id))


async def done_with_card(ctx: Context, text: Html, contract_id: int, short_key: str) -> None:
    """What a confirmed step did, with the way back to the card, and its short answer."""
    await ctx.edit(text, keyboard(open_contract_button(ctx.t, contract_id)))
    ctx.answer(ctx.t.plain(short_key))


def message_button(t: Translator, contract_id: int) -> Button:
    return button(t.plain("msg.btn.write"), encode(MESSAGE, "c", contract_id))


def refund_allowed(side: str, milestone: Milestone, today: date) -> bool:
    """Mirrors domain.usecases.milestones.refund's policy (which stays the authority):
    the freelancer may refund a funded milestone any time; the client only once its
    due date has passed with nothing submitted."""
    if milestone.status is not MilestoneStatus.FUNDED:
        return False
    if side == "freelancer":
        return True
    return milestone.due_date is not None and today > milestone.due_date


def milestone_actions(
    t: Translator, side: str, m: Milestone, today: date, numbered: bool = True
) -> list[Button]:
    """Dispute, refund and cancel buttons the viewer's side and the milestone's state
    allow (on an active contract). `numbered` labels them "#n" for the contract card;
    a notification about one milestone uses the plain labels."""
    assert m.id is not None
    n = m.position

    def label(key: str) -> str:
        return (
            t.plain(f"contracts.btn.{key}_n", n=n) if numbered else t.plain(f"contracts.btn.{key}")
        )

    found: list[Button] = []
    if side == "client" and m.status in UNFUNDED:
        found.append(button(label("cancel"), encode(WORK, "cx", m.id)))
    if refund_allowed(side, m, today):
        found.append(button(label("refund"), encode(WORK, "rf", m.id)))
    if m.status in DISPUTABLE:
        found.append(button(label("dispute"), encode(DISPUTE, "new", m.id)))
    return found


def user_name(user: User | None, user_id: int) -> str:
    return (user.name if user else "") or f"#{user_id}"


async def name_of(scope: Scope, user_id: int) -> str:
    return user_name(await scope.uow.users.get(user_id), user_id)


def percent(bp: int) -> str:
    """Basis points as a percentage for people: 500 → "5", 250 → "2.5"."""
    whole, rest = divmod(bp, 100)
    return str(whole) if not rest else f"{whole}.{rest:02d}".rstrip("0")


def milestone_line(t: Translator, m: Milestone, with_status: bool = True) -> Html:
    """ "1. ⏳ Title — $100.00 — due 2026-02-01 (Awaiting funding)"; the title is escaped."""
    parts = [esc(m.title), esc(money(m.amount, m.currency))]
    if m.due_date is not None:
        parts.append(t("contracts.due", date=m.due_date.isoformat()))
    line = Html(f"{m.position}. " + (STATUS_ICON[m.status] + " " if with_status else ""))
    line = line + join(parts, " — ")
    if with_status:
        line = line + f" ({t.plain(f'milestone.status.{m.status}')})"
    return line


async def milestones_of(scope: Scope, contract_id: int) -> list[Milestone]:
    return await scope.uow.milestones.find(contract_id=contract_id, order_by="position")


async def escrow_held(scope: Scope, milestones: list[Milestone]) -> int:
    """What the ledger holds in escrow for these milestones (amounts plus client fees)."""
    total = 0
    for m in milestones:
        if m.status in HELD:
            total += await scope.uow.ledger.balance(ledger.escrow_account(m.id))  # type: ignore[arg-type]
    return total


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
    held = await escrow_held(scope, milestones)
    lines.append(t("contracts.card.escrow", amount=money(held, contract.currency)))
    if contract.status in (ContractStatus.OFFERED, ContractStatus.COUNTERED):
        if contract.expires_at is not None:
            lines.append(t("contracts.card.expires", date=contract.expires_at.date().isoformat()))
    lines.append(t("contracts.card.id", id=contract.id))
    return join(lines)


def _milestone_buttons(t: Translator, side: str, m: Milestone) -> list[Button]:
    n = m.position
    if side == "client":
        if m.status in (MilestoneStatus.PENDING, MilestoneStatus.FUNDING):
            return [button(t.plain("contracts.btn.fund", n=n), encode(FUND, "q", m.id))]
        if m.status is MilestoneStatus.SUBMITTED:
            return [button(t.plain("contracts.btn.review", n=n), encode(WORK, "view", m.id))]
        if m.status in (MilestoneStatus.FUNDED, MilestoneStatus.CHANGES_REQUESTED):
            return [button(t.plain("contracts.btn.release", n=n), encode(WORK, "ap", m.id))]
        return []
    if m.status in (MilestoneStatus.FUNDED, MilestoneStatus.CHANGES_REQUESTED):
        return [button(t.plain("contracts.btn.submit", n=n), encode(WORK, "sub", m.id))]
    return []


async def contract_buttons(
    scope: Scope, t: Translator, contract: Contract, viewer_id: int
) -> Keyboard | None:
    """The buttons that fit the viewer's side and the contract's state."""
    side = contract.party(viewer_id)
    cid = contract.id
    assert cid is not None
    back = button(t.plain("contracts.btn.list"), encode(CONTRACT, "list", arg=1))
    if side is None:
        return keyboard(back)
    status = contract.status
    top: list[Button] = []
    if status is ContractStatus.OFFERED and side == "freelancer":
        top = [
            button(t.plain("offers.btn.accept"), encode(OFFER, "acc", cid)),
            button(t.plain("offers.btn.decline"), encode(OFFER, "dec", cid)),
            button(t.plain("offers.btn.counter"), encode(OFFER, "ctr", cid)),
        ]
    elif status is ContractStatus.COUNTERED and side == "client":
        top = [
            button(t.plain("offers.btn.accept_counter"), encode(OFFER, "cacc", cid)),
            button(t.plain("offers.btn.revise"), encode(OFFER, "rev", cid)),
        ]
    if status in (ContractStatus.OFFERED, ContractStatus.COUNTERED) and side == "client":
        top.append(button(t.plain("offers.btn.withdraw"), encode(OFFER, "wd", cid)))
    per_milestone: list[list[Button] | None] = []
    bottom: list[Button] = []
    if status is ContractStatus.ACTIVE:
        today = scope.clock.now().date()
        for m in await milestones_of(scope, cid):
            found = _milestone_buttons(t, side, m) + milestone_actions(t, side, m, today)
            if m.status is MilestoneStatus.DISPUTED:
                found += await _dispute_view(scope, t, m)
            per_milestone += rows(found, 2)
        if side == "client":
            bottom.append(
                button(t.plain("contracts.btn.add_milestone"), encode(OFFER, "addms", cid))
            )
        bottom.append(button(t.plain("contracts.btn.end"), encode(CONTRACT, "end", cid)))
    if status is ContractStatus.ENDED and await _may_rate(scope, contract, viewer_id):
        bottom.append(button(t.plain("rv.btn.rate"), encode(REVIEW, "new", cid)))
    if status in WRITABLE:
        bottom.insert(0, message_button(t, cid))
    return keyboard(*rows(top, 2), *per_milestone, *rows(bottom, 2), back)


async def _may_rate(scope: Scope, contract: Contract, viewer_id: int) -> bool:
    """Within the review window and not rated yet (reviews.py checks again on press)."""
    deadline = contract.review_deadline
    if deadline is not None and scope.clock.now() > deadline:
        return False
    return not await scope.uow.reviews.count(contract_id=contract.id, reviewer_id=viewer_id)


async def _dispute_view(scope: Scope, t: Translator, m: Milestone) -> list[Button]:
    """The open dispute's card for a disputed milestone."""
    live = await scope.uow.disputes.find(
        milestone_id=m.id, status__in=LIVE, order_by="-id", limit=1
    )
    if not live:
        return []
    label = t.plain("contracts.btn.dispute_view_n", n=m.position)
    return [button(label, encode(DISPUTE, "v", live[0].id))]


async def show_contract(ctx: Context, contract_id: int, edit: bool = True) -> None:
    contract = await load(ctx.uow.contracts, contract_id, "contract")
    require_party(contract, ctx.user.id)
    text = await contract_text(ctx, ctx.t, contract)
    kb = await contract_buttons(ctx, ctx.t, contract, ctx.user.id)
    await (ctx.edit(text, kb) if edit else ctx.reply(text, kb))


# --- the list -----------------------------------------------------------------------


async def my_contracts(scope: Scope, user_id: int) -> list[Contract]:
    """Everything the user is a party to, newest first."""
    return await queries.my_contracts(scope.uow, user_id)


async def show_list(ctx: Context, page: int) -> None:
    t = ctx.t
    found = await my_contracts(ctx, ctx.user.id)
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
        buttons.append(button(f"#{c.id} {c.title} · {status}", encode(CONTRACT, "v", c.id)))
    nav = page_nav(t, CONTRACT, "list", page, pages)
    await ctx.edit(join(lines), keyboard(*[[b] for b in buttons], nav or None))


@command("contracts")
async def contracts_command(ctx: Context) -> None:
    await show_list(ctx, 1)


@on_button(CONTRACT)
async def contract_button(ctx: Context) -> None:
    cb = ctx.callback
    assert cb is not None
    if cb.action == "list":
        await show_list(ctx, int_arg(cb.arg))
    elif cb.action == "v":
        await show_contract(ctx, cb.require_id())
    elif cb.action == "end":
        await _ask_end(ctx, cb.require_id())
    elif cb.action == "endok":
        await _end(ctx, cb.require_id())
    else:
        raise StaleButton()


# --- ending ---------------------------------------------------------------------------


async def _ask_end(ctx: Context, contract_id: int) -> None:
    t = ctx.t
    contract = await load(ctx.uow.contracts, contract_id, "contract")
    require_party(contract, ctx.user.id)
    if contract.status is not ContractStatus.ACTIVE:
        raise NotAllowed("contract_not_active", "This contract is not active.")
    milestones = await milestones_of(ctx, contract_id)
    if any(m.status in HELD for m in milestones):
        raise NotAllowed("escrow_not_empty", "Release or refund the funded milestones first.")
    pending = [m for m in milestones if m.status is MilestoneStatus.PENDING]
    text = t("contracts.end.ask", title=contract.title)
    if pending:
        text = join([text, t("contracts.end.pending_cancelled", count=len(pending))])
    await ctx.edit(
        text,
        keyboard(
            [
                button(
                    t.plain("contracts.btn.end_confirm"), encode(CONTRACT, "endok", contract_id)
                ),
                button(t.plain("contracts.btn.back"), encode(CONTRACT, "v", contract_id)),
            ]
        ),
    )


async def _end(ctx: Context, contract_id: int) -> None:
    contract = await uc.end_contract(ctx.uow, ctx.clock, ctx.config, ctx.user.id, contract_id)
    text = join(
        [ctx.t("contracts.end.done", title=contract.title), ctx.t("contracts.end.rate_hint")]
    )
    await done_with_card(ctx, text, contract_id, "contracts.end.done_short")


@renders("contract_ended")
async def contract_ended(scope: Scope, data: dict) -> None:
    contract = await scope.uow.contracts.get(data["contract_id"])
    if contract is None:
        return
    other = other_party(contract, data["ended_by"])
    who = await name_of(scope, data["ended_by"])
    await scope.notify(
        other,
        "contracts.end.notify",
        buttons=card_keyboard(contract.id),  # type: ignore[arg-type]
        name=who,
        title=contract.title,
    )
