"""The one way a piece of work runs: open a unit of work, do the work, render the
events it emitted into outbox notifications, commit — so a change and the
messages about it are one transaction — and then make the gateway calls it
committed (handlers/gateway_calls.py). A unit of work the database aborted to
settle a race is run again (handlers/retry.py); a DomainError rolls it back and
reaches the caller.

The engine (each update and each deadline job), the system runner (gateway
news) and the gateway-call runner (each call's outcome) all run through here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from domain.config import MarketConfig
from domain.events import Event as DomainEvent
from domain.ports import Clock, PaymentGateway, UnitOfWork
from handlers.context import Scope
from handlers.retry import mark_commit_failed, retrying

T = TypeVar("T")

# Turns a unit of work's events into outbox rows, inside it.
Render = Callable[[Scope, Sequence[DomainEvent]], Awaitable[object]]
# What happens after the commit, with the events that were committed.
After = Callable[[Sequence[DomainEvent]], Awaitable[object]]


@dataclass
class Unit:
    """What the work gets: the unit of work, and the scope its events are rendered
    with (the engine puts the acting user's Context here)."""

    uow: UnitOfWork
    scope: Scope


async def render_registered(scope: Scope, events: Sequence[DomainEvent]) -> None:
    """The notification registry (handlers/notify.py); the flows register their
    renderers when imported, so they are loaded first (idempotent)."""
    from handlers.flows import load_flows  # the flows import the engine's neighbours
    from handlers.notify import render_events

    load_flows()
    await render_events(scope, events)


def render_with(
    own: Callable[[UnitOfWork, Sequence[DomainEvent]], Awaitable[None]] | None,
) -> Render:
    """The runner's renderer from a caller's own one of (uow, events) — the tests
    write plain outbox rows — or, given none, the notification registry."""
    if own is None:
        return render_registered

    async def render(scope: Scope, events: Sequence[DomainEvent]) -> None:
        await own(scope.uow, events)

    return render


class UnitRunner:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        config: MarketConfig,
        gateway: PaymentGateway | None = None,
        public_url: str = "http://127.0.0.1:8080",
        *,
        render: Render = render_registered,
        after: After | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.config = config
        self.gateway = gateway
        self.public_url = public_url
        self.render = render
        self.after = after

    async def run(self, work: Callable[[Unit], Awaitable[T]], what: str) -> T:
        """Run `work` in a unit of work as described above; its result."""

        async def once() -> tuple[T, list[DomainEvent]]:
            async with self.uow_factory() as uow:
                unit = Unit(uow, Scope(uow, self.clock, self.config, self.gateway, self.public_url))
                result = await work(unit)
                events = list(uow.events)
                if events:
                    await self.render(unit.scope, events)
                try:
                    await uow.commit()
                except Exception as exc:
                    mark_commit_failed(exc)
                    raise
            return result, events

        result, events = await retrying(once, what)
        if events and self.after is not None:
            await self.after(events)
        return result
