"""Telegram's delivery limits, kept by the outbox sender.

Three limits (all configurable, see `SendLimits`): at most `global_per_second` messages
a second overall, `private_per_second` to one private chat (chat_id > 0) and
`group_per_minute` to one group (chat_id < 0).

Why our own scheduler rather than aiolimiter: the limits must not burst. A token
bucket (aiolimiter's AsyncLimiter) lets a full bucket out at once, and Telegram counts
over short windows, so a burst of 30 in the first 50 ms earns a 429 just as well. Here
successive sends are simply spaced at least 1/rate apart, on a monotonic clock. And the
global slot goes to the most urgent waiter (lowest priority key), not to whoever asked
first, which a plain limiter cannot do: a reply to the person acting overtakes queued
bulk alerts. Clock and sleep are injectable so the arithmetic is tested without waiting.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]
PriorityKey = tuple[int, ...]


class _LimitSettings(Protocol):
    send_rate: float
    private_chat_rate: float
    group_chat_rate_per_min: float


@dataclass(frozen=True, slots=True)
class SendLimits:
    """Telegram's documented defaults; None switches a limit off."""

    global_per_second: float | None = 30.0
    private_per_second: float | None = 1.0
    group_per_minute: float | None = 20.0

    @classmethod
    def from_settings(cls, settings: _LimitSettings) -> SendLimits:
        """From bot.config.Settings (GIGBOT_SEND_RATE, GIGBOT_PRIVATE_CHAT_RATE, …)."""
        return cls(
            global_per_second=settings.send_rate,
            private_per_second=settings.private_chat_rate,
            group_per_minute=settings.group_chat_rate_per_min,
        )

    @property
    def global_interval(self) -> float:
        return 1.0 / self.global_per_second if self.global_per_second else 0.0

    def chat_interval(self, chat_id: int) -> float:
        """Minimum seconds between two sends to this chat."""
        if chat_id < 0:
            return 60.0 / self.group_per_minute if self.group_per_minute else 0.0
        return 1.0 / self.private_per_second if self.private_per_second else 0.0


class RateLimiter:
    """`await acquire(chat_id, key)` returns when a send to chat_id is allowed now.

    Per chat, the caller waits until `chat_interval` has passed since the chat's last
    grant (or a pause ends); then it queues for the next global slot, handed out every
    `global_interval` seconds to the waiter with the smallest key.
    """

    MAX_TRACKED_CHATS = 50_000  # forget chats whose spacing has long passed, beyond this

    def __init__(
        self,
        limits: SendLimits | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limits = limits or SendLimits()
        self._clock = clock
        self._sleep = sleep
        self._next_global = 0.0  # monotonic time of the next free global slot
        self._next_chat: dict[int, float] = {}
        self._waiters: list[tuple[PriorityKey, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._dispatcher: asyncio.Task[None] | None = None

    # -- the public side -------------------------------------------------------------

    async def acquire(self, chat_id: int, key: PriorityKey = (0,)) -> None:
        await self._wait_for_chat(chat_id)
        await self._wait_for_global(key)
        self._next_chat[chat_id] = self._clock() + self.limits.chat_interval(chat_id)
        if len(self._next_chat) > self.MAX_TRACKED_CHATS:
            self._forget_idle_chats()

    def pause_chat(self, chat_id: int, seconds: float) -> None:
        """No send to this chat for `seconds` (Telegram's retry_after for one chat)."""
        until = self._clock() + seconds
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), until)

    def pause_all(self, seconds: float) -> None:
        """No send at all for `seconds` (a global 429)."""
        self._next_global = max(self._next_global, self._clock() + seconds)

    def chat_ready_in(self, chat_id: int) -> float:
        return max(0.0, self._next_chat.get(chat_id, 0.0) - self._clock())

    def forget_chat(self, chat_id: int) -> None:
        self._next_chat.pop(chat_id, None)

    async def close(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
            self._dispatcher = None

    # -- per chat ------------------------------------------------------------------------

    async def _wait_for_chat(self, chat_id: int) -> None:
        # Re-check after every sleep: a 429 may have paused the chat meanwhile.
        while (wait := self._next_chat.get(chat_id, 0.0) - self._clock()) > 0:
            await self._sleep(wait)

    def _forget_idle_chats(self) -> None:
        now = self._clock()
        for chat_id in [c for c, t in self._next_chat.items() if t <= now]:
            del self._next_chat[chat_id]

    # -- global slots, most urgent waiter first ------------------------------------------

    async def _wait_for_global(self, key: PriorityKey) -> None:
        interval = self.limits.global_interval
        if interval == 0 and self._next_global <= self._clock():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (key, next(self._order), future))
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="rate-limiter")
        await future  # cancelled waiters are skipped by the dispatcher

    async def _dispatch(self) -> None:
        while self._waiters:
            wait = self._next_global - self._clock()
            if wait > 0:
                await self._sleep(wait)
                continue  # re-check: a pause may have moved the slot, a better waiter come
            _, _, future = heapq.heappop(self._waiters)
            if future.done():
                continue
            future.set_result(None)
            self._next_global = self._clock() + self.limits.global_interval
        self._dispatcher = None
