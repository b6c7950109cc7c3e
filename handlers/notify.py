"""Domain events → notifications for the people they concern.

Use cases emit typed events (domain/events.py: uow.emit(MilestoneFunded(...))); after
a step (or a deadline tick) ran, the engine renders each event with the functions
registered for its class, in the same transaction:

    @renders(MilestoneFunded)
    async def milestone_funded(scope: Scope, event: MilestoneFunded) -> None:
        milestone = await scope.uow.milestones.get(event.milestone_id)
        ...
        await scope.notify(contract.freelancer_id, "notify.milestone_funded",
                           title=milestone.title,
                           buttons=lambda t: keyboard(button(t.plain("btn.submit"), …)))

`scope.notify` writes the message in the recipient's language. Several
renderers may handle one event class (e.g. the party and an admin feed). An event
nobody is told about says why in its `silent` (domain/events.py);
tests/flows/test_events.py fails on an event neither rendered nor silent.

`load=` hands the renderer the rows the event names, after (scope, event):

    @renders(WorkSubmitted, load=milestone_rows)     # (…, milestone, contract)
    @renders(DisputeOpened, load=dispute_rows)       # (…, dispute, milestone, contract)

An event whose rows are gone renders nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from domain.entities import Contract, Dispute, Milestone
from domain.events import Event as DomainEvent
from handlers.context import Scope

log = logging.getLogger(__name__)

Renderer = Callable[[Scope, Any], Awaitable[None]]
Loader = Callable[[Scope, Any], Awaitable[tuple[Any, ...] | None]]
F = TypeVar("F", bound=Callable[..., Awaitable[None]])

#: event class → its renderers, in the order they were registered.
RENDERERS: dict[type[DomainEvent], list[Renderer]] = {}


def renders(event: type[DomainEvent], load: Loader | None = None) -> Callable[[F], F]:
    """Register the decorated function as a renderer of the event class `event`; it
    gets (scope, event). With `load`, it gets, after those, the rows `load` finds for
    the event (nothing runs when they are gone). The function is returned unchanged."""
    if not (isinstance(event, type) and issubclass(event, DomainEvent) and event.kind):
        raise TypeError(f"@renders needs an event class of domain.events, not {event!r}")

    def register(fn: F) -> F:
        if load is None:
            RENDERERS.setdefault(event, []).append(fn)
            return fn

        async def render(scope: Scope, ev: DomainEvent) -> None:
            found = await load(scope, ev)
            if found is not None:
                await fn(scope, ev, *found)

        RENDERERS.setdefault(event, []).append(render)
        return fn

    return register


async def milestone_rows(scope: Scope, event: Any) -> tuple[Milestone, Contract] | None:
    """The milestone the event names (its `milestone_id`) and its contract."""
    milestone = await scope.uow.milestones.get(event.milestone_id)
    if milestone is None:
        return None
    contract = await scope.uow.contracts.get(milestone.contract_id)
    return (milestone, contract) if contract else None


async def dispute_rows(scope: Scope, event: Any) -> tuple[Dispute, Milestone, Contract] | None:
    """The dispute the event names (its `dispute_id`), its milestone and its contract."""
    dispute = await scope.uow.disputes.get(event.dispute_id)
    if dispute is None:
        return None
    milestone = await scope.uow.milestones.get(dispute.milestone_id)
    contract = await scope.uow.contracts.get(dispute.contract_id)
    if milestone is None or contract is None:
        return None
    return dispute, milestone, contract


async def render_events(scope: Scope, events: Iterable[DomainEvent]) -> int:
    """Render the events in order; returns how many renderers ran."""
    ran = 0
    for event in list(events):
        for fn in RENDERERS.get(type(event), ()):
            await fn(scope, event)
            ran += 1
    return ran
