"""Fixtures for the gateways: the marketplace on SQLite, the system runner and
the payment entry; Stripe servers (localstripe and the stand-in) live in
stripe_servers.py and are started per test on 127.0.0.1."""

from __future__ import annotations

import pytest

from bot.payments.confirm import PaymentNews
from handlers.system import SystemRunner
from storage.database import Database
from tests.clock import ManualClock
from tests.payments.market import CONFIG, outbox_renderer


@pytest.fixture
def runner(db: Database, clock: ManualClock) -> SystemRunner:
    return SystemRunner(db.uow, clock, CONFIG, render=outbox_renderer)


@pytest.fixture
def news(runner: SystemRunner) -> PaymentNews:
    return PaymentNews(runner)
