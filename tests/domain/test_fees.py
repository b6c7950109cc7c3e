from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.fees import fee, funding_quote, percent_to_bp, settlement

amounts = st.integers(min_value=1, max_value=10**12)
bps = st.integers(min_value=0, max_value=10_000)


def test_fee_rounds_half_up_to_the_minor_unit():
    assert fee(10_000, 500) == 500
    assert fee(10, 500) == 1  # 0.5 → 1
    assert fee(9, 500) == 0  # 0.45 → 0
    assert fee(1_999, 250) == 50  # 49.975 → 50
    assert fee(0, 500) == 0
    with pytest.raises(ValueError):
        fee(-1, 500)


def test_funding_quote_shows_the_client_fee_before_paying():
    quote = funding_quote(50_000, 500)
    assert (quote.amount, quote.client_fee, quote.total) == (50_000, 2_500, 52_500)


@given(amounts, st.data(), bps, bps)
def test_settlement_parts_are_non_negative_and_sum_to_the_escrow(
    amount, data, client_bp, freelancer_bp
):
    share = data.draw(st.integers(0, amount))
    s = settlement(amount, share, client_bp, freelancer_bp)
    assert min(s.to_freelancer, s.to_platform, s.to_client) >= 0
    assert s.total == amount + fee(amount, client_bp) == funding_quote(amount, client_bp).total


@given(amounts, bps, bps)
def test_release_gives_the_platform_both_fees(amount, client_bp, freelancer_bp):
    s = settlement(amount, amount, client_bp, freelancer_bp)
    assert s.to_client == 0
    assert s.to_freelancer == amount - fee(amount, freelancer_bp)
    assert s.to_platform == fee(amount, client_bp) + fee(amount, freelancer_bp)


@given(amounts, bps, bps)
def test_refund_returns_everything(amount, client_bp, freelancer_bp):
    s = settlement(amount, 0, client_bp, freelancer_bp)
    assert (s.to_freelancer, s.to_platform) == (0, 0)
    assert s.to_client == amount + fee(amount, client_bp)


@given(amounts, st.data(), bps, bps)
def test_a_larger_share_never_pays_the_freelancer_less(amount, data, client_bp, freelancer_bp):
    share = data.draw(st.integers(0, amount - 1))
    smaller = settlement(amount, share, client_bp, freelancer_bp)
    larger = settlement(amount, share + 1, client_bp, freelancer_bp)
    assert larger.to_freelancer >= smaller.to_freelancer
    assert larger.to_client <= smaller.to_client


@given(st.integers(0, 10**12), bps)
def test_fee_is_monotone_in_amount_and_never_exceeds_it(amount, bp):
    assert fee(amount, bp) <= fee(amount + 1, bp)
    assert 0 <= fee(amount, bp) <= amount


@given(st.integers(0, 10**9), bps)
def test_fee_is_monotone_in_rate(amount, bp):
    assert fee(amount, bp) <= fee(amount, min(bp + 1, 10_000))


@pytest.mark.parametrize("share", [-1, 101])
def test_settlement_refuses_a_share_outside_the_amount(share):
    with pytest.raises(ValueError):
        settlement(100, share, 500, 1000)


@pytest.mark.parametrize(
    ("percent", "bp"),
    [
        ("5", 500),
        (10, 1000),
        ("2.5", 250),
        (Decimal("0.125"), 13),
        (0.1, 10),
        ("0", 0),
        ("100", 10_000),
    ],
)
def test_percent_to_bp(percent, bp):
    assert percent_to_bp(percent) == bp


@pytest.mark.parametrize("percent", ["-1", "100.01", 150])
def test_percent_to_bp_refuses_out_of_range(percent):
    with pytest.raises(ValueError):
        percent_to_bp(percent)


@given(st.decimals(min_value=0, max_value=100, places=2))
def test_percent_to_bp_is_exact_for_hundredths(percent):
    assert percent_to_bp(percent) == int(percent * 100)
