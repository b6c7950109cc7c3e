"""Ledger throughput and contention: fund → submit → release cycles through the
use cases (domain/usecases/), on SQLite and on PostgreSQL.

    .venv/bin/python -m bench ledger                      # defaults: about 20 s
    .venv/bin/python -m bench ledger --cycles 1000 --concurrency 32 --time-limit 60
    .venv/bin/python -m bench ledger --race-milestones 2 --racers 100

Per database: a fresh database built by the migrations; clients, freelancers,
jobs, pitches and accepted contracts with milestones made through the use
cases (not timed). Then two measurements:

1. Settlements: --concurrency workers run cycles on distinct milestones, each
   cycle four transactions, as the bot runs them — payments.start_funding
   (sandbox gateway), payments.confirm_payment (what the payment page or a
   webhook calls), milestones.submit_work, milestones.release. Figures:
   settlements/s, transactions/s, and the latency of one whole cycle.
2. Contention: --race-milestones funded milestones with submitted work, and
   --racers release attempts per milestone launched at once, each in its own
   unit of work. Exactly one per milestone may settle; the rest are refused
   (IllegalTransition) after waiting for the lock. A database error (lock
   timeout, deadlock, serialisation failure) is retried up to 5 times and
   counted.

Both end with the ledger's invariants checked: all postings sum to zero, one
settle transaction per settled milestone.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError

from bench import market
from bench.support import (
    Budget,
    Latencies,
    MemoryPeak,
    Row,
    WallClock,
    add_database_options,
    conditions,
    migrated_database,
    print_table,
)
from bot.payments.sandbox import SandboxGateway
from domain.config import MarketConfig
from domain.errors import DomainError
from domain.states import MilestoneStatus
from domain.usecases import contracts, jobs, milestones, payments, pitches
from domain.usecases.contracts import MilestoneSpec
from handlers.gateway_calls import GatewayCallRunner
from storage.database import Database, SqlUnitOfWork

T = TypeVar("T")
CLIENTS_FROM, FREELANCERS_FROM = 3_000_000, 3_100_000
MILESTONES_PER_CONTRACT = 10
RETRIES = 5


@dataclass
class Tally:
    retries: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


async def transaction(
    uows: Callable[[], Any], tally: Tally, work: Callable[[SqlUnitOfWork], Awaitable[T]]
) -> T:
    """Run `work` in a unit of work and commit; a database error is retried
    (counted), a DomainError is a refusal and propagates."""
    for attempt in range(RETRIES + 1):
        try:
            async with uows() as uow:
                result = await work(uow)
                await uow.commit()
                return result
        except DBAPIError:
            if attempt == RETRIES:
                raise
            tally.retries += 1
    raise AssertionError("unreachable")


# --- the fixtures ----------------------------------------------------------------------


async def hire(
    db: Database,
    clock: WallClock,
    config: MarketConfig,
    pairs: int,
    per_contract: int,
    rng: random.Random,
) -> list[tuple[int, int, int]]:
    """`pairs` accepted contracts, `per_contract` milestones each, made through the
    use cases: [(milestone id, client id, freelancer id)]."""
    clients = range(CLIENTS_FROM, CLIENTS_FROM + pairs)
    freelancers = range(FREELANCERS_FROM, FREELANCERS_FROM + pairs)
    await market.add_users(db, clock, clients, client=True)
    await market.add_users(db, clock, freelancers, freelancer=True)
    found: list[tuple[int, int, int]] = []
    for client_id, freelancer_id in zip(clients, freelancers, strict=True):
        text = market.job_text(rng)
        async with db.uow() as uow:
            job = await jobs.post_job(
                uow,
                clock,
                config,
                client_id,
                jobs.JobFields(text.title, text.description, text.category, text.skills),
            )
            assert job.id is not None
            await jobs.publish_job(uow, clock, client_id, job.id)
            cover = "I have done this kind of work many times; happy to help."
            await pitches.submit_pitch(
                uow, clock, config, freelancer_id, job.id, pitches.PitchFields(cover, 100_000, 30)
            )
            specs = [
                MilestoneSpec(f"Part {n}", rng.randrange(50, 2000) * 100)
                for n in range(1, per_contract + 1)
            ]
            contract = await contracts.send_offer(
                uow, clock, config, client_id, job.id, freelancer_id, specs
            )
            assert contract.id is not None
            await contracts.accept_offer(uow, clock, freelancer_id, contract.id)
            await uow.commit()
            for m in await uow.milestones.find(order_by="id", contract_id=contract.id):
                assert m.id is not None
                found.append((m.id, client_id, freelancer_id))
    return found


@dataclass
class Money:
    uows: Callable[[], Any]  # the unit-of-work factory
    clock: WallClock
    config: MarketConfig
    gateway: SandboxGateway
    tally: Tally

    async def fund(self, milestone_id: int, client_id: int) -> None:
        async def start(uow: SqlUnitOfWork) -> int:
            payment = await payments.start_funding(
                uow, self.clock, self.config, self.gateway, client_id, milestone_id
            )
            assert payment.id is not None
            return payment.id

        payment_id = await transaction(self.uows, self.tally, start)
        # The checkout opens after the payment commits, as the engine's runner does it.
        runner = GatewayCallRunner(self.uows, self.clock, self.config, self.gateway)
        await runner.open_checkout(payment_id)

        async def opened(uow: SqlUnitOfWork) -> str:
            payment = await uow.payments.get(payment_id)
            assert payment is not None and payment.external_id is not None
            return payment.external_id

        external_id = await transaction(self.uows, self.tally, opened)

        async def confirm(uow: SqlUnitOfWork) -> bool:
            return await payments.confirm_payment(
                uow, self.clock, self.config, self.gateway.name, external_id, f"ch_{milestone_id}"
            )

        assert await transaction(self.uows, self.tally, confirm)

    async def submit(self, milestone_id: int, freelancer_id: int) -> None:
        async def submit(uow: SqlUnitOfWork) -> None:
            await milestones.submit_work(
                uow, self.clock, self.config, freelancer_id, milestone_id, "Done, see the link."
            )

        await transaction(self.uows, self.tally, submit)

    async def release(self, milestone_id: int, client_id: int) -> bool:
        """True if this attempt settled the milestone; False if it was refused."""

        async def release(uow: SqlUnitOfWork) -> None:
            await milestones.release(uow, self.clock, self.config, client_id, milestone_id)

        try:
            await transaction(self.uows, self.tally, release)
        except DomainError as refused:
            self.tally.refusals[refused.code] += 1
            return False
        return True


async def check_ledger(db: Database, settled: list[int]) -> str:
    """The invariants: postings sum to zero; one settle transaction per settled milestone."""
    async with db.uow() as uow:
        total = await uow.ledger.total()
        keys = [t.key for t in await uow.ledger.transactions() if t.key.startswith("settle:")]
        found = await uow.milestones.find(id__in=settled) if settled else []
        statuses = Counter(m.status for m in found)
    problems = []
    if total != 0:
        problems.append(f"postings sum to {total}")
    if len(keys) != len(set(keys)) or len(keys) != len(settled):
        problems.append(f"{len(keys)} settle transactions for {len(settled)} settled milestones")
    if statuses and set(statuses) != {MilestoneStatus.RELEASED}:
        problems.append(f"statuses {dict(statuses)}")
    return "ok" if not problems else "; ".join(problems)


# --- one database ----------------------------------------------------------------------


async def measure(backend: str, server: str | None, args: argparse.Namespace) -> dict[str, float]:
    config = MarketConfig()
    clock = WallClock()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        async with migrated_database(backend, server, Path(tmp)) as url:
            db = Database(url)
            try:
                return await _measure(db, clock, config, rng, backend, args)
            finally:
                await db.dispose()


async def _measure(
    db: Database,
    clock: WallClock,
    config: MarketConfig,
    rng: random.Random,
    backend: str,
    args: argparse.Namespace,
) -> dict[str, float]:
    gateway = SandboxGateway("http://127.0.0.1:8080", "bench-secret")
    seeding = time.perf_counter()
    wanted = args.cycles + args.race_milestones
    pairs = -(-wanted // MILESTONES_PER_CONTRACT)
    found = await hire(db, clock, config, pairs, MILESTONES_PER_CONTRACT, rng)
    rng.shuffle(found)  # workers meet on the same contracts now and then, as in life
    racing, cycling = found[: args.race_milestones], found[args.race_milestones : wanted]
    seeded = time.perf_counter() - seeding

    # 1. settlements
    cycles = Tally()
    money = Money(db.uow, clock, config, gateway, cycles)
    latencies = Latencies()
    queue = list(reversed(cycling))
    settled: list[int] = []
    budget = Budget(args.time_limit)

    async def worker() -> None:
        while queue and not budget.over():
            milestone_id, client_id, freelancer_id = queue.pop()
            began = time.perf_counter()
            try:
                await money.fund(milestone_id, client_id)
                await money.submit(milestone_id, freelancer_id)
                if await money.release(milestone_id, client_id):
                    settled.append(milestone_id)
            except Exception as exc:  # reported, not hidden: the figures would lie
                cycles.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            latencies.add(time.perf_counter() - began)

    with MemoryPeak(args.trace_memory) as memory:
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        wall = time.perf_counter() - started
    cycle_check = await check_ledger(db, settled)

    # 2. contention: funded, submitted milestones; many releases at once on each
    race = Tally()
    racing_money = Money(db.uow, clock, config, gateway, race)
    for milestone_id, client_id, freelancer_id in racing:
        await racing_money.fund(milestone_id, client_id)
        await racing_money.submit(milestone_id, freelancer_id)
    race.retries = 0

    async def attempt(milestone_id: int, client_id: int) -> tuple[int, bool]:
        return milestone_id, await racing_money.release(milestone_id, client_id)

    attempts = [attempt(m, c) for m, c, _ in racing for _ in range(args.racers)]
    rng.shuffle(attempts)
    race_started = time.perf_counter()
    outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    race_wall = time.perf_counter() - race_started
    won = [o[0] for o in outcomes if isinstance(o, tuple) and o[1]]
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    race_check = await check_ledger(db, settled + won)

    if budget.hit:
        print(
            f"  ({backend}: time limit {args.time_limit:g} s reached after {len(settled)} cycles)"
        )
    for problem in cycles.errors[:3] + [repr(f) for f in failed[:3]]:
        print(f"  ({backend}: error: {problem})")
    if cycles.refusals:
        print(f"  ({backend}: refusals in the cycles: {dict(cycles.refusals)})")
    print(f"  ({backend}: race refusals by code: {dict(race.refusals)})")
    for name, check in (("cycles", cycle_check), ("race", race_check)):
        if check != "ok":
            print(f"  ({backend}: LEDGER INVARIANT BROKEN after the {name}: {check})")
    cycles_ok = len(settled)
    return {
        "seed": seeded,
        "cycles": cycles_ok,
        "wall": wall,
        "rate": cycles_ok / wall if wall else 0.0,
        "tx_rate": 4 * cycles_ok / wall if wall else 0.0,
        **latencies.figures("cycle_"),
        "memory": memory.megabytes,
        "retries": cycles.retries,
        "errors": len(cycles.errors),
        "race_attempts": len(outcomes),
        "race_won": len(won),
        "race_refused": sum(race.refusals.values()),
        "race_retries": race.retries,
        "race_failed": len(failed),
        "race_wall": race_wall * 1000,
        "invariants": float(cycle_check == "ok" and race_check == "ok"),
    }


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cycles", type=int, default=600, help="fund→submit→release cycles (default 600)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="cycles at once (default 8)")
    parser.add_argument(
        "--race-milestones", type=int, default=4, help="milestones raced on (default 4)"
    )
    parser.add_argument(
        "--racers", type=int, default=25, help="release attempts per raced milestone (default 25)"
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=8,
        help="seconds per database after which no new cycle starts (default 8; 0 = none)",
    )
    add_database_options(parser)


QUICK = ["--cycles", "60", "--racers", "10", "--time-limit", "3"]


def report(args: argparse.Namespace, results: dict[str, dict[str, float]]) -> int:
    """Print the figures side by side; 1 if something went wrong on the way."""
    memory_label = "traced peak MB" if args.trace_memory else "peak RSS MB"
    print_table(
        f"ledger: {args.concurrency} cycles at once; race: {args.race_milestones} milestones × "
        f"{args.racers} releases ({conditions(args)})",
        results,
        [
            Row("seed", "contracts made s (not timed)", "{:.1f}"),
            Row("cycles", "settlements", "{:,.0f}", ratio=False),
            Row("wall", "wall time s", "{:.2f}"),
            Row("rate", "settlements/s", "{:.1f}"),
            Row("tx_rate", "transactions/s"),
            Row("cycle_p50", "cycle p50 ms", "{:.1f}"),
            Row("cycle_p95", "cycle p95 ms", "{:.1f}"),
            Row("cycle_p99", "cycle p99 ms", "{:.1f}"),
            Row("memory", memory_label, "{:.0f}"),
            Row("retries", "DB retries in cycles", "{:,.0f}", ratio=False),
            Row("errors", "failed cycles (want 0)", "{:,.0f}", ratio=False),
            Row("race_attempts", "race: release attempts", "{:,.0f}", ratio=False),
            Row("race_won", "race: settled", "{:,.0f}", ratio=False),
            Row("race_refused", "race: refused", "{:,.0f}", ratio=False),
            Row("race_retries", "race: DB retries", "{:,.0f}", ratio=False),
            Row("race_failed", "race: failed (want 0)", "{:,.0f}", ratio=False),
            Row("race_wall", "race: wall ms"),
            Row("invariants", "ledger invariants ok (1)", "{:,.0f}", ratio=False),
        ],
    )
    bad = any(
        r["errors"]
        or r["race_failed"]
        or not r["invariants"]
        or r["race_won"] != args.race_milestones
        for r in results.values()
    )
    return 1 if bad else 0
