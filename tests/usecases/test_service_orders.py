"""Service orders (issue 15, ORDERS) on SQLite and PostgreSQL: every path ends with
the ledger balanced — decline, silence (the tick after the acceptance hours, with
the test clock), a late order cancelled by the buyer, delivery with revisions and
approval or auto-completion — and double taps (Pay, Accept) and the tick racing the
seller move money once. Each attempt runs in its own unit of work."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from domain import ledger
from domain.errors import DomainError, NotAllowed
from domain.fees import funding_quote, settlement
from domain.services import ServiceOrderStatus
from domain.states import ContractStatus, MilestoneStatus
from domain.usecases import deadlines, disputes, milestones, payments
from domain.usecases import service_orders as uc
from tests.flows.test_service_orders import seed_service
from tests.usecases.conftest import ADMIN, CLIENT, FREELANCER
from tests.usecases.ledger_checks import assert_ledger_invariants, ledger_rows
from tests.usecases.story import RecordingGateway, make_calls

SO = ServiceOrderStatus
TOTAL = 12_000  # Standard ($100) + Source files ($20)
PAID = funding_quote(TOTAL, 500).total  # $126.00


async def place(db, clock, config, gw, tier: str = "standard"):  # type: ignore[no-untyped-def]
    """Clara buys Standard with Source files and answers: (order id, milestone id, payment)."""
    sid = await seed_service(db, clock, FREELANCER)
    async with db.uow() as uow:
        extras = await uow.services.extras(sid)
        order, payment = await uc.place_order(
            uow, clock, config, gw, CLIENT, sid, tier, [extras[0].id], ["Acme"], TOTAL
        )
        oid, cid, payment = order.id, order.contract_id, replace(payment)
        await uow.commit()
    await make_calls(db, clock, config, gw)  # nothing due; the checkout opens below
    async with db.uow() as uow:
        found = await payments.checkout_to_open(uow, payment.id)
    assert found is not None
    started = await gw.start_checkout(found[0], found[1], payments.checkout_key(payment.id))
    async with db.uow() as uow:
        assert await payments.checkout_opened(uow, clock, payment.id, started)
        await uow.commit()
    async with db.uow() as uow:
        milestone = await uc.main_milestone(uow, cid, lock=False)
        mid = milestone.id
    return oid, mid, started.external_id


async def paid(db, clock, config, gw):  # type: ignore[no-untyped-def]
    oid, mid, external = await place(db, clock, config, gw)
    async with db.uow() as uow:
        assert await payments.confirm_payment(uow, clock, config, gw.name, external, "ch_1")
        await uow.commit()
    return oid, mid


async def get(db, oid: int):  # type: ignore[no-untyped-def]
    """Plain copies of the order, its contract and milestone, readable afterwards."""
    async with db.uow() as uow:
        order = await uow.service_orders.get(oid)
        contract = await uow.contracts.get(order.contract_id)
        milestone = await uc.main_milestone(uow, order.contract_id, lock=False)
        return replace(order), replace(contract), replace(milestone)


async def balanced(db, mid: int, escrow: int = 0) -> None:
    """The ledger's invariants: every posting sums to zero, no escrow or balance below
    zero, and this milestone holds `escrow`."""
    async with db.uow() as uow:
        assert await uow.ledger.total() == 0
        balances = await uow.ledger.balances("")
        assert all(v >= 0 for k, v in balances.items() if k.startswith(("escrow:", "freelancer:")))
        assert await uow.ledger.balance(ledger.escrow_account(mid)) == escrow


async def test_paid_order_waits_for_the_seller_with_the_escrow_held(users, clock, config):
    db, gw = users, RecordingGateway()
    oid, mid = await paid(db, clock, config, gw)
    order, contract, milestone = await get(db, oid)
    assert order.status is SO.AWAITING_ACCEPTANCE
    assert order.accept_by == clock.now() + timedelta(hours=24)
    assert contract.job_id is None and contract.status is ContractStatus.OFFERED
    assert milestone.status is MilestoneStatus.FUNDED and milestone.amount == TOTAL
    assert order.answers == [{"question": "What is the brand's name?", "answer": "Acme"}]
    await balanced(db, mid, escrow=PAID)
    async with db.uow() as uow:  # the job's offer paths refuse it
        from domain.usecases import contracts

        with pytest.raises(NotAllowed):
            await contracts.accept_offer(uow, clock, FREELANCER, contract.id)


async def test_decline_refunds_in_full_once(users, clock, config):
    db, gw = users, RecordingGateway()
    oid, mid = await paid(db, clock, config, gw)
    async with db.uow() as uow:
        split = await uc.decline_order(uow, clock, config, gw, FREELANCER, oid)
        await uow.commit()
    assert split.to_client == PAID and split.to_freelancer == 0 and split.to_platform == 0
    await make_calls(db, clock, config, gw)
    await make_calls(db, clock, config, gw)
    assert gw.refunds == [(PAID, f"refund:milestone:{mid}")]
    order, contract, milestone = await get(db, oid)
    assert order.status is SO.DECLINED and contract.status is ContractStatus.DECLINED
    assert milestone.status is MilestoneStatus.REFUNDED
    await balanced(db, mid)
    async with db.uow() as uow:  # declining again does nothing
        with pytest.raises(DomainError):
            await uc.decline_order(uow, clock, config, gw, FREELANCER, oid)


async def test_silence_refunds_after_the_acceptance_hours(users, clock, config):
    db, gw = users, RecordingGateway()
    oid, mid = await paid(db, clock, config, gw)
    clock.advance(hours=23, minutes=59)
    async with db.uow() as uow:
        assert await uc.expire_unaccepted(uow, clock, config, gw) == []
        await uow.commit()
    clock.advance(minutes=1)
    async with db.uow() as uow:
        assert await uc.expire_unaccepted(uow, clock, config, gw) == [oid]
        await uow.commit()
    async with db.uow() as uow:  # a second tick: nothing more
        assert await uc.expire_unaccepted(uow, clock, config, gw) == []
    await make_calls(db, clock, config, gw)
    assert gw.refunds == [(PAID, f"refund:milestone:{mid}")]
    order, contract, _ = await get(db, oid)
    assert order.status is SO.EXPIRED and contract.status is ContractStatus.EXPIRED
    await balanced(db, mid)
    async with db.uow() as uow:  # the seller is too late
        with pytest.raises(DomainError):
            await uc.accept_order(uow, clock, config, FREELANCER, oid)


async def test_the_tick_is_in_the_schedulers_deadlines():
    assert uc.expire_unaccepted in deadlines.DEADLINES
    assert uc.expire_unpaid in deadlines.DEADLINES


async def test_the_seller_is_reminded_once_two_thirds_into_the_window(users, clock, config):
    """16 h into the 24 h window the seller is reminded; a second tick, another
    process or a restart (a fresh unit of work) sends nothing more; accepting resets
    the count for the work's own reminders."""
    db, gw = users, RecordingGateway()
    oid, mid = await paid(db, clock, config, gw)
    assert uc.remind_unaccepted in deadlines.DEADLINES
    clock.advance(hours=15, minutes=59)

    async def tick() -> list[int]:
        async with db.uow() as uow:
            done = await uc.remind_unaccepted(uow, clock, config)
            await uow.commit()
            return done

    assert await tick() == []
    clock.advance(minutes=1)
    results = await asyncio.gather(tick(), tick(), tick())  # processes at once
    assert sorted(results) == [[], [], [oid]]
    clock.advance(hours=7)
    assert await tick() == []  # once, whatever the ticks
    _, _, milestone = await get(db, oid)
    assert milestone.reminders_sent == 1
    async with db.uow() as uow:
        await uc.accept_order(uow, clock, config, FREELANCER, oid)
        await uow.commit()
    _, _, milestone = await get(db, oid)
    assert milestone.reminders_sent == 0
    clock.advance(hours=2)  # past the window: nothing to remind, nothing expired
    assert await tick() == []
    await balanced(db, mid, escrow=PAID)


async def test_no_reminder_once_the_window_is_over(users, clock, config):
    """The scheduler was down through the reminder's time and the deadline: the order
    is refunded, never reminded late."""
    db, gw = users, RecordingGateway()
    oid, _ = await paid(db, clock, config, gw)
    clock.advance(hours=24)
    async with db.uow() as uow:
        assert await uc.remind_unaccepted(uow, clock, config) == []
        assert await uc.expire_unaccepted(uow, clock, config, gw) == [oid]
        await uow.commit()


async def test_late_delivery_lets_the_buyer_cancel(users, clock, config):
    db, gw = users, RecordingGateway()
    oid, mid = await paid(db, clock, config, gw)
    async with db.uow() as uow:
        order = await uc.accept_order(uow, clock, config, FREELANCER, oid)
        await uow.commit()
    assert order.due_at == clock.now() + timedelta(days=3)
    async with db.uow() as uow:
        with pytest.raises(NotAllowed):
            await uc.cancel_late(uow, clock, config, gw, CLIENT, oid)
    clock.advance(days=3, seconds=1)
    async with db.uow() as uow:
        with pytest.raises(DomainError):  # the seller may not
            await uc.cancel_late(uow, clock, config, gw, FREELANCER, oid)
    async with db.uow() as uow:
        await uc.cancel_late(uow, clock, config, gw, CLIENT, oid)
        await uow.commit()
    await make_calls(db, clock, config, gw)
    assert gw.refunds == [(PAID, f"refund:milestone:{mid}")]
    order, contract, milestone = await get(db, oid)
    assert order.status is SO.CANCELLED and contract.status is ContractStatus.ENDED
    assert milestone.status is MilestoneStatus.REFUNDED
    await balanced(db, mid)


async def test_delivery_revisions_and_approval(users, clock, config):
    db, gw = users, RecordingGateway()
    oid, mid = await paid(db, clock, config, gw)
    async with db.uow() as uow:
        await uc.accept_order(uow, clock, config, FREELANCER, oid)
        await uow.commit()
    for k in range(2):
        async with db.uow() as uow:
            await milestones.submit_work(uow, clock, config, FREELANCER, mid, f"Take {k}")
            await uow.commit()
        order, _, milestone = await get(db, oid)
        assert order.status is SO.DELIVERED
        assert milestone.auto_release_at == clock.now() + timedelta(days=3)  # the service's
        if k == 0:
            async with db.uow() as uow:
                await milestones.request_changes(uow, clock, CLIENT, mid, "Bluer")
                await uow.commit()
    async with db.uow() as uow:  # Standard has one revision: the second is refused
        with pytest.raises(NotAllowed) as refused:
            await milestones.request_changes(uow, clock, CLIENT, mid, "Greener")
    assert refused.value.code == "order_revisions_used"
    async with db.uow() as uow:
        await milestones.release(uow, clock, config, CLIENT, mid)
        await uow.commit()
    order, _, _ = await get(db, oid)
    assert order.status is SO.COMPLETED and order.revisions_used == 1
    await balanced(db, mid)
    async with db.uow() as uow:
        got = await uow.ledger.balance(ledger.freelancer_account(FREELANCER))
        earned = await uc.earnings_per_service(uow, FREELANCER)
    assert got == settlement(TOTAL, TOTAL, 500, 1000).to_freelancer == 10_800
    assert list(earned.values()) == [(1, 10_800)]


async def with_paid_revision(db, clock, config, gw):  # type: ignore[no-untyped-def]
    """Accepted, delivered, the package's one revision used, delivered again, then an
    extra revision paid (a second tap and a replayed confirmation change nothing):
    (order id, order's milestone id, the revision's milestone id)."""
    oid, mid = await paid(db, clock, config, gw)
    async with db.uow() as uow:
        await uc.accept_order(uow, clock, config, FREELANCER, oid)
        await milestones.submit_work(uow, clock, config, FREELANCER, mid, "Take 1")
        await milestones.request_changes(uow, clock, CLIENT, mid, "Bluer")
        await milestones.submit_work(uow, clock, config, FREELANCER, mid, "Take 2")
        await uow.commit()
    async with db.uow() as uow:
        payment = await uc.start_extra_revision(uow, clock, config, gw, CLIENT, oid, REV)
        again = await uc.start_extra_revision(uow, clock, config, gw, CLIENT, oid, REV)
        await uow.commit()
    assert again.id == payment.id and payment.amount == REV_PAID
    started = await gw.start_checkout(payment, "x", payments.checkout_key(payment.id))
    async with db.uow() as uow:
        await payments.checkout_opened(uow, clock, payment.id, started)
        await uow.commit()
    for _ in range(2):  # a replayed confirmation changes nothing
        async with db.uow() as uow:
            await payments.confirm_payment(uow, clock, config, gw.name, started.external_id)
            await uow.commit()
    async with db.uow() as uow:
        cid = (await uow.milestones.get(mid)).contract_id
        [rev] = [replace(m) for m in await uow.milestones.find(contract_id=cid, kind="revision")]
    assert rev.position == 2 and rev.status is MilestoneStatus.FUNDED
    return oid, mid, rev.id


REV = 2_000  # 20 % of the $100 package
REV_PAID = funding_quote(REV, 500).total  # $21.00


async def invariants(db, *mids: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The ledger's invariants (tests/usecases/ledger_checks.py) for these milestones."""
    async with db.uow() as uow:
        status = {m: (await uow.milestones.get(m)).status for m in mids}
        return assert_ledger_invariants(await ledger_rows(uow), status)


async def test_a_paid_extra_revision_waits_in_escrow_and_adds_one(users, clock, config):
    db, gw = users, RecordingGateway()
    oid, mid, rid = await with_paid_revision(db, clock, config, gw)
    order, _, _ = await get(db, oid)
    assert order.revisions_allowed == 2
    balances = await invariants(db, mid, rid)
    assert balances[ledger.escrow_account(rid)] == REV_PAID  # held, not the seller's
    assert balances.get(ledger.freelancer_account(FREELANCER), 0) == 0
    async with db.uow() as uow:  # delivered with the order, never on its own
        with pytest.raises(NotAllowed) as refused:
            await milestones.submit_work(uow, clock, config, FREELANCER, rid, "Mine")
    assert refused.value.code == "order_revision_no_delivery"
    async with db.uow() as uow:  # nor disputed on its own: with the order
        with pytest.raises(NotAllowed) as refused:
            await disputes.open_dispute(uow, clock, CLIENT, rid, "Not the revision I paid for")
    assert refused.value.code == "order_revision_dispute"
    # Nor released early by the buyer, nor refunded by the seller, on its own.
    for act in (
        lambda uow: milestones.release(uow, clock, config, CLIENT, rid),
        lambda uow: milestones.refund(uow, clock, config, gw, FREELANCER, rid),
        lambda uow: milestones.refund(uow, clock, config, gw, CLIENT, rid),
    ):
        async with db.uow() as uow:
            with pytest.raises(NotAllowed) as refused:
                await act(uow)
        assert refused.value.code == "order_revision_follows"
    assert (await invariants(db, mid, rid))[ledger.escrow_account(rid)] == REV_PAID
    async with db.uow() as uow:
        await milestones.request_changes(uow, clock, CLIENT, mid, "Greener")
        await milestones.submit_work(uow, clock, config, FREELANCER, mid, "Take 3")
        await uow.commit()
    async with db.uow() as uow:  # the buyer accepts: the order and its revision, together
        await milestones.release(uow, clock, config, CLIENT, mid)
        await uow.commit()
        kinds = [e.kind for e in uow.events]
    assert "service_revisions_settled" in kinds
    order, _, _ = await get(db, oid)
    assert order.status is SO.COMPLETED and order.revisions_used == 2
    balances = await invariants(db, mid, rid)
    net = (
        settlement(TOTAL, TOTAL, 500, 1000).to_freelancer
        + settlement(REV, REV, 500, 1000).to_freelancer
    )
    assert balances[ledger.freelancer_account(FREELANCER)] == net == 10_800 + 1_800
    async with db.uow() as uow:
        assert list((await uc.earnings_per_service(uow, FREELANCER)).values()) == [(1, net)]


async def test_auto_completion_releases_the_revision_too(users, clock, config):
    db, gw = users, RecordingGateway()
    oid, mid, rid = await with_paid_revision(db, clock, config, gw)
    clock.advance(days=3)
    async with db.uow() as uow:
        assert await deadlines.auto_release_due(uow, clock, config) == [mid]
        await uow.commit()
    balances = await invariants(db, mid, rid)
    assert balances[ledger.freelancer_account(FREELANCER)] == 10_800 + 1_800
    assert (await get(db, oid))[0].status is SO.COMPLETED


@pytest.mark.parametrize(
    ("share", "rev_share"), [(0, 0), (TOTAL, REV), (TOTAL // 2, REV // 2), (7_777, 1_296)]
)
async def test_a_dispute_settles_the_revision_as_it_settles_the_order(
    users, clock, config, share, rev_share
):
    """Refunded, released or split by an admin: the revision follows in proportion
    (rounded down for the seller), refunds are gateway calls made once."""
    db, gw = users, RecordingGateway()
    oid, mid, rid = await with_paid_revision(db, clock, config, gw)
    async with db.uow() as uow:
        dispute = await disputes.open_dispute(uow, clock, CLIENT, mid, "Not what I asked for")
        await uow.commit()
    async with db.uow() as uow:
        await disputes.resolve_dispute(uow, clock, config, gw, ADMIN, dispute.id, share)
        await uow.commit()
    await make_calls(db, clock, config, gw)
    await make_calls(db, clock, config, gw)
    main = settlement(TOTAL, share, 500, 1000)
    rev = settlement(REV, rev_share, 500, 1000)
    balances = await invariants(db, mid, rid)
    assert balances.get(ledger.freelancer_account(FREELANCER), 0) == (
        main.to_freelancer + rev.to_freelancer
    )
    refunds = dict((key, amount) for amount, key in gw.refunds)
    assert len(refunds) == len(gw.refunds)  # each key once
    if main.to_client:
        assert refunds[f"refund:milestone:{mid}"] == main.to_client
    if rev.to_client:
        assert refunds[f"refund:milestone:{rid}"] == rev.to_client
    else:
        assert f"refund:milestone:{rid}" not in refunds
    order, _, _ = await get(db, oid)
    assert order.status is (SO.CANCELLED if share == 0 else SO.COMPLETED)
    async with db.uow() as uow:  # /orders' earnings: what the ledger paid the seller
        earned = await uc.earnings_per_service(uow, FREELANCER)
    paid_out = main.to_freelancer + rev.to_freelancer
    assert list(earned.values()) == ([(1, paid_out)] if share else [])
    async with db.uow() as uow:
        r = await uow.milestones.get(rid)
        assert r.status is {
            0: MilestoneStatus.REFUNDED,
            TOTAL: MilestoneStatus.RELEASED,
        }.get(share, MilestoneStatus.SPLIT)


async def test_a_revision_not_paid_yet_is_dropped_when_the_order_settles(users, clock, config):
    """A checkout still open when the buyer accepts: the revision is cancelled, and a
    payment completing afterwards goes back whole (a late refund), never in escrow."""
    db, gw = users, RecordingGateway()
    oid, mid = await paid(db, clock, config, gw)
    async with db.uow() as uow:
        await uc.accept_order(uow, clock, config, FREELANCER, oid)
        await milestones.submit_work(uow, clock, config, FREELANCER, mid, "Take 1")
        await milestones.request_changes(uow, clock, CLIENT, mid, "Bluer")
        await milestones.submit_work(uow, clock, config, FREELANCER, mid, "Take 2")
        payment = await uc.start_extra_revision(uow, clock, config, gw, CLIENT, oid, REV)
        await uow.commit()
    started = await gw.start_checkout(payment, "x", payments.checkout_key(payment.id))
    async with db.uow() as uow:
        await payments.checkout_opened(uow, clock, payment.id, started)
        await milestones.release(uow, clock, config, CLIENT, mid)
        await uow.commit()
    async with db.uow() as uow:
        assert await payments.confirm_payment(uow, clock, config, gw.name, started.external_id)
        await uow.commit()
    await make_calls(db, clock, config, gw)
    assert [key for _, key in gw.refunds] == [payments.late_refund_key(payment.id)]
    async with db.uow() as uow:
        [rev] = [replace(m) for m in await uow.milestones.find(kind="revision")]
    assert rev.status is MilestoneStatus.CANCELLED
    balances = await invariants(db, mid, rev.id)
    assert balances[ledger.freelancer_account(FREELANCER)] == 10_800
    assert (await get(db, oid))[0].revisions_allowed == 1


async def test_auto_completion_after_the_service_days(users, clock, config):
    db, gw = users, RecordingGateway()
    oid, mid = await paid(db, clock, config, gw)
    async with db.uow() as uow:
        await uc.accept_order(uow, clock, config, FREELANCER, oid)
        await milestones.submit_work(uow, clock, config, FREELANCER, mid, "Done")
        await uow.commit()
    clock.advance(days=3)
    async with db.uow() as uow:
        assert await deadlines.auto_release_due(uow, clock, config) == [mid]
        await uow.commit()
    order, _, milestone = await get(db, oid)
    assert order.status is SO.COMPLETED and milestone.status is MilestoneStatus.RELEASED
    await balanced(db, mid)


async def test_unpaid_orders_are_dropped_and_a_late_payment_goes_back(users, clock, config):
    db, gw = users, RecordingGateway()
    oid, mid, external = await place(db, clock, config, gw)
    clock.advance(hours=24)
    async with db.uow() as uow:
        assert await uc.expire_unpaid(uow, clock, config) == [oid]
        await uow.commit()
    order, contract, milestone = await get(db, oid)
    assert order.status is SO.EXPIRED and contract.status is ContractStatus.WITHDRAWN
    assert milestone.status is MilestoneStatus.CANCELLED
    async with db.uow() as uow:  # paid after all: refunded, never in escrow
        assert await payments.confirm_payment(uow, clock, config, gw.name, external, "ch_9")
        await uow.commit()
    await make_calls(db, clock, config, gw)
    assert [key for _, key in gw.refunds] == [payments.late_refund_key(1)]
    await balanced(db, mid)


async def test_ten_confirmations_of_pay_fund_once(users, clock, config):
    db, gw = users, RecordingGateway()
    oid, mid, external = await place(db, clock, config, gw)

    async def confirm() -> int:
        async with db.uow() as uow:
            took = await payments.confirm_payment(uow, clock, config, gw.name, external, "ch_1")
            await uow.commit()
            return int(took)

    assert sum(await asyncio.gather(*(confirm() for _ in range(10)))) == 1
    order, _, _ = await get(db, oid)
    assert order.status is SO.AWAITING_ACCEPTANCE
    async with db.uow() as uow:
        keys = [t.key for t in await uow.ledger.transactions()]
        assert keys == [ledger.fund_key(mid)]
        # Pay pressed again on the order: nothing new to pay.
        with pytest.raises(NotAllowed):
            await uc.pay_again(uow, clock, config, gw, CLIENT, oid)
    await balanced(db, mid, escrow=PAID)


async def test_double_accept_and_the_tick_at_the_deadline_act_once(users, clock, config):
    db, gw = users, RecordingGateway()
    oid, mid = await paid(db, clock, config, gw)

    async def accept() -> str:
        async with db.uow() as uow:
            try:
                await uc.accept_order(uow, clock, config, FREELANCER, oid)
            except DomainError:
                return "refused"
            await uow.commit()
            return "accepted"

    async def tick() -> str:
        async with db.uow() as uow:
            done = await uc.expire_unaccepted(uow, clock, config, gw)
            await uow.commit()
            return "expired" if done else "nothing"

    clock.advance(hours=23, minutes=59, seconds=59)
    results = await asyncio.gather(accept(), accept(), tick(), accept())
    assert results.count("accepted") == 1 and "expired" not in results
    await make_calls(db, clock, config, gw)
    assert gw.refunds == []
    order, contract, _ = await get(db, oid)
    assert order.status is SO.IN_PROGRESS and contract.status is ContractStatus.ACTIVE
    await balanced(db, mid, escrow=PAID)


async def test_ten_taps_on_pay_again_make_one_payment(users, clock, config):
    db, gw = users, RecordingGateway()
    oid, mid, _ = await place(db, clock, config, gw)

    async def tap() -> int:
        async with db.uow() as uow:
            payment = await uc.pay_again(uow, clock, config, gw, CLIENT, oid)
            await uow.commit()
            return payment.id  # type: ignore[return-value]

    assert len(set(await asyncio.gather(*(tap() for _ in range(10))))) == 1
    async with db.uow() as uow:
        assert await uow.payments.count(milestone_id=mid) == 1
        with pytest.raises(DomainError):  # someone else's order: no such order
            await uc.pay_again(uow, clock, config, gw, FREELANCER, oid)


async def test_a_late_order_cancelled_refunds_its_paid_revision_too(users, clock, config):
    """Basic has no revision: Clara pays an extra one before the delivery; Felix is
    late, Clara cancels: the order and the revision come back whole, each once."""
    db, gw = users, RecordingGateway()
    sid = await seed_service(db, clock, FREELANCER)
    async with db.uow() as uow:
        order, payment = await uc.place_order(
            uow, clock, config, gw, CLIENT, sid, "basic", [], ["Acme"], 5_000
        )
        oid, payment = order.id, replace(payment)
        await uow.commit()
    started = await gw.start_checkout(payment, "x", payments.checkout_key(payment.id))
    async with db.uow() as uow:
        await payments.checkout_opened(uow, clock, payment.id, started)
        await payments.confirm_payment(uow, clock, config, gw.name, started.external_id)
        await uow.commit()
    async with db.uow() as uow:
        await uc.accept_order(uow, clock, config, FREELANCER, oid)
        extra = await uc.start_extra_revision(uow, clock, config, gw, CLIENT, oid, 1_000)
        extra = replace(extra)
        await uow.commit()
    started = await gw.start_checkout(extra, "x", payments.checkout_key(extra.id))
    async with db.uow() as uow:
        await payments.checkout_opened(uow, clock, extra.id, started)
        await payments.confirm_payment(uow, clock, config, gw.name, started.external_id)
        await uow.commit()
    clock.advance(days=5, seconds=1)
    async with db.uow() as uow:
        await uc.cancel_late(uow, clock, config, gw, CLIENT, oid)
        await uow.commit()
    await make_calls(db, clock, config, gw)
    await make_calls(db, clock, config, gw)
    order, _, main = await get(db, oid)
    rid = extra.milestone_id
    assert order.status is SO.CANCELLED
    assert sorted(gw.refunds) == sorted(
        [
            (funding_quote(5_000, 500).total, f"refund:milestone:{main.id}"),
            (funding_quote(1_000, 500).total, f"refund:milestone:{rid}"),
        ]
    )
    balances = await invariants(db, main.id, rid)
    assert balances.get(ledger.freelancer_account(FREELANCER), 0) == 0


async def test_the_revisions_payment_racing_the_acceptance_moves_money_once(users, clock, config):
    """Clara approves the work while her extra revision's payment is confirmed (several
    times) at the same moment: either the revision was funded first and is released
    with the order, or it was dropped first and the payment goes back whole."""
    db, gw = users, RecordingGateway()
    oid, mid = await paid(db, clock, config, gw)
    async with db.uow() as uow:
        await uc.accept_order(uow, clock, config, FREELANCER, oid)
        await milestones.submit_work(uow, clock, config, FREELANCER, mid, "Take 1")
        await milestones.request_changes(uow, clock, CLIENT, mid, "Bluer")
        await milestones.submit_work(uow, clock, config, FREELANCER, mid, "Take 2")
        payment = replace(await uc.start_extra_revision(uow, clock, config, gw, CLIENT, oid, REV))
        await uow.commit()
    started = await gw.start_checkout(payment, "x", payments.checkout_key(payment.id))
    async with db.uow() as uow:
        await payments.checkout_opened(uow, clock, payment.id, started)
        await uow.commit()

    async def confirm() -> None:
        async with db.uow() as uow:
            await payments.confirm_payment(uow, clock, config, gw.name, started.external_id)
            await uow.commit()

    async def release() -> None:
        async with db.uow() as uow:
            await milestones.release(uow, clock, config, CLIENT, mid)
            await uow.commit()

    await asyncio.gather(confirm(), release(), confirm(), confirm())
    await make_calls(db, clock, config, gw)
    rid = payment.milestone_id
    balances = await invariants(db, mid, rid)
    async with db.uow() as uow:
        rev = replace(await uow.milestones.get(rid))
        assert await uow.ledger.has(ledger.fund_key(rid)) is (
            rev.status is MilestoneStatus.RELEASED
        )
    got = balances[ledger.freelancer_account(FREELANCER)]
    if rev.status is MilestoneStatus.RELEASED:
        assert got == 10_800 + 1_800 and gw.refunds == []
    else:
        assert rev.status is MilestoneStatus.CANCELLED and got == 10_800
        assert gw.refunds == [(REV_PAID, payments.late_refund_key(payment.id))]
    assert (await get(db, oid))[0].status is SO.COMPLETED
