"""The freelancer's profile: create or update it, validated field by field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain import taxonomy, validation
from domain.config import MarketConfig
from domain.entities import FreelancerProfile
from domain.errors import ValidationError
from domain.ports import Clock, UnitOfWork
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
    """(taxonomy skills, free tags), each normalised and without duplicates."""
    slugs = list(dict.fromkeys(taxonomy.normalize_skill(v) for v in values))
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
            raise ValidationError("certifications_too_many", "Too many certifications.")
        profile.certifications = [
            validation.clean_text(c, "certification", 2, MAX_CERTIFICATION_LEN)
            for c in fields.certifications
        ]
    profile.updated_at = clock.now()
    if created:
        await uow.profiles.add(profile)
    return profile
