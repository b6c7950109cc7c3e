"""The outbox sender expands a job's alert fan-out (storage/outbox_store.py) as it
delivers: a chunk when few rows wait, replies to people first, every alert once —
with one sender, and with two (two engines, like two processes) on one database."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

import sqlalchemy as sa

from bot.ratelimit import SendLimits
from bot.sender import OutboxSender
from handlers.events import Keyboard
from storage.database import Database
from storage.outbox_store import write_fanout
from storage.tables import outbox, outbox_fanouts, outbox_payloads, users

FAST = SendLimits(global_per_second=2000, private_per_second=1000, group_per_minute=6000)


class Telegram:
    """Telegram's side, as far as these rows need it: what each chat received."""

    def __init__(self) -> None:
        self.received: list[tuple[int, str]] = []
        self._ids = itertools.count(1)

    async def send_message(self, chat_id: int, text: str, buttons: Keyboard | None) -> int:
        await asyncio.sleep(0)
        self.received.append((chat_id, text))
        return next(self._ids)


async def _world(db: Database, ids: list[int]) -> None:
    async with db.uow() as uow:
        await uow.session.execute(
            sa.insert(users),
            [{"id": i, "name": f"u{i}", "language": "en", "is_freelancer": True} for i in ids],
        )
        for job in range(2):
            await write_fanout(
                uow.session,
                ids,
                {"en": [{"text": f"job {job}", "buttons": None}]},
                "en",
                priority=2,
                created_at=db.now(),
            )
        await uow.commit()


async def _empty(db: Database) -> bool:
    async with db.engine.connect() as conn:
        left = 0
        for table in (outbox_fanouts, outbox_payloads):
            left += await conn.scalar(sa.select(sa.func.count()).select_from(table))
        pending = await conn.scalar(
            sa.select(sa.func.count()).where(outbox.c.status.in_(["pending", "sending"]))
        )
        return left == 0 and pending == 0


async def test_the_sender_expands_and_delivers_every_alert_once_in_job_order(db, clock):
    ids = list(range(100, 160))
    await _world(db, ids)
    async with db.uow() as uow:  # a reply written after the publishes
        await uow.session.execute(
            sa.insert(outbox).values(
                chat_id=100, method="send", payload={"text": "reply"}, priority=0,
                status="pending", attempts=0,
            )
        )  # fmt: skip
        await uow.commit()
    telegram = Telegram()
    sender = OutboxSender(db, telegram, FAST, max_in_flight=8, fanout_chunk=9)
    assert await sender.flush(30)
    assert Counter(telegram.received) == Counter(
        [(100, "reply")] + [(i, f"job {j}") for i in ids for j in range(2)]
    )
    for chat in ids:  # each chat: job 0 before job 1
        got = [text for c, text in telegram.received if c == chat and text.startswith("job")]
        assert got == ["job 0", "job 1"]
    assert telegram.received.index((100, "reply")) < telegram.received.index((100, "job 0"))
    assert await _empty(db)


async def test_two_senders_share_the_expansion_without_repeating_an_alert(any_db, clock):
    ids = list(range(200, 290))
    await _world(any_db, ids)
    second = Database(any_db.url, now=clock.now)
    telegram = Telegram()
    try:
        senders = [
            OutboxSender(d, telegram, FAST, max_in_flight=6, fanout_chunk=7)
            for d in (any_db, second)
        ]
        done = await asyncio.gather(*(s.flush(60) for s in senders))
        assert all(done)
    finally:
        await second.dispose()
    assert Counter(telegram.received) == Counter((i, f"job {j}") for i in ids for j in range(2))
    assert await _empty(any_db)


async def test_an_empty_look_for_fanouts_is_not_repeated_until_a_wake(db, clock):
    """Deliveries wake the loop every few rows; after a look found no fan-out to
    expand, the next waits EXPAND_IDLE_S — unless a commit wakes the sender."""
    sender = OutboxSender(db, Telegram(), FAST)
    looks = 0
    expand = sender.store.expand

    async def counted(*args: object, **kwargs: object) -> int:
        nonlocal looks
        looks += 1
        return await expand(*args, **kwargs)  # type: ignore[arg-type]

    sender.store.expand = counted  # type: ignore[method-assign]
    assert not await sender._expand() and looks == 1
    assert not await sender._expand() and looks == 1  # within EXPAND_IDLE_S: no look
    await _world(db, [1, 2, 3])
    sender.wake()  # the publish's commit
    assert await sender._expand() and looks == 2
    assert await sender._expand() and looks == 3  # found work: look again at once
