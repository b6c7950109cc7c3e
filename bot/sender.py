"""The outbox sender: delivers committed outbox rows to Telegram, reliably and politely.

    sender = OutboxSender(database, api, SendLimits.from_settings(settings), metrics)
    task = sender.start()    # or: await sender.run()
    ...                      # the dispatcher calls sender.wake() after each commit
    await sender.flush(5)    # on shutdown: deliver what is due, then
    await sender.stop()

Guarantees: a row is delivered at most once per lease (the store's 'sending' status
guards it across processes), its outcome is recorded in its own transaction right after
the call, and only the rows in flight when a process dies may be sent twice. One chat's
rows go one at a time and in order; different chats are in flight concurrently. The
global slot goes to the most urgent row first: replies to the person acting (priority
0), then notifications (1), then bulk alerts (2).

Leases: a claimed row is this sender's for a short lease (GIGBOT_OUTBOX_LEASE_SECONDS,
6 s), which a heartbeat renews every third of it for every row still held — waiting for
its rate-limit slot or in a slow call alike. So a killed process's rows are taken over
by another sender (or the restarted one) within seconds, while a live sender keeps its
rows however long it takes. A row whose lease was lost anyway (the process stalled
longer than the lease and another sender took it) is not sent: the heartbeat, and a
check right before each call, find that the row no longer holds this sender's lease.

Alerts: a job's alerts arrive as one fan-out record (storage/outbox_store.py); when
fewer rows are due than the sender has room for, it expands the oldest fan-out's
next chunk into rows (one transaction each, with its cursor), so the outbox holds
a chunk or two of alerts rather than every recipient of every job.

Reactions: 429 → wait retry_after (that chat, or everyone if the 429 looks global) and try
the same row again; 403 → the user is marked unreachable and their queued rows dropped;
400 (or a malformed payload) → the row fails for good, logged; network errors and
anything unexpected → retried with backoff, so a row is never dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.charts import ChartCache
from bot.metrics import Metrics
from bot.ratelimit import RateLimiter, SendLimits
from bot.telegram_port import BadRequest, Forbidden, RetryAfter, TelegramApi
from domain.entities import OutboxMessage
from storage.database import Database
from storage.outbox_store import DEFAULT_LEASE_S, FANOUT_CHUNK, OutboxStore

log = logging.getLogger(__name__)

# A row whose payload does not fit its method can never be sent: it fails like a 400.
MALFORMED = (KeyError, TypeError, ValueError)
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 60.0
MARK_RETRIES = 5  # recording an outcome is retried: a lost mark would mean a repeat
URGENT = 0  # the priority of replies to the person acting (handlers.context.REPLY)
URGENT_EXTRA = 8  # replies claimed beyond max_in_flight when it is full
EXPAND_IDLE_S = 0.25  # after a look found no fan-out to expand, the next waits this long


def backoff_s(attempts: int) -> float:
    """Delay before the next try after `attempts` failed ones: 0.5, 1, 2 … capped at 60 s."""
    return min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempts))


# Methods whose call makes a new message in the chat: they keep Telegram's per-chat
# spacing (1 a second to a private chat, 20 a minute to a group). Edits of a message
# already there ("edit": its text, "buttons": its keyboard) and the command menu take
# only a global slot.
NEW_MESSAGE_METHODS = frozenset({"send", "document", "photo", "invoice", "chart"})


def declared_scope(exc: RetryAfter) -> str | None:
    """'global' or 'chat' if the adapter says which limit the 429 is about (optional
    `scope` attribute on the port's RetryAfter), else None."""
    scope = getattr(exc, "scope", None)
    return scope if scope in ("global", "chat") else None


class OutboxSender:
    def __init__(
        self,
        database: Database,
        api: TelegramApi,
        limits: SendLimits | RateLimiter | None = None,
        metrics: Metrics | None = None,
        *,
        max_in_flight: int = 32,
        urgent_extra: int = URGENT_EXTRA,
        poll_interval_s: float = 2.0,
        lease_s: float = DEFAULT_LEASE_S,
        renew_every_s: float | None = None,  # default: a third of the lease
        fanout_chunk: int = FANOUT_CHUNK,
    ) -> None:
        self.store = OutboxStore(database, lease_s=lease_s)
        self.fanout_chunk = fanout_chunk  # alerts expanded into rows at a time
        self._next_expand = 0.0  # monotonic time of the next look for a fan-out
        self.renew_every_s = lease_s / 3 if renew_every_s is None else renew_every_s
        # Less than this left on a row's lease right before its call: renew it first.
        self._lease_margin = timedelta(seconds=lease_s / 3)
        self.api = api
        self.limiter = limits if isinstance(limits, RateLimiter) else RateLimiter(limits)
        self.metrics = metrics or Metrics()
        self.charts = ChartCache()  # "chart" rows' PNGs, per fingerprint
        self.max_in_flight = max_in_flight
        self.urgent_extra = urgent_extra
        self.poll_interval_s = poll_interval_s
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # set while nothing is due and nothing is in flight
        self._stopping = False
        self._running = False  # run() started (or start() called) and not yet ended
        self._loop_active = False
        self._stopped = asyncio.Event()
        self._tasks: dict[asyncio.Task[None], OutboxMessage] = {}
        self._calling: set[int] = set()  # row ids whose API call has started
        self._settling: set[int] = set()  # row ids whose outcome is being recorded
        # Renewing and starting to record an outcome exclude each other, so an outcome
        # is always written with the lease token the database holds.
        self._lease_lock = asyncio.Lock()
        self._rounds_started = self._rounds_done = 0
        self._round_done = asyncio.Condition()
        self._last_429: tuple[int, float] | None = None  # chat, monotonic end of its pause

    # -- control ---------------------------------------------------------------------

    def wake(self) -> None:
        """Look for new rows now (called after each committed update), and for a new
        fan-out too (deliveries wake the loop without this)."""
        self._next_expand = 0.0
        self._idle.clear()
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def start(self) -> asyncio.Task[None]:
        """run() in a task of its own; the sender counts as running from this call on."""
        self._running = True
        return asyncio.create_task(self.run(), name="outbox-sender")

    async def run(self) -> None:
        """Deliver until stop(). Cancelling this task is a crash: leased rows come back later."""
        while self._loop_active:  # e.g. flush() runs its own loop: take over after it
            await self._stopped.wait()
        self._loop_active = self._running = True
        self._stopped.clear()
        heartbeat = asyncio.create_task(self._keep_leases(), name="outbox-leases")
        try:
            await self._loop()
        finally:
            try:
                await self._shutdown(graceful=self._stopping)
            finally:
                heartbeat.cancel()  # after the shutdown: calls finishing keep their leases
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
                self._loop_active = self._running = False
                self._stopping = False  # a later run() may start again
                self._stopped.set()

    async def stop(self) -> None:
        """Finish the calls already made, give back rows not yet attempted; returns once
        run() has ended."""
        self._stopping = True
        self._wake.set()
        if self._running:
            await self._stopped.wait()

    async def flush(self, timeout: float) -> bool:  # noqa: ASYNC109 (a deadline is the API)
        """Deliver everything due now; True if that finished within `timeout` seconds.

        Works whether or not run() is running (it runs a loop of its own if not)."""
        own_run = None if self._running else self.start()
        self.wake()
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self._idle.wait()
                    if not await self.store.has_due() and not self._tasks:
                        return True
                    self.wake()
        except TimeoutError:
            return False
        finally:
            if own_run is not None:
                await self.stop()
                await own_run

    # -- the loop --------------------------------------------------------------------

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            free = self.max_in_flight - len(self._tasks)
            if free > 0:
                rows = await self.store.claim(free)
            else:
                # Full of rows waiting for their slots (a fan-out of alerts, typically):
                # a reply to the person acting still gets in, beyond the cap, so it waits
                # for one global slot instead of a quarter of the in-flight rows first.
                room = self.max_in_flight + self.urgent_extra - len(self._tasks)
                rows = await self.store.claim(room, max_priority=URGENT) if room > 0 else []
            for row in rows:
                task = asyncio.create_task(self._deliver(row), name=f"outbox-{row.id}")
                self._tasks[task] = row
                task.add_done_callback(self._delivered)
            if len(rows) == free and free > 0:
                continue  # there may be more due: claim again as soon as slots free up
            if free > len(rows) and await self._expand():
                continue  # a fan-out's next chunk became rows: claim them
            if not rows and not self._tasks:
                self.metrics.outbox_depth.set(await self.store.depth())
                self._idle.set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval_s):
                    await self._wake.wait()

    async def _expand(self) -> bool:
        """Few rows due: expand the oldest fan-out's next chunk of alerts into rows,
        if few alert rows wait (storage/outbox_store.py). A failure is logged and
        retried at the next round; replies and notifications go on meanwhile.
        After a round with nothing to expand the next look waits EXPAND_IDLE_S (or
        a wake()): the loop comes by after every few deliveries, and a look is a
        read transaction."""
        now = time.monotonic()
        if now < self._next_expand:
            return False
        try:
            taken = await self.store.expand(self.fanout_chunk)
        except Exception:
            log.exception("expanding an alert fan-out failed")
            taken = 0
        self._next_expand = 0.0 if taken else now + EXPAND_IDLE_S
        return bool(taken)

    def _delivered(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox delivery crashed", exc_info=task.exception())
        # The chat's next row may be claimable now. With many rows in flight, wait until
        # a quarter of the slots are free: one claim query then serves many of them.
        if len(self._tasks) <= self.max_in_flight * 3 // 4:
            self._wake.set()

    async def _shutdown(self, graceful: bool) -> None:
        # Rows still waiting for a slot were never attempted: hand them back at once.
        # Calls already made finish and are recorded (graceful) or are left to their
        # lease (a crash: we cannot know whether Telegram got them).
        waiting = [t for t, row in self._tasks.items() if row.id not in self._calling]
        for task in waiting if graceful else list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.limiter.close()

    # -- leases ----------------------------------------------------------------------

    async def _keep_leases(self) -> None:
        """The heartbeat: renew the lease of every row held, every renew_every_s."""
        while True:
            await asyncio.sleep(self.renew_every_s)
            try:
                await self.renew_leases()
            except Exception:  # the heartbeat must outlive any one failed round
                log.exception("outbox lease renewal failed")

    async def renew_leases(self) -> None:
        """One renewal round for the rows held (the heartbeat calls it)."""
        self._rounds_started += 1
        try:
            async with self._lease_lock:
                held = {
                    row.id: row.not_before
                    for row in self._tasks.values()
                    if row.id is not None
                    and row.not_before is not None
                    and row.id not in self._settling
                }
                try:
                    kept = await self.store.renew(held)
                except Exception:
                    # Retried next beat; a row running short is renewed before its call.
                    log.warning("renewing outbox leases failed", exc_info=True)
                    return
                for task, row in list(self._tasks.items()):
                    if row.id not in held:
                        continue
                    if row.id in kept:
                        row.not_before = kept[row.id]
                    elif not task.done():
                        self._lost(row, task)
        finally:
            self._rounds_done += 1
            async with self._round_done:
                self._round_done.notify_all()

    async def leases_renewed(self) -> None:
        """Return once a renewal round that began after this call has finished."""
        target = self._rounds_started + 1
        async with self._round_done:
            await self._round_done.wait_for(lambda: self._rounds_done >= target)

    def _lost(self, row: OutboxMessage, task: asyncio.Task[None]) -> None:
        if row.id in self._calling:
            log.warning(
                "outbox row %s: lease lost during its call; another sender may send it again",
                row.id,
            )
            return
        log.warning("outbox row %s: lease lost before its call; left to its new holder", row.id)
        row.not_before = None  # nothing of ours to release or record
        task.cancel()

    async def _lease_holds(self, row: OutboxMessage) -> bool:
        """Right before the call: is the row still ours, with time to spare? A lease
        running short (the heartbeat fell behind) is renewed here first.

        With time to spare the answer needs no lock: a lease that has not run out
        cannot have been taken by another sender, and a renewal under way only moves
        it later. Waiting here for the heartbeat's transaction would hold every send
        granted meanwhile and then let them go together — closer than Telegram's
        window allows (a 429)."""
        if row.not_before is not None and row.not_before - self.store.now() >= self._lease_margin:
            return True
        async with self._lease_lock:
            if row.not_before is None:
                return False
            if row.not_before - self.store.now() >= self._lease_margin:
                return True
            try:
                kept = await self.store.renew({row.id: row.not_before})  # type: ignore[dict-item]
            except Exception:
                log.warning("outbox row %s: could not renew its lease", row.id, exc_info=True)
                return False  # not sent by us; claimable again when the lease runs out
            if row.id not in kept:
                log.warning("outbox row %s: lease lost before its call", row.id)
                row.not_before = None
                return False
            row.not_before = kept[row.id]  # type: ignore[index]
            return True

    async def _settle(self, row: OutboxMessage) -> datetime | None:
        """From now on the row's lease is not renewed: its outcome is written with this
        token (the one the database holds, as no renewal is under way)."""
        async with self._lease_lock:
            self._settling.add(row.id)  # type: ignore[arg-type]
            return row.not_before

    async def _give_back(self, row: OutboxMessage) -> None:
        async with self._lease_lock:
            if row.not_before is not None:
                await self.store.release([row.id], row.not_before)  # type: ignore[list-item]

    # -- one row ---------------------------------------------------------------------

    async def _deliver(self, row: OutboxMessage) -> None:
        assert row.id is not None
        try:
            new_message = row.method in NEW_MESSAGE_METHODS
            await self.limiter.acquire(row.chat_id, (row.priority, row.id), new_message=new_message)
            if not await self._lease_holds(row):
                return
            await self.limiter.depart(new_message=new_message)
        except asyncio.CancelledError:
            await asyncio.shield(self._give_back(row))
            raise
        self._calling.add(row.id)
        try:
            error: Exception | None = None
            sent_as: int | None = None
            try:
                sent_as = await self._call(row)
            except Exception as exc:  # judged below, once the lease is settled
                error = exc
            await self.limiter.sent(row.chat_id, new_message=row.method in NEW_MESSAGE_METHODS)
            lease = await asyncio.shield(self._settle(row))
            await self._record_outcome(row, lease, error, sent_as)
        finally:
            self._calling.discard(row.id)
            self._settling.discard(row.id)

    async def _record_outcome(
        self,
        row: OutboxMessage,
        lease: datetime | None,
        error: Exception | None,
        sent_as: int | None = None,
    ) -> None:
        """Write what the call did, with the row's lease token: an outcome never
        overwrites a row another sender has taken over meanwhile."""
        assert row.id is not None
        if error is None:
            self.metrics.messages_sent.inc(method=row.method)
            self._observe_lag(row)
            message_id = sent_as if isinstance(sent_as, int) else None
            if not await self._record(self.store.mark_sent, row.id, lease, message_id):
                log.warning("outbox row %s was sent after its lease was lost", row.id)
        elif isinstance(error, RetryAfter):
            await self._retry_after(row, error, lease)
        elif isinstance(error, Forbidden):
            self.metrics.forbidden.inc()
            self.limiter.forget_chat(row.chat_id)
            dropped = await self._record(
                self.store.mark_unreachable, row.id, row.chat_id, str(error)
            )
            log.info("chat %s blocked the bot; %s queued row(s) dropped", row.chat_id, dropped)
        elif isinstance(error, BadRequest):
            log.warning("outbox row %s (%s) refused: %s", row.id, row.method, error)
            await self._record(self.store.mark_failed, row.id, str(error), lease)
        elif isinstance(error, MALFORMED):
            log.error("outbox row %s has a malformed %s payload: %r", row.id, row.method, error)
            await self._record(
                self.store.mark_failed, row.id, f"malformed payload: {error!r}", lease
            )
        else:
            # Network errors, 5xx, timeouts, or a framework error the adapter does not map:
            # all transient as far as we can tell, so retry with backoff rather than drop.
            delay = backoff_s(row.attempts)
            log.warning("outbox row %s: %r; retrying in %.1fs", row.id, error, delay)
            await self._record(self.store.reschedule, row.id, delay, repr(error), lease)
            self._wake_later(delay)

    def _observe_lag(self, row: OutboxMessage) -> None:
        """Creation (the transaction that caused the row) to Telegram accepting it."""
        if row.created_at is None:
            return
        created = row.created_at
        if created.tzinfo is None:  # SQLite hands back naive UTC
            created = created.replace(tzinfo=UTC)
        lag = (self.store.now() - created).total_seconds()
        self.metrics.outbox_lag.observe(max(lag, 0.0))

    async def _retry_after(
        self, row: OutboxMessage, exc: RetryAfter, lease: datetime | None
    ) -> None:
        self.metrics.rate_limited.inc()
        if self._is_global(row.chat_id, exc):
            log.warning("429 for several chats at once: pausing all sends %.1fs", exc.seconds)
            self.limiter.pause_all(exc.seconds)
        self.limiter.pause_chat(row.chat_id, exc.seconds)
        # Back to pending, due after retry_after: the row stays its chat's head, so nothing
        # of that chat overtakes it, and any sender process may retry it.
        await self._record(
            self.store.reschedule, row.id, exc.seconds, f"429 retry after {exc.seconds}", lease
        )
        self._wake_later(exc.seconds)

    def _is_global(self, chat_id: int, exc: RetryAfter) -> bool:
        """Telegram's 429 rarely says which limit it is about. If the adapter does not
        tell, a 429 for a second chat while another chat's 429 pause still runs means
        the overall limit: then everyone waits, instead of each chat earning its own 429."""
        scope = declared_scope(exc)
        now = time.monotonic()
        previous = self._last_429
        self._last_429 = (chat_id, now + exc.seconds)
        if scope is not None:
            return scope == "global"
        return previous is not None and previous[0] != chat_id and now < previous[1]

    def _wake_later(self, delay: float) -> None:
        asyncio.get_running_loop().call_later(delay, self._wake.set)

    async def _record(self, mark: Any, *args: Any) -> Any:
        """Write an outcome, retrying briefly: losing it would mean sending the row again."""
        for attempt in range(MARK_RETRIES):
            try:
                return await asyncio.shield(mark(*args))
            except Exception:
                if attempt == MARK_RETRIES - 1:
                    raise
                log.exception("recording an outbox outcome failed; retrying")
                await asyncio.sleep(backoff_s(attempt))
        return None

    async def _call(self, row: OutboxMessage) -> int | None:
        """Make the row's call; returns the message a send became."""
        p: dict[str, Any] = row.payload
        if row.method == "send":
            return await self.api.send_message(row.chat_id, p["text"], p.get("buttons"))
        if row.method == "edit":
            await self.api.edit_message(row.chat_id, p["message_id"], p["text"], p.get("buttons"))
        elif row.method == "buttons":
            # An earlier message's buttons (handlers.context: an old wizard screen's),
            # named by its id or by the row that sent it (sent before this one: rows of
            # a chat go in order). A message that never made it has none to take.
            message_id = p.get("message_id")
            if message_id is None and p.get("outbox_id") is not None:
                message_id = await self.store.message_id_of(int(p["outbox_id"]))
            if message_id is not None:
                await self.api.edit_buttons(row.chat_id, int(message_id), p.get("buttons"))
        elif row.method == "document":
            return await self.api.send_document(
                row.chat_id, p["file_id"], p.get("caption"), p.get("buttons")
            )
        elif row.method == "photo":
            return await self.api.send_photo(
                row.chat_id, p["file_id"], p.get("caption"), p.get("buttons")
            )
        elif row.method == "invoice":  # Telegram Payments (bot/payments/telegram_pay.py)
            return await self.api.send_invoice(row.chat_id, p)
        elif row.method == "chart":
            # Drawn now from the row's spec (a worker thread; cached per fingerprint).
            image = await self.charts.png(p["chart"])
            return await self.api.send_image(
                row.chat_id, image, "chart.png", p.get("caption"), p.get("buttons")
            )
        elif row.method == "commands":
            commands = [(str(c), str(d)) for c, d in p.get("commands", [])]
            chat = p.get("chat_id")
            await self.api.set_commands(
                commands, p.get("language"), int(chat) if chat is not None else None
            )
        else:
            raise BadRequest(f"unknown outbox method {row.method!r}")
        return None
