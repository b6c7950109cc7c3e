"""Money in integer minor units, with its ISO 4217 currency beside it.

Floats never touch an amount. `Decimal` appears only where a person's text
is parsed (`parse_money`), and the result is an exact integer of minor units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from domain.errors import ValidationError

# Minor-unit exponents for currencies whose exponent is not 2 (ISO 4217).
_EXPONENTS: dict[str, int] = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "UGX": 0,
    "XAF": 0,
    "XOF": 0,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
}
_SYMBOLS: dict[str, str] = {"$": "USD", "€": "EUR", "£": "GBP", "₽": "RUB", "¥": "JPY", "₹": "INR"}
_SYMBOL_OF: dict[str, str] = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "RUB": "₽",
    "JPY": "¥",
    "INR": "₹",
}

# An amount above this (in major units) is refused as absurd for one milestone.
MAX_MAJOR_UNITS = Decimal(10_000_000)


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise ValueError(f"not an ISO 4217 code: {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def format(self) -> str:
        """Human text, e.g. "$1,250.50" or "1,250.50 CHF"."""
        exp = exponent(self.currency)
        sign = "-" if self.amount < 0 else ""
        major, minor = divmod(abs(self.amount), 10**exp)
        number = f"{major:,}" + (f".{minor:0{exp}d}" if exp else "")
        symbol = _SYMBOL_OF.get(self.currency)
        return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {self.currency}"

    def __str__(self) -> str:
        return self.format()


_NUMBER = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$|^\d+(\.\d+)?$")


def parse_money(text: str, currency: str, field: str = "amount") -> Money:
    """Parse what a person types: "1,250.50", "$40", "40 usd", "40.5".

    Refuses negatives, zero, too many decimals, absurd sizes, NaN, infinity,
    and a currency other than the marketplace's, each with a clear reason.
    `field` (amount, budget, rate, price) goes with the refusals that show an
    example, so the example fits what was asked; the limit is a parameter.
    """
    raw = (text or "").strip()
    if not raw:
        raise ValidationError(
            "amount_empty", "Please send an amount, e.g. 250 or 1,250.50.", field=field
        )
    if len(raw) > 40:
        raise ValidationError("amount_invalid", "That is not an amount I can read.", field=field)
    s = raw.replace("\u00a0", " ").replace("_", "")
    if s.startswith("-") or s.startswith("−"):
        raise ValidationError("amount_negative", "The amount must be positive.")
    found_currency: str | None = None
    if s and s[0] in _SYMBOLS:
        found_currency, s = _SYMBOLS[s[0]], s[1:].strip()
    m = re.fullmatch(r"(.*?)\s*([A-Za-z]{3})", s)
    # A currency code only after a number: "40 usd" — not "abc", "nan" or "Infinity".
    if m and m.group(1)[:1].isdigit():
        found_currency, s = m.group(2).upper(), m.group(1).strip()
    if s.startswith("-") or s.startswith("−"):
        raise ValidationError("amount_negative", "The amount must be positive.")
    if found_currency is not None and found_currency != currency:
        raise ValidationError(
            "amount_currency",
            f"This marketplace works in {currency}; send the amount in {currency}.",
        )
    if not _NUMBER.fullmatch(s):
        raise ValidationError(
            "amount_invalid", "That is not an amount I can read. Try 250 or 1,250.50.", field=field
        )
    try:
        value = Decimal(s.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise ValidationError(
            "amount_invalid", "That is not an amount I can read.", field=field
        ) from exc
    if not value.is_finite():
        raise ValidationError("amount_invalid", "That is not an amount I can read.", field=field)
    if value <= 0:
        raise ValidationError("amount_zero", "The amount must be more than zero.")
    exp = exponent(currency)
    places = value.normalize().as_tuple().exponent
    if isinstance(places, int) and -places > exp:
        allowed = f"{exp} decimal places" if exp else "no decimals"
        raise ValidationError("amount_decimals", f"{currency} amounts take {allowed}.")
    if value > MAX_MAJOR_UNITS:
        raise ValidationError(
            "amount_too_large",
            f"That is more than the limit of {MAX_MAJOR_UNITS:,} {currency}.",
            limit=Money(int(MAX_MAJOR_UNITS.scaleb(exp)), currency),
        )
    minor = int(value.scaleb(exp))
    return Money(minor, currency)
