"""The services catalogue (/catalog): what a search asks and what it finds, without
the database (storage/service_search.py answers it through the service index).

Ranking, written here so the bench, the tests and the docs agree. With words,
relevance comes first in two tiers: every word in the title or the skills, then
every word somewhere (the description, the packages' names and what they include);
within a tier the seller's record rank (domain/talent.py: rating, track record,
profile completeness) decides, then the newer service (published last first), then
the higher id. Without words: the record rank, then newer. Tiers, not a per-row
score, so the database sorts the matches by what its indexes hold.

A service is in the catalogue while it is active and its seller is not banned;
its "from" price and fastest delivery are those of its cheapest and quickest
packages, and the price and delivery filters read those.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

SERVICE_COUNT_CAP = 1000  # matches counted; "1,000+" beyond (no page needs more)


@dataclass(frozen=True, slots=True)
class ServiceQuery:
    """/catalog: full text plus filters, one page at a time."""

    text: str = ""
    category: str | None = None
    min_price: int | None = None  # minor units, on the cheapest package
    max_price: int | None = None
    max_days: int | None = None  # the fastest package delivers within this many days
    min_rating: Decimal | None = None  # the seller's plain average of revealed reviews
    verified: bool = False  # the seller's identity verified only
    seller_id: int | None = None  # only this seller's services
    viewer_id: int | None = None  # leave out sellers in a block with the viewer
    offset: int = 0
    limit: int = 5


@dataclass(frozen=True, slots=True)
class ServiceHit:
    """One service found, with what a result line shows."""

    service_id: int
    seller_id: int
    seller_name: str
    title: str
    category: str | None
    min_price: int  # minor units: the cheapest package
    currency: str
    min_days: int  # the fastest package
    rating: Decimal | None  # the seller's, one decimal; None before any review
    ratings: int
    completed: int
    verified: bool
    rank: int  # the seller's record rank (domain.talent.record_rank)
    published_at: datetime | None
