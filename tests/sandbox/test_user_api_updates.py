"""GET /sandbox/api/updates: the web page's one long-poll for all its chat columns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from bot.sandbox import Emulator, create_sandbox_app

from .conftest import ADA, CLARA, FELIX

UPDATES = "/sandbox/api/updates"


class Server:
    """The sandbox app on a free port; `parked` is set when an /updates request reaches
    its handler, which then waits without yielding first, so a change made after
    `parked` is a change made while the request is waiting."""

    def __init__(self, session: aiohttp.ClientSession, parked: asyncio.Event) -> None:
        self.session = session
        self.parked = parked

    async def get(self, query: str) -> tuple[int, Any]:
        async with self.session.get(UPDATES + query) as resp:
            return resp.status, await resp.json()


@pytest.fixture
async def server(emu: Emulator) -> AsyncIterator[Server]:
    app = create_sandbox_app(emu)
    parked = asyncio.Event()

    @web.middleware
    async def mark_updates(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path == UPDATES and "since" in request.query:
            parked.set()
        return await handler(request)

    app.middlewares.append(mark_updates)
    runner = web.AppRunner(app, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    async with aiohttp.ClientSession(f"http://{host}:{port}") as session:
        yield Server(session, parked)
    await runner.cleanup()


def chat_ids(body: dict[str, Any]) -> list[int]:
    return [view["chat_id"] for view in body["chats"]]


async def test_without_since_every_users_chat_at_once(emu: Emulator, server: Server) -> None:
    emu.send_text(CLARA, "hello")
    status, body = await server.get("")
    assert status == 200
    assert body["version"] == emu.changes.version
    assert chat_ids(body) == [CLARA, FELIX, ADA]
    clara = body["chats"][0]
    assert [m["text"] for m in clara["messages"]] == ["hello"]
    assert clara == emu.chat_view(CLARA)  # the same view as GET /sandbox/api/chats/{id}
    # every chat's version is at most the answer's, so since=version misses nothing
    assert all(view["version"] <= body["version"] for view in body["chats"])

    _, only = await server.get(f"?chats={FELIX},{CLARA}")
    assert chat_ids(only) == [FELIX, CLARA]


async def test_returns_as_soon_as_a_chat_changes_with_only_the_changed_chats(
    emu: Emulator, server: Server
) -> None:
    _, first = await server.get("")
    since = first["version"]
    poll = asyncio.create_task(server.get(f"?since={since}&timeout=20"))
    await server.parked.wait()
    assert not poll.done()
    sent = emu.send_text(FELIX, "/start")
    status, body = await asyncio.wait_for(poll, 5)  # far sooner than the 20 s timeout
    assert status == 200
    assert chat_ids(body) == [FELIX]
    felix = body["chats"][0]
    assert felix["messages"][-1]["message_id"] == sent["message_id"]
    assert since < felix["version"] <= body["version"] == emu.changes.version

    # the next poll from the answer's version waits for the next change, not this one
    server.parked.clear()
    poll = asyncio.create_task(server.get(f"?since={body['version']}&timeout=20"))
    await server.parked.wait()
    emu.block_bot(ADA)
    _, body = await asyncio.wait_for(poll, 5)
    assert chat_ids(body) == [ADA] and body["chats"][0]["blocked"] is True


async def test_waits_out_the_timeout_when_nothing_changes(emu: Emulator, server: Server) -> None:
    _, first = await server.get("")
    emu.push_update("message", {"text": "not a chat change"})  # bumps only the counter
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, body = await server.get(f"?since={first['version']}&timeout=0.3")
    assert loop.time() - started >= 0.3
    assert status == 200 and body["chats"] == []
    assert body["version"] == emu.changes.version > first["version"]


async def test_chats_filter_ignores_other_chats(emu: Emulator, server: Server) -> None:
    _, first = await server.get("")
    poll = asyncio.create_task(server.get(f"?since={first['version']}&timeout=20&chats={CLARA}"))
    await server.parked.wait()
    emu.send_text(FELIX, "not for this poll")
    await server.get("?chats=1001")  # a round trip: the woken poll has re-checked by now
    assert not poll.done()
    emu.send_text(CLARA, "for this poll")
    _, body = await asyncio.wait_for(poll, 5)
    assert chat_ids(body) == [CLARA]
    assert body["chats"][0]["messages"][-1]["text"] == "for this poll"


async def test_callback_answers_arrive_through_the_poll(
    started: Emulator, server: Server, aio_bot: Bot
) -> None:
    """The page learns a button press's answer from the chat view, with no second poll."""
    emu = started
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Fund", callback_data="fund:1")]]
    )
    msg = await aio_bot.send_message(CLARA, "Fund?", reply_markup=keyboard)
    press = emu.press_button(CLARA, msg.message_id)
    _, before = await server.get(f"?chats={CLARA}")
    assert before["chats"][0]["callbacks"][-1]["answered"] is False
    poll = asyncio.create_task(server.get(f"?since={before['version']}&timeout=20"))
    await server.parked.wait()
    await aio_bot.answer_callback_query(press.id, text="Paid")
    _, body = await asyncio.wait_for(poll, 5)
    [view] = body["chats"]
    answer = view["callbacks"][-1]
    assert (answer["id"], answer["answered"], answer["text"]) == (press.id, True, "Paid")


async def test_bad_requests(server: Server) -> None:
    status, body = await server.get("?chats=999")
    assert status == 404 and "999" in body["error"]
    status, _ = await server.get("?since=soon")
    assert status == 400


async def test_shutdown_releases_a_parked_poll(emu: Emulator, server: Server) -> None:
    _, first = await server.get("")
    poll = asyncio.create_task(server.get(f"?since={first['version']}&timeout=50"))
    await server.parked.wait()
    await emu.close()
    _, body = await asyncio.wait_for(poll, 5)
    assert body["chats"] == []
