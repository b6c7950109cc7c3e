from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.reputation import FreelancerRecord, compute_reputation

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
VETERAN_SINCE = NOW - timedelta(days=1000)


def record(**kw) -> FreelancerRecord:
    kw.setdefault("member_since", VETERAN_SINCE)
    return FreelancerRecord(**kw)


def rep(**kw):
    return compute_reputation(record(**kw), NOW)


def strong(**overrides):
    """A solid freelancer; each test changes one thing."""
    base = dict(
        ratings=[5] * 10,
        contracts_completed=10,
        milestones_on_time=10,
        median_response_seconds=1800,
        recommendations=[10] * 10,
        clients=5,
        repeat_clients=3,
        long_term_contracts=3,
    )
    base.update(overrides)
    return rep(**base)


def test_newcomer_has_no_rating_and_no_badges():
    r = rep()
    assert r.average_rating is None and r.rating_count == 0 and r.is_new
    assert r.on_time_percent is None
    assert r.badges == []
    assert 0 <= r.score <= 100


def test_one_five_star_review_does_not_beat_fifty_at_four_point_eight():
    newcomer = rep(ratings=[5], contracts_completed=1, milestones_on_time=1)
    veteran = rep(ratings=[5] * 40 + [4] * 10, contracts_completed=50, milestones_on_time=50)
    assert veteran.average_rating == Decimal("4.8")
    assert newcomer.average_rating == Decimal("5.0")
    assert newcomer.score < veteran.score


def test_average_rating_is_rounded_half_up_to_tenths():
    assert rep(ratings=[5, 4, 4, 4]).average_rating == Decimal("4.3")  # 4.25
    assert rep(ratings=[1, 2]).average_rating == Decimal("1.5")
    assert rep(ratings=[3]).rating_count == 1


def test_disputes_lower_the_score():
    scores = [strong(contracts_disputed=d).score for d in range(0, 8)]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[1] > scores[5]


def test_worse_ratings_late_delivery_and_slow_answers_lower_the_score():
    best = strong().score
    assert strong(ratings=[3] * 10).score < best
    assert strong(milestones_late=5).score < best
    assert strong(median_response_seconds=3 * 86400).score < best


def test_score_is_within_bounds_at_the_extremes():
    worst = rep(
        ratings=[1] * 100,
        contracts_completed=0,
        contracts_disputed=100,
        milestones_late=100,
        median_response_seconds=10**9,
        recommendations=[0] * 100,
        contracts_no_work=100,
    )
    best = rep(
        ratings=[5] * 1000,
        contracts_completed=1000,
        milestones_on_time=1000,
        median_response_seconds=1,
        recommendations=[10] * 1000,
        clients=100,
        repeat_clients=100,
        long_term_contracts=100,
    )
    assert worst.score <= 5
    assert 98 <= best.score <= 100


def test_on_time_percent():
    assert rep(milestones_on_time=2, milestones_late=1).on_time_percent == 67
    assert rep(milestones_on_time=1, milestones_late=1).on_time_percent == 50


# --- badges, exactly at their thresholds ------------------------------------------


def test_top_rated_needs_five_completed_contracts():
    assert "top_rated" in strong(contracts_completed=5, ratings=[5] * 5).badges
    four = strong(contracts_completed=4, ratings=[5] * 4, milestones_on_time=4)
    assert "top_rated" not in four.badges


def test_top_rated_allows_at_most_ten_percent_disputed():
    assert "top_rated" in strong(contracts_completed=10, contracts_disputed=1).badges
    eleven_percent = strong(
        contracts_completed=9, contracts_disputed=1, ratings=[5] * 9, milestones_on_time=9
    )
    assert eleven_percent.score >= 90
    assert "top_rated" not in eleven_percent.badges


def test_top_rated_appears_at_score_ninety_not_eighty_nine():
    seen: dict[int, list[str]] = {}
    for fours in range(0, 11):
        for late in range(0, 4):
            for response in (600, 7200, 40000, None):
                r = strong(
                    ratings=[5] * (10 - fours) + [4] * fours,
                    milestones_on_time=10 - late,
                    milestones_late=late,
                    median_response_seconds=response,
                )
                seen.setdefault(r.score, r.badges)
    assert 89 in seen and 90 in seen, sorted(seen)
    assert "top_rated" not in seen[89]
    assert "top_rated" in seen[90]


def test_rising_talent_thresholds():
    def talent(days: int, ratings: list[int], completed: int = 1) -> bool:
        r = compute_reputation(
            record(
                ratings=ratings,
                contracts_completed=completed,
                member_since=NOW - timedelta(days=days),
            ),
            NOW,
        )
        return "rising_talent" in r.badges

    assert talent(89, [5, 4])  # exactly 4.5
    assert not talent(89, [5, 4, 4])  # 4.33
    assert not talent(90, [5])  # a member for 90 days is no longer new
    assert talent(0, [5])
    assert not talent(10, [5], completed=0)
    assert not talent(10, [])


def test_fast_responder_under_one_hour():
    assert "fast_responder" in rep(median_response_seconds=3599).badges
    assert "fast_responder" not in rep(median_response_seconds=3600).badges
    assert "fast_responder" not in rep(median_response_seconds=None).badges


@pytest.mark.parametrize(
    ("on_time", "late", "badge"),
    [(9, 1, True), (3, 0, True), (8, 1, False), (2, 0, False), (18, 2, True), (17, 2, False)],
)
def test_on_time_badge(on_time, late, badge):
    assert ("on_time" in rep(milestones_on_time=on_time, milestones_late=late).badges) is badge


def test_clients_use_the_same_rule():
    client = rep(ratings=[4, 5, 5], contracts_completed=3, contracts_disputed=1)
    assert client.rating_count == 3 and 0 <= client.score <= 100


@pytest.mark.parametrize(
    "bad",
    [
        {"ratings": [0]},
        {"ratings": [6]},
        {"ratings": [True]},
        {"contracts_completed": -1},
        {"milestones_late": -1},
        {"median_response_seconds": -5},
    ],
)
def test_refuses_impossible_records(bad):
    with pytest.raises(ValueError):
        rep(**bad)


records = st.builds(
    FreelancerRecord,
    ratings=st.lists(st.integers(1, 5), max_size=60),
    contracts_completed=st.integers(0, 200),
    contracts_disputed=st.integers(0, 50),
    milestones_on_time=st.integers(0, 200),
    milestones_late=st.integers(0, 50),
    median_response_seconds=st.none() | st.integers(0, 10**7),
    earnings_minor=st.integers(0, 10**12),
    member_since=st.just(VETERAN_SINCE),
)


@given(records)
def test_score_bounds_and_monotone_in_disputes(rec):
    r = compute_reputation(rec, NOW)
    assert 0 <= r.score <= 100
    assert set(r.badges) <= {"top_rated", "rising_talent", "fast_responder", "on_time"}
    rec.contracts_disputed += 1
    assert compute_reputation(rec, NOW).score <= r.score


@given(records)
def test_earnings_never_buy_score(rec):
    before = compute_reputation(rec, NOW).score
    rec.earnings_minor += 10**9
    assert compute_reputation(rec, NOW).score == before


def test_new_until_a_completed_contract_or_a_rating():
    """Issue 11, item 14: the priors alone give a blank record about 64 (71 before issue 14), which is not
    a record; such a person is shown as new, not as a number."""
    assert rep().is_new and rep().score > 0
    assert not rep(contracts_completed=1).is_new
    assert not rep(ratings=[5]).is_new
