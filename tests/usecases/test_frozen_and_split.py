"""Issue 9, items 1 and 3: a milestone frozen by a chargeback is settled by an
admin's decision only, and accepting a split settles at the share the acceptor
was shown — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from domain import ledger
from domain.errors import IllegalTransition, NotAllowed
from domain.states import ADMIN_ACTIONS, MILESTONE, DisputeStatus, MilestoneStatus
from domain.usecases import disputes, milestones
from tests.usecases.conftest import ADMIN, CLIENT, FREELANCER
from tests.usecases.story import RecordingGateway, fund, hired

AMOUNT = 10_000


def test_only_an_admins_decision_leaves_frozen() -> None:
    out_of_frozen = {a for (s, a) in MILESTONE.table if s is MilestoneStatus.FROZEN}
    assert out_of_frozen and out_of_frozen <= ADMIN_ACTIONS
    # What the parties may do to a disputed milestone is never allowed once frozen.
    for action in ("agree_release", "agree_refund", "agree_split", "release", "refund"):
        assert not MILESTONE.allows(MilestoneStatus.FROZEN, action)


async def frozen_dispute(db, clock, config, gw) -> tuple[int, int]:
    _, (mid,) = await hired(db, clock, config, (AMOUNT,))
    charge = await fund(db, clock, config, gw, mid)
    async with db.uow() as uow:
        dispute = await disputes.open_dispute(uow, clock, CLIENT, mid, "Nothing was delivered yet")
        await disputes.propose_split(uow, clock, FREELANCER, dispute.id, AMOUNT)
        await uow.commit()
    async with db.uow() as uow:
        payment = (await uow.payments.find(milestone_id=mid))[0]
        assert payment.external_id == charge
        assert await disputes.freeze_on_chargeback(uow, clock, "sandbox", payment.charge_ref)
        await uow.commit()
    return mid, dispute.id


async def test_the_parties_cannot_settle_a_frozen_milestone(users, clock, config) -> None:
    db, gw = users, RecordingGateway()
    mid, did = await frozen_dispute(db, clock, config, gw)
    # The client accepts the freelancer's 100 % proposed before the chargeback: refused.
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await disputes.accept_split(uow, clock, config, gw, CLIENT, did, AMOUNT)
        assert err.value.code == "milestone_frozen"
    for act in [
        lambda uow: disputes.propose_split(uow, clock, FREELANCER, did, AMOUNT),
        lambda uow: disputes.reject_split(uow, clock, CLIENT, did),
        lambda uow: disputes.withdraw_dispute(uow, clock, config, CLIENT, did),
        lambda uow: milestones.release(uow, clock, config, CLIENT, mid),
    ]:
        async with db.uow() as uow:
            with pytest.raises((NotAllowed, IllegalTransition)):
                await act(uow)
    async with db.uow() as uow:
        assert (await uow.milestones.get(mid)).status is MilestoneStatus.FROZEN
        assert await uow.ledger.balance(ledger.freelancer_account(FREELANCER)) == 0
    # The admins decide, and the decision is not "not frozen".
    async with db.uow() as uow:
        split = await disputes.resolve_frozen(uow, clock, config, gw, ADMIN, mid, 0)
        await uow.commit()
    assert split.to_client == 10_500
    async with db.uow() as uow:
        assert (await uow.milestones.get(mid)).status is MilestoneStatus.REFUNDED
        assert (await uow.disputes.get(did)).status is DisputeStatus.RESOLVED


async def test_accepting_a_changed_proposal_is_refused(users, clock, config) -> None:
    db, gw = users, RecordingGateway()
    _, (mid,) = await hired(db, clock, config, (AMOUNT,))
    await fund(db, clock, config, gw, mid)
    async with db.uow() as uow:
        dispute = await disputes.open_dispute(uow, clock, CLIENT, mid, "The logo is not ours")
        await disputes.propose_split(uow, clock, FREELANCER, dispute.id, AMOUNT // 10)
        await uow.commit()
    # The client saw 10 %; the freelancer changes it to 100 % before the tap lands.
    async with db.uow() as uow:
        await disputes.propose_split(uow, clock, FREELANCER, dispute.id, AMOUNT)
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await disputes.accept_split(uow, clock, config, gw, CLIENT, dispute.id, AMOUNT // 10)
        assert err.value.code == "proposal_changed" and err.value.params["share"] == AMOUNT
    async with db.uow() as uow:
        assert (await uow.milestones.get(mid)).status is MilestoneStatus.DISPUTED
        assert not await uow.ledger.has(ledger.settle_key(mid))
    # Accepting what is proposed now settles at exactly that.
    async with db.uow() as uow:
        split = await disputes.accept_split(uow, clock, config, gw, CLIENT, dispute.id, AMOUNT)
        await uow.commit()
    assert split.to_freelancer == 9_000
