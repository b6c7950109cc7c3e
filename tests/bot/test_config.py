"""Settings: defaults, parsing of operator input, and clear errors for bad values."""

from __future__ import annotations

import pytest

from bot.config import Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No GIGBOT_ variables or .env from the developer's machine leak into these tests."""
    import os

    for name in list(os.environ):
        if name.startswith("GIGBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_match_the_design():
    s = Settings()
    assert s.bot_token is None and s.sandbox
    assert s.framework == "aiogram"
    assert s.telegram_api_base == "https://api.telegram.org"
    assert s.database_url == "sqlite+aiosqlite:///gigbot.db"
    assert s.webhook_url is None and s.webhook_path is None
    assert (s.http_host, s.http_port) == ("127.0.0.1", 8080)
    assert s.public_url == "http://127.0.0.1:8080"
    assert s.admin_ids == frozenset()
    assert s.payments == "sandbox" and s.currency == "USD"
    assert s.auto_release_days == 14
    assert (s.send_rate, s.private_chat_rate, s.group_chat_rate_per_min) == (30, 1, 20)
    market = s.market_config()
    assert (market.client_fee_bp, market.freelancer_fee_bp) == (500, 1000)


def test_environment_values_are_parsed(monkeypatch):
    monkeypatch.setenv("GIGBOT_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("GIGBOT_FRAMEWORK", "ptb")
    monkeypatch.setenv("GIGBOT_ADMIN_IDS", "1,2, 3")
    monkeypatch.setenv("GIGBOT_CURRENCY", "eur")
    monkeypatch.setenv("GIGBOT_CLIENT_FEE_PERCENT", "2.5")
    monkeypatch.setenv("GIGBOT_FREELANCER_FEE_PERCENT", "0")
    monkeypatch.setenv("GIGBOT_WEBHOOK_URL", "https://bot.example.com/tg/hook")
    monkeypatch.setenv("GIGBOT_WEBHOOK_SECRET", "s3cret_-X")
    monkeypatch.setenv("GIGBOT_LOG_JSON", "true")
    s = Settings()
    assert not s.sandbox and s.framework == "ptb"
    assert s.admin_ids == frozenset({1, 2, 3})
    assert s.webhook_path == "/tg/hook"
    assert s.log_json is True
    market = s.market_config()
    assert market.currency == "EUR"
    assert (market.client_fee_bp, market.freelancer_fee_bp) == (250, 0)
    assert market.is_admin(2) and not market.is_admin(4)


def test_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("GIGBOT_ADMIN_IDS=42\nGIGBOT_WEBHOOK_URL=\n")
    s = Settings()
    assert s.admin_ids == frozenset({42})
    assert s.webhook_url is None  # blank means unset


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"GIGBOT_WEBHOOK_URL": "https://x.example/h", "GIGBOT_BOT_TOKEN": "1:a"},
            "GIGBOT_WEBHOOK_SECRET",
        ),
        (
            {
                "GIGBOT_WEBHOOK_URL": "https://x.example/h",
                "GIGBOT_BOT_TOKEN": "1:a",
                "GIGBOT_WEBHOOK_SECRET": "bad secret!",
            },
            "A-Z, a-z, 0-9, _ and -",
        ),
        (
            {
                "GIGBOT_WEBHOOK_URL": "https://x.example/h",
                "GIGBOT_BOT_TOKEN": "1:a",
                "GIGBOT_WEBHOOK_SECRET": "a" * 257,
            },
            "1-256",
        ),
        (
            {"GIGBOT_PAYMENTS": "stripe"},
            "GIGBOT_STRIPE_SECRET_KEY and GIGBOT_STRIPE_WEBHOOK_SECRET",
        ),
        (
            {"GIGBOT_PAYMENTS": "stripe", "GIGBOT_STRIPE_SECRET_KEY": "sk_test_1"},
            "needs GIGBOT_STRIPE_WEBHOOK_SECRET",
        ),
        ({"GIGBOT_CLIENT_FEE_PERCENT": "101"}, "GIGBOT_CLIENT_FEE_PERCENT: must be a percentage"),
        ({"GIGBOT_FREELANCER_FEE_PERCENT": "-1"}, "GIGBOT_FREELANCER_FEE_PERCENT"),
        ({"GIGBOT_CURRENCY": "dollars"}, "GIGBOT_CURRENCY: must be an ISO 4217 code"),
        ({"GIGBOT_ADMIN_IDS": "1, bob"}, "GIGBOT_ADMIN_IDS: admin ids must be"),
        ({"GIGBOT_FRAMEWORK": "telethon"}, "GIGBOT_FRAMEWORK"),
        ({"GIGBOT_PUBLIC_URL": "localhost:8080"}, "GIGBOT_PUBLIC_URL: must be an http(s) URL"),
        ({"GIGBOT_LOG_LEVEL": "loud"}, "GIGBOT_LOG_LEVEL"),
    ],
)
def test_bad_settings_get_a_clear_error(monkeypatch, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert expected in str(info.value)
    assert "Traceback" not in str(info.value)


def test_stripe_with_keys_is_accepted(monkeypatch):
    monkeypatch.setenv("GIGBOT_PAYMENTS", "stripe")
    monkeypatch.setenv("GIGBOT_STRIPE_SECRET_KEY", "sk_test_1")
    monkeypatch.setenv("GIGBOT_STRIPE_WEBHOOK_SECRET", "whsec_1")
    assert load_settings().market_config().payments == "stripe"


def test_telegram_payments_need_the_provider_token_and_stripe(monkeypatch):
    monkeypatch.setenv("GIGBOT_PAYMENTS", "telegram")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "GIGBOT_PAYMENTS=telegram needs GIGBOT_TELEGRAM_PROVIDER_TOKEN" in str(info.value)
    monkeypatch.setenv("GIGBOT_TELEGRAM_PROVIDER_TOKEN", "284685063:TEST:abc")
    monkeypatch.setenv("GIGBOT_STRIPE_SECRET_KEY", "sk_test_1")
    monkeypatch.setenv("GIGBOT_STRIPE_WEBHOOK_SECRET", "whsec_1")
    settings = load_settings()
    assert settings.market_config().payments == "telegram"
    assert "284685063:TEST:abc" in settings.secret_values  # never logged


def test_the_stripe_connect_webhook_secret_is_optional(monkeypatch):
    monkeypatch.setenv("GIGBOT_PAYMENTS", "stripe")
    monkeypatch.setenv("GIGBOT_STRIPE_SECRET_KEY", "sk_test_1")
    monkeypatch.setenv("GIGBOT_STRIPE_WEBHOOK_SECRET", "whsec_1")
    assert load_settings().stripe_connect_webhook_secret is None
    monkeypatch.setenv("GIGBOT_STRIPE_CONNECT_WEBHOOK_SECRET", "  ")  # blank in .env: unset
    assert load_settings().stripe_connect_webhook_secret is None
    monkeypatch.setenv("GIGBOT_STRIPE_CONNECT_WEBHOOK_SECRET", " whsec_connect ")
    assert load_settings().stripe_connect_webhook_secret == "whsec_connect"


def test_the_outbox_lease_is_a_few_seconds_and_can_be_set(monkeypatch):
    assert Settings().outbox_lease_seconds == 6
    monkeypatch.setenv("GIGBOT_OUTBOX_LEASE_SECONDS", "10")
    assert load_settings().outbox_lease_seconds == 10
    monkeypatch.setenv("GIGBOT_OUTBOX_LEASE_SECONDS", "0.2")
    with pytest.raises(SettingsError, match="GIGBOT_OUTBOX_LEASE_SECONDS"):
        load_settings()
