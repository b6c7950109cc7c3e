"""The payments as the runtime wires them: notifications through the real
registry (handlers/notify.py), and build_stripe's routes."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from localstripe import webhooks as ls_webhooks

from bot.app import Runtime, default_engine, stripe_payments
from bot.config import Settings
from bot.payments.confirm import PaymentNews
from bot.payments.sandbox import SandboxGateway
from bot.payments.setup import CONNECT_REFRESH_PATH, build_stripe
from bot.payments.stripe_gateway import StripeGateway
from domain.states import MilestoneStatus
from handlers.system import SystemRunner
from tests.flows.harness import Harness
from tests.flows.test_offers import deal, label
from tests.flows.test_work import submit
from tests.funding import open_checkout
from tests.payments.market import CONFIG, make_deal
from tests.payments.stripe_chat import milestone_status, pending_session, press_pay, wallet
from tests.payments.stripe_servers import API_KEY, WEBHOOK_SECRET


async def test_a_sandbox_payment_notifies_through_the_registry(db, clock) -> None:
    gateway = SandboxGateway("http://127.0.0.1:8080", "k")
    runner = SystemRunner(db.uow, clock, CONFIG, gateway=gateway)  # the real renderers
    deal = await make_deal(db, clock)
    payment = await open_checkout(db, clock, CONFIG, gateway, deal.client_id, deal.milestone_id)
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


async def test_stripe_mode_runtime_tick_reconciles_a_lost_webhook_and_pays_out(
    chat_env, db, clock
) -> None:
    """bot/app.py in GIGBOT_PAYMENTS=stripe: the engine gets the StripeGateway
    (with the balance flow's payout_setup_link), and every scheduler tick runs
    the reconciliation: a Checkout paid while no webhook arrived is funded after
    one tick, and a release whose account.updated was lost is transferred."""
    settings = Settings(
        _env_file=None,
        database_url="sqlite+aiosqlite:///unused.db",
        payments="stripe",
        stripe_secret_key=API_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=chat_env.base_url,
        admin_ids="9",
    )
    runtime = Runtime(settings, clock=clock, run_scheduler=False)
    runtime.payments = payments = stripe_payments(
        settings, db, clock, settings.public_url, "https://t.me/gigbot_test_bot"
    )
    runtime.engine = default_engine(
        db, clock, settings.market_config(), payments.gateway, settings.public_url
    )
    try:
        assert isinstance(payments.gateway, StripeGateway)
        assert runtime.engine.gateway is payments.gateway  # type: ignore[attr-defined]
        assert callable(getattr(payments.gateway, "payout_setup_link", None))
        assert payments.reconcile is not None

        ls_webhooks._webhooks.clear()  # the webhooks are lost
        h = Harness(db, clock, CONFIG, payments.gateway)
        carla, fred, _cid, [mid] = await deal(h)
        await press_pay(h, carla, mid)
        await chat_env.standin.pay_session(await pending_session(h, mid))
        assert await milestone_status(h, mid) is MilestoneStatus.FUNDING
        await runtime._tick()
        await h.deliver()
        assert await milestone_status(h, mid) is MilestoneStatus.FUNDED
        assert any("paid" in t.lower() or "funded" in t.lower() for t in h.texts(fred))

        await submit(h, fred, mid, "Done.")
        await h.press(carla, label("work.btn.approve"))
        await h.press(carla, label("work.btn.release_confirm"))
        await h.send(fred, "/balance")
        await h.press(fred, label("balance.btn.withdraw"))  # creates the Connect account
        (account_id,) = chat_env.standin.accounts
        chat_env.standin.complete_onboarding(account_id)  # account.updated never arrives
        await runtime._tick()
        assert await wallet(h, fred) == 0
        assert [t["amount"] for t in chat_env.standin.transfers.values()] == [9_000]
        await runtime._tick()  # nothing twice
        assert len(chat_env.standin.transfers) == 1
        assert chat_env.standin.violations == []
    finally:
        assert payments.close is not None
        await payments.close()
