"""An hourly contract over two weeks through the real frameworks (aiogram and
python-telegram-bot, long polling) against the Bot API emulator, with the real
Runtime: the week's escrow asked for, time logged by command and by buttons, the
first invoice approved in chat, the second paid by the deadline, the unused
escrow refunded — each amount said checked against the ledger.

The runtime's clock is the system's, so a week's end (and an invoice's review
window) is brought forward in its row and the runtime's own tick acts on it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain import ledger
from domain.usecases import contracts, hourly
from handlers.render import money
from tests.e2e.test_capabilities import World, world

__all__ = ["world"]

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def week_rows(w: World, contract_id: int) -> list:
    async with w.db.uow() as uow:
        found = await uow.weeks.find(contract_id=contract_id)
        return sorted((replace(r) for r in found), key=lambda r: r.week_start)


async def move_back(w: World, week_id: int, days: int, *watching: int) -> None:
    """The week ended `days` ago (its invoice's window too, if it has one)."""
    async with w.db.uow() as uow:
        week = await uow.weeks.get_for_update(week_id)
        week.week_start -= timedelta(days=days)
        if week.review_until is not None:
            week.review_until = w.clock.now() - timedelta(seconds=1)
        await uow.commit()
    for who in watching:
        w.stage._mark(who)
    assert await w.rt._tick() > 0


async def balance(w: World, account: str) -> int:
    async with w.db.uow() as uow:
        return await uow.ledger.balance(account)


async def refund_of(w: World, milestone_id: int) -> int:
    async with w.db.uow() as uow:
        (call,) = await uow.gateway_calls.find(kind="refund", milestone_id=milestone_id)
        return call.amount


async def test_two_weeks_of_an_hourly_contract(world: World) -> None:
    s = world.stage
    kai = await world.join("Kai", "client")
    uma = await world.join("Uma", "freelancer")
    job_id = await world.job(kai, "Hourly backend")
    async with world.db.uow() as uow:
        (await uow.jobs.get(job_id)).budget_type = "hourly"
        await uow.commit()
    await world.pitch(job_id, uma, price=4_000)
    async with world.db.uow() as uow:
        contract = await hourly.send_hourly_offer(
            uow, world.clock, world.config, kai, job_id, uma, 4_000, 10
        )
        await contracts.accept_offer(uow, world.clock, uma, contract.id)
        await uow.commit()
    cid = contract.id

    assert await world.rt._tick() > 0  # the first week opens
    await s.sees(kai, "A new week", "$400.00", "$420.00")
    await s.sees(uma, "Time logging opens once the client funds it")
    await s.send(uma, "/log 1h")
    await s.sees(uma, "Time logging is paused")
    (week1,) = await week_rows(world, cid)
    await world.funded(kai, week1.milestone_id)

    await s.send(uma, "/log 2h30 API <work>")
    await s.sees(uma, "Logged 2h30", "API <work>")
    await s.send(uma, "/log")
    await s.press(uma, "Today 1h")
    await s.send(uma, "Tests")
    await s.sees(uma, "This week: 3h30 of 10 h")

    await move_back(world, week1.id, 14, kai, uma)
    await s.sees(kai, "Invoice", "$140.00", "$400.00")
    await s.sees(uma, "closed", "$140.00")
    await s.press(kai, "✅ Approve")
    net1 = await balance(world, ledger.freelancer_account(uma))
    back1 = await refund_of(world, week1.milestone_id)
    assert (net1, back1) == (12_600, 27_300)
    await s.sees(kai, money(back1, "USD"), "comes back to you")
    await s.sees(uma, money(net1, "USD"), "in your balance")

    week2 = (await week_rows(world, cid))[-1]
    assert week2.id != week1.id
    await world.funded(kai, week2.milestone_id)
    await s.send(uma, "/log 1:30 Deploy")
    await s.sees(uma, "Logged 1h30")
    await move_back(world, week2.id, 7, kai, uma)
    await s.sees(kai, "Invoice", "$60.00")
    week2 = (await week_rows(world, cid))[-2]
    await move_back(world, week2.id, 0, kai, uma)  # nobody answered: the deadline pays
    net2 = await balance(world, ledger.freelancer_account(uma)) - net1
    back2 = await refund_of(world, week2.milestone_id)
    assert (net2, back2) == (5_400, 35_700)
    await s.sees(uma, "paid automatically", money(net2, "USD"))
    await s.sees(kai, "paid automatically", money(back2, "USD"))
    async with world.db.uow() as uow:
        assert await uow.ledger.total() == 0
