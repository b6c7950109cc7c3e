"""The freelancer's profile: create or update it, validated field by field;
and the one-item edits the profile screens make (toggle a skill, add or remove
a tag, a link or a certification), each re-validated by update_profile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain import taxonomy, validation
from domain.config import MarketConfig
from domain.entities import FreelancerProfile
from domain.errors import ValidationError
from domain.ports import Clock, UnitOfWork
from domain.usecases import moderation
from domain.usecases.common import freelancer
from domain.usecases.jobs import clean_category

MAX_SKILLS = 15
MAX_TAGS = 15
MAX_LINKS = 10
MAX_CERTIFICATIONS = 10
MAX_YEARS = 70
MAX_CERTIFICATION_LEN = 120


@dataclass(frozen=True, slots=True)
class ProfileFields:
    """Every field; None leaves the stored value as it is (the wizard sets one at a time)."""

    headline: str | None = None
    bio: str | None = None
    category: str | None = None
    skills: Sequence[str] | None = None  # taxonomy skills and free tags, mixed
    hourly_rate: int | None = None  # minor units; 0 clears it
    years_experience: int | str | None = None
    portfolio: Sequence[str] | None = None
    certifications: Sequence[str] | None = None


def split_skills(values: Sequence[str]) -> tuple[list[str], list[str]]:
    """(taxonomy skills, free tags), each cleaned (taxonomy.clean_skill) and once."""
    slugs = taxonomy.unique_skills(taxonomy.clean_skill(v) for v in values)
    skills = [s for s in slugs if taxonomy.is_known_skill(s)]
    tags = [s for s in slugs if not taxonomy.is_known_skill(s)]
    if len(skills) > MAX_SKILLS or len(tags) > MAX_TAGS:
        raise ValidationError(
            "skills_too_many", f"At most {MAX_SKILLS} skills and {MAX_TAGS} tags.", max=MAX_SKILLS
        )
    return skills, tags


async def update_profile(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, fields: ProfileFields
) -> FreelancerProfile:
    """Create the profile on first use, then change only the fields given."""
    await freelancer(uow, actor_id)
    profile = await uow.profiles.get_for_update(actor_id)
    created = profile is None
    if profile is None:
        profile = FreelancerProfile(user_id=actor_id, currency=config.currency)
    if fields.headline is not None:
        profile.headline = validation.clean_text(
            fields.headline, "headline", 5, validation.HEADLINE_MAX
        )
    if fields.bio is not None:
        profile.bio = validation.clean_text(fields.bio, "bio", 1, validation.BIO_MAX)
    if fields.category is not None:
        profile.category = clean_category(fields.category)
    if fields.skills is not None:
        profile.skills, profile.tags = split_skills(fields.skills)
    if fields.hourly_rate is not None:
        if not isinstance(fields.hourly_rate, int) or fields.hourly_rate < 0:
            raise ValidationError("amount_negative", "The rate cannot be negative.")
        profile.hourly_rate = fields.hourly_rate or None
    if fields.years_experience is not None:
        profile.years_experience = validation.parse_int(
            fields.years_experience, "years of experience", 0, MAX_YEARS
        )
    if fields.portfolio is not None:
        if len(fields.portfolio) > MAX_LINKS:
            raise ValidationError("links_too_many", f"At most {MAX_LINKS} links.", max=MAX_LINKS)
        profile.portfolio = list(dict.fromkeys(validation.parse_url(u) for u in fields.portfolio))
    if fields.certifications is not None:
        if len(fields.certifications) > MAX_CERTIFICATIONS:
            raise ValidationError(
                "certifications_too_many",
                f"At most {MAX_CERTIFICATIONS} certifications.",
                max=MAX_CERTIFICATIONS,
            )
        profile.certifications = [
            validation.clean_text(c, "certification", 2, MAX_CERTIFICATION_LEN)
            for c in fields.certifications
        ]
    profile.updated_at = clock.now()
    if created:
        await uow.profiles.add(profile)
    texts = [fields.headline, fields.bio, *(fields.portfolio or ()), *(fields.certifications or ())]
    await moderation.screen(uow, clock, actor_id, "profile", None, *texts)
    return profile


async def _current(uow: UnitOfWork, actor_id: int) -> FreelancerProfile:
    """The actor's profile locked for a read-modify-write (an empty one before the first edit)."""
    await freelancer(uow, actor_id)
    return await uow.profiles.get_for_update(actor_id) or FreelancerProfile(user_id=actor_id)


async def toggle_skill(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, slug: str
) -> FreelancerProfile:
    """Add a taxonomy skill, or remove it if the profile has it."""
    if not taxonomy.is_known_skill(slug):
        raise ValidationError("profile_skill_unknown", "Choose a skill from the list.")
    profile = await _current(uow, actor_id)
    values = [*profile.skills, *profile.tags]
    values = [v for v in values if v != slug] if slug in profile.skills else [*values, slug]
    return await update_profile(uow, clock, config, actor_id, ProfileFields(skills=values))


async def add_skills(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    text: str,
    names: Mapping[str, str] | None = None,
) -> FreelancerProfile:
    """Typed skills ("HTML, CSS, Figma", taxonomy.parse_skills): each a taxonomy skill
    by its name (English, or one of `names`), else a free tag as typed; those already
    there (by key) are skipped."""
    typed = taxonomy.parse_skills(text, names)
    profile = await _current(uow, actor_id)
    values = [*profile.skills, *profile.tags, *typed]  # split_skills keeps the first of a key
    return await update_profile(uow, clock, config, actor_id, ProfileFields(skills=values))


def _without(items: Sequence[str], index: int) -> list[str]:
    """The list without item `index`; a stale index (already removed) is refused."""
    if not 0 <= index < len(items):
        raise ValidationError("profile_item_gone", "That item is no longer there.")
    return [*items[:index], *items[index + 1 :]]


async def remove_item(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    field: str,
    index: int,
) -> FreelancerProfile:
    """Remove entry `index` of the profile's "tags", "portfolio" or "certifications"."""
    profile = await _current(uow, actor_id)
    if field == "tags":
        fields = ProfileFields(skills=[*profile.skills, *_without(profile.tags, index)])
    elif field == "portfolio":
        fields = ProfileFields(portfolio=_without(profile.portfolio, index))
    elif field == "certifications":
        fields = ProfileFields(certifications=_without(profile.certifications, index))
    else:
        raise ValidationError("invalid", f"Unknown profile list {field}.")
    return await update_profile(uow, clock, config, actor_id, fields)


async def add_portfolio_link(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, text: str
) -> FreelancerProfile:
    url = validation.parse_url(text)
    profile = await _current(uow, actor_id)
    links = profile.portfolio if url in profile.portfolio else [*profile.portfolio, url]
    return await update_profile(uow, clock, config, actor_id, ProfileFields(portfolio=links))


async def add_certification(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, text: str
) -> FreelancerProfile:
    value = validation.clean_text(text, "certification", 2, MAX_CERTIFICATION_LEN)
    profile = await _current(uow, actor_id)
    certs = profile.certifications
    certs = certs if value in certs else [*certs, value]
    return await update_profile(uow, clock, config, actor_id, ProfileFields(certifications=certs))
