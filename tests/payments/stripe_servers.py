"""Stripe test servers on 127.0.0.1, in-process, with a fresh state per test:
localstripe (its aiohttp handlers, without its command line, which listens on
every interface and pickles its state to the temp folder) and the stand-in in
front of it; plus our webhook endpoint with a log of what it answered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from localstripe import resources as ls_resources
from localstripe import server as ls_server
from localstripe import webhooks as ls_webhooks

from bot.payments.confirm import PaymentNews
from bot.payments.stripe_gateway import StripeConnect, StripeGateway, stripe_client
from bot.payments.stripe_webhook import StripeWebhook
from handlers.system import SystemRunner
from tests.payments.stripe_standin import StandIn

API_KEY = "sk_test_gigbot"
WEBHOOK_SECRET = "whsec_test_gigbot"


def localstripe_app() -> web.Application:
    """localstripe's routes on a new Application, without the middleware that
    pickles the store to disk after every write."""
    app = web.Application(middlewares=[ls_server.error_middleware, ls_server.auth_middleware])
    for route in ls_server.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path")
        if path:
            app.router.add_route(route.method, path, route.handler)
    return app


class NoDelayAsyncio:
    """localstripe waits a second before each webhook; tests wait for the
    delivery itself instead, and collect the tasks to await them at the end."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Future[Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    async def sleep(_delay: float, result: Any = None) -> Any:
        return result

    def ensure_future(self, coro: Any) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(coro)
        self.tasks.append(task)
        return task


def reset_localstripe() -> None:
    ls_resources.store.clear()
    ls_webhooks._webhooks.clear()


@dataclass
class Deliveries:
    """What our webhook endpoint answered, in order; tests wait on it."""

    seen: list[tuple[str, int]] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def record(self, kind: str, status: int) -> None:
        async with self.changed:
            self.seen.append((kind, status))
            self.changed.notify_all()

    async def wait_for(self, predicate: Callable[[list[tuple[str, int]]], bool]) -> None:
        # A bound, so a delivery that never comes fails the test instead of hanging it.
        async with asyncio.timeout(10), self.changed:
            await self.changed.wait_for(lambda: predicate(self.seen))

    async def wait_kind(self, kind: str, count: int = 1) -> None:
        await self.wait_for(lambda seen: sum(k == kind for k, _ in seen) >= count)


def recorder(deliveries: Deliveries) -> Any:
    """Middleware: log each delivery's event type and our answer, for tests to wait on."""

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            kind = json.loads(await request.read()).get("type", "?")
        except ValueError:
            kind = "?"
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            await deliveries.record(kind, exc.status)
            raise
        except Exception:
            await deliveries.record(kind, 500)
            raise
        await deliveries.record(kind, response.status)
        return response

    return record


def webhook_app(webhook: StripeWebhook, deliveries: Deliveries) -> web.Application:
    from bot.payments.stripe_webhook import install_routes

    app = web.Application(middlewares=[recorder(deliveries)])
    install_routes(app, webhook)
    return app


async def register_webhook(localstripe_url: str, url: str) -> None:
    """Have localstripe sign and post its events (payment_intent.*, charge.*) to `url`."""
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{localstripe_url}/_config/webhooks/gigbot",
            data={"url": url, "secret": WEBHOOK_SECRET},
        ) as r:
            assert r.status == 200


@dataclass
class StripeEnv:
    standin: StandIn
    gateway: StripeGateway
    connect: StripeConnect
    webhook: StripeWebhook
    news: PaymentNews
    deliveries: Deliveries
    servers: list[TestServer]

    @property
    def base_url(self) -> str:
        """The stand-in's address: what GIGBOT_STRIPE_API_BASE would be."""
        return str(self.servers[0].make_url("")).rstrip("/")

    async def close(self) -> None:
        await self.standin.close()
        await self.gateway.client._requestor._client.close_async()  # type: ignore[attr-defined]
        for server in reversed(self.servers):
            await server.close()


CHAT_URL = "https://t.me/gigbot_test_bot"


async def open_stripe_env(localstripe_url: str, news: PaymentNews) -> StripeEnv:
    """The stand-in in front of localstripe, our gateway (with Connect, as
    bot/payments/setup.py wires it) pointed at it, and our webhook endpoint
    registered with both, signed with the same secret."""
    standin = StandIn(localstripe_url=localstripe_url)
    standin_server = TestServer(standin.app(), host="127.0.0.1")
    await standin_server.start_server()
    base = str(standin_server.make_url("")).rstrip("/")
    client = stripe_client(API_KEY, base, max_network_retries=0)
    connect = StripeConnect(
        client,
        refresh_url="http://127.0.0.1:8080/stripe/connect/refresh",
        return_url=CHAT_URL + "?start=payouts",
    )
    gateway = StripeGateway(client, success_url=CHAT_URL + "?start=paid", connect=connect)
    webhook = StripeWebhook(news, gateway, WEBHOOK_SECRET, connect=connect)
    deliveries = Deliveries()
    hook_server = TestServer(webhook_app(webhook, deliveries), host="127.0.0.1")
    await hook_server.start_server()
    hook_url = str(hook_server.make_url("/stripe/webhook"))
    standin.webhook_url, standin.webhook_secret = hook_url, WEBHOOK_SECRET
    await register_webhook(localstripe_url, hook_url)
    return StripeEnv(
        standin, gateway, connect, webhook, news, deliveries, [standin_server, hook_server]
    )


@asynccontextmanager
async def stripe_env_for(localstripe: str, runner: SystemRunner) -> AsyncIterator[StripeEnv]:
    """The stand-in in front of localstripe, our gateway pointed at it, and our
    webhook endpoint registered with both (signed with the same secret). The
    runner makes the gateway calls its units of work commit, as in production."""
    env = await open_stripe_env(localstripe, PaymentNews(runner))
    runner.gateway = env.gateway
    try:
        yield env
    finally:
        await env.close()
