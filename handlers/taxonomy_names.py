"""Categories and skills by their names in the reader's language.

The names are in the catalog taxonomy.po ("category.<slug>", "skill.<slug>"),
one entry per slug of domain/taxonomy.py. A free tag (a skill outside the
taxonomy) is shown as the freelancer stored it. The names are plain text: pass
them as translation parameters or to `esc`, never as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from domain import taxonomy


class PlainTranslator(Protocol):
    def plain(self, key: str, **params: object) -> str: ...


def category_name(t: PlainTranslator, slug: str | None) -> str:
    if not slug:
        return ""
    return t.plain(f"category.{slug}") if taxonomy.is_known_category(slug) else slug


def skill_name(t: PlainTranslator, slug: str) -> str:
    return t.plain(f"skill.{slug}") if taxonomy.is_known_skill(slug) else slug


def typed_names(t: PlainTranslator) -> dict[str, str]:
    """The taxonomy skills by their names in the reader's language (skill_key →
    slug), for taxonomy.parse_skills: "Веб-дизайн" typed is the skill web-design."""
    return {
        taxonomy.skill_key(t.plain(f"skill.{s.slug}")): s.slug
        for c in taxonomy.CATEGORIES
        for s in c.skills
    }


def skill_names(t: PlainTranslator, slugs: Iterable[str]) -> str:
    """ "Python, Telegram bots, c++" — taxonomy skills translated, free tags as stored."""
    return ", ".join(skill_name(t, s) for s in slugs)
