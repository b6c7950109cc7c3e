"""Hourly contracts with "no limit" in chat (issue 13, part 1), in English and
Russian: the client's ♾ No limit button and its warning, the freelancer's warning
on the offer, time logged with nothing pre-funded, the week's uncapped invoice
paid through the same checkout, an unpaid invoice pausing logging once its
window ends; and 🗑 deleting an entry from /timesheet while the week is open."""

from __future__ import annotations

import re

import pytest

from domain import ledger
from domain.fees import settlement
from handlers.callbacks import encode
from handlers.helpers import percent
from tests.flows.harness import Harness
from tests.flows.test_offers import (
    add_pitch,
    all_of,
    fund,
    label,
    money_harness,
    news,
    people,
    start_payment,
)
from tests.flows.test_timesheet import JOB_TITLE, balance, hourly_job, usd, week_escrow


def shown(key: str, lang: str, **params: object) -> str:
    """A catalog text as the person reads it: its own tags gone, the values as given."""
    marks = {name: f"\x00{i}\x00" for i, name in enumerate(params)}
    text = re.sub(r"<[^>]+>", "", label(key, lang, **marks))
    for name, mark in marks.items():
        text = text.replace(mark, str(params[name]))
    return text


@pytest.fixture
def h(db, clock) -> Harness:
    return money_harness(db, clock)


async def no_limit_deal(h: Harness, lang: str):  # type: ignore[no-untyped-def]
    carla, fred = await people(h, lang, lang)
    job_id = await hourly_job(h, carla)
    pitch_id = await add_pitch(h, job_id, fred)
    async with h.db.uow() as uow:
        (await uow.pitches.get(pitch_id)).price = 4_000  # $40 an hour
        await uow.commit()
    await h.press_data(carla, encode("of", "hire", pitch_id))
    await h.press(carla, label("ts.btn.no_limit", lang))
    review = h.last(carla).text
    days = h.config.timesheet_review_days
    assert shown("ts.terms_nolimit", lang, rate=usd(4_000)) in review
    warning = shown(
        "ts.offer.nolimit_client", lang, percent=percent(h.config.client_fee_bp), days=days
    )
    assert warning in review
    await h.press(carla, label("ts.btn.send", lang))
    (contract,) = await all_of(h, "contracts")
    assert await all_of(h, "milestones", contract_id=contract.id) == []  # nothing pre-funded
    offer = h.last(fred).text
    assert shown("ts.offer.nolimit_warning", lang, days=days) in offer
    await h.press_data(fred, encode("of", "accept", contract.id))
    # Neither is told to fund anything: nothing is pre-funded.
    assert shown("ts.accepted_you_nolimit", lang, title=JOB_TITLE) in h.texts(fred)[-2:]
    head, tail = shown("ts.notify.accepted_nolimit", lang, name="|", title=JOB_TITLE).split("|")
    assert any(t.startswith(head) and t.endswith(tail) for t in h.texts(carla)[-3:])
    assert not any(
        label("ts.btn.fund", lang) in m.labels() or "💳" in " ".join(m.labels())
        for m in h.chat(carla)[-3:]
    )
    return carla, fred, contract.id


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_no_limit_invoices_are_paid_by_checkout_and_an_unpaid_one_pauses_logging(h, lang):
    carla, fred, cid = await no_limit_deal(h, lang)
    await h.tick()  # the week opens: nothing to fund
    await h.send(fred, "/log 12h Migration")  # no funding, no cap
    assert shown("ts.week_total_nolimit", lang, time=label("ts.hours", lang, h=12)) in (
        h.last(fred).text
    )

    h.clock.advance(days=7)
    await h.tick()  # week 1 closes into its invoice, uncapped
    mid1 = await week_escrow(h, cid, 0)
    invoice = h.last(carla)
    assert usd(48_000) in invoice.text and usd(48_000 + 2_400) in invoice.text
    assert label("ts.btn.pay_invoice", lang) in invoice.labels()
    assert any(usd(48_000) in t for t in h.texts(fred)[-2:])
    await h.send(fred, "/log 1h Review")  # within the invoice's window: logging goes on
    assert label("ts.hours", lang, h=1) in h.last(fred).text

    await start_payment(h, carla, mid1)  # a declined card: the freelancer logs on
    (declined,) = await all_of(h, "payments", milestone_id=mid1)
    seen = len(h.chat(fred))
    assert await news(h).failed("sandbox", declined.external_id, "card_declined")
    await h.deliver()
    assert len(h.chat(fred)) == seen  # no "logging is paused" for an invoice in its window
    await fund(h, carla, mid1)  # the client pays the invoice through the checkout
    net = settlement(48_000, 48_000, h.config.client_fee_bp, h.config.freelancer_fee_bp)
    assert await balance(h, ledger.freelancer_account(fred.id)) == net.to_freelancer == 43_200
    assert any(usd(net.to_freelancer) in t for t in h.texts(fred)[-3:])
    assert any(
        t
        == shown(
            "ts.notify.paid_invoice_client",
            lang,
            paid=usd(48_000),
            week="2026-01-05",
            title=JOB_TITLE,
        )
        for t in h.texts(carla)[-3:]
    )
    assert await all_of(h, "gateway_calls", kind="refund") == []  # nothing held to return

    h.clock.advance(days=7)
    await h.tick()  # week 2 (1 h) invoiced
    mid2 = await week_escrow(h, cid, 1)
    h.clock.advance(days=h.config.timesheet_review_days)
    await h.tick()  # unpaid past its window: logging pauses, both told
    told = {"invoice": usd(4_000), "week": "2026-01-12", "title": JOB_TITLE}
    assert h.last(fred).text == shown("ts.notify.overdue_freelancer", lang, **told)
    assert h.last(carla).text == shown("ts.notify.overdue_client", lang, **told)
    assert label("ts.btn.pay_invoice", lang) in h.last(carla).labels()
    await h.send(fred, "/log 1h")
    assert h.last(fred).text == label("error.invoice_overdue", lang)
    await h.tick()
    assert h.last(fred).text == label("error.invoice_overdue", lang)  # told once

    await fund(h, carla, mid2)  # paid late: logging resumes
    await h.send(fred, "/log 1h")
    assert label("ts.hours", lang, h=1) in h.last(fred).text
    async with h.db.uow() as uow:
        assert await uow.ledger.total() == 0


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_an_entry_is_deleted_from_the_timesheet_while_the_week_is_open(h, lang):
    carla, fred, cid = await no_limit_deal(h, lang)
    await h.tick()
    await h.send(fred, "/log 2h API")
    await h.send(fred, "/log 45m Oops <typo>")
    await h.send(fred, "/timesheet")
    sheet = h.last(fred)
    assert "Oops <typo>" in sheet.text
    assert label("ts.btn.delete_n", lang, n=2) in sheet.labels()
    assert label("ts.btn.delete_n", lang, n=1) not in h.last(carla).labels()
    await h.press(fred, label("ts.btn.delete_n", lang, n=2))
    sheet = h.last(fred)
    assert "Oops" not in sheet.text and "API" in sheet.text
    assert shown("ts.week_total_nolimit", lang, time=label("ts.hours", lang, h=2)) in sheet.text
    (entry,) = await all_of(h, "time_entries", contract_id=cid)
    assert (entry.minutes, entry.memo) == (120, "API")
    h.clock.advance(days=7)
    await h.tick()  # the week closed: no 🗑 on it any more
    await h.press_data(fred, encode("ts", "week", cid, 1))
    assert not any("🗑" in x for x in h.last(fred).labels())
    async with h.db.uow() as uow:
        assert (await uow.weeks.find(contract_id=cid, order_by="week_start"))[0].invoice == 8_000
