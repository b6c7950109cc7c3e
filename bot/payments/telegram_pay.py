"""Telegram Payments with Stripe as Telegram's payment provider (GIGBOT_PAYMENTS=telegram).

Funding sends an invoice (sendInvoice, the outbox's "invoice" row: the milestone
and the client fee as price lines) instead of a link to a checkout page; Telegram
asks before charging (pre_checkout_query, answered by handlers/flows/telegram_pay.py
after re-checking the milestone) and reports the charge (successful_payment), which
is confirmed through the same path as every gateway's news
(domain.usecases.payment_checks.confirm_checked → payments.confirm_payment).

The charge itself is Stripe's: successful_payment's provider_payment_charge_id is a
Stripe charge id, kept as the payment's charge_ref, so refunds (the Refunds API on
that charge) and payouts (Connect Transfers with it as source_transaction) are the
Stripe gateway's own calls. Only the checkout differs: there is none to open, the
invoice is the checkout, named "tginv_<payment id>".
"""

from __future__ import annotations

from bot.payments.stripe_gateway import StripeGateway
from domain.entities import Payment
from domain.ports import CheckoutStarted

NAME = "telegram"
INVOICE_PREFIX = "tginv_"


class TelegramPaymentsGateway(StripeGateway):
    """Stripe's refunds, payouts and transfers; checkouts are Telegram invoices."""

    name = NAME

    async def start_checkout(
        self, payment: Payment, description: str, idempotency_key: str
    ) -> CheckoutStarted:
        # Nothing to call: the invoice goes out through the outbox once this is
        # recorded (handlers/flows/funding.py renders FundingStarted as the invoice).
        return CheckoutStarted(external_id=f"{INVOICE_PREFIX}{payment.id}", url="")
