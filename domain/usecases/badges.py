"""Badges earned and lost by domain.reputation's rule, and told when that happens.

A freelancer's badges are recomputed whenever their record changes in a way the
rule reads — their reviews revealed, a contract of theirs ended — and the
badges they hold are kept in `earned_badges`, so each change emits exactly one
BadgeEarned or BadgeLost. Rising Talent also ends by the calendar (a member for
90 days), which no record change marks: the scheduler's tick takes it away
(expire_rising_talent).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.events import BadgeEarned, BadgeLost
from domain.ports import Clock, UnitOfWork
from domain.reputation import RISING_TALENT_DAYS
from domain.saved import EarnedBadge


class _At:
    """A clock stopped at `now` (the record is read as of the unit's time)."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


async def refresh(uow: UnitOfWork, now: datetime, user_id: int) -> tuple[list[str], list[str]]:
    """Bring the user's held badges in line with the rule; (earned, lost)."""
    from domain.usecases import queries  # queries reads the record; no cycle at import

    user = await uow.users.get(user_id)
    if user is None or not user.is_freelancer:
        return [], []
    reputation = await queries.reputation_of(uow, _At(now), user_id)
    held = {b.badge: b for b in await uow.badges.find(user_id=user_id)}
    earned = [b for b in reputation.badges if b not in held]
    lost = [b for b in held if b not in reputation.badges]
    for badge in earned:
        await uow.badges.add(EarnedBadge(user_id=user_id, badge=badge, earned_at=now))
        uow.emit(BadgeEarned(user_id=user_id, badge=badge))
    for badge in lost:
        await uow.badges.delete(held[badge])
        uow.emit(BadgeLost(user_id=user_id, badge=badge))
    return earned, lost


async def expire_rising_talent(uow: UnitOfWork, clock: Clock) -> list[int]:
    """Holders of Rising Talent who have been members for RISING_TALENT_DAYS lose
    it (and are told); the user ids. The holders are few: new members only."""
    now = clock.now()
    held = await uow.badges.find(badge="rising_talent", order_by="id")
    if not held:
        return []
    cutoff = now - timedelta(days=RISING_TALENT_DAYS)
    old = await uow.users.find(id__in=[b.user_id for b in held], created_at__lte=cutoff)
    done = []
    for user in sorted(old, key=lambda u: u.id or 0):
        assert user.id is not None
        _, lost = await refresh(uow, now, user.id)
        if lost:
            done.append(user.id)
    return done
