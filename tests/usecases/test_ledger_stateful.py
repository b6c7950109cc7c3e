"""A hypothesis state machine drives random money operations — valid and
invalid — over two contracts, and checks the escrow ledger after every step,
on SQLite and on PostgreSQL.

Invariants checked after every step, from the ledger itself:
- all postings sum to zero; no escrow and no freelancer balance is negative;
- each milestone has at most one settle transaction, and what left its escrow
  (released + refunded) is at most what was funded;
- a milestone's escrow balance equals its funded total while HELD, and zero
  otherwise;
and against a model that applies domain.fees to each successful action:
- every freelancer balance, the platform's fees and every escrow match.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections import defaultdict
from pathlib import Path

import hypothesis.strategies as st
import sqlalchemy as sa
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
from domain.errors import DomainError
from domain.fees import Settlement, funding_quote, settlement
from domain.states import HELD, MilestoneStatus
from domain.usecases import disputes, milestones, payments, payouts
from storage.database import Database
from storage.tables import ledger_transactions, metadata, postings
from tests.clock import ManualClock
from tests.conftest import admin_execute, postgres_url, sqlite_url
from tests.usecases.conftest import ADMIN, CLIENT, FREELANCER, OTHER_FREELANCER, STRANGER, add_users
from tests.usecases.story import RecordingGateway, hired

CONFIG = MarketConfig(admin_ids=frozenset({ADMIN}))
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


class LedgerMachine(RuleBasedStateMachine):
    url_for_example: str = ""  # set by the backend subclass

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

    def settled(self, i: int, share: int, split: Settlement | None) -> None:
        if split is None:
            return
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
            return payment.external_id, str((await uow.milestones.get(m)).status)

        started = self.attempt(pay)
        if started is None or outcome == "pending":
            return
        external_id, _ = started
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
            split = await disputes.accept_split(
                uow, self.clock, CONFIG, self.gateway, actor, dispute_id
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

        self.settled(i, share, self.attempt(resolve))

    @rule(i=INDEX, tenths=FRACTION)
    def chargeback_then_admin(self, i, tenths):
        m = self.ms[i][0]
        self.attempt(
            lambda uow: disputes.freeze_on_chargeback(uow, self.clock, "sandbox", f"ch_{m}")
        )
        share = self.ms[i][1] * tenths // 10
        split = self.attempt(
            lambda uow: disputes.resolve_frozen(
                uow, self.clock, CONFIG, self.gateway, ADMIN, m, share
            )
        )
        self.settled(i, share, split)

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
            rows = (
                await uow.session.execute(
                    sa.select(
                        ledger_transactions.c.key,
                        ledger_transactions.c.kind,
                        postings.c.account,
                        postings.c.amount,
                    ).join(
                        ledger_transactions, ledger_transactions.c.id == postings.c.transaction_id
                    )
                )
            ).all()
            status = {
                m.id: m.status for m in await uow.milestones.find(id__in=[m for m, _, _ in self.ms])
            }
        balances: dict[str, int] = defaultdict(int)
        for _, _, account, amount in rows:
            balances[account] += amount
        assert sum(balances.values()) == 0
        assert all(v >= 0 for a, v in balances.items() if a.startswith(("escrow:", "freelancer:")))
        for m, _, _ in self.ms:
            account = ledger.escrow_account(m)
            mine = [(key, kind, amount) for key, kind, acc, amount in rows if acc == account]
            funded = sum(amount for _, kind, amount in mine if kind == "fund")
            moves = {key for key, kind, _ in mine if kind != "fund"}
            assert moves <= {ledger.settle_key(m)}  # at most one settlement, by its key
            out = -sum(amount for _, kind, amount in mine if kind != "fund")
            assert 0 <= out <= funded
            assert balances[account] == (funded if status[m] in HELD else 0)
            assert balances[account] == self.escrow[m]
            if status[m] in (MilestoneStatus.PENDING, MilestoneStatus.FUNDING):
                assert funded == 0
        for user_id, expected in self.earned.items():
            assert balances[ledger.freelancer_account(user_id)] == expected
        assert balances[ledger.PLATFORM_FEES] == self.platform

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
