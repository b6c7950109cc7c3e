"""Compact, strictly parsed callback data: "prefix:action[:id[:arg]]".

- prefix: which flow handles the press (routing.button("job") gets "job:…");
- action: what to do, e.g. "pitch", "lang";
- id:     the object's integer id (may be empty when only `arg` is needed);
- arg:    a short extra token, e.g. a page number or a language code.

Encoding asserts Telegram's 64-byte limit. Decoding accepts only this exact
grammar; anything else is a `StaleButton` ("This button is no longer
available.") and has no effect. A button only carries ids: the use case behind
it re-authorises the press every time, so a forged id gets a refusal, never
someone else's object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import DomainError

CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback_data

_NAME = r"[a-z][a-z0-9_]{0,15}"
_ARG = r"[A-Za-z0-9_.\-]{1,32}"
_DATA = re.compile(rf"({_NAME}):({_NAME})(?::(?:(0|[1-9][0-9]{{0,17}})(?::({_ARG}))?|:({_ARG})))?")
_NAME_RE = re.compile(_NAME)
_ARG_RE = re.compile(_ARG)


class StaleButton(DomainError):
    """A button whose data we cannot read, or that no flow handles (any more)."""

    code = "stale_button"

    def __init__(self) -> None:
        super().__init__("stale_button", "This button is no longer available.")


@dataclass(frozen=True, slots=True)
class Callback:
    prefix: str
    action: str
    id: int | None = None
    arg: str | None = None

    def encode(self) -> str:
        return encode(self.prefix, self.action, self.id, self.arg)

    def require_id(self) -> int:
        """The id, for actions that must have one; a press without it is stale."""
        if self.id is None:
            raise StaleButton()
        return self.id


def encode(prefix: str, action: str, id: int | None = None, arg: str | int | None = None) -> str:
    """Callback data for a button; raises ValueError for anything decode() would refuse."""
    if not _NAME_RE.fullmatch(prefix) or not _NAME_RE.fullmatch(action):
        raise ValueError(f"bad callback prefix/action: {prefix!r}:{action!r}")
    data = f"{prefix}:{action}"
    if id is not None:
        if isinstance(id, bool) or not isinstance(id, int) or not 0 <= id < 10**18:
            raise ValueError(f"callback id must be an int in [0, 10**18): {id!r}")
        data += f":{id}"
    if arg is not None:
        arg = str(arg)
        if not _ARG_RE.fullmatch(arg):
            raise ValueError(f"bad callback arg: {arg!r}")
        data += (":" if id is not None else "::") + arg
    size = len(data.encode())
    if size > CALLBACK_LIMIT:
        raise ValueError(f"callback data is {size} bytes (> {CALLBACK_LIMIT}): {data!r}")
    return data


def decode(data: str | None) -> Callback:
    """Parse callback data strictly; raises StaleButton for anything malformed."""
    if not data or len(data.encode()) > CALLBACK_LIMIT:
        raise StaleButton()
    m = _DATA.fullmatch(data)
    if m is None:
        raise StaleButton()
    prefix, action, id_, arg, bare_arg = m.groups()
    return Callback(prefix, action, int(id_) if id_ else None, arg or bare_arg)
