"""The `gigbot` command: run, sandbox, migrate.

    gigbot run              the marketplace: real Telegram with GIGBOT_BOT_TOKEN
                            (long polling, or a webhook with GIGBOT_WEBHOOK_URL),
                            otherwise the local sandbox
    gigbot sandbox [--demo] the local sandbox explicitly (--demo seeds demo data)
    gigbot migrate          upgrade the database schema to the newest revision

Demo data for `sandbox --demo` comes from `bot/demo.py: async def seed(runtime)`,
called by bot.app.Runtime once the sandbox is up.

Bad settings and start-up failures are reported in one or two lines, without a
stack trace; exit status 2 for settings, 1 for other failures. A real bot token
with GIGBOT_PAYMENTS=sandbox (no real money) is bad settings unless
GIGBOT_ALLOW_SANDBOX_PAYMENTS=true says it is meant.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot.config import Settings, SettingsError, load_settings

EXIT_FAILURE = 1
EXIT_BAD_SETTINGS = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gigbot", description="Gigbot, a freelance marketplace that lives in Telegram."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run",
        help="run the marketplace (without GIGBOT_BOT_TOKEN: the local sandbox)",
        description="Serve real Telegram when GIGBOT_BOT_TOKEN is set (long polling, or a "
        "webhook when GIGBOT_WEBHOOK_URL is set); otherwise start the local sandbox.",
    )
    sandbox = commands.add_parser(
        "sandbox", help="run the local sandbox: a Telegram emulator and a web chat"
    )
    sandbox.add_argument("--demo", action="store_true", help="seed demo users, jobs and contracts")
    commands.add_parser("migrate", help="upgrade the database schema to the newest revision")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"gigbot: {error}", file=sys.stderr)
        return EXIT_BAD_SETTINGS

    sandbox = args.command == "sandbox" or settings.sandbox
    problem = None if args.command == "migrate" else settings.fake_money_problem(sandbox=sandbox)
    if problem:
        print(f"gigbot: invalid settings: {problem}", file=sys.stderr)
        return EXIT_BAD_SETTINGS

    from bot.logging import redact, setup_logging

    setup_logging(settings.log_level, settings.log_json, secrets=settings.secret_values)
    try:
        if args.command == "migrate":
            return _migrate(settings)
        return _serve(settings, sandbox=sandbox, demo=getattr(args, "demo", False))
    except KeyboardInterrupt:
        return 0
    except StartupError as error:  # e.g. PTB's InvalidToken quotes the token
        print(f"gigbot: {redact(str(error))}", file=sys.stderr)
        return EXIT_FAILURE


class StartupError(Exception):
    """A failure an operator can fix (database unreachable, port taken …)."""


def _migrate(settings: Settings) -> int:
    from bot.app import migrate_database

    try:
        asyncio.run(migrate_database(settings.database_url))
    except Exception as error:  # an operator wants the reason, not a traceback
        raise StartupError(f"migration failed: {_reason(error)}") from None
    print(f"gigbot: database {_safe_url(settings.database_url)} is at the newest revision")
    return 0


def _serve(settings: Settings, *, sandbox: bool, demo: bool) -> int:
    from bot.app import Runtime, StartupFailed

    runtime = Runtime(settings, sandbox=sandbox, demo=demo, announce=_say, freeze_gc=True)
    try:
        asyncio.run(runtime.serve())
    except StartupFailed as error:
        raise StartupError(str(error)) from None
    return 0


def _say(text: str) -> None:
    print(text, flush=True)  # stdout may be a pipe (systemd, docker logs)


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
