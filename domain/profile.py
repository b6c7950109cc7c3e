"""How complete a freelancer's profile is, and what to add next.

Weights (they sum to 100), in the order the meter asks for them:

| part              | points | full when                          | partly              |
|-------------------|--------|------------------------------------|---------------------|
| headline          | 15     | not blank                          |                     |
| skills            | 20     | ≥ 3 skills or free tags            | 1–2: 10             |
| category          | 10     | chosen                             |                     |
| bio               | 15     | ≥ 100 characters                   | shorter: 7          |
| hourly rate       | 10     | set and positive                   |                     |
| portfolio         | 15     | ≥ 1 link                           |                     |
| experience        | 10     | years of experience given (0 too)  |                     |
| certifications    | 5      | ≥ 1                                |                     |

The next thing to add is the first part, in this order, that is not full;
its code is a translation key: add_headline, add_skills, add_category,
add_bio, add_rate, add_portfolio, add_experience, add_certifications.
"""

from __future__ import annotations

from collections.abc import Callable

from domain.entities import FreelancerProfile

GOOD_SKILL_COUNT = 3
GOOD_BIO_LENGTH = 100


def _skills(p: FreelancerProfile) -> tuple[int, int]:
    count = len(set(p.skills) | set(p.tags))
    return 20, 20 if count >= GOOD_SKILL_COUNT else 10 if count else 0


def _bio(p: FreelancerProfile) -> tuple[int, int]:
    length = len(p.bio.strip())
    return 15, 15 if length >= GOOD_BIO_LENGTH else 7 if length else 0


Scorer = Callable[[FreelancerProfile], tuple[int, int]]


def _all_or_nothing(points: int, done: Callable[[FreelancerProfile], bool]) -> Scorer:
    return lambda p: (points, points if done(p) else 0)


# (code of the next step, scorer returning (possible, earned)), in asking order.
_PARTS: tuple[tuple[str, Scorer], ...] = (
    ("add_headline", _all_or_nothing(15, lambda p: bool(p.headline.strip()))),
    ("add_skills", _skills),
    ("add_category", _all_or_nothing(10, lambda p: bool(p.category))),
    ("add_bio", _bio),
    ("add_rate", _all_or_nothing(10, lambda p: (p.hourly_rate or 0) > 0)),
    ("add_portfolio", _all_or_nothing(15, lambda p: bool(p.portfolio))),
    ("add_experience", _all_or_nothing(10, lambda p: p.years_experience is not None)),
    ("add_certifications", _all_or_nothing(5, lambda p: bool(p.certifications))),
)


def completeness(profile: FreelancerProfile | None) -> tuple[int, str | None]:
    """Percent complete (0–100) and the code of the next thing to add (None at 100)."""
    if profile is None:
        return 0, _PARTS[0][0]
    percent = 0
    next_step: str | None = None
    for code, scorer in _PARTS:
        possible, earned = scorer(profile)
        percent += earned
        if earned < possible and next_step is None:
            next_step = code
    return percent, next_step
