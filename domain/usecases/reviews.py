"""Reviews after a contract ended: each party once, 1–5 and a text; double-blind.

Both reviews of a contract stay hidden until both parties have rated, or until
the contract's review_deadline passes (deadlines.reveal_due_reviews); a review
is accepted only until that deadline.
"""

from __future__ import annotations

from datetime import datetime

from domain import validation
from domain.config import MarketConfig
from domain.entities import Contract, Review
from domain.errors import NotAllowed
from domain.events import ReviewLeft, ReviewsRevealed
from domain.ports import Clock, UnitOfWork
from domain.states import ContractStatus, ReviewStatus
from domain.usecases.common import active_user, load, other_party, require_party


async def reveal(uow: UnitOfWork, contract_id: int, now: datetime) -> list[Review]:
    """Reveal the contract's hidden reviews; emits "reviews_revealed" once."""
    hidden = await uow.reviews.find(contract_id=contract_id, status=ReviewStatus.HIDDEN)
    revealed = []
    for found in hidden:
        review = await load(uow.reviews, found.id, "review", lock=True)
        if review.status is ReviewStatus.HIDDEN:
            review.apply("reveal")
            review.revealed_at = now
            revealed.append(review)
    if revealed:
        uow.emit(
            ReviewsRevealed(
                contract_id=contract_id,
                review_ids=[r.id for r in revealed],
                user_ids=sorted({r.reviewer_id for r in revealed} | {r.reviewee_id for r in revealed}),
            )
        )
    return revealed


async def require_reviewable(
    uow: UnitOfWork, now: datetime, contract: Contract, reviewer_id: int
) -> None:
    """A party reviews a contract once, after it ended, within its review window;
    raises NotAllowed saying why not."""
    if contract.status is not ContractStatus.ENDED:
        raise NotAllowed("contract_not_ended", "Reviews open when the contract ends.")
    if contract.review_deadline is not None and now > contract.review_deadline:
        raise NotAllowed("review_window_closed", "The time to leave a review has passed.")
    if await uow.reviews.count(contract_id=contract.id, reviewer_id=reviewer_id):
        raise NotAllowed("already_reviewed", "You have already reviewed this contract.")


async def leave_review(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    contract_id: int,
    rating: int | str,
    text: str = "",
) -> Review:
    await active_user(uow, actor_id)
    # The contract row serialises the two parties' reviews, so "both rated" is seen once.
    contract = await load(uow.contracts, contract_id, "contract", lock=True)
    require_party(contract, actor_id)
    now = clock.now()
    await require_reviewable(uow, now, contract, actor_id)
    body = text.strip()
    if body:
        body = validation.clean_text(text, "review", 1, validation.REVIEW_TEXT_MAX)
    review = await uow.reviews.add(
        Review(
            contract_id=contract_id,
            reviewer_id=actor_id,
            reviewee_id=other_party(contract, actor_id),
            rating=validation.parse_rating(rating),
            text=body,
            created_at=now,
        )
    )
    uow.emit(
        ReviewLeft(
            contract_id=contract_id,
            review_id=review.id,
            reviewer_id=actor_id,
            reviewee_id=review.reviewee_id,
        )
    )
    if await uow.reviews.count(contract_id=contract_id) >= 2:
        await reveal(uow, contract_id, now)
    return review
