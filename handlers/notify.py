"""Domain events → notifications for the people they concern.

Use cases emit DomainEvents (uow.emit("milestone_funded", milestone_id=4)); after
a step (or a deadline tick) ran, the engine renders each event with the function
registered for its kind, in the same transaction:

    @renders("milestone_funded")
    async def milestone_funded(scope: Scope, data: dict) -> None:
        milestone = await scope.uow.milestones.get(data["milestone_id"])
        ...
        await scope.notify(contract.freelancer_id, "notify.milestone_funded",
                           title=milestone.title,
                           buttons=lambda t: keyboard(button(t.plain("btn.submit"), …)))

`scope.notify` writes the message in the recipient's language. Several
renderers may handle one kind (e.g. the party and an admin feed). Kinds nobody
renders are fine: not every event needs a message.

`load=` hands the renderer the rows the event names, after (scope, data):

    @renders("work_submitted", load=milestone_rows)     # (…, milestone, contract)
    @renders("dispute_opened", load=dispute_rows)       # (…, dispute, milestone, contract)

An event whose rows are gone renders nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from domain.entities import Contract, Dispute, Milestone
from domain.events import Event
from domain.ports import DomainEvent
from handlers.context import Scope

log = logging.getLogger(__name__)

Renderer = Callable[[Scope, Any], Awaitable[None]]
Loader = Callable[[Scope, Any], Awaitable[tuple[Any, ...] | None]]
F = TypeVar("F", bound=Callable[..., Awaitable[None]])

#: kind → the renderers of that event class, each with whether it takes the event
#: object (registered by class) or its data as a dict (the old form, by kind string).
RENDERERS: dict[str, list[tuple[Renderer, bool]]] = {}
#: The event classes renderers were registered for.
RENDERED: set[type[Event]] = set()


def renders(event: type[Event] | str, load: Loader | None = None) -> Callable[[F], F]:
    """Register the decorated function as a renderer of the event class `event`; it
    gets (scope, event). With `load`, it gets, after those, the rows `load` finds for
    the event (nothing runs when they are gone). The function is returned unchanged."""
    typed = not isinstance(event, str)
    if typed:
        if not (isinstance(event, type) and issubclass(event, Event) and event.kind):
            raise TypeError(f"@renders needs an event class of domain.events, not {event!r}")
        RENDERED.add(event)
    kind = event.kind if typed else event

    def register(fn: F) -> F:
        if load is None:
            RENDERERS.setdefault(kind, []).append((fn, typed))
            return fn

        async def render(scope: Scope, ev: Any) -> None:
            found = await load(scope, ev)
            if found is not None:
                await fn(scope, ev, *found)

        RENDERERS.setdefault(kind, []).append((render, typed))
        return fn

    return register


def _field(ev: Any, name: str) -> Any:
    return ev[name] if isinstance(ev, dict) else getattr(ev, name)


async def milestone_rows(scope: Scope, event: Any) -> tuple[Milestone, Contract] | None:
    """The event's milestone ("milestone_id") and its contract."""
    milestone = await scope.uow.milestones.get(_field(event, "milestone_id"))
    if milestone is None:
        return None
    contract = await scope.uow.contracts.get(milestone.contract_id)
    return (milestone, contract) if contract else None


async def dispute_rows(
    scope: Scope, event: Any
) -> tuple[Dispute, Milestone, Contract] | None:
    """The event's dispute ("dispute_id"), its milestone and its contract."""
    dispute = await scope.uow.disputes.get(_field(event, "dispute_id"))
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
        for fn, typed in RENDERERS.get(event.kind, ()):
            await fn(scope, event if typed else dict(event.data))
            ran += 1
    return ran
