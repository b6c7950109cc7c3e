"""Fan-out under Telegram's limits with people still served (issue 16, part 5), and the
outbox sender's memory with 100,000 rows queued (part 6).

    .venv/bin/python -m bench fanout                    # 3,000 alerts, ~100 s a variant
    .venv/bin/python -m bench fanout --sends 300        # the quick round's size
    .venv/bin/python -m bench sender-memory             # 100,000 rows queued, 20 s of sending

fanout: --sends alerts to as many chats through the Bot API emulator enforcing
Telegram's limits (Limits.telegram(): 30 sends a second overall, 1 a second to a
private chat, 20 a minute to a group; a 429 with retry_after past them), while
--people people keep using the bot. The emulator runs in a process of its own
(RemoteTelegram), as Telegram is not in the bot's process: a stall of the bot's
event loop must not stall Telegram's clock too. Two variants, each in a fresh process (so the
peak RSS is its own), side by side:

- gigbot: the whole bot (bot.app.Runtime with the aiogram adapter, long polling the
  emulator, SQLite). The alerts are --sends outbox rows of priority 2 (a job alert's
  text and button), inserted in one transaction, as a publish writes them; the
  sender delivers them under its limiter (bot/ratelimit.py) while the people's
  updates go emulator → getUpdates → intake → engine → outbox (priority 0) → sender.
- ptb: python-telegram-bot's AIORateLimiter with its default settings on a PTB
  Application (polling the same emulator, concurrent_updates on). The same alerts are
  sent by --ptb-workers tasks (default 32, Gigbot's max in flight; 0 = all at once
  with asyncio.gather) calling bot.send_message; a 429 is waited out (retry_after)
  and retried, since AIORateLimiter's default max_retries=0 hands it to the caller.
  The people's commands and presses are answered by PTB handlers (no database: a
  fixed menu, help and job-list screen), whose replies go through the same limiter.
  A reply refused with a 429 is lost (the handler raises), and counted.

The people: each first opens the bot (/start, picks a role; not timed), then, until
the alerts are all delivered, repeats /menu, "🔎 Find jobs" on that menu, /help,
/jobs python, pausing 1–3 s (seeded) between actions. The latency of an action is
from the moment its update is created in the emulator to the moment the emulator
receives the bot's reply (the first sendMessage or editMessageText to that chat
after it; both on time.monotonic()). Printed: alert rate (from the first alert
received to the last), all sends a second, the busiest one-second window, 429s,
the people's actions, latency p50/p95/max and replies missing, peak RSS.

sender-memory: --rows outbox rows (default 100,000, to --chats chats) inserted by one
INSERT … SELECT (no Python objects), then the sender (aiogram adapter, Telegram's
limits) runs for --seconds against the emulator in another process, so this
process holds only the sender: its peak RSS over the run (sampled every 10 ms) and
its growth over the baseline before the sender started, then a second run of the
same length under tracemalloc for the peak of Python allocations (the sender's rows,
tasks, limiter and the client's buffers), the claim query's p50/p95 with that many
rows queued, and the most rows the sender held at once.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import itertools
import json
import logging
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from bench.support import PROJECT, Latencies, MemoryPeak, machine, percentile
from bot.sandbox import Emulator, Limits, create_sandbox_app
from storage.tables import outbox

TOKEN = "123456789:AAfanout-bench_1"
FIRST_CHAT = 700_000
PEOPLE_FIRST = 9_001
REPLY_METHODS = {"sendmessage", "edittextmessage", "editmessagetext"}
REPLY_TIMEOUT_S = 20.0
VARIANTS = ("gigbot", "ptb")
QUICK = ["--sends", "300"]
MEMORY_QUICK = ["--rows", "20000", "--chats", "10000", "--seconds", "5"]
ALERT_TEXT = (
    "🔔 <b>New job</b> matching your alert #{i}\n<b>Logo for a bakery</b>\n"
    "Design · Fixed price $300\nA round logo with a wheat ear, vector files."
)
ALERT_BUTTONS = [[{"text": "👀 View job", "data": "jv:show:1"}]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serve(emu: Emulator) -> AsyncIterator[str]:
    runner = web.AppRunner(create_sandbox_app(emu, page=False), shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def peak_window(times: list[float]) -> int:
    times = sorted(times)
    return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


# --- the people -------------------------------------------------------------------------


@dataclass
class Call:
    """One Bot API call as the emulator recorded it (receive time: time.monotonic(),
    the same clock in every process on the machine)."""

    method: str
    chat_id: int | str | None
    received_at: float
    status: int | None


class RemoteTelegram:
    """The emulator in a process of its own, as Telegram is not in the bot's process: a
    stall of the bot's event loop (a long garbage collection) must not stall Telegram's
    clock too. People act through it over HTTP; its record of calls is mirrored here
    (every 20 ms, the calls already answered)."""

    def __init__(self, sends: int, people: int) -> None:
        self.sends, self.people = sends, people
        self.calls: list[Call] = []
        self.base = ""

    async def __aenter__(self) -> RemoteTelegram:
        import aiohttp

        self._folder = tempfile.TemporaryDirectory()
        url_file = Path(self._folder.name) / "url"
        self._child = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "bench", "fanout", "--serve-emulator", str(url_file)],
            *["--sends", str(self.sends), "--people", str(self.people)],
            cwd=PROJECT,
            stdin=asyncio.subprocess.PIPE,
        )
        while not url_file.exists() or not url_file.read_text():
            if self._child.returncode is not None:
                raise RuntimeError("the emulator process failed")
            await asyncio.sleep(0.05)
        self.base = url_file.read_text()
        self._http = aiohttp.ClientSession()
        self._poller = asyncio.create_task(self._poll())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._poller
        await self._http.close()
        if self._child.stdin is not None:
            self._child.stdin.close()
        await asyncio.wait_for(self._child.wait(), 30)
        self._folder.cleanup()

    async def sync(self) -> None:
        """Fetch the calls answered since the last fetch."""
        async with self._http.get(f"{self.base}/bench/calls?since={len(self.calls)}") as r:
            self.calls.extend(Call(*c) for c in await r.json())

    async def _poll(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self.sync()
            await asyncio.sleep(0.02)

    async def act(self, user_id: int, action: str) -> float | None:
        """A person types a command or presses a button on the bot's last message; the
        moment the update was created, or None if no such button is shown."""
        async with self._http.post(
            f"{self.base}/bench/act", json={"user": user_id, "action": action}
        ) as r:
            return (await r.json())["t0"]


def serve_fanout_emulator(args: argparse.Namespace) -> int:
    """The child: Telegram's stand-in for fanout, with the two routes RemoteTelegram uses."""

    def last_bot_message(emu: Emulator, user_id: int) -> dict[str, Any] | None:
        for message in reversed(emu.chats[user_id].messages.values()):
            if message["from"].get("is_bot"):
                return message
        return None

    async def serve_forever() -> None:
        import gc

        emu = make_emulator(args.sends, args.people)
        app = create_sandbox_app(emu, page=False)

        async def act(request: web.Request) -> web.Response:
            data = await request.json()
            user, action = int(data["user"]), str(data["action"])
            if action.startswith("/"):
                command, _, rest = action[1:].partition(" ")
                t0 = time.monotonic()
                emu.send_command(user, command, rest)
                return web.json_response({"t0": t0})
            message = last_bot_message(emu, user)
            markup = (message or {}).get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for b in row:
                    if b["text"] == action and "callback_data" in b:
                        assert message is not None
                        t0 = time.monotonic()
                        emu.press_button(user, message["message_id"], b["callback_data"])
                        return web.json_response({"t0": t0})
            return web.json_response({"t0": None})

        async def calls(request: web.Request) -> web.Response:
            answered = []
            for call in emu.calls[int(request.query.get("since", 0)) :]:
                if call.status is None:
                    break  # answered later: fetched next time, in order
                answered.append([call.method, call.chat_id, call.received_at, call.status])
            return web.json_response(answered)

        app.router.add_post("/bench/act", act)
        app.router.add_get("/bench/calls", calls)
        gc.freeze()  # the 3,000 chats set up: later collections leave them alone
        # Telegram's clock does not stall with this machine's load: the stand-in runs
        # ahead of the other processes (when allowed), so that its own scheduling delays
        # between a call's receipt and its limit check do not count against the bot.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, -10)
        runner = web.AppRunner(app, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        Path(args.serve_emulator).write_text(f"http://{host}:{port}")  # noqa: ASYNC240
        try:
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        finally:
            await runner.cleanup()

    asyncio.run(serve_forever())
    return 0


@dataclass
class Person:
    tg: RemoteTelegram
    user_id: int
    rng: random.Random
    latencies: Latencies = field(default_factory=Latencies)
    missing: int = 0
    lost_on_429: bool = False  # the bot drops a reply refused with a 429 (PTB's default)
    _seen: int = 0  # calls already looked at
    _action: str = ""

    def _reply_after(self, t0: float) -> float | None:
        """When the reply was received; -1.0 if it was refused and will not come again."""
        calls = self.tg.calls
        for index in range(self._seen, len(calls)):
            call = calls[index]
            if call.received_at < t0 or call.chat_id != self.user_id:
                continue
            if call.method.lower() in REPLY_METHODS and call.status == 200:
                return call.received_at
            if self.lost_on_429 and call.status == 429:
                return -1.0
        return None

    async def _await_reply(self, t0: float) -> bool:
        # The mirror of the emulator's calls is polled; the latency is the emulator's
        # own receive time, so the polling does not enter it.
        deadline = t0 + REPLY_TIMEOUT_S
        while time.monotonic() < deadline:
            at = self._reply_after(t0)
            if at is not None and at < 0:
                break
            if at is not None:
                self.latencies.add(at - t0)
                if os.environ.get("FANOUT_DEBUG"):
                    print(f"    {self.user_id} {self._action!r}: {(at - t0) * 1000:.0f} ms")
                return True
            await asyncio.sleep(0.02)
        self.missing += 1
        return False

    async def act(self, action: str) -> None:
        self._action = action
        self._seen = len(self.tg.calls)
        t0 = await self.tg.act(self.user_id, action)
        if t0 is None:
            return  # no such button shown (a reply went missing): nothing to time
        await self._await_reply(t0)

    async def start(self, role_label: str | None) -> None:
        """Open the bot and (Gigbot) pick a role; not timed."""
        await self.act("/start")
        if role_label:
            await self.act(role_label)
        self.latencies = Latencies()
        self.missing = 0

    async def keep_acting(self, done: asyncio.Event) -> None:
        script = ["/menu", "🔎 Find jobs", "/help", "/jobs python"]
        step = 0
        while True:
            with contextlib.suppress(TimeoutError):  # a pause first: reading the last reply
                await asyncio.wait_for(done.wait(), self.rng.uniform(1.0, 3.0))
            if done.is_set():
                return
            await self.act(script[step % len(script)])
            step += 1


def make_emulator(sends: int, people: int) -> Emulator:
    emu = Emulator(TOKEN, limits=Limits.telegram())
    for i in range(sends):
        emu.add_user(f"subscriber {i}", user_id=FIRST_CHAT + i, started=True)
    for k in range(people):
        emu.add_user(f"person {k}", user_id=PEOPLE_FIRST + k, language_code="en")
    return emu


def alert_chats(sends: int) -> list[int]:
    return [FIRST_CHAT + i for i in range(sends)]


def figures_of(
    tg: RemoteTelegram, people: list[Person], started: float, sends: int
) -> dict[str, float]:
    """What the emulator received after `started`, and the people's latencies."""
    after = [c for c in tg.calls if c.received_at >= started]
    sent = [c for c in after if c.method.lower().startswith("send") and c.status == 200]
    first, last = FIRST_CHAT, FIRST_CHAT + sends
    alerts = sorted(
        c.received_at for c in sent if isinstance(c.chat_id, int) and first <= c.chat_id < last
    )
    figures: dict[str, float] = {"alerts": len(alerts), "span_s": math.nan}
    if len(alerts) > 1:
        begin, end = alerts[0], alerts[-1]
        within = [c for c in sent if begin <= c.received_at <= end]
        figures["span_s"] = end - started
        figures["alert_rate"] = (len(alerts) - 1) / (end - begin)
        figures["send_rate"] = (len(within) - 1) / (end - begin)
        edits = [c for c in after if c.method.lower().startswith("edit") and c.status == 200]
        figures["edit_rate"] = len([c for c in edits if begin <= c.received_at <= end]) / (
            end - begin
        )
    if os.environ.get("FANOUT_DEBUG"):  # what the sends before each 429 looked like
        times = sorted(c.received_at for c in sent)
        for refused in (c for c in after if c.status == 429):
            before = [t for t in times if t < refused.received_at][-30:]
            gaps = [round((b - a) * 1000) for a, b in itertools.pairwise(before)]
            span = refused.received_at - before[0] if before else math.nan
            print(f"    429 to {refused.chat_id}: 30 sends in {span * 1000:.0f} ms, gaps {gaps}")
    all_lat = sorted(s for p in people for s in p.latencies.seconds)
    figures.update(
        {
            "peak_window": peak_window([c.received_at for c in sent]),
            "429s": sum(1 for c in after if c.status == 429),
            "actions": len(all_lat),
            "p50": percentile(all_lat, 50) * 1000,
            "p95": percentile(all_lat, 95) * 1000,
            "max": (all_lat[-1] * 1000) if all_lat else math.nan,
            "missing": sum(p.missing for p in people),
        }
    )
    return figures


async def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


def delivered_alerts(tg: RemoteTelegram, sends: int) -> Callable[[], bool]:
    """A check: has the emulator accepted a sendMessage to every alert chat?"""
    first, last = FIRST_CHAT, FIRST_CHAT + sends
    state = {"next": 0, "count": 0}

    def check() -> bool:
        calls = tg.calls
        # Calls are recorded as received and answered later: stop at the first unanswered.
        while state["next"] < len(calls) and calls[state["next"]].status is not None:
            call = calls[state["next"]]
            state["next"] += 1
            if (
                call.status == 200
                and call.method == "sendMessage"
                and isinstance(call.chat_id, int)
                and first <= call.chat_id < last
            ):
                state["count"] += 1
        return state["count"] >= sends

    return check


def watch_stalls() -> None:
    """FANOUT_DEBUG: report event-loop stalls over 30 ms and slow garbage collections."""
    import gc

    began: list[float] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[:] = [time.perf_counter()]
        elif began and (took := time.perf_counter() - began[0]) > 0.01:
            print(f"    gc gen {info['generation']}: {took * 1000:.0f} ms")

    gc.callbacks.append(on_gc)

    async def lag() -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            if (late := time.perf_counter() - before - 0.005) > 0.03:
                print(f"    loop stalled {late * 1000:.0f} ms at {time.monotonic():.3f}")

    asyncio.get_running_loop().create_task(lag())


# --- variant: Gigbot --------------------------------------------------------------------


async def run_gigbot(args: argparse.Namespace) -> dict[str, float]:
    from bot.app import Runtime
    from bot.config import Settings

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp, MemoryPeak(False) as memory:
        async with RemoteTelegram(args.sends, args.people) as tg:
            base = tg.base
            port = free_port()
            settings = Settings(
                _env_file=None,
                bot_token=TOKEN,
                framework="aiogram",
                telegram_api_base=base,
                database_url=args.database or f"sqlite+aiosqlite:///{Path(tmp) / 'fanout.db'}",
                http_host="127.0.0.1",
                http_port=port,
                public_url=f"http://127.0.0.1:{port}",
                allow_sandbox_payments=True,
            )  # send_rate 30, private_chat_rate 1, group 20/min: the defaults
            runtime = Runtime(
                settings,
                announce=lambda _: None,
                polling_timeout_s=10,
                run_scheduler=False,
                shutdown_timeout_s=5,
            )
            await runtime.start()
            try:
                people = [
                    Person(tg, PEOPLE_FIRST + k, random.Random(rng.random()))
                    for k in range(args.people)
                ]
                await asyncio.gather(*(p.start("🧑\u200d💻 I work (freelancer)") for p in people))
                assert runtime.database is not None and runtime.sender is not None
                rows = [
                    {
                        "chat_id": chat,
                        "method": "send",
                        "payload": {"text": ALERT_TEXT.format(i=i), "buttons": ALERT_BUTTONS},
                        "priority": 2,
                        "status": "pending",
                        "attempts": 0,
                    }
                    for i, chat in enumerate(alert_chats(args.sends))
                ]
                started = time.monotonic()
                async with runtime.database.uow() as uow:
                    await uow.session.execute(sa.insert(outbox), rows)
                    await uow.commit()
                del rows
                runtime.sender.wake()
                if os.environ.get("FANOUT_DEBUG"):
                    watch_stalls()
                done = asyncio.Event()
                acting = [asyncio.create_task(p.keep_acting(done)) for p in people]
                complete = await wait_until(delivered_alerts(tg, args.sends), args.timeout)
                done.set()
                await asyncio.gather(*acting)
            finally:
                await runtime.stop()
            await tg.sync()
    figures = figures_of(tg, people, started, args.sends)
    figures["complete"] = float(complete)
    figures["rss_mb"] = memory.megabytes
    return figures


# --- variant: python-telegram-bot's AIORateLimiter --------------------------------------

PTB_MENU = [
    ["🔎 Find jobs", "✋ My pitches"],
    ["🪪 My profile", "🔔 Job alerts"],
    ["❓ Help"],
]


async def run_ptb(args: argparse.Namespace) -> dict[str, float]:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.constants import ParseMode
    from telegram.error import RetryAfter
    from telegram.ext import (
        AIORateLimiter,
        Application,
        CallbackQueryHandler,
        CommandHandler,
        ContextTypes,
    )

    def keyboard(rows: list[list[str]]) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(t, callback_data=f"b:{t[-4:]}") for t in row] for row in rows]
        )

    menu = keyboard(PTB_MENU)
    jobs = keyboard([["🔎 Search", "📂 Category"], ["⬅️ Menu"]])

    async def on_menu(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "<b>Main menu</b>\nWhat would you like to do?",
            parse_mode=ParseMode.HTML,
            reply_markup=menu,
        )

    async def on_help(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "<b>Gigbot</b> is a freelance marketplace right here in Telegram.",
            parse_mode=ParseMode.HTML,
            reply_markup=menu,
        )

    async def on_jobs(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "🔎 <b>Open jobs</b>: 0 found", parse_mode=ParseMode.HTML, reply_markup=jobs
        )

    async def on_button(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(
            "🔎 <b>Open jobs</b>: 0 found", parse_mode=ParseMode.HTML, reply_markup=jobs
        )

    logging.getLogger("telegram").setLevel(logging.CRITICAL)  # each 429 logs a traceback
    rng = random.Random(args.seed)
    lost_replies = 0

    async def on_error(_: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal lost_replies
        lost_replies += 1  # e.g. a reply's RetryAfter: max_retries=0 hands it up

    refused = 0

    async def send_alert(bot: Any, i: int, chat: int) -> None:
        nonlocal refused
        while True:
            try:
                await bot.send_message(
                    chat,
                    ALERT_TEXT.format(i=i),
                    parse_mode=ParseMode.HTML,
                    reply_markup=InlineKeyboardMarkup(
                        [[InlineKeyboardButton("👀 View job", callback_data="jv:show:1")]]
                    ),
                )
                return
            except RetryAfter as exc:
                refused += 1
                wait = exc.retry_after
                await asyncio.sleep(
                    wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
                )

    with MemoryPeak(False) as memory:
        async with RemoteTelegram(args.sends, args.people) as tg:
            base = tg.base
            app = (
                Application.builder()
                .token(TOKEN)
                .base_url(f"{base}/bot")
                .base_file_url(f"{base}/file/bot")
                .rate_limiter(AIORateLimiter())
                .concurrent_updates(True)
                .build()
            )
            app.add_handler(CommandHandler(["start", "menu"], on_menu))
            app.add_handler(CommandHandler("help", on_help))
            app.add_handler(CommandHandler("jobs", on_jobs))
            app.add_handler(CallbackQueryHandler(on_button))
            app.add_error_handler(on_error)
            async with app:
                await app.start()
                assert app.updater is not None
                await app.updater.start_polling(poll_interval=0.0, timeout=10)
                try:
                    people = [
                        Person(tg, PEOPLE_FIRST + k, random.Random(rng.random()))
                        for k in range(args.people)
                    ]
                    for person in people:
                        person.lost_on_429 = True
                    await asyncio.gather(*(p.start(None) for p in people))
                    lost_replies = 0
                    chats = list(enumerate(alert_chats(args.sends)))
                    started = time.monotonic()
                    done = asyncio.Event()
                    acting = [asyncio.create_task(p.keep_acting(done)) for p in people]
                    if args.ptb_workers <= 0:
                        broadcast = asyncio.gather(*(send_alert(app.bot, i, c) for i, c in chats))
                    else:
                        queue = iter(chats)

                        async def worker() -> None:
                            for i, chat in queue:
                                await send_alert(app.bot, i, chat)

                        broadcast = asyncio.gather(*(worker() for _ in range(args.ptb_workers)))
                    try:
                        await asyncio.wait_for(broadcast, args.timeout)
                        complete = True
                    except TimeoutError:
                        complete = False
                    done.set()
                    await asyncio.gather(*acting)
                finally:
                    await app.updater.stop()
                    await app.stop()
            await tg.sync()
    figures = figures_of(tg, people, started, args.sends)
    figures["complete"] = float(complete)
    figures["rss_mb"] = memory.megabytes
    figures["lost_replies"] = lost_replies
    figures["caller_retries"] = refused
    return figures


# --- the command -------------------------------------------------------------------------

ROWS: list[tuple[str, str, str]] = [
    ("alerts", "alerts delivered", "{:,.0f}"),
    ("span_s", "fan-out s", "{:.1f}"),
    ("alert_rate", "alerts/s", "{:.1f}"),
    ("send_rate", "messages/s (≥28.5, ≤30)", "{:.1f}"),
    ("edit_rate", "  edits/s besides", "{:.1f}"),
    ("peak_window", "busiest 1 s window", "{:,.0f}"),
    ("429s", "429s (want 0)", "{:,.0f}"),
    ("actions", "people: actions timed", "{:,.0f}"),
    ("p50", "  reply p50 ms", "{:,.0f}"),
    ("p95", "  reply p95 ms (≤1000)", "{:,.0f}"),
    ("max", "  reply max ms", "{:,.0f}"),
    ("missing", "  replies missing", "{:,.0f}"),
    ("rss_mb", "peak RSS MB", "{:.0f}"),
]


def _cell(fmt: str, value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return fmt.format(value)


def report(args: argparse.Namespace, results: dict[str, dict[str, float]]) -> int:
    names = list(results)
    workers = "all at once" if args.ptb_workers <= 0 else f"{args.ptb_workers} tasks"
    print(
        f"\nfanout: {args.sends:,} alerts to {args.sends:,} chats under Telegram's limits, "
        f"{args.people} people acting ({machine()}); target ≥ 28.5 sends/s, 0 429s, "
        "reply p95 ≤ 1 s"
    )
    labels = {"gigbot": "gigbot", "ptb": f"ptb({workers})"}
    header = f"  {'':<26}" + "".join(f"{labels[n]:>16}" for n in names)
    print(header)
    for key, label, fmt in ROWS:
        print(f"  {label:<26}" + "".join(f"{_cell(fmt, results[n].get(key)):>16}" for n in names))
    if "ptb" in results:
        ptb = results["ptb"]
        print(
            f"  (ptb: {ptb.get('caller_retries', 0):.0f} sends retried by the caller after a 429,"
            f" {ptb.get('lost_replies', 0):.0f} handler errors)"
        )
    broken = any(not r.get("complete") for r in results.values())
    if broken:
        print("  (a variant did not deliver every alert within --timeout)")
    return 1 if broken else 0


def options(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=3000, help="alerts, one per chat")
    parser.add_argument("--people", type=int, default=5, help="people acting meanwhile")
    parser.add_argument("--only", choices=VARIANTS, help="one variant only")
    parser.add_argument(
        "--ptb-workers",
        type=int,
        default=32,
        help="PTB variant: tasks sending the alerts (0: all at once with asyncio.gather)",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds for the fan-out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", help="Gigbot variant: a migrated database URL")
    parser.add_argument("--figures-to", help=argparse.SUPPRESS)
    parser.add_argument("--serve-emulator", help=argparse.SUPPRESS)  # child: URL file
    return parser


def main(argv: list[str]) -> int:
    args = options("python -m bench fanout").parse_args(argv)
    if args.serve_emulator:
        return serve_fanout_emulator(args)
    if args.figures_to:  # a child: one variant, figures as JSON for the parent
        run = run_gigbot if args.only == "gigbot" else run_ptb
        Path(args.figures_to).write_text(json.dumps(asyncio.run(run(args))))
        return 0
    results: dict[str, dict[str, float]] = {}
    for variant in [args.only] if args.only else VARIANTS:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "figures.json"
            child = [sys.executable, "-m", "bench", "fanout", *argv]
            child += ["--only", variant, "--figures-to", str(out)]
            sys.stdout.flush()
            done = subprocess.run(child, cwd=PROJECT, check=False)
            if done.returncode != 0 or not out.exists():
                print(f"  ({variant}: the measuring process failed, exit {done.returncode})")
                return 1
            results[variant] = json.loads(out.read_text())
    return report(args, results)


# --- sender-memory ------------------------------------------------------------------------


def memory_options() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench sender-memory",
        description="The outbox sender's memory with many rows queued.",
    )
    parser.add_argument("--rows", type=int, default=100_000, help="rows queued")
    parser.add_argument("--chats", type=int, default=50_000, help="chats they go to")
    parser.add_argument("--seconds", type=float, default=20, help="sending time per phase")
    parser.add_argument("--database", help="a migrated database URL (its outbox is emptied)")
    parser.add_argument("--serve-emulator", help=argparse.SUPPRESS)  # child: port file
    return parser


def serve_emulator_child(args: argparse.Namespace) -> int:
    """The emulator for sender-memory, in a process of its own; writes its URL to a file
    and serves until stdin closes."""

    async def serve_forever() -> None:
        emu = Emulator(TOKEN, limits=Limits.telegram())
        for i in range(args.chats):
            emu.add_user("s", user_id=FIRST_CHAT + i, started=True)
        emu.calls = _NoCalls()  # type: ignore[assignment]  # 100,000 records are not kept
        async with serve(emu) as base:
            Path(args.serve_emulator).write_text(base)  # noqa: ASYNC240
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(serve_forever())
    return 0


class _NoCalls(list):  # type: ignore[type-arg]
    def append(self, _: object) -> None:
        pass


async def seed_rows(db: Any, rows: int, chats: int) -> None:
    """rows outbox rows, round robin over chats, by one INSERT … SELECT."""
    text = '\'{"text": "🔔 New job matching your alert #\' || n || \'", "buttons": null}\''
    if db.dialect == "postgresql":
        source = f"SELECT g AS n FROM generate_series(0, {rows - 1}) AS g"
        payload = f"({text})::json"
    else:
        source = (
            f"WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq "
            f"WHERE n < {rows - 1}) SELECT n FROM seq"
        )
        payload = text
    sql = (
        "INSERT INTO outbox (chat_id, method, payload, priority, status, attempts) "
        f"SELECT {FIRST_CHAT} + (n % {chats}), 'send', {payload}, 2, 'pending', 0 "
        f"FROM ({source}) AS s"
    )
    async with db.uow() as uow:
        await uow.session.execute(sa.delete(outbox))
        await uow.session.execute(sa.text(sql))
        await uow.commit()


async def sender_memory(args: argparse.Namespace) -> int:
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    from bot.adapters.aiogram_api import AiogramApi
    from storage.database import Database
    from storage.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "emulator"
        child = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "bench", "sender-memory", *args.argv],
            *["--serve-emulator", str(port_file)],
            cwd=PROJECT,
            stdin=asyncio.subprocess.PIPE,
        )
        try:
            while not port_file.exists() or not port_file.read_text():
                if child.returncode is not None:
                    print("  (the emulator process failed)")
                    return 1
                await asyncio.sleep(0.1)
            base = port_file.read_text()
            url = args.database or f"sqlite+aiosqlite:///{Path(tmp) / 'memory.db'}"
            if args.database is None:
                await upgrade(url)
            db = Database(url)
            seeded = time.perf_counter()
            await seed_rows(db, args.rows, args.chats)
            seeded = time.perf_counter() - seeded
            bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
            api = AiogramApi(bot)
            phases: list[dict[str, float]] = []
            try:
                for traced in (False, True):
                    phases.append(await _sender_phase(db, api, args.seconds, traced))
            finally:
                await bot.session.close()
                await db.dispose()
            baseline = phases[0]["baseline"]
        finally:
            if child.stdin is not None:
                child.stdin.close()
            await asyncio.wait_for(child.wait(), 30)
    untraced, traced = phases
    print(
        f"\nsender-memory: {args.rows:,} rows queued to {args.chats:,} chats, "
        f"{args.seconds:g} s of sending a phase ({machine()}; {url.split(':', 1)[0]})"
    )
    print(f"  seeding s (not timed)          {seeded:8.1f}")
    print(f"  sent/s                         {untraced['rate']:8.1f}   (Telegram's 30/s)")
    print(
        f"  429s (want 0)                  {untraced['429s']:8.0f}   (traced phase: {traced['429s']:.0f})"
    )
    print(f"  rows left queued               {untraced['left']:8,.0f}")
    print(f"  claim p50 ms                   {untraced['claim_p50']:8.1f}")
    print(f"  claim p95 ms                   {untraced['claim_p95']:8.1f}")
    print(f"  rows held at once (max)        {untraced['held']:8.0f}")
    print(f"  RSS before the sender MB       {baseline / 1e6:8.0f}")
    print(f"  peak RSS MB                    {untraced['peak'] / 1e6:8.0f}")
    print(f"  peak RSS over baseline MB      {(untraced['peak'] - baseline) / 1e6:8.1f}")
    print(f"  tracemalloc peak MB            {traced['traced'] / 1e6:8.1f}   (second phase)")
    return 0


async def _sender_phase(db: Any, api: Any, seconds: float, traced: bool) -> dict[str, float]:
    from bench.support import _rss_bytes
    from bot.ratelimit import SendLimits
    from bot.sender import OutboxSender

    sender = OutboxSender(db, api, SendLimits())
    claims: list[float] = []
    claim = sender.store.claim

    async def timed_claim(limit: int, max_priority: int | None = None) -> list[Any]:
        began = time.perf_counter()
        try:
            return await claim(limit, max_priority)
        finally:
            claims.append(time.perf_counter() - began)

    sender.store.claim = timed_claim  # type: ignore[method-assign]
    baseline = _rss_bytes()
    held = 0
    if traced:
        tracemalloc.start()
        tracemalloc.reset_peak()
    with MemoryPeak(False) as memory:
        task = sender.start()
        began = time.perf_counter()
        while time.perf_counter() - began < seconds:
            held = max(held, sender.in_flight)
            await asyncio.sleep(0.05)
        await sender.stop()
        await task
        took = time.perf_counter() - began
    peak_traced = tracemalloc.get_traced_memory()[1] if traced else 0
    tracemalloc.stop()
    sent = _sent_count(sender)
    left = await sender.store.depth()
    ordered = sorted(claims)
    return {
        "rate": sent / took,
        "left": left,
        "claim_p50": percentile(ordered, 50) * 1000,
        "claim_p95": percentile(ordered, 95) * 1000,
        "held": held,
        "429s": sender.metrics.rate_limited.value(),
        "baseline": baseline,
        "peak": memory.peak,
        "traced": peak_traced,
    }


def _sent_count(sender: Any) -> int:
    return int(sender.metrics.messages_sent.value(method="send"))


def memory_main(argv: list[str]) -> int:
    args = memory_options().parse_args(argv)
    args.argv = argv
    if args.serve_emulator:
        return serve_emulator_child(args)
    return asyncio.run(sender_memory(args))
