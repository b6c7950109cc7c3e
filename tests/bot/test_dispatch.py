"""The dispatcher: per-user order, parallel users, the in-flight bound, answers to
button presses, waking the sender and graceful close (asyncio events, no sleeps)."""

from __future__ import annotations

import asyncio

import pytest

from bot.dispatch import DispatcherClosed, UpdateDispatcher
from bot.metrics import Metrics
from handlers.events import CallbackAnswer, Event, Outcome


def text(user_id: int, n: int) -> Event:
    return Event(kind="text", user_id=user_id, chat_id=user_id, update_id=n, text=str(n))


class GatedHandler:
    """An engine stand-in whose handle() blocks until the test opens the update's gate."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.finished: list[int] = []
        self.gates: dict[int, asyncio.Event] = {}
        self.changed = asyncio.Condition()
        self.running = 0
        self.peak = 0

    def gate(self, update_id: int) -> asyncio.Event:
        return self.gates.setdefault(update_id, asyncio.Event())

    async def handle(self, event: Event) -> Outcome:
        assert event.update_id is not None
        self.running += 1
        self.peak = max(self.peak, self.running)
        async with self.changed:
            self.started.append(event.update_id)
            self.changed.notify_all()
        try:
            await self.gate(event.update_id).wait()
            if event.text == "boom":
                raise RuntimeError("engine bug")
            answer = CallbackAnswer("ok") if event.kind == "button" else None
            return Outcome(callback_answer=answer)
        finally:
            self.running -= 1
            async with self.changed:
                self.finished.append(event.update_id)
                self.changed.notify_all()

    async def wait(self, predicate) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), 5)

    async def tick(self) -> int:
        return 0


@pytest.fixture
def handler() -> GatedHandler:
    return GatedHandler()


async def test_one_users_updates_run_in_order_others_in_parallel(handler):
    dispatcher = UpdateDispatcher(handler, max_concurrent=8)
    for n, user in [(1, 10), (2, 10), (3, 20), (4, 10), (5, 20)]:
        await dispatcher.submit(text(user, n))
    # User 10's first and user 20's first run at once; their later ones wait.
    await handler.wait(lambda: sorted(handler.started) == [1, 3])
    handler.gate(3).set()
    await handler.wait(lambda: 5 in handler.started)
    assert 2 not in handler.started  # still behind update 1
    for n in (1, 2, 4, 5):
        handler.gate(n).set()
    await asyncio.wait_for(dispatcher.drain(), 5)
    user10 = [n for n in handler.finished if n in (1, 2, 4)]
    assert user10 == [1, 2, 4]
    assert handler.started.index(3) < handler.started.index(5)


async def test_at_most_max_concurrent_in_flight(handler):
    dispatcher = UpdateDispatcher(handler, max_concurrent=3)
    for user in range(1, 8):
        await dispatcher.submit(text(user, user))
    await handler.wait(lambda: len(handler.started) == 3)
    assert handler.running == 3
    handler.gate(handler.started[0]).set()
    await handler.wait(lambda: len(handler.started) == 4)
    for n in range(1, 8):
        handler.gate(n).set()
    await asyncio.wait_for(dispatcher.drain(), 5)
    assert handler.peak == 3 and len(handler.finished) == 7


async def test_pending_bound_makes_submit_wait(handler):
    dispatcher = UpdateDispatcher(handler, max_concurrent=1, max_pending=2)
    await dispatcher.submit(text(1, 1))
    await dispatcher.submit(text(1, 2))
    third = asyncio.create_task(dispatcher.submit(text(1, 3)))
    await handler.wait(lambda: handler.started == [1])
    assert not third.done()  # backpressure: nothing more is taken in
    handler.gate(1).set()
    await asyncio.wait_for(third, 5)
    handler.gate(2).set()
    handler.gate(3).set()
    await asyncio.wait_for(dispatcher.drain(), 5)
    assert handler.finished == [1, 2, 3]


async def test_button_is_answered_sender_woken_after_hook_runs(handler):
    answers: list[tuple[str, str | None, bool]] = []
    wakes: list[int] = []
    done: list[tuple[int, bool]] = []

    async def answer(query_id, text_, alert):
        answers.append((query_id, text_, alert))

    async def after(event, outcome, error):
        done.append((event.update_id, error is None))

    metrics = Metrics()
    dispatcher = UpdateDispatcher(
        handler, answer_callback=answer, wake_sender=lambda: wakes.append(1), metrics=metrics
    )
    press = Event(
        kind="button",
        user_id=5,
        chat_id=5,
        update_id=1,
        callback_data="x",
        callback_query_id="q1",
        message_id=3,
    )
    crash = Event(
        kind="button", user_id=6, chat_id=6, update_id=2, text="boom", callback_query_id="q2"
    )
    handler.gate(1).set()
    handler.gate(2).set()
    await dispatcher.submit(press, after)
    await dispatcher.submit(crash, after)
    await asyncio.wait_for(dispatcher.drain(), 5)
    # Even a failed update's button press gets an answer (the spinner stops).
    assert sorted(answers) == [("q1", "ok", False), ("q2", None, False)]
    assert wakes == [1]  # only the committed update woke the sender
    assert sorted(done) == [(1, True), (2, False)]
    assert metrics.updates_handled.value(kind="button", result="ok") == 1
    assert metrics.updates_handled.value(kind="button", result="error") == 1
    assert metrics.handling_seconds.count == 2


async def test_close_finishes_in_flight_and_refuses_new(handler):
    dispatcher = UpdateDispatcher(handler)
    await dispatcher.submit(text(1, 1))
    await handler.wait(lambda: handler.started == [1])
    dispatcher.stop_accepting()
    closing = asyncio.create_task(dispatcher.close(timeout=5))
    with pytest.raises(DispatcherClosed):
        await dispatcher.submit(text(2, 2))
    assert not closing.done()
    handler.gate(1).set()
    await asyncio.wait_for(closing, 5)
    assert handler.finished == [1]


async def test_close_gives_up_after_the_timeout(handler):
    dispatcher = UpdateDispatcher(handler)
    await dispatcher.submit(text(1, 1))
    await handler.wait(lambda: handler.started == [1])
    await dispatcher.close(timeout=0)  # the gate never opens: the worker is cancelled
    assert handler.finished == [1] and handler.running == 0
