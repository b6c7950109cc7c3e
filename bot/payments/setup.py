"""Wiring of the Stripe pieces for the runtime (bot/app.py), from plain values
(the settings GIGBOT_STRIPE_SECRET_KEY, GIGBOT_STRIPE_WEBHOOK_SECRET,
GIGBOT_STRIPE_CONNECT_WEBHOOK_SECRET, GIGBOT_STRIPE_API_BASE, GIGBOT_PUBLIC_URL
and the bot's t.me link):

    stripe_setup = build_stripe(database.uow, clock, config, secret_key=…,
                                webhook_secret=…, connect_webhook_secret=…,
                                api_base=…, public_url=…,
                                chat_url="https://t.me/<bot username>")
    engine = Engine(…, gateway=stripe_setup.gateway, …)
    route_hooks.append(stripe_setup.install_routes)   # POST /stripe/webhook, /stripe/connect/*
    await stripe_setup.reconciler.run_once()          # from the scheduler, every tick
    await stripe_setup.close()                        # at shutdown
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.payments.confirm import PaymentNews
from bot.payments.reconcile import StripeReconciler
from bot.payments.stripe_gateway import StripeConnect, StripeGateway, stripe_client
from bot.payments.stripe_webhook import StripeWebhook
from bot.payments.stripe_webhook import install_routes as install_webhook
from domain.config import MarketConfig
from domain.ports import Clock, UnitOfWork
from handlers.system import SystemRunner

CONNECT_REFRESH_PATH = "/stripe/connect/refresh"


@dataclass
class StripeSetup:
    gateway: StripeGateway
    connect: StripeConnect
    news: PaymentNews
    webhook: StripeWebhook
    reconciler: StripeReconciler
    chat_url: str

    def install_routes(self, app: web.Application) -> None:
        """POST /stripe/webhook, and the page an expired onboarding link leads to."""
        install_webhook(app, self.webhook)
        chat = html.escape(self.chat_url, quote=True)

        async def refresh(_request: web.Request) -> web.Response:
            return web.Response(
                text=(
                    "<!doctype html><meta charset=utf-8><title>Gigbot payouts</title>"
                    "<p>That set-up link has expired. Return to the chat and tap "
                    f'“Withdraw” again for a fresh one.</p><p><a href="{chat}">Return to the chat</a></p>'
                ),
                content_type="text/html",
            )

        app.router.add_get(CONNECT_REFRESH_PATH, refresh)

    async def close(self) -> None:
        await self.gateway.client._requestor._client.close_async()  # type: ignore[attr-defined]


def build_stripe(
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    config: MarketConfig,
    *,
    secret_key: str,
    webhook_secret: str,
    public_url: str,
    chat_url: str,
    api_base: str | None = None,
    connect_webhook_secret: str | None = None,
    gateway_class: type[StripeGateway] = StripeGateway,
) -> StripeSetup:
    """`gateway_class`: TelegramPaymentsGateway for GIGBOT_PAYMENTS=telegram (invoices
    in Telegram, the rest Stripe's)."""
    client = stripe_client(secret_key, api_base)
    public = public_url.rstrip("/")
    connect = StripeConnect(client, refresh_url=public + CONNECT_REFRESH_PATH, return_url=chat_url)
    gateway = gateway_class(client, success_url=chat_url, connect=connect)
    connect.gateway_name = gateway.name
    runner = SystemRunner(uow_factory, clock, config, gateway=gateway, public_url=public)
    news = PaymentNews(runner)
    webhook = StripeWebhook(
        news, gateway, webhook_secret, connect=connect, connect_secret=connect_webhook_secret
    )
    reconciler = StripeReconciler(news, gateway, connect)
    return StripeSetup(gateway, connect, news, webhook, reconciler, chat_url)
