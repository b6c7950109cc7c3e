"""What a flow step gets: the event, the unit of work, the user, and ways to answer.

`Scope` is the part that needs no incoming event (notification renderers and
the deadline ticks get one); `Context` adds the event, the acting user, replies,
the callback answer and the conversation state.

Everything said goes to the outbox in the current transaction: if the step
fails, nothing it "said" is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from domain.config import MarketConfig
from domain.entities import ConversationState, Draft, OutboxMessage, User
from domain.ports import Clock, PaymentGateway, UnitOfWork
from handlers.callbacks import Callback
from handlers.charts import fingerprint
from handlers.events import CallbackAnswer, Event, Keyboard, Outcome, stored_file
from handlers.i18n import Translator, translator
from handlers.render import CAPTION_LIMIT, shorten, split_message, trim
from handlers.routing import Steps, require_step

S = TypeVar("S", bound=Steps)

# Outbox priorities (the sender delivers lower numbers first).
REPLY, NOTIFICATION, BULK = 0, 1, 2

ANSWER_LIMIT = 200  # characters of a callback answer

# Buttons for someone else: a ready keyboard, or a function of their translator
# so the labels come out in the recipient's language.
Buttons = Keyboard | Callable[[Translator], Keyboard | None] | None


@dataclass(frozen=True, slots=True)
class Screen:
    """A conversation's current screen: its message id, or (until the sender
    records which message it became) the outbox row that sends it."""

    message_id: int | None
    outbox_id: int | None


def _screen_of(state: ConversationState) -> Screen | None:
    if state.screen_message_id is None and state.screen_outbox_id is None:
        return None
    return Screen(state.screen_message_id, state.screen_outbox_id)


def _other_draft(current: ConversationState, flow: str, data: dict[str, Any] | None) -> bool:
    """Does entering `flow` with `data` leave the current conversation behind?"""
    if current.flow != flow:
        return True
    steps = Steps.declared().get(flow)
    if data is None or steps is None or not steps.keeps_drafts:
        return False
    return steps.draft_subject(current.data) != steps.draft_subject(data)


class Scope:
    """A unit of work plus the means to write outbox messages in anyone's language."""

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        config: MarketConfig,
        gateway: PaymentGateway | None = None,
        public_url: str = "http://127.0.0.1:8080",
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.config = config
        self.gateway = gateway
        self.public_url = public_url.rstrip("/")
        self.outbox_ids: list[int] = []  # rows written with priority REPLY, in order

    async def translator_for(self, user_id: int) -> Translator:
        user = await self.uow.users.get(user_id)
        return translator(user.language if user else None)

    async def _add(self, chat_id: int, method: str, payload: dict[str, Any], priority: int) -> int:
        row = OutboxMessage(
            chat_id=chat_id,
            method=method,
            payload=payload,
            priority=priority,
            created_at=self.clock.now(),
        )
        stage = getattr(self.uow.outbox, "stage", None)
        if priority == BULK and stage is not None and self._stages(chat_id):
            # A job's alerts (hundreds of rows) go in one batched INSERT at the next
            # flush instead of one round trip each; nobody needs their ids here.
            await stage(row)
            return 0
        row = await self.uow.outbox.add(row)
        assert row.id is not None
        if priority == REPLY:
            self.outbox_ids.append(row.id)
        self._wrote(chat_id, method, payload, row.id)
        return row.id

    def _wrote(self, chat_id: int, method: str, payload: dict[str, Any], row_id: int) -> None:
        """A row was written (Context keeps track of the acting user's screens)."""

    def _stages(self, chat_id: int) -> bool:
        """May a bulk row to this chat wait for the next flush (no id needed now)?"""
        return True

    async def send(
        self, chat_id: int, text: str, buttons: Keyboard | None = None, priority: int = REPLY
    ) -> None:
        """Send HTML text, split into several messages if it is too long (buttons on the last)."""
        parts = split_message(text)
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            await self._add(
                chat_id, "send", {"text": part, "buttons": buttons if last else None}, priority
            )

    async def send_file(
        self,
        chat_id: int,
        stored: str,
        caption: str | None = None,
        buttons: Keyboard | None = None,
        priority: int = REPLY,
    ) -> None:
        """Send a kept file back: a photo as a photo, anything else as a document
        (`stored` as IncomingFile.stored wrote it; plain ids are documents)."""
        kind, file_id = stored_file(stored)
        payload = {
            "file_id": file_id,
            "caption": trim(caption, CAPTION_LIMIT) if caption else None,
            "buttons": buttons,
        }
        await self._add(chat_id, kind, payload, priority)

    async def edit_message(
        self, chat_id: int, message_id: int, text: str, buttons: Keyboard | None = None
    ) -> None:
        """Replace a message the bot sent earlier (e.g. "preparing…" with the result)."""
        await self._add(
            chat_id, "edit", {"message_id": message_id, "text": text, "buttons": buttons}, REPLY
        )

    # The older name: every caller passes kept ids, so it chooses photo vs document too.
    send_document = send_file

    async def send_chart(
        self,
        chat_id: int,
        spec: dict[str, Any],
        caption: str | None = None,
        buttons: Keyboard | None = None,
        priority: int = REPLY,
    ) -> None:
        """A chart (handlers/charts.py's spec), drawn as a PNG when the row is sent:
        the row keeps the spec and its fingerprint, never the image."""
        payload = {
            "chart": spec,
            "fingerprint": fingerprint(spec),
            "caption": trim(caption, CAPTION_LIMIT) if caption else None,
            "buttons": buttons,
        }
        await self._add(chat_id, "chart", payload, priority)

    async def send_invoice(self, chat_id: int, invoice: dict[str, Any]) -> None:
        """sendInvoice (Telegram Payments, handlers/flows/telegram_pay.py): title,
        description, payload, currency, prices [[label, minor units], …]. The
        provider token is the client's, never in the row."""
        await self._add(chat_id, "invoice", invoice, REPLY)

    async def notify(
        self,
        user_id: int,
        key: str | None = None,
        *,
        text: str | None = None,
        buttons: Buttons = None,
        priority: int = NOTIFICATION,
        **params: object,
    ) -> bool:
        """Tell another user something, in their language: `key` + `params` are
        translated for them (or pass ready HTML as `text`). `buttons` may be a
        function of their translator. Returns False (and writes nothing) when
        the user blocked the bot."""
        user = await self.uow.users.get(user_id)
        if user is not None and user.unreachable:
            return False
        t = translator(user.language if user else None)
        body = text if text is not None else t(key or "", **params)
        keyboard = buttons(t) if callable(buttons) else buttons
        await self.send(user_id, body, keyboard, priority)
        return True

    async def set_chat_menu(self, chat_id: int, commands_by_language: list[dict[str, Any]]) -> None:
        """Pin one private chat's command menu (setMyCommands scoped to that chat), one row
        per language code Telegram may choose it by; see handlers.commands.chat_menus."""
        for payload in commands_by_language:
            await self._add(chat_id, "commands", {**payload, "chat_id": chat_id}, REPLY)


class Context(Scope):
    """The acting user's side of one event."""

    def __init__(
        self,
        event: Event,
        user: User,
        uow: UnitOfWork,
        clock: Clock,
        config: MarketConfig,
        gateway: PaymentGateway | None = None,
        public_url: str = "http://127.0.0.1:8080",
        state: ConversationState | None = None,
        callback: Callback | None = None,
    ) -> None:
        super().__init__(uow, clock, config, gateway, public_url)
        self.event = event
        self.user = user
        self.callback = callback  # the decoded data of the pressed button
        self._state = state
        self._answer: CallbackAnswer | None = None
        # The screen (see settle_screen): as the event found it, and what this event did.
        self._screen_before = _screen_of(state) if state is not None and state.flow else None
        self._asked = False  # set_state ran: the wizard showed (or re-showed) a step
        self._buttons_at: Screen | None = None  # the last message given buttons here
        # messages of the user's chat edited here → whether the last edit gave buttons
        self._edited: dict[int, bool] = {}

    # --- who, and in which language ---------------------------------------

    @property
    def t(self) -> Translator:
        """t(key, **params) → HTML in the user's language; t.plain(…) for labels."""
        return translator(self.user.language)

    @property
    def is_admin(self) -> bool:
        return self.config.is_admin(self.user.id)

    @property
    def args(self) -> str:
        """What followed the command ("/start job_12" → "job_12")."""
        return self.event.args.strip()

    @property
    def text(self) -> str:
        """The message text (or a file's caption), as sent."""
        return self.event.text or ""

    # --- answering -----------------------------------------------------------

    async def reply(self, text: str, buttons: Keyboard | None = None) -> None:
        """A new message in the user's chat (split if longer than Telegram allows)."""
        await self.send(self.event.chat_id, text, buttons, REPLY)

    async def edit(self, text: str, buttons: Keyboard | None = None) -> None:
        """Replace the message whose button was pressed; otherwise send a new one."""
        if self.event.kind != "button" or self.event.message_id is None:
            await self.reply(text, buttons)
            return
        parts = split_message(text)
        first = parts[0]
        rest = parts[1:]
        await self._add(
            self.event.chat_id,
            "edit",
            {
                "message_id": self.event.message_id,
                "text": first,
                "buttons": None if rest else buttons,
            },
            REPLY,
        )
        for k, part in enumerate(rest):
            last = k == len(rest) - 1
            await self._add(
                self.event.chat_id,
                "send",
                {"text": part, "buttons": buttons if last else None},
                REPLY,
            )

    async def reply_file(
        self, stored: str, caption: str | None = None, buttons: Keyboard | None = None
    ) -> None:
        """A kept file (photo or document, see Scope.send_file) in the user's chat."""
        await self.send_file(self.event.chat_id, stored, caption, buttons, REPLY)

    async def reply_chart(
        self, spec: dict[str, Any], caption: str | None = None, buttons: Keyboard | None = None
    ) -> None:
        """A chart in the user's chat (see Scope.send_chart)."""
        await self.send_chart(self.event.chat_id, spec, caption, buttons, REPLY)

    @property
    def file_ids(self) -> list[str]:
        """The event's files as ids to keep (photos marked, see IncomingFile.stored)."""
        return [f.stored for f in self.event.files]

    def answer(self, text: str | None = None, alert: bool = False) -> None:
        """The answer to the pressed button: a toast, or an alert box (plain text)."""
        self._answer = CallbackAnswer(shorten(text, ANSWER_LIMIT) if text else None, alert)

    # --- conversation state (in the database: survives restarts) ---------------

    @property
    def state(self) -> ConversationState | None:
        """The user's current (flow, step, data), or None outside a conversation."""
        if self._state is None or not self._state.flow:
            return None
        return self._state

    @property
    def data(self) -> dict[str, Any]:
        """The current conversation's draft (a copy: change it through set_state)."""
        return dict(self.state.data) if self.state else {}

    def in_step(self, where: type[Steps] | Steps) -> bool:
        """Is the user in this flow (a Steps class: at any of its steps) or at this step?"""
        s = self.state
        if isinstance(where, type) and issubclass(where, Steps):
            return s is not None and s.flow == where.flow
        step = require_step(where)
        return s is not None and s.flow == step.flow and s.step == step.value

    def step_of(self, flow: type[S]) -> S | None:
        """The user's current step if they are in `flow` (a declared one), else None."""
        s = self.state
        if s is None or s.flow != flow.flow:
            return None
        try:
            return flow(s.step)
        except ValueError:
            return None

    async def set_state(self, step: Steps, data: dict[str, Any] | None = None) -> None:
        """Enter (or move within) a conversation at `step` (a member of the flow's Steps
        enum; a bare string is refused); `data` replaces the draft (None keeps it)."""
        flow, name = require_step(step).flow, str(step.value)
        now = self.clock.now()
        self._asked = True
        current = self.state
        if current is not None and _other_draft(current, flow, data):
            await self._keep_draft(current)  # another wizard (or subject) takes over
        row = await self.uow.conversations.get(self.user.id)
        if row is None:
            row = await self.uow.conversations.add(
                ConversationState(user_id=self.user.id, flow=flow, step=name, data=data or {})
            )
        else:
            row.flow, row.step = flow, name
            if data is not None:
                row.data = dict(data)  # a new dict, so the JSON column sees the change
        row.updated_at = now
        self._state = row

    async def clear_state(self) -> None:
        """End the conversation (finished, or cancelled: nothing is kept)."""
        row = await self.uow.conversations.get(self.user.id)
        if row is not None:
            row.flow, row.step, row.data = "", "", {}
            row.screen_message_id = row.screen_outbox_id = None
            row.updated_at = self.clock.now()
        self._state = None

    async def leave(self) -> None:
        """End the conversation because the person went elsewhere (another command):
        a wizard that keeps drafts keeps this one, to be continued (Steps drafts=True)."""
        if self.state is not None:
            await self._keep_draft(self.state)
        await self.clear_state()

    async def _keep_draft(self, state: ConversationState) -> None:
        steps = Steps.declared().get(state.flow)
        if steps is None or not steps.keeps_drafts:
            return
        subject = steps.draft_subject(state.data)
        if subject is None or steps.answered(state.data) < 1:
            return  # not a draft, or nothing in it worth keeping
        found = await self.uow.drafts.find(user_id=self.user.id, flow=state.flow, subject=subject)
        draft = found[0] if found else None
        if draft is None:
            draft = await self.uow.drafts.add(
                Draft(user_id=self.user.id, flow=state.flow, subject=subject)
            )
        draft.step, draft.data = state.step, dict(state.data)
        draft.updated_at = self.clock.now()

    # --- the screen: only the newest wizard message has live buttons -------------------

    def _stages(self, chat_id: int) -> bool:
        return chat_id != self.event.chat_id  # the acting user's rows track screens by id

    def _wrote(self, chat_id: int, method: str, payload: dict[str, Any], row_id: int) -> None:
        if chat_id != self.event.chat_id or method == "buttons":
            return
        if method == "edit":
            self._edited[int(payload["message_id"])] = bool(payload.get("buttons"))
        if payload.get("buttons"):
            edited = method == "edit"
            self._buttons_at = (
                Screen(int(payload["message_id"]), None) if edited else Screen(None, row_id)
            )

    @property
    def edited(self) -> frozenset[int]:
        """The messages of the user's chat this event edited (so far)."""
        return frozenset(self._edited)

    async def _resolve(self, screen: Screen | None) -> Screen | None:
        """The screen by its message id where the sent row tells it."""
        if screen is None or screen.message_id is not None or screen.outbox_id is None:
            return screen
        row = await self.uow.outbox.get(screen.outbox_id)
        if row is not None and row.message_id is not None:
            return Screen(row.message_id, None)
        return screen

    async def on_screen(self) -> bool:
        """Was the pressed button on the conversation's current screen? (A wizard's
        buttons count there only: an older message's, or one from before the
        conversation, are stale.)"""
        pressed = self.event.message_id
        if self.state is None or pressed is None:
            return False
        screen = await self._screen()
        return screen is not None and screen.message_id == pressed

    async def _screen(self) -> Screen | None:
        """The screen as the event found it, by message id where that is known:
        recorded by the sender, or the pressed message when it is the screen's row
        just delivered (`_just_delivered`)."""
        screen = await self._resolve(self._screen_before)
        pressed = self.event.message_id
        if (
            screen is not None
            and screen.message_id is None
            and self.event.kind == "button"
            and pressed is not None
            and await self._just_delivered(screen, pressed)
        ):
            screen = Screen(pressed, None)
        self._screen_before = screen
        return screen

    async def _just_delivered(self, screen: Screen, pressed: int) -> bool:
        """The screen's row was delivered but the sender has yet to record which
        message it became (a fast tap). A chat's rows go out one at a time, in
        order, so a message newer than every earlier row's can only be this one."""
        assert screen.outbox_id is not None
        row = await self.uow.outbox.get(screen.outbox_id)
        if row is None or row.status not in ("sending", "sent"):
            return False  # not sent yet, or never (failed): nothing to press
        earlier = await self.uow.outbox.find(
            order_by="-id",
            limit=1,
            chat_id=row.chat_id,
            id__lt=row.id,
            message_id__isnull=False,
        )
        return not earlier or pressed > (earlier[0].message_id or 0)

    async def settle_screen(self) -> None:
        """After the step ran: the wizard message it showed becomes the screen and
        the previous screen's buttons are taken away (editMessageReplyMarkup, through
        the outbox), so two screens can never disagree. A conversation that ended
        leaves its last screen's buttons to what the step made of it if it edited
        that message, and takes them away otherwise."""
        before = await self._screen()
        now = self._buttons_at if self.state is not None and self._asked else None
        if self.state is not None and now is None:
            now = before  # the step showed nothing new: the screen stays
        if before is not None and before != now:
            # Left alone if this step already edited it: with no buttons (nothing
            # to take), or — the conversation over — into its outcome.
            edited = self._edited.get(before.message_id or 0)
            if not (edited is False or (edited and self.state is None)):
                await self._take_buttons(before)
        if self.state is not None:
            row = await self.uow.conversations.get(self.user.id)
            if row is not None:
                row.screen_message_id = now.message_id if now else None
                row.screen_outbox_id = now.outbox_id if now else None

    async def _take_buttons(self, screen: Screen) -> None:
        payload: dict[str, Any] = {"buttons": None}
        if screen.message_id is not None:
            payload["message_id"] = screen.message_id
        else:
            payload["outbox_id"] = screen.outbox_id
        await self._add(self.event.chat_id, "buttons", payload, REPLY)

    # --- for the engine ----------------------------------------------------------

    def outcome(self) -> Outcome:
        answer = self._answer
        if answer is None and self.event.kind == "button":
            answer = CallbackAnswer()
        return Outcome(callback_answer=answer, outbox_ids=list(self.outbox_ids))
