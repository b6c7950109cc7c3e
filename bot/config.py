"""Operator settings: environment variables (prefix GIGBOT_) or a `.env` file.

`Settings()` validates everything up front, so a bad deployment fails at start
with one clear message per problem instead of half-way through a conversation.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from domain.config import MIN_OUTBOX_KEEP_DAYS, MarketConfig
from domain.fees import percent_to_bp

# Telegram allows only these characters in a webhook secret_token, 1–256 of them.
WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GIGBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    bot_token: str | None = None
    framework: Literal["aiogram", "ptb"] = "aiogram"
    telegram_api_base: str = "https://api.telegram.org"
    database_url: str = "sqlite+aiosqlite:///gigbot.db"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    payments: Literal["sandbox", "stripe", "telegram"] = "sandbox"
    # GIGBOT_PAYMENTS=telegram: invoices paid inside Telegram, Stripe as Telegram's
    # payment provider (the token @BotFather gives for it; refunds and payouts use
    # GIGBOT_STRIPE_SECRET_KEY on the provider's charge).
    telegram_provider_token: str | None = None
    # With a real bot token the sandbox gateway takes no real money: refused unless set.
    allow_sandbox_payments: bool = False
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    # The Connect endpoint's own secret: connected accounts' events (account.updated).
    stripe_connect_webhook_secret: str | None = None
    stripe_api_base: str | None = None  # None: Stripe's own
    currency: str = "USD"
    client_fee_percent: Decimal = Decimal(5)
    freelancer_fee_percent: Decimal = Decimal(10)
    auto_release_days: int = Field(14, ge=1, le=365)
    # The dispute clock: days to answer a dispute (silence settles for the opener),
    # then days to agree a split before it goes to the admins.
    dispute_response_days: int = Field(4, ge=3, le=60)
    dispute_negotiation_days: int = Field(7, ge=1, le=90)
    # A job with no activity this long asks its client "Still hiring?".
    job_expiry_days: int = Field(30, ge=1, le=365)
    # Hourly contracts: days a client has to review a weekly invoice (then it is
    # paid automatically), and the weekday a week starts, 00:00 UTC (0 = Monday).
    timesheet_review_days: int = Field(5, ge=1, le=30)
    timesheet_week_start: int = Field(0, ge=0, le=6)
    # Service orders: hours a seller has to accept a paid order, days a delivery
    # waits for the buyer before it completes, a paid extra revision's price (% of
    # the package).
    service_accept_hours: int = Field(24, ge=1, le=168)
    service_auto_complete_days: int = Field(3, ge=1, le=60)
    service_extra_revision_percent: int = Field(20, ge=1, le=100)
    # Days a freelancer has to answer a partial release before it lapses.
    partial_offer_days: int = Field(4, ge=1, le=30)

    # Telegram's delivery limits (the sender's rate limiter).
    send_rate: float = Field(30, gt=0)  # messages a second, all chats together
    private_chat_rate: float = Field(1, gt=0)  # messages a second to one private chat
    group_chat_rate_per_min: float = Field(20, gt=0)  # messages a minute to one group
    # How long a claimed outbox row stays its sender's without renewal: the sender renews
    # it every third of this while it holds the row, and a crashed sender's rows are
    # taken over this long after the crash.
    outbox_lease_seconds: float = Field(6, ge=1, le=600)

    # The HTTP server (webhook, Stripe, pay pages, health): what one connection may take.
    http_max_connections: int = Field(256, ge=1, le=100_000)  # one more gets a 503
    http_header_timeout: float = Field(10, gt=0)  # seconds for a new connection's headers
    http_keepalive_timeout: float = Field(30, gt=0)  # seconds an idle connection stays open
    http_body_timeout: float = Field(30, gt=0)  # seconds for a request's body (408 after)

    # Scale-out (docs/scale-out.md). With several processes on one PostgreSQL the send
    # budget, each person's update order and the scheduler's leadership are shared;
    # with GIGBOT_REDIS_URL the send budget lives in Redis instead of PostgreSQL.
    redis_url: str | None = None
    send_margin: float = Field(0.15, ge=0, le=1)  # shared spacing widened by this share
    instance_id: str | None = None  # a lease holder's name; default host-pid-random
    intake_lease_seconds: float = Field(10, ge=1, le=600)  # a person's update claim
    leader_lease_seconds: float | None = Field(None, gt=0)  # default: tick_seconds
    # PostgreSQL connections per process: N processes use up to N × (size + overflow).
    db_pool_size: int = Field(10, ge=1, le=1000)
    db_max_overflow: int = Field(20, ge=0, le=1000)

    # Runtime.
    max_concurrent_updates: int = Field(32, ge=1, le=10_000)
    tick_seconds: float = Field(30, gt=0)  # how often deadlines are checked
    # An update id seen again within this many hours is a duplicate, after that a new
    # update: Telegram redelivers for up to 24 hours, and picks ids at random after a
    # quiet week (domain/usecases/updates.py). Older ids are pruned by the scheduler.
    update_dedup_hours: int = Field(24, ge=24, le=168)
    # Delivered outbox rows (sent, failed, unreachable) older than this many days are
    # deleted by the scheduler, a batch a tick (domain/usecases/outbox_retention.py).
    outbox_keep_days: int = Field(30, ge=MIN_OUTBOX_KEEP_DAYS, le=3650)
    log_level: str = "INFO"
    log_json: bool = False

    @field_validator(
        "bot_token",
        "webhook_url",
        "webhook_secret",
        "stripe_secret_key",
        "stripe_webhook_secret",
        "stripe_connect_webhook_secret",
        "stripe_api_base",
        "telegram_provider_token",
        "redis_url",
        "instance_id",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `GIGBOT_WEBHOOK_URL=` in a .env file means "not set", not "the empty URL".
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            ids = []
            for part in parts:
                if not part.isdigit():
                    raise ValueError(f"admin ids must be Telegram user ids (numbers), got {part!r}")
                ids.append(int(part))
            return frozenset(ids)
        if isinstance(value, int):
            return frozenset([value])
        return value

    @field_validator("currency", mode="before")
    @classmethod
    def _check_currency(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().upper()
            if not CURRENCY_RE.match(value):
                raise ValueError(f"must be an ISO 4217 code like USD or EUR, got {value!r}")
        return value

    @field_validator("client_fee_percent", "freelancer_fee_percent")
    @classmethod
    def _check_percent(cls, value: Decimal) -> Decimal:
        if not Decimal(0) <= value <= Decimal(100):
            raise ValueError("must be a percentage between 0 and 100")
        if value * 100 != (value * 100).to_integral_value():
            raise ValueError("must have at most two decimals (basis points)")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _check_log_level(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().upper()
            if value not in LOG_LEVELS:
                raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value

    @field_validator("telegram_api_base", "public_url", "webhook_url", "stripe_api_base")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/") if parts.path in ("", "/") else value

    @model_validator(mode="after")
    def _check_combinations(self) -> Settings:
        if self.webhook_url:
            if not self.bot_token:
                raise ValueError("GIGBOT_WEBHOOK_URL needs GIGBOT_BOT_TOKEN")
            if not self.webhook_secret:
                raise ValueError("GIGBOT_WEBHOOK_URL needs GIGBOT_WEBHOOK_SECRET")
        if self.webhook_secret and not WEBHOOK_SECRET_RE.match(self.webhook_secret):
            raise ValueError(
                "GIGBOT_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        if self.payments == "stripe":
            missing = [
                name
                for name, v in (
                    ("GIGBOT_STRIPE_SECRET_KEY", self.stripe_secret_key),
                    ("GIGBOT_STRIPE_WEBHOOK_SECRET", self.stripe_webhook_secret),
                )
                if not v
            ]
            if missing:
                raise ValueError(f"GIGBOT_PAYMENTS=stripe needs {' and '.join(missing)}")
        if self.payments == "telegram":
            missing = [
                name
                for name, v in (
                    ("GIGBOT_TELEGRAM_PROVIDER_TOKEN", self.telegram_provider_token),
                    ("GIGBOT_STRIPE_SECRET_KEY", self.stripe_secret_key),
                    # the charges are in the Stripe account: disputes and Connect news
                    ("GIGBOT_STRIPE_WEBHOOK_SECRET", self.stripe_webhook_secret),
                )
                if not v
            ]
            if missing:
                raise ValueError(f"GIGBOT_PAYMENTS=telegram needs {' and '.join(missing)}")
        return self

    def fake_money_problem(self, *, sandbox: bool) -> str | None:
        """Why this process must not start, if it would serve real Telegram users with
        the sandbox gateway (no real money) without the operator asking for it."""
        if sandbox or self.sandbox or self.payments != "sandbox" or self.allow_sandbox_payments:
            return None
        return (
            "GIGBOT_PAYMENTS=sandbox takes no real money, but GIGBOT_BOT_TOKEN serves real "
            "Telegram users: set GIGBOT_PAYMENTS=stripe, or GIGBOT_ALLOW_SANDBOX_PAYMENTS=true "
            "to run a test bot on purpose"
        )

    # -- derived values -------------------------------------------------------

    @property
    def sandbox(self) -> bool:
        """No token: the local sandbox stands in for Telegram."""
        return not self.bot_token

    @property
    def secret_values(self) -> list[str]:
        """What must never appear in a log (bot/logging.py redacts each)."""
        values = [
            self.bot_token,
            self.webhook_secret,
            self.stripe_secret_key,
            self.stripe_webhook_secret,
            self.stripe_connect_webhook_secret,
            self.telegram_provider_token,
            _password(self.database_url),
        ]
        return [v for v in values if v]

    @property
    def webhook_path(self) -> str | None:
        if not self.webhook_url:
            return None
        return urlsplit(self.webhook_url).path or "/"

    def market_config(self) -> MarketConfig:
        return MarketConfig(
            currency=self.currency,
            client_fee_bp=percent_to_bp(self.client_fee_percent),
            freelancer_fee_bp=percent_to_bp(self.freelancer_fee_percent),
            auto_release_days=self.auto_release_days,
            dispute_response_days=self.dispute_response_days,
            dispute_negotiation_days=self.dispute_negotiation_days,
            job_expiry_days=self.job_expiry_days,
            timesheet_review_days=self.timesheet_review_days,
            timesheet_week_start=self.timesheet_week_start,
            service_accept_hours=self.service_accept_hours,
            service_auto_complete_days=self.service_auto_complete_days,
            service_extra_revision_percent=self.service_extra_revision_percent,
            partial_offer_days=self.partial_offer_days,
            admin_ids=self.admin_ids,
            payments=self.payments,
            update_dedup_hours=self.update_dedup_hours,
            outbox_keep_days=self.outbox_keep_days,
        )


def _password(url: str) -> str | None:
    try:
        return make_url(url).password
    except ArgumentError:  # not a URL; the database refuses it at start
        return None


class SettingsError(Exception):
    """Bad settings, phrased for an operator (no stack trace)."""


def describe_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        field = ".".join(str(p) for p in item.get("loc", ()) if p != "__root__")
        message = item.get("msg", "invalid").removeprefix("Value error, ")
        name = f"GIGBOT_{field.upper()}: " if field else ""
        lines.append(f"  {name}{message}")
    return "invalid settings:\n" + "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and .env, with clear errors as SettingsError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(describe_errors(error)) from None
