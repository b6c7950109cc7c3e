"""The command list shown in Telegram's menu button, per language, and in /help.

Derived from the routing table (handlers.routing): every command a flow declares
with @command is listed, in its declared `order`, everyone's first and then the
admins' (admin=True). Descriptions are the catalog entries "cmd.<name>", in the
flow's .po file or messages.po. The runtime registers the list with
setMyCommands for every language in handlers.i18n.LANGUAGES (and, with no
language, in English as the default), and the admin list for each admin's chat.
"""

from __future__ import annotations

from typing import Any

from handlers.i18n import LANGUAGES, translator
from handlers.routing import ROUTER, CommandRoute


def _routes(admin: bool) -> list[CommandRoute]:
    from handlers.flows import load_flows

    load_flows()  # the flows declare the commands when imported (idempotent)
    return ROUTER.listed(admin)


def user_commands() -> tuple[str, ...]:
    """Everyone's commands, in list order."""
    return tuple(r.name for r in _routes(admin=False))


def admin_commands() -> tuple[str, ...]:
    """The admin-only commands, in list order."""
    return tuple(r.name for r in _routes(admin=True))


def command_menu(lang: str | None) -> list[tuple[str, str]]:
    """[(command, description)] for everyone, in `lang`."""
    t = translator(lang)
    return [(r.name, t.plain(r.description_key)) for r in _routes(admin=False)]


def admin_command_menu(lang: str | None) -> list[tuple[str, str]]:
    """Everyone's commands plus the admin ones (for the admins' chats)."""
    t = translator(lang)
    return command_menu(lang) + [(r.name, t.plain(r.description_key)) for r in _routes(admin=True)]


def all_command_menus() -> dict[str, list[tuple[str, str]]]:
    """{language: command list} for every supported language."""
    return {lang: command_menu(lang) for lang in LANGUAGES}


def chat_menus(lang: str | None, admin: bool) -> list[dict[str, Any]]:
    """The outbox payloads that make one chat's command menu follow the bot language the
    person chose in /settings (Telegram would otherwise follow their app's language). A
    chat-scoped menu wins over the global ones; it is set for every language code Telegram
    may pick by, because the admins' chats already have per-language menus from start-up."""
    commands = admin_command_menu(lang) if admin else command_menu(lang)
    rows = [[c, d] for c, d in commands]
    return [{"language": code, "commands": rows} for code in (None, *LANGUAGES)]
