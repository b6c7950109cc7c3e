"""Local Telegram sandbox: a Bot API emulator, its user-side API and a web chat page.

    from bot.sandbox import Emulator, Limits, create_sandbox_app

    emu = Emulator(token, admin_user_ids=[1003], limits=Limits())   # limits off by default
    app = create_sandbox_app(emu)     # or emu.install(existing_app) — see bot.sandbox.app

The bot talks to it as to api.telegram.org (base URL = where the app listens). Tests act as
users with emu.add_user / send_text / send_command / send_document / press_button /
block_bot and read chats with emu.messages(chat_id) or await emu.wait_for_message(...).
"""

from bot.sandbox.app import create_sandbox_app, install
from bot.sandbox.emulator import DEFAULT_TOKEN, Emulator
from bot.sandbox.errors import ApiError
from bot.sandbox.limits import Limits
from bot.sandbox.models import BotCall, CallbackPress, SandboxUser

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "BotCall",
    "CallbackPress",
    "Emulator",
    "Limits",
    "SandboxUser",
    "create_sandbox_app",
    "install",
]
