"""The HTTP server's limits and malformed input, over real HTTP on loopback: bodies
capped per route before reading (Telegram webhook, Stripe webhook), slow bodies,
trickling headers, idle keep-alive connections, the connection limit; and bodies
that must be a 400 (or 403), never a 500."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from bot.adapters import create_adapter
from bot.dispatch import UpdateDispatcher
from bot.http import MIB, GuardedSite, HttpLimits, build_http_app, start_http
from bot.intake import UpdateIntake
from bot.metrics import Metrics
from bot.payments.stripe_gateway import StripeGateway, stripe_client
from bot.payments.stripe_webhook import StripeWebhook
from bot.payments.stripe_webhook import install_routes as install_stripe_webhook
from bot.webhook import SECRET_HEADER, WebhookIntake
from tests.bot.test_webhook import PATH, SECRET, RecordingHandler, stored_ids, update

STRIPE_PATH = "/stripe/webhook"
QUICK = HttpLimits(
    max_connections=200, header_timeout_s=0.5, keepalive_timeout_s=0.5, body_timeout_s=0.5
)


class Server:
    """The webhook app (and a Stripe webhook) behind start_http, as the runtime serves it."""

    def __init__(self, db, limits: HttpLimits) -> None:
        self.handler = RecordingHandler(db)
        self.dispatcher = UpdateDispatcher(self.handler, max_concurrent=4)
        parse = create_adapter("aiogram", "123:abc", "http://127.0.0.1:9").parse
        intake = UpdateIntake(db, parse, self.dispatcher)
        # A gateway that is never called: nothing here gets past the signature.
        gateway = StripeGateway(
            stripe_client("sk_test_x", "http://127.0.0.1:9"), success_url="https://t.me/x"
        )
        stripe = StripeWebhook(None, gateway, "whsec_test")  # type: ignore[arg-type]
        self.app = build_http_app(
            database=db,
            metrics=Metrics(),
            webhook=WebhookIntake(intake, SECRET),
            webhook_path=PATH,
            route_hooks=[lambda app: install_stripe_webhook(app, stripe)],
            limits=limits,
        )
        self.limits = limits
        self.host = "127.0.0.1"
        self.port = 0
        self.site: GuardedSite | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.host, self.port)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
        reader, writer = await self.connect()
        try:
            yield reader, writer
        finally:
            await close(writer)


@asynccontextmanager
async def serving(db, limits: HttpLimits = QUICK) -> AsyncIterator[Server]:
    server = Server(db, limits)
    runner = await start_http(server.app, "127.0.0.1", 0, limits)
    server.port = runner.addresses[0][1]
    (site,) = runner.sites
    assert isinstance(site, GuardedSite)
    server.site = site
    try:
        yield server
    finally:
        await runner.cleanup()
        await server.dispatcher.close(1)


def head(path: str, headers: dict[str, str | bytes], method: str = "POST") -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close"]
    for name, value in headers.items():
        lines.append(
            name.encode() + b": " + (value if isinstance(value, bytes) else value.encode())
        )
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def status_of(reader: asyncio.StreamReader, within_s: float = 3) -> int:
    line = await asyncio.wait_for(reader.readline(), within_s)
    assert line.startswith(b"HTTP/1.1 "), line
    return int(line.split()[1])


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def raw_status(server: Server, request: bytes) -> int:
    async with server.connection() as (reader, writer):
        writer.write(request)
        await writer.drain()
        return await status_of(reader)


async def post_json(server: Server, body: bytes) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.base + PATH, data=body, headers={SECRET_HEADER: SECRET}) as response,
    ):
        return response.status


async def healthz(server: Server) -> int:
    async with aiohttp.ClientSession() as session, session.get(server.base + "/healthz") as r:
        return r.status


# -- bodies --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers"),
    [(PATH, {SECRET_HEADER: SECRET}), (STRIPE_PATH, {"Stripe-Signature": "t=1,v1=ab"})],
    ids=["telegram", "stripe"],
)
async def test_a_body_longer_than_the_cap_is_refused_before_it_is_read(db, path, headers):
    """Only the headers are sent: the 413 comes without waiting for a byte of the
    5 MiB announced (Stripe's webhook read 60 MiB before checking the signature)."""
    async with serving(db) as server:
        request = head(path, {**headers, "Content-Length": str(5 * MIB)})
        assert await raw_status(server, request) == 413
    assert await stored_ids(db) == []


@pytest.mark.parametrize(
    ("path", "headers"),
    [(PATH, {SECRET_HEADER: SECRET}), (STRIPE_PATH, {"Stripe-Signature": "t=1,v1=ab"})],
    ids=["telegram", "stripe"],
)
async def test_a_chunked_body_is_cut_off_at_the_cap(db, path, headers):
    """Chunks a little past 1 MiB and never the last chunk: a server that read the
    whole body would wait for ever; ours answers 413 at the cap."""
    async with serving(db) as server:
        async with server.connection() as (reader, writer):
            writer.write(head(path, {**headers, "Transfer-Encoding": "chunked"}))
            chunk = b"x" * (64 * 1024)
            for _ in range(17):  # 1 MiB + 64 KiB
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
            assert await status_of(reader) == 413
    assert await stored_ids(db) == []


async def test_a_body_that_trickles_in_is_cut_off(db):
    async with serving(db) as server:
        async with server.connection() as (reader, writer):
            writer.write(head(PATH, {SECRET_HEADER: SECRET, "Content-Length": "100"}))
            writer.write(b'{"update_id": ')  # and nothing more
            await writer.drain()
            assert await status_of(reader) == 408  # after QUICK.body_timeout_s


async def test_a_secret_that_is_not_utf8_is_a_403(db):
    async with serving(db) as server:
        body = json.dumps(update(1)).encode()
        request = head(
            PATH,
            {SECRET_HEADER: b"\xff\xfe" + SECRET.encode(), "Content-Length": str(len(body))},
        )
        assert await raw_status(server, request + body) == 403
    assert await stored_ids(db) == []


async def test_a_stripe_signature_that_is_not_ascii_is_a_400(db):
    async with serving(db) as server:
        for signature in (b"t=1,v1=\xc3\xa9\xc3\xa9", b"t=1,v1=\xff\xfe"):  # é, and not UTF-8
            request = head(STRIPE_PATH, {"Stripe-Signature": signature, "Content-Length": "2"})
            assert await raw_status(server, request + b"{}") == 400


async def test_malformed_updates_are_a_400_and_logged(any_db, caplog):
    """Telegram retries anything but a 2xx or 4xx for ever: an id no BIGINT holds
    and JSON nested beyond reason are a 400 with a log line, and the bot goes on."""
    deep_list = b"[" * 100_000 + b"]" * 100_000
    deep_dict = {"update_id": 5, "message": {}}
    inner = deep_dict["message"]
    for _ in range(200):
        inner["a"] = {}
        inner = inner["a"]
    bodies = [
        json.dumps(update(2**63)).encode(),
        json.dumps(update(-(2**63) - 1)).encode(),
        deep_list,
        json.dumps(deep_dict).encode(),
        b"\xff\xfe not UTF-8",
    ]
    async with serving(any_db) as server:  # PostgreSQL too: ids near 2^63 are stored
        with caplog.at_level(logging.WARNING, logger="bot.webhook"):
            for body in bodies:
                assert await post_json(server, body) == 400
        refusals = [r for r in caplog.records if r.getMessage().startswith("webhook: refused")]
        assert len(refusals) == len(bodies)
        # The largest id a BIGINT holds is fine, and so is everything after.
        assert await post_json(server, json.dumps(update(2**63 - 1)).encode()) == 200
        assert await post_json(server, json.dumps(update(6)).encode()) == 200
        await server.dispatcher.drain()
    assert sorted(server.handler.handled) == [6, 2**63 - 1]


# -- connections --------------------------------------------------------------------


async def trickle(server: Server, lines: int = 40, every_s: float = 0.1) -> float | None:
    """Send a request's headers one line every `every_s`, never the empty line that
    ends them; the seconds until the server closed the connection (None: it did not,
    `lines` lines later)."""
    loop = asyncio.get_running_loop()
    reader, writer = await server.connect()
    started = loop.time()
    closed = asyncio.ensure_future(reader.read())  # b"" once the server closes
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for i in range(lines):
            done, _ = await asyncio.wait({closed}, timeout=every_s)
            if done:
                return loop.time() - started
            writer.write(b"X-Slow-%d: 1\r\n" % i)
            try:
                await writer.drain()
            except ConnectionError:
                return loop.time() - started
        return None
    finally:
        closed.cancel()
        await close(writer)


async def test_trickling_connections_are_closed_and_health_still_answers(db):
    """50 connections sending their headers a line at a time (1,100 such took the bot
    offline at a 1,024-descriptor limit): each is closed after the header timeout,
    and /healthz answers all along."""
    async with serving(db) as server:
        tricklers = [asyncio.create_task(trickle(server)) for _ in range(50)]
        await asyncio.sleep(0.2)  # they are all open and trickling now
        assert await healthz(server) == 200
        closed_after = await asyncio.gather(*tricklers)
        assert await healthz(server) == 200
        assert server.site is not None and server.site.open_connections == 0
    assert all(t is not None for t in closed_after), closed_after
    # Closed at the header timeout (0.5 s), not at the end of the 4 s of trickling.
    assert all(QUICK.header_timeout_s - 0.05 <= t < 2.5 for t in closed_after), closed_after


async def test_an_idle_keepalive_connection_is_closed(db):
    async with serving(db) as server:
        async with server.connection() as (reader, writer):
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # keep-alive
            assert await status_of(reader) == 200
            loop = asyncio.get_running_loop()
            started = loop.time()
            rest = await asyncio.wait_for(reader.read(), 5)  # the response's rest, then EOF
            idle = loop.time() - started
    assert rest.endswith(b'"database": "ok"}')
    assert QUICK.keepalive_timeout_s - 0.05 <= idle < 3


async def test_at_the_limit_a_new_connection_takes_the_slot_of_the_oldest_trickler(db):
    """Every slot held by a connection still sending its headers: /healthz is
    answered at once, in the slot of the oldest of them, and no more are open."""
    limits = HttpLimits(max_connections=5, header_timeout_s=30)  # no timeout meanwhile
    async with serving(db, limits) as server:
        site = server.site
        assert site is not None
        tricklers = []
        for _ in range(5):
            reader, writer = await server.connect()
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends
            tricklers.append((reader, writer))
        await wait_until(lambda: site.open_connections == 5)
        assert await healthz(server) == 200
        oldest = tricklers[0][0]
        assert await asyncio.wait_for(oldest.read(), 1) == b""  # closed for the newcomer
        assert site.open_connections <= 5
        for _, writer in tricklers:
            await close(writer)


async def test_connections_beyond_the_limit_with_whole_requests_get_503(db, caplog):
    """Every slot held by a request in progress (bodies that do not come): one more
    connection gets a 503 at once; when their body timeout frees them, all is well."""
    limits = HttpLimits(max_connections=5, header_timeout_s=30, body_timeout_s=1.0)
    async with serving(db, limits) as server:
        site = server.site
        assert site is not None
        waiting = []
        for _ in range(5):
            reader, writer = await server.connect()
            writer.write(head(PATH, {SECRET_HEADER: SECRET, "Content-Length": "100"}))
            waiting.append((reader, writer))
        await wait_until(lambda: site.open_connections == 5 and not site._waiting)
        with caplog.at_level(logging.INFO, logger="bot.http"):
            async with server.connection() as (reader, _writer):
                assert await status_of(reader, within_s=1) == 503
            for reader, _ in waiting:  # their bodies never came: 408, then closed
                assert await status_of(reader) == 408
                await asyncio.wait_for(reader.read(), 3)
            assert await healthz(server) == 200
        for _, writer in waiting:
            await close(writer)
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.http"]
    assert any("refusing new ones" in m for m in messages)
    assert "HTTP: accepting connections again" in messages


async def wait_until(condition, within_s: float = 2) -> None:
    """Poll `condition` (bounded: at most `within_s`)."""
    for _ in range(int(within_s / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    assert condition()
