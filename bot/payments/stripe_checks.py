"""What Stripe's news of a payment must prove before it funds anything (the
webhook and reconciliation both use these; domain.usecases.payment_checks
compares the result with the payment row):

- live_key: our mode, from the secret key — the one rule for it;
- refusal: an event from a connected account, or from the other mode, never
  funds a platform payment;
- received: the amount and currency a Checkout Session or a PaymentIntent says
  were taken.
"""

from __future__ import annotations

from typing import Any

from bot.payments.stripe_gateway import StripeGateway, field
from domain.usecases.payment_checks import CONNECTED_ACCOUNT, OTHER_MODE, Received


def live_key(secret_key: str) -> bool:
    """Live mode for a live key (sk_live_…, or a restricted rk_live_…); test
    mode for any other."""
    return secret_key.startswith(("sk_live_", "rk_live_"))


def livemode_of(gateway: StripeGateway) -> bool:
    """The mode of the key the gateway's client calls Stripe with."""
    return live_key(gateway.client._requestor.api_key or "")  # type: ignore[attr-defined]


def refusal(obj: Any, livemode: bool) -> str | None:
    """Why a Stripe event (or an object retrieved from Stripe) can never fund one
    of the platform's payments, whatever it says: it came from a connected
    account (`account`), or from the mode we are not in (`livemode`, which must
    be there)."""
    if field(obj, "account"):
        return CONNECTED_ACCOUNT
    if field(obj, "livemode") is not livemode:
        return OTHER_MODE
    return None


def received(obj: Any, refused: str | None = None, account: str | None = None) -> Received:
    """What a Checkout Session (amount_total) or a PaymentIntent (amount_received,
    else amount) says was taken."""
    if field(obj, "object") == "checkout.session":
        amount = field(obj, "amount_total")
    else:
        amount = field(obj, "amount_received")
        amount = field(obj, "amount") if amount is None else amount
    currency = field(obj, "currency")
    return Received(
        ref=str(field(obj, "id") or ""),
        amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        currency=currency if isinstance(currency, str) else None,
        refused=refused,
        account=account,
    )
