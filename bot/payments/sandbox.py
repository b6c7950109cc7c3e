"""The sandbox gateway: no real money, a local page decides the payment.

start_checkout returns `<public url>/pay/<payment id>?sig=<HMAC>`; the page
(sandbox_page.py) confirms or declines through confirm.py, the same path the
Stripe webhook takes. Refunds and payouts succeed at once.
"""

from __future__ import annotations

import hashlib
import hmac

from domain.entities import Payment, Payout
from domain.ports import CheckoutStarted

NAME = "sandbox"


class PageSigner:
    """Signs payment ids so that only the link the payer was sent opens the page."""

    def __init__(self, secret: str | bytes) -> None:
        if not secret:
            raise ValueError("the sandbox page needs a signing secret")
        self._key = secret.encode() if isinstance(secret, str) else secret

    def sign(self, payment_id: int) -> str:
        return hmac.new(self._key, f"pay:{payment_id}".encode(), hashlib.sha256).hexdigest()

    def verify(self, payment_id: int, sig: str) -> bool:
        # Bytes: compare_digest raises TypeError on a str with non-ASCII characters.
        return hmac.compare_digest(self.sign(payment_id).encode(), (sig or "").encode())


def _derived_id(prefix: str, idempotency_key: str) -> str:
    # Derived from the key, so the same key gives the same id even after a restart.
    return prefix + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


class SandboxGateway:
    name = NAME

    def __init__(self, public_url: str, secret: str | bytes) -> None:
        self.public_url = public_url.rstrip("/")
        self.signer = PageSigner(secret)

    def page_url(self, payment_id: int) -> str:
        return f"{self.public_url}/pay/{payment_id}?sig={self.signer.sign(payment_id)}"

    async def start_checkout(
        self, payment: Payment, description: str, idempotency_key: str
    ) -> CheckoutStarted:
        if payment.id is None:
            raise ValueError("the payment must be saved before checkout")
        return CheckoutStarted(
            external_id=_derived_id("sbx_cs_", idempotency_key), url=self.page_url(payment.id)
        )

    async def refund(self, payment: Payment, amount: int, idempotency_key: str) -> str:
        return _derived_id("sbx_re_", idempotency_key)

    async def payout(self, payout: Payout, idempotency_key: str) -> str:
        return _derived_id("sbx_tr_", idempotency_key)


def sandbox_charge_ref(payment_id: int) -> str:
    return f"sbx_ch_{payment_id}"
