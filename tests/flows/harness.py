"""Play users against the real Engine on a real database, and see their chats.

    h = Harness(db, clock, config)
    alice = h.person("Alice", lang="ru")
    await h.send(alice, "/start")
    await h.press(alice, "🔁 Both")         # a button in Alice's latest message that has it
    await h.upload(alice, "file-id-1", caption="my work")
    h.chat(alice)                           # her messages, as Telegram would show them
    h.last(alice).text                      # the visible text (HTML parsed)

After every event the harness delivers the pending outbox rows as the sender
would: it assigns message ids, applies edits in place, marks the rows sent — and
checks Telegram's rules on each (valid HTML, ≤ 4096 characters, callback data
≤ 64 bytes), so every flow test checks them too.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from domain.config import MarketConfig
from domain.entities import OutboxMessage
from domain.ports import Clock, PaymentGateway
from handlers.callbacks import CALLBACK_LIMIT, decode
from handlers.engine import Engine
from handlers.events import CallbackAnswer, Event, IncomingFile, Keyboard, Outcome
from handlers.routing import ROUTER, Router
from storage.database import Database
from storage.outbox_store import expand_fanout
from tests.flows.telegram_html import utf16_len, visible_text

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    language_code: str | None = "en"
    username: str | None = None


@dataclass
class Message:
    message_id: int
    html: str  # as sent (the caption for a document)
    buttons: Keyboard | None = None
    file_id: str | None = None
    edits: int = 0
    media: str | None = None  # "document" or "photo" (the outbox method) for a file
    chart: dict[str, Any] | None = None  # a "chart" row's spec (media "chart"; see bot/charts.py)

    @property
    def text(self) -> str:
        """What the user sees (HTML parsed)."""
        return visible_text(self.html)

    def labels(self) -> list[str]:
        return [b["text"] for row in self.buttons or [] for b in row]

    def button(self, label: str) -> dict[str, str] | None:
        for row in self.buttons or []:
            for b in row:
                if b["text"] == label:
                    return b
        return None


@dataclass
class Chat:
    messages: list[Message] = field(default_factory=list)
    answers: list[CallbackAnswer | None] = field(default_factory=list)


class Harness:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: MarketConfig | None = None,
        gateway: PaymentGateway | None = None,
        router: Router = ROUTER,
        first_update_id: int = 1,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config or MarketConfig()
        # As the bot runs: read-only routes on SQLite's readers; one that writes fails.
        self.engine = Engine(
            db.uow,
            clock,
            self.config,
            gateway,
            router=router,
            reader_factory=db.read_uow if getattr(db, "splits_reads", False) else None,
            strict_reads=True,
        )
        self.chats: dict[int, Chat] = {}
        self.commands: list[dict[str, Any]] = []
        self._ids = itertools.count(1001)
        self._updates = itertools.count(first_update_id)
        self._messages = itertools.count(1)
        self._queries = itertools.count(1)
        self._sent_as: dict[int | None, int] = {}  # outbox row id → the message it became

    # --- people ----------------------------------------------------------------

    def person(
        self, name: str, lang: str | None = "en", id: int | None = None, username: str | None = None
    ) -> Person:
        return Person(id if id is not None else next(self._ids), name, lang, username)

    def chat_of(self, who: Person | int) -> Chat:
        chat_id = who.id if isinstance(who, Person) else who
        return self.chats.setdefault(chat_id, Chat())

    def chat(self, who: Person | int) -> list[Message]:
        return self.chat_of(who).messages

    def last(self, who: Person | int) -> Message:
        messages = self.chat(who)
        assert messages, "no messages in this chat"
        return messages[-1]

    def texts(self, who: Person | int) -> list[str]:
        return [m.text for m in self.chat(who)]

    def last_answer(self, who: Person) -> CallbackAnswer | None:
        answers = self.chat_of(who).answers
        return answers[-1] if answers else None

    # --- acting ----------------------------------------------------------------

    def _event(self, who: Person, kind: str, update_id: int | None, **kw: Any) -> Event:
        return Event(
            kind=kind,  # type: ignore[arg-type]
            user_id=who.id,
            chat_id=kw.pop("chat_id", who.id),
            update_id=next(self._updates) if update_id is None else update_id,
            user_name=who.name,
            username=who.username,
            language_code=who.language_code,
            **kw,
        )

    async def send(self, who: Person, text: str, update_id: int | None = None) -> Outcome:
        """A text message; "/cmd args" becomes a command event."""
        if text.startswith("/") and len(text) > 1 and not text[1].isspace():
            head, _, args = text[1:].partition(" ")
            command = head.split("@")[0].lower()
            event = self._event(who, "command", update_id, command=command, args=args, text=text)
        else:
            event = self._event(who, "text", update_id, text=text)
        return await self.handle(event)

    async def press(self, who: Person, label: str, update_id: int | None = None) -> Outcome:
        """Press the button labelled `label` in the latest message of who's chat that has it."""
        for message in reversed(self.chat(who)):
            found = message.button(label)
            if found is not None and "data" in found:
                return await self.press_data(who, found["data"], message.message_id, update_id)
        shown = [m.labels() for m in self.chat(who) if m.buttons]
        raise AssertionError(f"no button {label!r} in {who.name}'s chat; buttons: {shown}")

    async def press_data(
        self,
        who: Person,
        data: str,
        message_id: int | None = None,
        update_id: int | None = None,
    ) -> Outcome:
        """Press a button with exactly this callback data (stale or forged ones too)."""
        event = self._event(
            who,
            "button",
            update_id,
            callback_data=data,
            callback_query_id=str(next(self._queries)),
            message_id=message_id,
        )
        outcome = await self.handle(event)
        assert outcome.callback_answer is not None, "a button press went unanswered"
        return outcome

    async def upload(
        self,
        who: Person,
        file: IncomingFile | str,
        caption: str | None = None,
        update_id: int | None = None,
    ) -> Outcome:
        incoming = IncomingFile(file_id=file) if isinstance(file, str) else file
        event = self._event(who, "file", update_id, text=caption, files=(incoming,))
        return await self.handle(event)

    async def handle(self, event: Event) -> Outcome:
        outcome = await self.engine.handle(event)
        if event.kind == "button":
            self.chat_of(event.chat_id).answers.append(outcome.callback_answer)
            answer = outcome.callback_answer
            assert answer is not None and (answer.text is None or len(answer.text) <= 200)
        await self.deliver()
        return outcome

    async def tick(self) -> int:
        done = await self.engine.tick()
        await self.deliver()
        return done

    # --- the sender's part -----------------------------------------------------

    async def deliver(self) -> list[OutboxMessage]:
        """Deliver every pending outbox row in order, checking Telegram's rules (a job's
        alerts expanded into rows first, as the sender does: storage/outbox_store.py)."""
        async with self.db.uow() as uow:
            while await expand_fanout(uow.session):
                pass
            rows = await uow.outbox.find(order_by="id", status="pending")
            for row in rows:
                row.message_id = self._apply(row)
                if row.message_id is not None:
                    self._sent_as[row.id] = row.message_id
                row.status = "sent"
                row.sent_at = self.clock.now()
                row.attempts += 1
            await uow.commit()
        return rows

    def _apply(self, row: OutboxMessage) -> int | None:
        """Deliver one row; returns the id of the message a send became."""
        payload = row.payload
        chat = self.chat_of(row.chat_id)
        buttons = payload.get("buttons")
        check_keyboard(buttons, self.engine.router)
        if row.method == "send":
            check_text(payload["text"], MESSAGE_LIMIT)
            chat.messages.append(Message(next(self._messages), payload["text"], buttons))
            return chat.messages[-1].message_id
        if row.method == "buttons":  # editMessageReplyMarkup, of a message or a sent row's
            message_id = payload.get("message_id") or self._sent_as.get(payload.get("outbox_id"))
            target = next((m for m in chat.messages if m.message_id == message_id), None)
            if target is not None:
                # Telegram refuses an edit that changes nothing ("message is not modified")
                assert target.buttons != buttons, f"buttons row changes nothing: {payload}"
                target.buttons = buttons
                target.edits += 1
        elif row.method == "edit":
            check_text(payload["text"], MESSAGE_LIMIT)
            target = next((m for m in chat.messages if m.message_id == payload["message_id"]), None)
            assert target is not None, f"edit of a message not in chat {row.chat_id}"
            target.html, target.buttons = payload["text"], buttons
            target.edits += 1
        elif row.method in ("document", "photo"):
            caption = payload.get("caption") or ""
            if caption:
                check_text(caption, CAPTION_LIMIT)
            file_id = payload["file_id"]
            assert ":" not in file_id, f"a kept id was sent as a Telegram file_id: {file_id}"
            chat.messages.append(
                Message(next(self._messages), caption, buttons, file_id=file_id, media=row.method)
            )
            return chat.messages[-1].message_id
        elif row.method == "chart":  # a picture drawn by the sender (bot/charts.py)
            caption = payload.get("caption") or ""
            if caption:
                check_text(caption, CAPTION_LIMIT)
            assert payload["chart"]["panels"], payload
            chat.messages.append(
                Message(
                    next(self._messages), caption, buttons, media="chart", chart=payload["chart"]
                )
            )
            return chat.messages[-1].message_id
        elif row.method == "commands":
            self.commands.append(payload)
        else:
            raise AssertionError(f"unknown outbox method {row.method!r}")
        return None


def check_text(text: str, limit: int) -> str:
    """Valid Telegram HTML, non-empty, within the limit (raw HTML, UTF-16: conservative)."""
    visible = visible_text(text)
    assert visible.strip(), f"empty message: {text!r}"
    assert utf16_len(text) <= limit, f"message of {utf16_len(text)} > {limit}"
    return visible


def check_keyboard(buttons: Keyboard | None, router: Router | None = None) -> None:
    """Every button has a label; one with data fits Telegram's 64 bytes, decodes,
    and (given the router) reaches a flow: no screen shows a dead button."""
    for row in buttons or []:
        assert row, "empty keyboard row"
        for b in row:
            assert b.get("text", "").strip(), f"button without text: {b}"
            if "data" in b:
                assert len(b["data"].encode()) <= CALLBACK_LIMIT, b
                pressed = decode(b["data"])  # we only send data we can read back
                if router is not None:
                    found = router.find_button(pressed.prefix, pressed.action)
                    assert found is not None, f"no flow handles {b}"
            else:
                assert b.get("url", "").startswith(("http://", "https://", "tg://")), b
