"""Paying inside Telegram (GIGBOT_PAYMENTS=telegram; bot/payments/telegram_pay.py).

1. Funding (handlers/flows/funding.py) opens the payment as for any gateway; its
   FundingStarted is rendered here as an invoice (sendInvoice through the outbox):
   the milestone and the client fee as price lines, in minor units, the payload
   naming the payment ("gigbot:payment:<id>").
2. Telegram asks before charging (pre_checkout_query): answered ok only after
   re-checking in a unit of work that the payment is still pending and its
   milestone still needs exactly that amount (domain.usecases.payments.
   check_before_charge); else refused with the reason in the payer's language
   (the engine turns the DomainError into the refusal).
3. The successful_payment message: recorded through the path every gateway's news
   takes (payment_checks.confirm_checked → payments.confirm_payment), keeping
   Telegram's charge id and the provider's (a Stripe charge: charge_ref). A repeated
   one finds the payment settled and changes nothing.
"""

from __future__ import annotations

import logging
import re

from domain.entities import Contract, Milestone
from domain.errors import NotFound
from domain.events import FundingStarted
from domain.fees import funding_quote
from domain.usecases.payment_checks import Received, confirm_checked
from domain.usecases.payments import check_before_charge
from handlers.context import Context, Scope
from handlers.contract_views import open_contract_button
from handlers.events import Event, Outcome, PreCheckoutAnswer
from handlers.i18n import Translator
from handlers.render import keyboard, shorten
from handlers.routing import answers, on_kind

log = logging.getLogger(__name__)

GATEWAY = "telegram"  # bot/payments/telegram_pay.py's NAME
_PAYLOAD = re.compile(r"gigbot:payment:([1-9][0-9]{0,17})")
TITLE_MAX, DESCRIPTION_MAX = 32, 255  # sendInvoice's limits, in characters


def invoice_payload(payment_id: int) -> str:
    return f"gigbot:payment:{payment_id}"


def payment_of(payload: str) -> int | None:
    m = _PAYLOAD.fullmatch(payload or "")
    return int(m.group(1)) if m else None


async def send_invoice(
    scope: Scope, t: Translator, event: FundingStarted, milestone: Milestone, contract: Contract
) -> None:
    """The invoice for a payment just opened (and the "preparing" message says so).
    Sent again for a second tap on Pay: whichever copy is paid first, the other's
    pre-checkout is refused (the payment is no longer pending)."""
    q = funding_quote(milestone.amount, contract.client_fee_bp)
    await scope.send_invoice(
        event.client_id,
        {
            "title": shorten(milestone.title, TITLE_MAX),
            "description": shorten(
                t.plain("tgpay.description", title=milestone.title, contract=contract.title),
                DESCRIPTION_MAX,
            ),
            "payload": invoice_payload(event.payment_id),
            "currency": event.currency,
            "prices": [
                [shorten(t.plain("tgpay.line.milestone", title=milestone.title), 64), q.amount],
                [t.plain("tgpay.line.fee"), q.client_fee],
            ],
        },
    )
    text = t("tgpay.invoice_sent", title=milestone.title)
    buttons = keyboard(open_contract_button(t, contract.id))  # type: ignore[arg-type]
    if event.shown_in:
        await scope.edit_message(event.client_id, event.shown_in, text, buttons)


@answers("pre_checkout")
async def pre_checkout(scope: Scope, event: Event, t: Translator) -> Outcome:
    facts = event.payment
    assert facts is not None
    payment_id = payment_of(facts.payload)
    if payment_id is None:
        raise NotFound("payment_not_found", "Unknown payment.")
    await check_before_charge(
        scope.uow, GATEWAY, payment_id, event.user_id, facts.total_amount, facts.currency
    )
    return Outcome(pre_checkout_answer=PreCheckoutAnswer(ok=True))


@on_kind("payment")
async def successful_payment(ctx: Context) -> None:
    facts = ctx.event.payment
    assert facts is not None
    payment_id = payment_of(facts.payload)
    payment = await ctx.uow.payments.get(payment_id) if payment_id else None
    if payment is None or payment.gateway != GATEWAY or not payment.external_id:
        log.warning("successful_payment for an unknown invoice %r", facts.payload)
        await ctx.reply(ctx.t("tgpay.unknown"))
        return
    if payment.telegram_charge_id is None and payment.status == "pending":
        payment.telegram_charge_id = facts.telegram_charge_id
    received = Received(
        ref=facts.telegram_charge_id or facts.payload,
        amount=facts.total_amount,
        currency=facts.currency,
    )
    funded = await confirm_checked(
        ctx.uow,
        ctx.clock,
        ctx.config,
        GATEWAY,
        payment.external_id,
        received,
        facts.provider_charge_id,
    )
    if not funded:
        log.info("successful_payment %s: payment %s settled before", facts.payload, payment.id)
