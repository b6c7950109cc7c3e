"""Services (issue 15): a seller creates a draft service, fills and edits it,
previews, publishes, pauses, resumes and deletes it.

Every use case re-authorises: only a freelancer who is the service's seller
changes it; a draft or deleted service is seen by nobody else. At most
MAX_LIVE_SERVICES services a seller (drafts, active and paused ones), counted
under the seller's row lock so two creations at once cannot pass it together.
The catalogue's index (uow.service_search, storage/service_search.py) is told of
every change that a buyer could see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from domain import services as rules
from domain.config import MarketConfig
from domain.errors import NotAllowed, NotFound, ValidationError
from domain.ports import Clock, UnitOfWork
from domain.services import (
    MAX_EXTRAS,
    MAX_PACKAGES,
    MAX_QUESTIONS,
    MAX_SAMPLES,
    SERVICE,
    TIERS,
    Service,
    ServiceExtra,
    ServicePackage,
    ServiceStatus,
)
from domain.usecases.blocking import is_blocked
from domain.usecases.common import freelancer, load
from domain.usecases.jobs import clean_category, clean_skills


@dataclass(frozen=True, slots=True)
class PackageFields:
    name: str
    included: str
    price: int  # minor units of the service's currency
    delivery_days: int
    revisions: int = 0


@dataclass(frozen=True, slots=True)
class ExtraFields:
    title: str
    price: int
    days_delta: int = 0


@dataclass(frozen=True, slots=True)
class ServiceFields:
    """What the wizard collects; packages in tier order (basic, standard, premium)."""

    title: str
    description: str
    category: str | None
    skills: tuple[str, ...] = ()
    packages: tuple[PackageFields, ...] = ()
    extras: tuple[ExtraFields, ...] = ()
    samples: tuple[dict[str, str], ...] = ()
    questions: tuple[str, ...] = ()


@dataclass(slots=True)
class ServiceView:
    """A service with what its card shows."""

    service: Service
    packages: list[ServicePackage]
    extras: list[ServiceExtra]
    queued: int = 0  # orders in the queue
    own: bool = False  # the viewer is the seller
    extra_info: dict[str, Any] = field(default_factory=dict)


# --- loading and re-authorising ------------------------------------------------------


async def own_service(
    uow: UnitOfWork, seller_id: int, service_id: int, *, lock: bool = False
) -> Service:
    """The seller's own service (not deleted); anyone else is refused."""
    service = await load(uow.services, service_id, "service", lock=lock)
    if service.seller_id != seller_id:
        raise NotAllowed("service_not_yours", "This service is not yours.")
    if service.status is ServiceStatus.DELETED:
        raise NotFound("service_not_found", "This service was deleted.", id=service_id)
    return service


async def visible_service(uow: UnitOfWork, viewer_id: int, service_id: int) -> Service:
    """A service the viewer may see: an active one, or any of their own but deleted
    ones. A paused service is shown to others as paused (its card says so). A seller
    in a block with the viewer, either way, is off the market for them, as their
    jobs are (usecases/visibility.py asks the same rule, usecases/blocking.py): the
    card answers as for an unknown id, by deep link, inline or an old button."""
    service = await uow.services.get(service_id)
    if service is None or service.status is ServiceStatus.DELETED:
        raise NotFound("service_not_found", "This service is not available.", id=service_id)
    if service.seller_id != viewer_id and (
        service.status is ServiceStatus.DRAFT or await is_blocked(uow, viewer_id, service.seller_id)
    ):
        raise NotFound("service_not_found", "This service is not available.", id=service_id)
    return service


async def service_view(uow: UnitOfWork, viewer_id: int, service_id: int) -> ServiceView:
    service = await visible_service(uow, viewer_id, service_id)
    assert service.id is not None
    queued = await uow.services.queued_orders([service.id])
    return ServiceView(
        service=service,
        packages=await uow.services.packages(service.id),
        extras=await uow.services.extras(service.id),
        queued=queued.get(service.id, 0),
        own=service.seller_id == viewer_id,
    )


async def my_services(uow: UnitOfWork, seller_id: int) -> list[Service]:
    await freelancer(uow, seller_id)
    return await uow.services.of_seller(seller_id)


async def _reindex(uow: UnitOfWork, service: Service) -> None:
    """Bring the catalogue's index in step (storage/service_search.py): an active
    service is (re)indexed, any other leaves it."""
    if service.id is not None:
        await uow.service_search.reindex(service.id)


def _touch(service: Service, clock: Clock, action: str = "edit") -> None:
    service.apply(action)
    service.updated_at = clock.now()


# --- the fields ----------------------------------------------------------------------------


def _check_fields(fields: ServiceFields, currency: str) -> ServiceFields:
    """Every rule at once; the cleaned fields."""
    for kind, have, limit in (
        ("packages", len(fields.packages), MAX_PACKAGES),
        ("extras", len(fields.extras), MAX_EXTRAS),
        ("samples", len(fields.samples), MAX_SAMPLES),
        ("questions", len(fields.questions), MAX_QUESTIONS),
    ):
        if have > limit:
            rules.check_room(kind, have - 1, limit - 1)  # raises service_<kind>_full
    packages = tuple(_clean_package(p, TIERS[i], currency) for i, p in enumerate(fields.packages))
    extras = tuple(_clean_extra(x, currency) for x in fields.extras)
    samples = tuple(_clean_sample(s) for s in fields.samples)
    return ServiceFields(
        title=rules.clean_title(fields.title),
        description=rules.clean_description(fields.description),
        category=clean_category(fields.category),
        skills=tuple(clean_skills(list(fields.skills))),
        packages=packages,
        extras=extras,
        samples=samples,
        questions=tuple(rules.clean_question(q) for q in fields.questions),
    )


def _clean_package(p: PackageFields, tier: str, currency: str) -> PackageFields:
    package = rules.check_package(
        ServicePackage(
            service_id=0,
            tier=tier,
            name=p.name,
            included=p.included,
            price=p.price,
            delivery_days=p.delivery_days,
            revisions=p.revisions,
        ),
        currency,
    )
    return PackageFields(
        name=package.name,
        included=package.included,
        price=package.price,
        delivery_days=package.delivery_days,
        revisions=package.revisions,
    )


def _clean_extra(x: ExtraFields, currency: str) -> ExtraFields:
    extra = rules.check_extra(
        ServiceExtra(service_id=0, title=x.title, price=x.price, days_delta=x.days_delta),
        currency,
    )
    return ExtraFields(title=extra.title, price=extra.price, days_delta=extra.days_delta)


def _clean_sample(sample: dict[str, str]) -> dict[str, str]:
    kind, value = sample.get("kind"), sample.get("value", "")
    if kind == rules.SAMPLE_LINK:
        return rules.link_sample(value)
    if kind == rules.SAMPLE_PHOTO:
        return rules.photo_sample(value)
    raise ValidationError("service_sample_invalid", "Send a photo or a link.")


async def _write_children(uow: UnitOfWork, service: Service, fields: ServiceFields) -> None:
    assert service.id is not None
    await uow.services.remove_children(service.id)
    for i, p in enumerate(fields.packages):
        await uow.service_packages.add(
            ServicePackage(
                service_id=service.id,
                tier=TIERS[i],
                name=p.name,
                included=p.included,
                price=p.price,
                delivery_days=p.delivery_days,
                revisions=p.revisions,
            )
        )
    for i, x in enumerate(fields.extras, start=1):
        await uow.service_extras.add(
            ServiceExtra(
                service_id=service.id,
                position=i,
                title=x.title,
                price=x.price,
                days_delta=x.days_delta,
            )
        )


def _apply_fields(service: Service, fields: ServiceFields) -> None:
    service.title = fields.title
    service.description = fields.description
    service.category = fields.category
    service.skills = list(fields.skills)
    service.samples = [dict(s) for s in fields.samples]
    service.questions = list(fields.questions)


def fields_of(
    service: Service, packages: Sequence[ServicePackage], extras: Sequence[ServiceExtra]
) -> ServiceFields:
    """A saved service as fields (to edit one thing and save them all)."""
    return ServiceFields(
        title=service.title,
        description=service.description,
        category=service.category,
        skills=tuple(service.skills),
        packages=tuple(
            PackageFields(
                name=p.name,
                included=p.included,
                price=p.price,
                delivery_days=p.delivery_days,
                revisions=p.revisions,
            )
            for p in packages
        ),
        extras=tuple(
            ExtraFields(title=x.title, price=x.price, days_delta=x.days_delta) for x in extras
        ),
        samples=tuple(dict(s) for s in service.samples),
        questions=tuple(service.questions),
    )


async def _fields(uow: UnitOfWork, service: Service) -> ServiceFields:
    assert service.id is not None
    return fields_of(
        service, await uow.services.packages(service.id), await uow.services.extras(service.id)
    )


# --- creating, editing ---------------------------------------------------------------------


async def create_service(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, seller_id: int, fields: ServiceFields
) -> Service:
    """A draft service with its packages and extras (nobody else sees it yet)."""
    await freelancer(uow, seller_id)
    await load(uow.users, seller_id, "user", lock=True)  # the limit, counted under the lock
    rules.check_live_services(await uow.services.live_count(seller_id))
    fields = _check_fields(fields, config.currency)
    now = clock.now()
    service = Service(
        seller_id=seller_id,
        currency=config.currency,
        status=ServiceStatus.DRAFT,
        created_at=now,
        updated_at=now,
    )
    _apply_fields(service, fields)
    await uow.services.add(service)
    await _write_children(uow, service, fields)
    return service


async def update_service(
    uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int, fields: ServiceFields
) -> Service:
    """Replace the service's fields, packages and extras (a draft, active or paused
    service). A live service keeps at least one package."""
    await freelancer(uow, seller_id)
    service = await own_service(uow, seller_id, service_id, lock=True)
    fields = _check_fields(fields, service.currency)
    if service.status is not ServiceStatus.DRAFT:
        if not fields.packages:
            raise ValidationError("service_no_packages", "A service needs at least one package.")
        if not fields.category:
            raise ValidationError("service_no_category", "Choose a category first.")
    _touch(service, clock)
    _apply_fields(service, fields)
    await _write_children(uow, service, fields)
    await _reindex(uow, service)
    return service


async def _edit(
    uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int, change: Any
) -> Service:
    """Load the service's fields, change them with `change(fields) -> fields`, save."""
    service = await own_service(uow, seller_id, service_id)
    SERVICE.next(service.status, "edit")
    current = await _fields(uow, service)
    return await update_service(uow, clock, seller_id, service_id, change(current))


def _replace(fields: ServiceFields, **changes: Any) -> ServiceFields:
    values = {name: getattr(fields, name) for name in ServiceFields.__slots__}  # type: ignore[attr-defined]
    return ServiceFields(**(values | changes))


async def edit_details(
    uow: UnitOfWork,
    clock: Clock,
    seller_id: int,
    service_id: int,
    **changes: Any,
) -> Service:
    """Change title, description, category or skills."""
    allowed = {"title", "description", "category", "skills"}
    if not set(changes) <= allowed:
        raise ValueError(f"not a detail of a service: {set(changes) - allowed}")
    if "skills" in changes:
        changes["skills"] = tuple(changes["skills"])
    return await _edit(uow, clock, seller_id, service_id, lambda f: _replace(f, **changes))


async def add_package(
    uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int, package: PackageFields
) -> Service:
    def change(f: ServiceFields) -> ServiceFields:
        rules.check_room("packages", len(f.packages), MAX_PACKAGES)
        return _replace(f, packages=(*f.packages, package))

    return await _edit(uow, clock, seller_id, service_id, change)


def _tier_index(f: ServiceFields, tier: str) -> int:
    rules.check_tier(tier)
    index = TIERS.index(tier)
    if index >= len(f.packages):
        raise NotFound("service_package_not_found", "That package is gone.", tier=tier)
    return index


async def edit_package(
    uow: UnitOfWork,
    clock: Clock,
    seller_id: int,
    service_id: int,
    tier: str,
    package: PackageFields,
) -> Service:
    def change(f: ServiceFields) -> ServiceFields:
        i = _tier_index(f, tier)
        return _replace(f, packages=(*f.packages[:i], package, *f.packages[i + 1 :]))

    return await _edit(uow, clock, seller_id, service_id, change)


async def remove_package(
    uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int, tier: str
) -> Service:
    """The packages after it move up a tier (Premium becomes Standard)."""

    def change(f: ServiceFields) -> ServiceFields:
        i = _tier_index(f, tier)
        return _replace(f, packages=(*f.packages[:i], *f.packages[i + 1 :]))

    return await _edit(uow, clock, seller_id, service_id, change)


async def add_extra(
    uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int, extra: ExtraFields
) -> Service:
    def change(f: ServiceFields) -> ServiceFields:
        rules.check_room("extras", len(f.extras), MAX_EXTRAS)
        return _replace(f, extras=(*f.extras, extra))

    return await _edit(uow, clock, seller_id, service_id, change)


def _at(items: tuple[Any, ...], index: int, what: str) -> int:
    if not 0 <= index < len(items):
        raise NotFound(f"service_{what}_not_found", f"That {what} is gone.")
    return index


async def remove_extra(
    uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int, index: int
) -> Service:
    def change(f: ServiceFields) -> ServiceFields:
        i = _at(f.extras, index, "item")
        return _replace(f, extras=(*f.extras[:i], *f.extras[i + 1 :]))

    return await _edit(uow, clock, seller_id, service_id, change)


async def add_sample(
    uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int, sample: dict[str, str]
) -> Service:
    def change(f: ServiceFields) -> ServiceFields:
        rules.check_room("samples", len(f.samples), MAX_SAMPLES)
        return _replace(f, samples=(*f.samples, sample))

    return await _edit(uow, clock, seller_id, service_id, change)


async def remove_sample(
    uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int, index: int
) -> Service:
    def change(f: ServiceFields) -> ServiceFields:
        i = _at(f.samples, index, "item")
        return _replace(f, samples=(*f.samples[:i], *f.samples[i + 1 :]))

    return await _edit(uow, clock, seller_id, service_id, change)


async def add_question(
    uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int, question: str
) -> Service:
    def change(f: ServiceFields) -> ServiceFields:
        rules.check_room("questions", len(f.questions), MAX_QUESTIONS)
        return _replace(f, questions=(*f.questions, question))

    return await _edit(uow, clock, seller_id, service_id, change)


async def remove_question(
    uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int, index: int
) -> Service:
    def change(f: ServiceFields) -> ServiceFields:
        i = _at(f.questions, index, "item")
        return _replace(f, questions=(*f.questions[:i], *f.questions[i + 1 :]))

    return await _edit(uow, clock, seller_id, service_id, change)


# --- the life of a service -----------------------------------------------------------------


async def publish_service(
    uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int
) -> Service:
    """A draft goes into the catalogue: it needs a title, description, category
    and at least one package."""
    await freelancer(uow, seller_id)
    service = await own_service(uow, seller_id, service_id, lock=True)
    assert service.id is not None
    SERVICE.next(service.status, "publish")
    rules.publishable(service, await uow.services.packages(service.id))
    _touch(service, clock, "publish")
    service.published_at = clock.now()
    await _reindex(uow, service)
    return service


async def _move(
    uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int, action: str
) -> Service:
    await freelancer(uow, seller_id)
    service = await own_service(uow, seller_id, service_id, lock=True)
    _touch(service, clock, action)
    await _reindex(uow, service)
    return service


async def pause_service(uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int) -> Service:
    """Out of the catalogue and not for sale; orders already placed go on."""
    return await _move(uow, clock, seller_id, service_id, "pause")


async def resume_service(uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int) -> Service:
    return await _move(uow, clock, seller_id, service_id, "resume")


async def delete_service(uow: UnitOfWork, clock: Clock, seller_id: int, service_id: int) -> Service:
    """Gone from the catalogue and the seller's list for good (orders already
    placed go on: the row stays for them). It no longer counts against the limit."""
    return await _move(uow, clock, seller_id, service_id, "delete")
