"""The command list shown in Telegram's menu button, per language.

The runtime registers it with setMyCommands for every language in
handlers.i18n.LANGUAGES (and, with no language, in English as the default), and
the admin list for each admin's chat. Descriptions are catalog keys "cmd.<name>",
defined once, in messages.po (cmd.pitches lives in pitch.po). Every command a
flow registers with @command belongs here (tests/flows/test_start_menu.py checks).
"""

from __future__ import annotations

from handlers.i18n import LANGUAGES, translator

USER_COMMANDS: tuple[str, ...] = (
    "start",
    "menu",
    "help",
    "settings",
    "jobs",
    "post",
    "myjobs",
    "pitches",
    "profile",
    "alerts",
    "contracts",
    "message",
    "balance",
    "mydisputes",
    "rate",
    "reputation",
    "report",
)
ADMIN_COMMANDS: tuple[str, ...] = (
    "disputes",
    "dispute",
    "resolve",
    "ban",
    "unban",
    "user",
    "stats",
    "audit",
    "reports",
)


def command_menu(lang: str | None) -> list[tuple[str, str]]:
    """[(command, description)] for everyone, in `lang`."""
    t = translator(lang)
    return [(name, t.plain(f"cmd.{name}")) for name in USER_COMMANDS]


def admin_command_menu(lang: str | None) -> list[tuple[str, str]]:
    """Everyone's commands plus the admin ones (for the admins' chats)."""
    t = translator(lang)
    return command_menu(lang) + [(name, t.plain(f"cmd.{name}")) for name in ADMIN_COMMANDS]


def all_command_menus() -> dict[str, list[tuple[str, str]]]:
    """{language: command list} for every supported language."""
    return {lang: command_menu(lang) for lang in LANGUAGES}
