"""Reviews after a contract ended: each party once, 1–5 and a text; double-blind.

With the public rating come three sub-ratings (SUB_RATINGS, by the reviewee's
side) and the private feedback — would you recommend them (0–10) and why the
contract ended (END_REASONS) — which only the reputation score reads: it is
never shown to the reviewee. The reviewee may post one public reply to a
revealed review (reply_to_review).

Both reviews of a contract stay hidden until both parties have rated, or until
the contract's review_deadline passes (deadlines.reveal_due_reviews); a review
is accepted only until that deadline.
"""

from __future__ import annotations

from datetime import datetime

from domain import validation
from domain.config import MarketConfig
from domain.entities import Contract, Review
from domain.errors import NotAllowed, ValidationError
from domain.events import ReviewLeft, ReviewReplied, ReviewsRevealed
from domain.ports import Clock, UnitOfWork
from domain.states import ContractStatus, ReviewStatus
from domain.usecases import badges
from domain.usecases.common import active_user, load, other_party, require_party

# What the three sub-ratings measure, by the side of the one rated.
SUB_RATINGS = {
    "freelancer": ("quality", "communication", "deadlines"),
    "client": ("clarity", "communication", "payment"),
}
END_REASONS = ("done", "budget", "scope", "silent", "other")
REPLY_MAX = 1000


def _score(value: int | None, low: int, high: int, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{what}_invalid", f"A {what} is a whole number {low}–{high}.")
    return value


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
        for user_id in sorted({r.reviewee_id for r in revealed}):
            await badges.refresh(uow, now, user_id)
        uow.emit(
            ReviewsRevealed(
                contract_id=contract_id,
                review_ids=[r.id for r in revealed],
                user_ids=sorted(
                    {r.reviewer_id for r in revealed} | {r.reviewee_id for r in revealed}
                ),
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
    *,
    subs: tuple[int, int, int] | None = None,
    recommend: int | None = None,
    end_reason: str = "",
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
            sub1=_score(subs[0], 1, 5, "rating") if subs else None,
            sub2=_score(subs[1], 1, 5, "rating") if subs else None,
            sub3=_score(subs[2], 1, 5, "rating") if subs else None,
            recommend=_score(recommend, 0, 10, "recommend"),
            end_reason=end_reason if end_reason in END_REASONS else "",
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


async def reply_to_review(
    uow: UnitOfWork, clock: Clock, actor_id: int, review_id: int, text: str
) -> Review:
    """The reviewee's one public reply to a revealed review."""
    await active_user(uow, actor_id)
    review = await load(uow.reviews, review_id, "review", lock=True)
    if review.reviewee_id != actor_id:
        raise NotAllowed("not_your_review", "Only the one reviewed may reply.")
    if review.status is not ReviewStatus.REVEALED:
        raise NotAllowed("review_hidden", "A review can be answered once it is shown.")
    if review.reply:
        raise NotAllowed("already_replied", "You have already replied to this review.")
    review.reply = validation.clean_text(text, "reply", 1, REPLY_MAX)
    review.replied_at = clock.now()
    uow.emit(
        ReviewReplied(
            contract_id=review.contract_id,
            review_id=review_id,
            reviewer_id=review.reviewer_id,
            reviewee_id=actor_id,
        )
    )
    return review
