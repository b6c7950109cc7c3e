"""handlers/system.py: one unit of work, events rendered inside it, one commit."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.payments.confirm import PaymentNews
from domain.errors import NotFound
from domain.events import Event
from domain.ports import UnitOfWork
from handlers.system import SystemRunner
from tests.payments.market import ledger_state


@dataclass(frozen=True, kw_only=True)
class SomethingHappened(Event):
    """An event of this test only (no renderer: the runner's stands in)."""

    kind = "something_happened"
    n: int


async def _outbox(db) -> list[dict]:
    async with db.uow() as uow:
        return [m.payload for m in await uow.outbox.find()]


async def test_events_are_rendered_and_committed_with_the_change(runner: SystemRunner, db) -> None:
    async def operation(uow: UnitOfWork) -> str:
        uow.emit(SomethingHappened(n=1))
        return "done"

    assert await runner.run(operation) == "done"
    assert await _outbox(db) == [{"kind": "something_happened", "n": 1}]


async def test_an_error_rolls_back_the_change_and_its_notifications(
    runner: SystemRunner, db
) -> None:
    async def operation(uow: UnitOfWork) -> None:
        uow.emit(SomethingHappened(n=1))
        raise NotFound("payment_not_found", "Unknown payment.")

    with pytest.raises(NotFound):
        await runner.run(operation)
    assert await _outbox(db) == []


async def test_confirming_an_unknown_payment_is_not_found_and_changes_nothing(
    news: PaymentNews, db
) -> None:
    with pytest.raises(NotFound):
        await news.succeeded("sandbox", "sbx_cs_nope")
    assert await ledger_state(db) == {}
    assert await _outbox(db) == []


async def test_a_claimed_event_is_applied_once(news: PaymentNews, db) -> None:
    seen: set[str] = set()

    async def claim(uow: UnitOfWork) -> bool:
        if "evt_1" in seen:
            return False
        seen.add("evt_1")
        return True

    assert await news.claim_only(claim, "evt_1") is True
    assert await news.claim_only(claim, "evt_1") is False
