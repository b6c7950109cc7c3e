"""Runs the engine's deadlines (auto-release, reminders, expiry, review reveal, digests).

    scheduler = Scheduler(engine.tick, interval_s=settings.tick_seconds)
    task = scheduler.start()
    ...
    await scheduler.stop()

Every `interval_s`, or at once after `wake()`, it awaits `engine_tick()`. A failing tick
is logged and the loop goes on: one bad deadline must not stop all the others. Several
processes may each run a scheduler on one database, because a tick is idempotent (each
deadline use case locks and re-checks its rows), so no leader election is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        engine_tick: Callable[[], Awaitable[int]],
        interval_s: float = 30.0,
        *,
        on_tick: Callable[[int], None] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.engine_tick = engine_tick
        self.interval_s = interval_s
        self.on_tick = on_tick  # e.g. a metric; gets what each successful tick did
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

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            await self.tick_once()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval_s):
                    await self._wake.wait()

    async def tick_once(self) -> int:
        """One tick; exceptions are logged and counted, never raised (0 is returned)."""
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
