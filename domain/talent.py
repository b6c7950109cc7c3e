"""Talent search and invite ranking: the rules, without the database.

Availability. A freelancer is available, busy, or away until a date (inclusive).
Away ends by itself: from the day after `away_until` the freelancer counts as
available again — every reader compares the date with today (a durable check,
nothing has to wake up). While away, job alerts and digests are not sent.

Record rank (0–100), what "ranked by record" means in /talent and in "Invite
candidates" (written here so the bench, the tests and the docs agree):

| part          | points | rule                                                       |
|---------------|--------|------------------------------------------------------------|
| rating        | 50     | (sum of stars + 3 × 4) / (reviews + 3), 1★ → 0, 5★ → 50     |
| track record  | 30     | 30 × completed / (completed + 2)                            |
| completeness  | 20     | the profile meter (domain/profile.py) × 20 / 100           |

With words, relevance comes first in two tiers: every word in the headline, skills
or tags, then every word somewhere (the bio too); within a tier the record rank
decides, then the newer freelancer (the higher user id: Telegram ids grow). Without
words: the record rank, then newer. Tiers, not a per-row score, so the database
sorts the matches by what its indexes hold and never scores text row by row.

Invite candidates rank by skill fit first (how many of the job's skills the
profile names), then a same-category profile, then the record rank, then newer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

RATING_PRIOR_COUNT = 3
RATING_PRIOR_STARS = 4
RATING_POINTS = 50
TRACK_POINTS = 30
TRACK_HALF = 2
COMPLETENESS_POINTS = 20
TALENT_COUNT_CAP = 1000  # matches counted; "1000+" beyond (no page needs more)


class Availability(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"


def effective(availability: str, away_until: date | None, today: date) -> Availability:
    """What the freelancer is today: away ends by itself after its date."""
    if availability == Availability.AWAY:
        if away_until is not None and away_until < today:
            return Availability.AVAILABLE
        return Availability.AWAY
    if availability == Availability.BUSY:
        return Availability.BUSY
    return Availability.AVAILABLE


def record_rank(rating_sum: int, ratings: int, completed: int, completeness: int) -> int:
    """The record rank, 0–100 (module docstring)."""
    stars = Decimal(rating_sum + RATING_PRIOR_COUNT * RATING_PRIOR_STARS) / (
        ratings + RATING_PRIOR_COUNT
    )
    rating = (stars - 1) / 4 * RATING_POINTS
    track = Decimal(TRACK_POINTS * completed) / (completed + TRACK_HALF)
    meter = Decimal(COMPLETENESS_POINTS * max(0, min(completeness, 100))) / 100
    return int((rating + track + meter).to_integral_value())


@dataclass(frozen=True, slots=True)
class TalentQuery:
    """/talent: full text plus filters, one page at a time."""

    text: str = ""
    category: str | None = None
    skills: tuple[str, ...] = ()  # every one required
    min_rate: int | None = None  # minor units per hour
    max_rate: int | None = None
    min_rating: Decimal | None = None  # plain average of revealed reviews, e.g. 4.5
    verified: bool = False  # identity verified only
    available: bool = False  # available today only (not busy, not away)
    today: date | None = None  # for "available" and away's end
    viewer_id: int | None = None  # leave out self and anyone in a block with the viewer
    offset: int = 0
    limit: int = 5


@dataclass(frozen=True, slots=True)
class TalentHit:
    """One freelancer found, with what the result line and the reasons show."""

    user_id: int
    name: str
    headline: str
    category: str | None
    hourly_rate: int | None
    currency: str
    rating: Decimal | None  # one decimal, None before any review
    ratings: int
    completed: int
    completeness: int
    verified: bool
    availability: Availability
    away_until: date | None
    rank: int
    skills: tuple[str, ...] = ()
    shared_skills: int = 0  # invite candidates: how many of the job's skills
    wanted_skills: int = 0
