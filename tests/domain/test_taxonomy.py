import pytest

from domain.errors import ValidationError
from domain.taxonomy import (
    CATEGORIES,
    MAX_SKILL_LEN,
    category_name,
    category_of,
    clean_skill,
    is_known_category,
    is_known_skill,
    normalize_skill,
    parse_skills,
    skill_key,
    skill_name,
    unique_skills,
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


# --- typed skills: one parser, case kept for display, compared by key (issue 11) ---------


@pytest.mark.parametrize(
    ("text", "skills"),
    [
        ("HTML, CSS, Figma", ["HTML", "CSS", "Figma"]),  # was one skill "html-css-figma"
        ("HTML; CSS\nFigma", ["HTML", "CSS", "Figma"]),
        ("  Google   Ads , ,C++", ["Google Ads", "C++"]),
        ("css, CSS, Css", ["css"]),  # the same skill once, as first typed
        ("Python, UI/UX design, telegram bots", ["python", "ui-ux", "telegram-bots"]),
        ("C#, .NET, Node.js, R&D, Objective-C", ["C#", ".NET", "Node.js", "R&D", "Objective-C"]),
        ("Figma.", ["Figma"]),
        ("Веб-дизайн, 1С", ["Веб-дизайн", "1С"]),
        ("<b>Figma</b>", ["b-figma-b"]),  # markup is not a name: its slug form
    ],
)
def test_parse_skills(text, skills):
    assert parse_skills(text) == skills


@pytest.mark.parametrize(
    ("text", "code"), [("", "skill_empty"), (" , ,", "skill_empty"), ("HTML, !!!", "skill_invalid")]
)
def test_parse_skills_refuses(text, code):
    with pytest.raises(ValidationError) as err:
        parse_skills(text)
    assert err.value.code == code


def test_skill_key_is_case_insensitive_and_a_stored_slug_is_its_own_key():
    assert skill_key("CSS") == skill_key("css") == "css"
    assert skill_key("Google Ads") == skill_key("google-ads") == "google-ads"
    assert skill_key("UI/UX design") == "ui-ux"
    for value in ["CSS", "Google Ads", "C++", "Веб-дизайн", ".NET", "html-css-figma"]:
        key = skill_key(value)
        assert skill_key(key) == key  # old rows (slugs) need no rewrite
        assert clean_skill(value) in (value, key)
    assert unique_skills(["CSS", "python", "css", "Python"]) == ["CSS", "python"]
