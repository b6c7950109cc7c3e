"""Hourly contracts with "no limit" (the client's explicit choice) through the use
cases, on SQLite and PostgreSQL: nothing pre-funded, each week's uncapped invoice
paid through the same checkout within the review window, logging paused while an
invoice is overdue, ending the contract invoices the open week; and the weekly
tick reads only the contracts that can open a week."""

from domain import ledger
from domain.errors import NotAllowed
from domain.fees import settlement
from domain.states import ContractStatus, MilestoneStatus
from domain.timesheet import INVOICE_KIND, NO_LIMIT
from domain.usecases import contracts, hourly
from tests.sql_log import SqlLog
from tests.usecases.conftest import CLIENT, FREELANCER
from tests.usecases.hourly_story import RATE, hourly_hired, log, tick_weeks, week_milestone
from tests.usecases.story import RecordingGateway, fund, make_calls


async def _refused(db, clock, config, contract_id: int) -> str:
    try:
        await log(db, clock, config, contract_id, 30)
    except NotAllowed as refused:
        return refused.code
    return ""


async def test_no_limit_weeks_are_invoiced_uncapped_and_paid_by_checkout(users, clock, config):
    db, gw = users, RecordingGateway()
    contract_id, week1 = await hourly_hired(db, clock, config, limit=NO_LIMIT)
    async with db.uow() as uow:
        assert await uow.milestones.find(contract_id=contract_id) == []  # nothing pre-funded
        assert (await uow.weeks.get(week1)).milestone_id is None
    await log(db, clock, config, contract_id, 12 * 60, "More than any limit")  # no funding needed
    clock.advance(days=7)
    closed, (week2,), paid = await tick_weeks(db, clock, config)
    assert closed == [week1] and paid == []
    mid1 = await week_milestone(db, week1)
    async with db.uow() as uow:
        week = await uow.weeks.get(week1)
        assert (week.billed_minutes, week.invoice) == (720, 12 * RATE)  # uncapped
        m = await uow.milestones.get(mid1)
        assert (m.kind, m.status, m.amount) == (INVOICE_KIND, MilestoneStatus.PENDING, 48_000)
    await log(db, clock, config, contract_id, 60)  # within the first invoice's window
    await fund(db, clock, config, gw, mid1)  # the client pays the invoice: same checkout
    expected = settlement(48_000, 48_000, config.client_fee_bp, config.freelancer_fee_bp)
    async with db.uow() as uow:
        week = await uow.weeks.get(week1)
        assert (week.paid, week.settled_at is not None) == (48_000, True)
        assert (await uow.milestones.get(mid1)).status is MilestoneStatus.RELEASED
        assert await uow.ledger.balance(ledger.freelancer_account(FREELANCER)) == (
            expected.to_freelancer
        )
        assert await uow.ledger.balance(ledger.escrow_account(mid1)) == 0
        assert await uow.ledger.total() == 0
    await make_calls(db, clock, config, gw)
    assert gw.refunds == []  # nothing unused to return

    # Week 2 goes unpaid past its window: logging pauses, both told once.
    clock.advance(days=7)
    assert (await tick_weeks(db, clock, config))[0] == [week2]
    mid2 = await week_milestone(db, week2)
    assert await _refused(db, clock, config, contract_id) == ""  # still within the window
    clock.advance(days=config.timesheet_review_days)
    async with db.uow() as uow:
        assert await hourly.auto_pay_due(uow, clock, config) == []  # nothing held to pay from
        assert [e.kind for e in uow.events] == ["invoice_overdue"]
        await uow.commit()
    async with db.uow() as uow:
        await hourly.auto_pay_due(uow, clock, config)
        assert uow.events == []  # told once
        assert (await uow.weeks.get(week2)).overdue_at is not None
    assert await _refused(db, clock, config, contract_id) == "invoice_overdue"
    await fund(db, clock, config, gw, mid2)  # paid late: logging resumes
    async with db.uow() as uow:
        assert (await uow.weeks.get(week2)).paid == RATE  # the hour logged in week 2
    assert await _refused(db, clock, config, contract_id) == ""
    async with db.uow() as uow:
        assert await uow.ledger.total() == 0


async def test_ending_a_no_limit_contract_invoices_the_open_week(users, clock, config):
    db, gw = users, RecordingGateway()
    contract_id, week1 = await hourly_hired(db, clock, config, limit=NO_LIMIT)
    await log(db, clock, config, contract_id, 90)
    async with db.uow() as uow:
        await contracts.end_contract(uow, clock, config, CLIENT, contract_id)
        assert next(e.kind for e in uow.events) == "invoice_issued"
        await uow.commit()
    mid = await week_milestone(db, week1)
    async with db.uow() as uow:
        assert (await uow.contracts.get(contract_id)).status is ContractStatus.ENDED
        assert (await uow.weeks.get(week1)).invoice == 6_000  # logged time is not lost
        assert (await uow.milestones.get(mid)).status is MilestoneStatus.PENDING  # payable
    await fund(db, clock, config, gw, mid)  # paid after the end
    async with db.uow() as uow:
        assert (await uow.weeks.get(week1)).paid == 6_000
        assert await uow.ledger.balance(ledger.freelancer_account(FREELANCER)) == (
            settlement(6_000, 6_000, config.client_fee_bp, config.freelancer_fee_bp).to_freelancer
        )


async def test_a_no_limit_week_with_nothing_logged_closes_with_nothing_to_pay(users, clock, config):
    db, _ = users, RecordingGateway()
    contract_id, week1 = await hourly_hired(db, clock, config, limit=NO_LIMIT)
    clock.advance(days=7)
    assert (await tick_weeks(db, clock, config))[0] == [week1]
    async with db.uow() as uow:
        week = await uow.weeks.get(week1)
        assert (week.milestone_id, week.invoice, week.paid) == (None, 0, 0)
        assert week.settled_at is not None
    assert await _refused(db, clock, config, contract_id) == ""


async def test_the_weekly_tick_reads_only_contracts_that_can_open_a_week(users, clock, config):
    """Ended hourly contracts cost the tick nothing: the statements it runs do not
    grow with them (it used to count weeks once per hourly contract ever made)."""
    db = users
    ended: list[int] = []

    async def end_more(n: int) -> None:
        for _ in range(n):
            contract_id, _ = await hourly_hired(db, clock, config)
            async with db.uow() as uow:
                await contracts.end_contract(uow, clock, config, CLIENT, contract_id)
                await uow.commit()
            ended.append(contract_id)

    sizes = []
    for n in (1, 5):
        await end_more(n)
        clock.advance(days=7)
        with SqlLog(db.engine) as log:
            async with db.uow() as uow:
                assert await hourly.open_weeks_due(uow, clock, config) == []
        sizes.append(len(log.statements))
    assert len(ended) == 6 and sizes[0] == sizes[1]
