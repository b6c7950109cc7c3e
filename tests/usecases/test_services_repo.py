"""The services schema (migration 0018) through the unit of work, on SQLite and
PostgreSQL: services, packages, extras and orders saved and read back."""

from __future__ import annotations

from datetime import timedelta

from domain.services import (
    Service,
    ServiceExtra,
    ServiceOrder,
    ServiceOrderStatus,
    ServicePackage,
    ServiceStatus,
)
from tests.usecases.conftest import CLIENT, FREELANCER


async def test_services_round_trip(users, clock):
    db = users
    async with db.uow() as uow:
        service = await uow.services.add(
            Service(
                seller_id=FREELANCER,
                title="A logo in three days",
                description="I draw a logo for you, vector files included.",
                category="design",
                skills=["logo-design"],
                questions=["What is the name of the brand?"],
                samples=[{"kind": "link", "value": "https://example.com/a"}],
                created_at=clock.now(),
            )
        )
        for tier, price in (("premium", 30000), ("basic", 5000), ("standard", 12000)):
            await uow.service_packages.add(
                ServicePackage(
                    service_id=service.id,
                    tier=tier,
                    name=tier.title(),
                    included="One concept",
                    price=price,
                    delivery_days=3,
                    revisions=1,
                )
            )
        await uow.service_extras.add(
            ServiceExtra(service_id=service.id, title="Source files", price=2000)
        )
        order = await uow.service_orders.add(
            ServiceOrder(
                service_id=service.id,
                buyer_id=CLIENT,
                seller_id=FREELANCER,
                tier="standard",
                package_name="Standard",
                package_price=12000,
                package_delivery_days=3,
                extras=[{"title": "Source files", "price": 2000, "days_delta": 0}],
                answers=[{"question": "What is the name of the brand?", "answer": "Acme"}],
                total=14000,
                status=ServiceOrderStatus.AWAITING_ACCEPTANCE,
                accept_by=clock.now() + timedelta(hours=24),
                created_at=clock.now(),
            )
        )
        await uow.commit()
        service_id, order_id = service.id, order.id
    async with db.uow() as uow:
        got = await uow.services.get(service_id)
        assert got.status is ServiceStatus.DRAFT
        assert got.samples == [{"kind": "link", "value": "https://example.com/a"}]
        assert [p.tier for p in await uow.services.packages(service_id)] == [
            "basic",
            "standard",
            "premium",
        ]
        assert (await uow.services.package(service_id, "standard")).price == 12000
        assert [x.title for x in await uow.services.extras(service_id)] == ["Source files"]
        assert await uow.services.live_count(FREELANCER) == 1
        assert [s.id for s in await uow.services.of_seller(FREELANCER)] == [service_id]
        assert await uow.services.queued_orders([service_id]) == {service_id: 1}
        saved = await uow.service_orders.get(order_id)
        assert saved.contract_id is None
        assert saved.accept_by == clock.now() + timedelta(hours=24)
        got.status = ServiceStatus.DELETED
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.services.live_count(FREELANCER) == 0
        assert await uow.services.of_seller(FREELANCER) == []
