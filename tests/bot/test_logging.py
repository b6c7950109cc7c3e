"""bot/logging.py: no secret reaches the log, whichever logger writes it, in its
message, its arguments, its traceback or its stack, at DEBUG, console or JSON."""

from __future__ import annotations

import logging

import pytest

from bot.config import Settings
from bot.logging import REDACTED, SECRETS, SecretFilter, get_logger, redact, setup_logging

TOKEN = "123456789:AAHk-secret_part_of_the_token"
WEBHOOK_SECRET = "webhook_Secret-42"
STRIPE_KEY = "sk_test_51Hsecretkey"
STRIPE_WEBHOOK = "whsec_signing_secret"
SECRETS_USED = (TOKEN, WEBHOOK_SECRET, STRIPE_KEY, STRIPE_WEBHOOK)


def assert_clean(text: str) -> None:
    for secret in (*SECRETS_USED, TOKEN.partition(":")[2]):
        assert secret not in text


@pytest.mark.parametrize("json", [False, True], ids=["console", "json"])
def test_every_logger_and_every_part_of_a_record_is_redacted(log_output, json):
    setup_logging("DEBUG", json=json, secrets=SECRETS_USED, stream=log_output)
    # A library's logger, the secret as an argument (PTB logs its request URL so).
    logging.getLogger("telegram.ext").debug("POST https://api.telegram.org/bot%s/getMe", TOKEN)
    logging.getLogger("httpx").warning("secret_token=%s", WEBHOOK_SECRET)
    logging.getLogger("stripe").error("Bearer %(key)s", {"key": STRIPE_KEY})
    # In an exception's message, rendered only by the formatter.
    try:
        raise RuntimeError(f"signature with {STRIPE_WEBHOOK} failed")
    except RuntimeError:
        logging.getLogger("bot.payments").exception("webhook failed")
    logging.getLogger("aiohttp.server").info("stack", stack_info=True, extra={"x": TOKEN})
    get_logger("bot.structured").info("structlog event", token=TOKEN)
    # URL-quoted, and the secret part of the token on its own.
    logging.getLogger("x").info("bot123456789%%3A%s", TOKEN.partition(":")[2])
    text = log_output.getvalue()
    assert_clean(text)
    assert text.count(REDACTED) == 6
    assert "123456789:" + REDACTED in text  # the bot id stays: it is public
    assert "RuntimeError" in text and "webhook failed" in text  # the traceback, cleaned


def test_the_filter_rewrites_records_for_every_handler(log_output):
    """A handler added after setup (a test's, a library's) gets redacted records too,
    once install_secret_filter has run over it."""
    setup_logging("DEBUG", secrets=SECRETS_USED, stream=log_output)
    record = logging.LogRecord("lib", logging.INFO, __file__, 1, "token %s", (TOKEN,), None)
    assert SECRETS.filter(record)
    assert record.getMessage() == f"token 123456789:{REDACTED}"


def test_short_or_empty_secrets_are_not_redacted():
    """A 1-character secret would blank out every such letter; none is redacted."""
    f = SecretFilter(["", None, "abc"])
    assert f.redact("abc def") == "abc def"


def test_settings_name_every_secret():
    settings = Settings(
        _env_file=None,
        bot_token=TOKEN,
        webhook_url="https://bot.example.com/hook",
        webhook_secret=WEBHOOK_SECRET,
        payments="stripe",
        stripe_secret_key=STRIPE_KEY,
        stripe_webhook_secret=STRIPE_WEBHOOK,
        stripe_connect_webhook_secret="whsec_connect_secret",
        database_url="postgresql+asyncpg://gigbot:db-Passw0rd@db/gigbot",
    )
    assert set(settings.secret_values) == {
        *SECRETS_USED,
        "whsec_connect_secret",
        "db-Passw0rd",
    }


def test_redact_serves_messages_printed_outside_logging(log_output):
    setup_logging("INFO", secrets=[TOKEN], stream=log_output)
    assert redact(f"InvalidToken: The token `{TOKEN}` was rejected") == (
        f"InvalidToken: The token `123456789:{REDACTED}` was rejected"
    )
