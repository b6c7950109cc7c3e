"""The limiter's arithmetic on a fake monotonic clock: no real waiting."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.ratelimit import RateLimiter, SendLimits


class FakeTime:
    """A monotonic clock that sleeping moves forward (only one sleeper at a time here)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def limiter(time: FakeTime, margin: float = 0.0, **limits: float | None) -> RateLimiter:
    """Without the network margin unless given: the arithmetic at the exact rate."""
    return RateLimiter(SendLimits(**limits), clock=time.clock, sleep=time.sleep, margin=margin)


async def grant_times(rl: RateLimiter, time: FakeTime, chats: list[int]) -> list[float]:
    times = []
    for chat in chats:
        await rl.acquire(chat)
        times.append(time.now)
    return times


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 9) for a, b in itertools.pairwise(times)]


async def test_global_rate_spaces_sends_evenly_without_a_burst() -> None:
    time = FakeTime()
    rl = limiter(time, global_per_second=4, private_per_second=None)
    times = await grant_times(rl, time, [1, 2, 3, 4, 5, 6])
    assert times[0] == 1000.0  # the first goes at once
    assert gaps(times) == [0.25] * 5  # never two within 1/rate: no burst, even when idle before


async def test_private_chat_gets_one_message_a_second() -> None:
    time = FakeTime()
    rl = limiter(time, global_per_second=100, private_per_second=1)
    times = await grant_times(rl, time, [7, 7, 7])
    assert gaps(times) == [1.0, 1.0]


async def test_group_gets_twenty_a_minute() -> None:
    time = FakeTime()
    rl = limiter(time, global_per_second=100)  # defaults: 1/s private, 20/min group
    times = await grant_times(rl, time, [-100, -100, -100])
    assert gaps(times) == [3.0, 3.0]
    assert SendLimits().chat_interval(-5) == 3.0
    assert SendLimits().chat_interval(5) == 1.0


async def test_other_chats_are_not_held_back_by_one_busy_chat() -> None:
    time = FakeTime()
    rl = limiter(time, global_per_second=10, private_per_second=1)
    await rl.acquire(1)
    start = time.now
    await rl.acquire(2)  # a different chat: only the global spacing applies
    assert time.now - start == pytest.approx(0.1)
    assert rl.chat_ready_in(1) == pytest.approx(0.9)


async def test_pauses_from_retry_after() -> None:
    time = FakeTime()
    rl = limiter(time, global_per_second=10, private_per_second=1)
    rl.pause_chat(5, 7)
    await rl.acquire(6)
    assert time.now == 1000.0  # other chats unaffected by one chat's pause
    await rl.acquire(5)
    assert time.now == pytest.approx(1007.0)
    rl.pause_all(3)
    await rl.acquire(8)
    assert time.now == pytest.approx(1010.0)


async def test_global_slots_go_to_the_most_urgent_waiter() -> None:
    time = FakeTime()
    rl = limiter(time, global_per_second=1, private_per_second=None)
    await rl.acquire(1)  # uses the current slot; the next is a second away
    order: list[str] = []

    async def send(name: str, key: tuple[int, ...]) -> None:
        await rl.acquire(key[1] + 10, key)
        order.append(name)

    # Queued bulk alerts first, then a reply to the person acting: the reply goes first.
    tasks = [asyncio.create_task(send(f"bulk{i}", (2, i))) for i in range(3)]
    tasks.append(asyncio.create_task(send("notice", (1, 9))))
    tasks.append(asyncio.create_task(send("reply", (0, 10))))
    await asyncio.gather(*tasks)
    assert order == ["reply", "notice", "bulk0", "bulk1", "bulk2"]
    assert time.sleeps == [1.0] * 5  # one slot a second, no burst after the wait


async def test_a_cancelled_waiter_does_not_take_a_slot() -> None:
    time = FakeTime()
    rl = limiter(time, global_per_second=1, private_per_second=None)
    await rl.acquire(1)
    gone = asyncio.create_task(rl.acquire(2, (0,)))
    await asyncio.sleep(0)
    gone.cancel()
    await rl.acquire(3, (1,))
    assert time.now == pytest.approx(1001.0)  # chat 3 got the slot chat 2 would have had
    await rl.close()


async def test_unlimited_goes_at_once_and_settings_map_onto_limits() -> None:
    time = FakeTime()
    rl = limiter(time, global_per_second=None, private_per_second=None, group_per_minute=None)
    await grant_times(rl, time, [1, 1, -1, -1])
    assert time.sleeps == []

    class Settings:
        send_rate = 200.0
        private_chat_rate = 20.0
        group_chat_rate_per_min = 600.0

    limits = SendLimits.from_settings(Settings())
    assert (limits.global_interval, limits.chat_interval(1), limits.chat_interval(-1)) == (
        0.005,
        0.05,
        0.1,
    )


async def test_the_margin_widens_the_global_spacing() -> None:
    time = FakeTime()
    rl = limiter(time, margin=0.03, global_per_second=30, private_per_second=None)
    times = await grant_times(rl, time, list(range(61)))
    assert set(gaps(times)) == {round(1.03 / 30, 9)}
    assert RateLimiter().spacing == pytest.approx(1.04 / 30)  # the default margin: 4 %


class LateTime(FakeTime):
    """Every sleep overshoots by `late` seconds, as on a busy event loop."""

    def __init__(self, late: float) -> None:
        super().__init__()
        self.late = late

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds + self.late)


async def test_late_slots_keep_to_the_schedule_and_the_window_still_holds() -> None:
    # 3 ms late on every wake-up used to cost 3 ms on every send (30/s became 27.5/s).
    time = LateTime(0.003)
    rl = limiter(time, global_per_second=30, private_per_second=None)
    times = await grant_times(rl, time, list(range(301)))
    rate = 300 / (times[-1] - times[0])
    assert rate > 29.5
    # Never more than 30 grants within any one second, however the lateness falls.
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(times, times[30:], strict=False))
    # And never a burst: no two grants closer than half the spacing.
    assert min(gaps(times)) >= round(0.5 / 30, 9)


async def test_after_idling_the_first_grant_does_not_buy_a_quick_second() -> None:
    time = FakeTime()
    rl = limiter(time, global_per_second=10, private_per_second=None)
    await rl.acquire(1)
    time.now += 60  # idle a minute: the next slot was long past
    first = time.now
    await rl.acquire(2)
    await rl.acquire(3)
    assert time.now - first == pytest.approx(0.1)


async def test_an_edit_takes_no_per_chat_spacing_and_no_message_slot() -> None:
    time = FakeTime()
    rl = limiter(time, global_per_second=10, private_per_second=1)
    await rl.acquire(7)  # a reply: the chat's next message is a second away
    start = time.now
    await rl.acquire(7, new_message=False)  # the old screen's buttons taken away: at once
    assert time.now == start
    await rl.acquire(8)  # the message lane's next slot was not used by the edit
    assert time.now - start == pytest.approx(0.1)
    await rl.acquire(8, new_message=False)  # edits are spaced among themselves
    await rl.acquire(9, new_message=False)
    assert time.now - start == pytest.approx(0.2)
    await rl.acquire(7)  # the next message still keeps the second after the reply
    assert time.now - start == pytest.approx(1.0)
    rl.pause_all(5)  # a global 429 holds the edits too
    paused = time.now
    await rl.acquire(9, new_message=False)
    assert time.now - paused == pytest.approx(5.0)
    await rl.close()


class StallOnce(FakeTime):
    """One sleep overshoots by `stall` seconds (a blocked event loop), the rest are on time."""

    def __init__(self, stall: float, at: int) -> None:
        super().__init__()
        self.stall, self.at = stall, at

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds + (self.stall if len(self.sleeps) == self.at else 0.0))


async def test_a_stall_is_made_up_within_the_window_and_without_a_burst() -> None:
    time = StallOnce(0.3, at=40)
    rl = limiter(time, global_per_second=30, private_per_second=None)
    times = await grant_times(rl, time, list(range(151)))
    # 150 slots of 1/30 s: 5 s, and the 0.3 s stall made up on the way.
    assert times[-1] - times[0] == pytest.approx(5.0, abs=0.05)
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(times, times[30:], strict=False))
    assert min(gaps(times)) >= round(0.5 / 30, 9)  # half a spacing at the closest


async def test_a_pause_from_a_429_is_not_made_up_afterwards() -> None:
    time = FakeTime()
    rl = limiter(time, global_per_second=10, private_per_second=None)
    await grant_times(rl, time, [1, 2])
    rl.pause_all(3)
    times = await grant_times(rl, time, [3, 4, 5, 6])
    assert gaps(times) == [0.1, 0.1, 0.1]  # the full spacing again, no catching up


async def test_calls_leaving_together_after_a_stall_are_held_to_the_window() -> None:
    # Granted apart, then held up together (a stalled loop): the 31st to leave within
    # the second waits until the first of them is a second old.
    time = FakeTime()
    rl = limiter(time, global_per_second=30, private_per_second=None)
    for _ in range(30):
        await rl.depart()
    assert time.now == 1000.0
    await rl.depart()
    assert time.now == pytest.approx(1001.0)
    await rl.depart(new_message=False)  # edits have their own window
    assert time.now == pytest.approx(1001.0)
    await rl.close()
