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

Several processes (`shared=True`, PostgreSQL; docs/scale-out.md): whichever process
receives an update, one person's updates are applied in update_id order. Each stored
update carries its user; a process that stores one then *claims the person* — a lease
"user:<id>" in the leases table (storage/coordination.py) — and, while it holds the
claim, takes that person's stored updates one at a time, lowest update_id first, from
the table (so also those another process stored). A process that finds the person
claimed leaves its update to the holder, who looks once more after giving the claim
back, so nothing is stranded. The claim is a lease renewed while held: a holder that
dies is replaced once it expires, by the sweep every process runs every few seconds
(which also replaces `recover()`). Different people stay parallel across processes.
Why a lease row rather than a PostgreSQL advisory lock: an advisory lock lives on one
connection, which would have to stay checked out for as long as a person's updates are
handled (one per busy person, per process: the pool runs dry), and arrival order at
the lock is not update_id order; the table orders them.

The HTTP side of webhook mode is bot/webhook.py; polling feeds `receive_polled`
from the framework adapters (bot/adapters).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from bot.dispatch import DispatcherClosed, UpdateDispatcher
from domain.config import MarketConfig
from domain.entities import StoredUpdate
from handlers.events import ID_RANGE, Event, Outcome
from storage.coordination import Leases
from storage.database import Database
from storage.tables import stored_updates

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


def instance_name() -> str:
    """A lease holder's default name: host, pid and a random part (a restarted process
    with a reused pid is a new holder)."""
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{secrets.token_hex(3)}"


def user_of(payload: dict[str, Any]) -> int:
    """Whose update it is (the sender of the message, press, …; else its chat); 0 when
    it names nobody — such updates share one queue."""
    for value in payload.values():
        if not isinstance(value, dict):
            continue
        for field in ("from", "user", "chat"):
            who = value.get(field)
            if isinstance(who, dict) and isinstance(who.get("id"), int):
                return int(who["id"])
        who = (
            value.get("message", {}).get("chat") if isinstance(value.get("message"), dict) else None
        )
        if isinstance(who, dict) and isinstance(who.get("id"), int):
            return int(who["id"])
    return 0


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
        *,
        shared: bool = False,
        holder: str | None = None,
        claim_s: float = 10.0,
        sweep_s: float = 2.0,
    ) -> None:
        self.database = database
        self.parse = parse
        self.dispatcher = dispatcher
        self._now = now or database.now
        self._pause = pause  # between store attempts while the database is away
        # An id processed within it is a repeat (MarketConfig.update_dedup_window).
        self.dedup_window = dedup_window
        # Several processes: one person's updates under a claim (see the module doc).
        self.shared = shared
        self.holder = holder or instance_name()
        self.claim_s = claim_s
        self.sweep_s = sweep_s
        self.leases = Leases(database)
        self._drains: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()  # people with news while their drain runs here
        self._sweeper: asyncio.Task[None] | None = None
        self._closing = False

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
                await uow.session.flush()
                await uow.session.execute(
                    sa.update(stored_updates)
                    .where(stored_updates.c.update_id == update_id)
                    .values(user_id=user_of(payload))
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
        """Hand every update left by a previous process to the dispatcher, oldest first.
        Shared: start the sweep, which takes every unclaimed person's updates."""
        if self.shared:
            left = await self.sweep()
            if self._sweeper is None:
                self._sweeper = asyncio.create_task(self._sweep_loop(), name="intake-sweep")
            return left
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
        if self.shared:
            self.kick(user_of(payload))
            return
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

    # -- several processes: one person at a time, under a claim ---------------------------

    @property
    def closing(self) -> bool:
        return self._closing

    def kick(self, user_id: int) -> None:
        """This person has a stored update: drain their updates here unless already."""
        if self._closing:
            return  # stored: another process (or the next start) takes it
        if user_id in self._drains:
            self._again.add(user_id)
            return
        task = asyncio.create_task(self._drain(user_id), name=f"intake-{user_id}")
        self._drains[user_id] = task
        task.add_done_callback(lambda _t: self._drained(user_id))

    def _drained(self, user_id: int) -> None:
        self._drains.pop(user_id, None)
        if user_id in self._again:  # news came as the drain was ending
            self._again.discard(user_id)
            self.kick(user_id)

    async def settled(self) -> None:
        """Return once no person's updates are being taken here (tests, shutdown)."""
        while self._drains:
            await asyncio.gather(*list(self._drains.values()), return_exceptions=True)

    async def sweep(self) -> int:
        """Kick everyone with stored updates (those whose claim is live elsewhere are
        left to it); the number of people found."""
        async with self.database.uow() as uow:
            rows = await uow.session.execute(
                sa.select(stored_updates.c.user_id)
                .group_by(stored_updates.c.user_id)
                .order_by(sa.func.min(stored_updates.c.update_id))
                .limit(1000)
            )
            people = [int(row[0] or 0) for row in rows]
        for user_id in people:
            self.kick(user_id)
        return len(people)

    async def _sweep_loop(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.sweep_s)  # a period, not synchronisation
            try:
                await self.sweep()
            except Exception:
                log.warning("intake sweep failed; retrying", exc_info=True)

    async def close(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Stop taking people's updates: a drain finishes the update it is at (for at
        most `timeout` seconds), then gives its claim back; the rest stays stored for
        another process."""
        self._closing = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        drains = list(self._drains.values())
        if drains:
            await asyncio.wait(drains, timeout=timeout)
        await self.cancel_drains()

    async def cancel_drains(self) -> None:
        for task in list(self._drains.values()):
            task.cancel()
        await asyncio.gather(*self._drains.values(), return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.leases.release_all(self.holder, "user:")

    async def _next_of(self, user_id: int) -> tuple[int, dict[str, Any]] | None:
        column = stored_updates.c.user_id
        who = column.is_(None) | (column == 0) if user_id == 0 else column == user_id
        async with self.database.uow() as uow:
            row = (
                await uow.session.execute(
                    sa.select(stored_updates.c.update_id, stored_updates.c.payload)
                    .where(who)
                    .order_by(stored_updates.c.update_id)
                    .limit(1)
                )
            ).first()
        return (int(row[0]), dict(row[1])) if row is not None else None

    async def _drain(self, user_id: int) -> None:
        name = f"user:{user_id}"
        try:
            while not self._closing:
                self._again.discard(user_id)
                if not await self.leases.acquire(name, self.holder, self.claim_s):
                    return  # the holder looks again after giving it back
                try:
                    kept = await self._drain_claimed(user_id, name)
                finally:
                    await asyncio.shield(self.leases.release(name, self.holder))
                if not kept:
                    return  # a transient error: the sweep tries again later
                # Another process may have stored one while we held the claim and left
                # it to us: look once more now that the claim is free.
                if user_id not in self._again and await self._next_of(user_id) is None:
                    return
        except Exception:
            log.exception("draining the updates of %s failed; the sweep retries", user_id)

    async def _drain_claimed(self, user_id: int, name: str) -> bool:
        fresh = True  # just claimed: no need to renew before the first update
        while not self._closing:
            found = await self._next_of(user_id)
            if found is None:
                return True
            # Renew before each update: a lost claim means another process took over.
            if not fresh and not await self.leases.acquire(name, self.holder, self.claim_s):
                return False
            fresh = False
            update_id, payload = found
            if not await self._handle_one(update_id, payload, name):
                return False
        return False

    async def _handle_one(self, update_id: int, payload: dict[str, Any], name: str) -> bool:
        """Handle one update and wait for it; False if it stays stored (transient)."""
        try:
            event = self.parse(payload)
        except Exception:
            log.exception("update %s cannot be parsed; dropped", update_id)
            event = None
        if event is None:
            await self.forget(update_id)
            return True
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        async def after(event: Event, outcome: Outcome | None, error: BaseException | None) -> None:
            handled = False  # False: it stays stored (a transient error)
            try:
                await self._after(event, outcome, error)
                handled = error is None or not isinstance(error, TRANSIENT_ERRORS)
            finally:
                if not done.done():  # the drain may have been cancelled (shutdown)
                    done.set_result(handled)

        heartbeat = asyncio.create_task(self._keep_claim(name))
        try:
            await self.dispatcher.submit(event, after)
            return await done
        except DispatcherClosed:
            return False
        finally:
            heartbeat.cancel()

    async def _keep_claim(self, name: str) -> None:
        while True:
            await asyncio.sleep(self.claim_s / 3)  # the claim's heartbeat period
            with contextlib.suppress(Exception):
                await self.leases.acquire(name, self.holder, self.claim_s)
