"""The one fee rule.

A fee is a percentage held in basis points (1 % = 100 bp) and rounded half
up to the currency's minor unit: fee(amount) = (amount × bp + 5 000) // 10 000.

- The client pays the milestone amount plus the client fee into escrow.
- On release the freelancer receives the amount less the freelancer fee; the
  platform keeps both fees.
- On a split (dispute resolution) with freelancer share s: the freelancer
  receives s − fee(s, freelancer_bp), the platform keeps fee(s, freelancer_bp)
  + fee(s, client_bp), and the client is refunded the rest of the escrow:
  (amount − s) + (fee(amount, client_bp) − fee(s, client_bp)).
  A release is the split with s = amount, a refund the split with s = 0, so
  every settlement goes through this single function.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


def percent_to_bp(percent: float | int | str | Decimal) -> int:
    """Settings give percentages ("5", "2.5"); the domain keeps basis points."""
    bp = (Decimal(str(percent)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if bp < 0 or bp > 10_000:
        raise ValueError(f"fee percent out of range: {percent}")
    return int(bp)


def fee(amount: int, bp: int) -> int:
    if amount < 0:
        raise ValueError("fee of a negative amount")
    return (amount * bp + 5_000) // 10_000


@dataclass(frozen=True, slots=True)
class FundingQuote:
    amount: int
    client_fee: int

    @property
    def total(self) -> int:
        return self.amount + self.client_fee


def funding_quote(amount: int, client_bp: int) -> FundingQuote:
    """What the client is shown before paying, and charged."""
    return FundingQuote(amount=amount, client_fee=fee(amount, client_bp))


@dataclass(frozen=True, slots=True)
class Settlement:
    to_freelancer: int
    to_platform: int
    to_client: int

    @property
    def total(self) -> int:
        return self.to_freelancer + self.to_platform + self.to_client


def settlement(amount: int, share: int, client_bp: int, freelancer_bp: int) -> Settlement:
    """Split an escrow of amount + client fee; `share` is the freelancer's part of `amount`."""
    if not 0 <= share <= amount:
        raise ValueError("share must be between 0 and the milestone amount")
    freelancer_fee = fee(share, freelancer_bp)
    client_fee_kept = fee(share, client_bp)
    return Settlement(
        to_freelancer=share - freelancer_fee,
        to_platform=freelancer_fee + client_fee_kept,
        to_client=(amount - share) + (fee(amount, client_bp) - client_fee_kept),
    )
