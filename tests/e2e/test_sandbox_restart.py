"""The sandbox survives a restart (issue 11, item 1).

`gigbot run` without a token is bot.app.Runtime in sandbox mode with its own emulator
(bot/cli.py builds it the same way). Clara and Felix open their chats through the web
chat's JSON routes and act; the process stops; a notification for Felix is queued while
it is down; a new process starts on the same database. The people, their chats and
history are still there (the page's routes answer for them), the bot answers them again
at once (update ids keep increasing, so nothing looks like a duplicate), a button under a
message from before the restart works, and the queued notification reaches Felix, who has
not written since, instead of being dropped as "blocked".
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bot.app import Runtime, sandbox_state_path
from bot.config import Settings
from domain.entities import OutboxMessage, User
from storage.database import Database
from tests.e2e.test_runtime import free_port

CLARA, FELIX = 1001, 1002
QUEUED = "🔔 New job for you: a landing page (queued while the bot was down)"


def sandbox_settings(db_path: Path) -> Settings:
    port = free_port()
    return Settings(
        _env_file=None,
        bot_token=None,
        database_url=f"sqlite+aiosqlite:///{db_path}",
        http_host="127.0.0.1",
        http_port=port,
        public_url=f"http://127.0.0.1:{port}",
        send_rate=200,
        private_chat_rate=50,
    )


async def start(settings: Settings) -> Runtime:
    rt = Runtime(
        settings,
        sandbox=True,
        announce=lambda _: None,
        polling_timeout_s=1,
        shutdown_timeout_s=5,
        run_scheduler=False,
    )
    await rt.start()
    return rt


async def page_call(rt: Runtime, method: str, path: str, body: Any = None) -> Any:
    """What the web chat does: a JSON call under /sandbox/api/."""
    async with aiohttp.ClientSession() as session:
        async with session.request(method, f"{rt.url}/sandbox/api/{path}", json=body) as resp:
            assert resp.status < 300, (resp.status, await resp.text())
            return await resp.json()


async def say(rt: Runtime, user_id: int, text: str) -> dict[str, Any]:
    sent = await page_call(rt, "POST", f"chats/{user_id}/messages", {"text": text})
    return await rt.emulator.wait_for_message(user_id, after=sent["message_id"], timeout=10)


async def press(rt: Runtime, user_id: int, message: dict[str, Any], label: str) -> None:
    data = next(
        b["callback_data"]
        for row in message["reply_markup"]["inline_keyboard"]
        for b in row
        if label in b["text"]
    )
    await page_call(
        rt,
        "POST",
        f"chats/{user_id}/callbacks",
        {"message_id": message["message_id"], "data": data},
    )


async def test_people_act_across_a_restart_and_queued_notifications_arrive(tmp_path):
    settings = sandbox_settings(tmp_path / "gigbot.db")
    first = await start(settings)
    try:
        for uid, name in ((CLARA, "Clara (client)"), (FELIX, "Felix (freelancer)")):
            await page_call(first, "POST", "users", {"id": uid, "first_name": name})
        welcome = await say(first, CLARA, "/start")
        assert "Welcome to Gigbot" in welcome["text"]
        await press(first, CLARA, welcome, "I hire")
        await first.emulator.wait_for_message(
            CLARA, lambda m: "set up as a client" in m.get("text", ""), timeout=10
        )
        felix_welcome = await say(first, FELIX, "/start")
        before = first.emulator.messages(CLARA)
        last_update_id = first.emulator.next_update_id - 1
    finally:
        await first.stop()
    # While the process is down, a notification for Felix is queued (as one left unsent by
    # a stop is): Felix has not written since, but his chat with the bot is open.
    database = Database(settings.database_url)
    try:
        async with database.uow() as uow:
            await uow.outbox.add(OutboxMessage(chat_id=FELIX, payload={"text": QUEUED}))
            await uow.commit()
    finally:
        await database.dispose()

    second = await start(settings)
    try:
        emu = second.emulator
        assert emu is not first.emulator
        # The page's routes still know the people, with their history.
        view = await page_call(second, "GET", f"chats/{CLARA}")
        assert view["messages"][: len(before)] == before
        # The queued notification is delivered, not dropped as "blocked".
        note = await emu.wait_for_message(FELIX, lambda m: m.get("text") == QUEUED, timeout=10)
        assert note["message_id"] > felix_welcome["message_id"]
        # The same people act again and get answers at once.
        menu = await say(second, CLARA, "/menu")
        assert menu["message_id"] > before[-1]["message_id"]
        assert emu.next_update_id - 1 > last_update_id
        # A button under a message from before the restart still works.
        await press(second, FELIX, felix_welcome, "I work")
        await emu.wait_for_message(
            FELIX, lambda m: "set up as a freelancer" in m.get("text", ""), timeout=10
        )
        assert second.database is not None
        async with second.database.uow() as uow:
            felix: User | None = await uow.users.get(FELIX)
            assert felix is not None and not felix.unreachable
            rows = await uow.outbox.find(chat_id=FELIX)
            assert {r.status for r in rows if r.payload.get("text") == QUEUED} == {"sent"}
    finally:
        await second.stop()
    state = sandbox_state_path(settings.database_url)  # beside the database: gigbot-sandbox.db
    assert state == tmp_path / "gigbot-sandbox.db" and state.exists()


class GigbotProcess:
    """`python -m bot.cli run` (what `make run` runs) in a child process, with no token:
    the sandbox, on a given port and database. Stopped with SIGINT, as Ctrl+C does."""

    def __init__(self, tmp_path: Path, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIGBOT_")}
        env.update(
            GIGBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'gigbot.db'}",
            GIGBOT_HTTP_HOST="127.0.0.1",
            GIGBOT_HTTP_PORT=str(port),
            GIGBOT_LOG_LEVEL="INFO",  # the sender logs a chat found blocked
        )
        self.env, self.cwd = env, tmp_path  # no .env file there
        self.url = f"http://127.0.0.1:{port}"
        self.proc: asyncio.subprocess.Process | None = None
        self.output: list[str] = []

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            env=self.env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert self.proc.stdout is not None
        said: list[str] = []
        async with asyncio.timeout(60):  # the banner says it serves
            while "Open the web chat" not in "".join(said):
                line = await self.proc.stdout.readline()
                assert line, "gigbot exited: " + "".join(said)
                said.append(line.decode())
        self.output += said
        self._drain = asyncio.create_task(self._read_rest())

    async def _read_rest(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.output.append(line.decode())

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(60):
            code = await self.proc.wait()
            await self._drain
        return code

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        async with aiohttp.ClientSession() as session:
            url = f"{self.url}/sandbox/api/{path}"
            async with session.request(method, url, json=body) as resp:
                assert resp.status < 300, (resp.status, await resp.text())
                return await resp.json()

    async def reply(self, user_id: int, text: str) -> dict[str, Any]:
        """Send text as the person and wait (long-polling as the page does) for the bot's
        next message in their chat."""
        sent = await self.call("POST", f"chats/{user_id}/messages", {"text": text})
        return await self.message(user_id, lambda m: m["message_id"] > sent["message_id"])

    async def message(self, user_id: int, match: Any) -> dict[str, Any]:
        version = -1
        async with asyncio.timeout(30):
            while True:
                view = await self.call("GET", f"chats/{user_id}?since={version}&timeout=10")
                for msg in view["messages"]:
                    if msg["from"].get("is_bot") and match(msg):
                        return msg
                version = view["version"]


async def test_gigbot_run_stopped_with_ctrl_c_and_started_again(tmp_path):
    """The same story with the real command in a child process, stopped by SIGINT."""
    app = GigbotProcess(tmp_path, free_port())
    await app.start()
    try:
        for uid, name in ((CLARA, "Clara (client)"), (FELIX, "Felix (freelancer)")):
            await app.call("POST", "users", {"id": uid, "first_name": name})
        assert "Welcome to Gigbot" in (await app.reply(CLARA, "/start"))["text"]
        felix_welcome = await app.reply(FELIX, "/start")
    finally:
        assert await app.stop() == 0

    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'gigbot.db'}")
    try:
        async with database.uow() as uow:
            await uow.outbox.add(OutboxMessage(chat_id=FELIX, payload={"text": QUEUED}))
            await uow.commit()
    finally:
        await database.dispose()

    await app.start()
    try:
        note = await app.message(FELIX, lambda m: m.get("text") == QUEUED)
        assert note["message_id"] > felix_welcome["message_id"]
        menu = await app.reply(CLARA, "/menu")
        history = (await app.call("GET", f"chats/{CLARA}"))["messages"]
        assert history[0]["text"] == "/start" and "Welcome to Gigbot" in history[1]["text"]
        assert menu["message_id"] > history[1]["message_id"]
    finally:
        assert await app.stop() == 0
    assert "blocked the bot" not in "".join(app.output)
