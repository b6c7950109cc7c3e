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
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from domain.ports import DomainEvent
from handlers.context import Scope

log = logging.getLogger(__name__)

Renderer = Callable[[Scope, dict[str, Any]], Awaitable[None]]

RENDERERS: dict[str, list[Renderer]] = {}


def renders(kind: str) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        RENDERERS.setdefault(kind, []).append(fn)
        return fn

    return register


async def render_events(scope: Scope, events: Iterable[DomainEvent]) -> int:
    """Render the events in order; returns how many renderers ran."""
    ran = 0
    for event in list(events):
        for fn in RENDERERS.get(event.kind, ()):
            await fn(scope, dict(event.data))
            ran += 1
    return ran
