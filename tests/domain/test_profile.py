import pytest

from domain.entities import FreelancerProfile
from domain.profile import completeness


def full_profile() -> FreelancerProfile:
    return FreelancerProfile(
        user_id=1,
        headline="Python & Telegram bots",
        bio="x" * 100,
        category="development",
        skills=["python", "telegram-bots"],
        tags=["aiogram"],
        hourly_rate=4_000,
        years_experience=0,
        portfolio=["https://github.com/me"],
        certifications=["AWS SAA"],
    )


def test_no_profile_starts_at_the_headline():
    assert completeness(None) == (0, "add_headline")
    assert completeness(FreelancerProfile(user_id=1)) == (0, "add_headline")


def test_a_full_profile_is_complete():
    assert completeness(full_profile()) == (100, None)


@pytest.mark.parametrize(
    ("change", "percent", "next_step"),
    [
        ({"headline": "   "}, 85, "add_headline"),
        ({"skills": [], "tags": []}, 80, "add_skills"),
        ({"skills": ["python"], "tags": ["python"]}, 90, "add_skills"),  # one distinct skill
        ({"category": None}, 90, "add_category"),
        ({"bio": ""}, 85, "add_bio"),
        ({"bio": "x" * 99}, 92, "add_bio"),
        ({"hourly_rate": None}, 90, "add_rate"),
        ({"hourly_rate": 0}, 90, "add_rate"),
        ({"portfolio": []}, 85, "add_portfolio"),
        ({"years_experience": None}, 90, "add_experience"),
        ({"certifications": []}, 95, "add_certifications"),
    ],
)
def test_each_missing_part(change, percent, next_step):
    profile = full_profile()
    for name, value in change.items():
        setattr(profile, name, value)
    assert completeness(profile) == (percent, next_step)


def test_next_step_follows_the_documented_order():
    profile = FreelancerProfile(user_id=1, headline="Designer", portfolio=["https://a.io"])
    assert completeness(profile) == (30, "add_skills")
    profile.skills = ["logo-design", "branding", "ui-ux"]
    assert completeness(profile) == (50, "add_category")
