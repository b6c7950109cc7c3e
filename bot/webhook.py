"""Webhook mode's HTTP side: Telegram POSTs an update; it goes through the durable
intake (bot/intake.py) before the 200.

1. The secret header must match GIGBOT_WEBHOOK_SECRET (constant-time compare);
   otherwise 401/403 and nothing is read or stored.
2. The update is stored and committed BEFORE the 200: once Telegram stops
   retrying, the update is ours (the intake handles it, and recovers it after a crash).
3. A repeated update_id (Telegram retries when our 200 got lost) is answered 200
   and ignored.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from bot.intake import UpdateIntake, update_id_of

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookIntake:
    def __init__(self, intake: UpdateIntake, secret: str) -> None:
        self.intake = intake
        self._secret = secret.encode()
        self.accepting = True

    async def handle_request(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return web.json_response({"ok": False, "error": "missing secret"}, status=401)
        if not hmac.compare_digest(given.encode(), self._secret):
            return web.json_response({"ok": False, "error": "wrong secret"}, status=403)
        if not self.accepting:
            # Shutting down: Telegram retries later, and the next process takes it.
            return web.json_response({"ok": False, "error": "shutting down"}, status=503)
        try:
            payload = await request.json()
        except ValueError:
            return web.json_response({"ok": False, "error": "not JSON"}, status=400)
        if update_id_of(payload) is None:
            return web.json_response({"ok": False, "error": "no update_id"}, status=400)
        # A database error propagates: no 200, so Telegram sends it again.
        await self.intake.receive(payload)
        return web.json_response({"ok": True})
