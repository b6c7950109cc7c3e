"""The whole runtime (bot.app.Runtime: database, engine, adapter, dispatcher, sender,
HTTP) with the real aiogram and python-telegram-bot against the Bot API emulator on
loopback, by long polling and by webhook: 2 frameworks × 2 modes."""

from __future__ import annotations

import asyncio
import socket

import pytest

from bot.app import Runtime
from bot.config import Settings
from domain.entities import User
from storage.database import Database
from tests.e2e.harness import ADA, CLARA, FRAMEWORKS, make_emulator, serve_emulator

SECRET = "e2e_Secret-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_for(framework: str, mode: str, api_base: str, token: str, db_path) -> Settings:
    port = free_port()
    webhook = {"webhook_url": f"http://127.0.0.1:{port}/tg/hook", "webhook_secret": SECRET}
    return Settings(
        _env_file=None,
        bot_token=token,
        framework=framework,
        telegram_api_base=api_base,
        database_url=f"sqlite+aiosqlite:///{db_path}",
        http_host="127.0.0.1",
        http_port=port,
        public_url=f"http://127.0.0.1:{port}",
        admin_ids=str(ADA),
        send_rate=200,
        private_chat_rate=50,
        allow_sandbox_payments=True,  # a test bot with a token: sandbox payments on purpose
        **(webhook if mode == "webhook" else {}),
    )


@pytest.fixture
def emu():
    return make_emulator()


@pytest.fixture(
    params=[(f, m) for f in FRAMEWORKS for m in ("polling", "webhook")],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
async def runtime(request, emu, tmp_path):
    framework, mode = request.param
    async with serve_emulator(emu) as api_base:
        settings = settings_for(framework, mode, api_base, emu.token, tmp_path / "e2e.db")
        said: list[str] = []
        rt = Runtime(settings, announce=said.append, polling_timeout_s=1, shutdown_timeout_s=5)
        await rt.start()
        rt.said = said  # type: ignore[attr-defined]
        try:
            yield rt
        finally:
            await rt.stop()


async def test_start_choose_role_reply_appears(runtime, emu):
    assert runtime.said and "@gigbot_sandbox_bot" in runtime.said[0]
    if runtime.webhook_mode:
        assert emu.webhook_url == runtime.settings.webhook_url
        assert emu.webhook_secret == SECRET
    # The command menu was registered in every language.
    assert any(c["command"] == "start" for c in emu.commands_for(CLARA))
    assert not any(c["command"] == "disputes" for c in emu.commands_for(CLARA))
    assert any(c["command"] == "disputes" for c in emu.commands_for(ADA))  # admins' own menu

    emu.send_command(CLARA, "start")
    welcome = await emu.wait_for_message(CLARA, lambda m: "Welcome to Gigbot" in m["text"])
    press = emu.press_button(CLARA, welcome["message_id"], text="💼 I hire (client)")
    answered = await emu.wait_for_callback_answer(press.id)
    assert answered.text == "Saved."
    edited = await emu.wait_for_message(
        CLARA, lambda m: m["message_id"] == welcome["message_id"] and "edit_date" in m
    )
    assert "You're set up as a client" in edited["text"]

    # The reply can arrive before the webhook's stored copy is forgotten: wait for
    # every accepted update to finish, its after-handling step included.
    await runtime.dispatcher.drain()
    db = Database(runtime.settings.database_url)
    try:
        async with db.uow() as uow:
            user = await uow.users.get(CLARA)
            assert isinstance(user, User) and user.is_client and not user.is_freelancer
            assert await uow.stored_updates.find(order_by="update_id") == []
    finally:
        await db.dispose()


async def test_deep_link_and_bad_input_get_answers(runtime, emu):
    emu.send_command(CLARA, "start", "job_999999")
    reply = await emu.wait_for_message(CLARA)
    assert reply["text"]  # some clear answer, not silence
    last = reply["message_id"]
    emu.send_text(CLARA, "🤷 what?")
    answer = await emu.wait_for_message(CLARA, after=last)
    assert answer["text"]


async def test_blocking_the_bot_marks_the_user_unreachable(runtime, emu):
    emu.send_command(CLARA, "start")
    await emu.wait_for_message(CLARA, lambda m: "Welcome to Gigbot" in m["text"])
    engine = runtime.dispatcher.handler
    handled = asyncio.Event()

    class Watch:  # the real engine, observed: set once the "blocked" event committed
        async def handle(self, event):
            outcome = await engine.handle(event)
            if event.kind == "blocked":
                handled.set()
            return outcome

    runtime.dispatcher.handler = Watch()
    emu.block_bot(CLARA)
    await asyncio.wait_for(handled.wait(), 5)
    db = Database(runtime.settings.database_url)
    try:
        async with db.uow() as uow:
            user = await uow.users.get(CLARA)
            assert user is not None and user.unreachable
    finally:
        await db.dispose()
