"""Reputation: a 0–100 score and badges computed from a person's record.

The rule (weights sum to 100; every part is a fraction between 0 and 1,
computed with exact fractions and the total rounded half up; docs/features.md
has it as a table):

- Rating, 35 points. A Bayesian average, each rating weighted by its age
  (RECENCY: under 6 months 1, then 3/4, 1/2 after a year, 1/4 after two, 1/8
  after three): the ratings plus RATING_PRIOR_COUNT imaginary ratings of
  RATING_PRIOR_MEAN (3 × 4.0★), so one 5★ review gives 4.25★, not 5★. Mapped
  1★ → 0, 5★ → 1.
- Private feedback, 10 points. "Would you recommend them" (0–10, never shown
  to them), weighted by age like the ratings, smoothed by two imaginary 7s.
- Reliability, 15 points. The share of contracts that had a dispute, smoothed
  by DISPUTE_PRIOR_CLEAN imaginary clean contracts; each percent of disputes
  costs two percent of these points (50 % disputed → 0).
- Delivery, 5 points. The same for ended contracts in which no work was
  delivered (nothing released).
- On-time delivery, 10 points. Milestones delivered by their due date, smoothed
  towards 80 % by two imaginary milestones.
- Responsiveness, 5 points, from the median time to answer a message or an
  offer: ≤ 1 h → 1, ≤ 4 h → 0.8, ≤ 24 h → 0.5, slower → 0.2, unknown → 0.5.
- Track record, 10 points: completed / (completed + 2), so experience counts
  but saturates.
- Repeat clients, 6 points: clients who hired them again, a third per client
  up to three.
- Long-term contracts, 4 points: ended contracts that ran LONG_TERM_DAYS (60)
  or more, a third each up to three.

Money earned or spent is shown on the profile but never buys score.

Before a first completed contract there is nothing to score: the priors alone
give a brand-new profile about 64, so `is_new` people are shown as "New — no
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
RECOMMEND_PRIOR = (7, 2)  # two imaginary "7 of 10"
DISPUTE_PRIOR_CLEAN = 3
ON_TIME_PRIOR = (Fraction(8, 5), 2)  # 1.6 of 2 imaginary milestones on time: 80 %
TRACK_RECORD_HALF = 2  # completed contracts at which the track record gives half its points
REPEAT_FULL = 3  # repeat clients that give the part's full points
LONG_TERM_FULL = 3
LONG_TERM_DAYS = 60
# The weight of a rating or a recommendation by the age of its contract's end:
# (younger than this many days, weight); older than the last row weighs OLDEST.
RECENCY: tuple[tuple[int, Fraction], ...] = (
    (183, Fraction(1)),
    (365, Fraction(3, 4)),
    (730, Fraction(1, 2)),
    (1095, Fraction(1, 4)),
)
OLDEST = Fraction(1, 8)

WEIGHT_RATING = 35
WEIGHT_RECOMMEND = 10
WEIGHT_RELIABILITY = 15
WEIGHT_DELIVERY = 5
WEIGHT_ON_TIME = 10
WEIGHT_RESPONSE = 5
WEIGHT_TRACK_RECORD = 10
WEIGHT_REPEAT = 6
WEIGHT_LONG_TERM = 4

TOP_RATED_SCORE = 90
TOP_RATED_MIN_CONTRACTS = 5
TOP_RATED_MAX_DISPUTED = Fraction(1, 10)
RISING_TALENT_DAYS = 90
RISING_TALENT_MIN_AVERAGE = Fraction(9, 2)
FAST_RESPONDER_SECONDS = 3600
ON_TIME_BADGE_SHARE = Fraction(9, 10)
ON_TIME_BADGE_MIN_MILESTONES = 3
BADGES = ("top_rated", "rising_talent", "fast_responder", "on_time")


def recency_weight(age_days: int) -> Fraction:
    """How much a rating from a contract that ended `age_days` ago counts (RECENCY)."""
    for younger_than, weight in RECENCY:
        if age_days < younger_than:
            return weight
    return OLDEST


@dataclass(kw_only=True)
class FreelancerRecord:
    """What the marketplace knows about one person (a freelancer or a client).

    `contracts_completed` counts ended contracts; `contracts_disputed` counts
    contracts that had a dispute, whether or not they have ended.
    `rating_ages` and `recommendation_ages` give each rating's / recommendation's
    age in days (missing entries count as new); `contracts_no_work` counts ended
    contracts with nothing released; `clients` the distinct other parties and
    `repeat_clients` those with two contracts or more.
    """

    ratings: list[int] = field(default_factory=list)
    rating_ages: list[int] = field(default_factory=list)
    recommendations: list[int] = field(default_factory=list)  # private, 0–10
    recommendation_ages: list[int] = field(default_factory=list)
    contracts_completed: int = 0
    contracts_disputed: int = 0
    contracts_no_work: int = 0
    long_term_contracts: int = 0
    clients: int = 0
    repeat_clients: int = 0
    milestones_on_time: int = 0
    milestones_late: int = 0
    median_response_seconds: int | None = None
    earnings_minor: int = 0
    member_since: datetime


@dataclass(frozen=True, kw_only=True)
class ScorePart:
    """One line of the explanation: `key` names the part, `points` what it gives
    (of `weight`), `have`/`of` the facts behind it where they fit in "2 of 5"."""

    key: str
    points: Fraction
    weight: int
    have: int = 0
    of: int = 0


@dataclass(frozen=True, kw_only=True)
class Reputation:
    score: int  # 0–100
    average_rating: Decimal | None  # plain average, one decimal place; None without ratings
    rating_count: int
    on_time_percent: int | None  # None before any milestone was due
    badges: list[str]
    contracts_completed: int = 0
    parts: tuple[ScorePart, ...] = ()

    @property
    def is_new(self) -> bool:
        """No completed contract and no rating yet (a client's record counts ratings
        only, and a rating comes from an ended contract): the score is not shown
        ("New — no score yet")."""
        return self.contracts_completed == 0 and self.rating_count == 0


def _weights(values: list[int], ages: list[int]) -> list[Fraction]:
    return [recency_weight(ages[i]) if i < len(ages) else Fraction(1) for i in range(len(values))]


def _rating_part(record: FreelancerRecord) -> Fraction:
    weights = _weights(record.ratings, record.rating_ages)
    total = sum((w * r for w, r in zip(weights, record.ratings, strict=True)), Fraction(0))
    bayes = (total + RATING_PRIOR_COUNT * RATING_PRIOR_MEAN) / (sum(weights) + RATING_PRIOR_COUNT)
    return (bayes - 1) / 4


def _recommend_part(record: FreelancerRecord) -> Fraction:
    weights = _weights(record.recommendations, record.recommendation_ages)
    total = sum((w * r for w, r in zip(weights, record.recommendations, strict=True)), Fraction(0))
    mean, count = RECOMMEND_PRIOR
    return (total + mean * count) / (sum(weights) + count) / 10


def _dispute_share(record: FreelancerRecord) -> Fraction:
    """Raw share of contracts with a dispute (for the badge)."""
    contracts = max(record.contracts_completed, record.contracts_disputed)
    return Fraction(record.contracts_disputed, contracts) if contracts else Fraction(0)


def _reliability_part(record: FreelancerRecord) -> Fraction:
    contracts = max(record.contracts_completed, record.contracts_disputed)
    smoothed = Fraction(record.contracts_disputed, contracts + DISPUTE_PRIOR_CLEAN)
    return max(Fraction(0), 1 - 2 * smoothed)


def _delivery_part(record: FreelancerRecord) -> Fraction:
    contracts = max(record.contracts_completed, record.contracts_no_work)
    smoothed = Fraction(record.contracts_no_work, contracts + DISPUTE_PRIOR_CLEAN)
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
    if any(
        not isinstance(r, int) or isinstance(r, bool) or not 0 <= r <= 10
        for r in record.recommendations
    ):
        raise ValueError("recommendations are whole numbers from 0 to 10")
    counts = (
        record.contracts_completed,
        record.contracts_disputed,
        record.contracts_no_work,
        record.long_term_contracts,
        record.clients,
        record.repeat_clients,
        record.milestones_on_time,
        record.milestones_late,
        *record.rating_ages,
        *record.recommendation_ages,
    )
    if min(counts) < 0 or (record.median_response_seconds or 0) < 0:
        raise ValueError("a record holds no negative counts")


def score_parts(record: FreelancerRecord) -> tuple[ScorePart, ...]:
    """The rule's parts, each with its points (the score is their sum, rounded)."""
    due = record.milestones_on_time + record.milestones_late
    done = record.contracts_completed
    return (
        ScorePart(
            key="rating",
            points=WEIGHT_RATING * _rating_part(record),
            weight=WEIGHT_RATING,
            have=len(record.ratings),
        ),
        ScorePart(
            key="recommend",
            points=WEIGHT_RECOMMEND * _recommend_part(record),
            weight=WEIGHT_RECOMMEND,
            have=len(record.recommendations),
        ),
        ScorePart(
            key="reliability",
            points=WEIGHT_RELIABILITY * _reliability_part(record),
            weight=WEIGHT_RELIABILITY,
            have=record.contracts_disputed,
            of=max(done, record.contracts_disputed),
        ),
        ScorePart(
            key="delivery",
            points=WEIGHT_DELIVERY * _delivery_part(record),
            weight=WEIGHT_DELIVERY,
            have=record.contracts_no_work,
            of=max(done, record.contracts_no_work),
        ),
        ScorePart(
            key="on_time",
            points=WEIGHT_ON_TIME * _on_time_part(record),
            weight=WEIGHT_ON_TIME,
            have=record.milestones_on_time,
            of=due,
        ),
        ScorePart(
            key="response",
            points=WEIGHT_RESPONSE * _response_part(record.median_response_seconds),
            weight=WEIGHT_RESPONSE,
        ),
        ScorePart(
            key="track_record",
            points=WEIGHT_TRACK_RECORD * _track_record_part(done),
            weight=WEIGHT_TRACK_RECORD,
            have=done,
        ),
        ScorePart(
            key="repeat",
            points=WEIGHT_REPEAT * min(Fraction(1), Fraction(record.repeat_clients, REPEAT_FULL)),
            weight=WEIGHT_REPEAT,
            have=record.repeat_clients,
            of=max(record.clients, record.repeat_clients),
        ),
        ScorePart(
            key="long_term",
            points=WEIGHT_LONG_TERM
            * min(Fraction(1), Fraction(record.long_term_contracts, LONG_TERM_FULL)),
            weight=WEIGHT_LONG_TERM,
            have=record.long_term_contracts,
            of=done,
        ),
    )


def compute_reputation(record: FreelancerRecord, now: datetime) -> Reputation:
    """Score and badges by the rule in this module's docstring."""
    _check(record)
    parts = score_parts(record)
    score = _round_half_up(sum((p.points for p in parts), Fraction(0)))
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
        parts=parts,
    )


def _one_decimal(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
