from datetime import UTC, datetime, timedelta

import pytest

from domain.entities import AlertSubscription, FreelancerProfile, Job, Pitch
from domain.matching import (
    HOURLY_EQUIVALENT_HOURS,
    job_matches,
    keyword_matches,
    price_fit,
    rank_pitches,
)
from domain.reputation import Reputation
from domain.states import JobStatus, PitchStatus

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def job(**kw) -> Job:
    base = dict(
        id=1,
        client_id=10,
        title="Telegram bot for a pizza shop",
        description="Need a Python developer to build an ordering bot with Stripe payments.",
        category="development",
        skills=["python", "telegram-bots"],
        budget=50_000,
        status=JobStatus.OPEN,
    )
    base.update(kw)
    return Job(**base)


def sub(**kw) -> AlertSubscription:
    return AlertSubscription(user_id=20, **kw)


def test_an_empty_subscription_matches_every_open_job():
    assert job_matches(job(), sub())


@pytest.mark.parametrize("status", [JobStatus.DRAFT, JobStatus.PAUSED, JobStatus.CLOSED])
def test_only_open_jobs_match(status):
    assert not job_matches(job(status=status), sub())


def test_a_paused_subscription_matches_nothing():
    assert not job_matches(job(), sub(paused=True))


def test_categories():
    assert job_matches(job(), sub(categories=["design", "development"]))
    assert not job_matches(job(), sub(categories=["design"]))
    assert not job_matches(job(category=None), sub(categories=["design"]))


def test_skills_need_one_in_common():
    assert job_matches(job(), sub(skills=["python", "sql"]))
    assert not job_matches(job(), sub(skills=["logo-design"]))
    assert not job_matches(job(skills=[]), sub(skills=["python"]))


def test_skills_match_in_any_case_and_old_slugs_match_typed_names():
    # Free tags keep their typed case now; tags stored before are slugs.
    assert job_matches(job(skills=["CSS", "Figma"]), sub(skills=["css"]))
    assert job_matches(job(skills=["google-ads"]), sub(skills=["Google Ads"]))
    assert not job_matches(job(skills=["CSS"]), sub(skills=["html"]))


def test_categories_and_skills_both_apply():
    assert job_matches(job(), sub(categories=["development"], skills=["python"]))
    assert not job_matches(job(), sub(categories=["design"], skills=["python"]))


def test_keywords_are_alternatives_found_as_whole_words_in_any_case():
    assert job_matches(job(), sub(keywords=["STRIPE"]))
    assert job_matches(job(), sub(keywords=["django", "pizza"]))
    assert not job_matches(job(), sub(keywords=["django", "flask"]))
    assert not job_matches(job(), sub(keywords=["pizz"]))  # whole words only
    assert job_matches(job(), sub(keywords=["telegram bots"]))  # from the job's skills
    assert job_matches(job(), sub(keywords=["ordering bot"]))  # a phrase


def test_java_does_not_match_javascript_and_symbols_work():
    assert not keyword_matches(["java"], "Senior JavaScript developer")
    assert keyword_matches(["c++"], "Fix a C++ build")
    assert not keyword_matches(["c"], "Fix a C++ build, no C# please")
    assert keyword_matches(["c"], "Firmware in C, not C++")
    assert not keyword_matches(["c++"], "Fix a C# build")
    assert keyword_matches(["landing page"], "A landing-page in Webflow")
    assert keyword_matches(["дизайн"], "Нужен дизайн логотипа")


def test_excluded_keywords():
    assert not job_matches(job(description="WordPress site"), sub(keywords=["-wordpress"]))
    assert job_matches(job(), sub(keywords=["-wordpress"]))
    assert not job_matches(
        job(description="pizza in WordPress"), sub(keywords=["pizza", "-wordpress"])
    )


def test_fixed_budget_is_compared_directly():
    assert job_matches(job(budget=50_000), sub(min_budget=50_000))
    assert not job_matches(job(budget=49_999), sub(min_budget=50_000))


def test_hourly_rate_is_counted_as_a_working_week():
    rate = 2_500  # $25/h
    assert job_matches(
        job(budget_type="hourly", budget=rate), sub(min_budget=rate * HOURLY_EQUIVALENT_HOURS)
    )
    assert not job_matches(
        job(budget_type="hourly", budget=rate), sub(min_budget=rate * HOURLY_EQUIVALENT_HOURS + 1)
    )


def test_a_job_without_a_budget_is_not_hidden():
    assert job_matches(job(budget=0), sub(min_budget=100_000))


# --- ranking ---------------------------------------------------------------------


def reputation(score: int) -> Reputation:
    return Reputation(
        score=score, average_rating=None, rating_count=0, on_time_percent=None, badges=[]
    )


def pitch(pid: int, price: int = 50_000, **kw) -> Pitch:
    kw.setdefault("created_at", T0 + timedelta(minutes=pid))
    return Pitch(id=pid, job_id=1, freelancer_id=100 + pid, price=price, **kw)


def profile(*skills: str) -> FreelancerProfile:
    return FreelancerProfile(user_id=0, skills=list(skills))


def order(items, j=None):
    return [p.id for p, _, _ in rank_pitches(items, j or job())]


def test_higher_reputation_first_when_all_else_is_equal():
    items = [(pitch(1), reputation(60), None), (pitch(2), reputation(90), None)]
    assert order(items) == [2, 1]


def test_skill_overlap_counts():
    items = [
        (pitch(1), reputation(80), profile("sql")),
        (pitch(2), reputation(80), profile("python", "telegram-bots")),
        (pitch(3), reputation(80), FreelancerProfile(user_id=0, tags=["python"])),
    ]
    assert order(items) == [2, 3, 1]


def test_skill_fit_ignores_case():
    typed = job(skills=["CSS", "Figma"])
    items = [
        (pitch(1), reputation(80), FreelancerProfile(user_id=0, tags=["html"])),
        (pitch(2), reputation(80), FreelancerProfile(user_id=0, tags=["css", "figma"])),
    ]
    assert order(items, typed) == [2, 1]


def test_price_over_budget_costs_points_and_underbidding_earns_none():
    assert price_fit(40_000, 50_000) == price_fit(50_000, 50_000) == 1
    assert price_fit(75_000, 50_000) == price_fit(0, 0) == pytest.approx(0.5)
    assert price_fit(100_000, 50_000) == price_fit(500_000, 50_000) == 0
    items = [
        (pitch(1, price=90_000), reputation(80), None),
        (pitch(2, price=10_000), reputation(80), None),
        (pitch(3, price=50_000), reputation(80), None),
    ]
    assert order(items) == [2, 3, 1]  # 2 and 3 tie on points; the earlier pitch wins


def test_invited_first_on_ties():
    items = [(pitch(1), reputation(80), None), (pitch(2, invited=True), reputation(80), None)]
    assert order(items) == [2, 1]
    # but an invitation does not outrank a better pitch
    items = [(pitch(1), reputation(85), None), (pitch(2, invited=True), reputation(80), None)]
    assert order(items) == [1, 2]


def test_status_groups_come_before_points():
    items = [
        (pitch(1, status=PitchStatus.DECLINED), reputation(100), None),
        (pitch(2, status=PitchStatus.PENDING), reputation(50), None),
        (pitch(3, status=PitchStatus.SHORTLISTED), reputation(40), None),
        (pitch(4, status=PitchStatus.WITHDRAWN), reputation(99), None),
    ]
    assert order(items) == [3, 2, 1, 4]


def test_ranking_keeps_every_item_and_handles_empty():
    assert rank_pitches([], job()) == []
    items = [(pitch(i), reputation(i * 7 % 100), None) for i in range(1, 20)]
    assert sorted(order(items)) == list(range(1, 20))
