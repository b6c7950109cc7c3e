"""Fixed sequences of the stateful ledger machine (test_ledger_stateful.py), played
step by step with every invariant checked after each step, on SQLite and PostgreSQL.

A week's invoice left past its review window (the clock moved on, no deadline tick
ran) is paid by the next tick together with the newest invoice: the model must
credit both, and count the newest as settled once whether the tick or the client's
concurrent approval paid it (found by hypothesis on PostgreSQL, where the approval
can win the race)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

import tests.usecases.ledger_bonus_rules as bonus_rules
import tests.usecases.ledger_hourly_rules as hourly_rules
import tests.usecases.test_ledger_stateful as stateful
from tests.conftest import admin_execute, postgres_url

INVARIANTS = (
    "bonuses_never_hold_money",
    "hourly_escrows_match",
    "hourly_no_limit_invoices_match",
    "ledger_is_consistent",
)


def earlier_invoice_due(how: str) -> list[tuple[str, dict]]:
    return [
        ("hourly_fund_week", {"outcome": "paid", "role": "client"}),
        ("hourly_log", {"minutes": 360}),
        ("hourly_week_ends", {}),  # week 1 invoiced; its window passes in the next step
        ("hourly_week_story", {"how": how, "minutes": 780, "tenths": 0}),
    ]


# The sequence hypothesis found, shrunk to the hourly steps that matter plus the
# no-limit week whose week end closes the limited contract's week as well.
FOUND = [
    ("hourly_fund_week", {"outcome": "paid", "role": "client"}),
    ("hourly_log", {"minutes": 360}),
    ("hourly_log", {"minutes": 360}),
    ("hourly_no_limit_week", {"late": False, "minutes": 1, "outcome": "paid"}),
    ("hourly_fund_week", {"outcome": "pending", "role": "client"}),
    ("hourly_week_story", {"how": "race", "minutes": 780, "tenths": 0}),
]
SEQUENCES = {
    "auto": earlier_invoice_due("auto"),
    "race": earlier_invoice_due("race"),
    "found": FOUND,
}


def play(machine: stateful.LedgerMachine, steps: list[tuple[str, dict]]) -> None:
    try:
        machine.money_in_play([0, 1])
        for name, kwargs in steps:
            getattr(machine, name)(**kwargs)
            for invariant in INVARIANTS:
                getattr(machine, invariant)()
    finally:
        machine.teardown()


@pytest.fixture(autouse=True)
def no_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """hypothesis.event() is refused outside a hypothesis test."""
    for module in (stateful, hourly_rules, bonus_rules):
        monkeypatch.setattr(module, "event", lambda *args, **kwargs: None)


@pytest.mark.parametrize("sequence", SEQUENCES)
def test_replay_on_sqlite(sqlite_template: Path, sequence: str):
    stateful.SqliteLedgerMachine.template = sqlite_template
    play(stateful.SqliteLedgerMachine(), SEQUENCES[sequence])


@pytest.mark.parametrize("sequence", SEQUENCES)
def test_replay_on_postgres(postgres_template: str, sequence: str):
    name = f"gigbot_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    stateful.PostgresLedgerMachine.url_for_example = postgres_url(name)
    try:
        play(stateful.PostgresLedgerMachine(), SEQUENCES[sequence])
    finally:
        asyncio.run(admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
