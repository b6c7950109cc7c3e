"""The one aiohttp application: Telegram webhook, health, metrics, Stripe webhook,
payment pages (registered by bot/payments through `route_hooks`) and, in sandbox
mode, the Bot API emulator with its web chat.

Hardening, because the port faces the internet in webhook mode:
- every route that reads a body reads it through `read_body`, with a cap of what
  its sender can send (a Telegram update, a Stripe event, a pay-page form): a
  Content-Length above the cap is refused before anything is read, a chunked body
  as soon as it passes the cap (413), and a body that trickles in is cut off after
  GIGBOT_HTTP_BODY_TIMEOUT (408);
- `start_http` listens through `GuardedSite`: at most GIGBOT_HTTP_MAX_CONNECTIONS
  open connections (one more gets an immediate 503), a new connection's request
  headers must be complete within GIGBOT_HTTP_HEADER_TIMEOUT, and an idle
  keep-alive connection is closed after GIGBOT_HTTP_KEEPALIVE_TIMEOUT.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from aiohttp import web
from alembic.runtime.migration import MigrationContext
from yarl import URL

from bot.metrics import CONTENT_TYPE, Metrics

if TYPE_CHECKING:
    from aiohttp.web_protocol import RequestHandler

    from bot.config import Settings
    from bot.sandbox import Emulator
    from bot.webhook import WebhookIntake
    from storage.database import Database

log = logging.getLogger(__name__)

# A hook adds routes to the app before it starts, e.g. the payments engineer's
# `install_payment_routes(app)` for POST /stripe/webhook and the payment pages.
RouteHook = Callable[[web.Application], None]
STRIPE_WEBHOOK_PATH = "/stripe/webhook"
KIB = 1024
MIB = 1024 * KIB
DEFAULT_MAX_BODY = 1 * MIB  # aiohttp's own cap for any route that reads without read_body
SANDBOX_MAX_BODY = 60 * MIB  # the sandbox accepts uploads like Telegram's 50 MB
MAX_JSON_DEPTH = 64  # a Telegram update or a Stripe event nests about a dozen levels
BODY_TIMEOUT = web.AppKey("gigbot_body_timeout_s", float)
DEFAULT_BODY_TIMEOUT_S = 30.0
# After a response to a request whose body was not read (a 413, a 408), aiohttp reads
# and drops the rest for this long, so the client sees the answer rather than a reset;
# aiohttp's 10 s would let a refused request hold its connection that long.
LINGERING_S = 1.0
# Descriptors the process needs besides its HTTP connections: the database pool,
# the Bot API and Stripe clients, log files.
RESERVED_DESCRIPTORS = 128
BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 5\r\n"
    b"Retry-After: 5\r\n"
    b"Connection: close\r\n\r\n"
    b"busy\n"
)


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """How many connections may be open and how long each may take (GIGBOT_HTTP_*)."""

    max_connections: int = 256
    header_timeout_s: float = 10.0
    keepalive_timeout_s: float = 30.0
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        return cls(
            max_connections=settings.http_max_connections,
            header_timeout_s=settings.http_header_timeout,
            keepalive_timeout_s=settings.http_keepalive_timeout,
            body_timeout_s=settings.http_body_timeout,
        )


def build_http_app(
    *,
    database: Database,
    metrics: Metrics,
    webhook: WebhookIntake | None = None,
    webhook_path: str | None = None,
    emulator: Emulator | None = None,
    route_hooks: Sequence[RouteHook] = (),
    limits: HttpLimits | None = None,
    draining: Callable[[], bool] | None = None,
) -> web.Application:
    app = web.Application(
        client_max_size=SANDBOX_MAX_BODY if emulator is not None else DEFAULT_MAX_BODY
    )
    app[BODY_TIMEOUT] = (limits or HttpLimits()).body_timeout_s

    async def healthz(_request: web.Request) -> web.Response:
        """Ready (200) only when this process takes work: not draining, the database
        reachable and at the newest migration. A balancer sends nothing to a 503."""
        if draining is not None and draining():
            return web.json_response({"status": "draining", "reason": "shutting down"}, status=503)
        try:
            async with database.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
                current = await conn.run_sync(
                    lambda sync: MigrationContext.configure(sync).get_current_revision()
                )
        except Exception as error:
            log.warning("health check: database unreachable: %s", error)
            return web.json_response(
                {"status": "error", "database": f"unreachable: {type(error).__name__}"},
                status=503,
            )
        head = _head_revision()
        if current != head:
            reason = f"database at migration {current or 'none'}, code expects {head}"
            return web.json_response(
                {"status": "error", "database": "ok", "migrations": reason}, status=503
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


@functools.cache
def _head_revision() -> str:
    from storage.migrate import head_revision

    return head_revision()


def _has_route(app: web.Application, method: str, path: str) -> bool:
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        if route.method == method and info.get("path") == path:
            return True
    return False


# -- request bodies -------------------------------------------------------------------


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    """The request's body, at most `max_bytes`, within the app's body timeout.

    A Content-Length above the cap is a 413 before a byte is read; a chunked body
    is a 413 as soon as it passes the cap; a body still incomplete after the
    timeout is a 408. Each closes the connection."""
    length = request.content_length
    if length is not None and length > max_bytes:
        raise _too_large(max_bytes, length)
    if request.content.at_eof():
        # Read already (a middleware called request.read(), which keeps the bytes).
        body = await request.read()
        if len(body) > max_bytes:
            raise _too_large(max_bytes, len(body))
        return body
    timeout = request.config_dict.get(BODY_TIMEOUT, DEFAULT_BODY_TIMEOUT_S)
    chunks = bytearray()
    try:
        async with asyncio.timeout(timeout):
            while chunk := await request.content.readany():
                chunks += chunk
                if len(chunks) > max_bytes:
                    raise _too_large(max_bytes, len(chunks))
    except TimeoutError:
        raise _closing(web.HTTPRequestTimeout(text="The request body was too slow.")) from None
    return bytes(chunks)


def _too_large(max_bytes: int, size: int) -> web.HTTPException:
    return _closing(web.HTTPRequestEntityTooLarge(max_size=max_bytes, actual_size=size))


def _closing(response: web.HTTPException) -> web.HTTPException:
    response.force_close()  # what is left of the body is not worth a keep-alive
    return response


def parse_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A request body as JSON; ValueError when it is not UTF-8 JSON or nests deeper
    than `max_depth` (deep nesting would exhaust the stack later, when it is stored)."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if _deeper_than(value, max_depth):
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


# -- connections -----------------------------------------------------------------------


async def start_http(
    app: web.Application, host: str, port: int, limits: HttpLimits | None = None
) -> web.AppRunner:
    """Serve `app` on host:port through a GuardedSite; the runner, for cleanup()."""
    limits = limits or HttpLimits()
    # aiohttp's keep-alive timer closes a connection that waits that long for the
    # complete headers of its next request (an idle or a trickling one).
    runner = web.AppRunner(
        app,
        shutdown_timeout=2,
        access_log=None,
        keepalive_timeout=limits.keepalive_timeout_s,
        lingering_time=LINGERING_S,
    )
    await runner.setup()
    try:
        await GuardedSite(runner, host, port, limits).start()
    except BaseException:
        await runner.cleanup()
        raise
    _warn_if_few_descriptors(limits.max_connections)
    return runner


class GuardedSite(web.BaseSite):
    """A TCP listener for the runner's server that keeps a flood of connections from
    taking the process offline. At most `max_connections` are open, so the
    descriptors the database, Telegram and Stripe need are never used up. A
    connection whose first request's headers are not complete within
    `header_timeout_s` is closed; while all the slots are taken, a new connection
    takes the slot of the oldest one still waiting for its headers (a trickling
    client), and gets an immediate 503 only when every open connection has sent a
    whole request. Later requests on a kept-alive connection are timed by aiohttp's
    keep-alive timeout."""

    __slots__ = ("_full", "_host", "_port", "_waiting", "limits", "open_connections")

    def __init__(self, runner: web.BaseRunner, host: str, port: int, limits: HttpLimits) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self.limits = limits
        self.open_connections = 0
        # Connections still waiting for their first request's headers, oldest first.
        self._waiting: dict[_Guarded, None] = {}
        self._full = False

    @property
    def name(self) -> str:
        return str(URL.build(scheme="http", host=self._host or "0.0.0.0", port=self._port))

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._connection, self._host, self._port, backlog=self._backlog
        )

    def _connection(self) -> asyncio.Protocol:
        if self.open_connections >= self.limits.max_connections and self._waiting:
            oldest = next(iter(self._waiting))
            oldest.close("its slot was needed while it still had not sent its headers")
        if self.open_connections >= self.limits.max_connections:
            if not self._full:
                self._full = True
                log.warning(
                    "HTTP: %d connections open, the limit (GIGBOT_HTTP_MAX_CONNECTIONS), "
                    "each with a request; refusing new ones until some close",
                    self.open_connections,
                )
            return _Busy()
        server = self._runner.server
        assert server is not None
        self.open_connections += 1
        return _Guarded(server(), self)

    def _release(self) -> None:
        self.open_connections -= 1
        if self._full and self.open_connections < self.limits.max_connections:
            self._full = False
            log.info("HTTP: accepting connections again")


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol for one connection, counted while open, and closed if the
    first request's headers (up to the empty line) do not arrive in time."""

    def __init__(self, inner: RequestHandler, site: GuardedSite) -> None:
        self._inner = inner
        self._site = site
        self._transport: asyncio.BaseTransport | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._tail = b""
        self._counted = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(
            self._site.limits.header_timeout_s, self.close, "its request headers were too slow"
        )
        self._site._waiting[self] = None
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._deadline is not None:
            seen = self._tail + data
            # The headers end with an empty line: CRLF CRLF (or a bare LF LF).
            if b"\n\r\n" in seen or b"\n\n" in seen:
                self._headers_done()
            else:
                self._tail = seen[-2:]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_done()
        self._uncount()
        self._inner.connection_lost(exc)

    def close(self, why: str) -> None:
        """Close the connection and give its slot back at once."""
        log.debug("HTTP: closing a connection: %s", why)
        self._headers_done()
        self._uncount()
        if self._transport is not None:
            self._transport.close()

    def _headers_done(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
            self._tail = b""
        self._site._waiting.pop(self, None)

    def _uncount(self) -> None:
        if self._counted:
            self._counted = False
            self._site._release()


class _Busy(asyncio.Protocol):
    """A connection over the limit: 503 and closed, before anything is read."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(BUSY_RESPONSE)
        transport.close()


def _warn_if_few_descriptors(max_connections: int) -> None:
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):  # not on this platform
        return
    if soft != resource.RLIM_INFINITY and max_connections + RESERVED_DESCRIPTORS > soft:
        log.warning(
            "GIGBOT_HTTP_MAX_CONNECTIONS=%d leaves fewer than %d of the process's %d file "
            "descriptors for the database and the Bot API; lower it or raise `ulimit -n`",
            max_connections,
            RESERVED_DESCRIPTORS,
            soft,
        )
