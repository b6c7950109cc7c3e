"""setMyCommands registers the lists derived from the routing table: everyone's
per language (and the default), and the admins' in each admin's chat."""

from __future__ import annotations

from bot.app import Runtime
from handlers.commands import admin_command_menu, command_menu
from handlers.i18n import LANGUAGES

ADMIN = 77


class Api:
    def __init__(self) -> None:
        self.calls: list[tuple[list[tuple[str, str]], object]] = []

    async def set_commands(self, commands, lang):
        self.calls.append((list(commands), lang))

    async def call(self, method, **kw):
        assert method == "setMyCommands" and kw["scope"] == {"type": "chat", "chat_id": ADMIN}
        commands = [(c["command"], c["description"]) for c in kw["commands"]]
        self.calls.append((commands, ("admin", kw.get("language_code"))))


async def test_set_my_commands_registers_the_derived_lists():
    api = Api()
    runtime = object.__new__(Runtime)
    runtime.adapter = type("Adapter", (), {"api": api})()
    runtime.settings = type("Settings", (), {"admin_ids": frozenset({ADMIN})})()
    runtime.database = None  # no one has used the bot yet
    await runtime._set_commands()
    expected = [(command_menu(lang), lang) for lang in (None, *LANGUAGES)]
    expected += [(admin_command_menu(lang), ("admin", lang)) for lang in (None, *LANGUAGES)]
    assert api.calls == expected
    assert [c for c, _ in command_menu("en")][:3] == ["start", "menu", "help"]
    # /cancel is in everyone's menu, in every language (issue 11, item 3).
    for commands, _ in api.calls:
        assert "cancel" in dict(commands)
    assert dict(command_menu("ru"))["cancel"] == "Отменить текущее действие"
