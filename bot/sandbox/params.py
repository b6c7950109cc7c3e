"""Typed access to Bot API parameters, whichever encoding the client used.

The real server accepts query strings, JSON bodies, urlencoded and multipart forms; in forms
every value is a string and objects arrive JSON-encoded, so each parameter is coerced by
the type the method expects (as the Bot API server does).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.sandbox.errors import ApiError, bad_request

MAX_UPLOAD = 50 * 1024 * 1024  # Bot API upload limit for bots


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


class Params:
    def __init__(self, raw: dict[str, Any], uploads: dict[str, Upload] | None = None) -> None:
        self.raw = raw
        self.uploads = uploads or {}

    def has(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "") or name in self.uploads

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Integer') from None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    def obj(self, name: str, what: str | None = None) -> Any:
        value = self.raw.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {what or name} JSON object") from None
        return value

    def file(self, name: str) -> Upload | str | None:
        """An uploaded part (directly or via attach://), or the string given (a file_id/URL)."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.raw.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            part = self.uploads.get(value.removeprefix("attach://"))
            if part is None:
                raise bad_request(f"file {value} not found in the request")
            return part
        return value if isinstance(value, str) and value else None

    def public(self) -> dict[str, Any]:
        """Parameters as recorded for tests (uploads summarised, not copied)."""
        rec = dict(self.raw)
        for key, up in self.uploads.items():
            rec[key] = f"<upload {up.filename} {len(up.data)} bytes>"
        return rec


async def read_params(request: web.Request) -> Params:
    raw: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if not request.can_read_body:
        return Params(raw)
    ctype = request.content_type
    if ctype.startswith("multipart/"):
        # Streamed reader: not bound by the host app's client_max_size, so uploads up to
        # 50 MB work even when mounted into someone else's Application.
        reader = await request.multipart()
        total = 0
        while (part := await reader.next()) is not None:
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            data = await part.read(decode=True)
            total += len(data)
            if total > MAX_UPLOAD:
                raise ApiError(413, "Request Entity Too Large")
            if part.filename is not None:
                ctype_part = part.headers.get("Content-Type", "application/octet-stream")
                uploads[part.name] = Upload(part.filename, ctype_part, bytes(data))
            else:
                raw[part.name] = data.decode(part.get_charset("utf-8"))
    elif ctype == "application/json":
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            raise bad_request("can't parse JSON request") from None
        if isinstance(body, dict):
            raw.update(body)
    else:
        raw.update(await request.post())
    return Params(raw, uploads)
