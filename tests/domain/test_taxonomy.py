import pytest

from domain.errors import ValidationError
from domain.taxonomy import (
    CATEGORIES,
    MAX_SKILL_LEN,
    category_name,
    category_of,
    is_known_category,
    is_known_skill,
    normalize_skill,
    skill_name,
)


def test_categories_have_unique_slugs_and_enough_skills():
    slugs = [c.slug for c in CATEGORIES]
    assert len(slugs) == len(set(slugs))
    skill_slugs = [s.slug for c in CATEGORIES for s in c.skills]
    assert len(skill_slugs) == len(set(skill_slugs)), "a skill belongs to one category"
    for c in CATEGORIES:
        assert 6 <= len(c.skills) <= 10, c.slug
        for s in c.skills:
            # every taxonomy slug is already in normal form
            assert normalize_skill(s.slug) == s.slug


@pytest.mark.parametrize(
    "slug",
    [
        "development",
        "design",
        "writing",
        "marketing",
        "data",
        "video",
        "translation",
        "admin-support",
    ],
)
def test_expected_categories_exist(slug):
    assert is_known_category(slug)


def test_lookups():
    assert is_known_skill("python")
    assert category_of("python") == "development"
    assert category_of("logo-design") == "design"
    assert skill_name("ui-ux") == "UI/UX design"
    assert category_name("admin-support") == "Admin support"
    assert not is_known_skill("cobol-wizardry")
    assert category_of("cobol-wizardry") is None
    assert skill_name("cobol-wizardry") == "cobol-wizardry"


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("python", "python"),
        ("  Google   Ads ", "google-ads"),
        ("C++", "c++"),
        ("C#", "c#"),
        (".NET", ".net"),
        ("node.js", "node.js"),
        ("snake_case", "snake-case"),
        ("UI/UX design", "ui-ux"),  # a taxonomy name becomes its slug
        ("Backend & APIs", "backend"),
        ("Logo Design", "logo-design"),
        ("Веб дизайн", "веб-дизайн"),
        ("x" * MAX_SKILL_LEN, "x" * MAX_SKILL_LEN),
    ],
)
def test_normalize_skill_accepts(text, slug):
    assert normalize_skill(text) == slug


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "skill_empty"),
        ("   ", "skill_empty"),
        ("---", "skill_invalid"),
        ("!!!", "skill_invalid"),
        ("🙂", "skill_invalid"),
        ("x" * (MAX_SKILL_LEN + 1), "skill_too_long"),
        ("I can do anything you want for a good price", "skill_too_long"),
    ],
)
def test_normalize_skill_refuses(text, code):
    with pytest.raises(ValidationError) as exc:
        normalize_skill(text)
    assert exc.value.code == code
