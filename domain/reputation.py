"""Reputation: a 0–100 score and badges computed from a person's record.

The rule (weights sum to 100; every part is a fraction between 0 and 1,
computed with exact fractions and the total rounded half up):

- Rating, 45 points. A Bayesian average: the ratings plus RATING_PRIOR_COUNT
  imaginary ratings of RATING_PRIOR_MEAN (3 × 4.0★), so one 5★ review gives
  4.25★, not 5★, while fifty 4.8★ reviews give about 4.73★. Mapped 1★ → 0,
  5★ → 1.
- Reliability, 20 points. The share of contracts that had a dispute, smoothed
  by DISPUTE_PRIOR_CLEAN imaginary clean contracts; each percent of disputes
  costs two percent of these points (50 % disputed → 0).
- On-time delivery, 15 points. Milestones delivered by their due date, smoothed
  towards 80 % by two imaginary milestones.
- Responsiveness, 10 points, from the median time to answer a message or an
  offer: ≤ 1 h → 1, ≤ 4 h → 0.8, ≤ 24 h → 0.5, slower → 0.2, unknown → 0.5.
- Track record, 10 points: completed / (completed + 2), so experience counts
  but saturates.

Money earned or spent is shown on the profile but never buys score.

Before a first completed contract there is nothing to score: the priors alone
give a brand-new profile about 71, so `is_new` people are shown as "New — no
score yet", never as a number (the number still ranks their pitches).
The same rule serves clients: their record holds the ratings freelancers gave
them and the disputes on their contracts.

Badges, each exactly at its threshold:
- "top_rated": score ≥ 90, ≥ 5 completed contracts and ≤ 10 % disputed.
- "rising_talent": a member for less than 90 days, ≥ 1 completed contract and
  an average rating (plain, not Bayesian) ≥ 4.5.
- "fast_responder": median response under one hour.
- "on_time": ≥ 90 % of milestones on time, over at least 3 milestones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

RATING_PRIOR_COUNT = 3
RATING_PRIOR_MEAN = 4
DISPUTE_PRIOR_CLEAN = 3
ON_TIME_PRIOR = (Fraction(8, 5), 2)  # 1.6 of 2 imaginary milestones on time: 80 %
TRACK_RECORD_HALF = 2  # completed contracts at which the track record gives half its points

WEIGHT_RATING = 45
WEIGHT_RELIABILITY = 20
WEIGHT_ON_TIME = 15
WEIGHT_RESPONSE = 10
WEIGHT_TRACK_RECORD = 10

TOP_RATED_SCORE = 90
TOP_RATED_MIN_CONTRACTS = 5
TOP_RATED_MAX_DISPUTED = Fraction(1, 10)
RISING_TALENT_DAYS = 90
RISING_TALENT_MIN_AVERAGE = Fraction(9, 2)
FAST_RESPONDER_SECONDS = 3600
ON_TIME_BADGE_SHARE = Fraction(9, 10)
ON_TIME_BADGE_MIN_MILESTONES = 3


@dataclass(kw_only=True)
class FreelancerRecord:
    """What the marketplace knows about one person (a freelancer or a client).

    `contracts_completed` counts ended contracts; `contracts_disputed` counts
    contracts that had a dispute, whether or not they have ended.
    """

    ratings: list[int] = field(default_factory=list)
    contracts_completed: int = 0
    contracts_disputed: int = 0
    milestones_on_time: int = 0
    milestones_late: int = 0
    median_response_seconds: int | None = None
    earnings_minor: int = 0
    member_since: datetime


@dataclass(frozen=True, kw_only=True)
class Reputation:
    score: int  # 0–100
    average_rating: Decimal | None  # plain average, one decimal place; None without ratings
    rating_count: int
    on_time_percent: int | None  # None before any milestone was due
    badges: list[str]
    contracts_completed: int = 0

    @property
    def is_new(self) -> bool:
        """No completed contract and no rating yet (a client's record counts ratings
        only, and a rating comes from an ended contract): the score is not shown
        ("New — no score yet")."""
        return self.contracts_completed == 0 and self.rating_count == 0


def _rating_part(ratings: list[int]) -> Fraction:
    bayes = Fraction(sum(ratings) + RATING_PRIOR_COUNT * RATING_PRIOR_MEAN) / (
        len(ratings) + RATING_PRIOR_COUNT
    )
    return (bayes - 1) / 4


def _dispute_share(record: FreelancerRecord) -> Fraction:
    """Raw share of contracts with a dispute (for the badge)."""
    contracts = max(record.contracts_completed, record.contracts_disputed)
    return Fraction(record.contracts_disputed, contracts) if contracts else Fraction(0)


def _reliability_part(record: FreelancerRecord) -> Fraction:
    contracts = max(record.contracts_completed, record.contracts_disputed)
    smoothed = Fraction(record.contracts_disputed, contracts + DISPUTE_PRIOR_CLEAN)
    return max(Fraction(0), 1 - 2 * smoothed)


def _on_time_part(record: FreelancerRecord) -> Fraction:
    prior_on_time, prior_count = ON_TIME_PRIOR
    due = record.milestones_on_time + record.milestones_late
    return (record.milestones_on_time + prior_on_time) / (due + prior_count)


def _response_part(seconds: int | None) -> Fraction:
    if seconds is None:
        return Fraction(1, 2)
    if seconds <= 3600:
        return Fraction(1)
    if seconds <= 4 * 3600:
        return Fraction(4, 5)
    if seconds <= 24 * 3600:
        return Fraction(1, 2)
    return Fraction(1, 5)


def _track_record_part(completed: int) -> Fraction:
    return Fraction(completed, completed + TRACK_RECORD_HALF)


def _round_half_up(value: Fraction) -> int:
    return int((value * 2 + 1) // 2)


def _check(record: FreelancerRecord) -> None:
    if any(
        not isinstance(r, int) or isinstance(r, bool) or not 1 <= r <= 5 for r in record.ratings
    ):
        raise ValueError("ratings are whole numbers from 1 to 5")
    counts = (
        record.contracts_completed,
        record.contracts_disputed,
        record.milestones_on_time,
        record.milestones_late,
    )
    if min(counts) < 0 or (record.median_response_seconds or 0) < 0:
        raise ValueError("a record holds no negative counts")


def compute_reputation(record: FreelancerRecord, now: datetime) -> Reputation:
    """Score and badges by the rule in this module's docstring."""
    _check(record)
    score = _round_half_up(
        WEIGHT_RATING * _rating_part(record.ratings)
        + WEIGHT_RELIABILITY * _reliability_part(record)
        + WEIGHT_ON_TIME * _on_time_part(record)
        + WEIGHT_RESPONSE * _response_part(record.median_response_seconds)
        + WEIGHT_TRACK_RECORD * _track_record_part(record.contracts_completed)
    )
    score = min(100, max(0, score))

    average: Fraction | None = (
        Fraction(sum(record.ratings), len(record.ratings)) if record.ratings else None
    )
    due = record.milestones_on_time + record.milestones_late
    on_time_share = Fraction(record.milestones_on_time, due) if due else None

    badges: list[str] = []
    if (
        score >= TOP_RATED_SCORE
        and record.contracts_completed >= TOP_RATED_MIN_CONTRACTS
        and _dispute_share(record) <= TOP_RATED_MAX_DISPUTED
    ):
        badges.append("top_rated")
    if (
        now - record.member_since < timedelta(days=RISING_TALENT_DAYS)
        and record.contracts_completed >= 1
        and average is not None
        and average >= RISING_TALENT_MIN_AVERAGE
    ):
        badges.append("rising_talent")
    if (
        record.median_response_seconds is not None
        and record.median_response_seconds < FAST_RESPONDER_SECONDS
    ):
        badges.append("fast_responder")
    if (
        on_time_share is not None
        and due >= ON_TIME_BADGE_MIN_MILESTONES
        and on_time_share >= ON_TIME_BADGE_SHARE
    ):
        badges.append("on_time")

    return Reputation(
        score=score,
        average_rating=_one_decimal(average) if average is not None else None,
        rating_count=len(record.ratings),
        on_time_percent=_round_half_up(on_time_share * 100) if on_time_share is not None else None,
        badges=badges,
        contracts_completed=record.contracts_completed,
    )


def _one_decimal(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
