"""The money stories, end to end through the use cases on real databases."""

import pytest

from domain import ledger
from domain.errors import IllegalTransition, NotAllowed, NotFound
from domain.fees import fee
from domain.states import MilestoneStatus
from domain.usecases import disputes, milestones, payments, payouts
from tests.funding import open_checkout
from tests.usecases.conftest import ADMIN, CLIENT, FREELANCER, STRANGER
from tests.usecases.story import RecordingGateway, fund, hired, make_calls

AMOUNT = 10_000  # $100.00: client fee 5 % = 500, freelancer fee 10 % = 1,000


async def test_fund_submit_release_pays_freelancer_and_platform(users, clock, config):
    db, gw = users, RecordingGateway()
    _, (mid,) = await hired(db, clock, config, (AMOUNT,))
    async with db.uow() as uow:
        q = await payments.quote(uow, CLIENT, mid)
        assert (q.amount, q.client_fee, q.total) == (AMOUNT, 500, 10_500)
    await fund(db, clock, config, gw, mid)
    async with db.uow() as uow:
        assert await uow.ledger.balance(ledger.escrow_account(mid)) == 10_500
        await milestones.submit_work(uow, clock, config, FREELANCER, mid, "Done", ["file1"])
        assert [e.kind for e in uow.events] == ["work_submitted"]
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await milestones.release(uow, clock, config, FREELANCER, mid)
        assert err.value.code == "client_only"
    async with db.uow() as uow:
        split = await milestones.release(uow, clock, config, CLIENT, mid)
        await uow.commit()
    assert (split.to_freelancer, split.to_platform, split.to_client) == (9_000, 1_500, 0)
    async with db.uow() as uow:
        assert await uow.ledger.balance(ledger.freelancer_account(FREELANCER)) == AMOUNT - fee(
            AMOUNT, 1000
        )
        assert await uow.ledger.balance(ledger.PLATFORM_FEES) == 1_500
        assert await uow.ledger.balance(ledger.escrow_account(mid)) == 0
        assert await uow.ledger.total() == 0
        m = await uow.milestones.get(mid)
        assert m.status is MilestoneStatus.RELEASED and m.settled_at == clock.now()
        with pytest.raises(IllegalTransition):
            await milestones.release(uow, clock, config, CLIENT, mid)


async def test_funding_second_tap_replay_and_unknown_payment(sqlite_users, clock, config):
    db, gw = sqlite_users, RecordingGateway()
    _, (mid,) = await hired(db, clock, config, (AMOUNT,))
    async with db.uow() as uow:
        with pytest.raises(NotAllowed):
            await payments.start_funding(uow, clock, config, gw, FREELANCER, mid)
        first = await payments.start_funding(uow, clock, config, gw, CLIENT, mid)
        again = await payments.start_funding(uow, clock, config, gw, CLIENT, mid)
        assert again.id == first.id and first.amount == 10_500
        assert gw.checkouts == []  # the payment commits before the gateway is asked
        await uow.commit()
    first = await open_checkout(db, clock, config, gw, CLIENT, mid)  # a tap after a crash
    assert gw.checkouts == [f"checkout:payment:{first.id}"]
    async with db.uow() as uow:
        assert await payments.payment_failed(uow, clock, gw.name, first.external_id, "declined")
        await uow.commit()
    async with db.uow() as uow:
        assert (await uow.milestones.get(mid)).status is MilestoneStatus.PENDING
    second = await open_checkout(db, clock, config, gw, CLIENT, mid)
    assert second.id != first.id
    assert gw.checkouts[-1] == f"checkout:payment:{second.id}"
    async with db.uow() as uow:
        assert await payments.confirm_payment(uow, clock, config, gw.name, second.external_id)
        await uow.commit()
    async with db.uow() as uow:
        assert not await payments.confirm_payment(uow, clock, config, gw.name, second.external_id)
        assert uow.events == []
        with pytest.raises(NotFound):
            await payments.confirm_payment(uow, clock, config, gw.name, "cs_nope")
        # The failed attempt succeeding late never funds the milestone twice.
        assert await payments.confirm_payment(uow, clock, config, gw.name, first.external_id)
        # Its refund is committed as a gateway call, made after the commit.
        assert [e.kind for e in uow.events] == ["gateway_call_due"]
        await uow.commit()
    assert gw.refunds == []
    assert await make_calls(db, clock, config, gw) == 1
    assert gw.refunds == [(10_500, f"refund:payment:{first.id}")]
    async with db.uow() as uow:
        assert await uow.ledger.balance(ledger.escrow_account(mid)) == 10_500
        assert len(await uow.ledger.transactions("escrow:")) == 1


async def test_refund_policy(sqlite_users, clock, config):
    db, gw = sqlite_users, RecordingGateway()
    _, (m1, m2) = await hired(db, clock, config, (AMOUNT, 4_000))
    await fund(db, clock, config, gw, m1)
    await fund(db, clock, config, gw, m2)
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await milestones.refund(uow, clock, config, gw, CLIENT, m1)
        assert err.value.code == "refund_needs_freelancer"
        with pytest.raises(NotAllowed):
            await milestones.refund(uow, clock, config, gw, STRANGER, m1)
        split = await milestones.refund(uow, clock, config, gw, FREELANCER, m1)
        await uow.commit()
    assert (split.to_client, split.to_freelancer, split.to_platform) == (10_500, 0, 0)
    assert gw.refunds == []  # committed first, made after the commit
    await make_calls(db, clock, config, gw)
    assert gw.refunds == [(10_500, f"refund:milestone:{m1}")]
    async with db.uow() as uow:
        await milestones.submit_work(uow, clock, config, FREELANCER, m2, "", ["f"])
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(IllegalTransition):  # after submission only a dispute refunds
            await milestones.refund(uow, clock, config, gw, FREELANCER, m2)
        assert await uow.ledger.balance(ledger.escrow_account(m1)) == 0
        assert await uow.ledger.balance(ledger.gateway_account("sandbox")) == -4_200


async def test_dispute_split_agreed_and_admin_resolution(users, clock, config):
    db, gw = users, RecordingGateway()
    _, (m1, m2) = await hired(db, clock, config, (AMOUNT, 20_000))
    await fund(db, clock, config, gw, m1)
    await fund(db, clock, config, gw, m2)
    async with db.uow() as uow:
        d1 = await disputes.open_dispute(uow, clock, CLIENT, m1, "The logo is not what we agreed")
        d2 = await disputes.open_dispute(uow, clock, FREELANCER, m2, "The client stopped answering")
        await uow.commit()
    async with db.uow() as uow:
        await disputes.propose_split(uow, clock, CLIENT, d1.id, 4_000)
        with pytest.raises(NotAllowed) as err:
            await disputes.accept_split(uow, clock, config, gw, CLIENT, d1.id, 4_000)
        assert err.value.code == "own_proposal"
        await uow.commit()
    async with db.uow() as uow:
        split = await disputes.accept_split(uow, clock, config, gw, FREELANCER, d1.id, 4_000)
        await uow.commit()
    # share 4,000: freelancer 4,000 − 400; platform 400 + 200; client 6,000 + (500 − 200)
    assert (split.to_freelancer, split.to_platform, split.to_client) == (3_600, 600, 6_300)
    async with db.uow() as uow:
        with pytest.raises(NotAllowed):
            await disputes.resolve_dispute(uow, clock, config, gw, CLIENT, d2.id, 20_000)
        split2 = await disputes.resolve_dispute(uow, clock, config, gw, ADMIN, d2.id, 20_000)
        await uow.commit()
    assert (split2.to_freelancer, split2.to_client) == (18_000, 0)
    async with db.uow() as uow:
        assert (await uow.milestones.get(m1)).status is MilestoneStatus.SPLIT
        assert (await uow.milestones.get(m2)).status is MilestoneStatus.RELEASED
        assert await uow.ledger.balance(ledger.freelancer_account(FREELANCER)) == 21_600
        assert await uow.ledger.total() == 0
        assert [a.action for a in await uow.audit.find()] == ["resolve"]
    await make_calls(db, clock, config, gw)
    assert gw.refunds == [(6_300, f"refund:milestone:{m1}")]


async def test_dispute_withdraw_and_chargeback_freeze(sqlite_users, clock, config):
    db, gw = sqlite_users, RecordingGateway()
    _, (m1, m2) = await hired(db, clock, config, (AMOUNT, AMOUNT))
    await fund(db, clock, config, gw, m1)
    await fund(db, clock, config, gw, m2)
    async with db.uow() as uow:
        d = await disputes.open_dispute(uow, clock, CLIENT, m1, "Nothing delivered so far")
        await disputes.answer_dispute(uow, clock, FREELANCER, d.id, "Working on it", ["shot.png"])
        with pytest.raises(NotAllowed):
            await disputes.withdraw_dispute(uow, clock, config, FREELANCER, d.id)
        await disputes.withdraw_dispute(uow, clock, config, CLIENT, d.id)
        m = await uow.milestones.get(m1)
        # Nothing was submitted: the freelancer may deliver, nothing auto-releases.
        assert m.status is MilestoneStatus.CHANGES_REQUESTED and m.auto_release_at is None
        assert (await uow.disputes.get(d.id)).evidence == ["shot.png"]
        await uow.commit()
    async with db.uow() as uow:
        payment = (await uow.payments.find(milestone_id=m2))[0]
        assert await disputes.freeze_on_chargeback(uow, clock, "sandbox", payment.charge_ref)
        assert not await disputes.freeze_on_chargeback(uow, clock, "sandbox", payment.charge_ref)
        with pytest.raises(IllegalTransition):
            await milestones.release(uow, clock, config, CLIENT, m2)
        split = await disputes.resolve_frozen(uow, clock, config, gw, ADMIN, m2, 0)
        assert split.to_client == 10_500
        await uow.commit()


async def test_payout_from_balance(users, clock, config):
    db, gw = users, RecordingGateway()
    _, (mid,) = await hired(db, clock, config, (AMOUNT,))
    await fund(db, clock, config, gw, mid)
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await payouts.request_payout(uow, clock, config, gw, FREELANCER)
        assert err.value.code == "balance_empty"
        await milestones.release(uow, clock, config, CLIENT, mid)
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(NotAllowed) as err:
            await payouts.request_payout(uow, clock, config, gw, FREELANCER, 9_001)
        assert err.value.code == "balance_insufficient"
        p = await payouts.request_payout(uow, clock, config, gw, FREELANCER, 5_000)
        assert p.status == "pending"  # the gateway is called after the commit
        await uow.commit()
    assert gw.payouts == [] and await make_calls(db, clock, config, gw) == 1
    async with db.uow() as uow:
        assert (await uow.payouts.get(p.id)).status == "paid"
    async with db.uow() as uow:
        rest = await payouts.request_payout(uow, clock, config, gw, FREELANCER)
        assert rest.amount == 4_000
        await uow.commit()
    await make_calls(db, clock, config, gw)
    async with db.uow() as uow:
        assert await payouts.balance(uow, FREELANCER) == 0
        assert await uow.ledger.balance(ledger.payouts_account("sandbox")) == 9_000
    assert [k for _, k in gw.payouts] == [f"payout:{p.id}", f"payout:{rest.id}"]
