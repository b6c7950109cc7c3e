"""Hourly contracts in chat over two weeks (issue 13, part 1): the hourly offer,
the weekly escrow funded through the sandbox checkout, time logged by command and
by buttons, the first invoice approved, the second paid automatically, the unused
escrow refunded — every amount in every message read back from the ledger."""

from __future__ import annotations

import pytest

from domain import ledger
from domain.entities import Job
from domain.states import ContractStatus, JobStatus
from domain.usecases import contracts
from handlers.callbacks import encode
from handlers.render import money
from tests.flows.harness import Harness
from tests.flows.test_offers import (
    add_pitch,
    all_of,
    confirm_paid,
    fund,
    label,
    money_harness,
    news,
    people,
    start_payment,
)

JOB_TITLE = "Backend <API> & ops"


@pytest.fixture
def h(db, clock) -> Harness:
    return money_harness(db, clock)


async def hourly_job(h: Harness, client) -> int:  # type: ignore[no-untyped-def]
    async with h.db.uow() as uow:
        job = await uow.jobs.add(
            Job(
                client_id=client.id,
                title=JOB_TITLE,
                description="Ongoing backend work, by the hour.",
                budget_type="hourly",
                budget=4_000,
                status=JobStatus.OPEN,
                created_at=h.clock.now(),
                published_at=h.clock.now(),
            )
        )
        await uow.commit()
    return job.id  # type: ignore[return-value]


async def balance(h: Harness, account: str) -> int:
    async with h.db.uow() as uow:
        return await uow.ledger.balance(account)


def usd(amount: int) -> str:
    return money(amount, "USD")


async def hourly_deal(h: Harness, lang: str):  # type: ignore[no-untyped-def]
    carla, fred = await people(h, lang, lang)
    job_id = await hourly_job(h, carla)
    pitch_id = await add_pitch(h, job_id, fred)
    async with h.db.uow() as uow:
        (await uow.pitches.get(pitch_id)).price = 4_000  # $40 an hour
        await uow.commit()
    await h.press_data(carla, encode("of", "hire", pitch_id))
    assert "$40.00" in h.last(carla).text
    await h.press(carla, label("ts.btn.limit", lang, h=10))
    review = h.last(carla).text
    assert all(s in review for s in ("$40.00", "$400.00", "$20.00", "$420.00"))
    await h.press(carla, label("ts.btn.send", lang))
    (contract,) = await all_of(h, "contracts")
    offer = h.last(fred).text
    assert "$40.00" in offer and "$400.00" in offer
    await h.press_data(fred, encode("of", "accept", contract.id))
    return carla, fred, contract.id


async def week_escrow(h: Harness, contract_id: int, n: int) -> int:
    weeks = await all_of(h, "weeks", contract_id=contract_id)
    return sorted(weeks, key=lambda w: w.week_start)[n].milestone_id


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_two_weeks_logged_approved_auto_paid_and_the_rest_refunded(h, lang):
    carla, fred, cid = await hourly_deal(h, lang)
    await h.tick()  # the first week opens: its escrow is asked for
    mid1 = await week_escrow(h, cid, 0)
    assert label("ts.btn.fund", lang) in h.last(carla).labels()
    assert "$400.00" in h.last(carla).text and "$420.00" in h.last(carla).text
    await h.send(fred, "/log 1h")
    assert h.last(fred).text == label("error.week_not_funded", lang)

    await fund(h, carla, mid1)
    assert await balance(h, ledger.escrow_account(mid1)) == 42_000
    await h.send(fred, "/log 2h30 API <endpoints>")
    assert "API &lt;endpoints&gt;" in h.last(fred).html
    await h.send(fred, "/log")
    await h.press(fred, label("ts.btn.today", lang, time=label("ts.hours", lang, h=1)))
    await h.send(fred, "Tests")
    week_line = label("ts.hm", lang, h=3, m="30")
    assert week_line in h.last(fred).text
    await h.send(fred, "/timesheet")
    assert "Tests" in h.last(fred).text and week_line in h.last(fred).text

    h.clock.advance(days=7)
    await h.tick()  # week 1 closes into its invoice; week 2 opens
    invoice = next(m for m in h.chat(carla) if "$140.00" in m.text)
    assert "$400.00" in invoice.text
    await h.press_data(carla, encode("ts", "approve", 1))
    net1 = await balance(h, ledger.freelancer_account(fred.id))
    (refund1,) = await all_of(h, "gateway_calls", kind="refund", milestone_id=mid1)
    assert (net1, refund1.amount) == (12_600, 26_000 + 1_300)
    assert usd(net1) in h.texts(fred)[-1] or any(usd(net1) in t for t in h.texts(fred)[-3:])
    assert any(usd(refund1.amount) in t for t in h.texts(carla)[-3:])
    assert refund1.status == "done"
    assert await balance(h, ledger.escrow_account(mid1)) == 0

    mid2 = await week_escrow(h, cid, 1)
    await fund(h, carla, mid2)
    await h.send(fred, "/log 1:30 Deploy")
    h.clock.advance(days=7)
    await h.tick()
    assert any("$60.00" in t for t in h.texts(carla)[-4:])
    h.clock.advance(days=h.config.timesheet_review_days)
    await h.tick()  # unanswered: paid automatically
    net2 = await balance(h, ledger.freelancer_account(fred.id)) - net1
    (refund2,) = await all_of(h, "gateway_calls", kind="refund", milestone_id=mid2)
    assert (net2, refund2.amount) == (5_400, 34_000 + 1_700)
    assert any(usd(net2) in t for t in h.texts(fred)[-4:])
    assert any(usd(refund2.amount) in t for t in h.texts(carla)[-4:])
    async with h.db.uow() as uow:
        assert await uow.ledger.total() == 0
        assert await uow.ledger.balance(ledger.PLATFORM_FEES) == (1_400 + 700) + (600 + 300)


async def test_pay_less_with_a_reason_and_the_week_buttons_refuse_a_whole_release(h):
    carla, fred, cid = await hourly_deal(h, "en")
    await h.tick()
    mid = await week_escrow(h, cid, 0)
    await fund(h, carla, mid)
    await h.send(fred, "/log 4h Work")
    h.clock.advance(days=7)
    await h.tick()
    await h.press_data(carla, encode("ts", "less", 1))
    await h.send(carla, "100")
    await h.send(carla, "One hour was a <meeting>")
    net = await balance(h, ledger.freelancer_account(fred.id))
    assert net == 9_000
    assert any("$90.00" in t for t in h.texts(fred)[-3:])
    assert any("One hour was a &lt;meeting&gt;" in m.html for m in h.chat(fred)[-3:])
    (refund,) = await all_of(h, "gateway_calls", kind="refund", milestone_id=mid)
    assert refund.amount == 30_000 + 1_500  # $300 unused + the fee on it


async def test_closing_the_week_now_lets_an_hourly_contract_end(h):
    carla, fred, cid = await hourly_deal(h, "en")
    await h.tick()
    mid = await week_escrow(h, cid, 0)
    await fund(h, carla, mid)
    await h.send(fred, "/log 2h Setup")
    await h.press_data(carla, encode("ct", "view", cid))
    card = h.last(carla)
    assert label("ts.btn.timesheet") in card.labels()
    assert label("contracts.btn.add_milestone") not in card.labels()
    await h.send(fred, "/timesheet")
    await h.press(fred, label("ts.btn.close_now"))
    assert "$80.00" in h.texts(carla)[-1]  # the invoice, at once
    await h.press_data(carla, encode("ct", "view", cid))
    labels = h.last(carla).labels()
    assert not any("Release" in x or "Review" in x for x in labels), labels
    await h.press(carla, label("ts.btn.approve"))
    async with h.db.uow() as uow:
        contract = await contracts.end_contract(uow, h.clock, h.config, carla.id, cid)
        await uow.commit()
    assert contract.status is ContractStatus.ENDED
    assert await balance(h, ledger.freelancer_account(fred.id)) == 7_200
    await h.tick()  # an ended contract opens no more weeks
    assert len(await all_of(h, "weeks", contract_id=cid)) == 1


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_failed_weekly_funding_keeps_logging_paused_and_both_are_told(h, lang):
    carla, fred, cid = await hourly_deal(h, lang)
    await h.tick()
    mid = await week_escrow(h, cid, 0)
    await start_payment(h, carla, mid)
    (payment,) = await all_of(h, "payments")
    assert await news(h).failed("sandbox", payment.external_id, "card_declined")
    await h.deliver()
    assert h.last(fred).text == label("ts.notify.payment_failed", lang).format(
        title=JOB_TITLE, week="2026-01-05"
    )
    assert label("funding.btn.retry", lang) in h.last(carla).labels()
    await h.send(fred, "/log 1h")
    assert h.last(fred).text == label("error.week_not_funded", lang)
    await h.press(carla, label("funding.btn.retry", lang))
    total = usd(42_000)
    await h.press(carla, label("funding.btn.pay", lang, total=total))
    assert await confirm_paid(h, mid)
    await h.send(fred, "/log 1h")
    assert label("ts.hours", lang, h=1) in h.last(fred).text
