"""The skill taxonomy: categories, each with its skills, as slugs with English names.

Slugs are stable identifiers stored on profiles, jobs and alert subscriptions;
the English names are defaults — translating them is the handlers' job.

Skills people type go through one parser, `parse_skills` ("HTML, CSS, Figma" →
three skills). A typed taxonomy skill ("python", "UI/UX design") is stored as its
slug; any other is a free tag, stored as typed ("CSS", "Google Ads") so it is
shown with its case. Two skills are the same when their `skill_key` is: the
slug form, case-insensitive ("CSS", "css" → "css"; "Google Ads" → "google-ads").
Free tags stored before typed case was kept are slugs already, and a slug is
its own key, so they compare equal to the same tag typed today.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
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
    """The key (slug form) of one typed skill, validated: "  Google Ads " →
    "google-ads", "C++" → "c++", "UI/UX design" → "ui-ux".

    Letters of any script and digits are kept, plus "+", "#" and "." inside a
    word (C#, C++, node.js); every other run of characters becomes one hyphen.
    Refuses an empty tag, one without a letter or digit, and one that is
    longer than MAX_SKILL_LEN after normalising (a sentence is not a skill).
    """
    raw = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not raw:
        raise ValidationError("skill_empty", "Send a skill, e.g. python or logo design.")
    slug = skill_key(raw)
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


def skill_key(value: str) -> str:
    """What two skills are compared by (never refuses): the slug form, lower case;
    a taxonomy skill's English name gives its slug. A slug is its own key."""
    slug = _slugify(unicodedata.normalize("NFKC", value or "").strip().lower())
    # A taxonomy skill typed by its English name ("UI/UX design") becomes its slug.
    return _SLUG_OF_NAME.get(slug, slug)


# A free tag is shown as typed when it is made of these (letters, digits and the
# marks of names like "C++", "UI/UX", "R&D", "Node.js"); anything else ("<b>x</b>")
# is shown in its slug form, as every tag was before case was kept.
_TIDY = re.compile(r"[\w+#.][\w+#. '&/-]*")


def clean_skill(text: str, names: Mapping[str, str] | None = None) -> str:
    """One typed skill as stored: a taxonomy skill's slug, else the free tag as
    typed with its case kept and its spacing tidied ("  CSS " → "CSS", "Google
    Ads" → "Google Ads"). Refuses what normalize_skill refuses. `names`: more
    names of taxonomy skills, by key → slug (their names in the person's language)."""
    key = normalize_skill(text)
    key = names.get(key, key) if names else key
    if is_known_skill(key):
        return key
    shown = " ".join(unicodedata.normalize("NFKC", text).split()).rstrip(" .-'&/")
    tidy = _TIDY.fullmatch(shown) and "_" not in shown and skill_key(shown) == key
    return shown if tidy else key


SKILL_SEPARATORS = re.compile(r"[,;\n]")


def unique_skills(values: Iterable[str]) -> list[str]:
    """Each skill once (the first of those with the same key), in order."""
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(skill_key(value), value)
    return list(seen.values())


def parse_skills(text: str, names: Mapping[str, str] | None = None) -> list[str]:
    """The skills in what a person typed, the one parser for every place that takes
    typed skills: separated by commas, semicolons or new lines, each cleaned by
    clean_skill, each once. Empty pieces between separators are skipped; a text
    with no skill at all is refused like an empty skill."""
    parts = [p for p in SKILL_SEPARATORS.split(text or "") if p.strip()]
    if not parts:
        normalize_skill("")  # raises skill_empty
    return unique_skills(clean_skill(p, names) for p in parts)
