"""Fund a milestone into escrow: the quote first (amount, client fee, total, from
domain.fees), then a Pay button that opens the gateway's checkout page. The
"funded" confirmation reaches both parties from the confirm_payment event, in
whichever way the payment was confirmed (sandbox page, Stripe webhook, poll).

Callback data (prefix "fd"):
- "fd:quote:<milestone>"     the quote, with the Pay button (old code "q")
- "fd:checkout:<milestone>"  start (or resume) the checkout: a URL button to the page;
                             a second tap returns the same payment and link (old "pay")

What only a gateway knows is told here too: "payment_declined", the payer's card
was declined on the checkout page (bot/payments/confirm.py). The payment stays
open (Stripe lets the payer try another card in the same Checkout Session), so
nothing changes in the domain; the client is told why, with a button back to
the quote and the same checkout.
"""

from __future__ import annotations

from dataclasses import replace

from domain.entities import Contract, Milestone
from domain.errors import IllegalTransition, NotAllowed
from domain.events import (
    FundingStarted,
    LatePaymentEvent,
    LatePaymentRefunded,
    MilestoneFunded,
    PaymentDeclined,
    PaymentFailed,
    PaymentMismatch,
    PaymentRefundDue,
)
from domain.states import MILESTONE
from domain.usecases import payments as uc
from domain.usecases import queries
from domain.usecases.common import milestone_with_contract, require_party
from handlers.context import REPLY, Context, Scope
from handlers.contract_views import confirm_keyboard, escrow_line, open_contract_button
from handlers.events import Keyboard
from handlers.flows.telegram_pay import GATEWAY as TELEGRAM
from handlers.flows.telegram_pay import send_invoice
from handlers.flows.work import milestone_keyboard, submit_keyboard
from handlers.helpers import gateway_of, name_of, percent
from handlers.i18n import Translator
from handlers.notify import milestone_rows, renders
from handlers.prefixes import FUND
from handlers.render import button, join, keyboard, money, url_button

FAILED = "payment_failed"  # the words for a failure whose code the catalogs do not know
DECLINED = "card_declined"  # the words for any decline code the catalogs do not know


def failure_reason(t: Translator, code: str | None, default: str = FAILED) -> str:
    """A payment's failure code (checkout_expired, card_declined, gateway_busy …)
    in the reader's words: error.<code>, else error.<default> (the general
    error.payment_failed unless the caller knows better); without the final full
    stop, as it stands in brackets. The one translation of a gateway's code."""
    key = f"error.{code}" if code and t.has(f"error.{code}") else f"error.{default}"
    return t.plain(key).rstrip(".")


async def _fundable(ctx: Context, milestone_id: int):  # type: ignore[no-untyped-def]
    milestone, contract = await milestone_with_contract(ctx.uow, milestone_id, lock=False)
    require_party(contract, ctx.user.id, "client")
    if contract.status not in uc.fundable_statuses(milestone, contract):
        raise NotAllowed("contract_not_active", "Only milestones of active contracts are funded.")
    if not MILESTONE.allows(milestone.status, "fund"):
        raise IllegalTransition("milestone", str(milestone.status), "fund")
    return milestone, contract


async def show_quote(ctx: Context, milestone_id: int) -> None:
    t = ctx.t
    milestone, contract = await _fundable(ctx, milestone_id)
    q = await uc.quote(ctx.uow, ctx.user.id, milestone_id)
    cur = milestone.currency
    text = join(
        [
            t("funding.quote.title", title=milestone.title, contract=contract.title),
            t("funding.quote.amount", amount=money(q.amount, cur)),
            t(
                "funding.quote.fee",
                percent=percent(contract.client_fee_bp),
                fee=money(q.client_fee, cur),
            ),
            t("funding.quote.total", total=money(q.total, cur)),
            "",
            t("funding.quote.escrow_hint", name=await name_of(ctx, contract.freelancer_id)),
        ]
    )
    pay_label = t.plain("funding.btn.pay", total=money(q.total, cur))
    await ctx.edit(
        text,
        confirm_keyboard(t, pay_label, FUND.data("checkout", milestone_id), contract.id),  # type: ignore[arg-type]
    )


async def pay(ctx: Context, milestone_id: int) -> None:
    t = ctx.t
    await _fundable(ctx, milestone_id)
    payment = await uc.start_funding(
        ctx.uow,
        ctx.clock,
        ctx.config,
        gateway_of(ctx),
        ctx.user.id,
        milestone_id,
        shown_in=ctx.event.message_id,
    )
    milestone, contract = await milestone_with_contract(ctx.uow, milestone_id, lock=False)
    if payment.gateway == TELEGRAM and payment.external_id:  # its invoice, once more
        q = await uc.quote(ctx.uow, ctx.user.id, milestone_id)
        again = FundingStarted(
            milestone_id=milestone_id,
            contract_id=contract.id,  # type: ignore[arg-type]
            payment_id=payment.id,  # type: ignore[arg-type]
            client_id=ctx.user.id,
            amount=q.amount,
            client_fee=q.client_fee,
            total=payment.amount,
            currency=payment.currency,
            url="",
            shown_in=ctx.event.message_id,
        )
        await send_invoice(ctx, t, again, milestone, contract)
    elif payment.checkout_url:  # a checkout already open: the same page again
        await ctx.edit(
            *checkout_message(t, milestone, contract, payment.amount, payment.checkout_url)
        )
    else:  # opened right after this step commits; its link follows (funding_started)
        await ctx.edit(
            t("funding.preparing", title=milestone.title),
            keyboard(open_contract_button(t, contract.id)),  # type: ignore[arg-type]
        )
    ctx.answer(t.plain("funding.checkout_short"))


def checkout_message(
    t: Translator, milestone: Milestone, contract: Contract, total: int, url: str
) -> tuple[str, Keyboard]:
    return (
        t("funding.checkout", title=milestone.title, total=money(total, milestone.currency)),
        keyboard(
            url_button(t.plain("funding.btn.open_checkout"), url),
            open_contract_button(t, contract.id),  # type: ignore[arg-type]
        ),
    )


@renders(FundingStarted, load=milestone_rows)
async def funding_started(
    scope: Scope, event: FundingStarted, milestone: Milestone, contract: Contract
) -> None:
    """The checkout the client asked for is open: the "preparing" message turns
    into the link (or the link comes as a message of its own). Paid inside Telegram
    (GIGBOT_PAYMENTS=telegram): an invoice instead of the link."""
    t = await scope.translator_for(event.client_id)
    payment = await scope.uow.payments.get(event.payment_id)
    if payment is not None and payment.gateway == TELEGRAM:
        await send_invoice(scope, t, event, milestone, contract)
        return
    text, buttons = checkout_message(t, milestone, contract, event.total, event.url)
    if event.shown_in:
        await scope.edit_message(event.client_id, event.shown_in, text, buttons)
    else:
        await scope.notify(event.client_id, text=text, buttons=buttons, priority=REPLY)


@FUND.on("quote", old=("q",))
async def quote_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await show_quote(ctx, ctx.callback.require_id())


@FUND.on("checkout", old=("pay",))
async def checkout_pressed(ctx: Context) -> None:
    assert ctx.callback is not None
    await pay(ctx, ctx.callback.require_id())


# --- notifications (from confirm_payment / payment_failed) ------------------------------


@renders(MilestoneFunded, load=milestone_rows)
async def milestone_funded(
    scope: Scope, event: MilestoneFunded, milestone: Milestone, contract: Contract
) -> None:
    amount = money(milestone.amount, milestone.currency)
    today = scope.clock.now().date()
    held = await queries.escrow_of(scope.uow, [milestone])
    client_t = await scope.translator_for(contract.client_id)
    await scope.notify(
        contract.client_id,
        "funding.notify.client",
        buttons=lambda t: milestone_keyboard(t, "client", milestone, contract, today),
        title=milestone.title,
        escrow=escrow_line(client_t, held, milestone.currency),
        name=await name_of(scope, contract.freelancer_id),
    )
    await scope.notify(
        contract.freelancer_id,
        "funding.notify.freelancer",
        buttons=lambda t: submit_keyboard(t, "funding.btn.submit", milestone, contract, today),
        title=milestone.title,
        amount=amount,
        contract=contract.title,
        name=await name_of(scope, contract.client_id),
    )


@renders(PaymentFailed)
async def payment_failed(scope: Scope, event: PaymentFailed) -> None:
    milestone = await scope.uow.milestones.get(event.milestone_id)
    if milestone is None:
        return
    mid, client_id = milestone.id, event.client_id
    payer = await scope.translator_for(client_id)
    await scope.notify(
        client_id,
        "funding.notify.failed",
        buttons=lambda t: keyboard(button(t.plain("funding.btn.retry"), FUND.data("quote", mid))),
        title=milestone.title,
        reason=failure_reason(payer, event.reason),
    )


@renders(PaymentDeclined)
async def payment_declined(scope: Scope, event: PaymentDeclined) -> None:
    """The card was declined; the payment stays open for another card."""
    milestone = await scope.uow.milestones.get(event.milestone_id)
    if milestone is None:
        return
    payer = await scope.translator_for(event.client_id)
    mid = milestone.id
    await scope.notify(
        event.client_id,
        "funding.notify.failed",
        buttons=lambda t: keyboard(button(t.plain("funding.btn.retry"), FUND.data("quote", mid))),
        title=milestone.title,
        reason=failure_reason(payer, event.code, default=DECLINED),
    )


# A payment that arrived when its milestone no longer needed it (confirm_payment):
# refunded at once, or due while the gateway refuses (retried by reconciliation).


async def _late_payment(
    scope: Scope, event: LatePaymentEvent | PaymentMismatch
) -> dict[str, object]:
    """The parameters every message about a late payment shows."""
    milestone = await scope.uow.milestones.get(event.milestone_id)
    return {
        "title": milestone.title if milestone else "—",
        "amount": money(event.amount, event.currency),
        "payment_id": event.payment_id,
        "payer": await name_of(scope, event.payer_id),
    }


@renders(PaymentRefundDue)
async def payment_refund_due(scope: Scope, event: PaymentRefundDue) -> None:
    params = await _late_payment(scope, event)
    await scope.notify(event.payer_id, "funding.notify.refund_due", **params)
    error = event.error
    for admin_id in sorted(scope.config.admin_ids):
        if error:
            t = await scope.translator_for(admin_id)
            reason = failure_reason(t, error, default="gateway_error")
            await scope.notify(
                admin_id, "funding.admin.refund_failed", reason=reason, code=error, **params
            )
        else:  # no gateway to refund through
            await scope.notify(admin_id, "funding.admin.refund_manual", **params)


@renders(LatePaymentRefunded)
async def late_payment_refunded(scope: Scope, event: LatePaymentRefunded) -> None:
    params = await _late_payment(scope, event)
    # A payment that was not what was quoted is refunded in words of its own.
    mismatch = event.why == "mismatch"
    payer_key = "funding.notify.mismatch_refunded" if mismatch else "funding.notify.refunded"
    admin_key = "funding.admin.mismatch_refunded" if mismatch else "funding.admin.refunded"
    await scope.notify(event.payer_id, payer_key, **params)
    for admin_id in sorted(scope.config.admin_ids):
        await scope.notify(admin_id, admin_key, refund_id=event.refund_id, **params)


# News of a payment that is not the payment's (domain.usecases.payment_checks):
# nothing was funded; money taken for the payment is refunded.


def _paid(amount: int | None, currency: str | None) -> str:
    """What a gateway said it took, which may not be a currency we know."""
    try:
        return money(amount, currency)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return f"{amount if amount is not None else '?'} {currency or '?'}"


@renders(PaymentMismatch)
async def payment_mismatch(scope: Scope, event: PaymentMismatch) -> None:
    params = await _late_payment(
        scope, replace(event, amount=event.expected_amount, currency=event.expected_currency)
    )
    params.update(
        received=_paid(event.amount, event.currency),
        gateway=event.gateway,
        ref=event.ref,
    )
    if event.refund_due:
        mid = event.milestone_id
        await scope.notify(
            event.payer_id,
            "funding.notify.mismatch",
            buttons=lambda t: keyboard(
                button(t.plain("funding.btn.retry"), FUND.data("quote", mid))
            ),
            **params,
        )
    outcome = "funding.admin.mismatch_refund" if event.refund_due else "funding.admin.mismatch_kept"
    for admin_id in sorted(scope.config.admin_ids):
        t = await scope.translator_for(admin_id)
        reasons = "; ".join(
            t.plain(f"funding.mismatch.{r}", account=event.account or "?") for r in event.reasons
        )
        text = join([t("funding.admin.mismatch", reasons=reasons, **params), t(outcome)])
        await scope.notify(admin_id, text=text)
