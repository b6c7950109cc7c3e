"""The pieces of a contract's card that the money flows share (offers, funding,
work, disputes, balance): a milestone's line, the way back to the card, a
confirmation's buttons, and which milestone buttons a viewer gets.

`milestone_actions` asks the domain which buttons to show: the milestone state
machine (domain.states.MILESTONE) for cancel and dispute, the refund policy
(domain.usecases.milestones.refund_allowed) for refund. Every press is checked
again by the use case behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from domain.entities import Milestone
from domain.states import MILESTONE, MilestoneStatus
from domain.usecases.milestones import refund_allowed
from domain.usecases.queries import Escrow
from handlers.context import Context, Scope
from handlers.events import Button, Keyboard
from handlers.i18n import Translator
from handlers.prefixes import CONTRACT, DISPUTE, MESSAGE, WORK
from handlers.render import Html, button, esc, join, keyboard, money

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
    MilestoneStatus.PARTIAL: "✂️",
    MilestoneStatus.PROPOSED: "📝",
}


def open_contract_button(t: Translator, contract_id: int) -> Button:
    return button(t.plain("contracts.btn.open"), CONTRACT.data("view", contract_id))


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
    return button(t.plain("msg.btn.write"), MESSAGE.data("write", contract_id))


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
    if side == "client" and MILESTONE.allows(m.status, "cancel"):
        found.append(button(label("cancel"), WORK.data("cancel_milestone", m.id)))
    if refund_allowed(side, m, today):
        found.append(button(label("refund"), WORK.data("refund", m.id)))
    if MILESTONE.allows(m.status, "dispute"):
        found.append(button(label("dispute"), DISPUTE.data("open", m.id)))
    return found


def escrow_line(t: Translator, escrow: Escrow, currency: str) -> Html:
    """The one escrow figure (contract card, funded message, admin's case view):
    "🔒 In escrow: $400.00 + $20.00 client fee" — the amount the freelancer works
    for, and the client's fee apart from it."""
    if escrow.fee:
        return t(
            "escrow.line_fee",
            amount=money(escrow.amount, currency),
            fee=money(escrow.fee, currency),
        )
    return t("escrow.line", amount=money(escrow.amount, currency))


def milestone_line(t: Translator, m: Milestone, with_status: bool = True) -> Html:
    """ "1. ⏳ Title — $100.00 — due 2026-02-01 (Awaiting funding)"; the title is escaped."""
    # A service order's paid extra revision (service_orders.REVISION): its own label.
    title = t.plain("ord.milestone.revision") if m.kind == "revision" else m.title
    parts = [esc(title), esc(money(m.amount, m.currency))]
    if m.due_date is not None:
        parts.append(t("contracts.due", date=m.due_date.isoformat()))
    line = Html(f"{m.position}. " + (STATUS_ICON[m.status] + " " if with_status else ""))
    line = line + join(parts, " — ")
    if with_status:
        line = line + f" ({t.plain(f'milestone.status.{m.status}')})"
    return line


async def milestones_of(scope: Scope, contract_id: int) -> list[Milestone]:
    """The contract's milestones of work, in order (bonuses are not milestones to show)."""
    found = await scope.uow.milestones.find(contract_id=contract_id, order_by="position")
    return [m for m in found if m.kind != "bonus"]
