"""The one aiohttp application: Telegram webhook, health, metrics, Stripe webhook,
payment pages (registered by bot/payments through `route_hooks`) and, in sandbox
mode, the Bot API emulator with its web chat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from aiohttp import web

from bot.metrics import CONTENT_TYPE, Metrics

if TYPE_CHECKING:
    from bot.sandbox import Emulator
    from bot.webhook import WebhookIntake
    from storage.database import Database

log = logging.getLogger(__name__)

# A hook adds routes to the app before it starts, e.g. the payments engineer's
# `install_payment_routes(app)` for POST /stripe/webhook and the payment pages.
RouteHook = Callable[[web.Application], None]
STRIPE_WEBHOOK_PATH = "/stripe/webhook"
MAX_BODY = 60 * 1024 * 1024  # the sandbox accepts uploads like Telegram's 50 MB


def build_http_app(
    *,
    database: Database,
    metrics: Metrics,
    webhook: WebhookIntake | None = None,
    webhook_path: str | None = None,
    emulator: Emulator | None = None,
    route_hooks: Sequence[RouteHook] = (),
) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)

    async def healthz(_request: web.Request) -> web.Response:
        try:
            async with database.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception as error:
            log.warning("health check: database unreachable: %s", error)
            return web.json_response(
                {"status": "error", "database": f"unreachable: {type(error).__name__}"},
                status=503,
            )
        return web.json_response({"status": "ok", "database": "ok"})

    async def metrics_text(_request: web.Request) -> web.Response:
        body = await metrics.render()
        return web.Response(body=body.encode(), headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_text)

    if webhook is not None:
        if not webhook_path:
            raise ValueError("a webhook needs its path")
        app.router.add_post(webhook_path, webhook.handle_request)

    for hook in route_hooks:
        hook(app)
    if not _has_route(app, "POST", STRIPE_WEBHOOK_PATH):

        async def stripe_not_configured(_request: web.Request) -> web.Response:
            return web.json_response({"error": "Stripe is not configured"}, status=404)

        app.router.add_post(STRIPE_WEBHOOK_PATH, stripe_not_configured)

    if emulator is not None:
        emulator.install(app)  # Bot API at /bot<token>/…, the web chat at /
    return app


def _has_route(app: web.Application, method: str, path: str) -> bool:
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        if route.method == method and info.get("path") == path:
            return True
    return False
