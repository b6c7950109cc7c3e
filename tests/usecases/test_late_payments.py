"""A payment that arrives when its milestone no longer needs it (funded by another
attempt, or cancelled) goes back to the payer through the gateway, once, and
never touches an escrow or the ledger — on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from domain import ledger
from domain.entities import GatewayCall, Payment
from domain.errors import PaymentError
from domain.usecases import milestones, payments
from domain.usecases.payments import REFUND_DUE, late_refund_id, late_refund_key
from handlers.gateway_calls import GatewayCallRunner
from tests.funding import open_checkout
from tests.usecases.conftest import CLIENT
from tests.usecases.story import RecordingGateway, hired


@dataclass
class RefusingGateway(RecordingGateway):
    """Refuses every refund (Stripe down) until `refusing` is set to False."""

    refusing: bool = True
    tried: int = 0

    async def execute(self, call: GatewayCall, payment: Payment | None = None) -> str:
        self.tried += 1
        if self.refusing:
            raise PaymentError("gateway_unreachable", "The payment service cannot be reached.")
        return await super().execute(call, payment)


@dataclass(frozen=True)
class Attempt:
    id: int
    external_id: str


async def checkout(db, clock, config, gw, mid: int) -> Attempt:
    started = await open_checkout(db, clock, config, gw, CLIENT, mid)
    return Attempt(started.id, started.external_id)  # type: ignore[arg-type]


async def two_attempts(db, clock, config, gw) -> tuple[int, Attempt]:
    """A milestone whose first checkout "expired", funded by the second; returns
    (milestone id, the first attempt), which is then paid late."""
    _, (mid,) = await hired(db, clock, config, (10_000,))
    first = await checkout(db, clock, config, gw, mid)
    async with db.uow() as uow:
        assert await payments.payment_failed(uow, clock, gw.name, first.external_id, "expired")
        await uow.commit()
    second = await checkout(db, clock, config, gw, mid)
    async with db.uow() as uow:
        assert await payments.confirm_payment(uow, clock, config, gw.name, second.external_id)
        await uow.commit()
    return mid, first


class Runner(GatewayCallRunner):
    """The runner the engine and the system runner use, keeping what its
    outcomes emitted for the test to read."""

    def __init__(self, db, clock, config, gw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(db.uow, clock, config, gw)
        self.emitted: list[str] = []

    async def _record(self, step):  # type: ignore[no-untyped-def]
        async def keeping(uow):  # type: ignore[no-untyped-def]
            done = await step(uow)
            self.emitted += [e.kind for e in uow.events]
            return done

        return await super()._record(keeping)


async def confirm_late(db, clock, config, gw, external_id: str) -> tuple[bool, list[str]]:
    """Confirm as the system runner does: commit, then make the calls it committed;
    the kinds of what both steps emitted (the call itself left out)."""
    runner = Runner(db, clock, config, gw)
    async with db.uow() as uow:
        took = await payments.confirm_payment(uow, clock, config, gw.name, external_id, "ch_late")
        await uow.commit()
    await runner.after_commit(uow.events)
    kinds = [e.kind for e in uow.events if e.kind != "gateway_call_due"]
    return took, kinds + [k for k in runner.emitted if k != "gateway_call_failed"]


async def retry(db, clock, config, gw) -> tuple[int, list[str]]:
    """The tick's pass over calls left due; (how many were made, what was said)."""
    runner = Runner(db, clock, config, gw)
    made = await runner.make_due(idle_seconds=0)
    return made, runner.emitted


async def the_books(db, mid: int) -> tuple[dict[str, int], list[str]]:
    async with db.uow() as uow:
        return await uow.ledger.balances(), [t.key for t in await uow.ledger.transactions()]


async def payment(db, payment_id: int) -> Payment:
    async with db.uow() as uow:
        found = await uow.payments.get(payment_id)
        assert found is not None
        return replace(found)  # a copy that outlives the unit of work


async def test_a_late_payment_is_refunded_once_and_the_books_do_not_move(users, clock, config):
    db, gw = users, RecordingGateway()
    mid, first = await two_attempts(db, clock, config, gw)
    books = await the_books(db, mid)
    assert books == (
        {ledger.escrow_account(mid): 10_500, "gateway:sandbox": -10_500},
        [ledger.fund_key(mid)],
    )

    assert await confirm_late(db, clock, config, gw, first.external_id) == (
        True,
        ["late_payment_refunded"],
    )
    assert gw.refunds == [(10_500, late_refund_key(first.id))]  # all of it, charged fee too
    late = await payment(db, first.id)
    assert late.status == "refunded" and late.charge_ref == "ch_late"
    assert late_refund_id(late) == f"re_{late_refund_key(first.id)}"
    # What the ledger records: nothing — the money never entered an escrow.
    assert await the_books(db, mid) == books

    # A replay (webhook again, reconciliation) neither refunds again nor tells anyone.
    assert await confirm_late(db, clock, config, gw, first.external_id) == (False, [])
    assert await retry(db, clock, config, gw) == (0, [])
    assert len(gw.refunds) == 1


async def test_a_payment_for_a_cancelled_milestone_is_refunded(users, clock, config):
    db, gw = users, RecordingGateway()
    _, (mid,) = await hired(db, clock, config, (4_000,))
    paying = await checkout(db, clock, config, gw, mid)
    async with db.uow() as uow:
        await milestones.cancel_milestone(uow, clock, CLIENT, mid)
        await uow.commit()
    assert await confirm_late(db, clock, config, gw, paying.external_id) == (
        True,
        ["late_payment_refunded"],
    )
    assert gw.refunds == [(4_200, late_refund_key(paying.id))]
    assert (await payment(db, paying.id)).status == "refunded"
    assert await the_books(db, mid) == ({}, [])


async def test_a_refused_refund_stays_due_until_a_retry_succeeds(users, clock, config):
    db, gw = users, RefusingGateway()
    mid, first = await two_attempts(db, clock, config, gw)
    books = await the_books(db, mid)

    took, said = await confirm_late(db, clock, config, gw, first.external_id)
    assert took and said == ["payment_refund_due"]
    late = await payment(db, first.id)
    assert (late.status, late.failure_reason, gw.tried) == ("succeeded", REFUND_DUE, 1)
    # Still a confirmation seen before: a replay does not retry or tell again.
    assert await confirm_late(db, clock, config, gw, first.external_id) == (False, [])
    assert gw.tried == 1

    # The retry fails again: nothing changes, nobody is told twice.
    assert await retry(db, clock, config, gw) == (0, ["gateway_call_failed"][:0])
    assert gw.tried == 2 and (await payment(db, first.id)).failure_reason == REFUND_DUE

    gw.refusing = False
    assert await retry(db, clock, config, gw) == (1, ["late_payment_refunded"])
    refund_id = f"re_{late_refund_key(first.id)}"
    assert late_refund_id(await payment(db, first.id)) == refund_id
    assert await the_books(db, mid) == books
    # A call for another gateway's payment is not this gateway's to make.
    other = RecordingGateway(name="stripe")
    assert await retry(db, clock, config, other) == (0, [])
    assert other.refunds == []


async def test_concurrent_late_confirmations_and_retries_refund_once(users, clock, config):
    db, gw = users, RefusingGateway(refusing=False)
    mid, first = await two_attempts(db, clock, config, gw)
    books = await the_books(db, mid)

    async def confirm() -> bool:
        return (await confirm_late(db, clock, config, gw, first.external_id))[0]

    async def again() -> bool:
        return (await retry(db, clock, config, gw))[0] > 0

    results = await asyncio.gather(*(confirm() for _ in range(8)), *(again() for _ in range(4)))
    assert results[:8].count(True) == 1
    assert gw.refunds == [(10_500, late_refund_key(first.id))]
    assert (await payment(db, first.id)).status == "refunded"
    assert await the_books(db, mid) == books
