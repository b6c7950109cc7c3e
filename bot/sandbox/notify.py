"""A change broadcast that synchronous code can fire and coroutines can wait on.

asyncio.Condition needs its lock held to notify, which sync state mutations cannot do;
swapping an Event on every change gives the same "wake every waiter, re-check the
predicate" semantics with no polling and no sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Broadcast:
    def __init__(self) -> None:
        self.version = 0
        self._event = asyncio.Event()
        self.listeners: list[Callable[[], None]] = []  # run on every change (persistence)

    def notify(self) -> None:
        self.version += 1
        for listener in self.listeners:
            listener()
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_for(self, predicate: Callable[[], T], timeout: float | None) -> T:  # noqa: ASYNC109
        """Return predicate()'s first truthy value; raise TimeoutError after timeout seconds."""
        async with asyncio.timeout(timeout):
            while True:
                result = predicate()
                if result:
                    return result
                await self._event.wait()
