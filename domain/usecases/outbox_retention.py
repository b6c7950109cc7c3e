"""Delivered outbox rows are forgotten after a while: the rule.

Every message the bot sends is an outbox row (handlers/context.py, written in the
transaction that caused it). Once delivered — or given up on: failed for good, or
dropped because the user blocked the bot — a row is history only, and without
pruning the table and its indexes grow with every message ever sent. Rows in such
a final status created more than config.outbox_keep_days ago (30 by default, at
least a day) are deleted by the scheduler (`prune_delivered_outbox`, a bounded
batch each tick, like the processed update ids of domain/usecases/updates.py).

Never deleted: a row not yet delivered (pending, or being sent); a row that a
conversation names as its screen (the screen logic needs it until the
conversation moves on); each chat's newest row that became a message (a fast
tap on a screen still in flight is told from a press on an older message by
it). A pending row that names a deleted one (an old screen's buttons to take
away) finds no message to edit and does nothing, as for a message never sent.
The storage side walks the table in id order from where the last batch stopped
(storage/outbox_retention.py), so a tick reads at most a batch of rows however
big the table is.
"""

from __future__ import annotations

from datetime import timedelta

from domain.config import MarketConfig
from domain.ports import Clock, UnitOfWork

# Rows read (and at most deleted) per scheduler tick (every 30 s by default): up to
# ~2.9 million a day, above what Telegram lets a bot send (30 a second), while a
# full batch holds SQLite's writer lock ~30 ms (load 4).
PRUNE_BATCH = 1_000
# Once a walk has caught up, a new one from the oldest row starts at most this
# often, to take the rows kept then that may go by now (a screen the conversation
# left, a message a newer one followed): it re-reads every row kept (about one a
# chat), so not daily.
RESWEEP = timedelta(days=7)


async def prune_delivered_outbox(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = PRUNE_BATCH
) -> int:
    """Forget delivered rows older than the retention (one batch); how many."""
    now = clock.now()
    return await uow.outbox.prune_delivered(
        now - config.outbox_keep, limit, now=now, resweep=RESWEEP
    )
