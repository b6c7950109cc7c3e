"""Fixtures for the gateways: the marketplace on SQLite, the system runner and
the payment entry; Stripe servers (localstripe and the stand-in) live in
stripe_servers.py and are started per test on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from localstripe import resources as ls_resources
from localstripe import webhooks as ls_webhooks

from bot.payments.confirm import PaymentNews
from bot.payments.stripe_gateway import StripeConnect, StripeGateway, stripe_client
from bot.payments.stripe_webhook import StripeWebhook
from handlers.system import SystemRunner
from storage.database import Database
from tests.clock import ManualClock
from tests.payments.market import CONFIG, outbox_renderer
from tests.payments.stripe_servers import (
    API_KEY,
    WEBHOOK_SECRET,
    Deliveries,
    NoDelayAsyncio,
    StripeEnv,
    localstripe_app,
    reset_localstripe,
    webhook_app,
)
from tests.payments.stripe_standin import StandIn


@pytest.fixture
def runner(db: Database, clock: ManualClock) -> SystemRunner:
    return SystemRunner(db.uow, clock, CONFIG, render=outbox_renderer)


@pytest.fixture
def news(runner: SystemRunner) -> PaymentNews:
    return PaymentNews(runner)


@pytest.fixture
async def localstripe(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """localstripe on 127.0.0.1 with an empty store; its base URL."""
    monkeypatch.setattr(ls_resources.Store, "dump_to_disk", lambda self: None)
    shim = NoDelayAsyncio()
    monkeypatch.setattr(ls_webhooks, "asyncio", shim)
    reset_localstripe()
    server = TestServer(localstripe_app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await asyncio.gather(*shim.tasks, return_exceptions=True)
        await server.close()
        reset_localstripe()


@pytest.fixture
async def stripe_env(localstripe: str, runner: SystemRunner) -> AsyncIterator[StripeEnv]:
    """The stand-in in front of localstripe, our gateway pointed at it, and our
    webhook endpoint registered with both (signed with the same secret)."""
    standin = StandIn(localstripe_url=localstripe)
    standin_server = TestServer(standin.app(), host="127.0.0.1")
    await standin_server.start_server()
    base = str(standin_server.make_url("")).rstrip("/")
    client = stripe_client(API_KEY, base, max_network_retries=0)
    gateway = StripeGateway(client, success_url="https://t.me/gigbot_test_bot?start=paid")
    connect = StripeConnect(
        client,
        refresh_url="http://127.0.0.1:8080/stripe/connect/refresh",
        return_url="https://t.me/gigbot_test_bot?start=payouts",
    )
    news = PaymentNews(runner)
    webhook = StripeWebhook(news, gateway, WEBHOOK_SECRET, connect=connect)
    deliveries = Deliveries()
    hook_server = TestServer(webhook_app(webhook, deliveries), host="127.0.0.1")
    await hook_server.start_server()
    hook_url = str(hook_server.make_url("/stripe/webhook"))
    standin.webhook_url, standin.webhook_secret = hook_url, WEBHOOK_SECRET
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{localstripe}/_config/webhooks/gigbot",
            data={"url": hook_url, "secret": WEBHOOK_SECRET},
        ) as r:
            assert r.status == 200
    env = StripeEnv(
        standin, gateway, connect, webhook, news, deliveries, [standin_server, hook_server]
    )
    try:
        yield env
    finally:
        await env.close()
