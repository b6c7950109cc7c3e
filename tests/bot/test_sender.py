"""The outbox sender against the real Bot API emulator on loopback, through the real
aiogram client, on real SQLite (and PostgreSQL with GIGBOT_TEST_POSTGRES_URL).

Every row's text is unique ("r<n> …"), so the emulator's record of received calls tells
exactly how often each row reached Telegram and when (its monotonic receive time)."""

from __future__ import annotations

import asyncio
import bisect
import itertools
import re
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import sqlalchemy as sa
import telegram
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.adapters.aiogram_api import AiogramApi
from bot.adapters.ptb_api import PtbApi
from bot.metrics import Metrics
from bot.ratelimit import RateLimiter, SendLimits
from bot.sandbox import Emulator, Limits, create_sandbox_app
from bot.sandbox.models import BotCall
from bot.sender import OutboxSender
from bot.telegram_port import RetryAfter, TelegramApi
from domain import entities as e
from handlers.events import Keyboard
from storage.database import Database
from storage.outbox_store import OutboxStore
from storage.tables import outbox

TOKEN = "123456789:AAsender-test-token_1"
FAST = SendLimits(global_per_second=200, private_per_second=20, group_per_minute=600)
ROW_TEXT = re.compile(r"^r(\d+) ")


# -- fixtures ---------------------------------------------------------------------------


class ShiftClock:
    """Real UTC time plus an offset the test moves (to expire leases without waiting)."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift

    def advance(self, **delta: float) -> None:
        self.shift += timedelta(**delta)


@pytest.fixture
def clock() -> ShiftClock:
    """Replaces the shared ManualClock: the sender waits for real (retry_after, spacing)."""
    return ShiftClock()


@pytest.fixture
def sdb(db: Database) -> Database:
    return db


@pytest.fixture
async def both_dbs(any_db: Database, clock: ShiftClock) -> AsyncIterator[tuple[Database, Database]]:
    """Two Database objects (two engines, two pools — like two processes) on one database."""
    second = Database(any_db.url, now=clock.now)
    yield any_db, second
    await second.dispose()


@pytest.fixture
def limits() -> Limits:
    return Limits()


@pytest.fixture
def emu(limits: Limits) -> Emulator:
    return Emulator(TOKEN, limits=limits)


@pytest.fixture
def framework() -> str:
    return "aiogram"  # parametrise a test over ["aiogram", "ptb"] to run it on both


@pytest.fixture
async def api(emu: Emulator, framework: str) -> AsyncIterator[TelegramApi]:
    """The real framework adapter's TelegramApi, talking HTTP to the emulator."""
    runner = web.AppRunner(create_sandbox_app(emu), shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    if framework == "aiogram":
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
        yield AiogramApi(bot)
        await bot.session.close()
    else:
        async with telegram.Bot(
            TOKEN, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot"
        ) as ptb:
            yield PtbApi(ptb)
    await runner.cleanup()


def open_chats(emu: Emulator, user_ids: Iterable[int]) -> None:
    """These users have started the bot, so it may write to them."""
    for uid in user_ids:
        emu.add_user(f"user {uid}", user_id=uid)
        emu.chats[uid].started = True


_texts = itertools.count(1)


async def enqueue(
    db: Database, rows: Iterable[tuple[int, int]], *, method: str = "send", text: str = ""
) -> list[int]:
    """(chat_id, priority) rows with unique texts; returns their ids in insert order."""
    ids = []
    async with db.uow() as uow:
        for chat_id, priority in rows:
            body = f"r{next(_texts)} {text}".strip()
            row = await uow.outbox.add(
                e.OutboxMessage(
                    chat_id=chat_id,
                    method=method,
                    payload={"text": body, "buttons": None},
                    priority=priority,
                )
            )
            assert row.id is not None
            ids.append(row.id)
        await uow.commit()
    return ids


async def add_users(db: Database, user_ids: Iterable[int]) -> None:
    async with db.uow() as uow:
        for uid in user_ids:
            await uow.users.add(e.User(id=uid, name=f"user {uid}"))
        await uow.commit()


async def texts_by_id(db: Database) -> dict[int, str]:
    async with db.uow() as uow:
        rows = (await uow.session.execute(sa.select(outbox.c.id, outbox.c.payload))).all()
    return {row_id: payload["text"] for row_id, payload in rows}


async def statuses(db: Database) -> dict[int, str]:
    async with db.uow() as uow:
        return dict((await uow.session.execute(sa.select(outbox.c.id, outbox.c.status))).all())


def accepted(emu: Emulator, method: str = "sendMessage") -> list[BotCall]:
    return [c for c in emu.calls_to(method) if c.status == 200]


def row_of(call: BotCall, ids_by_text: dict[str, int]) -> int:
    return ids_by_text[call.params["text"]]


async def wait_delivered(emu: Emulator, count: int, timeout: float = 15) -> None:  # noqa: ASYNC109
    await emu.wait_for(lambda: len(accepted(emu)) >= count, timeout)


def max_in_window(times: list[float], span: float) -> int:
    """Most receive times within any half-open window [t, t + span)."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + span) - i for i, t in enumerate(times)), default=0)


# Loopback receive times carry a little scheduling jitter on top of the sender's spacing
# (a call granted at t can arrive a few ms late, the next one on time).
JITTER_S = 0.01


def assert_within_limits(calls: list[BotCall], limits: SendLimits) -> None:
    times = [c.received_at for c in calls]
    assert limits.global_per_second is not None
    assert max_in_window(times, 1.0 - JITTER_S) <= limits.global_per_second
    per_chat: dict[int, list[float]] = defaultdict(list)
    for c in calls:
        per_chat[int(c.chat_id)].append(c.received_at)  # type: ignore[arg-type]
    for chat_id, chat_times in per_chat.items():
        if chat_id > 0:
            assert limits.private_per_second is not None
            assert max_in_window(chat_times, 1.0 - JITTER_S) <= limits.private_per_second
        else:
            assert limits.group_per_minute is not None
            assert max_in_window(chat_times, 60.0 - JITTER_S) <= limits.group_per_minute


def assert_each_once_in_chat_order(
    calls: list[BotCall], ids_by_text: dict[str, int], ids: list[int]
) -> None:
    counts = Counter(row_of(c, ids_by_text) for c in calls)
    assert sorted(counts) == sorted(ids), "every row delivered"
    assert set(counts.values()) == {1}, "no row delivered twice"
    per_chat: dict[int, list[int]] = defaultdict(list)
    for c in calls:  # emu.calls is in receive order
        per_chat[int(c.chat_id)].append(row_of(c, ids_by_text))  # type: ignore[arg-type]
    for chat_rows in per_chat.values():
        assert chat_rows == sorted(chat_rows), "one chat's rows arrive in order"


async def run_until_delivered(sender: OutboxSender, emu: Emulator, count: int) -> None:
    task = sender.start()
    try:
        await wait_delivered(emu, count)
    finally:
        await sender.stop()
        await task


# -- the store on its own ---------------------------------------------------------------


async def test_store_claims_only_each_chats_head_and_leases_it(
    sdb: Database, clock: ShiftClock
) -> None:
    store = OutboxStore(sdb, lease_s=60)
    a1, a2, b1, c1 = await enqueue(sdb, [(1, 2), (1, 0), (2, 1), (3, 0)])
    claimed = await store.claim(10)
    # Chat 1's urgent row waits behind its earlier row; across chats priority decides.
    assert [m.id for m in claimed] == [c1, b1, a1]
    assert await store.claim(10) == []  # leased: nobody else gets them, nor chat 1's next
    await store.mark_sent(a1)
    assert [m.id for m in await store.claim(10)] == [a2]
    clock.advance(seconds=61)  # the process holding b1 and c1 died: leases run out
    assert sorted(m.id for m in await store.claim(10)) == sorted([b1, c1, a2])
    assert await store.depth() == 3


async def test_store_reschedule_keeps_the_chat_waiting(sdb: Database, clock: ShiftClock) -> None:
    store = OutboxStore(sdb)
    first, second = await enqueue(sdb, [(5, 1), (5, 1)])
    (row,) = await store.claim(10)
    await store.reschedule(row.id, 3.0, "429")
    assert await store.claim(10) == []  # not due yet, and the next row may not overtake it
    clock.advance(seconds=3)
    (again,) = await store.claim(10)
    assert (again.id, again.attempts) == (first, 1)
    assert second != first


async def test_store_unreachable_drops_the_chat_and_flags_the_user(sdb: Database) -> None:
    store = OutboxStore(sdb)
    await add_users(sdb, [7, 8])
    ids = await enqueue(sdb, [(7, 0), (7, 1), (8, 1)])
    claimed = await store.claim(10)
    assert (
        await store.mark_unreachable(claimed[0].id, 7, "Forbidden: bot was blocked by the user")
        == 2
    )
    async with sdb.uow() as uow:
        assert (await uow.users.get(7)).unreachable is True
        assert (await uow.users.get(8)).unreachable is False
    later = await enqueue(sdb, [(7, 0)])
    assert await store.claim(10) == []  # 8's row is leased; 7's new row dropped, not claimed
    st = await statuses(sdb)
    assert [st[i] for i in [*ids, *later]] == [
        "unreachable",
        "unreachable",
        "sending",
        "unreachable",
    ]


# -- delivery through the emulator ------------------------------------------------------


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
@pytest.mark.parametrize(
    "limits",
    [Limits(per_chat_per_second=20, per_group_per_minute=600, global_per_second=200)],
)
async def test_everything_delivered_once_in_order_within_limits(
    sdb: Database, emu: Emulator, api: TelegramApi
) -> None:
    users = list(range(1001, 1013))
    open_chats(emu, users)
    group = emu.create_group("team").id
    chats = [*users, group]
    rows = [(chats[i % len(chats)], i % 3) for i in range(260)]
    ids = await enqueue(sdb, rows)
    sender = OutboxSender(sdb, api, RateLimiter(FAST), Metrics(), max_in_flight=16)

    await run_until_delivered(sender, emu, len(ids))

    ids_by_text = {t: i for i, t in (await texts_by_id(sdb)).items()}
    calls = accepted(emu)
    assert_each_once_in_chat_order(calls, ids_by_text, ids)
    assert_within_limits(calls, FAST)
    assert set((await statuses(sdb)).values()) == {"sent"}
    assert sender.metrics.messages_sent.value(method="send") == len(ids)
    # Any 429 from the emulator (jitter at the limit) was retried, never lost or doubled.
    assert sender.metrics.rate_limited.value() == len(emu.calls_to("sendMessage")) - len(calls)


async def test_replies_go_before_notifications_before_bulk_alerts(
    sdb: Database, emu: Emulator, api: TelegramApi
) -> None:
    users = list(range(2001, 2031))
    open_chats(emu, users)
    # Bulk alerts were queued first; the reply to the person acting came last.
    bulk = await enqueue(sdb, [(u, 2) for u in users[:20]])
    notices = await enqueue(sdb, [(u, 1) for u in users[20:28]])
    replies = await enqueue(sdb, [(u, 0) for u in users[28:]])
    limits = SendLimits(global_per_second=50, private_per_second=20)
    sender = OutboxSender(sdb, api, RateLimiter(limits), max_in_flight=64)

    await run_until_delivered(sender, emu, 30)

    ids_by_text = {t: i for i, t in (await texts_by_id(sdb)).items()}
    order = [row_of(c, ids_by_text) for c in accepted(emu)]
    assert order == [*replies, *notices, *bulk]


@pytest.mark.parametrize("limits", [Limits(per_chat_per_second=4)])
async def test_429_waits_retry_after_then_sends_the_same_row(
    sdb: Database, emu: Emulator, api: TelegramApi
) -> None:
    open_chats(emu, [3001])
    ids = await enqueue(sdb, [(3001, 1)] * 6)
    # Our limiter allows 20/s to the chat, the emulator only 4: the fifth send gets a 429.
    sender = OutboxSender(sdb, api, RateLimiter(FAST))

    await run_until_delivered(sender, emu, len(ids))

    ids_by_text = {t: i for i, t in (await texts_by_id(sdb)).items()}
    calls = emu.calls_to("sendMessage")
    refused = [c for c in calls if c.status == 429]
    assert refused and sender.metrics.rate_limited.value() == len(refused)
    assert_each_once_in_chat_order(accepted(emu), ids_by_text, ids)
    for bad in refused:  # the refused row was the next one to go, after retry_after
        row = row_of(bad, ids_by_text)
        retry = next(c for c in accepted(emu) if row_of(c, ids_by_text) == row)
        assert retry.received_at - bad.received_at >= 1.0 - JITTER_S
    async with sdb.uow() as uow:
        retried = await uow.outbox.get(row_of(refused[0], ids_by_text))
        assert (retried.status, retried.attempts) == ("sent", 1)


async def test_403_marks_the_user_unreachable_and_stops_sending(
    sdb: Database, emu: Emulator, api: TelegramApi
) -> None:
    open_chats(emu, [4001, 4002])
    await add_users(sdb, [4001, 4002])
    emu.block_bot(4002)
    ids = await enqueue(sdb, [(4002, 1), (4001, 1), (4002, 1), (4001, 1), (4002, 2)])
    sender = OutboxSender(sdb, api, RateLimiter(FAST))

    await run_until_delivered(sender, emu, 2)
    assert await sender.flush(5)

    st = await statuses(sdb)
    assert [st[i] for i in ids] == ["unreachable", "sent", "unreachable", "sent", "unreachable"]
    assert len([c for c in emu.calls_to("sendMessage") if c.chat_id == 4002]) == 1
    assert sender.metrics.forbidden.value() == 1
    async with sdb.uow() as uow:
        assert (await uow.users.get(4002)).unreachable is True
    # Later notifications for them are dropped without another call.
    late = await enqueue(sdb, [(4002, 0)])
    assert await sender.flush(5)
    assert (await statuses(sdb))[late[0]] == "unreachable"
    assert len([c for c in emu.calls_to("sendMessage") if c.chat_id == 4002]) == 1


async def test_bad_request_fails_the_row_and_moves_on(
    sdb: Database, emu: Emulator, api: TelegramApi
) -> None:
    open_chats(emu, [5001])
    broken = await enqueue(sdb, [(5001, 1)], text="<b>never closed")
    fine = await enqueue(sdb, [(5001, 1)], text="<b>fine</b>")
    sender = OutboxSender(sdb, api, RateLimiter(FAST))

    assert await sender.flush(5)

    async with sdb.uow() as uow:
        failed = await uow.outbox.get(broken[0])
        assert failed.status == "failed" and "can't parse entities" in failed.error
        assert (await uow.outbox.get(fine[0])).status == "sent"
    assert len(emu.calls_to("sendMessage")) == 2


class Flaky:
    """Fails the first `failures` calls as the network would, then passes them on."""

    def __init__(self, api: TelegramApi, failures: int) -> None:
        self.api = api
        self.failures = failures

    async def send_message(self, chat_id: int, text: str, buttons: Keyboard | None) -> int:
        if self.failures > 0:
            self.failures -= 1
            raise aiohttp.ClientConnectionError("connection reset")
        return await self.api.send_message(chat_id, text, buttons)


async def test_network_errors_are_retried_with_backoff(
    sdb: Database, emu: Emulator, api: TelegramApi
) -> None:
    open_chats(emu, [6001])
    ids = await enqueue(sdb, [(6001, 1), (6001, 1)])
    sender = OutboxSender(sdb, Flaky(api, failures=1), RateLimiter(FAST))  # type: ignore[arg-type]

    await run_until_delivered(sender, emu, 2)

    ids_by_text = {t: i for i, t in (await texts_by_id(sdb)).items()}
    assert_each_once_in_chat_order(accepted(emu), ids_by_text, ids)
    async with sdb.uow() as uow:
        assert (await uow.outbox.get(ids[0])).attempts == 1


async def test_a_reply_gets_the_next_slot_while_the_sender_is_full_of_alerts(
    sdb: Database, emu: Emulator, api: TelegramApi
) -> None:
    """Every in-flight place taken by alerts waiting for their slots: a reply is still
    claimed at once (beyond the cap) and overtakes them, instead of waiting for a
    quarter of them to go first (issue 16, part 5)."""
    users = list(range(8001, 8061))
    open_chats(emu, [*users, 8100])
    await enqueue(sdb, [(u, 2) for u in users])
    limits = SendLimits(global_per_second=5, private_per_second=None)  # a slot every 0.2 s
    sender = OutboxSender(sdb, api, RateLimiter(limits, margin=0), max_in_flight=8)
    refilled = asyncio.Event()
    claim = sender.store.claim

    async def claim_and_tell(limit: int, max_priority: int | None = None) -> list:
        rows = await claim(limit, max_priority)
        if len(accepted(emu)) >= 2 and sender.in_flight + len(rows) == 8:
            refilled.set()  # once the loop has taken these rows, every place is taken
        return rows

    sender.store.claim = claim_and_tell  # type: ignore[method-assign]
    task = sender.start()
    try:
        await asyncio.wait_for(refilled.wait(), 10)
        assert sender.in_flight == 8  # full: the other rows wait for their slots
        before = len(accepted(emu))
        await enqueue(sdb, [(8100, 0)])
        sender.wake()
        await emu.wait_for_message(8100, timeout=10)
        bulk_between = [c for c in accepted(emu)[before:] if c.chat_id != 8100]
        # At most the alert whose slot had already come; before, two had to go first
        # (8 in flight, claims resumed at 6) and then the reply waited for its slot.
        assert len(bulk_between) <= 1
    finally:
        await sender.stop()
        await task


async def test_wake_sends_at_once_instead_of_waiting_for_the_poll(
    sdb: Database, emu: Emulator, api: TelegramApi
) -> None:
    open_chats(emu, [7001])
    sender = OutboxSender(sdb, api, RateLimiter(FAST), poll_interval_s=3600)
    task = sender.start()
    try:
        assert await sender.flush(5)  # idle, polling once an hour
        await enqueue(sdb, [(7001, 0)])
        sender.wake()
        await emu.wait_for_message(7001, timeout=5)
    finally:
        await sender.stop()
        await task


class StallAfterDelivery:
    """Delivers for real, then hangs before returning on the n-th call: the process dies
    after Telegram got the message and before the outbox row was marked."""

    def __init__(self, api: TelegramApi, stall_at: int) -> None:
        self.api = api
        self.calls = 0
        self.stall_at = stall_at
        self.stalled = asyncio.Event()

    async def send_message(self, chat_id: int, text: str, buttons: Keyboard | None) -> int:
        self.calls += 1
        message_id = await self.api.send_message(chat_id, text, buttons)
        if self.calls == self.stall_at:
            self.stalled.set()
            await asyncio.Event().wait()
        return message_id


async def test_crash_mid_delivery_loses_nothing_and_repeats_at_most_the_one_in_flight(
    sdb: Database, emu: Emulator, api: TelegramApi, clock: ShiftClock
) -> None:
    open_chats(emu, [8001, 8002, 8003])
    ids = await enqueue(sdb, [(8001 + i % 3, 1) for i in range(12)])
    stalling = StallAfterDelivery(api, stall_at=5)
    first = OutboxSender(sdb, stalling, RateLimiter(FAST), max_in_flight=1, lease_s=30)  # type: ignore[arg-type]
    crashed = first.start()
    await asyncio.wait_for(stalling.stalled.wait(), 10)
    crashed.cancel()  # the crash
    with pytest.raises(asyncio.CancelledError):
        await crashed

    clock.advance(seconds=31)  # the dead process's lease runs out
    second = OutboxSender(sdb, api, RateLimiter(FAST))
    assert await second.flush(10)

    ids_by_text = {t: i for i, t in (await texts_by_id(sdb)).items()}
    counts = Counter(row_of(c, ids_by_text) for c in accepted(emu))
    assert sorted(counts) == sorted(ids)
    assert sorted(counts.values()) == [1] * (len(ids) - 1) + [2]  # only the one in flight
    assert set((await statuses(sdb)).values()) == {"sent"}


async def test_two_senders_on_one_database_never_send_the_same_row(
    both_dbs: tuple[Database, Database], emu: Emulator, api: TelegramApi
) -> None:
    first_db, second_db = both_dbs
    users = list(range(9001, 9041))
    open_chats(emu, users)
    ids = await enqueue(first_db, [(users[i % len(users)], i % 3) for i in range(240)])
    limits = SendLimits(global_per_second=None, private_per_second=None)
    senders = [
        OutboxSender(first_db, api, RateLimiter(limits), max_in_flight=8),
        OutboxSender(second_db, api, RateLimiter(limits), max_in_flight=8),
    ]
    tasks = [s.start() for s in senders]
    try:
        await wait_delivered(emu, len(ids), timeout=30)
    finally:
        for s in senders:
            await s.stop()
        await asyncio.gather(*tasks)

    ids_by_text = {t: i for i, t in (await texts_by_id(first_db)).items()}
    assert_each_once_in_chat_order(accepted(emu), ids_by_text, ids)
    sent_by = [s.metrics.messages_sent.value(method="send") for s in senders]
    assert sum(sent_by) == len(ids) and all(sent_by), f"both senders took part: {sent_by}"
    assert set((await statuses(first_db)).values()) == {"sent"}


class FloodedTelegram:
    """A stand-in for Telegram's side only (the database stays real): the first message
    to each of `flooded` chats is answered 429 retry_after=1, without saying which limit."""

    def __init__(self, flooded: set[int], expected: int) -> None:
        self.flooded = set(flooded)
        self.expected = expected
        self.calls: list[tuple[int, float, bool]] = []  # chat, monotonic time, accepted
        self.all_accepted = asyncio.Event()

    async def send_message(self, chat_id: int, text: str, buttons: Keyboard | None) -> int:
        refuse = chat_id in self.flooded
        self.flooded.discard(chat_id)
        self.calls.append((chat_id, time.monotonic(), not refuse))
        if refuse:
            raise RetryAfter(1)
        if sum(ok for *_, ok in self.calls) == self.expected:
            self.all_accepted.set()
        return len(self.calls)


async def test_429s_for_two_chats_at_once_pause_every_chat(sdb: Database) -> None:
    await enqueue(sdb, [(c, 1) for c in (11, 12, 13, 14)])
    telegram_side = FloodedTelegram({11, 12}, expected=4)
    limiter = RateLimiter(SendLimits(global_per_second=50))
    sender = OutboxSender(sdb, telegram_side, limiter)  # type: ignore[arg-type]
    task = sender.start()
    try:
        await asyncio.wait_for(telegram_side.all_accepted.wait(), 10)
    finally:
        await sender.stop()
        await task

    # 11 is refused, then 12 while 11's pause runs: that looks global, so 13 and 14,
    # which had not gone yet, wait out the second chat's retry_after too.
    assert [(chat, ok) for chat, _, ok in telegram_side.calls[:2]] == [(11, False), (12, False)]
    second_429 = telegram_side.calls[1][1]
    assert all(t - second_429 >= 1.0 - JITTER_S for _, t, _ in telegram_side.calls[2:])
    assert set((await statuses(sdb)).values()) == {"sent"}


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_photos_go_by_send_photo_and_documents_by_send_document(
    sdb: Database, emu: Emulator, api: TelegramApi
) -> None:
    """What handlers.context.Scope.send_file writes for a photo and for a document."""
    open_chats(emu, [5001])
    photo = emu.store_file(b"\x89PNG\r\n\x1a\n", "shot.png", "image/png", "photos")
    doc = emu.store_file(b"%PDF-1", "spec.pdf", "application/pdf", "documents")
    buttons = [[{"text": "Approve", "data": "wk:ap:1"}]]
    async with sdb.uow() as uow:
        for method, file_id in (("photo", photo.file_id), ("document", doc.file_id)):
            await uow.outbox.add(
                e.OutboxMessage(
                    chat_id=5001,
                    method=method,
                    payload={"file_id": file_id, "caption": f"<b>{method}</b>", "buttons": buttons},
                    priority=1,
                )
            )
        await uow.commit()

    assert await OutboxSender(sdb, api, RateLimiter(FAST)).flush(5)

    assert [c.status for c in emu.calls_to("sendPhoto")] == [200]
    assert [c.status for c in emu.calls_to("sendDocument")] == [200]
    shown_photo, shown_doc = emu.messages(5001)[-2:]
    assert shown_photo["photo"][0]["file_id"] == photo.file_id
    assert shown_photo["caption"] == "photo"
    assert shown_photo["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "wk:ap:1"
    assert shown_doc["document"]["file_id"] == doc.file_id
    assert set((await statuses(sdb)).values()) == {"sent"}
