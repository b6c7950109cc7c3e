"""The sandbox keeps its Telegram across restarts (issue 11, item 1): users, chats, history
with buttons and files, button presses, pending updates, the counters and the bot's
settings. Each test runs a real client (aiogram) against an emulator with a state file,
stops it, and starts a new emulator on the same file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from aiohttp import web

from bot.sandbox import Emulator, create_sandbox_app

from .conftest import CLARA, FELIX, TOKEN


@asynccontextmanager
async def running(state: Path) -> AsyncIterator[tuple[Emulator, Bot]]:
    """An emulator on its state file, served, with an aiogram bot; stopped on exit the way
    the app stops it (aiohttp's shutdown closes the emulator)."""
    emu = Emulator(TOKEN, state_path=state)
    runner = web.AppRunner(create_sandbox_app(emu), shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    bot = Bot(
        TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(f"http://{host}:{port}"))
    )
    try:
        yield emu, bot
    finally:
        await bot.session.close()
        await runner.cleanup()


async def test_users_history_files_and_settings_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.db"
    async with running(state) as (emu, bot):
        emu.add_user("Clara", user_id=CLARA, username="clara", language_code="en")
        emu.add_user("Felix", user_id=FELIX, language_code="ru")
        emu.send_command(CLARA, "start")
        emu.send_command(FELIX, "start")
        updates = await bot.get_updates()
        last_update = updates[-1].update_id
        await bot.get_updates(offset=last_update + 1)  # confirmed, as a bot does
        sent = await bot.send_message(
            CLARA,
            "Pick <b>one</b>",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="yes")]]
            ),
        )
        await bot.send_document(CLARA, BufferedInputFile(b"%PDF-1.4 brief", "brief.pdf"))
        gone = await bot.send_message(CLARA, "a mistake")
        await bot.delete_message(CLARA, gone.message_id)
        await bot.set_my_commands([BotCommand(command="start", description="Start")])
        await bot.set_my_commands(
            [BotCommand(command="start", description="Начать")], language_code="ru"
        )
        await bot.set_my_commands(
            [BotCommand(command="disputes", description="Open disputes")],
            scope=BotCommandScopeChat(chat_id=FELIX),
        )
        press = emu.press_button(CLARA, sent.message_id, "yes")  # not yet fetched by the bot
        emu.send_text(FELIX, "still there?")
        history = emu.messages(CLARA)

    async with running(state) as (emu, bot):
        assert emu.user(CLARA).username == "clara" and emu.user(FELIX).language_code == "ru"
        assert emu.messages(CLARA) == history  # buttons, entities, the file; the deleted gone
        assert [m.get("text") for m in history] == ["/start", "Pick one", None]
        assert history[1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
        file_id = history[2]["document"]["file_id"]
        got = await bot.get_file(file_id)
        assert got.file_path
        downloaded = await bot.download_file(got.file_path)
        assert downloaded is not None and downloaded.read() == b"%PDF-1.4 brief"

        # What the bot had not fetched is still pending, with ids after the old ones.
        pending = await bot.get_updates()
        assert [u.update_id for u in pending] == [last_update + 1, last_update + 2]
        assert pending[0].callback_query and pending[0].callback_query.data == "yes"
        assert pending[1].message and pending[1].message.text == "still there?"
        # The press can still be answered (it is the same query).
        assert await bot.answer_callback_query(press.id, text="Noted")
        # The people act again: new updates and messages continue the old numbering.
        new = emu.send_text(CLARA, "hello again")
        assert new["message_id"] == history[-1]["message_id"] + 2  # the deleted id not reused
        later = await bot.get_updates(offset=pending[-1].update_id + 1)
        assert [u.update_id for u in later] == [last_update + 3]
        # Chats the people had opened stay open to the bot: no "can't initiate" 403.
        reply = await bot.send_message(FELIX, "yes, still here")
        assert reply.message_id == 3  # after /start and "still there?"
        # The commands, per language and scope.
        assert [c.description for c in await bot.get_my_commands()] == ["Start"]
        assert [c["description"] for c in emu.commands_for(FELIX)] == ["Open disputes"]
        assert [c["description"] for c in emu.commands_for(CLARA, "ru")] == ["Начать"]


async def test_a_webhook_set_before_a_restart_is_delivered_to_after_it(tmp_path: Path) -> None:
    received: list[dict] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", hook)
    hook_runner = web.AppRunner(app)
    await hook_runner.setup()
    site = web.TCPSite(hook_runner, "127.0.0.1", 0)
    await site.start()
    host, port = hook_runner.addresses[0][:2]
    state = tmp_path / "sandbox.db"
    try:
        async with running(state) as (emu, bot):
            emu.add_user("Clara", user_id=CLARA)
            await bot.set_webhook(f"http://{host}:{port}/hook", secret_token="s3cret")
        async with running(state) as (emu, bot):
            info = await bot.get_webhook_info()
            assert info.url == f"http://{host}:{port}/hook"
            emu.send_command(CLARA, "start")
            await emu.wait_for(lambda: received)
            assert received[0]["message"]["text"] == "/start"
    finally:
        await hook_runner.cleanup()


async def test_an_unreadable_state_file_is_set_aside_not_fatal(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.db"
    state.write_bytes(b"not a database at all")
    async with running(state) as (emu, _bot):
        assert emu.users == {} and emu.next_update_id == 1
        emu.add_user("Clara", user_id=CLARA)
    assert (tmp_path / "sandbox.db.unreadable").read_bytes() == b"not a database at all"
    async with running(state) as (emu, _bot):
        assert emu.user(CLARA).first_name == "Clara"  # the new file works
