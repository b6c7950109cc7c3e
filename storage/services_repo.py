"""Services (issue 15): the repository of services with the few queries of their
own — a service's packages and extras, a seller's live services, orders in the
queue — behind domain.ports.ServiceRepository. Packages, extras and orders are
plain repositories (uow.service_packages, uow.service_extras, uow.service_orders)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from domain.services import (
    LIVE_SERVICES,
    QUEUED_ORDERS,
    TIERS,
    Service,
    ServiceExtra,
    ServiceOrder,
    ServicePackage,
)
from storage.repository import SqlRepository


class SqlServices(SqlRepository[Service]):
    async def packages(self, service_id: int) -> list[ServicePackage]:
        """The service's packages in tier order (basic, standard, premium)."""
        stmt = sa.select(ServicePackage).where(
            ServicePackage.service_id == service_id  # type: ignore[arg-type]
        )
        rows = list((await self.session.scalars(stmt)).all())
        return sorted(rows, key=lambda p: TIERS.index(p.tier) if p.tier in TIERS else 99)

    async def package(self, service_id: int, tier: str) -> ServicePackage | None:
        stmt = sa.select(ServicePackage).where(
            ServicePackage.service_id == service_id,  # type: ignore[arg-type]
            ServicePackage.tier == tier,  # type: ignore[arg-type]
        )
        return (await self.session.scalars(stmt)).first()

    async def extras(self, service_id: int) -> list[ServiceExtra]:
        stmt = (
            sa.select(ServiceExtra)
            .where(ServiceExtra.service_id == service_id)  # type: ignore[arg-type]
            .order_by(ServiceExtra.position, ServiceExtra.id)  # type: ignore[arg-type]
        )
        return list((await self.session.scalars(stmt)).all())

    async def of_seller(self, seller_id: int, live_only: bool = True) -> list[Service]:
        """The seller's services, newest first (not the deleted ones by default)."""
        stmt = sa.select(Service).where(Service.seller_id == seller_id)  # type: ignore[arg-type]
        if live_only:
            stmt = stmt.where(Service.status.in_(list(LIVE_SERVICES)))  # type: ignore[attr-defined]
        stmt = stmt.order_by(Service.id.desc())  # type: ignore[attr-defined]
        return list((await self.session.scalars(stmt)).all())

    async def live_count(self, seller_id: int) -> int:
        stmt = sa.select(sa.func.count()).where(
            Service.seller_id == seller_id,  # type: ignore[arg-type]
            Service.status.in_(list(LIVE_SERVICES)),  # type: ignore[attr-defined]
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def queued_orders(self, service_ids: Sequence[int]) -> dict[int, int]:
        """Orders awaiting acceptance, in progress or delivered, per service (one query)."""
        if not service_ids:
            return {}
        stmt = (
            sa.select(ServiceOrder.service_id, sa.func.count())  # type: ignore[call-overload]
            .where(
                ServiceOrder.service_id.in_(list(service_ids)),  # type: ignore[attr-defined]
                ServiceOrder.status.in_(list(QUEUED_ORDERS)),  # type: ignore[attr-defined]
            )
            .group_by(ServiceOrder.service_id)
        )
        return {int(sid): int(n) for sid, n in (await self.session.execute(stmt)).all()}

    async def remove_children(self, service_id: int) -> None:
        """Delete a service's packages and extras (a draft being discarded)."""
        for cls in (ServicePackage, ServiceExtra):
            await self.session.execute(
                sa.delete(cls).where(cls.service_id == service_id)  # type: ignore[attr-defined]
            )
