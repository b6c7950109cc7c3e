"""Where an event goes, declared once, next to the handler.

    @command("post", order=60, menu=Menu.CLIENT, menu_order=10)
                                       # "/post …"; ctx.args holds the rest
    @command("ban", admin=True, order=40)  # admins only; others get "unknown command"
    @button("job")                     # presses whose data starts with "job:"; ctx.callback
    @step(PostJobStep.TITLE)           # text/files while the user is at that step
    @fallback                          # anything else (one per router)

A command's declaration is all there is about it: `order` is its place in the
command list (Telegram's command menu and /help; admin commands are listed after
everyone's, in their own order), `menu` says who gets a main-menu button for it
(Menu.CLIENT / FREELANCER / ANY / ADMIN) and `menu_order` where. Its words are
the catalog entries "cmd.<name>" (the description) and "menu.<name>" (the
button's label), in every language. handlers.commands and the main menu read
them from here: there is no other list.

A flow's steps are named once, by a `Steps` enum (`class PostJobStep(Steps,
flow="post_job")`); the members' values are the strings kept in the
conversation-state table, so renaming a member is free but changing a value
strands the conversations in progress. `@step`, `Context.set_state` and
`Context.in_step` take those members, never bare strings.

A long wizard keeps drafts: `class PostJobStep(Steps, flow="post_job",
drafts=True)`. Left by another command (or another wizard), its conversation is
kept as a draft (`draft_subject` says which one, e.g. the job pitched on; None:
not kept) and its start offers "Continue your draft" (handlers/flows/cancel.py);
`@resumes(PostJobStep)` shows the step a continued draft is at.

A wizard's own buttons are declared `@X.on("word", wizard=True)`: they work
only on the conversation's current screen (the newest wizard message, the only
one whose buttons are kept, see Context.settle_screen); anywhere else the press
is stale.

A route that only reads is declared so: `@command("menu", read_only=True)`,
`@X.on("word", read_only=True)`, `@step(S.X, read_only=True)`. Besides its
replies and the conversation state it may change nothing; the engine runs it on a
reader outside the writer queue (handlers/engine.py), and a write refuses loudly.

Every handler is `async def handler(ctx: Context) -> None`. Registering the same
route twice is a programming error and raises at import time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from handlers.context import Context, Scope
    from handlers.events import Event, Outcome
    from handlers.i18n import Translator

Handler = Callable[["Context"], Awaitable[None]]
# Answers a query that is no chat message (an inline query, a pre-checkout query):
# (scope of a unit of work, the event, a translator in the asker's language) → Outcome.
Answerer = Callable[["Scope", "Event", "Translator"], Awaitable["Outcome"]]


class Menu(Enum):
    """Who sees a command's button in the main menu."""

    CLIENT = "client"
    FREELANCER = "freelancer"
    ANY = "any"
    ADMIN = "admin"


# flow name → its Steps class (a flow is declared once)
_FLOWS: dict[str, type[Steps]] = {}


class Steps(StrEnum):
    """The named steps of one flow: subclass with the flow's name,

        class PostJobStep(Steps, flow="post_job"):
            TITLE = "title"
            DESCRIPTION = "description"

    Members are strings (the values stored in the database); `Cls.flow` is the
    flow's name and `member.flow` the same. A flow name is declared by one class.
    """

    flow: ClassVar[str]
    keeps_drafts: ClassVar[bool]

    def __init_subclass__(cls, flow: str = "", drafts: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not flow:
            raise TypeError(f"{cls.__name__}: declare the flow, class X(Steps, flow='name')")
        if flow in _FLOWS:
            raise ValueError(f"flow {flow!r} declared twice")
        _FLOWS[flow] = cls
        cls.flow = flow
        cls.keeps_drafts = drafts

    @classmethod
    def draft_subject(cls, data: dict[str, Any]) -> str | None:
        """Which of the flow's drafts a conversation with `data` is (one per subject
        and person); None: this one is not kept (say, editing something already sent)."""
        return ""

    @classmethod
    def answered(cls, data: dict[str, Any]) -> int:
        """How many questions the conversation's `data` holds answers to (a draft
        with none is not kept; Cancel on a preview of many asks first)."""
        return 0

    @staticmethod
    def declared() -> dict[str, type[Steps]]:
        """Every flow's Steps class, by flow name (for the tests every flow gets)."""
        return dict(_FLOWS)

    @classmethod
    def of(cls, flow: str, step: str) -> Steps | None:
        """The declared member for a stored (flow, step), or None if there is none."""
        steps = _FLOWS.get(flow)
        if steps is None:
            return None
        try:
            return steps(step)
        except ValueError:
            return None


def require_step(step: object) -> Steps:
    """`step` if it is a declared step; a bare string (or anything else) is refused."""
    if not isinstance(step, Steps):
        raise TypeError(f"a flow step must be a Steps member, not {step!r}")
    return step


@dataclass(frozen=True, slots=True)
class CommandRoute:
    name: str
    handler: Handler
    admin: bool = False
    order: int | None = None  # place in the command list and /help
    menu: Menu | None = None  # who gets a main-menu button for it
    menu_order: int = 0  # the button's place in the main menu
    # False: the conversation in progress is left (kept as a draft where the flow
    # keeps them) before the handler runs; True: the handler deals with it (/cancel).
    sees_conversation: bool = False
    # True: it only reads (the engine runs it on a reader, handlers/engine.py)
    read_only: bool = False

    @property
    def description_key(self) -> str:
        return f"cmd.{self.name}"

    @property
    def label_key(self) -> str:
        return f"menu.{self.name}"


@dataclass
class Router:
    commands: dict[str, CommandRoute] = field(default_factory=dict)
    buttons: dict[str, Handler] = field(default_factory=dict)
    # (prefix, action) → handler: a flow's buttons routed by what they do (Buttons.on)
    actions: dict[tuple[str, str], Handler] = field(default_factory=dict)
    # (prefix, old action code) → its action word: buttons already sent in chats
    old_actions: dict[tuple[str, str], str] = field(default_factory=dict)
    steps: dict[tuple[str, str], Handler] = field(default_factory=dict)
    fallback_handler: Handler | None = None
    # event kind → its answerer ("inline_query", "pre_checkout": @answers) and
    # event kind → its handler in a conversation ("payment": @on_kind)
    answerers: dict[str, Answerer] = field(default_factory=dict)
    kinds: dict[str, Handler] = field(default_factory=dict)
    # (prefix, action) of the buttons on a wizard's screens (Buttons.on(wizard=True))
    wizard_actions: set[tuple[str, str]] = field(default_factory=set)
    # flow → what shows a continued draft's step (@resumes)
    resumers: dict[str, Handler] = field(default_factory=dict)
    # commands and conversation flows a banned user may still use (/appeal)
    for_banned: set[str] = field(default_factory=set)
    # routes declared read_only=True: buttons by (prefix, action) or prefix, steps
    read_only_actions: set[tuple[str, str]] = field(default_factory=set)
    read_only_buttons: set[str] = field(default_factory=set)
    read_only_steps: set[tuple[str, str]] = field(default_factory=set)

    def open_to_banned(self, *names: str) -> None:
        """Let a banned user run these commands and steps of these flows."""
        self.for_banned.update(n.lower() for n in names)

    def command(
        self,
        name: str,
        *,
        admin: bool = False,
        order: int | None = None,
        menu: Menu | None = None,
        menu_order: int | None = None,
        sees_conversation: bool = False,
        read_only: bool = False,
    ) -> Callable[[Handler], Handler]:
        key = name.lower()
        if menu is not None and menu_order is None:
            raise ValueError(f"command /{key}: a menu entry needs its menu_order")
        if menu is not None and (menu is Menu.ADMIN) != admin:
            raise ValueError(f"command /{key}: Menu.ADMIN is for admin commands, and only them")

        def register(fn: Handler) -> Handler:
            if key in self.commands:
                raise ValueError(f"command /{key} registered twice")
            self.commands[key] = CommandRoute(
                key, fn, admin, order, menu, menu_order or 0, sees_conversation, read_only
            )
            return fn

        return register

    def button(self, prefix: str, *, read_only: bool = False) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if prefix in self.buttons:
                raise ValueError(f"button prefix {prefix!r} registered twice")
            self.buttons[prefix] = fn
            if read_only:
                self.read_only_buttons.add(prefix)
            return fn

        return register

    def action(
        self,
        prefix: str,
        action: str,
        old: tuple[str, ...] = (),
        wizard: bool = False,
        read_only: bool = False,
    ) -> Callable[[Handler], Handler]:
        if wizard and read_only:
            raise ValueError(f"button {prefix}:{action}: a wizard's button is not read-only")

        def register(fn: Handler) -> Handler:
            for name in (action, *old):
                if (prefix, name) in self.actions or (prefix, name) in self.old_actions:
                    raise ValueError(f"button {prefix}:{name} registered twice")
            self.actions[(prefix, action)] = fn
            for code in old:
                self.old_actions[(prefix, code)] = action
            if wizard:
                self.wizard_actions.add((prefix, action))
            if read_only:
                self.read_only_actions.add((prefix, action))
            return fn

        return register

    def is_wizard(self, prefix: str, action: str) -> bool:
        """Is this press a wizard's screen button (valid on the current screen only)?"""
        action = self.old_actions.get((prefix, action), action)
        return (prefix, action) in self.wizard_actions

    def resumes(self, flow: type[Steps]) -> Callable[[Handler], Handler]:
        """The handler that shows the step a continued draft of `flow` is at (the
        state is set when it runs)."""

        def register(fn: Handler) -> Handler:
            if flow.flow in self.resumers:
                raise ValueError(f"flow {flow.flow!r} resumed twice")
            self.resumers[flow.flow] = fn
            return fn

        return register

    def find_button(self, prefix: str, action: str) -> Handler | None:
        """The handler of a press: by its action (or the old code it replaced), else
        the flow's own dispatcher for its prefix; None for a button nobody handles."""
        action = self.old_actions.get((prefix, action), action)
        return self.actions.get((prefix, action)) or self.buttons.get(prefix)

    def step(self, step: Steps, *, read_only: bool = False) -> Callable[[Handler], Handler]:
        key = (require_step(step).flow, str(step.value))

        def register(fn: Handler) -> Handler:
            if key in self.steps:
                raise ValueError(f"step {key[0]}/{key[1]} registered twice")
            self.steps[key] = fn
            if read_only:
                self.read_only_steps.add(key)
            return fn

        return register

    def fallback(self, fn: Handler) -> Handler:
        self.fallback_handler = fn
        return fn

    def answers(self, kind: str) -> Callable[[Answerer], Answerer]:
        """The answerer of an event kind that is no chat message (engine: no update
        claim, no user record written, its Outcome answers the query)."""

        def register(fn: Answerer) -> Answerer:
            if kind in self.answerers:
                raise ValueError(f"answerer for {kind!r} registered twice")
            self.answerers[kind] = fn
            return fn

        return register

    def on_kind(self, kind: str) -> Callable[[Handler], Handler]:
        """The handler of a message kind that is neither command, text nor file
        ("payment": a successful_payment), run like any step."""

        def register(fn: Handler) -> Handler:
            if kind in self.kinds:
                raise ValueError(f"handler for {kind!r} registered twice")
            self.kinds[kind] = fn
            return fn

        return register

    def find_command(self, name: str | None, is_admin: bool) -> Handler | None:
        route = self.find_route(name, is_admin)
        return route.handler if route else None

    def find_route(self, name: str | None, is_admin: bool) -> CommandRoute | None:
        route = self.commands.get((name or "").lower())
        if route is None or (route.admin and not is_admin):
            return None
        return route

    def button_reads_only(self, prefix: str, action: str) -> bool:
        """Is this press declared read-only (by its action, or its prefix's dispatcher)?"""
        action = self.old_actions.get((prefix, action), action)
        if (prefix, action) in self.actions:
            return (prefix, action) in self.read_only_actions
        return prefix in self.read_only_buttons

    def admin_commands(self) -> set[str]:
        return {name for name, route in self.commands.items() if route.admin}

    def listed(self, admin: bool) -> list[CommandRoute]:
        """Everyone's commands (admin=False) or the admin ones, in their declared
        order (undeclared ones last, as registered)."""
        routes = [r for r in self.commands.values() if r.admin == admin]
        last = max((r.order for r in routes if r.order is not None), default=0) + 1
        return sorted(routes, key=lambda r: last if r.order is None else r.order)

    def menu_entries(self) -> list[CommandRoute]:
        """The commands with a main-menu button, in menu order."""
        return sorted(
            (r for r in self.commands.values() if r.menu is not None), key=lambda r: r.menu_order
        )


# The application's router; flow modules register on it through the functions below.
ROUTER = Router()
command = ROUTER.command
button = ROUTER.button
step = ROUTER.step
fallback = ROUTER.fallback
resumes = ROUTER.resumes
open_to_banned = ROUTER.open_to_banned
answers = ROUTER.answers
on_kind = ROUTER.on_kind


class Buttons(str):
    """A flow's buttons: one callback prefix (the string itself, so it still works
    wherever a prefix does), each action a word routed to a handler of its own,
    in the spirit of aiogram's CallbackData:

        BALANCE = Buttons("bal")

        @BALANCE.on("confirm", old=("ok",))      # "bal:confirm:<amount>"
        async def confirm(ctx: Context) -> None:
            amount = ctx.callback.require_id()

        BALANCE.data("confirm", 5000)            # the button's callback data

    `old` lists the codes the action had before, so buttons already sent in chats
    keep working. `data` refuses an action nobody handles, so every button a
    screen shows reaches a handler.
    """

    __slots__ = ()

    def on(
        self,
        action: str,
        *,
        old: tuple[str, ...] = (),
        wizard: bool = False,
        read_only: bool = False,
    ) -> Callable[[Handler], Handler]:
        """`wizard=True`: a button of a wizard's screens, taken only from the
        conversation's current screen (a press on an older message is stale).
        `read_only=True`: it only reads (handlers/engine.py runs it on a reader)."""
        return ROUTER.action(str(self), action, old, wizard, read_only)

    def data(self, action: str, id: int | None = None, arg: str | int | None = None) -> str:
        from handlers.callbacks import encode

        # An old code names its action: the button is made with the action's word
        # (ORDER.data("buy", …) → "ord:purchase:…", flows/service_orders.py).
        action = ROUTER.old_actions.get((str(self), action), action)
        if (str(self), action) not in ROUTER.actions:
            raise ValueError(f"no handler for button {self}:{action}")
        return encode(str(self), action, id, arg)
