"""Races that real users and webhooks produce: many taps, replayed webhooks.
Each attempt runs in its own unit of work on its own connection."""

import asyncio

from domain import ledger
from domain.errors import DomainError
from domain.states import MilestoneStatus
from domain.usecases import deadlines, milestones, payments
from tests.funding import open_checkout
from tests.usecases.conftest import CLIENT, FREELANCER
from tests.usecases.story import RecordingGateway, fund, hired


async def test_fifty_concurrent_releases_settle_once(users, clock, config):
    db, gw = users, RecordingGateway()
    _, (mid,) = await hired(db, clock, config, (10_000,))
    await fund(db, clock, config, gw, mid)
    async with db.uow() as uow:
        await milestones.submit_work(uow, clock, config, FREELANCER, mid, "Done")
        await uow.commit()

    async def attempt() -> bool:
        async with db.uow() as uow:
            try:
                await milestones.release(uow, clock, config, CLIENT, mid)
            except DomainError:
                return False
            await uow.commit()
            return True

    results = await asyncio.gather(*(attempt() for _ in range(50)))
    assert results.count(True) == 1
    async with db.uow() as uow:
        assert (await uow.milestones.get(mid)).status is MilestoneStatus.RELEASED
        settles = [t for t in await uow.ledger.transactions() if t.key.startswith("settle:")]
        assert [t.key for t in settles] == [ledger.settle_key(mid)]
        assert await uow.ledger.balance(ledger.freelancer_account(FREELANCER)) == 9_000
        assert await uow.ledger.total() == 0


async def test_twenty_concurrent_confirmations_fund_once(users, clock, config):
    db, gw = users, RecordingGateway()
    _, (mid,) = await hired(db, clock, config, (10_000,))
    payment = await open_checkout(db, clock, config, gw, CLIENT, mid)

    async def confirm() -> tuple[bool, int]:
        async with db.uow() as uow:
            took = await payments.confirm_payment(
                uow, clock, config, gw.name, payment.external_id, "ch_1"
            )
            await uow.commit()
            return took, len(uow.events)

    results = sorted(await asyncio.gather(*(confirm() for _ in range(20))), reverse=True)
    # One confirmation takes effect and tells (funded; the client's first payment also
    # earns the payment-verified badge); the other 19 change and say nothing.
    assert [took for took, _ in results] == [True] + [False] * 19
    assert results[0][1] >= 1 and all(told == 0 for _, told in results[1:])
    async with db.uow() as uow:
        assert await uow.ledger.balance(ledger.escrow_account(mid)) == 10_500
        assert [t.key for t in await uow.ledger.transactions()] == [ledger.fund_key(mid)]
        assert (await uow.milestones.get(mid)).status is MilestoneStatus.FUNDED


async def test_same_idempotency_key_twice_at_once_gives_one_transaction(users):
    db = users
    draft = ledger.funding(7, 1_050, "USD", "sandbox")

    async def record() -> bool:
        async with db.uow() as uow:
            took = await uow.ledger.record(draft)
            await uow.commit()
            return took

    assert sorted(await asyncio.gather(record(), record())) == [False, True]
    async with db.uow() as uow:
        assert len(await uow.ledger.transactions()) == 1
        assert await uow.ledger.balance(ledger.escrow_account(7)) == 1_050


async def test_two_schedulers_auto_release_once_and_double_tap_funding(users, clock, config):
    db, gw = users, RecordingGateway()
    _, (m1, m2) = await hired(db, clock, config, (10_000, 5_000))
    await fund(db, clock, config, gw, m1)
    async with db.uow() as uow:
        await milestones.submit_work(uow, clock, config, FREELANCER, m1, "Done")
        await uow.commit()
    clock.advance(days=config.auto_release_days)

    async def scheduler() -> list[int]:
        async with db.uow() as uow:
            released = await deadlines.auto_release_due(uow, clock, config)
            await uow.commit()
            return released

    async def tap() -> int:
        return (await open_checkout(db, clock, config, gw, CLIENT, m2)).id  # type: ignore[return-value]

    results = await asyncio.gather(scheduler(), scheduler(), tap(), tap(), tap())
    assert sorted(results[:2]) == [[], [m1]]
    assert len(set(results[2:])) == 1  # one checkout, however many taps
    # Taps racing the checkout may each ask for it, always with the payment's one key
    # (the gateway answers them with one checkout).
    assert set(gw.checkouts) == {f"checkout:payment:{p}" for p in (1, results[2])}
    async with db.uow() as uow:
        assert await uow.ledger.balance(ledger.freelancer_account(FREELANCER)) == 9_000
