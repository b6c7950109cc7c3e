"""Bonuses and partial releases: two ways a client is fair beyond the milestones.

A bonus is a milestone of kind "bonus" (position 0, never on the card's list):
the client starts it with an amount, pays it through the one funding path
(payments.start_funding → checkout → confirm_payment, so the client fee is
charged on top and every gateway and webhook works as for a milestone), and the
confirmed payment releases it at once in the same transaction (settle with the
whole amount: the freelancer fee is kept). The ledger moves `fund:milestone:<id>`
then `settle:milestone:<id>` (kind "bonus"): a replayed confirmation changes
nothing, so a bonus is paid once per payment. Allowed on an active or ended
contract, by its client only.

A partial release: on submitted work the client offers to release `share` (less
than the amount) with a reason; the milestone waits (PARTIAL, the auto-release
clock stopped). The freelancer accepts (split settlement through the one fee
rule: the rest and its client fee go back to the client as a refund gateway
call) or declines (the milestone is disputed through the dispute machinery,
with its clock; the reason says what was offered). The offer stands
config.partial_offer_days (kept in the milestone's `auto_release_at` while it
waits: the one clock a milestone has); the client may take it back before, and
unanswered it lapses (`lapse_partial_offers`, a deadline). Either way the work
is under review again with a fresh review window, as after a submission.
"""

from __future__ import annotations

from datetime import timedelta

from domain import validation
from domain.config import MarketConfig
from domain.entities import Contract, Milestone, Payment
from domain.errors import NotAllowed, ValidationError
from domain.events import (
    BonusPaid,
    PartialReleaseAccepted,
    PartialReleaseOffered,
    PartialReleaseWithdrawn,
)
from domain.fees import Settlement
from domain.ports import Clock, PaymentGateway, UnitOfWork
from domain.states import ContractStatus, MilestoneStatus
from domain.usecases import disputes, payments
from domain.usecases.common import (
    active_user,
    clock_ran_out,
    load,
    milestone_with_contract,
    require_party,
)
from domain.usecases.contracts import milestone_parties, offer_end_when_settled
from domain.usecases.settlement import settle

BONUS = "bonus"
BONUS_STATES = (ContractStatus.ACTIVE, ContractStatus.ENDED)
REASON_MIN = 3


def require_bonus_contract(contract: Contract, actor_id: int) -> None:
    """Only the client, on an active or ended contract."""
    require_party(contract, actor_id, "client")
    if contract.status not in BONUS_STATES:
        raise NotAllowed("bonus_not_allowed", "A bonus goes with an active or ended contract.")


def _positive(amount: int) -> int:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationError("amount_zero", "The amount must be more than zero.")
    return amount


async def start_bonus(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway,
    actor_id: int,
    contract_id: int,
    amount: int,
    title: str = "Bonus",
    shown_in: int | None = None,
) -> Payment:
    """The client starts a bonus of `amount`: a bonus milestone and its payment
    (the quote's total: amount + client fee), through the funding path."""
    await active_user(uow, actor_id)
    contract = await load(uow.contracts, contract_id, "contract", lock=True)
    require_bonus_contract(contract, actor_id)
    milestone = await uow.milestones.add(
        Milestone(
            contract_id=contract_id,
            position=0,
            title=validation.clean_text(title, "title", 1, validation.MILESTONE_TITLE_MAX),
            amount=_positive(amount),
            currency=contract.currency,
            kind=BONUS,
        )
    )
    return await payments.start_funding(
        uow,
        clock,
        config,
        gateway,
        actor_id,
        milestone.id,
        shown_in,  # type: ignore[arg-type]
    )


async def bonus_paid(
    uow: UnitOfWork, clock: Clock, milestone: Milestone, contract: Contract
) -> Settlement:
    """confirm_payment funded a bonus: release it at once, whole (the caller holds
    the milestone's lock and recorded the funding in this transaction)."""
    split = await settle(uow, clock, milestone, contract, milestone.amount, "release", BONUS)
    uow.emit(
        BonusPaid(
            to_freelancer=split.to_freelancer,
            fees=split.to_platform,
            total=split.total,
            **milestone_parties(milestone, contract),
        )
    )
    return split


# --- partial release -------------------------------------------------------------------


async def offer_partial(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    milestone_id: int,
    share: int,
    reason: str,
    config: MarketConfig | None = None,
) -> Milestone:
    """The client offers `share` (more than zero, less than the amount) of submitted
    work, with a reason; the review clock stops until the freelancer decides, for
    config.partial_offer_days at most."""
    await active_user(uow, actor_id)
    milestone, contract = await milestone_with_contract(uow, milestone_id)
    require_party(contract, actor_id, "client")
    if contract.status is not ContractStatus.ACTIVE:
        raise NotAllowed("contract_not_active", "This contract is not active.")
    _positive(share)
    if share >= milestone.amount:
        raise ValidationError(
            "partial_too_much", "A partial release is less than the milestone's amount."
        )
    text = validation.clean_text(reason, "reason", REASON_MIN, validation.MESSAGE_MAX)
    milestone.apply("offer_partial")
    milestone.partial_share, milestone.partial_reason = share, text
    days = (config or MarketConfig()).partial_offer_days
    milestone.auto_release_at = clock.now() + timedelta(days=days)  # the offer's deadline
    uow.emit(
        PartialReleaseOffered(share=share, reason=text, **milestone_parties(milestone, contract))
    )
    return milestone


async def _offered(
    uow: UnitOfWork, actor_id: int, milestone_id: int, shown_share: int
) -> tuple[Milestone, Contract]:
    await active_user(uow, actor_id)
    milestone, contract = await milestone_with_contract(uow, milestone_id)
    require_party(contract, actor_id, "freelancer")
    if milestone.status is not MilestoneStatus.PARTIAL:  # answered, taken back or lapsed
        raise NotAllowed("partial_gone", "This offer is no longer open.")
    if milestone.partial_share != shown_share:
        raise NotAllowed("partial_changed", "The offer changed; look at it again.")
    return milestone, contract


async def accept_partial(
    uow: UnitOfWork,
    clock: Clock,
    gateway: PaymentGateway,
    actor_id: int,
    milestone_id: int,
    shown_share: int,
) -> Settlement:
    """The freelancer accepts the share they were shown: the split settlement."""
    milestone, contract = await _offered(uow, actor_id, milestone_id, shown_share)
    share = milestone.partial_share or 0
    split = await settle(
        uow, clock, milestone, contract, share, "accept_partial", "partial", gateway
    )
    uow.emit(
        PartialReleaseAccepted(
            share=share,
            to_freelancer=split.to_freelancer,
            to_client=split.to_client,
            fees=split.to_platform,
            **milestone_parties(milestone, contract),
        )
    )
    await offer_end_when_settled(uow, contract)
    return split


async def decline_partial(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    milestone_id: int,
    shown_share: int,
    reason: str,
) -> int:
    """The freelancer declines: a dispute on the milestone (its clock starts); the id."""
    await _offered(uow, actor_id, milestone_id, shown_share)
    dispute = await disputes.open_dispute(uow, clock, actor_id, milestone_id, reason, config=config)
    return dispute.id  # type: ignore[return-value]


async def withdraw_partial(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, milestone_id: int
) -> Milestone:
    """The client takes a partial release back before the freelancer answered."""
    await active_user(uow, actor_id)
    milestone, contract = await milestone_with_contract(uow, milestone_id)
    require_party(contract, actor_id, "client")
    _back_to_review(uow, clock, config, milestone, contract, "withdraw_partial", lapsed=False)
    return milestone


async def lapse_partial_offers(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, limit: int = 100
) -> list[int]:
    """Partial releases nobody answered within config.partial_offer_days: the work
    is under review again. Their milestone ids."""
    lapsed: list[int] = []
    # One answered or taken back meanwhile is left out.
    due = clock_ran_out(uow, MilestoneStatus.PARTIAL, clock.now(), limit)
    async for milestone, contract in due:
        _back_to_review(uow, clock, config, milestone, contract, "lapse_partial", lapsed=True)
        lapsed.append(milestone.id)  # type: ignore[arg-type]
    return lapsed


def _back_to_review(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    milestone: Milestone,
    contract: Contract,
    action: str,
    *,
    lapsed: bool,
) -> None:
    """The offer is gone: the work under review again, its window from now (a service
    order's own length, as at a submission)."""
    share = milestone.partial_share or 0
    milestone.apply(action)
    milestone.partial_share, milestone.partial_reason = None, ""
    days = contract.auto_release_days or config.auto_release_days
    milestone.auto_release_at = clock.now() + timedelta(days=days)
    uow.emit(
        PartialReleaseWithdrawn(
            share=share,
            lapsed=lapsed,
            auto_release_at=milestone.auto_release_at.isoformat(),
            **milestone_parties(milestone, contract),
        )
    )
