"""The payments as the runtime wires them: notifications through the real
registry (handlers/notify.py), and build_stripe's routes."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.payments.confirm import PaymentNews
from bot.payments.sandbox import SandboxGateway
from bot.payments.setup import CONNECT_REFRESH_PATH, build_stripe
from domain.usecases.payments import start_funding
from handlers.system import SystemRunner
from tests.payments.market import CONFIG, make_deal


async def test_a_sandbox_payment_notifies_through_the_registry(db, clock) -> None:
    gateway = SandboxGateway("http://127.0.0.1:8080", "k")
    runner = SystemRunner(db.uow, clock, CONFIG, gateway=gateway)  # the real renderers
    deal = await make_deal(db, clock)
    async with db.uow() as uow:
        payment = await start_funding(
            uow, clock, CONFIG, gateway, deal.client_id, deal.milestone_id
        )
        await uow.commit()
    assert await PaymentNews(runner).succeeded(
        "sandbox", payment.external_id, charge_ref="sbx_ch_1"
    )
    async with db.uow() as uow:
        chats = {m.chat_id for m in await uow.outbox.find()}
    # Both parties hear about the funded milestone, in the same commit as the money.
    assert {deal.client_id, deal.freelancer_id} <= chats


async def test_build_stripe_mounts_the_webhook_and_the_refresh_page(db, clock) -> None:
    setup = build_stripe(
        db.uow,
        clock,
        CONFIG,
        secret_key="sk_test_x",
        webhook_secret="whsec_x",
        public_url="http://127.0.0.1:8080",
        chat_url="https://t.me/gigbot_test_bot",
        api_base="http://127.0.0.1:9",
    )
    app = web.Application()
    setup.install_routes(app)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        resp = await client.post(
            "/stripe/webhook", data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"}
        )
        assert resp.status == 400
        page = await client.get(CONNECT_REFRESH_PATH)
        assert page.status == 200 and "https://t.me/gigbot_test_bot" in await page.text()
    await setup.close()
