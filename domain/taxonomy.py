"""The skill taxonomy: categories, each with its skills, as slugs with English names.

Slugs are stable identifiers stored on profiles, jobs and alert subscriptions;
the English names are defaults — translating them is the handlers' job.
Free tags (skills outside the taxonomy) are normalised to the same slug form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from domain.errors import ValidationError

MAX_SKILL_LEN = 32


@dataclass(frozen=True, slots=True)
class Skill:
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class Category:
    slug: str
    name: str
    skills: tuple[Skill, ...]


def _category(slug: str, name: str, *skills: tuple[str, str]) -> Category:
    return Category(slug, name, tuple(Skill(s, n) for s, n in skills))


CATEGORIES: tuple[Category, ...] = (
    _category(
        "development",
        "Development",
        ("python", "Python"),
        ("javascript", "JavaScript"),
        ("typescript", "TypeScript"),
        ("web-development", "Web development"),
        ("mobile-apps", "Mobile apps"),
        ("telegram-bots", "Telegram bots"),
        ("backend", "Backend & APIs"),
        ("devops", "DevOps"),
        ("databases", "Databases"),
        ("qa-testing", "QA & testing"),
    ),
    _category(
        "design",
        "Design",
        ("logo-design", "Logo design"),
        ("ui-ux", "UI/UX design"),
        ("illustration", "Illustration"),
        ("branding", "Branding"),
        ("web-design", "Web design"),
        ("3d-modeling", "3D modeling"),
        ("presentation-design", "Presentation design"),
    ),
    _category(
        "writing",
        "Writing",
        ("copywriting", "Copywriting"),
        ("technical-writing", "Technical writing"),
        ("blog-articles", "Blog articles"),
        ("editing-proofreading", "Editing & proofreading"),
        ("ghostwriting", "Ghostwriting"),
        ("scriptwriting", "Scriptwriting"),
    ),
    _category(
        "marketing",
        "Marketing",
        ("seo", "SEO"),
        ("social-media", "Social media marketing"),
        ("paid-ads", "Paid ads"),
        ("email-marketing", "Email marketing"),
        ("content-strategy", "Content strategy"),
        ("telegram-channels", "Telegram channel growth"),
    ),
    _category(
        "data",
        "Data",
        ("data-analysis", "Data analysis"),
        ("machine-learning", "Machine learning"),
        ("data-entry", "Data entry"),
        ("web-scraping", "Web scraping"),
        ("sql", "SQL"),
        ("dashboards", "Dashboards & BI"),
        ("excel", "Excel & spreadsheets"),
    ),
    _category(
        "video",
        "Video & audio",
        ("video-editing", "Video editing"),
        ("motion-graphics", "Motion graphics"),
        ("animation", "Animation"),
        ("voice-over", "Voice-over"),
        ("audio-editing", "Audio editing"),
        ("subtitles", "Subtitles"),
    ),
    _category(
        "translation",
        "Translation",
        ("english", "English"),
        ("spanish", "Spanish"),
        ("german", "German"),
        ("french", "French"),
        ("russian", "Russian"),
        ("chinese", "Chinese"),
        ("localization", "Software localization"),
    ),
    _category(
        "admin-support",
        "Admin support",
        ("virtual-assistant", "Virtual assistant"),
        ("customer-support", "Customer support"),
        ("research", "Web research"),
        ("project-management", "Project management"),
        ("bookkeeping", "Bookkeeping"),
        ("transcription", "Transcription"),
    ),
)

_BY_CATEGORY: dict[str, Category] = {c.slug: c for c in CATEGORIES}
_CATEGORY_OF_SKILL: dict[str, str] = {s.slug: c.slug for c in CATEGORIES for s in c.skills}
_SKILL_NAMES: dict[str, str] = {s.slug: s.name for c in CATEGORIES for s in c.skills}


def category(slug: str) -> Category | None:
    return _BY_CATEGORY.get(slug)


def is_known_category(slug: str) -> bool:
    return slug in _BY_CATEGORY


def is_known_skill(slug: str) -> bool:
    return slug in _CATEGORY_OF_SKILL


def category_of(skill: str) -> str | None:
    """The category of a taxonomy skill; None for a free tag."""
    return _CATEGORY_OF_SKILL.get(skill)


def skill_name(slug: str) -> str:
    """English display name; a free tag is shown as its slug."""
    return _SKILL_NAMES.get(slug, slug)


def category_name(slug: str) -> str:
    found = _BY_CATEGORY.get(slug)
    return found.name if found else slug


def _slugify(text: str) -> str:
    slug = re.sub(r"[^\w+#.]+|_+", "-", text.lower()).strip("-").rstrip(".")
    return re.sub(r"-{2,}", "-", slug)


_SLUG_OF_NAME: dict[str, str] = {_slugify(name): slug for slug, name in _SKILL_NAMES.items()}


def normalize_skill(text: str) -> str:
    """Slug form of a free tag: "  Google Ads " → "google-ads", "C++" → "c++".

    Letters of any script and digits are kept, plus "+", "#" and "." inside a
    word (C#, C++, node.js); every other run of characters becomes one hyphen.
    Refuses an empty tag, one without a letter or digit, and one that is
    longer than MAX_SKILL_LEN after normalising (a sentence is not a skill).
    """
    raw = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not raw:
        raise ValidationError("skill_empty", "Send a skill, e.g. python or logo design.")
    slug = _slugify(raw)
    # A taxonomy skill typed by its English name ("UI/UX design") becomes its slug.
    slug = _SLUG_OF_NAME.get(slug, slug)
    if not re.search(r"[^\W_]", slug):
        raise ValidationError(
            "skill_invalid", "A skill needs letters or digits, e.g. python or logo design."
        )
    if len(slug) > MAX_SKILL_LEN:
        raise ValidationError(
            "skill_too_long",
            f"A skill is at most {MAX_SKILL_LEN} characters; send a short name.",
            max=MAX_SKILL_LEN,
        )
    return slug
