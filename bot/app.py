"""Wiring and lifecycle of a running Gigbot process.

Start-up order: settings → database → migrate → engine → HTTP server (with the
sandbox emulator when there is no token) → framework adapter (getMe) → command
menus (setMyCommands per language) → dispatcher → outbox sender and scheduler →
update intake (bot/intake.py, durable in both modes): stored updates of a crashed
run first, then setWebhook, or long polling.

Shutdown (SIGINT/SIGTERM) runs it backwards: stop taking updates, finish those in
flight, stop the scheduler, flush the sender for a bounded time, close the
framework client, the HTTP server and the database. Updates not finished in time
stay stored for the next start. In webhook mode the webhook stays set, so Telegram
keeps updates for the next process.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import make_url

from bot.adapters import FrameworkAdapter, create_adapter
from bot.config import Settings
from bot.demo import seed
from bot.dispatch import UpdateDispatcher
from bot.http import HttpLimits, RouteHook, build_http_app, start_http
from bot.intake import UpdateIntake, instance_name
from bot.metrics import Metrics
from bot.payments.confirm import PaymentNews
from bot.payments.sandbox import DatabaseBooks, SandboxGateway
from bot.payments.sandbox_page import install_routes
from bot.ratelimit import RateLimiter, RedisSendBudget, SendLimits, SharedRateLimiter
from bot.scheduler import Leadership, Scheduler
from bot.sender import OutboxSender
from bot.webhook import WebhookIntake
from domain.config import MarketConfig
from domain.ports import Clock, PaymentGateway
from handlers.commands import admin_command_menu, command_menu
from handlers.events import EventHandler, InlineAnswer
from handlers.i18n import LANGUAGES
from handlers.system import SystemRunner
from storage.app_secrets import get_or_create_secret
from storage.coordination import Leases, SqlSendBudget
from storage.database import Database
from storage.migrate import upgrade

SANDBOX_ADMIN_ID = 1003  # Ada, the web chat's admin column (bot/sandbox/webchat)

log = logging.getLogger(__name__)

SHARED_FLUSH_S = 2.0  # on PostgreSQL, other processes send what is left
SHUTDOWN_TIMEOUT_S = 10.0  # finishing updates in flight, then again for the sender's flush
POLLING_TIMEOUT_S = 25


class StartupFailed(Exception):
    """Start-up failed for a reason an operator can fix; the message says which."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


async def migrate_database(url: str) -> None:
    """Bring the schema to the newest revision (Alembic; idempotent)."""
    await upgrade(url)


EngineFactory = Callable[[Database, Clock, MarketConfig, PaymentGateway | None, str], EventHandler]


def default_engine(
    database: Database,
    clock: Clock,
    config: MarketConfig,
    gateway: PaymentGateway | None,
    public_url: str,
) -> EventHandler:
    from handlers.engine import Engine

    return Engine(
        database.uow,
        clock,
        config,
        gateway=gateway,
        public_url=public_url,
        # SQLite: read-only routes read beside the writer (storage/reads.py), or on
        # it when it is free and their reads are quick (Engine._read_route)
        reader_factory=database.read_uow if database.splits_reads else None,
        writer_idle=database.writer_idle if database.splits_reads else None,
    )


@dataclass
class Payments:
    gateway: PaymentGateway | None = None
    route_hooks: list[RouteHook] = field(default_factory=list)
    reconcile: Callable[[], Awaitable[Any]] | None = None  # run with every scheduler tick
    close: Callable[[], Awaitable[None]] | None = None


SANDBOX_PAGE_KEY = "sandbox_page_key"  # app_secrets: what signs the /pay page links


def sandbox_payments(
    settings: Settings,
    database: Database,
    clock: Clock,
    public_url: str,
    chat_url: str,
    *,
    page_key: bytes,
) -> Payments:
    """The sandbox gateway and its /pay pages (bot/payments). `page_key` signs the page
    links: random per database (storage/app_secrets.py), never derived from anything a
    payer could know."""
    # Its books live in the database, so a crash and a retry show as one movement.
    gateway = SandboxGateway(public_url, page_key, DatabaseBooks(database))
    runner = SystemRunner(
        database.uow, clock, settings.market_config(), gateway=gateway, public_url=public_url
    )
    news = PaymentNews(runner)

    def hook(app: web.Application) -> None:
        install_routes(app, gateway=gateway, news=news, chat_url=chat_url)

    return Payments(gateway=gateway, route_hooks=[hook])


def stripe_payments(
    settings: Settings, database: Database, clock: Clock, public_url: str, chat_url: str
) -> Payments:
    """Stripe Checkout funding, Connect payouts, POST /stripe/webhook (bot/payments/setup.py)."""
    from bot.payments.setup import build_stripe

    assert settings.stripe_secret_key and settings.stripe_webhook_secret  # validated
    stripe = build_stripe(
        database.uow,
        clock,
        settings.market_config(),
        secret_key=settings.stripe_secret_key,
        webhook_secret=settings.stripe_webhook_secret,
        connect_webhook_secret=settings.stripe_connect_webhook_secret,
        public_url=public_url,
        chat_url=chat_url,
        api_base=settings.stripe_api_base,
    )
    return Payments(
        gateway=stripe.gateway,
        route_hooks=[stripe.install_routes],
        reconcile=stripe.reconciler.run_once,
        close=stripe.close,
    )


def telegram_payments(
    settings: Settings, database: Database, clock: Clock, public_url: str, chat_url: str
) -> Payments:
    """Invoices paid inside Telegram, Stripe as the provider: refunds and payouts
    through the Stripe API on the provider's charge (bot/payments/telegram_pay.py)."""
    from bot.payments.setup import build_stripe
    from bot.payments.telegram_pay import TelegramPaymentsGateway

    assert settings.stripe_secret_key and settings.stripe_webhook_secret  # validated
    stripe = build_stripe(
        database.uow,
        clock,
        settings.market_config(),
        secret_key=settings.stripe_secret_key,
        webhook_secret=settings.stripe_webhook_secret,
        connect_webhook_secret=settings.stripe_connect_webhook_secret,
        public_url=public_url,
        chat_url=chat_url,
        api_base=settings.stripe_api_base,
        gateway_class=TelegramPaymentsGateway,
    )
    return Payments(
        gateway=stripe.gateway,
        route_hooks=[stripe.install_routes],
        reconcile=stripe.reconciler.run_once,
        close=stripe.close,
    )


def sandbox_state_path(database_url: str) -> Path | None:
    """Where the sandbox keeps its Telegram (users, chats, history, counters) between runs:
    beside the SQLite database as `<name>-sandbox.db` (so each database, a test's too, has
    its own), in the working directory for other databases; None for an in-memory one."""
    url = make_url(database_url)
    if not url.get_backend_name().startswith("sqlite"):
        return Path("gigbot-sandbox.db")
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return None
    db_file = Path(url.database)
    return db_file.with_name(f"{db_file.stem}-sandbox.db")


def _local_url(host: str, port: int) -> str:
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


class Runtime:
    """One Gigbot process. `await serve()` runs until SIGINT/SIGTERM;
    tests call `start()` and `stop()` themselves."""

    def __init__(
        self,
        settings: Settings,
        *,
        sandbox: bool | None = None,
        demo: bool = False,
        announce: Callable[[str], None] = print,
        clock: Clock | None = None,
        engine_factory: EngineFactory = default_engine,
        emulator: Any = None,  # bot.sandbox.Emulator; a test may bring its own
        polling_timeout_s: int = POLLING_TIMEOUT_S,
        shutdown_timeout_s: float = SHUTDOWN_TIMEOUT_S,
        run_scheduler: bool = True,
        freeze_gc: bool = False,
    ) -> None:
        self.settings = settings
        self.freeze_gc = freeze_gc
        self.sandbox = settings.sandbox if sandbox is None else sandbox
        self.demo = demo
        self.announce = announce
        self.clock: Clock = clock or SystemClock()
        self.engine_factory = engine_factory
        self.emulator = emulator
        self.polling_timeout_s = polling_timeout_s
        self.shutdown_timeout_s = shutdown_timeout_s
        self.run_scheduler = run_scheduler
        self.webhook_mode = bool(settings.webhook_url) and not self.sandbox

        self.metrics = Metrics()
        self.database: Database | None = None
        self.engine: EventHandler | None = None
        self.adapter: FrameworkAdapter | None = None
        self.dispatcher: UpdateDispatcher | None = None
        self.intake: UpdateIntake | None = None
        self.webhook: WebhookIntake | None = None  # webhook mode's HTTP side of the intake
        self.sender: OutboxSender | None = None
        self.scheduler: Scheduler | None = None
        self.payments = Payments()
        self.url: str | None = None  # where the HTTP server listens
        self.public_url: str | None = None  # where people's browsers reach the payment pages
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._polling = False
        self._stop = asyncio.Event()
        self.draining = False  # stopping: /healthz says 503, the balancer looks elsewhere
        self.holder = settings.instance_id or instance_name()  # this process's lease name
        self._budget: RedisSendBudget | None = None

    # -- start -------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self._start()
        except StartupFailed:
            await self.stop()
            raise
        except Exception as error:
            await self.stop()
            raise StartupFailed(f"start-up failed: {type(error).__name__}: {error}") from error

    async def _start(self) -> None:
        settings = self.settings
        problem = settings.fake_money_problem(sandbox=self.sandbox)
        if problem:
            raise StartupFailed(problem)
        try:
            await migrate_database(settings.database_url)
        except Exception as error:
            raise StartupFailed(f"database not ready: {type(error).__name__}: {error}") from error
        if self.sandbox and not settings.admin_ids:
            # The sandbox page's admin persona (Ada) is an admin without any set-up.
            settings = self.settings = settings.model_copy(
                update={"admin_ids": frozenset({SANDBOX_ADMIN_ID})}
            )
        pool: dict[str, int] = {}
        if make_url(settings.database_url).get_backend_name() == "postgresql":
            pool = {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow}
        self.database = database = Database(settings.database_url, now=self.clock.now, **pool)
        config = settings.market_config()
        # Payment links follow the server: without GIGBOT_PUBLIC_URL, the address served.
        if "public_url" in settings.model_fields_set or not settings.http_port:
            public_url = settings.public_url
        else:
            public_url = _local_url(settings.http_host, settings.http_port)
        self.public_url = public_url

        if self.sandbox and self.emulator is None:
            from bot.sandbox import DEFAULT_TOKEN, Emulator

            self.emulator = Emulator(
                DEFAULT_TOKEN,
                admin_user_ids=sorted(config.admin_ids),
                state_path=sandbox_state_path(settings.database_url),
                inline_placeholder="Search jobs…",  # "@gigbot_sandbox_bot python" (inline.py)
            )
        if not self.sandbox:  # learn the bot's @username first: payment pages link back to it
            await self._start_adapter(settings.bot_token or "", settings.telegram_api_base)
            assert self.adapter is not None
            chat_url = f"https://t.me/{self.adapter.username}"
        else:
            chat_url = "/"  # the web chat

        if settings.payments == "stripe":
            payments = stripe_payments(settings, database, self.clock, public_url, chat_url)
        elif settings.payments == "telegram":
            payments = telegram_payments(settings, database, self.clock, public_url, chat_url)
        else:
            page_key = await get_or_create_secret(database, SANDBOX_PAGE_KEY)
            payments = sandbox_payments(
                settings, database, self.clock, public_url, chat_url, page_key=page_key
            )
        self.payments = payments
        self.engine = engine = self.engine_factory(
            database, self.clock, config, payments.gateway, public_url
        )

        self.dispatcher = dispatcher = UpdateDispatcher(
            engine,
            answer_callback=self._answer_callback,
            answer_inline=self._answer_inline,
            answer_pre_checkout=self._answer_pre_checkout,
            wake_sender=self._wake_sender,
            max_concurrent=settings.max_concurrent_updates,
            metrics=self.metrics,
        )
        self.intake = intake = UpdateIntake(
            database,
            self._parse,
            dispatcher,
            dedup_window=config.update_dedup_window,
            # PostgreSQL may have other processes: one person's updates under a claim.
            shared=self.shared,
            holder=self.holder,
            claim_s=settings.intake_lease_seconds,
        )
        if self.webhook_mode:
            self.webhook = WebhookIntake(intake, settings.webhook_secret or "")
            self.webhook.accepting = False  # 503 until the adapter is ready: Telegram retries

        limits = HttpLimits.from_settings(settings)
        app = build_http_app(
            database=database,
            metrics=self.metrics,
            webhook=self.webhook,
            webhook_path=settings.webhook_path,
            emulator=self.emulator if self.sandbox else None,
            route_hooks=payments.route_hooks,
            limits=limits,
            draining=lambda: self.draining,
        )
        await self._start_http(app, limits)

        if self.sandbox:
            assert self.url is not None
            await self._start_adapter(self.emulator.token, self.url)
        adapter = self.adapter
        assert adapter is not None
        await self._set_commands()

        self._start_sender()
        if self.run_scheduler:
            self._start_scheduler()

        await intake.recover()  # what a crashed run had stored goes before anything new
        if self.webhook_mode:
            assert self.webhook is not None and settings.webhook_url
            self.webhook.accepting = True
            await adapter.set_webhook(settings.webhook_url, settings.webhook_secret or "")
        else:
            await adapter.delete_webhook()  # getUpdates is refused while a webhook is set
            # Each polled update is stored before the framework confirms it to Telegram.
            await adapter.start_polling_raw(intake.receive_polled, timeout_s=self.polling_timeout_s)
            self._polling = True

        if self.sandbox and self.demo:
            await self._seed_demo()
        if self.freeze_gc:
            freeze_what_is_loaded()
        self._announce_started()

    async def _start_http(self, app: web.Application, limits: HttpLimits) -> None:
        try:
            self._runner = await start_http(
                app, self.settings.http_host, self.settings.http_port, limits
            )
        except OSError as error:
            raise StartupFailed(
                f"cannot listen on {self.settings.http_host}:{self.settings.http_port}: "
                f"{error.strerror or error}"
            ) from error
        host, port = self._runner.addresses[0][:2]
        self.url = _local_url(host, port)

    async def _start_adapter(self, token: str, api_base: str) -> None:
        self.adapter = create_adapter(self.settings.framework, token, api_base)
        # sendInvoice's provider token (GIGBOT_PAYMENTS=telegram), never in an outbox row.
        self.adapter.api.provider_token = self.settings.telegram_provider_token  # type: ignore[attr-defined]
        try:
            await self.adapter.start()
        except Exception as error:
            raise StartupFailed(
                f"cannot reach the Bot API at {api_base}: {type(error).__name__}: {error}"
            ) from error

    def _parse(self, payload: dict[str, Any]) -> Any:
        assert self.adapter is not None
        return self.adapter.parse(payload)

    async def _answer_callback(self, query_id: str, text: str | None, alert: bool) -> None:
        if self.adapter is not None:
            await self.adapter.api.answer_callback(query_id, text, alert)

    async def _answer_inline(self, query_id: str, answer: InlineAnswer) -> None:
        if self.adapter is not None:
            await self.adapter.api.answer_inline(query_id, answer)

    async def _answer_pre_checkout(self, query_id: str, ok: bool, error: str | None) -> None:
        if self.adapter is not None:
            await self.adapter.api.answer_pre_checkout(query_id, ok, error)

    def _wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.wake()

    async def _set_commands(self) -> None:
        """The command menu in every supported language (and the default one); admins
        get theirs, with the admin commands, scoped to their own chats."""
        assert self.adapter is not None
        api = self.adapter.api
        languages: list[str | None] = [None, *LANGUAGES]
        try:
            for lang in languages:
                await api.set_commands(command_menu(lang), lang)
        except Exception as error:  # a menu is a nicety; serving users is not
            log.warning("setMyCommands failed: %s", error)
        chosen = await self._chosen_languages(sorted(self.settings.admin_ids))
        for admin_id in sorted(self.settings.admin_ids):
            for lang in languages:
                # An admin who chose a bot language in /settings keeps that menu (see
                # handlers.commands.chat_menus), whatever their app's language.
                menu = admin_command_menu(chosen.get(admin_id) or lang)
                commands = [{"command": c, "description": d} for c, d in menu]
                extra = {"language_code": lang} if lang else {}
                try:
                    await api.call(
                        "setMyCommands",
                        commands=commands,
                        scope={"type": "chat", "chat_id": admin_id},
                        **extra,
                    )
                except Exception as error:  # e.g. the admin has not opened the bot yet
                    log.warning("admin menu for %s not set: %s", admin_id, error)
                    break

    async def _chosen_languages(self, user_ids: list[int]) -> dict[int, str]:
        """{user id: the bot language they use} for those who have used the bot."""
        if self.database is None:
            return {}
        async with self.database.uow() as uow:
            users = [await uow.users.get(user_id) for user_id in user_ids]
        return {u.id: u.language for u in users if u is not None and u.language}

    def _start_sender(self) -> None:
        assert self.adapter is not None and self.database is not None
        self.sender = OutboxSender(
            self.database,
            self.adapter.api,
            self._rate_limiter(),
            self.metrics,
            lease_s=self.settings.outbox_lease_seconds,
        )
        self.metrics.outbox_depth_source = self.sender.store.depth
        self._tasks.append(asyncio.create_task(self.sender.run(), name="outbox-sender"))

    @property
    def shared(self) -> bool:
        """Other processes may share this database (PostgreSQL): share what they must."""
        return self.database is not None and self.database.dialect == "postgresql"

    def _rate_limiter(self) -> RateLimiter:
        """The bot's send budget: Redis (GIGBOT_REDIS_URL) or PostgreSQL when shared,
        else this process's own (SQLite has one process)."""
        assert self.database is not None
        limits = SendLimits.from_settings(self.settings)
        margin = self.settings.send_margin
        if self.settings.redis_url:
            self._budget = RedisSendBudget(self.settings.redis_url)
            return SharedRateLimiter(self._budget, limits, margin=margin)
        if self.shared:
            return SharedRateLimiter(SqlSendBudget(self.database), limits, margin=margin)
        return RateLimiter(limits)

    def _start_scheduler(self) -> None:
        assert self.engine is not None and self.database is not None
        leadership = None
        if self.shared:  # one leader ticks; a dead one is replaced within a lease
            seconds = self.settings.leader_lease_seconds or self.settings.tick_seconds
            leadership = Leadership(Leases(self.database), self.holder, seconds)
        self.scheduler = Scheduler(self._tick, self.settings.tick_seconds, leadership=leadership)
        self._tasks.append(asyncio.create_task(self.scheduler.run(), name="scheduler"))

    async def _tick(self) -> int:
        """Deadlines, then (with Stripe) reconciliation of payments whose webhook was lost."""
        assert self.engine is not None
        done = await self.engine.tick()
        if self.payments.reconcile is not None:
            try:
                await self.payments.reconcile()
            except Exception:
                log.exception("payment reconciliation failed; retried next tick")
        return done

    async def _seed_demo(self) -> None:
        """Demo people, jobs and alerts for the sandbox (bot/demo.py)."""
        await seed(self)

    def _announce_started(self) -> None:
        assert self.adapter is not None
        framework = self.adapter.framework
        if self.sandbox:
            self.announce(
                "Gigbot is running in the local SANDBOX (no GIGBOT_BOT_TOKEN: nothing goes "
                f"to real Telegram; framework {framework}).\n"
                f"Open the web chat: {self.url}/\n"
                f"Payment pages: {self.public_url}/pay/…\n"
                "Press Ctrl+C to stop."
            )
            return
        if self.webhook_mode:
            self.announce(
                f"Gigbot is serving @{self.adapter.username} by webhook at "
                f"{self.settings.webhook_url} (framework {framework}; listening on {self.url})."
            )
        else:
            self.announce(
                f"Gigbot is serving @{self.adapter.username} by long polling "
                f"(framework {framework}; health and metrics on {self.url})."
            )
        if self.settings.payments == "sandbox":  # allowed on purpose (fake_money_problem)
            log.warning("sandbox payments with a real bot token: no real money moves")
            self.announce(
                "Payments are the SANDBOX gateway (GIGBOT_ALLOW_SANDBOX_PAYMENTS=true): no real "
                "money moves, and every payment page says TEST."
            )

    # -- stop --------------------------------------------------------------------

    async def stop(self) -> None:
        """Graceful shutdown; safe to call more than once and after a failed start."""
        timeout = self.shutdown_timeout_s
        self.draining = True
        if self.webhook is not None:
            self.webhook.accepting = False
        if self.intake is not None and self.intake.shared and not self.intake.closing:
            # Finish the update each claimed person is at, give the claims back.
            with contextlib.suppress(Exception):
                await self.intake.close(timeout)
        if self._polling and self.adapter is not None:
            self._polling = False
            with contextlib.suppress(Exception):
                await self.adapter.stop_polling()
        if self.dispatcher is not None:
            await self.dispatcher.close(timeout)
        if self.scheduler is not None:
            with contextlib.suppress(Exception):
                await self.scheduler.stop()
        if self.sender is not None:
            # Deliver what is due before going — briefly when other processes may share
            # the database: they deliver the rest (the rows not started are given back).
            with contextlib.suppress(Exception):
                await self.sender.flush(min(timeout, SHARED_FLUSH_S) if self.shared else timeout)
            with contextlib.suppress(Exception):
                await self.sender.stop()
        for task in self._tasks:
            if not task.done():
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._tasks.clear()
        self.sender = self.scheduler = None
        if self._budget is not None:
            with contextlib.suppress(Exception):
                await self._budget.close()
            self._budget = None
        if self.payments.close is not None:
            with contextlib.suppress(Exception):
                await self.payments.close()
            self.payments = Payments()
        if self.adapter is not None:
            with contextlib.suppress(Exception):
                await self.adapter.close()
            self.adapter = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.database is not None:
            await self.database.dispose()
            self.database = None

    async def serve(self) -> None:
        """Start, run until SIGINT/SIGTERM, stop gracefully."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, self._stop.set)
        await self.start()
        try:
            await self._stop.wait()
            self.announce("Stopping: finishing updates in flight and sending what is due …")
        finally:
            await self.stop()


def freeze_what_is_loaded() -> None:
    """Everything loaded by start-up (modules, flows, translations, the ORM's mappers:
    some 100,000 objects) moves out of the collector's sight (gc.freeze), so a full
    collection no longer walks them all: 100-500 ms pauses in the middle of an
    update or a publish under load, measured by bench alerts and fanout. Collected
    first, so no garbage is frozen. The gigbot process only (bot/cli.py): a test
    process starting many Runtimes would keep each one's objects for good."""
    from handlers.flows import load_flows

    load_flows()
    gc.collect()
    gc.freeze()
