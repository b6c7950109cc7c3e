"""The services use cases (domain/usecases/services.py) on SQLite and PostgreSQL:
create → publish → pause → resume → edit → delete with the catalogue's index in
step, the limits (3 packages, 5 extras / samples / questions, 20 services a
seller, prices and days), and re-authorisation (only the seller)."""

from __future__ import annotations

import asyncio

import pytest

from domain.errors import DomainError, IllegalTransition, NotAllowed, NotFound, QuotaExceeded
from domain.services import MAX_LIVE_SERVICES, Service, ServiceStatus
from domain.usecases import services as uc
from tests.usecases.conftest import CLIENT, FREELANCER, OTHER_FREELANCER


def package(name: str = "Basic", price: int = 5000, days: int = 3, revisions: int = 1):
    return uc.PackageFields(
        name=name, included="Two concepts and vector files", price=price,
        delivery_days=days, revisions=revisions,
    )  # fmt: skip


def fields(**changes) -> uc.ServiceFields:
    base = dict(
        title="A minimalist logo for your brand",
        description="I draw clean, memorable logos for small brands.",
        category="design",
        skills=("logo-design",),
        packages=(package(), package("Standard", 12000, 5, 2), package("Premium", 30000, 7, 3)),
        extras=(uc.ExtraFields(title="Source files", price=2000, days_delta=-1),),
        samples=({"kind": "link", "value": "https://dribbble.com/felix"},),
        questions=("What is your brand's name?",),
    )
    return uc.ServiceFields(**(base | changes))


async def create(db, clock, config, seller=FREELANCER, publish=True, **changes) -> int:
    async with db.uow() as uow:
        service = await uc.create_service(uow, clock, config, seller, fields(**changes))
        if publish:
            await uc.publish_service(uow, clock, seller, service.id)
        await uow.commit()
        return service.id


async def status_and_hit(db, service_id: int):
    async with db.uow() as uow:
        service = await uow.services.get(service_id)
        return service.status, await uow.service_search.hit(service_id)


async def test_the_life_of_a_service_keeps_the_index_in_step(users, clock, config):
    db = users
    sid = await create(db, clock, config, publish=False)
    status, hit = await status_and_hit(db, sid)
    assert status is ServiceStatus.DRAFT and hit is None  # a draft is not in the catalogue
    async with db.uow() as uow:
        await uc.publish_service(uow, clock, FREELANCER, sid)
        await uow.commit()
    status, hit = await status_and_hit(db, sid)
    assert status is ServiceStatus.ACTIVE and hit is not None
    for action, expected, listed in (
        (uc.pause_service, ServiceStatus.PAUSED, False),
        (uc.resume_service, ServiceStatus.ACTIVE, True),
        (uc.delete_service, ServiceStatus.DELETED, False),
    ):
        async with db.uow() as uow:
            await action(uow, clock, FREELANCER, sid)
            await uow.commit()
        status, hit = await status_and_hit(db, sid)
        assert status is expected and (hit is not None) is listed
    async with db.uow() as uow:
        with pytest.raises(NotFound):  # deleted: nothing more to do with it
            await uc.resume_service(uow, clock, FREELANCER, sid)


async def test_edits_are_saved_and_reindexed(users, clock, config):
    db = users
    sid = await create(db, clock, config)
    async with db.uow() as uow:
        await uc.edit_details(uow, clock, FREELANCER, sid, title="A bold logo for your coffee shop")
        await uc.remove_package(uow, clock, FREELANCER, sid, "basic")  # the others move up
        await uc.edit_package(uow, clock, FREELANCER, sid, "basic", package("Cheap", 9000))
        await uc.add_extra(uow, clock, FREELANCER, sid, uc.ExtraFields(title="Rush", price=500))
        await uc.remove_extra(uow, clock, FREELANCER, sid, 0)
        await uc.add_sample(uow, clock, FREELANCER, sid, {"kind": "photo", "value": "AgAD1"})
        await uc.remove_sample(uow, clock, FREELANCER, sid, 0)
        await uc.add_question(uow, clock, FREELANCER, sid, "Which colours do you like?")
        await uc.remove_question(uow, clock, FREELANCER, sid, 0)
        await uow.commit()
    async with db.uow() as uow:
        service = await uow.services.get(sid)
        assert service.title == "A bold logo for your coffee shop"
        packages = await uow.services.packages(sid)
        assert [(p.tier, p.name, p.price) for p in packages] == [
            ("basic", "Cheap", 9000),
            ("standard", "Premium", 30000),
        ]
        assert [x.title for x in await uow.services.extras(sid)] == ["Rush"]
        assert service.samples == [{"kind": "photo", "value": "AgAD1"}]
        assert service.questions == ["Which colours do you like?"]
        hit = await uow.service_search.hit(sid)
        assert hit is not None and "coffee" in hit.title


async def test_the_limits(users, clock, config):
    db = users
    for bad, code in (
        ({"packages": ()}, "service_no_packages"),
        ({"packages": (package(),) * 4}, "service_packages_full"),
        ({"extras": (uc.ExtraFields(title="Rush", price=500),) * 6}, "service_extras_full"),
        (
            {"samples": ({"kind": "link", "value": "https://a.example.com"},) * 6},
            "service_samples_full",
        ),
        ({"questions": ("What is your name?",) * 6}, "service_questions_full"),
        ({"packages": (package(price=0),)}, "amount_zero"),
        ({"packages": (package(price=10**12 * 100),)}, "amount_too_large"),
        ({"packages": (package(days=0),)}, "number_range"),
        ({"packages": (package(revisions=-1),)}, "number_range"),
        ({"extras": (uc.ExtraFields(title="Rush", price=-5),)}, "amount_zero"),
        ({"samples": ({"kind": "link", "value": "javascript:alert(1)"},)}, "url_scheme"),
        ({"title": "Logo"}, "text_too_short"),
        ({"category": "no-such-category"}, "category_unknown"),
    ):
        async with db.uow() as uow:
            with pytest.raises(DomainError) as refused:
                service = await uc.create_service(uow, clock, config, FREELANCER, fields(**bad))
                await uc.publish_service(uow, clock, FREELANCER, service.id)
            assert refused.value.code == code, bad
    async with db.uow() as uow:
        assert await uow.services.live_count(FREELANCER) == 0
    sid = await create(db, clock, config, packages=(package(),) * 3)
    async with db.uow() as uow:
        with pytest.raises(QuotaExceeded):
            await uc.add_package(uow, clock, FREELANCER, sid, package())
        with pytest.raises(DomainError, match="at least one package"):
            await uc.update_service(uow, clock, FREELANCER, sid, fields(packages=()))


async def test_twenty_services_a_seller(users, clock, config):
    db = users
    ids = [await create(db, clock, config, publish=i % 2 == 0) for i in range(MAX_LIVE_SERVICES)]
    async with db.uow() as uow:
        with pytest.raises(QuotaExceeded) as refused:
            await uc.create_service(uow, clock, config, FREELANCER, fields())
        assert refused.value.code == "service_limit"
    async with db.uow() as uow:
        await uc.delete_service(uow, clock, FREELANCER, ids[0])
        await uow.commit()
    await create(db, clock, config)  # a deleted one no longer counts
    # Another seller has their own twenty.
    await create(db, clock, config, seller=OTHER_FREELANCER)


async def test_two_creations_at_once_cannot_pass_the_limit_together(users, clock, config):
    db = users
    for _ in range(MAX_LIVE_SERVICES - 1):
        await create(db, clock, config, publish=False)

    async def one() -> bool:
        try:
            await create(db, clock, config, publish=False)
            return True
        except QuotaExceeded:
            return False

    results = await asyncio.gather(one(), one(), return_exceptions=True)
    made = [r for r in results if r is True]
    assert len(made) == 1, results
    async with db.uow() as uow:
        assert await uow.services.live_count(FREELANCER) == MAX_LIVE_SERVICES


async def test_only_the_seller_changes_a_service(users, clock, config):
    db = users
    sid = await create(db, clock, config)
    for stranger in (OTHER_FREELANCER, CLIENT):
        for act in (
            lambda uow, who=stranger: uc.pause_service(uow, clock, who, sid),
            lambda uow, who=stranger: uc.delete_service(uow, clock, who, sid),
            lambda uow, who=stranger: uc.edit_details(
                uow, clock, who, sid, title="Taken over by me now"
            ),
            lambda uow, who=stranger: uc.add_package(uow, clock, who, sid, package()),
        ):
            async with db.uow() as uow:
                with pytest.raises(NotAllowed):
                    await act(uow)
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as refused:  # clients do not sell
            await uc.create_service(uow, clock, config, CLIENT, fields())
        assert refused.value.code == "freelancer_only"
    async with db.uow() as uow:
        service = await uow.services.get(sid)
        assert service.status is ServiceStatus.ACTIVE
        assert service.title == "A minimalist logo for your brand"


async def test_drafts_are_the_sellers_alone_and_transitions_are_checked(users, clock, config):
    db = users
    sid = await create(db, clock, config, publish=False)
    async with db.uow() as uow:
        with pytest.raises(NotFound):
            await uc.service_view(uow, CLIENT, sid)
        view = await uc.service_view(uow, FREELANCER, sid)
        assert view.own and [p.tier for p in view.packages] == ["basic", "standard", "premium"]
        with pytest.raises(IllegalTransition):
            await uc.pause_service(uow, clock, FREELANCER, sid)  # a draft is not live
    async with db.uow() as uow:
        await uow.services.add(Service(seller_id=FREELANCER, title="No packages here at all"))
        await uow.commit()
        bare = (await uow.services.of_seller(FREELANCER))[0].id
    async with db.uow() as uow:
        with pytest.raises(DomainError) as refused:
            await uc.publish_service(uow, clock, FREELANCER, bare)
        assert refused.value.code == "service_incomplete"
