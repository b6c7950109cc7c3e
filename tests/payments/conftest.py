"""Fixtures for the gateways: the marketplace on SQLite, the system runner and
the payment entry; Stripe servers (localstripe and the stand-in) live in
stripe_servers.py and are started per test on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer
from localstripe import resources as ls_resources
from localstripe import webhooks as ls_webhooks

from bot.payments.confirm import PaymentNews
from handlers.system import SystemRunner
from storage.database import Database
from tests.clock import ManualClock
from tests.payments.market import CONFIG, outbox_renderer
from tests.payments.stripe_servers import (
    NoDelayAsyncio,
    StripeEnv,
    localstripe_app,
    reset_localstripe,
    stripe_env_for,
)


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
    """stripe_env_for, the notifications written as plain outbox rows."""
    async with stripe_env_for(localstripe, runner) as env:
        yield env


@pytest.fixture
async def chat_env(localstripe: str, db: Database, clock: ManualClock) -> AsyncIterator[StripeEnv]:
    """As stripe_env, but the webhook's notifications go through the real
    renderers (handlers/notify.py), so they reach the chat harness."""
    async with stripe_env_for(localstripe, SystemRunner(db.uow, clock, CONFIG)) as env:
        yield env
