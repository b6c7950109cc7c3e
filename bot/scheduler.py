"""Runs the engine's deadlines (auto-release, reminders, expiry, review reveal, digests).

    scheduler = Scheduler(engine.tick, interval_s=settings.tick_seconds)
    task = scheduler.start()
    ...
    await scheduler.stop()

Every `interval_s`, or at once after `wake()`, it awaits `engine_tick()`. A failing tick
is logged and the loop goes on: one bad deadline must not stop all the others.

Several processes on one database (docs/scale-out.md): each runs a scheduler, but only
the holder of the "scheduler" lease (a row with holder and expiry, storage/coordination.py)
ticks — deadlines, Stripe reconciliation and digests run once, not once per process.
The leader renews the lease every third of its length; the others try to take it as
often, so a leader that dies is replaced one lease length (by default one tick
interval) after its last renewal, and the new leader ticks at once. A graceful stop
gives the lease back. The deadline use cases still lock and re-check their rows, so
even two ticks at once (a leader stalled past its lease) do nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)


class LeaseStore(Protocol):
    async def acquire(self, name: str, holder: str, seconds: float) -> bool: ...

    async def release(self, name: str, holder: str) -> bool: ...


class Leadership:
    """The scheduler's lease: `hold()` takes or renews it, True while this is the leader."""

    def __init__(
        self, leases: LeaseStore, holder: str, seconds: float, name: str = "scheduler"
    ) -> None:
        self.leases = leases
        self.holder = holder
        self.seconds = seconds
        self.name = name
        self.leading = False

    async def hold(self) -> bool:
        try:
            self.leading = await self.leases.acquire(self.name, self.holder, self.seconds)
        except Exception:
            log.warning("scheduler lease unreachable", exc_info=True)
            self.leading = False
        return self.leading

    async def release(self) -> None:
        if self.leading:
            self.leading = False
            await self.leases.release(self.name, self.holder)


class Scheduler:
    def __init__(
        self,
        engine_tick: Callable[[], Awaitable[int]],
        interval_s: float = 30.0,
        *,
        on_tick: Callable[[int], None] | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.engine_tick = engine_tick
        self.interval_s = interval_s
        self.on_tick = on_tick  # e.g. a metric; gets what each successful tick did
        self.leadership = leadership  # None: tick in every process (one process)
        self.skipped = 0  # ticks left to the leader (another process)
        self.ticks = 0  # ticks run, successful or not
        self.failures = 0
        self.done = 0  # things the ticks did, in total
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Tick now instead of at the end of the interval (e.g. after a clock jump)."""
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        if self._task is not None and not self._task.done():
            raise RuntimeError("this Scheduler is already running")
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="scheduler")
        return self._task

    async def stop(self) -> None:
        """Let a tick in progress finish (it is one unit of work), then end the loop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.leadership is not None:
            with contextlib.suppress(Exception):
                await self.leadership.release()  # the next leader need not wait it out

    async def run(self) -> None:
        if self.leadership is not None:
            await self._run_led(self.leadership)
            return
        while not self._stopping:
            self._wake.clear()
            await self.tick_once()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval_s):
                    await self._wake.wait()

    async def _run_led(self, leadership: Leadership) -> None:
        """Renew (or try to take) the lease every third of it; tick while leading."""
        loop = asyncio.get_running_loop()
        beat = min(self.interval_s, leadership.seconds / 3)
        due = loop.time()  # a new leader ticks at once
        while not self._stopping:
            woken = self._wake.is_set()
            self._wake.clear()
            was_leading = leadership.leading
            if await leadership.hold():
                if not was_leading or woken or loop.time() >= due:
                    await self._tick_now()
                    due = loop.time() + self.interval_s
            else:
                self.skipped += 1
            if self._stopping:
                break
            wait = min(beat, due - loop.time()) if leadership.leading else beat
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.01, wait)):
                    await self._wake.wait()

    async def tick_once(self) -> int:
        """One tick (with a lease: only if this process leads); exceptions are logged
        and counted, never raised (0 is returned)."""
        if self.leadership is not None and not await self.leadership.hold():
            self.skipped += 1
            return 0
        return await self._tick_now()

    async def _tick_now(self) -> int:
        self.ticks += 1
        try:
            done = await self.engine_tick()
        except Exception:
            self.failures += 1
            log.exception("scheduler tick failed; trying again in %.0fs", self.interval_s)
            return 0
        self.done += done
        if done:
            log.info("scheduler tick did %d thing(s)", done)
        if self.on_tick is not None:
            self.on_tick(done)
        return done
