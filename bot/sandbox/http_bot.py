"""HTTP face of the Bot API: /bot{token}/{method} and /file/bot{token}/{file_path}."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bot.sandbox.errors import ApiError
from bot.sandbox.params import read_params

if TYPE_CHECKING:
    from bot.sandbox.emulator import Emulator

log = logging.getLogger(__name__)


def bot_routes(emu: Emulator) -> list[web.RouteDef]:
    async def method_handler(request: web.Request) -> web.Response:
        if request.match_info["token"] != emu.token:
            return web.json_response(ApiError(401, "Unauthorized").envelope(), status=401)
        received_at = emu.clock()  # before reading the body: what a rate test measures
        method = request.match_info["method"]
        try:
            params = await read_params(request)
            status, body = await emu.api.handle(method, params, received_at)
        except ApiError as exc:
            status, body = exc.code, exc.envelope()
        except Exception:  # a sandbox bug must look like Telegram's 500, not crash the bot
            log.exception("sandbox Bot API failure in %s", method)
            status, body = 500, ApiError(500, "Internal Server Error").envelope()
        return web.json_response(body, status=status)

    async def file_handler(request: web.Request) -> web.Response:
        if request.match_info["token"] != emu.token:
            return web.json_response(ApiError(401, "Unauthorized").envelope(), status=401)
        stored = emu.files_by_path.get(request.match_info["file_path"])
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").envelope(), status=404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    return [
        web.route("*", "/bot{token}/{method}", method_handler),
        web.get("/file/bot{token}/{file_path:.+}", file_handler),
    ]
