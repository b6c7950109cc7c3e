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
from domain.ports import DomainEvent
from handlers.context import Scope

log = logging.getLogger(__name__)

Renderer = Callable[[Scope, dict[str, Any]], Awaitable[None]]
Loader = Callable[[Scope, dict[str, Any]], Awaitable[tuple[Any, ...] | None]]
F = TypeVar("F", bound=Callable[..., Awaitable[None]])

RENDERERS: dict[str, list[Renderer]] = {}


def renders(kind: str, load: Loader | None = None) -> Callable[[F], F]:
    """Register the decorated function as a renderer of `kind`. With `load`, it gets,
    after (scope, data), the rows `load` finds for the event (nothing runs when they
    are gone). The function itself is returned unchanged."""

    def register(fn: F) -> F:
        if load is None:
            RENDERERS.setdefault(kind, []).append(fn)
            return fn

        async def render(scope: Scope, data: dict[str, Any]) -> None:
            found = await load(scope, data)
            if found is not None:
                await fn(scope, data, *found)

        RENDERERS.setdefault(kind, []).append(render)
        return fn

    return register


async def milestone_rows(scope: Scope, data: dict[str, Any]) -> tuple[Milestone, Contract] | None:
    """The event's milestone ("milestone_id") and its contract."""
    milestone = await scope.uow.milestones.get(data["milestone_id"])
    if milestone is None:
        return None
    contract = await scope.uow.contracts.get(milestone.contract_id)
    return (milestone, contract) if contract else None


async def dispute_rows(
    scope: Scope, data: dict[str, Any]
) -> tuple[Dispute, Milestone, Contract] | None:
    """The event's dispute ("dispute_id"), its milestone and its contract."""
    dispute = await scope.uow.disputes.get(data["dispute_id"])
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
        for fn in RENDERERS.get(event.kind, ()):
            await fn(scope, dict(event.data))
            ran += 1
    return ran
