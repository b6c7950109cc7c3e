"""Domain operations that no chat event caused: a payment confirmation from a
gateway page, a Stripe webhook, a reconciliation poll.

Each runs exactly like a chat step does in the engine: one unit of work, the
use case, the domain events it emitted rendered into outbox notifications
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
from domain.events import Event as DomainEvent
from domain.ports import Clock, PaymentGateway, UnitOfWork
from handlers.gateway_calls import GatewayCallRunner
from handlers.unit import Render, UnitRunner, render_with

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
        self.render: Render = render_with(render)

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
        """Run `operation(uow)` as one unit of work (handlers/unit.py): its events
        rendered and committed with it, the gateway calls it committed made after."""

        async def after(events: Sequence[DomainEvent]) -> None:
            log.info("%s: committed with events %s", what, [e.kind for e in events])
            await self.calls.after_commit(events)

        units = UnitRunner(
            self.uow_factory,
            self.clock,
            self.config,
            self.gateway,
            self.public_url,
            render=self.render,
            after=after,
        )
        return await units.run(lambda unit: operation(unit.uow), what)
