"""Bonuses and partial releases (domain/usecases/bonus.py).

Bonus (client, active or ended contract): "🎁 Bonus" on the contract card → the
amount → a confirmation with the client fee on top and what the freelancer
receives after theirs → Pay: the funding path's checkout (its link comes as
"funding_started", flows/funding.py); once paid, both are told ("bonus_paid").

Partial release (client, submitted work): "✂️ Release part" on the review → the
amount → the reason → a confirmation (what the freelancer receives, what comes
back to the client) → the offer goes to the freelancer, who accepts (the split
settlement; the rest is refunded) or declines with a reason (a dispute).

Callback data (prefix "bn"):
- "bn:start:<contract>"           client: a bonus, asks the amount
- "bn:pay_bonus"                  client: pay the bonus confirmed on screen
- "bn:partial:<milestone>"        client: release part, asks the amount
- "bn:offer"                      client: send the partial release confirmed on screen
- "bn:show:<milestone>"           freelancer: the partial offer again, with its buttons
- "bn:accept:<milestone>:<share>" freelancer: accept the share shown
- "bn:decline:<milestone>:<share>" freelancer: decline, asks the reason (a dispute)
- "bn:cancel"                     leave any of the steps above
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain import validation
from domain.entities import Contract, Milestone
from domain.errors import IllegalTransition, NotAllowed, ValidationError
from domain.events import (
    BonusPaid,
    PartialReleaseAccepted,
    PartialReleaseOffered,
    PartialReleaseWithdrawn,
)
from domain.fees import funding_quote, settlement
from domain.money import parse_money
from domain.states import MILESTONE, MilestoneStatus
from domain.usecases import bonus as uc
from domain.usecases.common import load, milestone_with_contract, require_party
from handlers.callbacks import StaleButton
from handlers.context import Context, Scope
from handlers.contract_views import open_contract_button
from handlers.events import Keyboard
from handlers.flows.menu import cmd_data
from handlers.flows.work import review_keyboard
from handlers.helpers import gateway_of, int_arg, name_of, percent
from handlers.i18n import Translator
from handlers.notify import milestone_rows, renders
from handlers.prefixes import BONUS, DISPUTE
from handlers.render import Html, button, join, keyboard, money
from handlers.routing import Steps, step


class BonusStep(Steps, flow="bonus"):
    """The values are stored: never change one."""

    AMOUNT = "amount"  # a bonus's amount, then its confirmation
    SHARE = "share"  # a partial release's amount
    REASON = "reason"  # its reason, then its confirmation
    DECLINE = "decline"  # the freelancer's reason for declining (a dispute)


DECLINE_REASON_MIN = 10  # a dispute's reason


def _cancel_row(t: Translator) -> Keyboard | None:
    return keyboard(button(t.plain("btn.cancel"), BONUS.data("cancel")))


def _pressed_id(ctx: Context) -> int:
    assert ctx.callback is not None
    return ctx.callback.require_id()


# --- bonus ---------------------------------------------------------------------------


async def _bonus_contract(ctx: Context, contract_id: int) -> Contract:
    contract = await load(ctx.uow.contracts, contract_id, "contract")
    uc.require_bonus_contract(contract, ctx.user.id)
    return contract


@BONUS.on("start")
async def start_pressed(ctx: Context) -> None:
    contract = await _bonus_contract(ctx, _pressed_id(ctx))
    await ctx.set_state(BonusStep.AMOUNT, {"c": contract.id})
    await ctx.reply(
        ctx.t(
            "bonus.ask_amount",
            name=await name_of(ctx, contract.freelancer_id),
            title=contract.title,
        ),
        _cancel_row(ctx.t),
    )
    ctx.answer()


def bonus_lines(t: Translator, contract: Contract, amount: int, name: str) -> list[Html]:
    """The bonus, the client fee on top, the total, and what the freelancer receives."""
    cur = contract.currency
    q = funding_quote(amount, contract.client_fee_bp)
    net = settlement(amount, amount, contract.client_fee_bp, contract.freelancer_fee_bp)
    return [
        t("bonus.quote.amount", amount=money(amount, cur)),
        t("bonus.quote.fee", percent=percent(contract.client_fee_bp), fee=money(q.client_fee, cur)),
        t("bonus.quote.total", total=money(q.total, cur)),
        t(
            "bonus.quote.net",
            name=name,
            net=money(net.to_freelancer, cur),
            percent=percent(contract.freelancer_fee_bp),
        ),
    ]


@step(BonusStep.AMOUNT)
async def amount_step(ctx: Context) -> None:
    contract = await _bonus_contract(ctx, int(ctx.data["c"]))
    amount = parse_money(ctx.text, contract.currency).amount
    await ctx.set_state(BonusStep.AMOUNT, {"c": contract.id, "a": amount})
    t = ctx.t
    name = await name_of(ctx, contract.freelancer_id)
    q = funding_quote(amount, contract.client_fee_bp)
    await ctx.reply(
        join(
            [
                t("bonus.quote.title", name=name, title=contract.title),
                *bonus_lines(t, contract, amount, name),
            ]
        ),
        keyboard(
            [
                button(
                    t.plain("bonus.btn.pay", total=money(q.total, contract.currency)),
                    BONUS.data("pay_bonus"),
                ),
                button(t.plain("btn.cancel"), BONUS.data("cancel")),
            ]
        ),
    )


@BONUS.on("pay_bonus", wizard=True)
async def pay_pressed(ctx: Context) -> None:
    if not ctx.in_step(BonusStep.AMOUNT) or "a" not in ctx.data:
        raise StaleButton()  # a second tap: the first one started the payment
    contract_id, amount = int(ctx.data["c"]), int(ctx.data["a"])
    await ctx.clear_state()
    await uc.start_bonus(
        ctx.uow,
        ctx.clock,
        ctx.config,
        gateway_of(ctx),
        ctx.user.id,
        contract_id,
        amount,
        title=ctx.t.plain("bonus.title"),
        shown_in=ctx.event.message_id,
    )
    # The checkout opens right after this step commits; its link replaces this.
    await ctx.edit(ctx.t("bonus.preparing"), keyboard(open_contract_button(ctx.t, contract_id)))
    ctx.answer(ctx.t.plain("funding.checkout_short"))


@BONUS.on("cancel")
async def cancel_pressed(ctx: Context) -> None:
    if not ctx.in_step(BonusStep):
        raise StaleButton()
    await ctx.clear_state()
    await ctx.edit(ctx.t("bonus.cancelled"))


@renders(BonusPaid, load=milestone_rows)
async def bonus_paid(
    scope: Scope, event: BonusPaid, milestone: Milestone, contract: Contract
) -> None:
    cur, cid = event.currency, contract.id
    client, freelancer = (
        await name_of(scope, contract.client_id),
        await name_of(scope, contract.freelancer_id),
    )
    await scope.notify(
        contract.freelancer_id,
        "bonus.notify.freelancer",
        buttons=lambda t: keyboard(
            button(t.plain("work.btn.balance"), cmd_data("balance")),
            open_contract_button(t, cid),  # type: ignore[arg-type]
        ),
        name=client,
        title=contract.title,
        amount=money(event.amount, cur),
        net=money(event.to_freelancer, cur),
        percent=percent(contract.freelancer_fee_bp),
    )
    await scope.notify(
        contract.client_id,
        "bonus.notify.client",
        buttons=lambda t: keyboard(open_contract_button(t, cid)),  # type: ignore[arg-type]
        name=freelancer,
        amount=money(event.amount, cur),
        total=money(event.total, cur),
        fee=money(event.total - event.amount, cur),
        net=money(event.to_freelancer, cur),
    )


# --- partial release (client) --------------------------------------------------------------


async def _submitted(ctx: Context, milestone_id: int) -> tuple[Milestone, Contract]:
    milestone, contract = await milestone_with_contract(ctx.uow, milestone_id, lock=False)
    require_party(contract, ctx.user.id, "client")
    if not MILESTONE.allows(milestone.status, "offer_partial"):
        raise IllegalTransition("milestone", str(milestone.status), "offer_partial")
    return milestone, contract


@BONUS.on("partial")
async def partial_pressed(ctx: Context) -> None:
    milestone, _ = await _submitted(ctx, _pressed_id(ctx))
    await ctx.set_state(BonusStep.SHARE, {"ms": milestone.id})
    await ctx.reply(
        ctx.t(
            "partial.ask_amount",
            title=milestone.title,
            amount=money(milestone.amount, milestone.currency),
        ),
        _cancel_row(ctx.t),
    )
    ctx.answer()


@step(BonusStep.SHARE)
async def share_step(ctx: Context) -> None:
    milestone, _ = await _submitted(ctx, int(ctx.data["ms"]))
    share = parse_money(ctx.text, milestone.currency).amount
    if share >= milestone.amount:
        raise ValidationError(
            "partial_too_much", "A partial release is less than the milestone's amount."
        )
    await ctx.set_state(BonusStep.REASON, {"ms": milestone.id, "s": share})
    await ctx.reply(
        ctx.t("partial.ask_reason", share=money(share, milestone.currency)), _cancel_row(ctx.t)
    )


def partial_lines(
    t: Translator, milestone: Milestone, contract: Contract, share: int
) -> list[Html]:
    """What the split moves: the freelancer's part (less their fee) and the refund."""
    cur = milestone.currency
    split = settlement(milestone.amount, share, contract.client_fee_bp, contract.freelancer_fee_bp)
    return [
        t(
            "partial.line.freelancer",
            share=money(share, cur),
            net=money(split.to_freelancer, cur),
            percent=percent(contract.freelancer_fee_bp),
        ),
        t(
            "partial.line.client",
            refund=money(split.to_client, cur),
            rest=money(milestone.amount - share, cur),
            fee=money(split.to_client - (milestone.amount - share), cur),
        ),
    ]


@step(BonusStep.REASON)
async def reason_step(ctx: Context) -> None:
    milestone, contract = await _submitted(ctx, int(ctx.data["ms"]))
    share = int(ctx.data["s"])
    reason = validation.clean_text(ctx.text, "reason", uc.REASON_MIN, validation.MESSAGE_MAX)
    await ctx.set_state(BonusStep.REASON, {"ms": milestone.id, "s": share, "r": reason})
    t = ctx.t
    name = await name_of(ctx, contract.freelancer_id)
    await ctx.reply(
        join(
            [
                t(
                    "partial.confirm",
                    title=milestone.title,
                    share=money(share, milestone.currency),
                    amount=money(milestone.amount, milestone.currency),
                ),
                *partial_lines(t, milestone, contract, share),
                t("partial.reason", reason=reason),
                t("partial.confirm_hint", name=name),
            ]
        ),
        keyboard(
            [
                button(t.plain("partial.btn.send"), BONUS.data("offer")),
                button(t.plain("btn.cancel"), BONUS.data("cancel")),
            ]
        ),
    )


@BONUS.on("offer", wizard=True)
async def offer_pressed(ctx: Context) -> None:
    if not ctx.in_step(BonusStep.REASON) or "r" not in ctx.data:
        raise StaleButton()
    data: dict[str, Any] = ctx.data
    milestone = await uc.offer_partial(
        ctx.uow,
        ctx.clock,
        ctx.user.id,
        int(data["ms"]),
        int(data["s"]),
        str(data["r"]),
        ctx.config,
    )
    await ctx.clear_state()
    contract = await load(ctx.uow.contracts, milestone.contract_id, "contract")
    await ctx.edit(
        ctx.t(
            "partial.sent",
            name=await name_of(ctx, contract.freelancer_id),
            title=milestone.title,
            date=_day(milestone.auto_release_at),
        ),
        keyboard(
            button(ctx.t.plain("partial.btn.withdraw"), BONUS.data("withdraw", milestone.id)),
            open_contract_button(ctx.t, milestone.contract_id),
        ),
    )
    ctx.answer(ctx.t.plain("partial.sent_short"))


def _day(at: datetime | str | None) -> str:
    """A deadline's day, as the cards show dates."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at.date().isoformat() if at is not None else "—"


@BONUS.on("withdraw")
async def withdraw_pressed(ctx: Context) -> None:
    """The client takes a partial release back (before the freelancer answered)."""
    milestone = await uc.withdraw_partial(
        ctx.uow, ctx.clock, ctx.config, ctx.user.id, _pressed_id(ctx)
    )
    await ctx.edit(
        ctx.t("partial.withdrawn_you", title=milestone.title, date=_day(milestone.auto_release_at)),
        review_keyboard(ctx.t, milestone.id, milestone.contract_id),  # type: ignore[arg-type]
    )
    ctx.answer(ctx.t.plain("partial.withdrawn_short"))


@renders(PartialReleaseWithdrawn, load=milestone_rows)
async def partial_withdrawn(
    scope: Scope, event: PartialReleaseWithdrawn, milestone: Milestone, contract: Contract
) -> None:
    """Taken back: the freelancer hears it. Lapsed: both do, the client with the
    work to review again."""
    day, cid, mid = _day(event.auto_release_at), contract.id, milestone.id
    if event.lapsed:
        await scope.notify(
            contract.client_id,
            "partial.notify.lapsed.client",
            buttons=lambda t: review_keyboard(t, mid, cid),  # type: ignore[arg-type]
            name=await name_of(scope, contract.freelancer_id),
            title=milestone.title,
            date=day,
        )
    await scope.notify(
        contract.freelancer_id,
        "partial.notify.lapsed.freelancer" if event.lapsed else "partial.notify.withdrawn",
        buttons=lambda t: keyboard(open_contract_button(t, cid)),  # type: ignore[arg-type]
        name=await name_of(scope, contract.client_id),
        title=milestone.title,
        date=day,
    )


# --- partial release (freelancer) ------------------------------------------------------------


def decision_keyboard(t: Translator, milestone: Milestone, contract: Contract) -> Keyboard | None:
    share = milestone.partial_share or 0
    return keyboard(
        [
            button(t.plain("partial.btn.accept"), BONUS.data("accept", milestone.id, share)),
            button(t.plain("partial.btn.decline"), BONUS.data("decline", milestone.id, share)),
        ],
        open_contract_button(t, contract.id),  # type: ignore[arg-type]
    )


async def offer_text(scope: Scope, t: Translator, milestone: Milestone, contract: Contract) -> Html:
    name = await name_of(scope, contract.client_id)
    share = milestone.partial_share or 0
    return join(
        [
            t(
                "partial.notify.offered",
                name=name,
                title=milestone.title,
                share=money(share, milestone.currency),
                amount=money(milestone.amount, milestone.currency),
            ),
            t("partial.reason", reason=milestone.partial_reason),
            *partial_lines(t, milestone, contract, share),
            t("partial.notify.decide", date=_day(milestone.auto_release_at)),
        ]
    )


@renders(PartialReleaseOffered, load=milestone_rows)
async def partial_offered(
    scope: Scope, event: PartialReleaseOffered, milestone: Milestone, contract: Contract
) -> None:
    if milestone.status is not MilestoneStatus.PARTIAL:
        return
    t = await scope.translator_for(contract.freelancer_id)
    await scope.notify(
        contract.freelancer_id,
        text=await offer_text(scope, t, milestone, contract),
        buttons=decision_keyboard(t, milestone, contract),
    )


async def _offered(ctx: Context, milestone_id: int) -> tuple[Milestone, Contract]:
    milestone, contract = await milestone_with_contract(ctx.uow, milestone_id, lock=False)
    require_party(contract, ctx.user.id, "freelancer")
    if milestone.status is not MilestoneStatus.PARTIAL:
        raise NotAllowed("partial_gone", "This offer is no longer open.")
    return milestone, contract


@BONUS.on("show")
async def show_pressed(ctx: Context) -> None:
    milestone, contract = await _offered(ctx, _pressed_id(ctx))
    await ctx.reply(
        await offer_text(ctx, ctx.t, milestone, contract),
        decision_keyboard(ctx.t, milestone, contract),
    )
    ctx.answer()


@BONUS.on("accept")
async def accept_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    milestone_id, shown = _pressed_id(ctx), int_arg(ctx.callback.arg)
    split = await uc.accept_partial(
        ctx.uow, ctx.clock, gateway_of(ctx), ctx.user.id, milestone_id, shown
    )
    milestone, contract = await milestone_with_contract(ctx.uow, milestone_id, lock=False)
    await ctx.edit(
        ctx.t(
            "partial.accepted_you",
            title=milestone.title,
            net=money(split.to_freelancer, milestone.currency),
        ),
        keyboard(
            button(ctx.t.plain("work.btn.balance"), cmd_data("balance")),
            open_contract_button(ctx.t, contract.id),  # type: ignore[arg-type]
        ),
    )
    ctx.answer(ctx.t.plain("partial.accepted_short"))


@renders(PartialReleaseAccepted, load=milestone_rows)
async def partial_accepted(
    scope: Scope, event: PartialReleaseAccepted, milestone: Milestone, contract: Contract
) -> None:
    cur, cid = event.currency, contract.id
    await scope.notify(
        contract.client_id,
        "partial.notify.accepted",
        buttons=lambda t: keyboard(open_contract_button(t, cid)),  # type: ignore[arg-type]
        name=await name_of(scope, contract.freelancer_id),
        title=milestone.title,
        share=money(event.share, cur),
        net=money(event.to_freelancer, cur),
        refund=money(event.to_client, cur),
    )


@BONUS.on("decline")
async def decline_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    milestone, _ = await _offered(ctx, _pressed_id(ctx))
    shown = int_arg(ctx.callback.arg)
    await ctx.set_state(BonusStep.DECLINE, {"ms": milestone.id, "s": shown})
    await ctx.reply(ctx.t("partial.ask_decline", min=DECLINE_REASON_MIN), _cancel_row(ctx.t))
    ctx.answer()


@step(BonusStep.DECLINE)
async def decline_step(ctx: Context) -> None:
    milestone_id, shown = int(ctx.data["ms"]), int(ctx.data["s"])
    dispute_id = await uc.decline_partial(
        ctx.uow, ctx.clock, ctx.config, ctx.user.id, milestone_id, shown, ctx.text
    )
    await ctx.clear_state()
    await ctx.reply(
        ctx.t("partial.declined_you"),
        keyboard(button(ctx.t.plain("partial.btn.dispute"), DISPUTE.data("view", dispute_id))),
    )
