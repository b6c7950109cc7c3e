"""Structured logging (structlog): readable console lines, or one JSON object a line.

Standard-library loggers (aiogram, PTB, aiohttp, SQLAlchemy) go through the same
renderer, so an operator sees one consistent stream.

No secret is ever written, at any level: `setup_logging(secrets=…)` (the bot token,
the webhook secret, the Stripe keys, the database password: Settings.secret_values)
installs a SecretFilter on every handler, which rewrites each record that reaches
it, ours and the libraries' alike (PTB logs the token and the webhook secret at
DEBUG), and the handler's formatter redacts what it renders once more (a traceback
is rendered from the exception only at that point).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, TextIO
from urllib.parse import quote

import structlog

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 6  # anything shorter would blank out ordinary words


class SecretFilter(logging.Filter):
    """Replaces every known secret in a log record (its message, arguments,
    traceback and stack) with REDACTED. Installed on a handler it sees every
    record the handler emits, whichever logger made it."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self._secrets: tuple[str, ...] = ()
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[str | None]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            # A bot token is "<bot id>:<secret part>": the id is public and stays.
            bot_id, colon, secret_part = (secret or "").partition(":")
            if colon and bot_id.isdigit():
                secret = secret_part
            if not secret or len(secret) < MIN_SECRET_LENGTH:
                continue
            forms.update((secret, quote(secret, safe="")))
        # Longest first: a secret that contains another is replaced whole.
        self._secrets = tuple(sorted(forms, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        if isinstance(record.msg, dict):
            # A structlog event dict, rendered by the formatter (RedactingFormatter).
            record.msg = {key: self._redact_value(v) for key, v in record.msg.items()}
            return True
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit: logging reports that itself
            return True
        clean = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            trace = record.exc_text or _FORMATTER.formatException(record.exc_info)
            if self.redact(trace) != trace:
                # Renderers format the exception afresh: hand them the clean text instead.
                clean = f"{clean}\n{self.redact(trace)}"
                record.exc_info = record.exc_text = None
        if clean != message:
            record.msg, record.args = clean, None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def _redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        text = repr(value)
        clean = self.redact(text)
        return value if clean == text else clean


class RedactingFormatter(logging.Formatter):
    """Wraps the handler's formatter and redacts its output: whatever a renderer
    adds late (an exception's traceback, an event dict's values) is covered too."""

    def __init__(self, inner: logging.Formatter, secrets: SecretFilter) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return self.secrets.redact(self.inner.format(record))


_FORMATTER = logging.Formatter()
SECRETS = SecretFilter()  # the process's one filter; setup_logging fills it


def redact(text: str) -> str:
    """`text` without any secret setup_logging was given (for messages printed
    outside logging, such as a start-up failure)."""
    return SECRETS.redact(text)


def install_secret_filter(secrets: Iterable[str | None]) -> SecretFilter:
    """Redact `secrets` from every handler now attached to any logger (the root's and
    any a library added); returns the shared filter."""
    SECRETS.set_secrets(secrets)
    loggers: list[Any] = [logging.getLogger()]
    loggers += list(logging.Logger.manager.loggerDict.values())
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):
            if SECRETS not in handler.filters:
                handler.addFilter(SECRETS)
    return SECRETS


def setup_logging(
    level: str = "INFO",
    json: bool = False,
    secrets: Iterable[str | None] = (),
    stream: TextIO | None = None,
) -> None:
    stream = stream or sys.stderr
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *([structlog.processors.format_exc_info] if json else []),
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(formatter, SECRETS))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    install_secret_filter(secrets)
    # aiohttp's access log and SQLAlchemy's engine echo are noise at INFO.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
