"""Durable intake (bot/intake.py) and the webhook's HTTP app on a real database: the
secret, durable acceptance before the 200, idempotency, recovery after a crash, a
polled update kept through a database outage; /healthz, /metrics."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
import sqlalchemy as sa

from bot.adapters import create_adapter
from bot.dispatch import UpdateDispatcher
from bot.http import build_http_app
from bot.intake import UpdateIntake
from bot.metrics import Metrics
from bot.webhook import SECRET_HEADER, WebhookIntake
from domain.entities import ProcessedUpdate
from handlers.events import Event, Outcome
from tests.e2e.harness import serve

SECRET = "s3cret_-token"
PATH = "/tg/hook"


def update(update_id: int, text: str = "hello", user_id: int = 1001) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Clara"}
    chat = {"id": user_id, "type": "private", "first_name": "Clara"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1700000000,
            "chat": chat,
            "from": user,
            "text": text,
        },
    }


class RecordingHandler:
    """Stands in for the engine: records each update as processed in the database (as the
    engine does, in the same transaction as its effects) and can be held at a gate."""

    def __init__(self, db) -> None:
        self.db = db
        self.handled: list[int] = []
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def handle(self, event: Event) -> Outcome:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        async with self.db.uow() as uow:
            if await uow.processed_updates.get(event.update_id) is not None:
                return Outcome(duplicate=True)
            processed = ProcessedUpdate(update_id=event.update_id, processed_at=self.db.now())
            await uow.processed_updates.add(processed)
            await uow.commit()
        self.handled.append(event.update_id)
        return Outcome()

    async def tick(self) -> int:
        return 0


class Stack:
    """An HTTP app with webhook intake over `db`, as one process would run it."""

    def __init__(self, db, handler, **intake_options) -> None:
        self.db = db
        self.handler = handler
        self.metrics = Metrics()
        self.dispatcher = UpdateDispatcher(handler, max_concurrent=4, metrics=self.metrics)
        parse = create_adapter("aiogram", "123:abc", "http://127.0.0.1:9").parse
        self.intake = UpdateIntake(db, parse, self.dispatcher, **intake_options)
        self.webhook = WebhookIntake(self.intake, SECRET)
        self.app = build_http_app(
            database=db, metrics=self.metrics, webhook=self.webhook, webhook_path=PATH
        )


async def stored_ids(db) -> list[int]:
    async with db.uow() as uow:
        return [row.update_id for row in await uow.stored_updates.find(order_by="update_id")]


async def post(url: str, payload: dict, secret: str | None = SECRET) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=payload, headers=headers) as response,
    ):
        return response.status


@pytest.fixture
def db(any_db):
    """These tests run on SQLite and, with GIGBOT_TEST_POSTGRES_URL, on PostgreSQL."""
    return any_db


@pytest.fixture
def handler(db):
    return RecordingHandler(db)


async def test_missing_or_wrong_secret_is_refused_and_nothing_happens(db, handler):
    stack = Stack(db, handler)
    async with serve(stack.app) as base:
        assert await post(base + PATH, update(1), secret=None) == 401
        assert await post(base + PATH, update(2), secret="s3cret_-tokeX") == 403
        assert await post(base + PATH, update(3), secret="") == 403
    await stack.dispatcher.drain()
    assert await stored_ids(db) == []
    assert handler.handled == []


async def test_the_same_update_twice_has_one_effect(db, handler):
    stack = Stack(db, handler)
    async with serve(stack.app) as base:
        assert await post(base + PATH, update(10)) == 200
        assert await post(base + PATH, update(10)) == 200  # while possibly still stored
        await stack.dispatcher.drain()
        assert await post(base + PATH, update(10)) == 200  # after it was handled
        await stack.dispatcher.drain()
    assert handler.handled == [10]
    assert await stored_ids(db) == []  # forgotten once handled


async def test_bad_bodies_are_refused(db, handler):
    stack = Stack(db, handler)
    async with serve(stack.app) as base, aiohttp.ClientSession() as session:
        async with session.post(
            base + PATH, data=b"{not json", headers={SECRET_HEADER: SECRET}
        ) as response:
            assert response.status == 400
        assert await post(base + PATH, {"message": {}}) == 400
    assert await stored_ids(db) == []


async def test_accepted_update_survives_a_crash_and_is_applied_after_restart(db, handler):
    handler.gate = asyncio.Event()  # the first process never gets to finish the update
    first = Stack(db, handler)
    async with serve(first.app) as base:
        assert await post(base + PATH, update(20, "first")) == 200
        # The 200 came after the commit: the update is stored before any handling.
        assert await stored_ids(db) == [20]
        await asyncio.wait_for(handler.entered.wait(), 5)
    await first.dispatcher.close(timeout=0)  # "killed": the in-flight handling is cancelled
    assert handler.handled == []
    assert await stored_ids(db) == [20]

    restarted = RecordingHandler(db)
    second = Stack(db, restarted)
    assert await second.intake.recover() == 1
    await asyncio.wait_for(second.dispatcher.drain(), 5)
    assert restarted.handled == [20]
    assert await stored_ids(db) == []


async def test_recovered_updates_run_before_new_ones_in_order(db, handler):
    for n in (31, 30):
        assert await Stack(db, handler).intake.store(n, update(n))
    stack = Stack(db, handler)
    await stack.intake.recover()
    async with serve(stack.app) as base:
        assert await post(base + PATH, update(32)) == 200
        await stack.dispatcher.drain()
    assert handler.handled == [30, 31, 32]


async def test_unparseable_or_ignored_updates_are_dropped(db, handler):
    stack = Stack(db, handler)
    async with serve(stack.app) as base:
        assert await post(base + PATH, {"update_id": 40, "poll": {"id": "x"}}) == 200
    assert await stored_ids(db) == [] and handler.handled == []


async def test_a_polled_update_waits_for_the_database_then_is_kept_and_handled(db, handler):
    # Polling confirms an update to Telegram once receive_polled returns: while the
    # database is away it must not return (nor raise: aiogram would log and go on).
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the outage is a renamed table, which only SQLite reports as operational")
    failed, back = asyncio.Event(), asyncio.Event()

    async def pause(_seconds: float) -> None:
        failed.set()
        await back.wait()

    stack = Stack(db, handler, pause=pause)
    rename = "ALTER TABLE {} RENAME TO {}"
    async with db.engine.begin() as conn:
        await conn.execute(sa.text(rename.format("stored_updates", "stored_updates_away")))
    receiving = asyncio.create_task(stack.intake.receive_polled(update(60)))
    await asyncio.wait_for(failed.wait(), 5)
    assert not receiving.done()  # the poller waits: nothing confirmed yet
    async with db.engine.begin() as conn:
        await conn.execute(sa.text(rename.format("stored_updates_away", "stored_updates")))
    back.set()
    await asyncio.wait_for(receiving, 5)
    await asyncio.wait_for(stack.dispatcher.drain(), 5)
    assert handler.handled == [60]
    assert await stored_ids(db) == []


async def test_healthz_and_metrics(db, handler):
    stack = Stack(db, handler)
    async with serve(stack.app) as base, aiohttp.ClientSession() as session:
        async with session.get(base + "/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok", "database": "ok"}
        assert await post(base + PATH, update(50)) == 200
        await stack.dispatcher.drain()
        async with session.get(base + "/metrics") as response:
            body = await response.text()
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        for name in (
            "gigbot_updates_handled_total",
            "gigbot_update_handling_seconds_bucket",
            "gigbot_outbox_depth",
            "gigbot_messages_sent_total",
            "gigbot_telegram_429_total",
            "gigbot_telegram_403_total",
        ):
            assert name in body
        async with session.post(base + "/stripe/webhook", data=b"{}") as response:
            assert response.status == 404  # a placeholder until payments register theirs


async def test_healthz_reports_an_unreachable_database(tmp_path, handler):
    from storage.database import Database

    broken = Database(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/x.db")
    app = build_http_app(database=broken, metrics=Metrics())
    async with serve(app) as base, aiohttp.ClientSession() as session:
        async with session.get(base + "/healthz") as response:
            assert response.status == 503
            assert (await response.json())["status"] == "error"
    await broken.dispose()


async def test_stripe_webhook_route_is_wired_when_stripe_is_configured(db, clock):
    from bot.app import stripe_payments
    from bot.config import Settings

    settings = Settings(
        _env_file=None,
        payments="stripe",
        stripe_secret_key="sk_test_x",
        stripe_webhook_secret="whsec_x",
        stripe_api_base="http://127.0.0.1:9",
    )
    payments = stripe_payments(settings, db, clock, "http://127.0.0.1:8080", "https://t.me/b")
    assert payments.gateway is not None and payments.gateway.name == "stripe"
    assert payments.reconcile is not None
    app = build_http_app(database=db, metrics=Metrics(), route_hooks=payments.route_hooks)
    async with serve(app) as base, aiohttp.ClientSession() as session:
        async with session.post(
            base + "/stripe/webhook", data=b"{}", headers={"Stripe-Signature": "t=1,v1=bad"}
        ) as response:
            assert response.status == 400  # the real handler: a bad signature has no effect
    await payments.close()
