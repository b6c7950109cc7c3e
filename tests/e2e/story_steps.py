"""People acting through the Bot API emulator's user API, and what they see.

    s = Stage(emu)
    await s.send(CLARA, "/start")
    await s.sees(CLARA, "Welcome to Gigbot")        # waits; no sleeps
    await s.press(CLARA, "💼 I hire (client)")      # a button that appeared since her last action
    await s.upload(FELIX, b"...", "bot.zip", caption="my work")
    await s.pay(url)                                # POSTs the sandbox payment page's form

"Fresh" means new or changed (edited text or buttons) since the person's own last
action: a reply edits a message in place as often as it sends a new one, and a
button is pressed on the screen the previous step produced, never on an older one
that happens to carry the same label.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urljoin

import aiohttp

from bot.app import Runtime
from bot.config import Settings
from bot.sandbox import Emulator
from storage.database import Database

Message = dict[str, Any]
WAIT_S = 10.0  # generous on a busy 2-core machine; a wait ends as soon as the reply is there


def visible(message: Message) -> str:
    return message.get("text") or message.get("caption") or ""


def labels(message: Message) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


def button(message: Message, label: str) -> dict[str, Any] | None:
    markup = message.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for b in row:
            if b["text"] == label:
                return b
    return None


def _fingerprint(message: Message) -> tuple[int, str]:
    shown = json.dumps([visible(message), message.get("reply_markup")], sort_keys=True)
    return message["message_id"], shown


class Stage:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self._marks: dict[int, set[tuple[int, str]]] = {}

    # --- seeing ---------------------------------------------------------------------

    def _bot_messages(self, user_id: int) -> list[Message]:
        return [m for m in self.emu.messages(user_id) if m["from"].get("is_bot")]

    def fresh(self, user_id: int) -> list[Message]:
        """Bot messages new or changed since the person's last action, newest last."""
        mark = self._marks.get(user_id, set())
        return [m for m in self._bot_messages(user_id) if _fingerprint(m) not in mark]

    def _mark(self, user_id: int) -> None:
        self._marks[user_id] = {_fingerprint(m) for m in self._bot_messages(user_id)}

    async def sees(self, user_id: int, *fragments: str, timeout: float = WAIT_S) -> Message:  # noqa: ASYNC109
        """Wait for a fresh message whose visible text has all the fragments."""

        def find() -> Message | None:
            for message in reversed(self.fresh(user_id)):
                if all(f in visible(message) for f in fragments):
                    return message
            return None

        try:
            return await self.emu.wait_for(find, timeout)
        except TimeoutError:
            shown = [visible(m)[:300] for m in self.fresh(user_id)]
            raise AssertionError(
                f"user {user_id} did not see {fragments!r}; fresh: {shown}"
            ) from None

    async def sees_any(self, user_id: int, *alternatives: str, timeout: float = WAIT_S) -> str:  # noqa: ASYNC109
        """Wait for a fresh message with any of the alternatives; return the one seen."""

        def find() -> str | None:
            for message in reversed(self.fresh(user_id)):
                for alternative in alternatives:
                    if alternative in visible(message):
                        return alternative
            return None

        return await self.emu.wait_for(find, timeout)

    async def sees_file(self, user_id: int, timeout: float = WAIT_S) -> Message:  # noqa: ASYNC109
        def find() -> Message | None:
            return next((m for m in self.fresh(user_id) if "document" in m), None)

        return await self.emu.wait_for(find, timeout)

    # --- acting ---------------------------------------------------------------------

    async def send(self, user_id: int, text: str) -> None:
        """Type a message ("/cmd args" is a command with Telegram's entity)."""
        self._mark(user_id)
        self.emu.send_text(user_id, text)

    async def upload(
        self, user_id: int, data: bytes, file_name: str, caption: str | None = None
    ) -> None:
        self._mark(user_id)
        self.emu.send_document(user_id, data, file_name, caption=caption)

    async def press(
        self,
        user_id: int,
        label: str,
        timeout: float = WAIT_S,  # noqa: ASYNC109
        *,
        fresh: bool = True,
    ) -> Message:
        """Press the button labelled `label` once it shows on a fresh message (or, with
        fresh=False, on any message); wait for the callback's answer. Returns the
        message the button was on."""

        def find() -> Message | None:
            pool = self.fresh(user_id) if fresh else self._bot_messages(user_id)
            for message in reversed(pool):
                found = button(message, label)
                if found is not None and "callback_data" in found:
                    return message
            return None

        try:
            message = await self.emu.wait_for(find, timeout)
        except TimeoutError:
            shown = [labels(m) for m in self._bot_messages(user_id)[-4:] if labels(m)]
            raise AssertionError(
                f"user {user_id}: no button {label!r}; last ones: {shown}"
            ) from None
        self._mark(user_id)
        press = self.emu.press_button(user_id, message["message_id"], text=label)
        await self.emu.wait_for_callback_answer(press.id, timeout)
        return message

    async def url_of(self, user_id: int, label: str, timeout: float = WAIT_S) -> str:  # noqa: ASYNC109
        """The URL of a link button that shows on a fresh message."""

        def find() -> str | None:
            for message in reversed(self.fresh(user_id)):
                found = button(message, label)
                if found is not None and "url" in found:
                    return found["url"]
            return None

        return await self.emu.wait_for(find, timeout)


async def pay_on_page(url: str, action: str = "pay") -> tuple[str, str]:
    """What a browser does on the sandbox payment page: GET it, POST its form with the
    chosen button (action=pay|decline), follow the 303 back. Returns both pages."""
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as page:
            assert page.status == 200, await page.text()
            form = await page.text()
        found = re.search(r'<form method="post" action="([^"]+)"', form)
        assert found and f'name="action" value="{action}"' in form, form
        target = urljoin(url, html.unescape(found.group(1)))
        async with session.post(target, data={"action": action}) as done:
            assert done.status == 200, await done.text()
            return form, await done.text()


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Runtime]:
    rt = Runtime(settings, announce=lambda _: None, polling_timeout_s=1, shutdown_timeout_s=5)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


@asynccontextmanager
async def database_of(rt: Runtime) -> AsyncIterator[Database]:
    db = Database(rt.settings.database_url)
    try:
        yield db
    finally:
        await db.dispose()


async def post_fixed_job(
    s: Stage, client: int, title: str, description: str, category: str, skill: str, budget: str
) -> None:
    """The post-job wizard start to finish: a fixed-price job with no deadline, published."""
    await s.send(client, "/post")
    await s.sees(client, "step 1 of 7")
    await s.send(client, title)
    await s.sees(client, "Step 2 of 7")
    await s.send(client, description)
    await s.press(client, category)
    await s.press(client, skill)
    await s.press(client, "✅ Done")
    await s.press(client, "💰 Fixed price")
    await s.sees(client, "Step 6 of 7")
    await s.send(client, budget)
    await s.press(client, "⏭ No deadline")
    await s.sees(client, "Preview", title, f"${int(budget):,}.00")
    await s.press(client, "🚀 Publish")
    await s.sees(client, "Published", title)
