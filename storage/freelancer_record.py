"""A freelancer's record as the search indexes store it (talent_index in
storage/talent_search.py, a seller's in service_index in storage/service_search.py):
the revealed reviews of contracts they worked, the contracts they ended, whether their
identity is verified, and the record rank of domain/talent.py. One rule for both
indexes, so that a seller ranks in /catalog as they do in /talent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa

from domain.states import ContractStatus, ReviewStatus
from domain.talent import record_rank
from storage.tables import contracts, identity_verifications, reviews


def record_columns(connection: sa.Connection, user_id: int, completeness: int) -> dict[str, Any]:
    """rating_x10 (the average rating ×10, rounded half up; 0 without ratings), ratings,
    completed, verified and rank (with the profile's `completeness` percent)."""
    rating_sum, ratings = connection.execute(
        sa.select(sa.func.coalesce(sa.func.sum(reviews.c.rating), 0), sa.func.count())
        .join(contracts, contracts.c.id == reviews.c.contract_id)
        .where(
            reviews.c.reviewee_id == user_id,
            contracts.c.freelancer_id == user_id,
            reviews.c.status == ReviewStatus.REVEALED,
        )
    ).one()
    completed = connection.scalar(
        sa.select(sa.func.count()).where(
            contracts.c.freelancer_id == user_id, contracts.c.status == ContractStatus.ENDED
        )
    )
    verified = connection.scalar(
        sa.select(sa.func.count()).where(
            identity_verifications.c.user_id == user_id,
            identity_verifications.c.status == "verified",
        )
    )
    rating_sum, ratings, completed = int(rating_sum or 0), int(ratings or 0), int(completed or 0)
    rating_x10 = (
        int((Decimal(rating_sum * 10) / ratings).to_integral_value(ROUND_HALF_UP)) if ratings else 0
    )
    return {
        "rating_x10": rating_x10,
        "ratings": ratings,
        "completed": completed,
        "verified": bool(verified),
        "rank": record_rank(rating_sum, ratings, completed, completeness),
    }
