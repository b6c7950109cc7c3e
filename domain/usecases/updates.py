"""Each Telegram update takes effect once: the rule for update ids.

An update id processed within the window (config.update_dedup_hours, 24 h by
default) is a duplicate: Telegram redelivers an update it could not hand over
(a lost webhook answer, a poll whose offset never arrived) for up to 24 hours.
An id processed before the window is a new update: Telegram picks ids at random
after a week without updates, and a new bot token on the same database starts
over, so an old id comes back on a different update. Its row is refreshed, and
rows older than the window are pruned by the scheduler (`prune_processed_updates`,
a bounded batch each tick), so the log holds about one window of ids.
"""

from __future__ import annotations

from domain.config import MarketConfig
from domain.ports import Clock, UnitOfWork

# Ids forgotten per scheduler tick (every 30 s by default): about 14 million a day.
PRUNE_BATCH = 5_000


async def claim_update(uow: UnitOfWork, clock: Clock, config: MarketConfig, update_id: int) -> bool:
    """Record the update as processed in this unit of work; False if it is a
    duplicate. Of two processes claiming one id at once, one gets True and the
    other, once the first commits, False."""
    now = clock.now()
    return await uow.processed_updates.claim(update_id, now, now - config.update_dedup_window)


async def prune_processed_updates(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = PRUNE_BATCH
) -> int:
    """Forget ids processed before the window (at most `limit`, oldest first); how many."""
    return await uow.processed_updates.prune(clock.now() - config.update_dedup_window, limit)
