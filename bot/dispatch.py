"""Feeding Events to the engine: one user's updates strictly in order, different
users' in parallel, at most `max_concurrent` in flight.

Each user with pending updates has one worker task that drains that user's queue;
a shared semaphore bounds how many engine calls run at once, and a second one
bounds how many updates may wait in memory (so polling slows down instead of
piling up updates when the database is slow).

After the engine commits an update: the button press is answered (Telegram wants
an answer to every callback query), and the outbox sender is woken so the reply
goes out now rather than on its next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.metrics import Metrics
from handlers.events import Event, EventHandler, InlineAnswer, Outcome

log = logging.getLogger(__name__)

AnswerCallback = Callable[[str, str | None, bool], Awaitable[None]]
AnswerInline = Callable[[str, InlineAnswer], Awaitable[None]]
AnswerPreCheckout = Callable[[str, bool, str | None], Awaitable[None]]
# Called once an update is done: its outcome, or the error the engine raised.
AfterHandled = Callable[[Event, Outcome | None, BaseException | None], Awaitable[None]]


class DispatcherClosed(Exception):
    """The dispatcher is shutting down and takes no more updates."""


@dataclass(slots=True)
class _Item:
    event: Event
    after: AfterHandled | None
    arrived: float = field(default_factory=time.monotonic)  # for the latency histogram


class UpdateDispatcher:
    def __init__(
        self,
        handler: EventHandler,
        *,
        answer_callback: AnswerCallback | None = None,
        answer_inline: AnswerInline | None = None,
        answer_pre_checkout: AnswerPreCheckout | None = None,
        wake_sender: Callable[[], None] | None = None,
        max_concurrent: int = 32,
        max_pending: int | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.handler = handler
        self.answer_callback = answer_callback
        self.answer_inline = answer_inline
        self.answer_pre_checkout = answer_pre_checkout
        self.wake_sender = wake_sender
        self.metrics = metrics
        self._running = asyncio.Semaphore(max_concurrent)
        self._room = asyncio.Semaphore(max_pending or max_concurrent * 8)
        self._queues: dict[int, deque[_Item]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._outstanding = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    async def submit(self, event: Event, after: AfterHandled | None = None) -> None:
        """Accept an update; returns once it is queued (waits while too many are pending)."""
        if self._closed:
            raise DispatcherClosed
        await self._room.acquire()
        if self._closed:
            self._room.release()
            raise DispatcherClosed
        self._outstanding += 1
        self._idle.clear()
        key = event.user_id
        queue = self._queues.setdefault(key, deque())
        queue.append(_Item(event, after))
        if key not in self._workers:
            self._workers[key] = asyncio.create_task(self._work(key), name=f"updates-{key}")

    async def _work(self, key: int) -> None:
        queue = self._queues[key]
        try:
            while queue:
                item = queue[0]
                try:
                    async with self._running:
                        await self._process(item)
                finally:
                    queue.popleft()
                    self._done()
        finally:
            # No await between the last emptiness check and this: a concurrent
            # submit either saw this worker (and its item is handled above) or not.
            self._workers.pop(key, None)
            if not queue:
                self._queues.pop(key, None)
            elif not self._closed:  # cancelled with work left: hand it to a new worker
                self._workers[key] = asyncio.create_task(self._work(key), name=f"updates-{key}")

    def _done(self) -> None:
        self._room.release()
        self._outstanding -= 1
        if self._outstanding == 0:
            self._idle.set()

    async def _process(self, item: _Item) -> None:
        event = item.event
        started = time.monotonic()
        outcome: Outcome | None = None
        error: BaseException | None = None
        try:
            outcome = await self.handler.handle(event)
        except Exception as exc:  # one bad update must not stop the others
            error = exc
            log.exception("update %s (%s) failed", event.update_id, event.kind)
        if self.metrics is not None:
            if error is not None:
                result = "error"
            else:
                result = "duplicate" if outcome and outcome.duplicate else "ok"
            self.metrics.updates_handled.inc(kind=event.kind, result=result)
            self.metrics.handling_seconds.observe(time.monotonic() - started)
            self.metrics.update_latency.observe(time.monotonic() - item.arrived)
        if event.callback_query_id and self.answer_callback is not None:
            answer = outcome.callback_answer if outcome else None
            try:
                await self.answer_callback(
                    event.callback_query_id,
                    answer.text if answer else None,
                    answer.show_alert if answer else False,
                )
            except Exception as exc:  # a stale query (> 15 min) cannot be answered
                log.warning("answering callback %s failed: %s", event.callback_query_id, exc)
        await self._answer_queries(event, outcome)
        if self.wake_sender is not None and outcome is not None:
            self.wake_sender()
        if item.after is not None:
            try:
                await item.after(event, outcome, error)
            except Exception:
                log.exception("after-handling step of update %s failed", event.update_id)

    async def _answer_queries(self, event: Event, outcome: Outcome | None) -> None:
        """Inline and pre-checkout queries are answered like button presses: directly,
        once handled (Telegram wants them within seconds; they are no chat message).
        A pre-checkout query the engine failed on is refused, never left to time out."""
        try:
            if event.inline_query_id and self.answer_inline is not None:
                if outcome is not None and outcome.inline_answer is not None:
                    await self.answer_inline(event.inline_query_id, outcome.inline_answer)
            query_id = event.payment.pre_checkout_query_id if event.payment else None
            if query_id and self.answer_pre_checkout is not None:
                answer = outcome.pre_checkout_answer if outcome else None
                if answer is None:
                    await self.answer_pre_checkout(query_id, False, "Please try again.")
                else:
                    await self.answer_pre_checkout(query_id, answer.ok, answer.error_message)
        except Exception as exc:  # an old query cannot be answered any more
            log.warning("answering %s of update %s failed: %s", event.kind, event.update_id, exc)

    async def drain(self) -> None:
        """Wait until every accepted update is finished."""
        await self._idle.wait()

    def stop_accepting(self) -> None:
        """From now on submit() raises DispatcherClosed."""
        self._closed = True

    async def close(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Take no more updates; finish those accepted (for at most `timeout` seconds,
        then cancel the rest: webhook updates stay stored and run after a restart)."""
        self.stop_accepting()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), timeout)
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
