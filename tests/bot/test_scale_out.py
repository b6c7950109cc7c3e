"""Several Gigbot processes on one PostgreSQL (issue 17, docs/scale-out.md), each
"process" here being its own Database, dispatcher, intake, limiter or scheduler on the
same real database (and real Redis): one send budget for the bot, one person's updates
in order whichever process receives them, one scheduler leader, readiness and draining.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import os
import time
import uuid

import aiohttp
import pytest
import sqlalchemy as sa

from bot.adapters import create_adapter
from bot.dispatch import UpdateDispatcher
from bot.http import build_http_app
from bot.intake import UpdateIntake, user_of
from bot.metrics import Metrics
from bot.ratelimit import RateLimiter, RedisSendBudget, SendLimits, SharedRateLimiter
from bot.scheduler import Leadership, Scheduler
from storage.coordination import Leases, SqlSendBudget
from storage.database import Database
from storage.tables import leases
from tests.bot.test_webhook import RecordingHandler, update
from tests.conftest import NO_POSTGRES, POSTGRES_URL, admin_execute, postgres_database
from tests.e2e.harness import serve

REDIS_URL = os.environ.get("GIGBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def pg(request, clock):
    """A fresh migrated PostgreSQL database (skipped with a reason without one)."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    database, name = await postgres_database(request.getfixturevalue("postgres_template"), clock)
    try:
        yield database
    finally:
        await database.dispose()
        await admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def other_process(pg, clock):
    """A second process's own connection pool on the same database."""
    database = Database(pg.url, now=clock.now)
    yield database
    await database.dispose()


async def redis_budget() -> RedisSendBudget:
    try:
        budget = RedisSendBudget(REDIS_URL, prefix=f"gigbot-test:{uuid.uuid4().hex}:")
        await budget.redis.ping()
    except Exception as error:
        pytest.skip(f"Redis not reachable at {REDIS_URL} (GIGBOT_TEST_REDIS_URL): {error}")
    return budget


@pytest.fixture(params=["postgres", "redis"])
async def budgets(request, pg, other_process):
    """The same shared budget as two processes see it: through PostgreSQL or Redis."""
    if request.param == "postgres":
        yield SqlSendBudget(pg), SqlSendBudget(other_process)
        return
    first = await redis_budget()
    second = RedisSendBudget(REDIS_URL, prefix=first.prefix)
    yield first, second
    await first.close()
    await second.close()


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


# -- 1. one send budget ------------------------------------------------------------------


RATE = 40.0
LIMITS = SendLimits(global_per_second=RATE, private_per_second=4.0, group_per_minute=None)


async def send_all(limiter: RateLimiter, chats: range, times: list[float]) -> None:
    async def one(chat: int) -> None:
        await limiter.acquire(chat, (1, chat))
        times.append(time.monotonic())
        await limiter.sent(chat)  # the call ended (as the sender reports it)

    await asyncio.gather(*(one(chat) for chat in chats))


async def test_two_processes_share_one_global_rate(budgets):
    """Two senders at the full rate each: together they stay at the bot's rate (before,
    each kept 40/s for itself, and 80 sends went out in about a second)."""
    a = SharedRateLimiter(budgets[0], LIMITS)
    b = SharedRateLimiter(budgets[1], LIMITS)
    times: list[float] = []
    started = time.monotonic()
    await asyncio.gather(send_all(a, range(1, 41), times), send_all(b, range(1001, 1041), times))
    elapsed = time.monotonic() - started
    await a.close()
    await b.close()
    assert len(times) == 80
    assert elapsed >= 79 / RATE * 0.95  # spaced as one sender: about two seconds
    assert most_in_one_second(times) <= RATE + 1


async def test_a_chats_spacing_is_shared_between_processes(budgets):
    """One chat's next send waits for the chat's spacing whichever process sends it."""
    a = SharedRateLimiter(budgets[0], LIMITS)
    b = SharedRateLimiter(budgets[1], LIMITS)
    started = time.monotonic()
    for limiter in (a, b, a):
        await limiter.acquire(77)
        await limiter.sent(77)
    assert time.monotonic() - started >= 2 / 4.0 * 0.95
    await a.close()
    await b.close()


async def test_a_global_pause_reaches_the_other_process(budgets):
    """A global 429 seen by one process pauses the other's sends too."""
    a = SharedRateLimiter(budgets[0], LIMITS)
    b = SharedRateLimiter(budgets[1], LIMITS)
    started = time.monotonic()  # the pause runs from a moment after this
    a.pause_all(0.6)
    await a.close()  # the shared pause is written before close returns
    await b.acquire(5)
    await b.sent(5)
    assert time.monotonic() - started >= 0.55
    await b.close()


async def test_a_dead_process_holds_at_most_one_slot(budgets):
    """A process with many sends waiting is killed: the budget is at most one interval
    ahead, so the others go on at once (its share is back)."""
    a = SharedRateLimiter(budgets[0], LIMITS)
    waiting = [asyncio.create_task(a.acquire(chat)) for chat in range(1, 50)]
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    await a.close()
    # The slot in use and at most the one it had taken next (its waiter gone meanwhile).
    assert await budgets[1].wait("global") <= 2 * 1.15 / RATE + 0.01


async def test_a_full_second_is_full_for_every_process(budgets):
    """`limit` calls under way fill the bot's second: another process gets no slot
    (it is told to ask again) until one of them drops out."""
    first, second = budgets
    tokens = [(await first.take(0.001, 5, 60.0))[1] for _ in range(5)]
    assert all(tokens) and len(set(tokens)) == 5
    wait, token = await second.take(0.001, 5, 60.0)
    assert token is None and wait > 0
    await first.end(tokens[0])  # ended: it still counts for a second after its end
    assert (await second.take(0.001, 5, 60.0))[1] is None


# -- the one-second window by construction, on a virtual clock ----------------------------


class VirtualTime:
    """A clock that only moves when every task here waits: `run` lets all ready
    tasks go until each sleeps, then wakes the earliest sleeper at its moment. No
    wall clock, no real sleeping (nothing here does I/O)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), future))
        await future

    async def until(self, moment: float) -> None:
        await self.sleep(moment - self.now)

    async def run(self, *coroutines):  # type: ignore[no-untyped-def]
        tasks = [asyncio.ensure_future(c) for c in coroutines]
        while not all(task.done() for task in tasks):
            for _ in range(50):  # every ready task runs until it sleeps (a few hops each)
                await asyncio.sleep(0)
            if all(task.done() for task in tasks):
                break
            assert self._sleepers, "every task waits for something that never comes"
            moment, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, moment)
            if not future.done():
                future.set_result(None)
        return await asyncio.gather(*tasks)


class MemoryBudget:
    """The SendBudget contract as the Redis scripts keep it, on the virtual clock."""

    def __init__(self, clock) -> None:  # type: ignore[no-untyped-def]
        self.clock = clock
        self.next: dict[str, float] = {}
        self.counting: dict[str, float] = {}  # token -> the moment it stops counting
        self._ids = itertools.count()

    async def reserve(self, key: str, interval: float) -> float:
        slot = max(self.clock(), self.next.get(key, 0.0))
        self.next[key] = slot + interval
        return slot - self.clock()

    async def push(self, key: str, seconds: float) -> None:
        self.next[key] = max(self.next.get(key, 0.0), self.clock() + seconds)

    async def wait(self, key: str) -> float:
        return max(0.0, self.next.get(key, 0.0) - self.clock())

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
        now = self.clock()
        slot = max(now, self.next.get("global", 0.0))
        self.counting = {t: u for t, u in self.counting.items() if u > slot - 1}
        if len(self.counting) >= limit:
            return min(self.counting.values()) + 1 - now, None
        if urgent:
            self.next["urgent"] = max(self.next.get("urgent", 0.0), slot + linger)
        elif bulk_interval > 0:
            bulk = self.next.get("bulk", 0.0)
            if bulk > slot and self.next.get("urgent", 0.0) > now:
                return bulk - now, None
            self.next["bulk"] = slot + bulk_interval
        self.next["global"] = slot + interval
        token = str(next(self._ids))
        self.counting[token] = slot + hold
        return slot - now, token

    async def end(self, token: str) -> None:
        if self.counting.get(token, 0.0) > self.clock():
            self.counting[token] = self.clock()


def most_in_a_second(times: list[float]) -> int:
    """The most moments within any one second (t - 1, t], as the emulator counts."""
    times = sorted(times)
    return max(sum(1 for u in times if t - 1.0 < u <= t) for t in times)


async def test_a_stalled_receiver_never_sees_more_than_30_in_a_second():
    """The flake of a loaded CI run (two 429s with 30 sends in one second): slots were
    spaced, but Telegram counts what it accepts, and a stalled receiver (or a busy
    CPU) takes a pile of late calls at once. Two processes send 120 messages; the
    receiver stalls for a second and then accepts everything that waited at the same
    instant. Before, the ~26 stalled calls and the next second's ~26 landed within one
    second (52). Now a call counts until a second after its end, so the second after
    the stall is given only what is left of 30 — on every process."""
    vt = VirtualTime()
    budget = MemoryBudget(vt.clock)
    limits = SendLimits(global_per_second=30, private_per_second=None, group_per_minute=None)
    processes = [
        SharedRateLimiter(budget, limits, clock=vt.clock, sleep=vt.sleep) for _ in range(2)
    ]
    stall = (1001.0, 1002.0)  # the receiver takes nothing in between
    accepted: list[float] = []

    async def call(limiter: SharedRateLimiter, chat: int) -> None:
        await limiter.acquire(chat, (1, chat))
        if stall[0] <= vt.now < stall[1]:
            await vt.until(stall[1])  # the call waits on the stalled receiver
        accepted.append(vt.now)
        await vt.sleep(0.005)  # the answer on its way back
        await limiter.sent(chat)

    await vt.run(*(call(processes[chat % 2], chat) for chat in range(1, 121)))
    bunched = sum(1 for t in accepted if t == stall[1])
    assert bunched >= 20, "the stall piled calls up (the case that earned 429s)"
    assert len(accepted) == 120
    assert most_in_a_second(accepted) <= 30
    # And the spacing still holds the rate without bursts outside the stall.
    assert max(accepted) - min(accepted) >= 120 / 30


async def test_a_slot_nobody_takes_and_a_dead_processs_calls_drop_out():
    """A slot whose waiter gave up counts one second only; a process that died with
    calls under way holds their places for HOLD_S, then they count no more."""
    vt = VirtualTime()
    budget = MemoryBudget(vt.clock)
    limits = SendLimits(global_per_second=30, private_per_second=None, group_per_minute=None)
    dead = SharedRateLimiter(budget, limits, clock=vt.clock, sleep=vt.sleep)
    await vt.run(*(dead.acquire(chat) for chat in range(1, 31)))  # 30 calls, never ended
    alive = SharedRateLimiter(budget, limits, clock=vt.clock, sleep=vt.sleep)
    started = vt.now
    await vt.run(alive.acquire(99))
    assert vt.now - started >= SharedRateLimiter.HOLD_S - 2  # only once they dropped out


async def test_replies_anywhere_come_before_alerts_everywhere():
    """Priorities across processes: three processes fan out alerts (priority 2) while
    a fourth gets ten replies to people acting (priority 0). Each process serves its
    own most urgent waiter first, but across processes slots went in turn, so the
    replies got a quarter of the bot's rate. Now a process with urgent sends waiting
    announces it in the shared budget, and while it is announced all bulk sends
    together take at most a quarter of the slots: the replies get the rest."""

    async def replies_done(bulk_share: float) -> tuple[float, int]:
        vt = VirtualTime()
        budget = MemoryBudget(vt.clock)
        limits = SendLimits(global_per_second=30, private_per_second=None, group_per_minute=None)

        def process() -> SharedRateLimiter:
            return SharedRateLimiter(
                budget, limits, bulk_share=bulk_share, clock=vt.clock, sleep=vt.sleep
            )

        fanning, replying = [process() for _ in range(3)], process()
        finished: list[float] = []
        alerts_meanwhile: list[float] = []

        async def send(limiter: SharedRateLimiter, chat: int, priority: int) -> None:
            await limiter.acquire(chat, (priority, chat))
            (finished if priority == 0 else alerts_meanwhile).append(vt.now)
            await vt.sleep(0.005)
            await limiter.sent(chat)

        async def replies() -> None:
            await vt.until(1001.0)  # the alerts are under way by then
            await asyncio.gather(*(send(replying, 500 + i, 0) for i in range(10)))

        alerts = [send(fanning[i % 3], 1000 + i, 2) for i in range(150)]
        await vt.run(replies(), *alerts)
        last = max(finished) - 1001.0
        during = sum(1 for t in alerts_meanwhile if 1001.0 <= t <= 1001.0 + last)
        return last, during

    shared_alone, _ = await replies_done(bulk_share=1.0)  # as before: slots in turn
    with_priority, alerts_during = await replies_done(bulk_share=0.25)
    assert shared_alone > 1.2  # a quarter of ~26/s: ten replies take 40 slots
    assert with_priority < 0.7  # three quarters or more: ten replies in ~13 slots
    assert alerts_during >= 1  # alerts go on meanwhile, at a quarter of the rate


async def test_bulk_gives_way_while_urgent_demand_is_announced(budgets):
    """The stores keep the announcement: after an urgent slot (lingering 60 s here),
    a second bulk slot within the bulk interval is refused on either process."""
    first, second = budgets
    assert (await first.take(0.001, 30, 60.0, urgent=True, linger=60.0))[1]
    assert (await second.take(0.001, 30, 60.0, urgent=False, bulk_interval=60.0))[1]
    wait, token = await first.take(0.001, 30, 60.0, urgent=False, bulk_interval=60.0)
    assert token is None and wait > 50
    assert (await second.take(0.001, 30, 60.0, urgent=True, linger=60.0))[1]  # never urgent


async def test_the_app_shares_the_budget_on_postgres_and_redis(pg):
    """Wiring: PostgreSQL → the budget in PostgreSQL; GIGBOT_REDIS_URL → in Redis."""
    from bot.app import Runtime
    from bot.config import Settings

    runtime = Runtime(Settings(_env_file=None, database_url=pg.url), sandbox=True)
    runtime.database = pg
    limiter = runtime._rate_limiter()
    assert isinstance(limiter, SharedRateLimiter)
    assert isinstance(limiter.budget, SqlSendBudget)
    await redis_budget()  # skips without Redis
    runtime.settings = Settings(_env_file=None, database_url=pg.url, redis_url=REDIS_URL)
    limiter = runtime._rate_limiter()
    assert isinstance(limiter.budget, RedisSendBudget)  # type: ignore[attr-defined]
    await limiter.budget.close()  # type: ignore[attr-defined]


# -- 2. one person's updates in order, whichever process receives them ------------------


def process(db: Database, handler, holder: str) -> tuple[UpdateIntake, UpdateDispatcher]:
    dispatcher = UpdateDispatcher(handler, max_concurrent=4)
    parse = create_adapter("aiogram", "123:abc", "http://127.0.0.1:9").parse
    intake = UpdateIntake(db, parse, dispatcher, shared=True, holder=holder, sweep_s=3600)
    return intake, dispatcher


class Journal(RecordingHandler):
    """RecordingHandler that also notes which user each update was of, in order."""

    def __init__(self, db, journal: list[tuple[str, int]], name: str) -> None:
        super().__init__(db)
        self.journal = journal
        self.name = name

    async def handle(self, event):
        outcome = await super().handle(event)
        if not outcome.duplicate:
            self.journal.append((self.name, event.update_id))
        return outcome


async def test_one_persons_updates_stay_in_order_across_processes(pg, other_process):
    """Process A holds Clara's first update; her second arrives at process B, which
    leaves it to A (before: B handled it at once, ahead of the first). Another
    person's update at B goes on meanwhile."""
    journal: list[tuple[str, int]] = []
    handler_a = Journal(pg, journal, "A")
    handler_b = Journal(other_process, journal, "B")
    handler_a.gate = asyncio.Event()
    intake_a, _ = process(pg, handler_a, "A")
    intake_b, _ = process(other_process, handler_b, "B")

    assert await intake_a.receive(update(101, user_id=7))
    await handler_a.entered.wait()  # A is in the middle of update 101
    assert await intake_b.receive(update(102, user_id=7))
    assert await intake_b.receive(update(103, user_id=8))
    await intake_b.settled()
    assert journal == [("B", 103)]  # Clara's 102 waits for her 101
    handler_a.gate.set()
    await intake_a.settled()
    await intake_b.settled()
    assert journal == [("B", 103), ("A", 101), ("A", 102)]
    async with pg.uow() as uow:
        assert await uow.stored_updates.find(order_by="update_id") == []
        assert (await uow.session.execute(sa.select(leases))).all() == []


async def test_a_dead_holders_person_is_taken_over_once_the_claim_expires(pg, other_process, clock):
    journal: list[tuple[str, int]] = []
    intake_b, _ = process(other_process, Journal(other_process, journal, "B"), "B")
    assert await Leases(pg).acquire("user:9", "dead", 10)  # its holder was killed
    assert await intake_b.receive(update(201, user_id=9))
    assert await intake_b.receive(update(202, user_id=9))
    await intake_b.settled()
    assert journal == []
    clock.advance(seconds=11)
    await intake_b.sweep()
    await intake_b.settled()
    assert journal == [("B", 201), ("B", 202)]


async def test_draining_finishes_the_update_held_and_gives_the_claims_back(pg, other_process):
    """SIGTERM: the person's current update finishes, the next stays stored, the claim
    is released, and the other process takes the rest at once."""
    journal: list[tuple[str, int]] = []
    handler_a = Journal(pg, journal, "A")
    handler_a.gate = asyncio.Event()
    intake_a, _ = process(pg, handler_a, "A")
    intake_b, _ = process(other_process, Journal(other_process, journal, "B"), "B")
    await intake_a.receive(update(301, user_id=5))
    await handler_a.entered.wait()
    await intake_a.store(302, update(302, user_id=5))
    closing = asyncio.create_task(intake_a.close(timeout=30))
    handler_a.gate.set()
    await closing
    assert journal == [("A", 301)]
    assert await Leases(pg).holder("user:5") is None
    await intake_b.sweep()
    await intake_b.settled()
    assert journal == [("A", 301), ("B", 302)]


def test_user_of_reads_who_an_update_is_from():
    assert user_of(update(1, user_id=42)) == 42
    press = {"update_id": 2, "callback_query": {"id": "q", "from": {"id": 43}, "data": "x"}}
    assert user_of(press) == 43
    assert user_of({"update_id": 3, "poll": {"id": "p"}}) == 0


# -- 3. one scheduler leader --------------------------------------------------------------


async def test_only_the_leader_ticks_and_a_dead_leader_is_replaced(pg, other_process, clock):
    ticked: list[str] = []

    def ticker(name: str):
        async def tick() -> int:
            ticked.append(name)
            return 0

        return tick

    a = Scheduler(ticker("A"), 30, leadership=Leadership(Leases(pg), "A", 30))
    b = Scheduler(ticker("B"), 30, leadership=Leadership(Leases(other_process), "B", 30))
    for _ in range(3):
        await a.tick_once()
        await b.tick_once()
    assert ticked == ["A", "A", "A"]  # before: each process ticked, notices went twice
    clock.advance(seconds=31)  # A died: its lease ran out
    await b.tick_once()
    await a.tick_once()
    assert ticked[3:] == ["B"]
    await b.stop()  # a graceful stop gives the lease back at once
    await a.tick_once()
    assert ticked[4:] == ["A"]


async def test_the_led_loop_ticks_once_between_two_schedulers(pg, other_process):
    ticks: list[str] = []
    done = asyncio.Event()

    def ticker(name: str):
        async def tick() -> int:
            ticks.append(name)
            done.set()
            return 0

        return tick

    a = Scheduler(ticker("A"), 3600, leadership=Leadership(Leases(pg), "A", 3600))
    b = Scheduler(ticker("B"), 3600, leadership=Leadership(Leases(other_process), "B", 3600))
    a.start()
    await done.wait()
    b.start()
    await b.tick_once()  # a follower's tick does nothing
    await b.stop()  # before A gives the lease back: B's loop only ever follows
    await a.stop()
    assert ticks == ["A"]


# -- 4. readiness ---------------------------------------------------------------------


async def test_healthz_is_ready_only_when_migrations_are_current_and_not_draining(pg):
    draining = False
    app = build_http_app(database=pg, metrics=Metrics(), draining=lambda: draining)
    async with serve(app) as base, aiohttp.ClientSession() as session:
        async with session.get(base + "/healthz") as response:
            assert response.status == 200
        async with pg.engine.begin() as conn:
            await conn.execute(sa.text("UPDATE alembic_version SET version_num = '0009'"))
        async with session.get(base + "/healthz") as response:
            assert response.status == 503
            assert "0009" in (await response.json())["migrations"]
        async with pg.engine.begin() as conn:
            await conn.execute(sa.text("DROP TABLE alembic_version"))
        async with session.get(base + "/healthz") as response:
            assert response.status == 503
        draining = True
        async with session.get(base + "/healthz") as response:
            assert response.status == 503
            assert (await response.json())["status"] == "draining"


async def test_a_stopping_runtime_gives_back_its_leases(pg):
    """A whole process on PostgreSQL: it leads the scheduler while running; its stop
    (SIGTERM) gives the lease back, so the next leader need not wait it out."""
    from bot.app import Runtime
    from bot.config import Settings

    settings = Settings(_env_file=None, database_url=pg.url, http_port=0, tick_seconds=3600)
    runtime = Runtime(settings, sandbox=True, announce=lambda _: None, shutdown_timeout_s=5)
    await runtime.start()
    try:
        assert runtime.scheduler is not None and runtime.scheduler.leadership is not None
        assert isinstance(runtime.sender.limiter, SharedRateLimiter)  # type: ignore[union-attr]
        await runtime.scheduler.tick_once()
        assert await Leases(pg).holder("scheduler") is not None
        assert (await Leases(pg).holder("scheduler"))[0] == runtime.holder  # type: ignore[index]
    finally:
        await runtime.stop()
    async with pg.engine.connect() as conn:
        assert (await conn.execute(sa.select(leases))).all() == []
