"""Run the sandbox alone: ``python -m bot.sandbox --port 8081 --admin 1003``.

Point a bot at it with GIGBOT_TELEGRAM_API_BASE=http://127.0.0.1:8081 and the printed token.
``--state FILE`` keeps users, chats and history across restarts (as `gigbot run` does).
"""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from bot.sandbox.app import create_sandbox_app
from bot.sandbox.emulator import DEFAULT_TOKEN, Emulator


def main() -> None:
    parser = argparse.ArgumentParser(description="Gigbot local Telegram sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--admin", type=int, action="append", default=[], help="admin user id")
    parser.add_argument("--state", help="file keeping the sandbox's state across restarts")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    emu = Emulator(
        args.token,
        admin_user_ids=args.admin or [1003],
        state_path=args.state,
        inline_placeholder="Search jobs…",
    )
    print(f"Sandbox chat: http://{args.host}:{args.port}/  bot token: {args.token}")
    web.run_app(create_sandbox_app(emu), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
