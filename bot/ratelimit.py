"""Telegram's delivery limits, kept by the outbox sender.

Three limits (all configurable, see `SendLimits`): at most `global_per_second` messages
a second overall, `private_per_second` to one private chat (chat_id > 0) and
`group_per_minute` to one group (chat_id < 0).

Why our own scheduler rather than aiolimiter: the limits must not burst. A token
bucket (aiolimiter's AsyncLimiter) lets a full bucket out at once, and Telegram counts
over short windows, so a burst of 30 in the first 50 ms earns a 429 just as well. Here
successive global slots are spaced 1/rate apart (widened by `margin`, 3 % by default),
on a monotonic clock. And the global slot goes to the most urgent waiter (lowest
priority key), not to whoever asked first, which a plain limiter cannot do: a reply to
the person acting overtakes queued bulk alerts. Clock and sleep are injectable so the
arithmetic is tested without waiting.

Slots are kept on schedule: a slot granted a little late (the event loop was busy) does
not push every later slot back by as much — the next one is due one spacing after the
slot itself, never less than half a spacing after the late grant — so a busy process
still sends at the rate instead of losing its lateness on every send (at 30/s, 3 ms
late a slot cost 9 % of the rate). What keeps Telegram's window is counted on the
grants themselves: never more than `round(rate)` grants within `round(rate)` spacings
(one second, widened by the margin, at 30/s). The margin leaves room for the way to
Telegram: two calls granted one second apart may arrive a few milliseconds closer.

The per-chat limit is about messages: a call that makes a new message in the chat
(`acquire(..., new_message=True)`, the default) waits for the chat's spacing and
starts it; an edit of a message already there (its text or buttons) only takes a
global slot. So a reply is not held back a second behind the previous screen's
buttons being taken away.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]
PriorityKey = tuple[int, ...]
log = logging.getLogger(__name__)


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
    DEFAULT_MARGIN = 0.03  # global slots 3 % wider than 1/rate: room for the network

    def __init__(
        self,
        limits: SendLimits | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        margin: float = DEFAULT_MARGIN,
    ) -> None:
        self.limits = limits or SendLimits()
        self._clock = clock
        self._sleep = sleep
        self.spacing = self.limits.global_interval * (1 + margin)
        # Telegram's window: at most `_window_count` grants within `_window_s`.
        rate = self.limits.global_per_second or 0.0
        self._window_count = max(1, round(rate)) if rate else 0
        self._window_s = self._window_count * self.spacing
        self._granted: deque[float] = deque(maxlen=self._window_count or 1)
        self._next_global = 0.0  # monotonic time of the next free global slot
        self._next_chat: dict[int, float] = {}
        self._waiters: list[tuple[PriorityKey, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._dispatcher: asyncio.Task[None] | None = None

    # -- the public side -------------------------------------------------------------

    async def acquire(
        self, chat_id: int, key: PriorityKey = (0,), *, new_message: bool = True
    ) -> None:
        """Wait for a slot; `new_message=False` for an edit (no per-chat spacing)."""
        if new_message:
            await self._wait_for_chat(chat_id)
        await self._wait_for_global(key)
        if new_message:
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

    async def sent(self, chat_id: int, *, new_message: bool = True) -> None:
        """A call to this chat has just ended (the shared limiter spaces from here)."""

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

    def _global_wait(self) -> float:
        """Seconds until the next global slot may be granted (the slot, and the window)."""
        now = self._clock()
        wait = self._next_global - now
        if self._window_count and len(self._granted) == self._window_count:
            wait = max(wait, self._granted[0] + self._window_s - now)
        return wait if wait > 1e-9 else 0.0

    async def _dispatch(self) -> None:
        while self._waiters:
            wait = self._global_wait()
            if wait > 0:
                await self._sleep(wait)
                continue  # re-check: a pause may have moved the slot, a better waiter come
            _, _, future = heapq.heappop(self._waiters)
            if future.done():
                continue
            future.set_result(None)
            self._schedule_next(self._clock())
        self._dispatcher = None

    def _schedule_next(self, now: float) -> None:
        """A slot was granted at `now`: when the next one is due."""
        slot, spacing = self._next_global, self.spacing
        self._granted.append(now)
        if 0 <= now - slot <= spacing:  # a little late: keep to the schedule
            self._next_global = max(slot + spacing, now + spacing / 2)
        else:  # idle before (or paused): start afresh from now
            self._next_global = now + spacing


# -- one budget for the bot, shared by every process (docs/scale-out.md) ------------------


class SendBudget(Protocol):
    """The shared spacing behind SharedRateLimiter, on one clock (the store's).

    reserve: hand out the next free moment of `key` and move it `interval` on; return
    the seconds to wait for it. push: nothing for `key` for `seconds` from now. wait:
    seconds until `key` is free."""

    async def reserve(self, key: str, interval: float) -> float: ...

    async def push(self, key: str, seconds: float) -> None: ...

    async def wait(self, key: str) -> float: ...


# One round trip, atomic on the server, on the server's clock (TIME): every process
# reads and moves the same "next free moment". Keys expire a minute after they matter.
_REDIS_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nxt)
local after = slot + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.6f', after), 'PX', math.ceil((after - now + 60) * 1000))
return string.format('%.6f', slot - now)
"""
_REDIS_PUSH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local after = math.max(nxt, now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%.6f', after), 'PX', math.ceil((after - now + 60) * 1000))
return '0'
"""
_REDIS_WAIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
return string.format('%.6f', math.max(0, nxt - now))
"""


class RedisSendBudget:
    """The shared spacing in Redis (GIGBOT_REDIS_URL): a Lua script per operation."""

    def __init__(self, url: str, prefix: str = "gigbot:send:") -> None:
        from redis import asyncio as aioredis  # optional until GIGBOT_REDIS_URL is set

        self.redis = aioredis.from_url(url)
        self.prefix = prefix
        self._reserve = self.redis.register_script(_REDIS_RESERVE)
        self._push = self.redis.register_script(_REDIS_PUSH)
        self._wait = self.redis.register_script(_REDIS_WAIT)

    async def reserve(self, key: str, interval: float) -> float:
        return float(await self._reserve(keys=[self.prefix + key], args=[interval]))

    async def push(self, key: str, seconds: float) -> None:
        await self._push(keys=[self.prefix + key], args=[seconds])

    async def wait(self, key: str) -> float:
        return float(await self._wait(keys=[self.prefix + key], args=[]))

    async def close(self) -> None:
        await self.redis.aclose()


class SharedRateLimiter(RateLimiter):
    """RateLimiter whose spacing is the bot's, not this process's: every global slot
    and every chat's next send come from a SendBudget all processes share.

    Within a process the slot still goes to the most urgent waiter: the dispatcher
    reserves ONE shared slot at a time, sleeps until it, and then hands it to the
    best waiter of that moment. So a process never holds more than one future slot,
    and one that dies wastes at most that one (1/rate seconds) — its share is back
    at once. Across processes, slots are interleaved in the order they are reserved.
    `margin` widens every interval a little: a send leaves a moment after its slot
    and the network adds jitter, so two processes' sends must not land closer than
    Telegram counts. A budget that cannot be reached stops sends (retried every
    second) rather than letting them burst.
    """

    RETRY_S = 1.0
    LATE_RETRIES = 3

    def __init__(
        self,
        budget: SendBudget,
        limits: SendLimits | None = None,
        *,
        margin: float = 0.15,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(limits, clock=clock, sleep=sleep)
        self.budget = budget
        self.margin = margin
        self._pushes: set[asyncio.Task[None]] = set()
        self._own_next = 0.0  # this process's next grant, at the earliest

    def _chat_interval(self, chat_id: int) -> float:
        return self.limits.chat_interval(chat_id) * (1 + self.margin)

    @staticmethod
    def _chat_key(chat_id: int) -> str:
        return f"chat:{chat_id}"

    async def acquire(
        self, chat_id: int, key: PriorityKey = (0,), *, new_message: bool = True
    ) -> None:
        if new_message:
            await self._wait_for_chat(chat_id)
        await self._wait_for_global(key)
        if new_message:
            interval = self._chat_interval(chat_id)
            self._next_chat[chat_id] = self._clock() + interval
            if interval > 0:
                await self._shared(self.budget.push(self._chat_key(chat_id), interval))
        if len(self._next_chat) > self.MAX_TRACKED_CHATS:
            self._forget_idle_chats()

    async def sent(self, chat_id: int, *, new_message: bool = True) -> None:
        """The chat's spacing counts again from the end of the call: a call that was
        slow on its way must not let the chat's next send (perhaps from another
        process, on a quick way) reach Telegram less than the interval after it."""
        interval = self._chat_interval(chat_id)
        if interval > 0 and new_message:
            self._next_chat[chat_id] = self._clock() + interval
            await self._shared(self.budget.push(self._chat_key(chat_id), interval))

    def pause_chat(self, chat_id: int, seconds: float) -> None:
        super().pause_chat(chat_id, seconds)
        self._push_later(self._chat_key(chat_id), seconds)

    def pause_all(self, seconds: float) -> None:
        super().pause_all(seconds)
        self._push_later("global", seconds)

    async def close(self) -> None:
        for task in list(self._pushes):
            with contextlib.suppress(Exception):
                await task
        await super().close()

    def _push_later(self, key: str, seconds: float) -> None:
        task = asyncio.get_running_loop().create_task(self._shared(self.budget.push(key, seconds)))
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    async def _shared(self, operation: Awaitable[Any]) -> Any:
        try:
            return await operation
        except Exception:
            log.warning("shared send budget unreachable", exc_info=True)
            return None

    async def _wait_for_chat(self, chat_id: int) -> None:
        while True:
            await super()._wait_for_chat(chat_id)  # this process's own pauses
            try:
                wait = await self.budget.wait(self._chat_key(chat_id))
            except Exception:
                log.warning("shared send budget unreachable; retrying", exc_info=True)
                wait = self.RETRY_S
            if wait <= 0:
                return
            await self._sleep(wait)

    async def _wait_for_global(self, key: PriorityKey) -> None:
        if self.limits.global_interval == 0:
            return
        await super()._wait_for_global(key)

    async def _dispatch(self) -> None:
        interval = self.limits.global_interval * (1 + self.margin)
        late = 0  # slots given up in a row for being used late
        while self._waiters:
            wait = self._next_global - self._clock()
            if wait > 0:  # a 429 seen here: everyone waits, shared or not
                await self._sleep(wait)
                continue
            try:
                wait = await self.budget.reserve("global", interval)
            except Exception:
                log.warning("shared send budget unreachable; retrying", exc_info=True)
                await self._sleep(self.RETRY_S)
                continue
            slot = self._clock() + max(wait, 0.0)
            if wait > 0:
                await self._sleep(wait)
            # A slow reply (a new connection) may have made this slot late: never grant
            # two of this process's own slots closer than the interval either.
            while (wait := self._own_next - self._clock()) > 0:
                await self._sleep(wait)
            # A slot used late (a busy CPU, a long own wait) would land among other
            # processes' later slots and crowd Telegram's one-second window: give it up
            # and take a fresh one — a few times at most, so a busy process still sends.
            if self._clock() - slot > interval / 2 and late < self.LATE_RETRIES:
                late += 1
                continue
            late = 0
            while self._waiters:
                _, _, future = heapq.heappop(self._waiters)
                if not future.done():
                    future.set_result(None)
                    self._own_next = self._clock() + interval
                    break
        self._dispatcher = None
