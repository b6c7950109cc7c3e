"""The JSON user API the web page uses, and the page itself."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton
from aiogram.types import ReplyKeyboardMarkup as ReplyKb

from bot.sandbox import Emulator
from bot.sandbox.app import WEBCHAT_DIR

from .conftest import ADA, CLARA


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=base_url + "/") as session:
        yield session


async def test_users_created_idempotently(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.get("sandbox/api/config") as resp:
        config = await resp.json()
    assert config["admin_user_ids"] == [ADA] and config["bot"]["is_bot"] is True
    new = {"id": 1004, "first_name": "Grace", "username": "grace", "language_code": "fr"}
    async with http.post("sandbox/api/users", json=new) as resp:
        assert resp.status == 201
    async with http.post("sandbox/api/users", json=new) as resp:
        assert resp.status == 200  # already there: returned, not duplicated
    async with http.post("sandbox/api/users", json={"first_name": "Auto"}) as resp:
        auto = await resp.json()
    async with http.get("sandbox/api/users") as resp:
        ids = [u["id"] for u in await resp.json()]
    assert ids == [1001, 1002, 1003, 1004, auto["id"]]
    assert emu.user(1004).language_code == "fr"
    async with http.post("sandbox/api/users", json={"first_name": ""}) as resp:
        assert resp.status == 400
    async with http.get("sandbox/api/chats/999") as resp:
        assert resp.status == 404


async def test_chat_long_poll_message_and_button(
    emu: Emulator, http: aiohttp.ClientSession, aio_bot: Bot
) -> None:
    async with http.post(f"sandbox/api/chats/{CLARA}/messages", json={"text": "/start"}) as resp:
        sent = await resp.json()
    assert sent["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
    async with http.get(f"sandbox/api/chats/{CLARA}") as resp:
        view = await resp.json()
    version = view["version"]

    async def long_poll() -> dict:
        async with http.get(f"sandbox/api/chats/{CLARA}?since={version}&timeout=20") as r:
            return await r.json()

    poll = asyncio.create_task(long_poll())
    await emu.wait_for(lambda: emu.changes.version >= version)  # poll is parked or will see it
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Fund $50", callback_data="fund:1")]]
    )
    bot_msg = await aio_bot.send_message(CLARA, "Fund milestone?", reply_markup=keyboard)
    changed = await asyncio.wait_for(poll, 5)
    assert changed["version"] > version
    assert [m["text"] for m in changed["messages"]] == ["/start", "Fund milestone?"]

    body = {"message_id": bot_msg.message_id, "data": "fund:1"}
    async with http.post(f"sandbox/api/chats/{CLARA}/callbacks", json=body) as resp:
        press = await resp.json()
    wait = asyncio.create_task(http.get(f"sandbox/api/callbacks/{press['id']}?timeout=20"))
    updates = await aio_bot.get_updates()
    query = updates[-1].callback_query
    assert query and query.data == "fund:1" and query.message
    assert query.message.message_id == bot_msg.message_id
    await aio_bot.answer_callback_query(query.id, text="Opening payment page…")
    async with await asyncio.wait_for(wait, 5) as resp:
        answer = await resp.json()
    assert answer["answered"] and answer["text"] == "Opening payment page…"
    with pytest.raises(Exception, match="query is too old"):
        await aio_bot.answer_callback_query(query.id)
    bad = {"message_id": bot_msg.message_id, "data": "forged"}
    async with http.post(f"sandbox/api/chats/{CLARA}/callbacks", json=bad) as resp:
        assert resp.status == 400


async def test_document_upload_block_and_reply_keyboard(
    emu: Emulator, http: aiohttp.ClientSession, aio_bot: Bot
) -> None:
    form = aiohttp.FormData()
    form.add_field("file", b"spec", filename="spec.md", content_type="text/markdown")
    form.add_field("caption", "the spec")
    async with http.post(f"sandbox/api/chats/{CLARA}/documents", data=form) as resp:
        msg = await resp.json()
    file_id = msg["document"]["file_id"]
    assert msg["caption"] == "the spec"
    async with http.get(f"sandbox/api/files/{file_id}") as resp:
        assert await resp.read() == b"spec"
    tg_file = await aio_bot.get_file(file_id)
    assert tg_file.file_path and tg_file.file_path.endswith(".md")

    kb = ReplyKb(keyboard=[[KeyboardButton(text="Yes"), KeyboardButton(text="No")]])
    await aio_bot.send_message(CLARA, "Sure?", reply_markup=kb)
    assert emu.chat_view(CLARA)["reply_keyboard"]["keyboard"][0][1]["text"] == "No"

    async with http.post(f"sandbox/api/chats/{CLARA}/block") as resp:
        assert (await resp.json())["blocked"] is True
    assert emu.chats[CLARA].blocked
    async with http.post(f"sandbox/api/chats/{CLARA}/unblock") as resp:
        assert (await resp.json())["blocked"] is False
    kinds = [next(k for k in u if k != "update_id") for u in emu.updates]
    assert kinds == ["message", "my_chat_member", "my_chat_member"]


async def test_page_and_static_files(http: aiohttp.ClientSession) -> None:
    async with http.get("") as resp:
        page = await resp.text()
    assert resp.status == 200 and "Gigbot sandbox" in page
    for asset in ("sandbox/static/app.js", "sandbox/static/style.css"):
        async with http.get(asset) as resp:
            assert resp.status == 200
    script = (WEBCHAT_DIR / "app.js").read_text()
    assert not re.search(r"\.(inner|outer)HTML|insertAdjacentHTML|document\.write", script)
    # relative URLs only, so the page works on any host/port or mount point
    assert not re.search(r"""["'`]/(sandbox|bot|file)""", script + page)
    assert "//cdn" not in page and "https://" not in page


async def test_install_into_an_existing_app() -> None:
    """How the gigbot HTTP server mounts the sandbox next to its own routes."""
    from aiohttp import web

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    emu = Emulator(admin_user_ids=[ADA])
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    emu.install(app)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession(f"http://{host}:{port}") as session:
            async with session.get("/healthz") as resp:
                assert await resp.text() == "ok"
            async with session.get(f"/bot{emu.token}/getMe") as resp:
                assert (await resp.json())["result"]["username"] == "gigbot_sandbox_bot"
            async with session.get("/") as resp:
                assert "Gigbot sandbox" in await resp.text()
            poll = asyncio.create_task(session.get(f"/bot{emu.token}/getUpdates?timeout=50"))
            await emu.wait_for(lambda: emu.calls_to("getUpdates"))
            await runner.cleanup()  # shutdown releases the parked long-poll at once
            async with await asyncio.wait_for(poll, 5) as resp:
                assert (await resp.json())["result"] == []
    finally:
        await runner.cleanup()


async def test_markup_typed_by_a_person_is_no_command(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    text = "I typed </b> and <i>/x</i>, see /help"
    async with http.post(f"sandbox/api/chats/{CLARA}/messages", json={"text": text}) as resp:
        sent = await resp.json()
    commands = [text[e["offset"] : e["offset"] + e["length"]] for e in sent["entities"]]
    assert commands == ["/help"]  # as Telegram: no command right after or before < or >


async def test_a_person_s_app_language_picks_the_command_menu(
    emu: Emulator, http: aiohttp.ClientSession, aio_bot: Bot
) -> None:
    from aiogram.types import BotCommand

    await aio_bot.set_my_commands([BotCommand(command="alerts", description="Job alerts")])
    await aio_bot.set_my_commands(
        [BotCommand(command="alerts", description="Оповещения о заказах")], language_code="ru"
    )
    menu = f"sandbox/api/chats/{CLARA}/commands"
    async with http.get(menu) as resp:
        assert [c["description"] for c in await resp.json()] == ["Job alerts"]
    async with http.get(menu, params={"language_code": "ru"}) as resp:
        assert [c["description"] for c in await resp.json()] == ["Оповещения о заказах"]
    lang = f"sandbox/api/users/{CLARA}/language"
    async with http.post(lang, json={"language_code": "ru"}) as resp:
        assert (await resp.json())["language_code"] == "ru"
    assert emu.user(CLARA).language_code == "ru"
    async with http.get(menu) as resp:
        assert [c["description"] for c in await resp.json()] == ["Оповещения о заказах"]
    emu.send_command(CLARA, "start")  # the bot sees her new language
    assert emu.updates[-1]["message"]["from"]["language_code"] == "ru"
    async with http.post(lang, json={"language_code": "<b>"}) as resp:
        assert resp.status == 400
