"""Telegram-like flood limits, off by default in the sandbox.

Only accepted sends count (a refused call does not use up the window), so a well-behaved
sender sees exactly the documented rates: 1 msg/s per private chat, 20/min per group,
30/s overall.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.sandbox.errors import ApiError


@dataclass
class Limits:
    """None disables a limit; Limits.telegram() gives Telegram's documented defaults."""

    per_chat_per_second: float | None = None
    per_group_per_minute: float | None = None
    global_per_second: float | None = None

    @classmethod
    def telegram(cls) -> Limits:
        return cls(per_chat_per_second=1, per_group_per_minute=20, global_per_second=30)


class RateLimiter:
    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._global: deque[float] = deque()
        self._per_chat: dict[int, deque[float]] = {}

    @staticmethod
    def _wait(window: deque[float], allowed: float | None, span: float, now: float) -> float:
        """Seconds until one more event fits into the sliding window (0 = fits now)."""
        if allowed is None:
            return 0.0
        while window and window[0] <= now - span:
            window.popleft()
        if len(window) < allowed:
            return 0.0
        return window[-int(allowed)] + span - now

    def check(self, chat_id: int) -> None:
        """Raise 429 if a send to chat_id now would break a limit; otherwise count it."""
        now = self._clock()
        chat_window = self._per_chat.setdefault(chat_id, deque())
        if chat_id < 0:
            chat_wait = self._wait(chat_window, self.limits.per_group_per_minute, 60.0, now)
        else:
            chat_wait = self._wait(chat_window, self.limits.per_chat_per_second, 1.0, now)
        wait = max(chat_wait, self._wait(self._global, self.limits.global_per_second, 1.0, now))
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        chat_window.append(now)
        self._global.append(now)
