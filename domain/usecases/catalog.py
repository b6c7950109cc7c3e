"""The services catalogue (/catalog, deep links, inline sharing): anyone may browse
and search the services in the catalogue through the service index
(storage/service_search.py; ranking in domain/catalog.py). Blocks hide sellers
either way (asked in the index query itself, so pages and totals stay exact).
"""

from __future__ import annotations

from dataclasses import replace

from domain.catalog import ServiceHit, ServiceQuery
from domain.ports import UnitOfWork
from domain.usecases.common import active_user


async def search_services(
    uow: UnitOfWork, actor_id: int, query: ServiceQuery
) -> tuple[list[ServiceHit], int]:
    """A page of services for the query, without sellers in a block with the actor,
    and the number of all matches (counted up to domain.catalog.SERVICE_COUNT_CAP)."""
    await active_user(uow, actor_id)
    return await uow.service_search.search(replace(query, viewer_id=actor_id))


async def own_services(uow: UnitOfWork, actor_id: int, limit: int = 20) -> list[ServiceHit]:
    """The actor's own services in the catalogue (for sharing them inline)."""
    found, _ = await uow.service_search.search(
        ServiceQuery(seller_id=actor_id, offset=0, limit=limit)
    )
    return found
