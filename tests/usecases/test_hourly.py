"""Hourly contracts through the use cases: weekly escrow, logging, the invoice
capped at the limit, approval, paying less, automatic payment, refunds of the
unused escrow — every amount read back from the ledger."""

import asyncio
from datetime import timedelta

import pytest

from domain import ledger
from domain.errors import DomainError, NotAllowed
from domain.fees import fee, settlement
from domain.states import MilestoneStatus
from domain.timesheet import invoice_for, parse_duration
from domain.usecases import hourly, milestones
from domain.usecases.settlement import refund_key
from tests.usecases.conftest import CLIENT, FREELANCER
from tests.usecases.hourly_story import LIMIT, RATE, hourly_hired, log, tick_weeks, week_milestone
from tests.usecases.story import RecordingGateway, fund, make_calls


def test_durations_and_invoice_rule():
    assert [parse_duration(t) for t in ("2h30", "2:30", "2h", "45m", "1.5h", "1,5", "3")] == [
        150,
        150,
        120,
        45,
        90,
        90,
        180,
    ]
    for bad in ("", "abc", "2h75", "25h", "0m"):
        with pytest.raises(DomainError):
            parse_duration(bad)
    assert invoice_for(150, 4_000, 10) == (150, 10_000)
    assert invoice_for(13 * 60, 4_000, 10) == (600, 40_000)  # capped at the limit
    assert invoice_for(1, 4_999, 10) == (1, 83)  # 83.3 rounds half up to 83


async def test_a_week_logged_invoiced_approved_and_the_rest_refunded(users, clock, config):
    db, gw = users, RecordingGateway()
    contract_id, week_id = await hourly_hired(db, clock, config)
    mid = await week_milestone(db, week_id)
    with pytest.raises(NotAllowed) as refused:
        await log(db, clock, config, contract_id, 60)
    assert refused.value.code == "week_not_funded"
    await fund(db, clock, config, gw, mid)
    async with db.uow() as uow:
        escrow = await uow.ledger.balance(ledger.escrow_account(mid))
        assert escrow == RATE * LIMIT + fee(RATE * LIMIT, config.client_fee_bp) == 42_000
    await log(db, clock, config, contract_id, 150, "API")
    await log(db, clock, config, contract_id, 60, "Tests")
    clock.advance(days=7)
    closed, opened, paid = await tick_weeks(db, clock, config)
    assert closed == [week_id] and len(opened) == 1 and paid == []
    async with db.uow() as uow:
        week = await uow.weeks.get(week_id)
        assert (week.logged_minutes, week.invoice) == (210, 14_000)
        assert (await uow.milestones.get(mid)).status is MilestoneStatus.SUBMITTED
        with pytest.raises(NotAllowed):  # never released whole
            await milestones.release(uow, clock, config, CLIENT, mid)
    async with db.uow() as uow:
        split = await hourly.approve_invoice(uow, clock, CLIENT, week_id)
        await uow.commit()
    expected = settlement(40_000, 14_000, config.client_fee_bp, config.freelancer_fee_bp)
    assert split == expected
    await make_calls(db, clock, config, gw)
    assert gw.refunds == [(expected.to_client, refund_key(mid))]
    async with db.uow() as uow:
        assert await uow.ledger.balance(ledger.freelancer_account(FREELANCER)) == 12_600
        assert await uow.ledger.balance(ledger.escrow_account(mid)) == 0
        assert await uow.ledger.balance(ledger.PLATFORM_FEES) == 1_400 + 700
        assert expected.to_client == 26_000 + 1_300
        assert await uow.ledger.total() == 0


async def test_capped_pay_less_and_auto_pay(users, clock, config):
    db, gw = users, RecordingGateway()
    contract_id, week1 = await hourly_hired(db, clock, config)
    await fund(db, clock, config, gw, await week_milestone(db, week1))
    await log(db, clock, config, contract_id, 12 * 60)  # over the 10 h limit
    clock.advance(days=7)
    _, (week2,), _ = await tick_weeks(db, clock, config)
    await fund(db, clock, config, gw, await week_milestone(db, week2))
    async with db.uow() as uow:
        assert (await uow.weeks.get(week1)).invoice == 40_000
        with pytest.raises(DomainError):
            await hourly.pay_less(uow, clock, CLIENT, week1, 40_000, "Same as invoice")
    async with db.uow() as uow:
        split = await hourly.pay_less(uow, clock, CLIENT, week1, 30_000, "Two hours were idle")
        await uow.commit()
    assert split.to_freelancer == 27_000
    await log(db, clock, config, contract_id, 90)
    clock.advance(days=7)
    closed, _, paid = await tick_weeks(db, clock, config)
    assert closed == [week2] and paid == []
    clock.advance(days=config.timesheet_review_days)
    assert (await tick_weeks(db, clock, config))[2] == [week2]
    async with db.uow() as uow:
        w2 = await uow.weeks.get(week2)
        assert (w2.invoice, w2.paid) == (6_000, 6_000)
        assert await uow.ledger.balance(ledger.freelancer_account(FREELANCER)) == 27_000 + 5_400
        assert await uow.ledger.total() == 0


async def test_an_unfunded_week_closes_with_nothing_and_a_closed_week_is_fixed(
    users, clock, config
):
    db, gw = users, RecordingGateway()
    contract_id, week1 = await hourly_hired(db, clock, config)
    mid1 = await week_milestone(db, week1)
    clock.advance(days=7)
    closed, (week2,), _ = await tick_weeks(db, clock, config)
    assert closed == [week1]
    await fund(db, clock, config, gw, await week_milestone(db, week2))
    async with db.uow() as uow:
        assert (await uow.milestones.get(mid1)).status is MilestoneStatus.CANCELLED
        assert await uow.ledger.transactions() != []  # only week 2's funding
        assert await uow.ledger.balance(ledger.escrow_account(mid1)) == 0
    await log(db, clock, config, contract_id, 30)
    with pytest.raises(NotAllowed) as refused:  # last week is closed
        async with db.uow() as uow:
            await hourly.log_time(
                uow,
                clock,
                config,
                FREELANCER,
                contract_id,
                30,
                "late",
                day=(clock.now() - timedelta(days=1)).date(),
            )
    assert refused.value.code == "week_closed"
    async with db.uow() as uow:
        (entry,) = await uow.time_entries.find(contract_id=contract_id)
        await hourly.edit_entry(uow, clock, config, FREELANCER, entry.id, 45, "Fixed memo")
        await uow.commit()
    clock.advance(days=7)
    await tick_weeks(db, clock, config)
    async with db.uow() as uow:
        assert (await uow.weeks.get(week2)).invoice == 3_000  # 45 min at $40
        with pytest.raises(NotAllowed) as refused:
            await hourly.edit_entry(uow, clock, config, FREELANCER, entry.id, 600)
        assert refused.value.code == "week_closed"


async def test_approval_and_the_deadline_at_once_settle_the_week_once(users, clock, config):
    db, gw = users, RecordingGateway()
    contract_id, week_id = await hourly_hired(db, clock, config)
    mid = await week_milestone(db, week_id)
    await fund(db, clock, config, gw, mid)
    await log(db, clock, config, contract_id, 300)
    clock.advance(days=7)
    await tick_weeks(db, clock, config)
    clock.advance(days=config.timesheet_review_days)  # the deadline is due as the client taps

    async def approve() -> bool:
        async with db.uow() as uow:
            try:
                await hourly.approve_invoice(uow, clock, CLIENT, week_id)
            except DomainError:
                return False
            await uow.commit()
            return True

    async def deadline() -> bool:
        async with db.uow() as uow:
            paid = await hourly.auto_pay_due(uow, clock, config)
            await uow.commit()
            return paid == [week_id]

    results = await asyncio.gather(approve(), deadline(), approve(), deadline())
    assert results.count(True) == 1
    await make_calls(db, clock, config, gw)
    async with db.uow() as uow:
        settles = [t.key for t in await uow.ledger.transactions() if t.key.startswith("settle:")]
        assert settles == [ledger.settle_key(mid)]
        assert await uow.ledger.balance(ledger.freelancer_account(FREELANCER)) == 18_000
        assert await uow.ledger.total() == 0
    assert gw.refunds == [(20_000 + 1_000, refund_key(mid))]


async def test_the_week_start_is_a_setting(sqlite_users, clock):
    """GIGBOT_TIMESHEET_WEEK_START=6: weeks run Sunday to Sunday, 00:00 UTC."""
    from dataclasses import replace as with_

    from bot.config import Settings
    from domain.config import MarketConfig

    settings = Settings(timesheet_week_start=6, timesheet_review_days=3)
    assert settings.market_config().timesheet_week_start == 6
    assert settings.market_config().timesheet_review_days == 3
    config = with_(MarketConfig(), timesheet_week_start=6, timesheet_review_days=3)
    db, gw = sqlite_users, RecordingGateway()
    contract_id, week_id = await hourly_hired(db, clock, config)  # Monday 2026-01-05
    async with db.uow() as uow:
        assert (await uow.weeks.get(week_id)).week_start.isoformat() == "2026-01-04T00:00:00+00:00"
    await fund(db, clock, config, gw, await week_milestone(db, week_id))
    await log(db, clock, config, contract_id, 60)
    clock.advance(days=5, hours=14, minutes=59)  # Saturday 23:59
    assert (await tick_weeks(db, clock, config))[0] == []
    clock.advance(minutes=1)  # Sunday 00:00
    assert (await tick_weeks(db, clock, config))[0] == [week_id]
    async with db.uow() as uow:
        week = await uow.weeks.get(week_id)
        assert week.review_until - week.closed_at == timedelta(days=3)
