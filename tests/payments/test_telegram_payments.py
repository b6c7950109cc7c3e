"""GIGBOT_PAYMENTS=telegram end to end, through the REAL frameworks (aiogram and
python-telegram-bot, long polling) against the Bot API emulator, with the real
Runtime; Stripe is Telegram's payment provider: the emulator charges the card at
the Stripe test server (localstripe), our refunds go to Stripe's API through the
stand-in (issue 18, part 2).

Fia funds a milestone: an invoice with the milestone and the fee as price lines.
A second invoice whose milestone was cancelled in between is refused at
pre-checkout with the reason; the first is paid, funded once although Telegram
delivers its successful_payment twice, Telegram's and Stripe's charge ids kept;
then Gus refunds it and the money goes back on the Stripe charge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from domain import ledger
from domain.states import MilestoneStatus
from domain.usecases import milestones
from storage.database import Database
from tests.e2e.harness import ADA, FRAMEWORKS, make_emulator, serve_emulator
from tests.e2e.story_steps import Stage, running, visible
from tests.e2e.test_capabilities import World, open_contract
from tests.e2e.test_runtime import settings_for
from tests.payments.stripe_servers import API_KEY, WEBHOOK_SECRET
from tests.payments.stripe_standin import StandIn

PROVIDER_TOKEN = "284685063:TEST:gigbot-stripe"


async def localstripe_json(base: str, method: str, path: str, **form: str) -> dict:
    async with aiohttp.ClientSession() as http:
        async with http.request(
            method, base + path, data=form or None, headers={"Authorization": f"Bearer {API_KEY}"}
        ) as r:
            body = await r.json()
            assert r.status == 200, body
            return body


@pytest.fixture(params=FRAMEWORKS)
async def world(request, tmp_path, localstripe) -> AsyncIterator[tuple[World, StandIn, str]]:
    standin = StandIn(localstripe_url=localstripe)
    server = TestServer(standin.app(), host="127.0.0.1")
    await server.start_server()
    stripe_base = str(server.make_url("")).rstrip("/")
    emu = make_emulator()

    async def stripe_charges(amount: int, currency: str, token: str) -> str:
        # Telegram's provider (Stripe) takes the card: a real charge at the test server.
        assert token == PROVIDER_TOKEN
        intent = await localstripe_json(
            localstripe,
            "POST",
            "/v1/payment_intents",
            amount=str(amount),
            currency=currency.lower(),
            payment_method="pm_card_visa",
            confirm="true",
        )
        charge = intent.get("latest_charge") or intent["charges"]["data"][0]
        return str(charge["id"] if isinstance(charge, dict) else charge)

    emu.payments.provider = stripe_charges
    async with serve_emulator(emu) as api_base:
        plain = settings_for(request.param, "polling", api_base, emu.token, tmp_path / "t.db")
        settings = plain.model_copy(
            update={
                "payments": "telegram",
                "telegram_provider_token": PROVIDER_TOKEN,
                "stripe_secret_key": API_KEY,
                "stripe_webhook_secret": WEBHOOK_SECRET,
                "stripe_api_base": stripe_base,
            }
        )
        async with running(settings) as rt:
            db = Database(settings.database_url)
            stage = Stage(emu)
            await stage.send(ADA, "/start")
            await stage.sees(ADA, "Welcome to Gigbot")
            try:
                yield World(emu, rt, db, stage), standin, localstripe
            finally:
                await db.dispose()
    await standin.close()
    await server.close()


async def invoice_in(w: World, who: int, after: int) -> dict:
    return await w.emu.wait_for_message(who, lambda m: "invoice" in m, after=after)


def last_id(w: World, who: int) -> int:
    return max((m["message_id"] for m in w.emu.messages(who)), default=0)


async def test_a_funding_paid_inside_telegram_refused_paid_once_and_refunded(world) -> None:
    w, standin, localstripe = world
    s, emu = w.stage, w.emu
    fia = await w.join("Fia", "client")
    gus = await w.join("Gus", "freelancer")
    _, (m1, m2) = await w.hired(fia, gus, "Telegram pay contract", (10_000, 20_000))

    # --- funding #1 sends an invoice: the milestone and the fee as price lines ---------
    await open_contract(w, fia, "Telegram pay contract")
    await s.press(fia, "💳 Fund #1")
    await s.sees(fia, "Milestone: $100.00", "Client fee (5%): $5.00", "Total to pay: $105.00")
    before = last_id(w, fia)
    await s.press(fia, "💳 Pay $105.00")
    first = await invoice_in(w, fia, before)
    assert first["invoice"]["total_amount"] == 10_500 and first["invoice"]["currency"] == "USD"
    assert first["invoice"]["title"] == "Part 1"
    sent = emu.payments.invoice(fia, first["message_id"])
    assert [(p["label"], p["amount"]) for p in sent.prices] == [
        ("Milestone: Part 1", 10_000),
        ("Client fee", 500),
    ]
    assert sent.provider_token == PROVIDER_TOKEN
    await s.sees(fia, "The invoice for Part 1 is below")

    # --- Pay tapped again: the same payment's invoice once more (one of them can be paid) -----
    await open_contract(w, fia, "Telegram pay contract")
    await s.press(fia, "💳 Fund #1")
    before = last_id(w, fia)
    await s.press(fia, "💳 Pay $105.00")
    copy = await invoice_in(w, fia, before)
    assert emu.payments.invoice(fia, copy["message_id"]).payload == sent.payload

    # --- invoice #2, then the milestone is cancelled in between: refused at pre-checkout ---
    await open_contract(w, fia, "Telegram pay contract")
    await s.press(fia, "💳 Fund #2")
    before = last_id(w, fia)
    await s.press(fia, "💳 Pay $210.00")
    second = await invoice_in(w, fia, before)
    async with w.db.uow() as uow:
        await milestones.cancel_milestone(uow, w.clock, fia, m2)
        await uow.commit()
    refused = await emu.wait_for_pre_checkout_answer(emu.pay_invoice(fia, second["message_id"]).id)
    assert refused.ok is False and refused.payment is None
    assert refused.error_message == (
        "This milestone no longer needs this payment (it was funded, cancelled or the "
        "invoice ended)."
    )

    # --- invoice #1 paid: funded, both told, the charge ids kept ------------------------------
    s._mark(fia)
    s._mark(gus)
    paid = await emu.wait_for_pre_checkout_answer(emu.pay_invoice(fia, first["message_id"]).id)
    assert paid.ok is True and paid.payment is not None
    await s.sees(fia, "is funded.", "In escrow: $100.00 + $5.00 client fee")
    await s.sees(gus, "funded “Part 1” ($100.00)")
    facts = paid.payment["successful_payment"]
    async with w.db.uow() as uow:
        [payment] = await uow.payments.find(milestone_id=m1)
        payment = replace(payment)
        assert (await uow.milestones.get(m2)).status is MilestoneStatus.CANCELLED
        assert not await uow.ledger.has(ledger.fund_key(m2))
    assert payment.gateway == "telegram" and payment.status == "succeeded"
    assert payment.charge_ref == facts["provider_payment_charge_id"]
    assert payment.charge_ref.startswith("ch_")
    assert payment.telegram_charge_id == facts["telegram_payment_charge_id"]

    # The copy of invoice #1 can no longer be paid: its payment is settled.
    late = await emu.wait_for_pre_checkout_answer(emu.pay_invoice(fia, copy["message_id"]).id)
    assert late.ok is False and late.payment is None

    # --- Telegram delivers the successful_payment again: applied once -------------------------
    emu.payments.deliver_again(paid.id)
    await s.send(fia, "/balance")  # one person's updates are handled in order
    await s.sees(fia, "alance")
    funded_notes = [m for m in emu.messages(fia) if "is funded." in visible(m)]
    assert len(funded_notes) == 1
    async with w.db.uow() as uow:
        assert await uow.ledger.balance(ledger.escrow_account(m1)) == 10_500
        assert len(await uow.payments.find(milestone_id=m1, status="succeeded")) == 1

    # --- Gus refunds it: the Refunds API on the Stripe charge ----------------------------------
    await open_contract(w, gus, "Telegram pay contract")
    await s.press(gus, "↩️ Refund #1")
    await s.press(gus, "↩️ Yes, refund")
    await s.sees(fia, "refund")
    charge = await emu.wait_for(
        lambda: next((r for r in standin.requests if r.path == "/v1/refunds"), None), 10
    )
    assert charge is not None
    body = await localstripe_json(localstripe, "GET", f"/v1/charges/{payment.charge_ref}")
    assert body["amount_refunded"] == 10_500
    assert standin.violations == []
