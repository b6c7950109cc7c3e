"""Job alert subscriptions, "Not interested", and the daily digest.

Written by the flows engineer because no alert use cases existed yet; same
conventions as the other use-case modules (re-authorise, no commit, emit).
Instant alerts are emitted when a job is published (jobs_extra.publish_job:
"job_alert"); the daily digest is `send_daily_digests`, a deadline job taking
(uow, clock) for Engine.tick (domain/usecases/deadlines.py should list it).

Events:
- job_digest: user_id, subscription_id, job_ids   (at most DIGEST_MAX jobs, newest first)
- job_dismissed: user_id, job_id
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from domain import taxonomy, validation
from domain.config import MarketConfig
from domain.entities import AlertSubscription, JobDismissal
from domain.errors import NotAllowed, ValidationError
from domain.matching import job_matches
from domain.ports import Clock, UnitOfWork
from domain.states import JobStatus
from domain.usecases.common import freelancer, load

MAX_SUBSCRIPTIONS = 10
MAX_KEYWORDS = 10
KEYWORD_MAX = 40
MAX_FILTER_ITEMS = 10  # categories or skills per subscription
MODES = ("instant", "daily")
DIGEST_EVERY = timedelta(hours=24)
DIGEST_MAX = 10


def parse_keywords(text: str) -> list[str]:
    """ "logo, branding, -wordpress" → ["logo", "branding", "-wordpress"] (commas or new lines)."""
    raw = validation.clean_text(text, "keywords", 1, MAX_KEYWORDS * (KEYWORD_MAX + 2))
    words: list[str] = []
    for part in raw.replace("\n", ",").split(","):
        word = " ".join(part.split())
        if not word or word in words:
            continue
        if len(word) > KEYWORD_MAX:
            raise ValidationError(
                "keyword_too_long",
                f"A keyword is at most {KEYWORD_MAX} characters.",
                max=KEYWORD_MAX,
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


async def create_subscription(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    categories: Sequence[str] = (),
    skills: Sequence[str] = (),
    keywords: Sequence[str] = (),
    min_budget: int = 0,
    mode: str = "instant",
) -> AlertSubscription:
    await freelancer(uow, actor_id)
    if await uow.subscriptions.count(user_id=actor_id) >= MAX_SUBSCRIPTIONS:
        raise NotAllowed(
            "alerts_too_many", f"At most {MAX_SUBSCRIPTIONS} alerts.", max=MAX_SUBSCRIPTIONS
        )
    cats = list(dict.fromkeys(categories))
    sks = list(dict.fromkeys(skills))
    if any(not taxonomy.is_known_category(c) for c in cats) or any(
        not taxonomy.is_known_skill(s) for s in sks
    ):
        raise ValidationError(
            "alert_filter_unknown", "Choose categories and skills from the lists."
        )
    if len(cats) > MAX_FILTER_ITEMS or len(sks) > MAX_FILTER_ITEMS:
        raise ValidationError("alert_filter_too_many", "Too many choices.", max=MAX_FILTER_ITEMS)
    if not isinstance(min_budget, int) or isinstance(min_budget, bool) or min_budget < 0:
        raise ValidationError("amount_negative", "The amount must be positive.")
    if mode not in MODES:
        raise ValidationError("alert_mode_unknown", "Choose instant or daily.")
    return await uow.subscriptions.add(
        AlertSubscription(
            user_id=actor_id,
            categories=cats,
            skills=sks,
            keywords=list(keywords),
            min_budget=min_budget,
            mode=mode,
            created_at=clock.now(),
            last_digest_at=clock.now() if mode == "daily" else None,
        )
    )


async def own_subscription(
    uow: UnitOfWork, actor_id: int, subscription_id: int, lock: bool = False
) -> AlertSubscription:
    await freelancer(uow, actor_id)
    sub = await load(uow.subscriptions, subscription_id, "subscription", lock=lock)
    if sub.user_id != actor_id:
        raise NotAllowed("not_your_alert", "This alert is not yours.")
    return sub


async def list_subscriptions(uow: UnitOfWork, actor_id: int) -> list[AlertSubscription]:
    await freelancer(uow, actor_id)
    return await uow.subscriptions.find(order_by="id", user_id=actor_id)


async def set_paused(
    uow: UnitOfWork, clock: Clock, actor_id: int, subscription_id: int, paused: bool
) -> AlertSubscription:
    sub = await own_subscription(uow, actor_id, subscription_id, lock=True)
    if sub.paused == paused:
        raise NotAllowed(
            "alert_already_paused" if paused else "alert_not_paused",
            "The alert is already so.",
        )
    sub.paused = paused
    if not paused and sub.mode == "daily":
        sub.last_digest_at = clock.now()  # no digest of what was published while paused
    return sub


async def set_mode(
    uow: UnitOfWork, clock: Clock, actor_id: int, subscription_id: int, mode: str
) -> AlertSubscription:
    if mode not in MODES:
        raise ValidationError("alert_mode_unknown", "Choose instant or daily.")
    sub = await own_subscription(uow, actor_id, subscription_id, lock=True)
    if sub.mode != mode:
        sub.mode = mode
        sub.last_digest_at = clock.now() if mode == "daily" else None
    return sub


async def delete_subscription(uow: UnitOfWork, actor_id: int, subscription_id: int) -> None:
    sub = await own_subscription(uow, actor_id, subscription_id, lock=True)
    await uow.subscriptions.delete(sub)


async def dismiss_job(uow: UnitOfWork, clock: Clock, actor_id: int, job_id: int) -> bool:
    """ "Not interested": no more alerts or browse results for this job. False if already."""
    await freelancer(uow, actor_id)
    await load(uow.jobs, job_id, "job")
    if await uow.dismissals.count(user_id=actor_id, job_id=job_id):
        return False
    await uow.dismissals.add(JobDismissal(user_id=actor_id, job_id=job_id, created_at=clock.now()))
    uow.emit("job_dismissed", user_id=actor_id, job_id=job_id)
    return True


async def send_daily_digests(uow: UnitOfWork, clock: Clock) -> int:
    """One "job_digest" per due daily subscription with new matching jobs; returns how many.

    Due: unpaused, daily, and its last digest at least DIGEST_EVERY ago. New: open
    jobs published since the last digest, not the subscriber's own, not dismissed.
    """
    now = clock.now()
    sent = 0
    for sub in await uow.subscriptions.find(order_by="id", mode="daily", paused=False):
        since = sub.last_digest_at or sub.created_at or now - DIGEST_EVERY
        if now - since < DIGEST_EVERY:
            continue
        user = await uow.users.get(sub.user_id)
        sub.last_digest_at = now
        if user is None or user.banned or not user.is_freelancer:
            continue
        fresh = await uow.jobs.find(
            order_by="-id", status=JobStatus.OPEN, published_at__gt=since, client_id__ne=sub.user_id
        )
        dismissed = {
            d.job_id for d in await uow.dismissals.find(order_by="job_id", user_id=sub.user_id)
        }
        jobs = [j for j in fresh if j.id not in dismissed and job_matches(j, sub)][:DIGEST_MAX]
        if jobs:
            uow.emit(
                "job_digest",
                user_id=sub.user_id,
                subscription_id=sub.id,
                job_ids=[j.id for j in jobs],
            )
            sent += 1
    return sent
