"""Milestone work: submit, request changes, approve & release, refund, cancel.

Refund policy (a funded milestone cancelled before work was submitted):
- the freelancer may refund the client at any time while the milestone is FUNDED;
- the client may refund alone only when the milestone's due date has passed
  with nothing submitted (overdue work); otherwise the client asks the
  freelancer or opens a dispute. Once work is submitted, only a dispute can
  return money to the client.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from domain import validation
from domain.config import MarketConfig
from domain.entities import ContractMessage, Milestone, Submission
from domain.errors import NotAllowed, ValidationError
from domain.events import (
    ChangesRequested,
    MilestoneCancelled,
    MilestoneRefunded,
    MilestoneReleased,
    WorkSubmitted,
)
from domain.fees import Settlement
from domain.ports import Clock, PaymentGateway, UnitOfWork
from domain.states import MILESTONE, ContractStatus
from domain.usecases.common import (
    active_user,
    milestone_with_contract,
    refuse_follower,
    require_party,
)
from domain.usecases.contracts import milestone_parties, offer_end_when_settled
from domain.usecases.hourly import refuse_week
from domain.usecases.settlement import settle

MAX_FILES = 10


def refund_allowed(side: str, milestone: Milestone, today: date) -> bool:
    """The refund policy above: may `side` ("client" or "freelancer") refund the
    milestone alone today? The freelancer while it is funded; the client only once
    its due date has passed (`today` is after it) with nothing submitted."""
    if not MILESTONE.allows(milestone.status, "refund"):
        return False
    return side == "freelancer" or (milestone.due_date is not None and today > milestone.due_date)


async def submit_work(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    actor_id: int,
    milestone_id: int,
    message: str = "",
    files: Sequence[str] = (),
) -> Submission:
    """The freelancer delivers (or re-delivers after "changes requested");
    the client's review window starts: auto-release at now + auto_release_days."""
    await active_user(uow, actor_id)
    milestone, contract = await milestone_with_contract(uow, milestone_id)
    require_party(contract, actor_id, "freelancer")
    await refuse_week(uow, milestone_id, "submit")
    if len(files) > MAX_FILES:
        raise ValidationError("too_many_files", f"At most {MAX_FILES} files.", max=MAX_FILES)
    text = message.strip()
    if text or not files:
        text = validation.clean_text(message, "message", 1, validation.MESSAGE_MAX)
    milestone.apply("submit")
    now = clock.now()
    milestone.submitted_at = now
    days = contract.auto_release_days or config.auto_release_days  # a service order's own
    milestone.auto_release_at = now + timedelta(days=days)
    milestone.reminders_sent = 0
    submission = await uow.submissions.add(
        Submission(
            milestone_id=milestone_id,
            freelancer_id=actor_id,
            message=text,
            files=list(files),
            created_at=now,
        )
    )
    if contract.job_id is None:  # a service order: delivered (service_orders.py)
        from domain.usecases import service_orders

        await service_orders.delivered(uow, clock, contract, milestone)
    uow.emit(
        WorkSubmitted(
            submission_id=submission.id,
            auto_release_at=milestone.auto_release_at.isoformat(),
            **milestone_parties(milestone, contract),
        )
    )
    return submission


async def request_changes(
    uow: UnitOfWork, clock: Clock, actor_id: int, milestone_id: int, note: str
) -> Milestone:
    """The client asks for changes; the auto-release clock stops until the next submission."""
    await active_user(uow, actor_id)
    milestone, contract = await milestone_with_contract(uow, milestone_id)
    require_party(contract, actor_id, "client")
    await refuse_week(uow, milestone_id, "request_changes")
    text = validation.clean_text(note, "note", 1, validation.MESSAGE_MAX)
    milestone.apply("request_changes")
    if contract.job_id is None:  # a service order: counted against its revisions
        from domain.usecases import service_orders

        await service_orders.revision_requested(uow, clock, contract, milestone)
    milestone.auto_release_at = None
    await uow.messages.add(
        ContractMessage(
            contract_id=contract.id,
            sender_id=actor_id,
            recipient_id=contract.freelancer_id,
            text=text,
            created_at=clock.now(),
        )
    )
    uow.emit(ChangesRequested(note=text, **milestone_parties(milestone, contract)))
    return milestone


async def release(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, milestone_id: int
) -> Settlement:
    """The client approves: the whole amount to the freelancer, less the fees."""
    await active_user(uow, actor_id)
    milestone, contract = await milestone_with_contract(uow, milestone_id)
    require_party(contract, actor_id, "client")
    await refuse_week(uow, milestone_id, "release")
    refuse_follower(milestone)
    split = await settle(uow, clock, milestone, contract, milestone.amount, "release", "release")
    uow.emit(
        MilestoneReleased(
            to_freelancer=split.to_freelancer,
            fees=split.to_platform,
            auto=False,
            **milestone_parties(milestone, contract),
        )
    )
    await offer_end_when_settled(uow, contract)
    return split


async def refund(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway,
    actor_id: int,
    milestone_id: int,
) -> Settlement:
    """Cancel a funded milestone before submission: the client gets everything back."""
    await active_user(uow, actor_id)
    milestone, contract = await milestone_with_contract(uow, milestone_id)
    side = require_party(contract, actor_id)
    refuse_follower(milestone)
    if MILESTONE.allows(milestone.status, "refund") and not refund_allowed(
        side, milestone, clock.now().date()
    ):
        raise NotAllowed(
            "refund_needs_freelancer",
            "Ask the freelancer to cancel, or open a dispute.",
        )
    split = await settle(uow, clock, milestone, contract, 0, "refund", "refund", gateway)
    uow.emit(
        MilestoneRefunded(
            refunded_by=actor_id,
            to_client=split.to_client,
            **milestone_parties(milestone, contract),
        )
    )
    await offer_end_when_settled(uow, contract)
    return split


async def cancel_milestone(
    uow: UnitOfWork, clock: Clock, actor_id: int, milestone_id: int
) -> Milestone:
    """The client drops an unfunded milestone (or abandons a pending checkout).

    A payment that still completes afterwards is flagged "refund due" by
    confirm_payment rather than funding a cancelled milestone.
    """
    await active_user(uow, actor_id)
    milestone, contract = await milestone_with_contract(uow, milestone_id)
    require_party(contract, actor_id, "client")
    if contract.status is not ContractStatus.ACTIVE:
        raise NotAllowed("contract_not_active", "This contract is not active.")
    milestone.apply("cancel")
    milestone.settled_at = clock.now()
    now = clock.now()
    for payment in await uow.payments.find(milestone_id=milestone_id, status="pending"):
        payment.status, payment.updated_at = "expired", now
    uow.emit(MilestoneCancelled(**milestone_parties(milestone, contract)))
    await offer_end_when_settled(uow, contract)
    return milestone
