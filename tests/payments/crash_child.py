"""A Gigbot process that makes one money movement and is killed (SIGKILL) at a
chosen point: the child half of tests/payments/test_crash_points.py.

    python -m tests.payments.crash_child '<spec as JSON>'

It runs the real code (use cases, the gateway-call runner, the Stripe webhook,
the sandbox gateway and its books, the Stripe client against the parent's
stand-in on 127.0.0.1) with two thin wrappers that only add the kill: around
the gateway (before or after its call) and around the units of work (before or
after a commit). Nothing of ours catches a SIGKILL, exactly as in production.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime
from typing import Any

from bot.payments.confirm import PaymentNews
from bot.payments.sandbox import DatabaseBooks, SandboxGateway, sandbox_charge_ref
from bot.payments.stripe_gateway import StripeConnect, StripeGateway, stripe_client
from bot.payments.stripe_webhook import StripeWebhook
from domain.usecases import milestones, payments, payouts
from handlers.gateway_calls import GatewayCallRunner
from handlers.system import SystemRunner
from storage.database import Database
from tests.payments.market import CONFIG
from tests.payments.stripe_servers import API_KEY, CHAT_URL, WEBHOOK_SECRET


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class KillingGateway:
    """The real gateway; the process dies just before or just after its call."""

    def __init__(self, inner: Any, point: str) -> None:
        self.inner, self.point, self.name = inner, point, inner.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def _around(self, call: Any) -> Any:
        if self.point == "before_call":
            die()
        result = await call
        if self.point == "after_call":
            die()
        return result

    async def start_checkout(self, *args: Any) -> Any:
        return await self._around(self.inner.start_checkout(*args))

    async def execute(self, *args: Any) -> Any:
        return await self._around(self.inner.execute(*args))

    async def charge(self, *args: Any) -> Any:
        return await self._around(self.inner.charge(*args))


class KillingUnitsOfWork:
    """db.uow, whose commit number `nth` dies just before or just after committing."""

    def __init__(self, db: Database, point: str, nth: int) -> None:
        self.db, self.point, self.nth, self.commits = db, point, nth, 0

    def __call__(self) -> Any:
        uow = self.db.uow()
        commit = uow.commit
        factory = self

        async def killing_commit() -> None:
            factory.commits += 1
            mine = factory.commits == factory.nth
            if mine and factory.point == "before_commit":
                die()
            await commit()
            if mine and factory.point == "after_commit":
                die()

        uow.commit = killing_commit  # type: ignore[method-assign]
        return uow


def gateway_for(spec: dict[str, Any], db: Database) -> Any:
    if spec["gateway"] == "sandbox":
        return SandboxGateway("http://127.0.0.1:8080", b"k" * 32, DatabaseBooks(db))
    # The parent's settings (tests/payments/stripe_servers.py), as a restarted process has.
    client = stripe_client(API_KEY, spec["stripe_base"], max_network_retries=0)
    connect = StripeConnect(
        client,
        refresh_url="http://127.0.0.1:8080/stripe/connect/refresh",
        return_url=CHAT_URL + "?start=payouts",
    )
    return StripeGateway(client, success_url=CHAT_URL + "?start=paid", connect=connect)


async def main(spec: dict[str, Any]) -> None:
    db = Database(spec["db_url"])
    clock = Clock()
    real = gateway_for(spec, db)
    gateway = KillingGateway(real, spec["point"])
    # The unit of work that decides (and, for calls, the one that records the outcome).
    uows = KillingUnitsOfWork(db, spec["point"], spec.get("commit", 1))
    op, mid = spec["op"], spec.get("milestone_id")

    if op == "checkout":
        async with uows() as uow:
            await payments.start_funding(uow, clock, CONFIG, real, spec["client_id"], mid)
            await uow.commit()
        await GatewayCallRunner(uows, clock, CONFIG, gateway).after_commit(uow.events)
    elif op == "confirm":
        runner = SystemRunner(uows, clock, CONFIG, gateway=real)
        news = PaymentNews(runner)
        if spec["gateway"] == "sandbox":  # the pay page: the bank takes it, then tells us
            await gateway.charge(spec["payment_id"], spec["amount"], "USD")
            await news.succeeded(
                "sandbox", spec["external_id"], charge_ref=sandbox_charge_ref(spec["payment_id"])
            )
        else:  # Stripe's webhook delivering the event
            webhook = StripeWebhook(news, real, WEBHOOK_SECRET, connect=real.connect)
            await webhook.apply(spec["event"])
    else:
        async with uows() as uow:
            if op == "refund":
                await milestones.refund(uow, clock, CONFIG, real, spec["freelancer_id"], mid)
            elif op == "payout":
                await payouts.request_payout(uow, clock, CONFIG, real, spec["freelancer_id"])
            else:
                await real.connect.transfer_milestone(uow, clock, mid)
            await uow.commit()
        runner = GatewayCallRunner(uows, clock, CONFIG, gateway)
        await runner.after_commit(uow.events)
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
