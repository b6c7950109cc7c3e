import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.fees import Settlement, settlement
from domain.ledger import (
    PLATFORM_FEES,
    Entry,
    TransactionDraft,
    escrow_account,
    freelancer_account,
    funding,
    gateway_account,
    payout,
    payouts_account,
    settling,
)


def balanced(draft: TransactionDraft) -> bool:
    return sum(e.amount for e in draft.entries) == 0 and len(draft.entries) >= 2


def test_keys_and_accounts():
    assert funding(42, 100, "USD", "sandbox").key == "fund:milestone:42"
    assert payout(7, 1, 100, "USD", "sandbox").key == "payout:7"
    s = settling(42, 9, settlement(100, 100, 500, 1000), "USD", "stripe", "release")
    assert s.key == "settle:milestone:42" and s.kind == "release"
    assert escrow_account(42) == "escrow:milestone:42"
    assert freelancer_account(9) == "freelancer:9"
    assert gateway_account("stripe") == "gateway:stripe"
    assert payouts_account("sandbox") == "payouts:sandbox"


def test_funding_moves_the_total_from_the_gateway_into_escrow():
    draft = funding(1, 10_500, "USD", "sandbox")
    assert draft.entries == (Entry("gateway:sandbox", -10_500), Entry("escrow:milestone:1", 10_500))
    assert balanced(draft)


def test_release_pays_freelancer_and_platform():
    split = settlement(10_000, 10_000, 500, 1000)
    draft = settling(1, 9, split, "USD", "sandbox", "release")
    assert draft.entries == (
        Entry("escrow:milestone:1", -10_500),
        Entry("freelancer:9", 9_000),
        Entry(PLATFORM_FEES, 1_500),
    )


def test_refund_returns_through_the_gateway():
    draft = settling(1, 9, settlement(10_000, 0, 500, 1000), "USD", "sandbox", "refund")
    assert draft.entries == (Entry("escrow:milestone:1", -10_500), Entry("gateway:sandbox", 10_500))


@given(
    st.integers(1, 10**12),
    st.data(),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
)
def test_every_settlement_draft_is_balanced_and_empties_the_escrow(amount, data, cbp, fbp):
    split = settlement(amount, data.draw(st.integers(0, amount)), cbp, fbp)
    draft = settling(5, 9, split, "USD", "stripe", "split")
    assert balanced(draft)
    escrow = [e.amount for e in draft.entries if e.account == escrow_account(5)]
    assert escrow == [-split.total]
    assert all(e.amount != 0 for e in draft.entries)


@given(st.integers(1, 10**12))
def test_funding_and_payout_drafts_are_balanced(amount):
    assert balanced(funding(1, amount, "USD", "sandbox"))
    assert balanced(payout(1, 9, amount, "USD", "sandbox"))


@pytest.mark.parametrize("amount", [0, -1])
def test_non_positive_amounts_are_refused(amount):
    with pytest.raises(ValueError):
        funding(1, amount, "USD", "sandbox")
    with pytest.raises(ValueError):
        payout(1, 9, amount, "USD", "sandbox")


@pytest.mark.parametrize(
    "split",
    [
        Settlement(to_freelancer=0, to_platform=0, to_client=0),
        Settlement(to_freelancer=-5, to_platform=5, to_client=0),
        Settlement(to_freelancer=10, to_platform=-1, to_client=0),
    ],
)
def test_settling_refuses_empty_or_negative_parts(split):
    with pytest.raises(ValueError):
        settling(1, 9, split, "USD", "sandbox", "split")


def test_unbalanced_or_single_entry_transactions_are_refused():
    with pytest.raises(ValueError, match="unbalanced"):
        TransactionDraft(key="k", kind="x", currency="USD", entries=(Entry("a", 1), Entry("b", 0)))
    with pytest.raises(ValueError, match="two or more"):
        TransactionDraft(key="k", kind="x", currency="USD", entries=(Entry("a", 0),))


def test_milestone_transfer_is_balanced_keyed_once_and_refuses_nothing_to_send():
    from domain.ledger import milestone_transfer

    draft = milestone_transfer(7, 42, 9_000, "USD", "stripe", "tr_1")
    assert draft.key == "transfer:milestone:7" and draft.kind == "payout"
    assert {(e.account, e.amount) for e in draft.entries} == {
        ("freelancer:42", -9_000),
        ("payouts:stripe", 9_000),
    }
    with pytest.raises(ValueError):
        milestone_transfer(7, 42, 0, "USD", "stripe")
