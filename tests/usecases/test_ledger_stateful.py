"""A hypothesis state machine drives random money operations — valid and
invalid — over two contracts, and checks the escrow ledger after every step,
on SQLite and on PostgreSQL.

Besides the parties' and the admins' actions it plays what goes wrong in the
real world: chargebacks that race every party action, a counter-proposal made
while the other party accepts, and the gateway calls (refunds, payouts) made by
a runner that crashes before the call or after it, before recording it, and a
gateway that rejects payouts.

Invariants checked after every step, from the ledger itself:
- all postings sum to zero; no escrow and no freelancer balance is negative;
- each milestone has at most one settle transaction, and what left its escrow
  (released + refunded) is at most what was funded;
- a milestone's escrow balance equals its funded total while HELD, and zero
  otherwise;
- a milestone frozen by a chargeback is settled by an admin's decision only,
  and an accepted split settles at the share the acceptor was shown;
- the gateway's own books agree with the committed calls: each key moved once,
  for the amount of its call; every call recorded done is in the books; what
  the ledger paid out and refunded is what the calls say;
and against a model that applies domain.fees to each successful action:
- every freelancer balance, the platform's fees and every escrow match.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from domain import ledger
from domain.config import MarketConfig
from domain.entities import GatewayCall, Payment
from domain.errors import DomainError, PaymentError
from domain.fees import Settlement, funding_quote, settlement
from domain.states import MilestoneStatus
from domain.usecases import disputes, milestones, payments, payouts
from handlers.gateway_calls import GatewayCallRunner
from storage.database import Database
from storage.tables import metadata
from tests.clock import ManualClock
from tests.conftest import admin_execute, postgres_url, sqlite_url
from tests.usecases.conftest import ADMIN, CLIENT, FREELANCER, OTHER_FREELANCER, STRANGER, add_users
from tests.usecases.ledger_bonus_rules import BonusPartialRules  # issue 13: bonus, partial
from tests.usecases.ledger_checks import (
    assert_gateway_agrees,
    assert_ledger_invariants,
    ledger_rows,
)
from tests.usecases.ledger_hourly_rules import HourlyRules  # issue 13: hourly weeks
from tests.usecases.story import RecordingGateway, hired

CONFIG = MarketConfig(admin_ids=frozenset({ADMIN}))
CRASH_POINTS = st.sampled_from(["none", "none", "before_call", "after_call"])


class Crash(BaseException):
    """The process dies here: nothing after this line of ours runs (a BaseException,
    so no `except Exception` of ours swallows it)."""


class FlakyGateway:
    """Wraps the recording gateway: dies at a chosen point, or rejects payouts."""

    name = "sandbox"

    def __init__(self, inner: RecordingGateway, point: str, reject_payouts: bool) -> None:
        self.inner, self.point, self.reject_payouts = inner, point, reject_payouts

    async def payout_params(self, uow, user_id: int) -> dict:  # type: ignore[no-untyped-def]
        return {}

    async def execute(self, call: GatewayCall, payment: Payment | None = None) -> str:
        if self.point == "before_call":
            raise Crash()
        if self.reject_payouts and call.kind == "payout":
            raise PaymentError("gateway_rejected", "The payment service refused the request.")
        made = await self.inner.execute(call, payment)
        if self.point == "after_call":
            raise Crash()  # the gateway moved the money; we die before recording it
        return made


CONTRACTS = (((10_000, 3_333), FREELANCER), ((999, 25_001), OTHER_FREELANCER))
ROLES = st.sampled_from(["client", "client", "freelancer", "freelancer", "stranger", "admin"])
FUNDER = st.sampled_from(["client", "client", "client", "freelancer", "stranger"])
INDEX = st.integers(0, 3)
FRACTION = st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])  # tenths; 11 is too much
STEPS = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
# PostgreSQL round trips cost more; fewer examples keep it near 20 s.
PG_STEPS = settings(STEPS, max_examples=12)


class LedgerMachine(HourlyRules, BonusPartialRules, RuleBasedStateMachine):
    url_for_example: str = ""  # set by the backend subclass
    config = CONFIG  # the rules of tests/usecases/ledger_bonus_rules.py read it

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = ManualClock()
        self.gateway = RecordingGateway()
        self.tmp: str | None = None
        self.db = self.run(self.open_database())
        self.run(add_users(self.db, self.clock))
        self.ms: list[tuple[int, int, int]] = []  # (milestone id, amount, freelancer)
        for amounts, freelancer_id in CONTRACTS:
            _, ids = self.run(
                hired(self.db, self.clock, CONFIG, amounts, freelancer_id=freelancer_id)
            )
            self.ms += [(m, a, freelancer_id) for m, a in zip(ids, amounts, strict=True)]
        # The model: what the ledger must say, from domain.fees alone.
        self.escrow = {m: 0 for m, _, _ in self.ms}
        self.earned = {FREELANCER: 0, OTHER_FREELANCER: 0}
        self.platform = 0
        self.frozen: set[int] = set()  # milestones a chargeback froze (an admin decides)

    # -- plumbing -------------------------------------------------------
    def run(self, coro):
        return self.loop.run_until_complete(coro)

    async def open_database(self) -> Database:
        raise NotImplementedError

    def teardown(self) -> None:
        self.run(self.db.dispose())
        self.loop.close()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def attempt(self, action) -> object | None:
        """Run one use case in its own unit of work; a refusal changes nothing."""

        async def go():
            async with self.db.uow() as uow:
                try:
                    result = await action(uow)
                except DomainError:
                    return None
                await uow.commit()
                return result

        return self.run(go())

    def settled(self, i: int, share: int, split: Settlement | None, by_admin: bool = False) -> None:
        if split is None:
            return
        if not by_admin:
            assert self.ms[i][0] not in self.frozen, "the parties settled a frozen milestone"
        self.frozen.discard(self.ms[i][0])
        event(
            f"settled share {'all' if share == self.ms[i][1] else 'none' if share == 0 else 'part'}"
        )
        m, amount, freelancer_id = self.ms[i]
        assert split == settlement(amount, share, CONFIG.client_fee_bp, CONFIG.freelancer_fee_bp)
        assert split.total == self.escrow[m]
        self.escrow[m] = 0
        self.earned[freelancer_id] += split.to_freelancer
        self.platform += split.to_platform

    async def live_dispute(self, uow, i: int):
        found = await uow.disputes.find(
            milestone_id=self.ms[i][0], status__in=disputes.LIVE, limit=1
        )
        return found[0].id if found else -1

    # -- rules: mostly the right party, sometimes someone who must be refused --
    def who(self, i: int, role: str) -> int:
        return {
            "client": CLIENT,
            "freelancer": self.ms[i][2],
            "stranger": STRANGER,
            "admin": ADMIN,
        }[role]

    @initialize(funded=st.lists(INDEX, unique=True, min_size=1))
    def money_in_play(self, funded):
        """Start each example with some milestones funded, so the money paths are busy."""
        for i in funded:
            self.fund(i, "client", "paid")

    @rule(i=INDEX, role=FUNDER, outcome=st.sampled_from(["paid", "paid", "failed", "pending"]))
    def fund(self, i, role, outcome):
        """Start a checkout, and the gateway confirms it, declines it, or not yet."""
        m, amount, _ = self.ms[i]
        actor = self.who(i, role)

        async def pay(uow):
            payment = await payments.start_funding(uow, self.clock, CONFIG, self.gateway, actor, m)
            return payment.id

        payment_id = self.attempt(pay)
        if payment_id is None:
            return
        # The runner opens the checkout after the commit (once per payment).
        self.run(
            GatewayCallRunner(self.db.uow, self.clock, CONFIG, self.gateway).open_checkout(
                payment_id
            )
        )
        if outcome == "pending":
            return
        external_id = self.run(self.external_id(payment_id))
        if outcome == "failed":
            self.attempt(
                lambda uow: payments.payment_failed(uow, self.clock, "sandbox", external_id, "no")
            )
            return
        before = self.run(self.status(m))
        took = self.attempt(
            lambda uow: payments.confirm_payment(
                uow, self.clock, CONFIG, "sandbox", external_id, f"ch_{m}"
            )
        )
        if took and before in ("pending", "funding"):
            self.escrow[m] = funding_quote(amount, CONFIG.client_fee_bp).total
            event("funded")

    @rule(i=INDEX)
    def webhook_replayed(self, i):
        """A confirmation that arrives again (or late) changes nothing."""

        async def replay(uow):
            paid = await uow.payments.find(milestone_id=self.ms[i][0], status="succeeded")
            for p in paid:
                assert not await payments.confirm_payment(
                    uow, self.clock, CONFIG, "sandbox", p.external_id
                )
            return len(paid)

        self.attempt(replay)

    @rule(i=INDEX, role=ROLES)
    def submit(self, i, role):
        actor = self.who(i, role)
        self.attempt(
            lambda uow: milestones.submit_work(uow, self.clock, CONFIG, actor, self.ms[i][0], "x")
        )

    @rule(i=INDEX, role=ROLES)
    def request_changes(self, i, role):
        actor = self.who(i, role)
        self.attempt(
            lambda uow: milestones.request_changes(uow, self.clock, actor, self.ms[i][0], "redo")
        )

    @rule(i=INDEX, role=ROLES)
    def release(self, i, role):
        actor = self.who(i, role)
        split = self.attempt(
            lambda uow: milestones.release(uow, self.clock, CONFIG, actor, self.ms[i][0])
        )
        self.settled(i, self.ms[i][1], split)

    @rule(i=INDEX, role=ROLES)
    def refund(self, i, role):
        actor = self.who(i, role)
        split = self.attempt(
            lambda uow: milestones.refund(
                uow, self.clock, CONFIG, self.gateway, actor, self.ms[i][0]
            )
        )
        self.settled(i, 0, split)

    @rule(i=INDEX, role=ROLES)
    def open_dispute(self, i, role):
        actor = self.who(i, role)
        self.attempt(
            lambda uow: disputes.open_dispute(
                uow, self.clock, actor, self.ms[i][0], "This is not what we agreed on"
            )
        )

    @rule(i=INDEX, role=ROLES, tenths=FRACTION)
    def propose_split(self, i, role, tenths):
        actor = self.who(i, role)
        share = self.ms[i][1] * tenths // 10

        async def propose(uow):
            return await disputes.propose_split(
                uow, self.clock, actor, await self.live_dispute(uow, i), share
            )

        self.attempt(propose)

    @rule(i=INDEX, role=ROLES)
    def accept_split(self, i, role):
        actor = self.who(i, role)

        async def accept(uow):
            dispute_id = await self.live_dispute(uow, i)
            found = await uow.disputes.get(dispute_id)
            shown = found.proposed_share if found else 0
            split = await disputes.accept_split(
                uow, self.clock, CONFIG, self.gateway, actor, dispute_id, shown or 0
            )
            return split, (await uow.disputes.get(dispute_id)).resolution_share

        result = self.attempt(accept)
        if result is not None:
            self.settled(i, result[1], result[0])

    @rule(i=INDEX, role=ROLES)
    def reject_or_withdraw(self, i, role):
        actor = self.who(i, role)

        async def go(uow):
            dispute_id = await self.live_dispute(uow, i)
            try:
                return await disputes.reject_split(uow, self.clock, actor, dispute_id)
            except DomainError:
                return await disputes.withdraw_dispute(uow, self.clock, CONFIG, actor, dispute_id)

        self.attempt(go)

    @rule(i=INDEX, role=st.sampled_from(["admin", "admin", "client"]), tenths=FRACTION)
    def admin_resolve(self, i, role, tenths):
        actor = self.who(i, role)
        share = self.ms[i][1] * tenths // 10

        async def resolve(uow):
            dispute_id = await self.live_dispute(uow, i)
            return await disputes.resolve_dispute(
                uow, self.clock, CONFIG, self.gateway, actor, dispute_id, share
            )

        self.settled(i, share, self.attempt(resolve), by_admin=actor == ADMIN)

    @rule(i=INDEX)
    def chargeback(self, i):
        """The payer's bank takes the money back: the milestone freezes."""
        m = self.ms[i][0]
        froze = self.attempt(
            lambda uow: disputes.freeze_on_chargeback(uow, self.clock, "sandbox", f"ch_{m}")
        )
        if froze:
            self.frozen.add(m)
            event("frozen")

    @rule(i=INDEX, role=ROLES, tenths=FRACTION)
    def admin_settles_frozen(self, i, role, tenths):
        m, share = self.ms[i][0], self.ms[i][1] * tenths // 10
        actor = self.who(i, role)
        split = self.attempt(
            lambda uow: disputes.resolve_frozen(
                uow, self.clock, CONFIG, self.gateway, actor, m, share
            )
        )
        self.settled(i, share, split, by_admin=True)

    @rule(
        i=INDEX,
        action=st.sampled_from(["release", "propose", "accept", "reject", "withdraw", "refund"]),
        role=ROLES,
        tenths=FRACTION,
    )
    def chargeback_races(self, i, action, role, tenths):
        """A chargeback and a party's action on the same milestone at the same
        moment: one of them goes first, and a frozen milestone is never settled
        by the parties (nor both frozen and settled by them)."""
        m, amount, _ = self.ms[i]
        actor = self.who(i, role)
        share = amount * tenths // 10

        async def party(uow):
            dispute_id = await self.live_dispute(uow, i)
            if action == "release":
                return await milestones.release(uow, self.clock, CONFIG, actor, m), amount
            if action == "refund":
                return await milestones.refund(uow, self.clock, CONFIG, self.gateway, actor, m), 0
            if action == "propose":
                await disputes.propose_split(uow, self.clock, actor, dispute_id, share)
                return None
            if action == "accept":
                found = await uow.disputes.get(dispute_id)
                shown = (found.proposed_share if found else 0) or 0
                split = await disputes.accept_split(
                    uow, self.clock, CONFIG, self.gateway, actor, dispute_id, shown
                )
                return split, shown
            if action == "reject":
                await disputes.reject_split(uow, self.clock, actor, dispute_id)
                return None
            await disputes.withdraw_dispute(uow, self.clock, CONFIG, actor, dispute_id)
            return None

        async def freeze(uow):
            return await disputes.freeze_on_chargeback(uow, self.clock, "sandbox", f"ch_{m}")

        froze, acted = self.run(self.concurrently(freeze, party))
        if froze:
            self.frozen.add(m)
        if acted is not None:
            split, settled_share = acted
            assert not froze, "frozen and settled by the parties"
            self.settled(i, settled_share, split)

    @rule(i=INDEX, tenths=FRACTION, counter_tenths=FRACTION)
    def counter_under_accept(self, i, tenths, counter_tenths):
        """The proposer changes the proposal while the other party accepts the one
        it was shown: the split settles at the shown share, or is refused."""
        _, amount, freelancer_id = self.ms[i]
        shown, counter = amount * tenths // 10, amount * counter_tenths // 10

        async def propose_first(uow):
            dispute_id = await self.live_dispute(uow, i)
            return await disputes.propose_split(uow, self.clock, freelancer_id, dispute_id, shown)

        if self.attempt(propose_first) is None:
            return

        async def counter_proposal(uow):
            dispute_id = await self.live_dispute(uow, i)
            await disputes.propose_split(uow, self.clock, freelancer_id, dispute_id, counter)
            return True

        async def accept(uow):
            dispute_id = await self.live_dispute(uow, i)
            split = await disputes.accept_split(
                uow, self.clock, CONFIG, self.gateway, CLIENT, dispute_id, shown
            )
            return split, (await uow.disputes.get(dispute_id)).resolution_share

        _, accepted = self.run(self.concurrently(counter_proposal, accept))
        if accepted is not None:
            split, settled_share = accepted
            assert settled_share == shown, "settled at a share the acceptor never saw"
            self.settled(i, shown, split)
            event("accepted under a counter")

    @rule(point=CRASH_POINTS, reject_payouts=st.booleans())
    def gateway_runner(self, point, reject_payouts):
        """The runner makes the calls left due; it may die before a call or after
        the gateway moved the money but before recording it (then a later run
        makes the same call again with the same key)."""
        gateway = FlakyGateway(self.gateway, point, reject_payouts)
        runner = GatewayCallRunner(self.db.uow, self.clock, CONFIG, gateway)  # type: ignore[arg-type]
        before = self.run(self.failed_payouts())
        try:
            self.run(runner.make_due(idle_seconds=0))
        except Crash:
            event(f"runner died {point}")
        for call in self.run(self.failed_payouts()):
            if call.id not in {c.id for c in before}:
                self.earned[call.user_id] += call.amount  # the reversal gave it back
                event("payout rejected, balance restored")

    async def external_id(self, payment_id: int) -> str:
        async with self.db.uow() as uow:
            return (await uow.payments.get(payment_id)).external_id

    async def failed_payouts(self) -> list[GatewayCall]:
        async with self.db.uow() as uow:
            return [replace(c) for c in await uow.gateway_calls.find(status="failed")]

    async def concurrently(self, *operations):
        """Each operation in its own unit of work, at once; None for a refusal."""

        async def one(operation):
            async with self.db.uow() as uow:
                try:
                    result = await operation(uow)
                except DomainError:
                    return None
                await uow.commit()
                return result

        return await asyncio.gather(*(one(op) for op in operations))

    @rule(
        actor=st.sampled_from([FREELANCER, OTHER_FREELANCER, STRANGER]),
        amount=st.one_of(st.integers(1, 30_000), st.none()),
    )
    def payout(self, actor, amount):
        done = self.attempt(
            lambda uow: payouts.request_payout(uow, self.clock, CONFIG, self.gateway, actor, amount)
        )
        if done is not None:
            event("paid out")
            self.earned[actor] -= done.amount

    # -- invariants -----------------------------------------------------
    async def status(self, m: int) -> str:
        async with self.db.uow() as uow:
            return str((await uow.milestones.get(m)).status)

    async def check(self) -> None:
        """Two queries per step: every posting with its transaction, every milestone."""
        async with self.db.uow() as uow:
            rows = await ledger_rows(uow)
            status = {
                m.id: m.status for m in await uow.milestones.find(id__in=[m for m, _, _ in self.ms])
            }
        balances = assert_ledger_invariants(rows, status)
        for m, _, _ in self.ms:
            assert balances[ledger.escrow_account(m)] == self.escrow[m]
        for user_id, expected in self.earned.items():
            assert balances[ledger.freelancer_account(user_id)] == expected
        assert balances[ledger.PLATFORM_FEES] == self.platform
        for m in self.frozen:
            assert status[m] is MilestoneStatus.FROZEN
        await self.check_gateway(rows)

    async def check_gateway(self, rows) -> None:
        """The gateway's books, the committed calls and the ledger tell one story."""
        async with self.db.uow() as uow:
            calls = {c.key: replace(c) for c in await uow.gateway_calls.find()}
        assert_gateway_agrees(rows, calls, self.gateway.refunds + self.gateway.payouts)

    @invariant()
    def ledger_is_consistent(self):
        self.run(self.check())


class SqliteLedgerMachine(LedgerMachine):
    template: Path  # a migrated SQLite file, copied per example

    async def open_database(self) -> Database:
        self.tmp = tempfile.mkdtemp(prefix="gigbot-ledger-")
        path = Path(self.tmp) / "ledger.db"
        shutil.copyfile(self.template, path)
        return Database(sqlite_url(path), now=self.clock.now)


class PostgresLedgerMachine(LedgerMachine):
    """One database per test, emptied between examples (cheaper than creating one)."""

    async def open_database(self) -> Database:
        db = Database(self.url_for_example, now=self.clock.now, pool_size=2, max_overflow=2)
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        return db


def test_ledger_invariants_hold_on_sqlite(sqlite_template: Path):
    SqliteLedgerMachine.template = sqlite_template
    run_state_machine_as_test(SqliteLedgerMachine, settings=STEPS)


def test_ledger_invariants_hold_on_postgres(postgres_template: str):
    name = f"gigbot_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    PostgresLedgerMachine.url_for_example = postgres_url(name)
    try:
        run_state_machine_as_test(PostgresLedgerMachine, settings=PG_STEPS)
    finally:
        asyncio.run(admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
