"""Webhook delivery: one background task per bot POSTs pending updates in order.

An update is dropped only after the webhook answers 2xx; otherwise it is retried (with a
short, growing back-off) before any later update, as Telegram does. A 2xx answer may carry
a Bot API call ("reply in the webhook response", JSON or multipart form, as aiogram sends
it), which is executed like a normal request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.sandbox.params import Params, Upload

if TYPE_CHECKING:
    from bot.sandbox.emulator import Emulator

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookDelivery:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0

    def restart(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="sandbox-webhook")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        emu = self.emu
        backoff = 0.05
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                await emu.wait_for(lambda: emu.updates or emu.closing, timeout=None)
                if emu.closing or not emu.webhook_url:
                    return
                update = emu.updates[0]
                error = await self._post(session, emu.webhook_url, update)
                if error is None:
                    if emu.updates and emu.updates[0]["update_id"] == update["update_id"]:
                        emu.updates.pop(0)
                    self.delivered += 1
                    backoff = 0.05
                    emu.changes.notify()
                    continue
                emu.webhook_last_error = (int(time.time()), error)
                # A retry delay (not synchronisation): the task is cancelled on deleteWebhook.
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    async def _post(
        self, session: aiohttp.ClientSession, url: str, update: dict[str, Any]
    ) -> str | None:
        headers = {}
        if self.emu.webhook_secret:
            headers[SECRET_HEADER] = self.emu.webhook_secret
        try:
            async with session.post(url, json=update, headers=headers) as resp:
                if not 200 <= resp.status < 300:
                    return f"Wrong response from the webhook: {resp.status} {resp.reason}"
                reply = await _reply_call(resp)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"Connection failed: {exc or type(exc).__name__}"
        if reply is not None:
            method, params = reply
            await self.emu.api.handle(method, params)
        return None


async def _reply_call(resp: aiohttp.ClientResponse) -> tuple[str, Params] | None:
    """A Bot API call sent back in the webhook's response body, if any."""
    ctype = resp.content_type
    raw: dict[str, Any] = {}
    uploads: dict[str, Upload] = {}
    if ctype == "application/json":
        try:
            body = json.loads(await resp.read() or b"null")
        except ValueError:
            return None
        if isinstance(body, dict):
            raw = body
    elif ctype.startswith("multipart/"):
        reader = aiohttp.MultipartReader.from_response(resp)
        while (part := await reader.next()) is not None:
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            data = await part.read(decode=True)
            if part.filename is not None:
                ctype_part = part.headers.get("Content-Type", "application/octet-stream")
                uploads[part.name] = Upload(part.filename, ctype_part, bytes(data))
            else:
                raw[part.name] = data.decode()
    method = raw.pop("method", None)
    if not isinstance(method, str) or not method:
        return None
    return method, Params(raw, uploads)
