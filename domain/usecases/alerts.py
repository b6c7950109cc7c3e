"""Job alert subscriptions (instant or daily) and the daily digest.

"Not interested" is jobs.dismiss_job; instant alerts are sent by jobs.publish_job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from domain import matching, validation
from domain.config import MarketConfig
from domain.entities import AlertSubscription, Job
from domain.errors import NotAllowed, ValidationError
from domain.events import JobDigest
from domain.ports import Clock, UnitOfWork
from domain.states import JobStatus
from domain.usecases.common import freelancer, load
from domain.usecases.jobs import clean_category, clean_skills
from domain.usecases.visibility import off_market_clients

MAX_SUBSCRIPTIONS = 10
MAX_KEYWORDS = 10
MAX_KEYWORD_LEN = 40
MODES = ("instant", "daily")
DIGEST_EVERY = timedelta(days=1)
DIGEST_MAX_JOBS = 20


@dataclass(frozen=True, slots=True)
class SubscriptionFields:
    categories: Sequence[str] = field(default_factory=tuple)
    skills: Sequence[str] = field(default_factory=tuple)
    keywords: Sequence[str] = field(default_factory=tuple)
    min_budget: int = 0
    mode: str = "instant"


def parse_keywords(text: str) -> list[str]:
    """What a person types → keywords: "logo, branding, -wordpress" → ["logo",
    "branding", "-wordpress"] (commas or new lines; a leading "-" excludes a word)."""
    raw = validation.clean_text(text, "keywords", 1, MAX_KEYWORDS * (MAX_KEYWORD_LEN + 2))
    words: list[str] = []
    for part in raw.replace("\n", ",").split(","):
        word = " ".join(part.split())
        if not word or word in words:
            continue
        if len(word) > MAX_KEYWORD_LEN:
            raise ValidationError(
                "keyword_too_long",
                f"A keyword is at most {MAX_KEYWORD_LEN} characters.",
                max=MAX_KEYWORD_LEN,
            )
        if not any(ch.isalnum() for ch in word):
            raise ValidationError("keyword_invalid", "A keyword needs letters or digits.")
        words.append(word)
    if not words:
        raise ValidationError("keyword_invalid", "A keyword needs letters or digits.")
    if len(words) > MAX_KEYWORDS:
        raise ValidationError(
            "keywords_too_many", f"At most {MAX_KEYWORDS} keywords.", max=MAX_KEYWORDS
        )
    return words


def _apply(sub: AlertSubscription, fields: SubscriptionFields) -> None:
    sub.categories = [c for c in dict.fromkeys(fields.categories) if clean_category(c)]
    sub.skills = clean_skills(fields.skills)
    keywords = [" ".join(k.split()) for k in fields.keywords if k.strip()]
    if len(keywords) > MAX_KEYWORDS or any(len(k) > MAX_KEYWORD_LEN for k in keywords):
        raise ValidationError(
            "keywords_invalid",
            f"Up to {MAX_KEYWORDS} keywords of at most {MAX_KEYWORD_LEN} characters.",
            max=MAX_KEYWORDS,
            max_length=MAX_KEYWORD_LEN,
        )
    sub.keywords = list(dict.fromkeys(keywords))
    if not isinstance(fields.min_budget, int) or fields.min_budget < 0:
        raise ValidationError("amount_negative", "The minimum budget cannot be negative.")
    sub.min_budget = fields.min_budget
    if fields.mode not in MODES:
        raise ValidationError("mode_invalid", "Alerts are instant or a daily digest.")
    sub.mode = fields.mode


async def own_subscription(
    uow: UnitOfWork, actor_id: int, subscription_id: int, *, lock: bool = False
) -> AlertSubscription:
    """The actor's subscription (locked when it is about to change)."""
    await freelancer(uow, actor_id)
    sub = await load(uow.subscriptions, subscription_id, "subscription", lock=lock)
    if sub.user_id != actor_id:
        raise NotAllowed("not_your_subscription", "This subscription is not yours.")
    return sub


async def list_subscriptions(uow: UnitOfWork, actor_id: int) -> list[AlertSubscription]:
    """The freelancer's subscriptions, oldest first."""
    await freelancer(uow, actor_id)
    return await uow.subscriptions.find(order_by="id", user_id=actor_id)


async def create_subscription(
    uow: UnitOfWork, clock: Clock, actor_id: int, fields: SubscriptionFields
) -> AlertSubscription:
    await freelancer(uow, actor_id)
    if await uow.subscriptions.count(user_id=actor_id) >= MAX_SUBSCRIPTIONS:
        raise NotAllowed(
            "subscriptions_too_many",
            f"At most {MAX_SUBSCRIPTIONS} subscriptions.",
            max=MAX_SUBSCRIPTIONS,
        )
    now = clock.now()
    # last_digest_at = now: the first digest covers jobs from now on, not the archive.
    sub = AlertSubscription(user_id=actor_id, created_at=now, last_digest_at=now)
    _apply(sub, fields)
    return await uow.subscriptions.add(sub)


async def update_subscription(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    subscription_id: int,
    fields: SubscriptionFields,
) -> AlertSubscription:
    sub = await own_subscription(uow, actor_id, subscription_id, lock=True)
    was_daily = sub.mode == "daily"
    _apply(sub, fields)
    if sub.mode == "daily" and not was_daily:
        # Jobs from the instant days were alerted already: the digest starts now.
        sub.last_digest_at = clock.now()
    return sub


async def set_subscription_paused(
    uow: UnitOfWork, clock: Clock, actor_id: int, subscription_id: int, paused: bool
) -> AlertSubscription:
    sub = await own_subscription(uow, actor_id, subscription_id, lock=True)
    sub.paused = paused
    if not paused and sub.mode == "daily":
        # Resuming does not flood the user with what was posted while paused.
        sub.last_digest_at = clock.now()
    return sub


async def delete_subscription(
    uow: UnitOfWork, clock: Clock, actor_id: int, subscription_id: int
) -> None:
    await uow.subscriptions.delete(
        await own_subscription(uow, actor_id, subscription_id, lock=True)
    )


async def daily_digest(uow: UnitOfWork, clock: Clock, config: MarketConfig) -> dict[int, list[int]]:
    """For each daily subscription due (last digest a day ago or more): the open
    jobs published since then that match, other than the user's own and those
    dismissed. One "job_digest" event per user with the job ids, newest first
    (at most DIGEST_MAX_JOBS); {user: job ids}.

    Safe to run in two processes at once: each subscription is locked and its
    due time re-checked before it is advanced.
    """
    now = clock.now()
    due = await uow.subscriptions.find(
        mode="daily", paused=False, last_digest_at__lte=now - DIGEST_EVERY
    ) + await uow.subscriptions.find(mode="daily", paused=False, last_digest_at=None)
    found: dict[int, set[int]] = {}
    for candidate in due:
        sub = await uow.subscriptions.get_for_update(candidate.id)
        if sub is None or sub.paused or sub.mode != "daily":
            continue
        if sub.last_digest_at is not None and sub.last_digest_at > now - DIGEST_EVERY:
            continue  # another process sent it meanwhile
        since = sub.last_digest_at or sub.created_at or now - DIGEST_EVERY
        jobs: list[Job] = await uow.jobs.find(
            status=JobStatus.OPEN, published_at__gt=since, client_id__ne=sub.user_id
        )
        matched = {j.id for j in jobs if matching.job_matches(j, sub)}
        found.setdefault(sub.user_id, set()).update(matched)  # type: ignore[arg-type]
        sub.last_digest_at = now
    result: dict[int, list[int]] = {}
    # Away freelancers get no digest; their subscriptions advance, so no backlog floods them.
    away = await uow.talent.away_users(sorted(found), now.date())
    for user_id, job_ids in sorted(found.items()):
        if user_id in away:
            continue
        if not job_ids:
            continue
        dismissed = {d.job_id for d in await uow.dismissals.find(order_by="", user_id=user_id)}
        user = await uow.users.get(user_id)
        hidden = await off_market_clients(uow, user_id)  # blocks, either way
        if hidden:
            job_ids = {j.id for j in await uow.jobs.find(id__in=job_ids, client_id__notin=hidden)}
        ids = sorted(job_ids - dismissed, reverse=True)[:DIGEST_MAX_JOBS]
        if not ids or user is None or user.banned:
            continue
        result[user_id] = ids
        uow.emit(JobDigest(user_id=user_id, job_ids=ids))
    return result
