"""The command menu follows the bot language a person chooses in /settings (issue 11,
item 16): Telegram would otherwise keep showing the menu of their app's language. Real
aiogram and python-telegram-bot, the real Runtime, the emulator's scope rules."""

from __future__ import annotations

import pytest

from handlers.commands import admin_command_menu, command_menu
from tests.e2e.harness import ADA, CLARA, FRAMEWORKS, make_emulator, serve_emulator
from tests.e2e.story_steps import Stage, running
from tests.e2e.test_runtime import settings_for


def menu(emu, user_id: int) -> dict[str, str]:
    return {c["command"]: c["description"] for c in emu.commands_for(user_id)}


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_the_menu_follows_the_language_chosen_in_settings(framework, tmp_path):
    emu = make_emulator()
    async with serve_emulator(emu) as api_base:
        settings = settings_for(framework, "polling", api_base, emu.token, tmp_path / "m.db")
        async with running(settings):
            s = Stage(emu)
            assert emu.user(CLARA).language_code == "en"
            assert menu(emu, CLARA) == dict(command_menu("en"))
            await s.send(CLARA, "/start")
            await s.press(CLARA, "💼 I hire (client)")
            await s.send(CLARA, "/settings")
            await s.press(CLARA, "Русский")
            await emu.wait_for(lambda: menu(emu, CLARA) == dict(command_menu("ru")))
            # Back to English: the chat's menu follows again.
            await s.press(CLARA, "English", fresh=False)
            await emu.wait_for(lambda: menu(emu, CLARA) == dict(command_menu("en")))

            # An admin keeps the admin commands, in the chosen language, over the
            # per-language admin menus set at start-up.
            assert menu(emu, ADA) == dict(admin_command_menu(None))
            await s.send(ADA, "/settings")
            await s.press(ADA, "Русский")
            await emu.wait_for(lambda: menu(emu, ADA) == dict(admin_command_menu("ru")))
