"""Issue 14, part 2: the score's rule, by property — what should help never hurts,
the score stays within 0–100, and recent contracts outweigh old ones."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.reputation import (
    WEIGHT_REPEAT,
    FreelancerRecord,
    compute_reputation,
    recency_weight,
    score_parts,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@st.composite
def records(draw) -> FreelancerRecord:
    ratings = draw(st.lists(st.integers(1, 5), max_size=40))
    recommendations = draw(st.lists(st.integers(0, 10), max_size=40))
    clients = draw(st.integers(0, 30))
    completed = draw(st.integers(0, 60))
    return FreelancerRecord(
        ratings=ratings,
        rating_ages=draw(
            st.lists(st.integers(0, 3000), min_size=len(ratings), max_size=len(ratings))
        ),
        recommendations=recommendations,
        recommendation_ages=draw(
            st.lists(
                st.integers(0, 3000), min_size=len(recommendations), max_size=len(recommendations)
            )
        ),
        contracts_completed=completed,
        contracts_disputed=draw(st.integers(0, 20)),
        contracts_no_work=draw(st.integers(0, completed)),
        long_term_contracts=draw(st.integers(0, completed)),
        clients=clients,
        repeat_clients=draw(st.integers(0, clients)),
        milestones_on_time=draw(st.integers(0, 100)),
        milestones_late=draw(st.integers(0, 40)),
        median_response_seconds=draw(st.none() | st.integers(0, 10**7)),
        member_since=NOW - timedelta(days=draw(st.integers(0, 3000))),
    )


def score(record: FreelancerRecord) -> int:
    return compute_reputation(record, NOW).score


@given(records())
def test_bounded_and_the_parts_add_up(rec):
    r = compute_reputation(rec, NOW)
    assert 0 <= r.score <= 100
    assert all(0 <= p.points <= p.weight for p in r.parts)
    assert sum(p.weight for p in r.parts) == 100
    assert abs(sum(p.points for p in r.parts) - r.score) <= 1


@given(records())
def test_another_five_stars_never_lowers_the_score(rec):
    before = score(rec)
    more = copy.deepcopy(rec)
    more.rating_ages = [*more.rating_ages, 0]
    more.ratings = [*more.ratings, 5]
    assert score(more) >= before
    # …nor when it comes with the contract it ended and a warm recommendation
    more.contracts_completed += 1
    more.recommendations = [*more.recommendations, 10]
    more.recommendation_ages = [*more.recommendation_ages, 0]
    assert score(more) >= before


@given(records())
def test_a_repeat_client_never_lowers_the_score(rec):
    before = score(rec)
    more = copy.deepcopy(rec)
    if more.repeat_clients == more.clients:
        more.clients += 1
    more.repeat_clients += 1
    assert score(more) >= before
    assert sum(p.points for p in score_parts(more)) >= sum(p.points for p in score_parts(rec))


@given(records())
def test_a_long_term_contract_never_lowers_the_score(rec):
    more = copy.deepcopy(rec)
    more.long_term_contracts += 1
    more.contracts_completed = max(more.contracts_completed, more.long_term_contracts)
    assert score(more) >= score(rec)


@given(records())
def test_a_contract_without_delivered_work_never_raises_the_score(rec):
    if rec.contracts_no_work == rec.contracts_completed:
        return
    worse = copy.deepcopy(rec)
    worse.contracts_no_work += 1
    assert score(worse) <= score(rec)


@given(
    st.lists(st.integers(1, 5), min_size=1, max_size=10),
    st.integers(0, 182),
    st.integers(365, 3000),
)
def test_recent_outweighs_old(history, recent_age, old_age):
    """A 5★ now and a 1★ long ago is better than a 1★ now and a 5★ long ago."""

    def rec(five_age: int, one_age: int) -> FreelancerRecord:
        return FreelancerRecord(
            ratings=[*history, 5, 1],
            rating_ages=[1000] * len(history) + [five_age, one_age],
            recommendations=[10, 0],
            recommendation_ages=[five_age, one_age],
            contracts_completed=len(history) + 2,
            member_since=NOW - timedelta(days=3000),
        )

    good_lately = compute_reputation(rec(recent_age, old_age), NOW)
    bad_lately = compute_reputation(rec(old_age, recent_age), NOW)
    assert good_lately.score > bad_lately.score


def test_recency_weights_fall_with_age():
    ages = [0, 100, 182, 183, 364, 365, 729, 730, 1094, 1095, 5000]
    weights = [recency_weight(a) for a in ages]
    assert weights == sorted(weights, reverse=True)
    assert weights[0] == 1 and weights[-1] > 0


def test_repeat_clients_part_is_a_third_per_client_up_to_three():
    parts = {
        p.key: p
        for p in score_parts(FreelancerRecord(clients=5, repeat_clients=2, member_since=NOW))
    }
    assert (parts["repeat"].have, parts["repeat"].of) == (2, 5)
    assert parts["repeat"].points == WEIGHT_REPEAT * 2 / 3
