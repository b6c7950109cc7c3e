"""Where an event goes: decorators that register flow steps, and the lookup.

    @command("start")                  # "/start …"; ctx.args holds the rest
    @command("ban", admin=True)        # admins only; others get "unknown command"
    @button("job")                     # presses whose data starts with "job:"; ctx.callback
    @step("post_job", "title")         # text/files while the user's state is (post_job, title)
    @fallback                          # anything else (one per router)

Every handler is `async def handler(ctx: Context) -> None`. Registering the same
route twice is a programming error and raises at import time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.context import Context

Handler = Callable[["Context"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CommandRoute:
    handler: Handler
    admin: bool = False


@dataclass
class Router:
    commands: dict[str, CommandRoute] = field(default_factory=dict)
    buttons: dict[str, Handler] = field(default_factory=dict)
    steps: dict[tuple[str, str], Handler] = field(default_factory=dict)
    fallback_handler: Handler | None = None

    def command(self, name: str, *, admin: bool = False) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            key = name.lower()
            if key in self.commands:
                raise ValueError(f"command /{key} registered twice")
            self.commands[key] = CommandRoute(fn, admin)
            return fn

        return register

    def button(self, prefix: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if prefix in self.buttons:
                raise ValueError(f"button prefix {prefix!r} registered twice")
            self.buttons[prefix] = fn
            return fn

        return register

    def step(self, flow: str, name: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if (flow, name) in self.steps:
                raise ValueError(f"step {flow}/{name} registered twice")
            self.steps[(flow, name)] = fn
            return fn

        return register

    def fallback(self, fn: Handler) -> Handler:
        self.fallback_handler = fn
        return fn

    def find_command(self, name: str | None, is_admin: bool) -> Handler | None:
        route = self.commands.get((name or "").lower())
        if route is None or (route.admin and not is_admin):
            return None
        return route.handler

    def admin_commands(self) -> set[str]:
        return {name for name, route in self.commands.items() if route.admin}


# The application's router; flow modules register on it through the functions below.
ROUTER = Router()
command = ROUTER.command
button = ROUTER.button
step = ROUTER.step
fallback = ROUTER.fallback
