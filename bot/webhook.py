"""Webhook mode's HTTP side: Telegram POSTs an update; it goes through the durable
intake (bot/intake.py) before the 200.

1. The secret header must match GIGBOT_WEBHOOK_SECRET (constant-time compare);
   otherwise 401/403 and nothing is read or stored.
2. The body is read with a cap (an update is far below MAX_UPDATE_BYTES) and must
   be a JSON update whose update_id fits the database: anything else is a 400 and
   a log line, never a 500 that Telegram would send again forever.
3. The update is stored and committed BEFORE the 200: once Telegram stops
   retrying, the update is ours (the intake handles it, and recovers it after a crash).
4. A repeated update_id (Telegram retries when our 200 got lost) is answered 200
   and ignored.
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from bot.http import MIB, parse_json, read_body
from bot.intake import UpdateIntake, update_id_of

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1 * MIB


class WebhookIntake:
    def __init__(self, intake: UpdateIntake, secret: str) -> None:
        self.intake = intake
        self._secret = secret.encode()
        self.accepting = True

    async def handle_request(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return web.json_response({"ok": False, "error": "missing secret"}, status=401)
        # aiohttp keeps undecodable header bytes as surrogates: compare the bytes sent.
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self._secret):
            return web.json_response({"ok": False, "error": "wrong secret"}, status=403)
        if not self.accepting:
            # Shutting down: Telegram retries later, and the next process takes it.
            return web.json_response({"ok": False, "error": "shutting down"}, status=503)
        try:
            payload = parse_json(await read_body(request, MAX_UPDATE_BYTES))
        except ValueError as error:
            log.warning("webhook: refused a body that is not JSON: %s", error)
            return web.json_response({"ok": False, "error": "not JSON"}, status=400)
        if update_id_of(payload) is None:
            log.warning("webhook: refused JSON without a valid update_id: %.200r", payload)
            return web.json_response({"ok": False, "error": "no valid update_id"}, status=400)
        # A database error propagates: no 200, so Telegram sends it again.
        await self.intake.receive(payload)
        return web.json_response({"ok": True})
