"""The sandbox page's payment sheet (issue 18, part 2), in headless Chromium against
the emulator: an invoice the bot sent (aiogram's sendInvoice) shows its Pay
button; the sheet lists the price lines and the total; Decline closes it without
asking the bot; Pay sends the pre-checkout query, whose refusal shows on the
sheet, and whose approval charges: the "Paid" message appears in the chat."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import LabeledPrice

from bot.sandbox import Emulator, create_sandbox_app
from tests.browser.test_webchat import ARTIFACTS, TIMEOUT_MS, column
from tests.e2e.harness import serve

TOKEN = "123456789:AAsheet-test-token_1"
CLARA = 1001


async def test_the_payment_sheet_pay_and_decline(browser: Any) -> None:
    from playwright.async_api import expect

    emu = Emulator(TOKEN, admin_user_ids=[1003])
    emu.add_user("Clara (client)", user_id=CLARA, username="clara_client", started=True)
    emu.add_user("Felix (freelancer)", user_id=1002, username="felix_freelancer", started=True)
    emu.add_user("Ada (admin)", user_id=1003, username="ada_admin", started=True)
    async with serve(create_sandbox_app(emu)) as url:
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))
        try:
            await bot.send_invoice(
                CLARA,
                title="Part 1",
                description="Logo for a bakery. Held in escrow until you release it.",
                payload="gigbot:payment:7",
                provider_token="284685063:TEST:sheet",
                currency="USD",
                prices=[
                    LabeledPrice(label="Milestone: Part 1", amount=10_000),
                    LabeledPrice(label="Client fee", amount=500),
                ],
            )
            page = await browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)
            await page.goto(f"{url}/")
            clara = column(page, "Clara")
            await clara.locator(".invoice-pay", has_text="Pay $105.00").click()
            sheet = clara.locator(".payment-sheet")
            await expect(sheet.locator(".sheet-line")).to_have_text(
                ["Milestone: Part 1$100.00", "Client fee$5.00", "Total$105.00"]
            )
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "payment-sheet.png"))

            # Decline: the sheet closes, the bot is not asked.
            await sheet.locator(".sheet-decline").click()
            await expect(sheet).to_have_count(0)
            assert emu.payments.pre_checkouts == {}

            # Pay: the bot refuses with a reason, shown on the sheet.
            await clara.locator(".invoice-pay").click()
            await sheet.locator(".sheet-pay").click()
            asked = await emu.wait_for(lambda: _open_query(emu), TIMEOUT_MS / 1000)
            assert asked.invoice.payload == "gigbot:payment:7" and asked.invoice.total == 10_500
            await bot.answer_pre_checkout_query(
                asked.id, ok=False, error_message="This milestone no longer needs this payment."
            )
            await expect(sheet.locator(".sheet-error")).to_have_text(
                "This milestone no longer needs this payment."
            )

            # Pay again: approved, charged, the sheet closes and the payment shows.
            await sheet.locator(".sheet-pay").click()
            again = await emu.wait_for(lambda: _open_query(emu), TIMEOUT_MS / 1000)
            assert again.id != asked.id
            assert await bot.answer_pre_checkout_query(again.id, ok=True)
            await expect(sheet).to_have_count(0)
            await expect(clara.locator(".bubble .paid")).to_have_text("✅ Paid $105.00")
            paid = emu.messages(CLARA)[-1]["successful_payment"]
            assert paid["invoice_payload"] == "gigbot:payment:7"
            await page.close()
        finally:
            await bot.session.close()


def _open_query(emu: Emulator) -> Any:
    return next((q for q in emu.payments.pre_checkouts.values() if q.ok is None), None)
