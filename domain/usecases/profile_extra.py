"""Freelancer profiles: editing each field, and the record behind the profile card.

Written by the flows engineer because no profile use cases existed yet; same
conventions as the other use-case modules (re-authorise, no commit).

The record (`freelancer_record`) is what domain.reputation scores:
- ratings: revealed reviews the person received;
- completed: ended contracts as the freelancer; disputed: contracts with a dispute;
- on time / late: milestones with a due date that were submitted (on time when
  submitted on or before the due date) — plus, as late, funded milestones whose
  due date has passed without a submission;
- median response: for each message someone sent the freelancer, the time until
  the freelancer's next message in the same conversation (contract or job), and
  for each offer the time until it was accepted;
- earnings: the amounts of released milestones (shown, never scored).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from statistics import median_low

from domain import taxonomy, validation
from domain.config import MarketConfig
from domain.entities import FreelancerProfile, User
from domain.errors import ValidationError
from domain.ports import Clock, UnitOfWork
from domain.profile import completeness
from domain.reputation import FreelancerRecord, Reputation, compute_reputation
from domain.states import HELD, ContractStatus, MilestoneStatus, ReviewStatus
from domain.usecases.common import freelancer, load

MAX_SKILLS = 15  # taxonomy skills and free tags together
MAX_LINKS = 10
MAX_CERTIFICATIONS = 10
CERTIFICATION_MAX = 120
YEARS_MAX = 70
TEXT_FIELDS = {"headline": validation.HEADLINE_MAX, "bio": validation.BIO_MAX}


async def get_profile(uow: UnitOfWork, user_id: int) -> FreelancerProfile | None:
    return await uow.profiles.get(user_id)


async def _own(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int
) -> FreelancerProfile:
    """The actor's profile (created on first edit), locked for the change."""
    await freelancer(uow, actor_id)
    profile = await uow.profiles.get_for_update(actor_id)
    if profile is None:
        profile = await uow.profiles.add(
            FreelancerProfile(user_id=actor_id, currency=config.currency)
        )
    profile.updated_at = clock.now()
    return profile


def _full(what: str, limit: int) -> ValidationError:
    return ValidationError(f"profile_{what}_full", f"At most {limit} {what}.", max=limit)


async def set_text(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, field: str, text: str
) -> FreelancerProfile:
    """Headline or bio."""
    if field not in TEXT_FIELDS:
        raise ValidationError("invalid", f"Unknown profile field {field}.")
    value = validation.clean_text(text, field, 1, TEXT_FIELDS[field])
    profile = await _own(uow, clock, config, actor_id)
    setattr(profile, field, value)
    return profile


async def set_category(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, slug: str
) -> FreelancerProfile:
    if not taxonomy.is_known_category(slug):
        raise ValidationError("profile_category_unknown", "Choose a category from the list.")
    profile = await _own(uow, clock, config, actor_id)
    profile.category = slug
    return profile


async def set_hourly_rate(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, amount: int
) -> FreelancerProfile:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationError("amount_zero", "The rate must be more than zero.")
    profile = await _own(uow, clock, config, actor_id)
    profile.hourly_rate, profile.currency = amount, config.currency
    return profile


async def set_years(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, years: str | int
) -> FreelancerProfile:
    value = validation.parse_int(years, "years", 0, YEARS_MAX)
    profile = await _own(uow, clock, config, actor_id)
    profile.years_experience = value
    return profile


async def toggle_skill(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, slug: str
) -> FreelancerProfile:
    """Add a taxonomy skill, or remove it if it is there."""
    if not taxonomy.is_known_skill(slug):
        raise ValidationError("profile_skill_unknown", "Choose a skill from the list.")
    profile = await _own(uow, clock, config, actor_id)
    if slug in profile.skills:
        profile.skills = [s for s in profile.skills if s != slug]
    else:
        if len(profile.skills) + len(profile.tags) >= MAX_SKILLS:
            raise _full("skills", MAX_SKILLS)
        profile.skills = [*profile.skills, slug]
    return profile


async def add_tag(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, text: str
) -> FreelancerProfile:
    """A free tag; a taxonomy skill typed by name becomes that skill."""
    slug = taxonomy.normalize_skill(text)
    profile = await _own(uow, clock, config, actor_id)
    if slug in profile.skills or slug in profile.tags:
        return profile
    if len(profile.skills) + len(profile.tags) >= MAX_SKILLS:
        raise _full("skills", MAX_SKILLS)
    if taxonomy.is_known_skill(slug):
        profile.skills = [*profile.skills, slug]
    else:
        profile.tags = [*profile.tags, slug]
    return profile


def _without(items: list[str], index: int) -> list[str]:
    """The list without item `index`; a stale index (already removed) is refused."""
    if not 0 <= index < len(items):
        raise ValidationError("profile_item_gone", "That item is no longer there.")
    return items[:index] + items[index + 1 :]


async def remove_item(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, field: str, index: int
) -> FreelancerProfile:
    """Remove entry `index` of "tags", "portfolio" or "certifications"."""
    if field not in ("tags", "portfolio", "certifications"):
        raise ValidationError("invalid", f"Unknown profile list {field}.")
    profile = await _own(uow, clock, config, actor_id)
    setattr(profile, field, _without(list(getattr(profile, field)), index))
    return profile


async def add_link(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, text: str
) -> FreelancerProfile:
    url = validation.parse_url(text)
    profile = await _own(uow, clock, config, actor_id)
    if url in profile.portfolio:
        return profile
    if len(profile.portfolio) >= MAX_LINKS:
        raise _full("links", MAX_LINKS)
    profile.portfolio = [*profile.portfolio, url]
    return profile


async def add_certification(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, text: str
) -> FreelancerProfile:
    value = validation.clean_text(text, "certification", 2, CERTIFICATION_MAX)
    profile = await _own(uow, clock, config, actor_id)
    if value in profile.certifications:
        return profile
    if len(profile.certifications) >= MAX_CERTIFICATIONS:
        raise _full("certifications", MAX_CERTIFICATIONS)
    profile.certifications = [*profile.certifications, value]
    return profile


# --- the record -------------------------------------------------------------------


async def _response_times(uow: UnitOfWork, user_id: int) -> list[int]:
    received = await uow.messages.find(order_by="id", recipient_id=user_id)
    sent = await uow.messages.find(order_by="id", sender_id=user_id)
    threads: dict[tuple[object, ...], list[tuple[datetime, bool]]] = defaultdict(list)
    for m in received:
        if m.created_at:
            threads[(m.contract_id, m.job_id, m.sender_id)].append((m.created_at, False))
    for m in sent:
        if m.created_at:
            threads[(m.contract_id, m.job_id, m.recipient_id)].append((m.created_at, True))
    times: list[int] = []
    for items in threads.values():
        waiting_since: datetime | None = None
        for at, mine in sorted(items):
            if not mine and waiting_since is None:
                waiting_since = at
            elif mine and waiting_since is not None:
                times.append(int((at - waiting_since).total_seconds()))
                waiting_since = None
    for contract in await uow.contracts.find(freelancer_id=user_id):
        if contract.offered_at and contract.accepted_at:
            times.append(int((contract.accepted_at - contract.offered_at).total_seconds()))
    return [max(0, t) for t in times]


async def freelancer_record(uow: UnitOfWork, user: User, now: datetime) -> FreelancerRecord:
    """The record of the module docstring."""
    contracts = await uow.contracts.find(freelancer_id=user.id)
    on_time = late = disputed = earnings = 0
    for contract in contracts:
        if await uow.disputes.count(contract_id=contract.id):
            disputed += 1
        for ms in await uow.milestones.find(contract_id=contract.id):
            if ms.status == MilestoneStatus.RELEASED:
                earnings += ms.amount
            if ms.due_date is None:
                continue
            if ms.submitted_at is not None:
                on_time, late = (
                    (on_time + 1, late)
                    if ms.submitted_at.date() <= ms.due_date
                    else (on_time, late + 1)
                )
            elif ms.status in HELD and ms.due_date < now.date():
                late += 1
    reviews = await uow.reviews.find(reviewee_id=user.id, status=ReviewStatus.REVEALED)
    times = await _response_times(uow, user.id)
    return FreelancerRecord(
        ratings=[r.rating for r in reviews],
        contracts_completed=sum(c.status == ContractStatus.ENDED for c in contracts),
        contracts_disputed=disputed,
        milestones_on_time=on_time,
        milestones_late=late,
        median_response_seconds=median_low(times) if times else None,
        earnings_minor=earnings,
        member_since=user.created_at or now,
    )


@dataclass(frozen=True, slots=True)
class ProfileView:
    user: User
    profile: FreelancerProfile | None
    record: FreelancerRecord
    reputation: Reputation
    percent: int
    next_step: str | None


async def profile_view(uow: UnitOfWork, clock: Clock, user_id: int) -> ProfileView:
    """Everything the profile card shows (anyone may look at a profile)."""
    user = await load(uow.users, user_id, "user")
    profile = await uow.profiles.get(user_id)
    now = clock.now()
    record = await freelancer_record(uow, user, now)
    percent, next_step = completeness(profile)
    return ProfileView(user, profile, record, compute_reputation(record, now), percent, next_step)
