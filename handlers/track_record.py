"""A person's track record on a card, one helper for every screen that shows one:
the client's on job cards, alerts and digests; the freelancer's on pitches and
offers. The numbers come from domain/usecases/track_record.py, one call per page
(`clients_of` / `freelancers_of` below remember them for the unit of work, so an
alert fanned out to many freelancers asks once)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Protocol
from weakref import WeakKeyDictionary

from babel.dates import format_date

from domain.config import MarketConfig
from domain.money import Money, exponent
from domain.ports import Clock, UnitOfWork
from domain.usecases.track_record import (
    ClientRecord,
    FreelancerRecord,
    client_records,
    freelancer_records,
)
from handlers.render import Html, join


class RecordTranslator(Protocol):
    lang: str

    def __call__(self, key: str, **params: object) -> Html: ...

    def plain(self, key: str, **params: object) -> str: ...


_CLIENTS: WeakKeyDictionary[object, dict[int, ClientRecord]] = WeakKeyDictionary()


async def clients_of(
    uow: UnitOfWork, config: MarketConfig, user_ids: Iterable[int]
) -> dict[int, ClientRecord]:
    """The clients' records for this unit of work: the missing ones in one call."""
    known = _CLIENTS.setdefault(uow, {})
    missing = {i for i in user_ids if i not in known}
    if missing:
        known.update(await client_records(uow, config, missing))
    return known


async def client_of(uow: UnitOfWork, config: MarketConfig, user_id: int) -> ClientRecord | None:
    return (await clients_of(uow, config, [user_id])).get(user_id)


async def freelancers_of(
    uow: UnitOfWork, clock: Clock, user_ids: Iterable[int]
) -> dict[int, FreelancerRecord]:
    return await freelancer_records(uow, clock, user_ids)


async def freelancer_of(uow: UnitOfWork, clock: Clock, user_id: int) -> FreelancerRecord | None:
    return (await freelancers_of(uow, clock, [user_id])).get(user_id)


def _symbolled(number: str, currency: str) -> str:
    """`number` written as the one money format writes this currency ("$1.2k+", "1.2k+ CHF")."""
    zero = Money(0, currency).format()
    if zero.endswith(currency):
        return f"{number} {currency}"
    return zero[: zero.index("0")] + number


@lru_cache(maxsize=4096)  # a page shows a handful of amounts; formatting one is ~20 µs
def rounded(amount: int, currency: str) -> str:
    """Money rounded down for a record: "$0", "$250+", "$1.2k+", "$3.4M+" ("+" when
    something was cut), so a card says how much without being an account statement."""
    major = Decimal(amount).scaleb(-exponent(currency))
    for size, suffix in ((Decimal(1_000_000), "M"), (Decimal(1_000), "k")):
        if major >= size:
            tenths = int(major * 10 / size)  # rounded down to a tenth
            number = f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}"
            cut = Decimal(tenths) / 10 * size < major
            return _symbolled(f"{number}{suffix}{'+' if cut else ''}", currency)
    whole = int(major)
    return _symbolled(f"{whole}{'+' if whole < major else ''}", currency)


def month(t: RecordTranslator, day: date | None) -> str:
    return _month(t.lang, day.year, day.month) if day else "—"


@lru_cache(maxsize=1024)  # Babel's format_date took ~60 µs of each card and result line
def _month(lang: str, year: int, number: int) -> str:
    return format_date(date(year, number, 1), "LLLL y", locale=lang)


def _rating(t: RecordTranslator, rating: Decimal | None, count: int) -> str:
    if rating is None:
        return t.plain("record.no_reviews")
    return t.plain("record.rating", rating=str(rating), count=count)


def client_record(t: RecordTranslator, record: ClientRecord | None) -> Html:
    """Two lines: who the client is (member since, payment verified) and what they did."""
    if record is None:
        return Html("")
    badge = "record.payment_verified" if record.payment_verified else "record.payment_unverified"
    facts = [
        t.plain("record.jobs_posted", count=record.jobs_posted),
        t.plain("record.hires", count=record.hires),
        t.plain("record.spent", amount=rounded(record.spent, record.currency)),
        _rating(t, record.rating, record.ratings),
    ]
    return join(
        [
            t("record.client", since=month(t, record.member_since), badge=t.plain(badge)),
            t("record.facts", facts=" · ".join(facts)),
        ]
    )


def freelancer_record(t: RecordTranslator, record: FreelancerRecord | None) -> Html:
    """Two lines: who the freelancer is (member since, identity verified) and their record."""
    if record is None:
        return Html("")
    badge = "record.identity_verified" if record.identity_verified else "record.identity_unverified"
    facts = [
        t.plain("record.completed", count=record.completed),
        _rating(t, record.rating, record.ratings),
    ]
    if record.on_time_percent is not None:
        facts.append(t.plain("record.on_time", percent=record.on_time_percent))
    return join(
        [
            t("record.freelancer", since=month(t, record.member_since), badge=t.plain(badge)),
            t("record.facts", facts=" · ".join(facts)),
        ]
    )


def client_brief(t: RecordTranslator, record: ClientRecord | None) -> Html:
    """The client's record in one line, for lists (a digest, search results)."""
    if record is None:
        return Html("")
    badge = "record.payment_verified" if record.payment_verified else "record.payment_unverified"
    return t(
        "record.brief",
        facts=" · ".join(
            [
                t.plain("record.since_short", since=month(t, record.member_since)),
                t.plain("record.jobs_posted", count=record.jobs_posted),
                t.plain("record.hires", count=record.hires),
                t.plain("record.spent", amount=rounded(record.spent, record.currency)),
                _rating(t, record.rating, record.ratings),
                t.plain(badge),
            ]
        ),
    )


def freelancer_brief(t: RecordTranslator, record: FreelancerRecord | None) -> Html:
    """The freelancer's record in one line, for lists (the pitches on a job)."""
    if record is None:
        return Html("")
    badge = "record.identity_verified" if record.identity_verified else "record.identity_unverified"
    facts = [
        t.plain("record.since_short", since=month(t, record.member_since)),
        t.plain("record.completed", count=record.completed),
        _rating(t, record.rating, record.ratings),
    ]
    if record.on_time_percent is not None:
        facts.append(t.plain("record.on_time", percent=record.on_time_percent))
    facts.append(t.plain(badge))
    return t("record.brief", facts=" · ".join(facts))
