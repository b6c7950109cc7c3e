"""Mounting the sandbox into an aiohttp application.

Standalone::

    emu = Emulator(admin_user_ids=[1003])
    web.run_app(create_sandbox_app(emu), host="127.0.0.1", port=8081)

Inside the gigbot HTTP server (one app, one port)::

    app = web.Application()
    ...                      # the server's own routes (webhook, /healthz, ...)
    emu.install(app)         # or install(app, emu); before the app starts
    # the bot then uses base URL f"{public_url}" for the Bot API:
    #   aiogram: TelegramAPIServer.from_base(public_url)
    #   PTB:     base_url=f"{public_url}/bot", base_file_url=f"{public_url}/file/bot"

install() adds /bot{token}/{method}, /file/bot{token}/{path}, /sandbox/api/*, the page at
"/" and its static files at /sandbox/static/, plus an on_shutdown hook that releases
long-polls, stops webhook delivery and closes the state file (an on_startup hook resumes
delivery to a webhook kept from before a restart). Pass page=False to skip "/" and the static files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.sandbox.http_bot import bot_routes
from bot.sandbox.user_api import user_routes

if TYPE_CHECKING:
    from bot.sandbox.emulator import Emulator

WEBCHAT_DIR = Path(__file__).with_name("webchat")


def install(app: web.Application, emu: Emulator, *, page: bool = True) -> None:
    app.add_routes(bot_routes(emu))
    app.add_routes(user_routes(emu))
    if page:

        async def index(request: web.Request) -> web.FileResponse:
            return web.FileResponse(WEBCHAT_DIR / "index.html")

        app.router.add_get("/", index)
        app.router.add_static("/sandbox/static/", WEBCHAT_DIR)

    async def on_startup(app: web.Application) -> None:
        emu.resume()

    async def on_shutdown(app: web.Application) -> None:
        await emu.close()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)


def create_sandbox_app(emu: Emulator, *, page: bool = True) -> web.Application:
    """A standalone app serving only the sandbox (Bot API, user API, web page)."""
    app = web.Application(client_max_size=60 * 1024 * 1024)
    install(app, emu, page=page)
    return app
