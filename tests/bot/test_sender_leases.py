"""The outbox's short, renewed leases (storage/outbox_store.py, bot/sender.py) against the
Bot API emulator on loopback, on SQLite and (with GIGBOT_TEST_POSTGRES_URL) PostgreSQL.

Time on the database clock is the tests' ManualClock, moved by hand: no test sleeps to
let a lease run out. A "slow Telegram" holds the responses to chosen calls (the
emulator has recorded them, so Telegram has the message) until the test lets them go.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.adapters.aiogram_api import AiogramApi
from bot.ratelimit import RateLimiter, SendLimits
from bot.sandbox import Emulator
from bot.sender import OutboxSender
from bot.telegram_port import TelegramApi
from storage.database import Database
from storage.outbox_store import DEFAULT_LEASE_S
from tests.bot.test_sender import (
    TOKEN,
    accepted,
    enqueue,
    open_chats,
    row_of,
    statuses,
    texts_by_id,
)
from tests.clock import ManualClock

ROOT = Path(__file__).resolve().parents[2]
UNLIMITED = SendLimits(global_per_second=None, private_per_second=None)


class SlowTelegram:
    """Lets the first `let_through` sendMessage calls answer at once, then holds the
    answers to the next ones until `answer()`; `held_enough` is set once `hold` are held."""

    def __init__(self, let_through: int = 0, hold: int = 1) -> None:
        self.let_through = let_through
        self.hold = hold
        self.held = 0
        self.held_enough = asyncio.Event()
        self.released = asyncio.Event()

    def answer(self) -> None:
        self.released.set()

    @web.middleware
    async def middleware(self, request: web.Request, handler):  # type: ignore[no-untyped-def]
        response = await handler(request)  # the emulator has the message now
        if request.match_info.get("method") != "sendMessage" or self.released.is_set():
            return response
        if self.let_through > 0:
            self.let_through -= 1
            return response
        self.held += 1
        if self.held >= self.hold:
            self.held_enough.set()
        await self.released.wait()
        return response


@pytest.fixture
def emu() -> Emulator:
    return Emulator(TOKEN)


@pytest.fixture
def slow(request: pytest.FixtureRequest) -> SlowTelegram:
    """SlowTelegram(**param) with indirect parametrisation, else holds the first call."""
    return SlowTelegram(**getattr(request, "param", {}))


@pytest.fixture
async def api_base(emu: Emulator, slow: SlowTelegram) -> AsyncIterator[str]:
    app = web.Application(middlewares=[slow.middleware])
    emu.install(app, page=False)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    slow.answer()
    await runner.cleanup()


@pytest.fixture
async def api(api_base: str) -> AsyncIterator[TelegramApi]:
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
    yield AiogramApi(bot)
    await bot.session.close()


@pytest.fixture
async def second_db(any_db: Database, clock: ManualClock) -> AsyncIterator[Database]:
    """Another engine on the same database: another process's view."""
    other = Database(any_db.url, now=clock.now)
    yield other
    await other.dispose()


def delivered(emu: Emulator, ids_by_text: dict[str, int]) -> Counter[int]:
    return Counter(row_of(c, ids_by_text) for c in accepted(emu))


async def by_text(db: Database) -> dict[str, int]:
    return {t: i for i, t in (await texts_by_id(db)).items()}


# -- a sender killed with SIGKILL mid-batch ---------------------------------------------


@pytest.mark.parametrize("slow", [{"let_through": 8, "hold": 4}], indirect=True)
async def test_kill_9_mid_batch_repeats_only_the_calls_in_flight_and_costs_one_short_lease(
    any_db: Database,
    second_db: Database,
    clock: ManualClock,
    emu: Emulator,
    api_base: str,
    api: TelegramApi,
    slow: SlowTelegram,
) -> None:
    assert DEFAULT_LEASE_S <= 10  # "a few seconds", not the 120 s it was
    chats = [11, 12, 13, 14]
    open_chats(emu, chats)
    ids = await enqueue(any_db, [(chats[i % 4], 1) for i in range(40)])

    # Another process delivers with 4 calls in flight; the first 8 calls are answered,
    # then Telegram gets the next 4 messages and is slow to answer.
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bot.outbox_child",
        any_db.url,
        api_base,
        TOKEN,
        clock.now().isoformat(),
        "4",
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        await asyncio.wait_for(slow.held_enough.wait(), 60)
    finally:
        child.kill()  # SIGKILL: no cleanup of any kind
        await child.wait()
    slow.answer()  # to a dead process

    ids_by_text = await by_text(any_db)
    at_kill = await statuses(any_db)
    in_flight = {i for i in ids if at_kill[i] == "sending"}
    got_before = delivered(emu, ids_by_text)
    assert len(in_flight) == 4 and set(in_flight) <= set(got_before)

    # Until the dead process's short lease runs out, its rows (and the rows queued
    # behind them in their chats) wait: nobody sends them.
    second = OutboxSender(second_db, api, RateLimiter(UNLIMITED))
    clock.advance(seconds=DEFAULT_LEASE_S - 0.5)
    assert await second.flush(10)
    assert delivered(emu, ids_by_text) == got_before

    # Then another sender takes over at once.
    clock.advance(seconds=1)
    assert await second.flush(20)

    counts = delivered(emu, ids_by_text)
    assert sorted(counts) == sorted(ids), "every row delivered"
    twice = {i for i, n in counts.items() if n == 2}
    assert set(counts.values()) <= {1, 2}
    assert twice == in_flight, "only the calls in flight when the process died are repeated"
    assert set((await statuses(any_db)).values()) == {"sent"}
    per_chat: dict[int, list[int]] = {}
    for call in accepted(emu):
        per_chat.setdefault(int(call.chat_id), []).append(row_of(call, ids_by_text))  # type: ignore[arg-type]
    for rows in per_chat.values():
        firsts = list(dict.fromkeys(rows))
        assert firsts == sorted(firsts), "each chat's rows still arrive in order"


# -- a live sender keeps its leases ------------------------------------------------------


async def test_a_long_send_keeps_its_lease_so_another_sender_does_not_take_the_row(
    any_db: Database,
    second_db: Database,
    clock: ManualClock,
    emu: Emulator,
    api: TelegramApi,
    slow: SlowTelegram,
) -> None:
    open_chats(emu, [21])
    ids = await enqueue(any_db, [(21, 1)] * 3)
    lease_s = 6.0
    first = OutboxSender(any_db, api, RateLimiter(UNLIMITED), lease_s=lease_s, renew_every_s=0.01)
    running = first.start()
    try:
        await asyncio.wait_for(slow.held_enough.wait(), 10)  # the first row's call hangs
        # Thirty seconds pass on the database clock while the call goes on; the
        # heartbeat renews the lease all along (each step is shorter than the lease).
        for _ in range(10):
            clock.advance(seconds=lease_s / 2)
            await asyncio.wait_for(first.leases_renewed(), 10)
        async with any_db.uow() as uow:
            row = await uow.outbox.get(ids[0])
            assert row.status == "sending" and row.not_before > clock.now()

        thief = OutboxSender(second_db, api, RateLimiter(UNLIMITED))
        assert await thief.flush(10)  # nothing is due: the row is still held
        assert thief.metrics.messages_sent.value(method="send") == 0

        slow.answer()
        await emu.wait_for(lambda: len(accepted(emu)) == 3, 10)
        assert await first.flush(10)
    finally:
        await first.stop()
        await running

    counts = delivered(emu, await by_text(any_db))
    assert counts == Counter({i: 1 for i in ids})
    assert set((await statuses(any_db)).values()) == {"sent"}


class GatedLimiter(RateLimiter):
    """A rate limiter whose first slot is granted only when the test says so."""

    def __init__(self) -> None:
        super().__init__(UNLIMITED)
        self.waiting = asyncio.Event()
        self.grant = asyncio.Event()

    async def acquire(self, chat_id: int, key=(0,), **kwargs) -> None:  # type: ignore[no-untyped-def]
        if not self.grant.is_set():
            self.waiting.set()
            await self.grant.wait()
        await super().acquire(chat_id, key, **kwargs)


@pytest.mark.parametrize("found_by", ["heartbeat", "check before the call"])
async def test_a_stalled_sender_that_lost_its_lease_does_not_send_the_row(
    any_db: Database,
    second_db: Database,
    clock: ManualClock,
    emu: Emulator,
    api: TelegramApi,
    slow: SlowTelegram,
    found_by: str,
) -> None:
    open_chats(emu, [31])
    ids = await enqueue(any_db, [(31, 1)] * 2)
    limiter = GatedLimiter()
    # Its heartbeat is stalled, as in a process frozen for longer than the lease.
    stalled = OutboxSender(any_db, api, limiter, lease_s=6, renew_every_s=3600)
    stalled_run = stalled.start()
    taker = OutboxSender(second_db, api, RateLimiter(UNLIMITED))
    taker_run = None
    try:
        await asyncio.wait_for(limiter.waiting.wait(), 10)  # it holds the first row
        clock.advance(seconds=7)  # the lease ran out: another sender takes the row over,
        taker_run = taker.start()
        await asyncio.wait_for(slow.held_enough.wait(), 10)  # and is sending it right now

        if found_by == "heartbeat":
            await stalled.renew_leases()  # finds the row lost: its delivery is dropped
        limiter.grant.set()  # otherwise: the check right before the call finds it lost
        assert await stalled.flush(10)  # (a call from it would hang here: Telegram is slow)
        assert stalled.metrics.messages_sent.value(method="send") == 0

        slow.answer()
        await emu.wait_for(lambda: len(accepted(emu)) == 2, 10)
        assert await taker.flush(10)
    finally:
        slow.answer()
        for sender, run in ((stalled, stalled_run), (taker, taker_run)):
            await sender.stop()
            if run is not None:
                await run

    counts = delivered(emu, await by_text(any_db))
    assert counts == Counter({i: 1 for i in ids})
    assert set((await statuses(any_db)).values()) == {"sent"}


async def test_the_runtime_sender_takes_its_lease_from_the_settings(tmp_path) -> None:
    from datetime import timedelta

    from bot.app import Runtime
    from bot.config import Settings

    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/lease.db",
        http_port=0,
        outbox_lease_seconds=3,
    )
    rt = Runtime(settings, announce=lambda _: None, run_scheduler=False, shutdown_timeout_s=2)
    await rt.start()
    try:
        assert rt.sender.store.lease == timedelta(seconds=3)
        assert rt.sender.renew_every_s == 1
    finally:
        await rt.stop()
