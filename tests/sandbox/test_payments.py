"""The emulator's Telegram Payments against the real clients: sendInvoice's checks
(title, description, payload, provider token, currency, prices), the pre-checkout
query a tap on Pay makes, answerPreCheckoutQuery once and in time (QUERY_ID_INVALID
otherwise; a refusal needs its reason), and the successful_payment that follows."""

from __future__ import annotations

import pytest
import telegram
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LabeledPrice
from telegram import error as tg_error

from bot.sandbox import Emulator
from bot.sandbox.payments import PRE_CHECKOUT_TTL

from .conftest import CLARA

PRICES = [
    LabeledPrice(label="Milestone: Part 1", amount=10_000),
    LabeledPrice(label="Client fee", amount=500),
]


async def invoice(bot: Bot, **changes: object):  # type: ignore[no-untyped-def]
    args: dict = {
        "chat_id": CLARA,
        "title": "Part 1",
        "description": "Logo for a bakery",
        "payload": "gigbot:payment:1",
        "provider_token": "284685063:TEST:x",
        "currency": "USD",
        "prices": PRICES,
        **changes,
    }
    return await bot.send_invoice(**args)


async def test_send_invoice_checks(started: Emulator, aio_bot: Bot) -> None:
    for changes, reason in (
        ({"title": "x" * 33}, "TITLE_INVALID"),
        ({"description": "x" * 256}, "DESCRIPTION_INVALID"),
        ({"payload": "x" * 129}, "PAYLOAD_INVALID"),
        ({"provider_token": ""}, "PAYMENT_PROVIDER_INVALID"),
        ({"currency": "US"}, "CURRENCY_INVALID"),
        ({"prices": [LabeledPrice(label="Nothing", amount=0)]}, "CURRENCY_TOTAL_AMOUNT_INVALID"),
    ):
        with pytest.raises(TelegramBadRequest, match=reason):
            await invoice(aio_bot, **changes)
    sent = await invoice(aio_bot)
    assert sent.invoice is not None and sent.invoice.total_amount == 10_500
    assert started.payments.invoice(CLARA, sent.message_id).payload == "gigbot:payment:1"


async def test_pre_checkout_then_payment(
    started: Emulator, aio_bot: Bot, ptb_bot: telegram.Bot
) -> None:
    emu = started
    sent = await invoice(aio_bot)
    refused = emu.pay_invoice(CLARA, sent.message_id)
    update = emu.updates[-1]["pre_checkout_query"]
    assert update["invoice_payload"] == "gigbot:payment:1" and update["total_amount"] == 10_500
    with pytest.raises(tg_error.BadRequest, match=r"(?i)error_message_empty"):
        await ptb_bot.answer_pre_checkout_query(refused.id, ok=False)
    assert await ptb_bot.answer_pre_checkout_query(refused.id, ok=False, error_message="Changed")
    assert refused.answered and refused.error_message == "Changed" and refused.payment is None
    with pytest.raises(tg_error.BadRequest, match=r"(?i)query_id_invalid"):
        await ptb_bot.answer_pre_checkout_query(refused.id, ok=True)

    paid = emu.pay_invoice(CLARA, sent.message_id)
    assert await aio_bot.answer_pre_checkout_query(paid.id, ok=True)
    assert paid.payment is not None
    charge = paid.payment["successful_payment"]
    assert charge["total_amount"] == 10_500 and charge["invoice_payload"] == "gigbot:payment:1"
    assert charge["provider_payment_charge_id"].startswith("ch_")
    assert emu.updates[-1]["message"]["successful_payment"] == charge
    emu.payments.deliver_again(paid.id)  # the same message, a new update
    assert emu.updates[-1]["message"] == emu.updates[-2]["message"]
    assert emu.updates[-1]["update_id"] == emu.updates[-2]["update_id"] + 1


async def test_an_old_pre_checkout_cannot_be_answered(emu: Emulator, aio_bot: Bot) -> None:
    now = [500.0]
    emu.clock = lambda: now[0]
    emu.send_text(CLARA, "/start")
    sent = await invoice(aio_bot)
    asked = emu.pay_invoice(CLARA, sent.message_id)
    now[0] += PRE_CHECKOUT_TTL + 1
    with pytest.raises(TelegramBadRequest, match="QUERY_ID_INVALID"):
        await aio_bot.answer_pre_checkout_query(asked.id, ok=True)


async def test_an_invoice_stays_payable_after_a_restart(tmp_path) -> None:
    from tests.sandbox.test_persist import running

    state = tmp_path / "sandbox.db"
    async with running(state) as (emu, bot):
        emu.add_user("Clara", user_id=CLARA, started=True)
        sent = await invoice(bot)
    async with running(state) as (emu, bot):
        kept = emu.payments.invoice(CLARA, sent.message_id)
        assert kept.payload == "gigbot:payment:1" and kept.total == 10_500
        asked = emu.pay_invoice(CLARA, sent.message_id)
        assert await bot.answer_pre_checkout_query(asked.id, ok=True)
        assert asked.payment is not None
