"""Which jobs a freelancer's alert subscription gets, and in which order a
client sees the pitches on a job.

Alert rule (`job_matches`) — a job matches a subscription when all hold:
- the subscription is not paused and the job is OPEN;
- categories: if the subscription names any, the job's category is one of them;
- skills: if it names any, the job shares at least one skill with it (compared
  by taxonomy.skill_key: "CSS" is "css");
- keywords: if it names any, at least one keyword (or phrase) appears in the
  job's title, description or skills — case-insensitive, as a whole word, so
  "java" does not match "javascript" nor "c" match "C++". Keywords are alternatives because people
  list synonyms ("logo", "branding"). A keyword starting with "-" excludes:
  "-wordpress" drops every job that mentions WordPress;
- budget: a fixed job's budget is at least `min_budget`; an hourly job's rate
  is counted as HOURLY_EQUIVALENT_HOURS (a working week) of work, because
  `min_budget` is a job's total. A job that states no budget (0) is not
  hidden: the freelancer judges it.

At scale (storage/search.py, JobSearch.alert_audience) the categories, skills
and budget rules run in SQL over lookup tables that hold exactly the values
compared here, and only subscriptions with keywords come back to
`keyword_matches`; tests/storage/test_alert_fanout.py checks both ways agree.

Pitch ranking (`rank_pitches`) — first by status (hired, shortlisted,
pending, then declined and withdrawn), then by points, highest first:
- reputation: the freelancer's 0–100 score;
- skill fit, up to SKILL_POINTS: the share of the job's skills found among the
  freelancer's skills and tags (by skill_key, as above);
- price fit, up to PRICE_POINTS: full at or under the budget, falling linearly
  to none at twice the budget (asking less than the budget earns no extra, so
  underbidding is not rewarded); half when the job states no budget.
Ties go to invited freelancers, then to the earlier pitch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache

from domain.entities import AlertSubscription, FreelancerProfile, Job, Pitch
from domain.reputation import Reputation
from domain.states import JobStatus, PitchStatus
from domain.taxonomy import skill_key

HOURLY_EQUIVALENT_HOURS = 40
SKILL_POINTS = 30
PRICE_POINTS = 20

_STATUS_ORDER = {
    PitchStatus.HIRED: 0,
    PitchStatus.SHORTLISTED: 1,
    PitchStatus.PENDING: 2,
    PitchStatus.DECLINED: 3,
    PitchStatus.WITHDRAWN: 3,
}


@lru_cache(maxsize=1024)
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    # "+" and "#" continue a word at its end, so "c" finds neither "C++" nor "C#".
    words = [re.escape(w) for w in keyword.split()]
    return re.compile(r"(?<!\w)" + r"[\s\-]+".join(words) + r"(?![\w+#])", re.IGNORECASE)


def job_text(job: Job) -> str:
    """What keywords are looked for in: the title, the description and the skills."""
    skills = " ".join(s.replace("-", " ") for s in job.skills)
    return f"{job.title}\n{job.description}\n{skills}"


def keyword_matches(keywords: Sequence[str], text: str) -> bool:
    """Any positive keyword found (when there are any) and no excluded one."""
    wanted = [k.strip() for k in keywords if k.strip() and not k.strip().startswith("-")]
    excluded = [k.strip()[1:].strip() for k in keywords if k.strip().startswith("-")]
    if any(k and _keyword_pattern(k).search(text) for k in excluded):
        return False
    return not wanted or any(_keyword_pattern(k).search(text) for k in wanted)


def skill_keys(skills: Sequence[str]) -> set[str]:
    """The skills as compared: case and spelling of separators do not matter."""
    return {skill_key(s) for s in skills}


def comparable_budget(job: Job) -> int:
    """The job's budget as a total, in minor units (see the module docstring)."""
    if job.budget_type == "hourly":
        return job.budget * HOURLY_EQUIVALENT_HOURS
    return job.budget


def job_matches(job: Job, sub: AlertSubscription) -> bool:
    if sub.paused or job.status != JobStatus.OPEN:
        return False
    if sub.categories and job.category not in sub.categories:
        return False
    if sub.skills and not skill_keys(sub.skills) & skill_keys(job.skills):
        return False
    if sub.keywords and not keyword_matches(sub.keywords, job_text(job)):
        return False
    return not (sub.min_budget > 0 and job.budget > 0 and comparable_budget(job) < sub.min_budget)


def skill_fit(job: Job, profile: FreelancerProfile | None) -> Fraction:
    """Share of the job's skills the freelancer lists (skills or free tags)."""
    wanted = skill_keys(job.skills)
    if not wanted:
        return Fraction(0)
    mine = skill_keys([*profile.skills, *profile.tags]) if profile else set()
    return Fraction(len(wanted & mine), len(wanted))


def price_fit(price: int, budget: int) -> Fraction:
    """1 at or under the budget, falling to 0 at twice the budget; ½ without a budget."""
    if budget <= 0:
        return Fraction(1, 2)
    if price <= budget:
        return Fraction(1)
    return max(Fraction(0), Fraction(2 * budget - price, budget))


def pitch_points(
    pitch: Pitch, reputation: Reputation, profile: FreelancerProfile | None, job: Job
) -> Fraction:
    return (
        reputation.score
        + SKILL_POINTS * skill_fit(job, profile)
        + PRICE_POINTS * price_fit(pitch.price, job.budget)
    )


def rank_pitches(
    items: list[tuple[Pitch, Reputation, FreelancerProfile | None]], job: Job
) -> list[tuple[Pitch, Reputation, FreelancerProfile | None]]:
    """The pitches in the order the client should read them (module docstring)."""

    def key(item: tuple[Pitch, Reputation, FreelancerProfile | None]) -> tuple[object, ...]:
        pitch, reputation, profile = item
        return (
            _STATUS_ORDER.get(pitch.status, 3),
            -pitch_points(pitch, reputation, profile, job),
            not pitch.invited,
            pitch.created_at is None,
            pitch.created_at or 0,
            pitch.id if pitch.id is not None else 0,
        )

    return sorted(items, key=key)
