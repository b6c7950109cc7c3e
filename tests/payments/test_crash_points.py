"""Crash points: every outside money call, killed at every point, then restarted.

For each movement — funding (the checkout and the payer's confirmation), a
refund, a payout (withdrawal) and a per-release transfer — on the sandbox
gateway and on Stripe (the stand-in in front of localstripe), a child process
(tests/payments/crash_child.py) runs the real code and is killed with SIGKILL:
before the gateway call, after it but before our commit, after the commit (and,
where a decision commits first, before that commit). The parent then does what
a restarted Gigbot and its users do — the tick makes the calls left due, the
person taps again, Stripe redelivers its event — and checks the gateway's own
record: each movement exactly once, for the amount of its committed intent, and
the ledger agreeing with it.

Every case runs on SQLite and on PostgreSQL: on PostgreSQL an id taken from a
sequence is lost with a rolled-back transaction, which is how a retried payout
used to get a new key and pay twice.

Marked `crash`: each case starts a Python process (`pytest -m crash` runs them
alone; the whole suite runs them too).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from localstripe import resources as ls_resources

from bot.payments.confirm import PaymentNews
from bot.payments.sandbox import DatabaseBooks, SandboxGateway, sandbox_charge_ref
from domain.usecases import milestones, payouts
from handlers.gateway_calls import GatewayCallRunner
from handlers.system import SystemRunner
from storage.database import Database
from tests.clock import ManualClock
from tests.funding import open_checkout
from tests.payments.conftest import stripe_env_for
from tests.payments.market import CONFIG, Deal, ledger_state, make_deal
from tests.payments.stripe_servers import StripeEnv

pytestmark = pytest.mark.crash

ROOT = Path(__file__).resolve().parents[2]
CALL_POINTS = ("before_commit", "before_call", "after_call", "after_commit")
CHECKOUT = tuple(("checkout", p) for p in ("before_call", "after_call", "after_commit"))
SANDBOX_CASES = [
    *CHECKOUT,
    *(("confirm", p) for p in ("before_call", "after_call", "after_commit")),
    *((op, p) for op in ("refund", "payout") for p in CALL_POINTS),
]
# The sandbox has no per-release transfers (a withdrawal is its only payout).
STRIPE_CASES = [
    *CHECKOUT,
    *(("confirm", p) for p in ("before_commit", "after_commit")),
    *((op, p) for op in ("refund", "payout", "transfer") for p in CALL_POINTS),
]


@dataclass
class World:
    """What the parent (the restarted process) works with."""

    db: Database
    clock: ManualClock
    gateway: Any
    news: PaymentNews
    env: StripeEnv | None
    deal: Deal

    @property
    def name(self) -> str:
        return self.gateway.name


async def run_child(spec: dict[str, Any]) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.payments.crash_child",
        json.dumps(spec),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    code = process.returncode
    assert code in (0, -signal.SIGKILL), output.decode(errors="replace")[-3000:]
    return code  # type: ignore[return-value]


async def open_world(db: Database, env: StripeEnv | None) -> World:
    clock = ManualClock(datetime.now(UTC))  # the child's clock is the real one
    deal = await make_deal(db, clock)
    if env is None:
        gateway = SandboxGateway("http://127.0.0.1:8080", b"k" * 32, DatabaseBooks(db))
        news = PaymentNews(SystemRunner(db.uow, clock, CONFIG, gateway=gateway))
        return World(db, clock, gateway, news, None, deal)
    return World(db, clock, env.gateway, env.news, env, deal)


async def checkout(world: World) -> tuple[int, str, int]:
    """The client taps Pay: the payment commits, then its checkout opens."""
    payment = await open_checkout(
        world.db, world.clock, CONFIG, world.gateway, world.deal.client_id, world.deal.milestone_id
    )
    return payment.id, payment.external_id, payment.amount  # type: ignore[return-value]


async def pay(world: World, payment_id: int, external_id: str, amount: int) -> dict | None:
    """The payer pays once; for Stripe, the event Stripe would deliver (not yet sent)."""
    if world.env is None:
        await world.gateway.charge(payment_id, amount, "USD")
        return None
    return await world.env.standin.pay_session(external_id)


async def confirm(world: World, payment_id: int, external_id: str, event: dict | None) -> None:
    if world.env is None:
        await world.news.succeeded(
            "sandbox", external_id, charge_ref=sandbox_charge_ref(payment_id)
        )
    else:
        assert await world.env.standin.deliver(event) == 200  # type: ignore[arg-type]


async def funded(world: World) -> None:
    payment_id, external_id, amount = await checkout(world)
    event = await pay(world, payment_id, external_id, amount)
    await confirm(world, payment_id, external_id, event)


async def released_and_onboarded(world: World) -> None:
    deal, clock = world.deal, world.clock
    await funded(world)
    async with world.db.uow() as uow:
        await milestones.submit_work(
            uow, clock, CONFIG, deal.freelancer_id, deal.milestone_id, "ok"
        )
        await milestones.release(uow, clock, CONFIG, deal.client_id, deal.milestone_id)
        if world.env is not None:
            await world.env.connect.onboarding_link(uow, clock, deal.freelancer_id)
        await uow.commit()
    if world.env is not None:
        (account_id,) = world.env.standin.accounts
        world.env.standin.complete_onboarding(account_id)
        async with world.db.uow() as uow:  # onboarded; the webhook's own transfer left out
            await world.env.connect.store_status(uow, clock, account_id, True)
            await uow.commit()


def base_spec(world: World, op: str, point: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "db_url": world.db.url,
        "gateway": world.name,
        "op": op,
        "point": point,
        "milestone_id": world.deal.milestone_id,
        "client_id": world.deal.client_id,
        "freelancer_id": world.deal.freelancer_id,
        # A call's (or checkout's) outcome is the second commit; the first decides.
        "commit": 2 if op != "confirm" and point == "after_commit" else 1,
    }
    if world.env is not None:
        spec["stripe_base"] = world.env.base_url
    return spec


async def act_again(world: World, op: str) -> None:
    """The person whose step died before it committed taps again."""
    deal = world.deal
    async with world.db.uow() as uow:
        if op == "refund":
            await milestones.refund(
                uow, world.clock, CONFIG, world.gateway, deal.freelancer_id, deal.milestone_id
            )
        elif op == "payout":
            await payouts.request_payout(
                uow, world.clock, CONFIG, world.gateway, deal.freelancer_id
            )
        else:
            await world.env.connect.transfer_milestone(uow, world.clock, deal.milestone_id)  # type: ignore[union-attr]
        await uow.commit()


async def calls(world: World) -> dict[str, tuple[str, str, int]]:
    async with world.db.uow() as uow:
        return {c.key: (c.kind, c.status, c.amount) for c in await uow.gateway_calls.find()}


async def gateway_record(world: World) -> list[tuple[str, int, str | None]]:
    """What the gateway itself says moved: (kind, amount, our idempotency key)."""
    if world.env is None:
        return [(m.kind, m.amount, m.key) for m in await world.gateway.books.movements()]
    store = ls_resources.store
    charges = [o for k, o in store.items() if k.startswith("charge:") and o.status == "succeeded"]
    refunds = [o for k, o in store.items() if k.startswith("refund:")]
    sent = {r.idempotency_key for r in world.env.standin.requests if r.path == "/v1/transfers"}
    transfers = list(world.env.standin.transfers.values())
    assert len(transfers) <= len(sent)
    return (
        [("charge", c.amount, None) for c in charges]
        + [("refund", r.amount, None) for r in refunds]
        + [("transfer", t["amount"], None) for t in transfers]
    )


def total(record: list[tuple[str, int, str | None]], *kinds: str) -> int:
    return sum(amount for kind, amount, _ in record if kind in kinds)


@pytest.mark.parametrize(("op", "point"), SANDBOX_CASES, ids=["-".join(c) for c in SANDBOX_CASES])
async def test_sandbox_killed_at_each_point_moves_money_once(op, point, any_db) -> None:
    await killed_and_restarted(await open_world(any_db, None), op, point)


@pytest.mark.parametrize(("op", "point"), STRIPE_CASES, ids=["-".join(c) for c in STRIPE_CASES])
async def test_stripe_killed_at_each_point_moves_money_once(
    op, point, any_db, stripe_env_on
) -> None:
    await killed_and_restarted(await open_world(any_db, stripe_env_on), op, point)
    assert stripe_env_on.standin.violations == []


@pytest.fixture
async def stripe_env_on(localstripe: str, any_db: Database, clock: ManualClock):  # type: ignore[no-untyped-def]
    """The Stripe servers, with a runner on the database under test (both kinds):
    sequence ids that a rollback loses are where keys used to change."""
    async with stripe_env_for(localstripe, SystemRunner(any_db.uow, clock, CONFIG)) as env:
        yield env


async def killed_and_restarted(world: World, op: str, point: str) -> None:
    db, deal = world.db, world.deal
    if op == "checkout":
        await run_child(base_spec(world, op, point))
        # Restarted: the client taps Pay again, pays once, the gateway confirms.
        await funded(world)
        async with db.uow() as uow:
            attempts = [
                (p.status, p.external_id)
                for p in await uow.payments.find(milestone_id=deal.milestone_id)
            ]
        assert [status for status, _ in attempts] == ["succeeded"]  # one attempt, not two
        if world.env is not None:  # the same key gave the same Checkout Session
            assert list(world.env.standin.sessions) == [attempts[0][1]]
    elif op == "confirm":
        payment_id, external_id, amount = await checkout(world)
        spec = base_spec(world, op, point)
        spec.update(payment_id=payment_id, external_id=external_id, amount=amount)
        if world.env is not None:
            spec["event"] = await pay(world, payment_id, external_id, amount)
        await run_child(spec)
        # Restarted: the payer presses Pay again / Stripe delivers its event again.
        event = spec.get("event")
        if world.env is None:
            await world.gateway.charge(payment_id, amount, "USD")
        await confirm(world, payment_id, external_id, event)
        await confirm(world, payment_id, external_id, event)  # and once more: a replay
    else:
        if op == "refund":
            await funded(world)
        else:
            await released_and_onboarded(world)
        await run_child(base_spec(world, op, point))
        if point == "before_commit":
            assert await calls(world) == {}  # nothing was decided, nothing moved
            await act_again(world, op)
        # Restarted (a minute later): the tick makes every call left due, with its key.
        world.clock.advance(minutes=1)
        runner = GatewayCallRunner(db.uow, world.clock, CONFIG, world.gateway)
        await runner.make_due(idle_seconds=0)
        await runner.make_due(idle_seconds=0)  # a second tick finds nothing to do

    record = await gateway_record(world)
    ledger = await ledger_state(db)
    made = await calls(world)
    # Each committed call is done, and the gateway moved it once, for its amount.
    assert all(status == "done" for _, status, _ in made.values()), made
    if world.env is None:
        keys = [key for _, _, key in record]
        assert len(keys) == len(set(keys))
        for key, (call_kind, _, amount) in made.items():
            assert (call_kind, amount, key) in record
    assert len([r for r in record if r[0] == "charge"]) == 1
    expected_out = {"checkout": 0, "confirm": 0, "refund": 1}.get(op, 1)
    moved_out = [r for r in record if r[0] != "charge"]
    assert len(moved_out) == expected_out, record
    # The ledger agrees with the gateway's record.
    gw = world.name
    charged, refunded = total(record, "charge"), total(record, "refund", "late_refund")
    assert -ledger.get(f"gateway:{gw}", 0) == charged - refunded
    assert ledger.get(f"payouts:{gw}", 0) == total(record, "payout", "transfer")
    assert sum(ledger.values()) == 0
    if op == "refund":
        assert refunded == charged  # the client got everything back, once
    if op in ("payout", "transfer"):
        assert ledger[f"freelancer:{deal.freelancer_id}"] == 0
