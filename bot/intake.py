"""Durable update intake: every update, by webhook or by long polling, enters here.

1. The raw update is inserted into stored_updates (idempotent on update_id) and
   committed BEFORE Telegram is told it was delivered — the webhook's 200, or the
   next getUpdates offset in polling mode. From then on the update is ours.
2. It is parsed and handed to the dispatcher; once handled, its row is deleted.
   A crash in between leaves the row, and `recover()` at the next start handles it
   before any new update.
3. A repeated update_id (a lost 200, or a poll whose offset never reached Telegram)
   is ignored: it is still stored, or the engine recorded it as processed within the
   dedup window (the engine commits that record before the row is deleted, so one
   always exists). An id processed before the window is a new update.

The HTTP side of webhook mode is bot/webhook.py; polling feeds `receive_polled`
from the framework adapters (bot/adapters).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from bot.dispatch import DispatcherClosed, UpdateDispatcher
from domain.config import MarketConfig
from domain.entities import StoredUpdate
from handlers.events import ID_RANGE, Event, Outcome
from storage.database import Database

log = logging.getLogger(__name__)

# Errors after which the update is kept for the next start (the database was away),
# rather than dropped: anything else is a bug that would fail again at every restart.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, OSError)
# Polling: how long to wait before storing again while the database is away.
STORE_RETRY_FIRST_S = 0.5
STORE_RETRY_MAX_S = 10.0
DEDUP_WINDOW = MarketConfig().update_dedup_window

Parse = Callable[[dict[str, Any]], Event | None]
Pause = Callable[[float], Awaitable[None]]


def update_id_of(payload: Any) -> int | None:
    """The update_id of a raw update, or None when it has none (not an update) or
    one no database column can hold."""
    update_id = payload.get("update_id") if isinstance(payload, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    if update_id not in ID_RANGE:
        return None
    return update_id


class UpdateIntake:
    def __init__(
        self,
        database: Database,
        parse: Parse,
        dispatcher: UpdateDispatcher,
        now: Callable[[], datetime] | None = None,
        pause: Pause = asyncio.sleep,
        dedup_window: timedelta = DEDUP_WINDOW,
    ) -> None:
        self.database = database
        self.parse = parse
        self.dispatcher = dispatcher
        self._now = now or database.now
        self._pause = pause  # between store attempts while the database is away
        # An id processed within it is a repeat (MarketConfig.update_dedup_window).
        self.dedup_window = dedup_window

    async def receive(self, payload: dict[str, Any]) -> bool:
        """Keep the update, then hand it to the dispatcher. False for a duplicate.
        A database error while storing propagates: the update is not ours yet."""
        update_id = update_id_of(payload)
        if update_id is None:
            raise ValueError("not an update: no update_id")
        if not await self.store(update_id, payload):
            return False
        await self._hand_over(update_id, payload)
        return True

    async def receive_polled(self, payload: dict[str, Any]) -> None:
        """`receive` for long polling: the framework confirms the update to Telegram as
        soon as this returns, so it returns only once the update is stored — while the
        database is away it keeps trying (the poller waits; stopping cancels it, and
        the unconfirmed update comes again from Telegram)."""
        update_id = update_id_of(payload)
        if update_id is None:
            log.warning("polled something without an update_id; ignored: %r", payload)
            return
        delay = STORE_RETRY_FIRST_S
        while True:
            try:
                kept = await self.store(update_id, payload)
                break
            except TRANSIENT_ERRORS as error:
                log.warning("update %s not stored yet (%s); retrying", update_id, error)
                await self._pause(delay)
                delay = min(delay * 2, STORE_RETRY_MAX_S)
        if kept:
            await self._hand_over(update_id, payload)

    # -- durable store -------------------------------------------------------------

    async def store(self, update_id: int, payload: dict[str, Any]) -> bool:
        """Keep the update; False if it is already kept or was processed within the
        window (an older id is a new update: domain/usecases/updates.py)."""
        try:
            async with self.database.uow() as uow:
                if await uow.stored_updates.get(update_id) is not None:
                    return False
                since = self._now() - self.dedup_window
                if await uow.processed_updates.processed_since(update_id, since):
                    return False
                await uow.stored_updates.add(
                    StoredUpdate(update_id=update_id, payload=payload, received_at=self._now())
                )
                await uow.commit()
        except IntegrityError:
            return False  # the same update arrived twice at once; the other one keeps it
        return True

    async def forget(self, update_id: int) -> None:
        async with self.database.uow() as uow:
            row = await uow.stored_updates.get(update_id)
            if row is not None:
                await uow.stored_updates.delete(row)
                await uow.commit()

    async def recover(self) -> int:
        """Hand every update left by a previous process to the dispatcher, oldest first."""
        async with self.database.uow() as uow:
            rows = await uow.stored_updates.find(order_by="update_id")
            left = [(row.update_id, dict(row.payload)) for row in rows]
        for update_id, payload in left:
            await self._submit(update_id, payload)
        if left:
            log.info("recovered %d stored update(s) from a previous run", len(left))
        return len(left)

    # -- handling -----------------------------------------------------------------------

    async def _hand_over(self, update_id: int, payload: dict[str, Any]) -> None:
        try:
            await self._submit(update_id, payload)
        except DispatcherClosed:
            pass  # stored: recover() handles it at the next start

    async def _submit(self, update_id: int, payload: dict[str, Any]) -> None:
        try:
            event = self.parse(payload)
        except Exception:
            log.exception("update %s cannot be parsed; dropped", update_id)
            event = None
        if event is None:  # nothing the marketplace reacts to
            await self.forget(update_id)
            return
        await self.dispatcher.submit(event, self._after)

    async def _after(
        self, event: Event, outcome: Outcome | None, error: BaseException | None
    ) -> None:
        assert event.update_id is not None
        if error is not None and isinstance(error, TRANSIENT_ERRORS):
            log.warning("update %s kept for a retry after: %s", event.update_id, error)
            return
        await self.forget(event.update_id)
