"""Telegram's delivery limits, kept by the outbox sender.

Three limits (all configurable, see `SendLimits`): at most `global_per_second` messages
a second overall, `private_per_second` to one private chat (chat_id > 0) and
`group_per_minute` to one group (chat_id < 0).

Why our own scheduler rather than aiolimiter: the limits must not burst. A token
bucket (aiolimiter's AsyncLimiter) lets a full bucket out at once, and Telegram counts
over short windows, so a burst of 30 in the first 50 ms earns a 429 just as well. Here
successive global slots are spaced 1/rate apart (widened by `margin`, 4 % by default),
on a monotonic clock. And the global slot goes to the most urgent waiter (lowest
priority key), not to whoever asked first, which a plain limiter cannot do: a reply to
the person acting overtakes queued bulk alerts. Clock and sleep are injectable so the
arithmetic is tested without waiting.

Slots are kept on schedule: a slot granted late (the event loop was busy, up to a
second) does not push every later slot back by as much — the next one is due one
spacing after the slot itself, never less than half a spacing after the late grant —
so a busy process still sends at the rate instead of losing its lateness on every
send (at 30/s, 3 ms late a slot cost 9 % of the rate). What keeps Telegram's window is counted on the
grants themselves: never more than `round(rate)` grants within `round(rate)` spacings
(one second, widened by the margin, at 30/s) — and the same is checked again when
each call leaves (`depart`), since a stalled loop between a grant and its call would
let calls granted apart leave together. The margin leaves room for the way to
Telegram: two calls leaving one second apart may arrive a few milliseconds closer.

Telegram's limits are about messages (30 messages a second, one a second to a chat),
and so are the sandbox emulator's. A call that makes a new message in the chat
(`acquire(..., new_message=True)`, the default) waits for the chat's spacing and
starts it, and takes a global slot. An edit of a message already there (its text or
buttons) takes no per-chat spacing — so a reply is not held a second behind the
previous screen's buttons being taken away — and its global slot comes from a lane
of its own at the same rate (paused with everyone on a global 429), so the people's
button presses do not eat into a fan-out's 30 messages a second. (SharedRateLimiter,
across processes, keeps edits in the one shared lane.)
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
import uuid
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
    DEFAULT_MARGIN = 0.04  # global slots 4 % wider than 1/rate: room for the network
    CATCH_UP_S = 1.0  # lateness of a slot waited for that later slots make up

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
        self.spacing_margin = margin
        self.spacing = self.limits.global_interval * (1 + margin)
        # Telegram's window: at most `_window_count` grants within `_window_s`.
        rate = self.limits.global_per_second or 0.0
        self._window_count = max(1, round(rate)) if rate else 0
        self._window_s = self._window_count * self.spacing
        self._granted: deque[float] = deque(maxlen=self._window_count or 1)
        self._departed: deque[float] = deque(maxlen=self._window_count or 1)
        self._next_global = 0.0  # monotonic time of the next free global slot
        self._slot = 0.0  # when that slot was due on the schedule (<= _next_global)
        self._next_chat: dict[int, float] = {}
        self._waiters: list[tuple[PriorityKey, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._dispatcher: asyncio.Task[None] | None = None
        self._edits: RateLimiter | None = None  # edits' lane, made on the first edit
        self._paused_until = 0.0  # the end of the last global pause

    # -- the public side -------------------------------------------------------------

    async def acquire(
        self, chat_id: int, key: PriorityKey = (0,), *, new_message: bool = True
    ) -> None:
        """Wait for a slot; `new_message=False` for an edit (no per-chat spacing)."""
        if not new_message:
            await self._edit_lane()._wait_for_global(key)
            return
        await self._wait_for_chat(chat_id)
        await self._wait_for_global(key)
        self._next_chat[chat_id] = self._clock() + self.limits.chat_interval(chat_id)
        if len(self._next_chat) > self.MAX_TRACKED_CHATS:
            self._forget_idle_chats()

    def _edit_lane(self) -> RateLimiter:
        """Edits' own global slots, at the same rate (and paused with everyone)."""
        if self._edits is None:
            self._edits = RateLimiter(
                self.limits, clock=self._clock, sleep=self._sleep, margin=self.spacing_margin
            )
            self._edits._next_global = self._edits._slot = self._paused_until  # a pause holds
        return self._edits

    async def depart(self, *, new_message: bool = True) -> None:
        """Right before the call leaves: never more than `round(rate)` calls within the
        window, counted when they leave. The slots were spaced when granted, but a
        stalled event loop (a long garbage collection) between a grant and its call
        lets calls granted before and after the stall leave together — closer than
        Telegram's window allows. This gate holds the later ones back."""
        lane = self if new_message else self._edit_lane()
        if not lane._window_count:
            return
        departed = lane._departed
        while len(departed) == lane._window_count:
            wait = departed[0] + lane._window_s - lane._clock()
            if wait <= 1e-9:
                break
            await lane._sleep(wait)
        departed.append(lane._clock())

    def pause_chat(self, chat_id: int, seconds: float) -> None:
        """No send to this chat for `seconds` (Telegram's retry_after for one chat)."""
        until = self._clock() + seconds
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), until)

    def pause_all(self, seconds: float) -> None:
        """No send at all for `seconds` (a global 429)."""
        self._next_global = max(self._next_global, self._clock() + seconds)
        self._slot = max(self._slot, self._next_global)  # a pause is not made up after
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        if self._edits is not None:
            self._edits.pause_all(seconds)

    def chat_ready_in(self, chat_id: int) -> float:
        return max(0.0, self._next_chat.get(chat_id, 0.0) - self._clock())

    def forget_chat(self, chat_id: int) -> None:
        self._next_chat.pop(chat_id, None)

    async def sent(self, chat_id: int, *, new_message: bool = True) -> None:
        """A call to this chat has just ended (the shared limiter spaces from here)."""

    async def close(self) -> None:
        if self._edits is not None:
            await self._edits.close()
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
        waited = False  # this slot was slept for (not one that had passed while idle)
        while self._waiters:
            wait = self._global_wait()
            if wait > 0:
                await self._sleep(wait)
                waited = True
                continue  # re-check: a pause may have moved the slot, a better waiter come
            _, _, future = heapq.heappop(self._waiters)
            if future.done():
                continue
            future.set_result(None)
            self._schedule_next(self._clock(), on_schedule=waited)
            waited = False
        self._dispatcher = None

    def _schedule_next(self, now: float, on_schedule: bool) -> None:
        """A slot was granted at `now`: when the next one is due. A slot waited for and
        granted late (a busy loop, a stall) keeps the schedule — later slots come half
        a spacing apart until it is caught up, the window permitting; a slot that had
        long passed when someone asked (idle) starts afresh."""
        spacing = self.spacing
        self._granted.append(now)
        if on_schedule and 0 <= now - self._slot <= self.CATCH_UP_S:
            self._slot += spacing
            self._next_global = max(self._slot, now + spacing / 2)
        else:
            self._slot = self._next_global = now + spacing


# -- one budget for the bot, shared by every process (docs/scale-out.md) ------------------


class SendBudget(Protocol):
    """The shared spacing behind SharedRateLimiter, on one clock (the store's).

    reserve: hand out the next free moment of `key` and move it `interval` on; return
    the seconds to wait for it. push: nothing for `key` for `seconds` from now. wait:
    seconds until `key` is free."""

    async def reserve(self, key: str, interval: float) -> float: ...

    async def push(self, key: str, seconds: float) -> None: ...

    async def wait(self, key: str) -> float: ...

    async def take(
        self,
        interval: float,
        limit: int,
        hold: float,
        *,
        urgent: bool = True,
        bulk_interval: float = 0.0,
        linger: float = 0.0,
    ) -> tuple[float, str | None]:
        """The next global slot (as `reserve("global", interval)`), but only if fewer
        than `limit` calls count in the second before it. A call counts from its slot
        until one second after its end (`end`), or for `hold` seconds if never ended.
        Priorities across processes: an `urgent` slot (a reply or a notification)
        announces urgent demand until `linger` seconds after it; while any is
        announced, bulk slots (urgent=False) are at least `bulk_interval` apart.
        Returns (seconds to wait for the slot, its token), or (seconds to wait before
        asking again, None) when the second is full or bulk must give way."""
        ...

    async def end(self, token: str) -> None:
        """The call of this slot has ended (or never started): it counts one more second."""
        ...


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
# KEYS: the global slot, the calls of the last second (a sorted set: token -> the
# moment it stops counting), urgent demand (until when), the bulk lane's next slot.
# ARGV: interval, limit, hold, a new token, urgent (1/0), bulk interval, linger.
_REDIS_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nxt)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', slot - 1)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {'', string.format('%.6f', tonumber(first[2]) + 1 - now)}
end
local keep = 'PX'
if ARGV[5] == '1' then
  local u = math.max(tonumber(redis.call('GET', KEYS[3]) or '0'), slot + tonumber(ARGV[7]))
  redis.call('SET', KEYS[3], string.format('%.6f', u), keep, math.ceil((u - now + 60) * 1000))
elseif tonumber(ARGV[6]) > 0 then
  local bulk = tonumber(redis.call('GET', KEYS[4]) or '0')
  if bulk > slot and tonumber(redis.call('GET', KEYS[3]) or '0') > now then
    return {'', string.format('%.6f', bulk - now)}
  end
  local b = slot + tonumber(ARGV[6])
  redis.call('SET', KEYS[4], string.format('%.6f', b), keep, math.ceil((b - now + 60) * 1000))
end
local after = slot + tonumber(ARGV[1])
local hold = tonumber(ARGV[3])
redis.call('SET', KEYS[1], string.format('%.6f', after), 'PX', math.ceil((after - now + 60) * 1000))
redis.call('ZADD', KEYS[2], slot + hold, ARGV[4])
redis.call('PEXPIRE', KEYS[2], math.ceil((slot - now + hold + 60) * 1000))
return {ARGV[4], string.format('%.6f', slot - now)}
"""
_REDIS_END = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local until_ = redis.call('ZSCORE', KEYS[1], ARGV[1])
if until_ and tonumber(until_) > now then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
end
return '0'
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
        self._take = self.redis.register_script(_REDIS_TAKE)
        self._end = self.redis.register_script(_REDIS_END)

    async def reserve(self, key: str, interval: float) -> float:
        return float(await self._reserve(keys=[self.prefix + key], args=[interval]))

    async def push(self, key: str, seconds: float) -> None:
        await self._push(keys=[self.prefix + key], args=[seconds])

    async def wait(self, key: str) -> float:
        return float(await self._wait(keys=[self.prefix + key], args=[]))

    async def take(
        self,
        interval: float,
        limit: int,
        hold: float,
        *,
        urgent: bool = True,
        bulk_interval: float = 0.0,
        linger: float = 0.0,
    ) -> tuple[float, str | None]:
        keys = [self.prefix + k for k in ("global", "window", "urgent", "bulk")]
        args = [interval, limit, hold, uuid.uuid4().hex, int(urgent), bulk_interval, linger]
        token, wait = await self._take(keys=keys, args=args)
        token = token.decode() if isinstance(token, bytes) else str(token)
        return float(wait), token or None

    async def end(self, token: str) -> None:
        await self._end(keys=[self.prefix + "window"], args=[token])

    async def close(self) -> None:
        await self.redis.aclose()


class SharedRateLimiter(RateLimiter):
    """RateLimiter whose spacing is the bot's, not this process's: every global slot
    and every chat's next send come from a SendBudget all processes share.

    Within a process the slot still goes to the most urgent waiter: the dispatcher
    takes ONE shared slot at a time, sleeps until it, and then hands it to the best
    waiter of that moment. So a process never holds more than one future slot, and
    one that dies wastes at most that one (1/rate seconds) of the spacing. Across
    processes, slots are interleaved in the order they are taken. `margin` widens
    every interval a little, so sends stay smooth below Telegram's rate.

    Telegram's one-second window holds by construction, however late sends leave or
    arrive (a busy CPU, a slow connection, a receiver that stalls and then takes a
    pile of requests at once): a slot is only handed out while fewer than the limit
    (30) calls *count* in the second before it, and a call counts from its slot until
    one second after its end (`sent`). Telegram accepts a call somewhere between its
    start (at or after the slot) and its end, so among any 31 calls it accepts within
    one second, the one whose slot came last saw the other 30 counted — and would
    not have been given a slot. A call that never ends (its process died) counts for
    HOLD_S, longer than a call may take (the HTTP client's timeout). A budget that
    cannot be reached stops sends (retried every second) rather than letting them
    burst.

    Priorities across processes: a process whose best waiter is urgent (a reply or a
    notification, priority <= URGENT) says so with the slot it takes, for LINGER_S;
    while that is said anywhere, bulk slots (alerts) of all processes together are
    at most `bulk_share` of the rate — so replies do not wait for other processes'
    fan-outs, and alerts never stop.
    """

    RETRY_S = 1.0
    HOLD_S = 60.0  # a call's longest life: the Bot API client's request timeout
    URGENT = 1  # priorities up to this (replies 0, notifications 1) are urgent; alerts 2
    LINGER_S = 0.25  # urgent demand is announced for this long after each urgent slot

    def __init__(
        self,
        budget: SendBudget,
        limits: SendLimits | None = None,
        *,
        margin: float = 0.15,
        bulk_share: float = 0.25,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(limits, clock=clock, sleep=sleep)
        self.budget = budget
        self.margin = margin
        self.bulk_share = bulk_share  # of the rate, for bulk while urgent sends wait
        rate = self.limits.global_per_second or 0.0
        self.window_limit = max(1, int(rate)) if rate else 0  # calls counted in a second
        self._pushes: set[asyncio.Task[None]] = set()
        self._own_next = 0.0  # this process's next grant, at the earliest
        self._calls: dict[int, str] = {}  # chat -> the token of its call under way

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
        token = await self._take_global(key)
        if token is not None:
            # One call to a chat at a time (the outbox's rule): a token left over from
            # a call that never reported its end (no `sent`) ends now.
            if (old := self._calls.pop(chat_id, None)) is not None:
                self._end_later(old)
            self._calls[chat_id] = token
        if new_message:
            interval = self._chat_interval(chat_id)
            self._next_chat[chat_id] = self._clock() + interval
            if interval > 0:
                await self._shared(self.budget.push(self._chat_key(chat_id), interval))
        if len(self._next_chat) > self.MAX_TRACKED_CHATS:
            self._forget_idle_chats()

    async def sent(self, chat_id: int, *, new_message: bool = True) -> None:
        """The call has ended: it counts one more second in the bot's window, and the
        chat's spacing counts again from here (a call that was slow on its way must
        not let the chat's next send, perhaps from another process on a quick way,
        reach Telegram less than the interval after it)."""
        if (token := self._calls.pop(chat_id, None)) is not None:
            await self._shared(self.budget.end(token))
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
        for token in self._calls.values():
            self._end_later(token)
        self._calls.clear()
        for task in list(self._pushes):
            with contextlib.suppress(Exception):
                await task
        await super().close()

    def _push_later(self, key: str, seconds: float) -> None:
        self._later(self.budget.push(key, seconds))

    def _end_later(self, token: str) -> None:
        self._later(self.budget.end(token))

    def _later(self, operation: Awaitable[Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._shared(operation))
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    async def _shared(self, operation: Awaitable[Any]) -> Any:
        try:
            return await asyncio.shield(operation)
        except Exception:
            log.warning("shared send budget unreachable", exc_info=True)
            return None

    async def _wait_for_chat(self, chat_id: int) -> None:
        while True:
            await super()._wait_for_chat(chat_id)  # this process's own pauses
            try:
                # Shielded: a waiter cancelled mid-call must not cut a store's command
                # in half (a Redis connection would be left out of step).
                wait = await asyncio.shield(self.budget.wait(self._chat_key(chat_id)))
            except Exception:
                log.warning("shared send budget unreachable; retrying", exc_info=True)
                wait = self.RETRY_S
            if wait <= 0:
                return
            await self._sleep(wait)

    async def _take_global(self, key: PriorityKey) -> str | None:
        """Wait for a global slot given to this waiter (most urgent first): its token."""
        if self.limits.global_interval == 0:
            return None
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (key, next(self._order), future))  # type: ignore[arg-type]
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="rate-limiter")
        return await future  # cancelled waiters are skipped by the dispatcher

    async def _dispatch(self) -> None:
        interval = self.limits.global_interval * (1 + self.margin)
        while self._waiters:
            wait = self._next_global - self._clock()
            if wait > 0:  # a 429 seen here: everyone waits, shared or not
                await self._sleep(wait)
                continue
            # Priorities across processes: the class of this process's best waiter.
            urgent = self._waiters[0][0][:1] <= (self.URGENT,)
            bulk_interval = interval / self.bulk_share if 0 < self.bulk_share < 1 else 0.0
            try:
                wait, token = await self.budget.take(
                    interval,
                    self.window_limit,
                    self.HOLD_S,
                    urgent=urgent,
                    bulk_interval=bulk_interval,
                    linger=self.LINGER_S,
                )
            except Exception:
                log.warning("shared send budget unreachable; retrying", exc_info=True)
                await self._sleep(self.RETRY_S)
                continue
            if token is None:  # the second is full, or bulk gives way: ask again
                await self._sleep(min(max(wait, 0.001), interval))
                continue
            if wait > 0:
                await self._sleep(wait)
            # A slow reply (a new connection) may have made this slot late: never grant
            # two of this process's own slots closer than the interval either.
            while (wait := self._own_next - self._clock()) > 0:
                await self._sleep(wait)
            given = False
            while self._waiters and not given:
                _, _, future = heapq.heappop(self._waiters)
                if not future.done():
                    future.set_result(token)  # type: ignore[arg-type]
                    self._own_next = self._clock() + interval
                    given = True
            if not given:  # every waiter gave up: the slot's call never starts
                self._end_later(token)
        self._dispatcher = None
