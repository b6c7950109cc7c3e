"""Webhook intake: Telegram POSTs an update; we keep it durably, answer 200, handle it.

1. The secret header must match GIGBOT_WEBHOOK_SECRET (constant-time compare);
   otherwise 401/403 and nothing is read or stored.
2. The update is inserted into stored_updates (idempotent on update_id) and
   committed BEFORE the 200: once Telegram stops retrying, the update is ours.
3. It is handed to the dispatcher; once handled, its row is deleted. A crash in
   between leaves the row, and `recover()` at the next start handles it first.
4. A repeated update_id (Telegram retries when our 200 got lost) is answered 200
   and ignored: it is still stored, or the engine already recorded it as processed.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from bot.dispatch import DispatcherClosed, UpdateDispatcher
from domain.entities import StoredUpdate
from handlers.events import Event, Outcome
from storage.database import Database

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Errors after which the update is kept for the next start (the database was away),
# rather than dropped: anything else is a bug that would fail again at every restart.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, OSError)

Parse = Callable[[dict[str, Any]], Event | None]


class WebhookIntake:
    def __init__(
        self,
        database: Database,
        parse: Parse,
        dispatcher: UpdateDispatcher,
        secret: str,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.database = database
        self.parse = parse
        self.dispatcher = dispatcher
        self._secret = secret.encode()
        self._now = now or database.now
        self.accepting = True

    # -- HTTP ------------------------------------------------------------------

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
        update_id = payload.get("update_id") if isinstance(payload, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return web.json_response({"ok": False, "error": "no update_id"}, status=400)

        if await self.store(update_id, payload):
            try:
                await self._submit(update_id, payload)
            except DispatcherClosed:
                pass  # stored: recover() handles it at the next start
        return web.json_response({"ok": True})

    # -- durable store -------------------------------------------------------------

    async def store(self, update_id: int, payload: dict[str, Any]) -> bool:
        """Keep the update; False if it is already kept or was already processed."""
        try:
            async with self.database.uow() as uow:
                if await uow.stored_updates.get(update_id) is not None:
                    return False
                if await uow.processed_updates.get(update_id) is not None:
                    return False
                await uow.stored_updates.add(
                    StoredUpdate(update_id=update_id, payload=payload, received_at=self._now())
                )
                await uow.commit()
        except IntegrityError:
            return False  # the same update arrived twice at once; the other one keeps it
        return True

    async def forget(self, update_id: int) -> None:
        async with self.database.uow() as uow:
            row = await uow.stored_updates.get(update_id)
            if row is not None:
                await uow.stored_updates.delete(row)
                await uow.commit()

    async def recover(self) -> int:
        """Hand every update left by a previous process to the dispatcher, oldest first."""
        async with self.database.uow() as uow:
            rows = await uow.stored_updates.find(order_by="update_id")
            left = [(row.update_id, dict(row.payload)) for row in rows]
        for update_id, payload in left:
            await self._submit(update_id, payload)
        if left:
            log.info("recovered %d stored update(s) from a previous run", len(left))
        return len(left)

    # -- handling -----------------------------------------------------------------------

    async def _submit(self, update_id: int, payload: dict[str, Any]) -> None:
        try:
            event = self.parse(payload)
        except Exception:
            log.exception("update %s cannot be parsed; dropped", update_id)
            event = None
        if event is None:  # nothing the marketplace reacts to
            await self.forget(update_id)
            return
        await self.dispatcher.submit(event, self._after)

    async def _after(
        self, event: Event, outcome: Outcome | None, error: BaseException | None
    ) -> None:
        assert event.update_id is not None
        if error is not None and isinstance(error, TRANSIENT_ERRORS):
            log.warning("update %s kept for a retry after: %s", event.update_id, error)
            return
        await self.forget(event.update_id)
