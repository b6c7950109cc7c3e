"""What the job wizard (flows/post_job.py) and the service wizard (flows/services.py)
share: the draft behind a wizard's button, the category buttons and the category's skill
buttons with the chosen ones ticked, and skills chosen by button or typed (each added,
or removed when chosen again)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from domain import taxonomy
from domain.errors import ValidationError
from domain.usecases import jobs
from handlers.callbacks import StaleButton
from handlers.context import Context
from handlers.events import Button
from handlers.i18n import Translator
from handlers.render import button
from handlers.routing import Steps
from handlers.taxonomy_names import category_name, skill_name, typed_names

TICK = "✓ "


def wizard_draft(ctx: Context, wizard: type[Steps], *steps: str) -> dict[str, Any]:
    """The draft, while the wizard is at one of `steps` (at any step when none given);
    a button from a finished or replaced conversation, or from another step of it, is
    stale."""
    if not ctx.in_step(wizard):
        raise StaleButton()
    if steps and (ctx.state is None or ctx.state.step not in steps):
        raise StaleButton()
    return ctx.data


def category_buttons(
    t: Translator, chosen: str | None, data_for: Callable[[str], str]
) -> list[Button]:
    """A button a category, the chosen one ticked."""
    return [
        button((TICK if c.slug == chosen else "") + category_name(t, c.slug), data_for(c.slug))
        for c in taxonomy.CATEGORIES
    ]


def skill_buttons(
    t: Translator, draft: dict[str, Any], data_for: Callable[[str], str]
) -> list[Button]:
    """A button a skill of the draft's category, the chosen ones ticked."""
    chosen = list(draft.get("skills") or [])
    cat = taxonomy.category(draft.get("category") or "")
    offered = [s.slug for s in cat.skills] if cat else []
    return [button((TICK if s in chosen else "") + skill_name(t, s), data_for(s)) for s in offered]


def pressed_skill(draft: dict[str, Any], slug: str | None) -> list[str]:
    """The draft's skills after a skill button: added, or removed when pressed again; a
    skill not of the draft's category is a stale button; more than MAX_SKILLS is refused."""
    cat = taxonomy.category(draft.get("category") or "")
    if cat is None or slug is None or slug not in {s.slug for s in cat.skills}:
        raise StaleButton()
    skills: list[str] = list(draft.get("skills") or [])
    if slug in skills:
        skills.remove(slug)
    else:
        skills.append(slug)
        jobs.clean_skills(skills)  # refuses more than MAX_SKILLS
    return skills


def typed_skills(t: Translator, skills: Iterable[str], text: str) -> list[str]:
    """Skills after typed ones (taxonomy.parse_skills, as on the profile): each added, or
    removed when typed again (in any case); more than MAX_SKILLS is refused."""
    found = list(skills)
    for typed in taxonomy.parse_skills(text, typed_names(t)):
        key = taxonomy.skill_key(typed)
        same = [s for s in found if taxonomy.skill_key(s) == key]
        if same:
            found.remove(same[0])
        else:
            found.append(typed)
    jobs.clean_skills(found)  # refuses more than MAX_SKILLS
    return found


def required_skills(skills: Iterable[str]) -> list[str]:
    """The use cases allow none; the wizards ask for one, so that matching works."""
    cleaned = jobs.clean_skills(list(skills))
    if not cleaned:
        raise ValidationError("skills_empty", "Choose or type at least one skill.")
    return cleaned
