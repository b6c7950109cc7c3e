"""Stripe delivers connected accounts' account.updated only to a Connect endpoint,
signed with that endpoint's own secret (GIGBOT_STRIPE_CONNECT_WEBHOOK_SECRET):
POST /stripe/webhook, as bot/app.py wires it, accepts either secret and no other."""

from __future__ import annotations

import json

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import stripe_payments
from bot.config import Settings
from tests.flows.harness import Harness
from tests.flows.test_offers import deal, label
from tests.flows.test_work import submit
from tests.payments.market import CONFIG
from tests.payments.stripe_chat import pay_in_checkout, wallet
from tests.payments.stripe_servers import API_KEY, WEBHOOK_SECRET
from tests.payments.stripe_standin import sign

CONNECT_SECRET = "whsec_connect_endpoint"


async def post(client: TestClient, event: dict, secret: str) -> int:
    payload = json.dumps(event).encode()
    resp = await client.post(
        "/stripe/webhook",
        data=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload, secret)},
    )
    return resp.status


async def test_account_updated_signed_by_the_connect_endpoint_pays_what_waited(
    chat_env, db, clock
) -> None:
    settings = Settings(
        _env_file=None,
        database_url="sqlite+aiosqlite:///unused.db",
        payments="stripe",
        stripe_secret_key=API_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_connect_webhook_secret=CONNECT_SECRET,
        stripe_api_base=chat_env.base_url,
    )
    payments = stripe_payments(
        settings, db, clock, settings.public_url, "https://t.me/gigbot_test_bot"
    )
    app = web.Application()
    for hook in payments.route_hooks:
        hook(app)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        h = Harness(db, clock, CONFIG, payments.gateway)
        carla, fred, _cid, [mid] = await deal(h)
        await pay_in_checkout(h, chat_env, carla, mid)
        await submit(h, fred, mid, "Done.")
        await h.press(carla, label("work.btn.approve"))
        await h.press(carla, label("work.btn.release_confirm"))
        await h.send(fred, "/balance")
        await h.press(fred, label("balance.btn.withdraw"))  # creates the Connect account
        (account_id,) = chat_env.standin.accounts
        updated = chat_env.standin.complete_onboarding(account_id)
        assert await wallet(h, fred) == 9_000  # waits for onboarding

        # Signed with neither secret: refused, nothing paid, the event not recorded.
        assert await post(client, updated, "whsec_someone_else") == 400
        assert chat_env.standin.transfers == {}
        # The Connect endpoint's secret: accepted, and what waited is transferred.
        assert await post(client, updated, CONNECT_SECRET) == 200
        assert await wallet(h, fred) == 0
        assert [t["amount"] for t in chat_env.standin.transfers.values()] == [9_000]
        # The platform endpoint's secret still works (a replay here: nothing twice).
        assert await post(client, updated, WEBHOOK_SECRET) == 200
        assert len(chat_env.standin.transfers) == 1
        assert chat_env.standin.violations == []
    finally:
        await client.close()
        assert payments.close is not None
        await payments.close()


async def test_without_a_connect_secret_only_the_platform_secret_is_accepted(
    chat_env, db, clock
) -> None:
    settings = Settings(
        _env_file=None,
        payments="stripe",
        stripe_secret_key=API_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=chat_env.base_url,
    )
    payments = stripe_payments(
        settings, db, clock, settings.public_url, "https://t.me/gigbot_test_bot"
    )
    app = web.Application()
    for hook in payments.route_hooks:
        hook(app)
    event = chat_env.standin.event("customer.created", {"id": "cus_1", "object": "customer"})
    try:
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            assert await post(client, event, CONNECT_SECRET) == 400
            assert await post(client, event, WEBHOOK_SECRET) == 200
    finally:
        assert payments.close is not None
        await payments.close()
