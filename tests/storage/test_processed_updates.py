"""The log of processed update ids (storage/processed_updates.py): claiming an id
within and after the window, pruning, and two processes claiming one id at once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from storage.database import Database
from tests.storage.test_locking import _wait_until_blocked

WINDOW = timedelta(hours=24)


async def claim(db: Database, update_id: int, now: datetime) -> bool:
    """Claim in a unit of work of its own (as one process), and commit."""
    async with db.uow() as uow:
        won = await uow.processed_updates.claim(update_id, now, now - WINDOW)
        await uow.commit()
        return won


async def rows(db: Database) -> dict[int, object]:
    async with db.uow() as uow:
        found = await uow.processed_updates.find(order_by="update_id")
        return {row.update_id: row.processed_at for row in found}


async def test_an_id_is_a_duplicate_within_the_window_and_new_after_it(any_db, clock):
    first = clock.now()
    assert await claim(any_db, 7, clock.now())
    clock.advance(hours=24)  # exactly a window later: still a repeat
    assert not await claim(any_db, 7, clock.now())
    assert await rows(any_db) == {7: first}
    clock.advance(seconds=1)
    assert await claim(any_db, 7, clock.now())  # Telegram used the id again: a new update
    assert await rows(any_db) == {7: clock.now()}  # refreshed, not a second row
    async with any_db.uow() as uow:
        assert await uow.processed_updates.processed_since(7, clock.now() - WINDOW)
        assert not await uow.processed_updates.processed_since(7, clock.now() + WINDOW)
        assert not await uow.processed_updates.processed_since(8, clock.now() - WINDOW)


async def test_a_claim_rolled_back_leaves_nothing(any_db, clock):
    async with any_db.uow() as uow:
        assert await uow.processed_updates.claim(9, clock.now(), clock.now() - WINDOW)
    assert await rows(any_db) == {}
    assert await claim(any_db, 9, clock.now())


async def test_pruning_forgets_only_ids_older_than_the_window_oldest_first(any_db, clock):
    start = clock.now()
    for update_id in (3, 1, 2):  # processed an hour apart: 3 first
        await claim(any_db, update_id, clock.now())
        clock.advance(hours=1)
    async with any_db.uow() as uow:
        assert await uow.processed_updates.prune(start, 10) == 0  # none before the first
        # A bounded batch takes the oldest: 3, then 1.
        assert await uow.processed_updates.prune(start + timedelta(hours=2), 1) == 1
        await uow.commit()
    assert list(await rows(any_db)) == [1, 2]
    async with any_db.uow() as uow:
        assert await uow.processed_updates.prune(start + timedelta(hours=2), 10) == 1
        await uow.commit()
    assert list(await rows(any_db)) == [2]


@pytest.mark.parametrize("known", [False, True], ids=["new id", "id from before the window"])
async def test_postgres_two_processes_claiming_one_id_one_wins(any_db, clock, known):
    if any_db.dialect != "postgresql":
        pytest.skip("SQLite runs one writer at a time: two claims cannot overlap")
    if known:
        await claim(any_db, 5, clock.now())
        clock.advance(hours=25)
    now = clock.now()

    async with any_db.uow() as uow:
        assert await uow.processed_updates.claim(5, now, now - WINDOW)
        task = asyncio.create_task(claim(any_db, 5, now))
        await _wait_until_blocked(any_db)  # the second claim waits for this transaction
        assert not task.done()
        await uow.commit()
    assert await asyncio.wait_for(task, 10) is False  # it saw the first one's claim
    assert await rows(any_db) == {5: now}


async def test_postgres_a_claim_that_rolls_back_lets_the_waiting_one_win(any_db, clock):
    if any_db.dialect != "postgresql":
        pytest.skip("SQLite runs one writer at a time: two claims cannot overlap")
    now = clock.now()

    async with any_db.uow() as uow:
        assert await uow.processed_updates.claim(6, now, now - WINDOW)
        task = asyncio.create_task(claim(any_db, 6, now))
        await _wait_until_blocked(any_db)
    # The first handling failed and rolled back: the update is the second one's.
    assert await asyncio.wait_for(task, 10) is True
    assert await rows(any_db) == {6: now}
