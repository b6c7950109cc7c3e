"""Services (issue 15): a freelancer publishes a packaged service, a client buys one.

A `Service` has up to three `ServicePackage`s (tiers basic / standard /
premium), optional `ServiceExtra`s, up to five samples and up to five questions
the buyer answers at purchase. A `ServiceOrder` is one purchase: a snapshot of
the package and extras bought, the buyer's answers, and the contract it became
(one milestone through the ordinary contract machinery).

Amounts are integer minor units in the service's `currency`; times are UTC.
The validation rules here are the only ones: use cases and flows call them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.errors import QuotaExceeded, ValidationError
from domain.money import MAX_MAJOR_UNITS, Money, exponent, parse_money
from domain.states import Machine
from domain.validation import DESCRIPTION_MAX, DESCRIPTION_MIN, clean_text, parse_int, parse_url

# Tiers in the order a card shows them; a service has at most one package of each.
TIERS: tuple[str, ...] = ("basic", "standard", "premium")
MAX_PACKAGES = len(TIERS)
MAX_EXTRAS = 5
MAX_SAMPLES = 5
MAX_QUESTIONS = 5
MAX_LIVE_SERVICES = 20  # a seller's services not deleted (drafts, active, paused)

TITLE_MIN = 10
TITLE_MAX = 120
PACKAGE_NAME_MAX = 60
INCLUDED_MAX = 1000
EXTRA_TITLE_MAX = 80
QUESTION_MAX = 300
MAX_DELIVERY_DAYS = 365
MAX_REVISIONS = 50
MAX_DAYS_DELTA = 60  # an extra may change the delivery by at most this many days

SAMPLE_PHOTO = "photo"
SAMPLE_LINK = "link"


class ServiceStatus(StrEnum):
    DRAFT = "draft"  # being written: only the seller sees it
    ACTIVE = "active"  # in the catalogue, can be bought
    PAUSED = "paused"  # out of the catalogue; orders in progress go on
    DELETED = "deleted"  # gone for good (the row stays for its orders)


class ServiceOrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"  # the buyer chose; escrow not yet paid
    AWAITING_ACCEPTANCE = "awaiting_acceptance"  # paid; the seller has until accept_by
    IN_PROGRESS = "in_progress"  # accepted; due at due_at
    DELIVERED = "delivered"  # the seller submitted the work
    COMPLETED = "completed"  # released to the seller
    DECLINED = "declined"  # the seller declined: refunded in full
    EXPIRED = "expired"  # not accepted in time (or never paid): refunded if paid
    CANCELLED = "cancelled"  # the buyer gave up before paying, or cancelled a late order


S, SO = ServiceStatus, ServiceOrderStatus

SERVICE = Machine[ServiceStatus](
    "service",
    {
        (S.DRAFT, "edit"): S.DRAFT,
        (S.ACTIVE, "edit"): S.ACTIVE,
        (S.PAUSED, "edit"): S.PAUSED,
        (S.DRAFT, "publish"): S.ACTIVE,
        (S.ACTIVE, "pause"): S.PAUSED,
        (S.PAUSED, "resume"): S.ACTIVE,
        (S.DRAFT, "delete"): S.DELETED,
        (S.ACTIVE, "delete"): S.DELETED,
        (S.PAUSED, "delete"): S.DELETED,
    },
)

SERVICE_ORDER = Machine[ServiceOrderStatus](
    "service order",
    {
        (SO.AWAITING_PAYMENT, "pay"): SO.AWAITING_ACCEPTANCE,
        (SO.AWAITING_PAYMENT, "cancel"): SO.CANCELLED,
        (SO.AWAITING_PAYMENT, "expire"): SO.EXPIRED,
        (SO.AWAITING_ACCEPTANCE, "accept"): SO.IN_PROGRESS,
        (SO.AWAITING_ACCEPTANCE, "decline"): SO.DECLINED,
        (SO.AWAITING_ACCEPTANCE, "expire"): SO.EXPIRED,
        (SO.IN_PROGRESS, "deliver"): SO.DELIVERED,
        (SO.DELIVERED, "deliver"): SO.DELIVERED,  # a new delivery after a revision request
        (SO.DELIVERED, "request_revision"): SO.IN_PROGRESS,
        (SO.DELIVERED, "complete"): SO.COMPLETED,
        (SO.IN_PROGRESS, "complete"): SO.COMPLETED,  # the buyer released early / a dispute
        (SO.IN_PROGRESS, "cancel"): SO.CANCELLED,  # late delivery, or a dispute refunded
        (SO.DELIVERED, "cancel"): SO.CANCELLED,  # a dispute refunded
    },
)

# Orders that hold the seller's attention ("N orders in the queue").
QUEUED_ORDERS = frozenset({SO.AWAITING_ACCEPTANCE, SO.IN_PROGRESS, SO.DELIVERED})
# Services a seller keeps (counted against MAX_LIVE_SERVICES).
LIVE_SERVICES = frozenset({S.DRAFT, S.ACTIVE, S.PAUSED})


@dataclass(kw_only=True, eq=False)
class Service:
    id: int | None = None
    seller_id: int
    title: str = ""
    description: str = ""
    category: str | None = None
    skills: list[str] = field(default_factory=list)  # taxonomy slugs
    status: ServiceStatus = ServiceStatus.DRAFT
    currency: str = "USD"
    questions: list[str] = field(default_factory=list)  # the buyer answers at purchase
    samples: list[dict[str, str]] = field(default_factory=list)  # {"kind", "value"}
    created_at: datetime | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None

    def apply(self, action: str) -> None:
        self.status = SERVICE.next(self.status, action)


@dataclass(kw_only=True, eq=False)
class ServicePackage:
    id: int | None = None
    service_id: int
    tier: str  # one of TIERS
    name: str
    included: str = ""  # what is included
    price: int  # minor units, > 0
    delivery_days: int = 1
    revisions: int = 0


@dataclass(kw_only=True, eq=False)
class ServiceExtra:
    id: int | None = None
    service_id: int
    position: int = 1
    title: str
    price: int  # minor units, > 0
    days_delta: int = 0  # -1: a day faster; 0: no change to the delivery time


@dataclass(kw_only=True, eq=False)
class ServiceOrder:
    id: int | None = None
    service_id: int
    contract_id: int | None = None  # the contract it became (one milestone)
    buyer_id: int
    seller_id: int
    tier: str
    # The package as bought (the service may change later).
    package_name: str
    package_included: str = ""
    package_price: int
    package_delivery_days: int
    package_revisions: int = 0
    extras: list[dict[str, Any]] = field(default_factory=list)  # {title, price, days_delta}
    answers: list[dict[str, str]] = field(default_factory=list)  # {question, answer}
    total: int  # package + extras, before the client fee
    currency: str = "USD"
    status: ServiceOrderStatus = ServiceOrderStatus.AWAITING_PAYMENT
    accept_by: datetime | None = None  # paid_at + the acceptance window
    due_at: datetime | None = None
    revisions_allowed: int = 0
    revisions_used: int = 0
    created_at: datetime | None = None
    paid_at: datetime | None = None
    accepted_at: datetime | None = None
    delivered_at: datetime | None = None
    ended_at: datetime | None = None

    def apply(self, action: str) -> None:
        self.status = SERVICE_ORDER.next(self.status, action)


# ---------------------------------------------------------------- validation


def clean_title(text: str | None) -> str:
    return clean_text(text, "title", TITLE_MIN, TITLE_MAX)


def clean_description(text: str | None) -> str:
    return clean_text(text, "description", DESCRIPTION_MIN, DESCRIPTION_MAX)


def clean_package_name(text: str | None) -> str:
    return clean_text(text, "package_name", 2, PACKAGE_NAME_MAX)


def clean_included(text: str | None) -> str:
    return clean_text(text, "included", 3, INCLUDED_MAX)


def clean_extra_title(text: str | None) -> str:
    return clean_text(text, "extra_title", 2, EXTRA_TITLE_MAX)


def clean_question(text: str | None) -> str:
    return clean_text(text, "question", 5, QUESTION_MAX)


def max_price(currency: str) -> int:
    """The marketplace's largest amount (domain/money.py) in minor units."""
    return int(MAX_MAJOR_UNITS.scaleb(exponent(currency)))


def check_price(amount: int, currency: str) -> int:
    """A package or extra price: more than zero, within the marketplace's limit."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError("amount_zero", "The amount must be more than zero.")
    if amount > max_price(currency):
        raise ValidationError(
            "amount_too_large",
            f"That is more than the limit of {MAX_MAJOR_UNITS:,} {currency}.",
            limit=Money(max_price(currency), currency),
        )
    return amount


def parse_price(text: str, currency: str) -> int:
    return check_price(parse_money(text, currency, "price").amount, currency)


def parse_delivery_days(text: str | int) -> int:
    return parse_int(text, "delivery_days", 1, MAX_DELIVERY_DAYS)


def parse_revisions(text: str | int) -> int:
    return parse_int(text, "revisions", 0, MAX_REVISIONS)


def parse_days_delta(text: str | int) -> int:
    return parse_int(text, "days_delta", -MAX_DAYS_DELTA, MAX_DAYS_DELTA)


def check_tier(tier: str) -> str:
    if tier not in TIERS:
        raise ValidationError("service_tier_invalid", "A package is basic, standard or premium.")
    return tier


def next_tier(taken: list[str] | tuple[str, ...] | set[str]) -> str:
    """The first tier not yet used; refused once all three are."""
    for tier in TIERS:
        if tier not in taken:
            return tier
    raise QuotaExceeded(
        "service_packages_full",
        f"A service has at most {MAX_PACKAGES} packages.",
        max=MAX_PACKAGES,
    )


def check_package(package: ServicePackage, currency: str) -> ServicePackage:
    check_tier(package.tier)
    package.name = clean_package_name(package.name)
    package.included = clean_included(package.included)
    check_price(package.price, currency)
    package.delivery_days = parse_delivery_days(package.delivery_days)
    package.revisions = parse_revisions(package.revisions)
    return package


def check_extra(extra: ServiceExtra, currency: str) -> ServiceExtra:
    extra.title = clean_extra_title(extra.title)
    check_price(extra.price, currency)
    extra.days_delta = parse_days_delta(extra.days_delta)
    return extra


def check_room(kind: str, have: int, limit: int) -> None:
    """Refuse adding one more of `kind` (packages, extras, samples, questions)."""
    if have >= limit:
        raise QuotaExceeded(
            f"service_{kind}_full",
            f"A service has at most {limit} {kind}.",
            max=limit,
        )


def check_live_services(live: int) -> None:
    if live >= MAX_LIVE_SERVICES:
        raise QuotaExceeded(
            "service_limit",
            f"You can have at most {MAX_LIVE_SERVICES} services; delete one first.",
            max=MAX_LIVE_SERVICES,
        )


def link_sample(text: str) -> dict[str, str]:
    return {"kind": SAMPLE_LINK, "value": parse_url(text)}


def photo_sample(file_id: str) -> dict[str, str]:
    if not file_id or len(file_id) > 255:
        raise ValidationError("service_sample_invalid", "Send a photo or a link.")
    return {"kind": SAMPLE_PHOTO, "value": file_id}


def publishable(service: Service, packages: list[ServicePackage]) -> None:
    """Refuse publishing what a buyer could not use: title, description, a
    category, at least one package."""
    if not service.title or not service.description:
        raise ValidationError("service_incomplete", "The service needs a title and a description.")
    if not service.category:
        raise ValidationError("service_no_category", "Choose a category first.")
    if not packages:
        raise ValidationError("service_no_packages", "A service needs at least one package.")
    if len(packages) > MAX_PACKAGES:
        raise QuotaExceeded(
            "service_packages_full",
            f"A service has at most {MAX_PACKAGES} packages.",
            max=MAX_PACKAGES,
        )


def order_total(package_price: int, extras: list[dict[str, Any]]) -> int:
    """Package plus extras, before the client fee (domain/fees.py adds that)."""
    return package_price + sum(int(x["price"]) for x in extras)


def delivery_days_of(package_days: int, extras: list[dict[str, Any]]) -> int:
    """The package's days changed by the extras, never under one day."""
    return max(1, package_days + sum(int(x.get("days_delta", 0)) for x in extras))
