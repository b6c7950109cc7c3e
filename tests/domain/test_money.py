from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationError
from domain.money import MAX_MAJOR_UNITS, Money, exponent, parse_money


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("250", "USD", 25_000),
        ("1,250.50", "USD", 125_050),
        ("1,234,567.8", "USD", 123_456_780),
        ("$40", "USD", 4_000),
        ("$ 40", "USD", 4_000),
        ("40 usd", "USD", 4_000),
        ("40USD", "USD", 4_000),
        ("40.5", "USD", 4_050),
        ("0.01", "USD", 1),
        ("1.50", "USD", 150),
        ("1.000", "USD", 100),  # trailing zeros are not extra precision
        ("  7\u00a0EUR ", "EUR", 700),
        ("€12.5", "EUR", 1_250),
        ("1_000", "USD", 100_000),
        ("¥1,250", "JPY", 1_250),
        ("1250 jpy", "JPY", 1_250),
        ("1.005 BHD", "BHD", 1_005),
        ("10000000", "USD", 1_000_000_000),  # exactly the limit
        ("٤٠", "USD", 4_000),  # Arabic-Indic digits are digits too
    ],
)
def test_parse_money_accepts(text, currency, minor):
    assert parse_money(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("text", "currency", "code"),
    [
        ("", "USD", "amount_empty"),
        ("   ", "USD", "amount_empty"),
        ("-5", "USD", "amount_negative"),
        ("−5", "USD", "amount_negative"),
        ("$-5", "USD", "amount_negative"),
        ("-5 usd", "USD", "amount_negative"),
        ("0", "USD", "amount_zero"),
        ("0.00", "USD", "amount_zero"),
        ("$0", "USD", "amount_zero"),
        ("1.005", "USD", "amount_decimals"),
        ("0.001", "USD", "amount_decimals"),
        ("100.5", "JPY", "amount_decimals"),
        ("¥100.1", "JPY", "amount_decimals"),
        ("1.0005", "BHD", "amount_decimals"),
        ("10000000.01", "USD", "amount_too_large"),
        ("99999999999", "USD", "amount_too_large"),
        ("1" * 41, "USD", "amount_invalid"),
        ("nan", "USD", "amount_invalid"),
        ("NaN", "USD", "amount_invalid"),
        ("inf", "USD", "amount_invalid"),
        ("Infinity", "USD", "amount_invalid"),
        ("sNaN", "USD", "amount_invalid"),
        ("40 EUR", "USD", "amount_currency"),
        ("€40", "USD", "amount_currency"),
        ("¥40", "USD", "amount_currency"),
        ("abc", "USD", "amount_invalid"),
        ("forty", "USD", "amount_invalid"),
        ("1,25", "USD", "amount_invalid"),
        ("12,34,567", "USD", "amount_invalid"),
        ("1.2.3", "USD", "amount_invalid"),
        ("1e5", "USD", "amount_invalid"),
        ("0x10", "USD", "amount_invalid"),
        ("$", "USD", "amount_invalid"),
        ("5 5", "USD", "amount_invalid"),
        ("½", "USD", "amount_invalid"),
    ],
)
def test_parse_money_refuses(text, currency, code):
    with pytest.raises(ValidationError) as exc:
        parse_money(text, currency)
    assert exc.value.code == code
    assert exc.value.message


CURRENCIES = ["USD", "EUR", "GBP", "JPY", "BHD", "CHF", "RUB", "KRW"]


@st.composite
def positive_money(draw) -> Money:
    currency = draw(st.sampled_from(CURRENCIES))
    top = int(MAX_MAJOR_UNITS) * 10 ** exponent(currency)
    return Money(draw(st.integers(1, top)), currency)


@given(positive_money())
def test_format_then_parse_round_trips(money):
    assert parse_money(money.format(), money.currency) == money


@given(positive_money())
def test_plain_decimal_text_round_trips(money):
    exp = exponent(money.currency)
    text = str(Decimal(money.amount).scaleb(-exp))
    assert parse_money(text, money.currency) == money


def test_format():
    assert Money(125_050, "USD").format() == "$1,250.50"
    assert Money(125_050, "CHF").format() == "1,250.50 CHF"
    assert Money(1_250, "JPY").format() == "¥1,250"
    assert Money(-5, "USD").format() == "-$0.05"
    assert str(Money(1_005, "BHD")) == "1.005 BHD"


def test_arithmetic_in_one_currency():
    a, b = Money(500, "USD"), Money(250, "USD")
    assert a + b == Money(750, "USD")
    assert a - b == Money(250, "USD")
    assert -a == Money(-500, "USD")
    assert b < a and b <= a and a <= a and a > b
    assert Money.zero("EUR") == Money(0, "EUR")
    assert a.is_positive and not Money.zero("USD").is_positive


@pytest.mark.parametrize("op", ["+", "-", "<", "<="])
def test_mixed_currencies_are_refused(op):
    usd, eur = Money(100, "USD"), Money(100, "EUR")
    with pytest.raises(ValueError, match="currency mismatch"):
        {
            "+": lambda: usd + eur,
            "-": lambda: usd - eur,
            "<": lambda: usd < eur,
            "<=": lambda: usd <= eur,
        }[op]()


@pytest.mark.parametrize("amount", [1.5, Decimal("1"), "1", True, None])
def test_amount_must_be_an_int(amount):
    with pytest.raises(TypeError):
        Money(amount, "USD")


@pytest.mark.parametrize("currency", ["usd", "US", "USDT", "", "U$D"])
def test_currency_must_be_an_iso_code(currency):
    with pytest.raises(ValueError):
        Money(1, currency)


def test_exponents():
    assert exponent("USD") == 2 and exponent("jpy") == 0 and exponent("KWD") == 3
