"""Domain operations that no chat event caused: a payment confirmation from a
gateway page, a Stripe webhook, a reconciliation poll.

Each runs exactly like a chat step does in the engine: one unit of work, the
use case, the DomainEvents it emitted rendered into outbox notifications
through the notification registry (handlers/notify.py), then one commit — so
a money change and the messages about it are one transaction. A DomainError
rolls everything back and is re-raised for the caller to answer (a web page
or a webhook response), never swallowed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from domain.config import MarketConfig
from domain.ports import Clock, DomainEvent, PaymentGateway, UnitOfWork
from handlers.gateway_calls import GatewayCallRunner
from handlers.retry import retrying

T = TypeVar("T")

log = logging.getLogger(__name__)

Operation = Callable[[UnitOfWork], Awaitable[T]]
# Turns the events of a unit of work into outbox rows (inside that unit of work).
Renderer = Callable[[UnitOfWork, Sequence[DomainEvent]], Awaitable[None]]


class SystemRunner:
    """Runs operations on behalf of the system (no acting chat user)."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        config: MarketConfig,
        *,
        gateway: PaymentGateway | None = None,
        public_url: str = "http://127.0.0.1:8080",
        render: Renderer | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.config = config
        self.gateway = gateway
        self.public_url = public_url
        self._render = render

    @property
    def calls(self) -> GatewayCallRunner:
        """Makes the refunds, payouts and transfers a unit of work committed, after
        the commit (with the gateway as it is now: tests and wiring may set it late)."""
        return GatewayCallRunner(
            self.uow_factory,
            self.clock,
            self.config,
            self.gateway,
            self.public_url,
            render=self.render,
        )

    async def run(self, operation: Operation[T], *, what: str = "system") -> T:
        """Run `operation(uow)`, render its events, commit; roll back on any error.
        A unit of work the database aborted to settle a race is run again."""

        async def once() -> tuple[T, list[DomainEvent]]:
            async with self.uow_factory() as uow:
                result = await operation(uow)
                events = list(uow.events)
                if events:
                    await self.render(uow, events)
                await uow.commit()
            return result, events

        result, events = await retrying(once, what)
        if events:
            log.info("%s: committed with events %s", what, [e.kind for e in events])
            await self.calls.after_commit(events)
        return result

    async def render(self, uow: UnitOfWork, events: Sequence[DomainEvent]) -> None:
        if self._render is not None:
            await self._render(uow, events)
            return
        await render_with_registry(self, uow, events)


async def render_with_registry(
    runner: SystemRunner, uow: UnitOfWork, events: Sequence[DomainEvent]
) -> None:
    """Render through handlers/notify.py, the registry the engine uses: the flow
    modules register their renderers when imported, so load them first
    (idempotent). Imported late: the flows pull in the translation catalogs."""
    from handlers.context import Scope
    from handlers.flows import load_flows
    from handlers.notify import render_events

    load_flows()
    scope = Scope(uow, runner.clock, runner.config, runner.gateway, runner.public_url)
    await render_events(scope, events)
