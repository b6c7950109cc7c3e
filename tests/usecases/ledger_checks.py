"""The ledger's invariants, read from the ledger itself: the stateful property test
(test_ledger_stateful.py) checks them after every step, the scale-out test
(tests/scale) after its storm of several processes.

- all postings sum to zero; no escrow and no freelancer balance is negative;
- each milestone has at most one settle transaction (by its key), and what left its
  escrow (released + refunded) is at most what was funded;
- a milestone's escrow balance equals its funded total while HELD, and zero otherwise;
  a milestone not funded yet (pending, funding) has nothing funded;
- the gateway's own books agree with the committed calls: each key moved once, for the
  amount of its call; every call recorded done is in the books; what the ledger paid
  out and refunded is what the calls say.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from domain import ledger
from domain.entities import GatewayCall
from domain.states import HELD, MilestoneStatus
from storage.tables import ledger_transactions, postings

LedgerRow = tuple[str, str, str, int]  # transaction key, kind, account, amount


async def ledger_rows(uow) -> list[LedgerRow]:  # type: ignore[no-untyped-def]
    """Every posting with its transaction's key and kind (one query)."""
    rows = (
        await uow.session.execute(
            sa.select(
                ledger_transactions.c.key,
                ledger_transactions.c.kind,
                postings.c.account,
                postings.c.amount,
            ).join(ledger_transactions, ledger_transactions.c.id == postings.c.transaction_id)
        )
    ).all()
    return [(key, kind, account, amount) for key, kind, account, amount in rows]


def assert_ledger_invariants(
    rows: Sequence[LedgerRow], status: Mapping[int, MilestoneStatus]
) -> dict[str, int]:
    """The ledger's own invariants for the milestones in `status`; the balances."""
    balances: dict[str, int] = defaultdict(int)
    for _, _, account, amount in rows:
        balances[account] += amount
    assert sum(balances.values()) == 0
    assert all(v >= 0 for a, v in balances.items() if a.startswith(("escrow:", "freelancer:")))
    for m, state in status.items():
        account = ledger.escrow_account(m)
        mine = [(key, kind, amount) for key, kind, acc, amount in rows if acc == account]
        funded = sum(amount for _, kind, amount in mine if kind == "fund")
        moves = {key for key, kind, _ in mine if kind != "fund"}
        assert moves <= {ledger.settle_key(m)}  # at most one settlement, by its key
        out = -sum(amount for _, kind, amount in mine if kind != "fund")
        assert 0 <= out <= funded
        assert balances[account] == (funded if state in HELD else 0)
        if state in (MilestoneStatus.PENDING, MilestoneStatus.FUNDING):
            assert funded == 0
    return balances


def assert_gateway_agrees(
    rows: Sequence[LedgerRow],
    calls: Mapping[str, GatewayCall],
    books: Sequence[tuple[int, str]],
    gateway: str = "sandbox",
) -> None:
    """The gateway's books (amount, key) of refunds and payouts, the committed calls
    and the ledger tell one story."""
    assert len({key for _, key in books}) == len(books), "a key moved money twice"
    for amount, key in books:
        assert key in calls and calls[key].amount == amount and calls[key].status != "failed"
    for call in calls.values():
        if call.status == "done":
            assert (call.amount, call.key) in books
    paid_out = sum(c.amount for c in calls.values() if c.kind == "payout" and c.status != "failed")
    assert -sum(a for _, kind, acc, a in rows if acc == f"payouts:{gateway}") == -paid_out
    refunded = sum(a for _, kind, acc, a in rows if acc == f"gateway:{gateway}" and kind != "fund")
    assert refunded == sum(c.amount for c in calls.values() if c.kind == "refund")
