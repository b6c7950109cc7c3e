"""Disputes on a milestone holding money: open, answer, propose / accept /
reject a split, withdraw, admin resolve, and freezing on a chargeback.

The reason is kept as the opener typed it. What the opener wrote about the
evidence (a file's caption, or a note of its own) is kept apart, as messages of
the dispute with the files they describe, like the parties' later answers.

Every settlement goes through domain.usecases.settlement.settle, the same code
as a release or a refund.

The clock (DisputeStage): the other party has config.dispute_response_days to
answer — their first answer, proposal or rejection starts
config.dispute_negotiation_days to agree a split — and then the dispute waits for
an admin. The deadlines are the dispute's `due_at`, acted on by the tick
(domain/usecases/deadlines.py); an admin may take a dispute at any stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import validation
from domain.config import MarketConfig
from domain.entities import Contract, ContractMessage, Dispute, Milestone
from domain.errors import NotAllowed, ValidationError
from domain.events import (
    ChargebackAfterSettlement,
    DisputeAnswered,
    DisputeEscalated,
    DisputeLapsed,
    DisputeNegotiating,
    DisputeOpened,
    DisputeResolved,
    DisputeSettled,
    DisputeTaken,
    DisputeWithdrawn,
    FrozenResolved,
    MilestoneFrozen,
    SplitProposed,
    SplitRejected,
)
from domain.fees import Settlement
from domain.ports import Clock, PaymentGateway, UnitOfWork
from domain.states import HELD, DisputeStage, DisputeStatus, MilestoneStatus
from domain.usecases.common import (
    FOLLOWER_KIND,
    active_user,
    audit,
    load,
    milestone_with_contract,
    other_party,
    require_admin,
    require_party,
)
from domain.usecases.contracts import milestone_parties, offer_end_when_settled, parties
from domain.usecases.settlement import action_for, settle

MAX_EVIDENCE = 20
REASON_MAX = 500  # an admin's reason for a decision
LIVE = (DisputeStatus.OPEN, DisputeStatus.SPLIT_PROPOSED)
DEFAULT_CONFIG = MarketConfig()


@dataclass(frozen=True, slots=True)
class EvidenceNote:
    """What the opener wrote about the evidence: a file's caption (with the files
    it came with), or a note on its own (no files)."""

    text: str
    files: tuple[str, ...] = ()


async def _locked(uow: UnitOfWork, dispute_id: int) -> tuple[Dispute, Milestone, Contract]:
    """Milestone before dispute, the order every money path locks in."""
    found = await load(uow.disputes, dispute_id, "dispute")
    milestone, contract = await milestone_with_contract(uow, found.milestone_id)
    dispute = await load(uow.disputes, dispute_id, "dispute", lock=True)
    return dispute, milestone, contract


async def _as_party(
    uow: UnitOfWork, actor_id: int, dispute_id: int
) -> tuple[Dispute, Milestone, Contract]:
    """A party acting on a live dispute: an active user, the rows locked. A closed one
    (settled, lapsed, decided or withdrawn meanwhile, e.g. by the clock) is refused."""
    await active_user(uow, actor_id)
    dispute, milestone, contract = await _locked(uow, dispute_id)
    require_party(contract, actor_id)
    if dispute.status not in LIVE:
        raise NotAllowed("dispute_closed", "This dispute is closed.")
    return dispute, milestone, contract


def parties_may_settle(milestone: Milestone) -> bool:
    """May the parties still settle a dispute on the milestone between them (propose,
    accept or reject a split, withdraw)? Not once a chargeback froze it: only an
    admin's decision settles it then. Answering stays open."""
    return milestone.status is not MilestoneStatus.FROZEN


def refuse_frozen(milestone: Milestone) -> None:
    """`parties_may_settle`, raised (checked under the milestone's lock in the use
    cases; the state machine refuses it as well)."""
    if not parties_may_settle(milestone):
        raise NotAllowed("milestone_frozen", "An admin decides on this milestone now.")


def _data(dispute: Dispute, contract: Contract, milestone: Milestone) -> dict[str, object]:
    return {"dispute_id": dispute.id, **milestone_parties(milestone, contract)}


def _refuse_own_proposal(dispute: Dispute, actor_id: int) -> None:
    if dispute.status is DisputeStatus.SPLIT_PROPOSED and dispute.proposed_by == actor_id:
        raise NotAllowed("own_proposal", "The other party decides on your proposal.")


def _close(dispute: Dispute, share: int, now: datetime, by: int | None = None) -> None:
    dispute.resolution_share, dispute.resolved_at = share, now
    dispute.due_at = None
    if by is not None:
        dispute.resolved_by = by


def opener_share(dispute: Dispute, milestone: Milestone, contract: Contract) -> int:
    """The freelancer's share when the dispute settles for its opener: all of the
    amount for a freelancer who opened it, nothing for a client."""
    return milestone.amount if dispute.opened_by == contract.freelancer_id else 0


def _stage(dispute: Dispute, stage: DisputeStage, due_at: datetime | None) -> None:
    dispute.stage, dispute.due_at, dispute.reminders_sent = stage, due_at, 0


def _heard(
    uow: UnitOfWork,
    config: MarketConfig,
    now: datetime,
    dispute: Dispute,
    milestone: Milestone,
    contract: Contract,
    actor_id: int,
) -> None:
    """The other party's first word (an answer, a proposal, a rejection) stops the
    response clock: the parties now have the negotiation days to agree a split."""
    if dispute.stage is not DisputeStage.RESPONSE or actor_id == dispute.opened_by:
        return
    _stage(dispute, DisputeStage.NEGOTIATION, now + timedelta(days=config.dispute_negotiation_days))
    uow.emit(
        DisputeNegotiating(
            due_at=dispute.due_at.isoformat(),  # type: ignore[union-attr]
            **_data(dispute, contract, milestone),
        )
    )


def await_admin(
    uow: UnitOfWork, now: datetime, dispute: Dispute, milestone: Milestone, contract: Contract
) -> None:
    """The parties' time is over: the dispute waits for an admin from now."""
    _stage(dispute, DisputeStage.ADMIN, None)
    dispute.escalated_at = now
    uow.emit(DisputeEscalated(**_data(dispute, contract, milestone)))


async def _split(
    uow: UnitOfWork,
    clock: Clock,
    milestone: Milestone,
    contract: Contract,
    share: int,
    gateway: PaymentGateway,
    by_admin: bool,
) -> Settlement:
    """Settle the escrow at `share` for the freelancer (all, none or part of it):
    by an admin's decision or by the parties' agreement (never of a frozen one)."""
    action = action_for(share, milestone.amount, by_admin)
    return await settle(uow, clock, milestone, contract, share, action, "split", gateway)


async def _settle_dispute(
    uow: UnitOfWork,
    clock: Clock,
    gateway: PaymentGateway,
    dispute: Dispute,
    milestone: Milestone,
    contract: Contract,
    share: int,
    kind: type[DisputeSettled | DisputeResolved],
    by: int | None = None,
) -> Settlement:
    """The dispute ends in a split (agreed, or decided by admin `by`); `kind` tells both."""
    split = await _split(uow, clock, milestone, contract, share, gateway, by_admin=by is not None)
    _close(dispute, share, clock.now(), by)
    said = {"reason": dispute.resolution_reason} if kind is DisputeResolved else {}
    uow.emit(
        kind(
            share=share,
            to_freelancer=split.to_freelancer,
            to_client=split.to_client,
            **said,  # type: ignore[arg-type]
            **_data(dispute, contract, milestone),
        )
    )
    await offer_end_when_settled(uow, contract)
    return split


def _check_share(share: int, milestone: Milestone) -> int:
    if not isinstance(share, int) or isinstance(share, bool) or not 0 <= share <= milestone.amount:
        raise ValidationError(
            "share_invalid",
            "The share must be between nothing and the milestone amount.",
            amount=milestone.amount,
        )
    return share


async def open_dispute(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    milestone_id: int,
    reason: str,
    evidence: Sequence[str] = (),
    notes: Sequence[EvidenceNote] = (),
    config: MarketConfig = DEFAULT_CONFIG,
) -> Dispute:
    """Either party, on a milestone holding money; the auto-release clock stops and
    the dispute's starts: the other party has config.dispute_response_days to answer.
    `notes` describe the evidence (their files must be among `evidence`)."""
    await active_user(uow, actor_id)
    milestone, contract = await milestone_with_contract(uow, milestone_id)
    require_party(contract, actor_id)
    if milestone.kind == FOLLOWER_KIND:  # a service order's paid extra revision follows
        # the order's milestone (service_orders.follow_order): disputed with it.
        raise NotAllowed(
            "order_revision_dispute", "Open the dispute on the order: the revision follows it."
        )
    text = validation.clean_text(reason, "reason", 10, validation.DISPUTE_REASON_MAX)
    if len(evidence) > MAX_EVIDENCE:
        raise ValidationError("too_many_files", f"At most {MAX_EVIDENCE} files.")
    kept_notes = _clean_notes(notes, evidence)
    milestone.apply("dispute")
    milestone.auto_release_at = None
    dispute = await uow.disputes.add(
        Dispute(
            milestone_id=milestone_id,
            contract_id=contract.id,  # type: ignore[arg-type]
            opened_by=actor_id,
            reason=text,
            evidence=list(evidence),
            created_at=clock.now(),
            stage=DisputeStage.RESPONSE,
            due_at=clock.now() + timedelta(days=config.dispute_response_days),
        )
    )
    for note in kept_notes:
        await _add_message(uow, clock, dispute, contract, actor_id, note.text, note.files)
    uow.emit(
        DisputeOpened(
            opened_by=actor_id,
            reason=text,
            notes=[{"text": n.text, "files": len(n.files)} for n in kept_notes],
            **_data(dispute, contract, milestone),
        )
    )
    return dispute


def _clean_notes(notes: Sequence[EvidenceNote], evidence: Sequence[str]) -> list[EvidenceNote]:
    if len(notes) > MAX_EVIDENCE:
        raise ValidationError("too_many_notes", f"At most {MAX_EVIDENCE} notes.", max=MAX_EVIDENCE)
    return [
        EvidenceNote(
            validation.clean_text(n.text, "note", 1, validation.DISPUTE_REASON_MAX),
            tuple(f for f in n.files if f in evidence),
        )
        for n in notes
    ]


async def _add_message(
    uow: UnitOfWork,
    clock: Clock,
    dispute: Dispute,
    contract: Contract,
    sender_id: int,
    text: str,
    files: Sequence[str],
) -> ContractMessage:
    """A statement or evidence of a party, kept with the dispute (and the contract)."""
    return await uow.messages.add(
        ContractMessage(
            contract_id=contract.id,
            sender_id=sender_id,
            recipient_id=other_party(contract, sender_id),
            text=text,
            files=list(files),
            dispute_id=dispute.id,
            created_at=clock.now(),
        )
    )


async def answer_dispute(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    dispute_id: int,
    message: str = "",
    files: Sequence[str] = (),
    config: MarketConfig = DEFAULT_CONFIG,
) -> ContractMessage:
    """A statement or evidence from either party, kept with the dispute."""
    dispute, milestone, contract = await _as_party(uow, actor_id, dispute_id)
    text = message.strip()
    if text or not files:
        text = validation.clean_text(message, "message", 1, validation.MESSAGE_MAX)
    dispute.apply("answer")
    dispute.evidence = [*dispute.evidence, *files][: MAX_EVIDENCE * 5]
    msg = await _add_message(uow, clock, dispute, contract, actor_id, text, files)
    uow.emit(DisputeAnswered(sender_id=actor_id, **_data(dispute, contract, milestone)))
    _heard(uow, config, clock.now(), dispute, milestone, contract, actor_id)
    return msg


async def propose_split(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    dispute_id: int,
    share: int,
    config: MarketConfig = DEFAULT_CONFIG,
) -> Dispute:
    """Either party proposes the freelancer's share of the amount (a counter replaces it)."""
    dispute, milestone, contract = await _as_party(uow, actor_id, dispute_id)
    refuse_frozen(milestone)
    _check_share(share, milestone)
    dispute.apply("propose_split")
    dispute.proposed_share, dispute.proposed_by = share, actor_id
    uow.emit(
        SplitProposed(
            proposed_by=actor_id,
            share=share,
            **_data(dispute, contract, milestone),
        )
    )
    _heard(uow, config, clock.now(), dispute, milestone, contract, actor_id)
    return dispute


async def accept_split(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway,
    actor_id: int,
    dispute_id: int,
    share: int,
) -> Settlement:
    """The other party agrees to the proposal it was shown: `share` is the share
    on the button it pressed, compared with the proposal under the lock, so a
    counter-proposal made meanwhile is refused ("proposal_changed"), never
    settled at a share the acceptor did not see."""
    dispute, milestone, contract = await _as_party(uow, actor_id, dispute_id)
    refuse_frozen(milestone)
    _refuse_own_proposal(dispute, actor_id)
    if dispute.status is DisputeStatus.SPLIT_PROPOSED and dispute.proposed_share != share:
        raise NotAllowed(
            "proposal_changed",
            "The proposal changed; here is the new one.",
            dispute_id=dispute_id,
            share=dispute.proposed_share,
        )
    dispute.apply("accept_split")  # IllegalTransition when nothing is proposed
    return await _settle_dispute(
        uow, clock, gateway, dispute, milestone, contract, share, DisputeSettled
    )


async def reject_split(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    dispute_id: int,
    config: MarketConfig = DEFAULT_CONFIG,
) -> Dispute:
    dispute, milestone, contract = await _as_party(uow, actor_id, dispute_id)
    refuse_frozen(milestone)
    _refuse_own_proposal(dispute, actor_id)
    dispute.apply("reject_split")
    uow.emit(SplitRejected(rejected_by=actor_id, **_data(dispute, contract, milestone)))
    _heard(uow, config, clock.now(), dispute, milestone, contract, actor_id)
    return dispute


async def withdraw_dispute(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, dispute_id: int
) -> Dispute:
    """The opener withdraws. The machine returns the milestone to SUBMITTED; if no
    work was ever submitted it goes on to CHANGES_REQUESTED, so the freelancer
    can deliver and nothing is auto-released for work that does not exist."""
    dispute, milestone, contract = await _as_party(uow, actor_id, dispute_id)
    if dispute.opened_by != actor_id:
        raise NotAllowed("not_dispute_opener", "Only who opened the dispute can withdraw it.")
    refuse_frozen(milestone)
    dispute.apply("withdraw")
    dispute.resolved_at, dispute.due_at = clock.now(), None
    milestone.apply("withdraw_dispute")
    if await uow.submissions.count(milestone_id=milestone.id):
        milestone.auto_release_at = clock.now() + timedelta(days=config.auto_release_days)
        milestone.reminders_sent = 0
    else:
        milestone.apply("request_changes")
    uow.emit(DisputeWithdrawn(withdrawn_by=actor_id, **_data(dispute, contract, milestone)))
    return dispute


async def resolve_dispute(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway,
    actor_id: int,
    dispute_id: int,
    share: int,
    reason: str = "",
) -> Settlement:
    """Admin: the freelancer gets `share` of the amount (all, none or part), with an
    optional short reason both parties receive; audited."""
    require_admin(config, actor_id)
    reason = validation.clean_text(reason, "reason", 1, REASON_MAX) if reason.strip() else ""
    dispute, milestone, contract = await _locked(uow, dispute_id)
    _check_share(share, milestone)
    dispute.apply("resolve")
    dispute.resolution_reason = reason
    split = await _settle_dispute(
        uow, clock, gateway, dispute, milestone, contract, share, DisputeResolved, actor_id
    )
    await audit(
        uow,
        clock,
        actor_id,
        "resolve",
        f"dispute:{dispute.id}",
        share=share,
        currency=milestone.currency,
        reason=reason,
    )
    return split


async def take_dispute(
    uow: UnitOfWork, clock: Clock, config: MarketConfig, actor_id: int, dispute_id: int
) -> Dispute:
    """Admin: handle a live dispute from now (taking over from another admin is
    allowed and said). The parties' clock stops: the dispute is the admins' now."""
    require_admin(config, actor_id)
    dispute, milestone, contract = await _locked(uow, dispute_id)
    if dispute.status not in LIVE:
        raise NotAllowed("dispute_closed", "This dispute is closed.")
    if dispute.handled_by == actor_id:
        raise NotAllowed("dispute_yours", "You already handle this dispute.", id=dispute_id)
    previous = dispute.handled_by
    now = clock.now()
    if dispute.stage is not DisputeStage.ADMIN:
        _stage(dispute, DisputeStage.ADMIN, None)
        dispute.escalated_at = now
    dispute.handled_by, dispute.taken_at = actor_id, now
    await audit(uow, clock, actor_id, "take", f"dispute:{dispute.id}", previous=previous)
    uow.emit(
        DisputeTaken(admin_id=actor_id, previous=previous, **_data(dispute, contract, milestone))
    )
    return dispute


async def lapse_dispute(
    uow: UnitOfWork,
    clock: Clock,
    gateway: PaymentGateway | None,
    dispute: Dispute,
    milestone: Milestone,
    contract: Contract,
) -> Settlement:
    """System, on the locked rows: nobody answered in time, so the dispute settles
    for its opener through the one settlement rule, as an agreement would."""
    share = opener_share(dispute, milestone, contract)
    dispute.apply("lapse")
    split = await _split(uow, clock, milestone, contract, share, gateway, by_admin=False)  # type: ignore[arg-type]
    _close(dispute, share, clock.now())
    uow.emit(
        DisputeLapsed(
            opened_by=dispute.opened_by,
            share=share,
            to_freelancer=split.to_freelancer,
            to_client=split.to_client,
            **_data(dispute, contract, milestone),
        )
    )
    return split


async def resolve_frozen(
    uow: UnitOfWork,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway,
    actor_id: int,
    milestone_id: int,
    share: int,
) -> Settlement:
    """Admin: settle a milestone frozen by a chargeback (closing any live dispute on it)."""
    require_admin(config, actor_id)
    milestone, contract = await milestone_with_contract(uow, milestone_id)
    if milestone.status is not MilestoneStatus.FROZEN:
        raise NotAllowed("milestone_not_frozen", "This milestone is not frozen.")
    _check_share(share, milestone)
    for live in await uow.disputes.find(milestone_id=milestone_id, status__in=LIVE):
        dispute = await load(uow.disputes, live.id, "dispute", lock=True)
        dispute.apply("resolve")
        _close(dispute, share, clock.now(), actor_id)
        dispute.stage = DisputeStage.ADMIN
    split = await _split(uow, clock, milestone, contract, share, gateway, by_admin=True)
    await audit(uow, clock, actor_id, "resolve", f"milestone:{milestone_id}", share=share)
    uow.emit(
        FrozenResolved(
            milestone_id=milestone_id,
            share=share,
            to_freelancer=split.to_freelancer,
            to_client=split.to_client,
            **parties(contract),
        )
    )
    await offer_end_when_settled(uow, contract)
    return split


async def freeze_on_chargeback(
    uow: UnitOfWork, clock: Clock, gateway_name: str, charge_ref: str
) -> bool:
    """System: the payer disputed the charge with their bank; an admin decides.

    False when the charge is unknown or already handled; a chargeback after the
    money left escrow is reported to admins (the ledger cannot claw it back).
    """
    found = await uow.payments.find(gateway=gateway_name, charge_ref=charge_ref, limit=1)
    if not found:
        found = await uow.payments.find(gateway=gateway_name, external_id=charge_ref, limit=1)
    if not found:
        return False
    milestone, contract = await milestone_with_contract(uow, found[0].milestone_id)
    data = {"milestone_id": milestone.id, **parties(contract), "payment_id": found[0].id}
    if milestone.status not in HELD or milestone.status is MilestoneStatus.FROZEN:
        if milestone.status is not MilestoneStatus.FROZEN:
            uow.emit(ChargebackAfterSettlement(status=str(milestone.status), **data))
        return False
    milestone.apply("freeze")
    milestone.auto_release_at = None
    uow.emit(MilestoneFrozen(**data))
    return True
