"""Categories and skills are shown by their translated names (taxonomy.po), free
tags as typed and escaped."""

from __future__ import annotations

from datetime import date

import pytest

from domain import taxonomy
from domain.entities import Job
from domain.states import JobStatus
from handlers.i18n import LANGUAGES, load_catalog, translator
from handlers.render import job_card
from handlers.taxonomy_names import category_name, skill_name, skill_names
from tests.flows.telegram_html import visible_text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_taxonomy_slug_has_a_name_in_every_language(lang):
    catalog = {m.id: m.string for m in load_catalog(lang) if m.id}
    keys = [f"category.{c.slug}" for c in taxonomy.CATEGORIES]
    keys += [f"skill.{s.slug}" for c in taxonomy.CATEGORIES for s in c.skills]
    assert [k for k in keys if not catalog.get(k)] == []
    names = [catalog[k] for k in keys if k.startswith("skill.")]
    assert len(set(names)) == len(names)  # two skills never read the same


def test_names_in_russian_and_free_tags_as_stored():
    ru = translator("ru")
    assert category_name(ru, "video") == "Видео и аудио"
    assert skill_name(ru, "telegram-bots") == "Telegram-боты"
    assert skill_names(ru, ["python", "c++", "<x>"]) == "Python, c++, <x>"
    assert category_name(ru, None) == "" and category_name(ru, "gone") == "gone"


def test_job_card_shows_translated_names_and_escapes_free_tags():
    job = Job(
        id=3,
        client_id=1,
        title="Bot",
        category="development",
        skills=["telegram-bots", "backend", "<b>c++</b>"],
        budget=1000,
        deadline=date(2026, 3, 1),
        status=JobStatus.OPEN,
    )
    en = job_card(job, translator("en"))
    assert "Telegram bots, Backend &amp; APIs, &lt;b&gt;c++&lt;/b&gt;" in en
    assert "Development" in visible_text(en) and "telegram-bots" not in en
    ru = visible_text(job_card(job, translator("ru")))
    assert "Разработка" in ru and "Telegram-боты, Бэкенд и API, <b>c++</b>" in ru
