"""The `gigbot` command line: migrate on a temporary SQLite file, friendly errors."""

from __future__ import annotations

import os
import sqlite3

import pytest

from bot.cli import EXIT_BAD_SETTINGS, main


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("GIGBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _tables(path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_migrate_creates_the_schema_and_is_idempotent(monkeypatch, tmp_path, capsys):
    path = tmp_path / "fresh.db"
    monkeypatch.setenv("GIGBOT_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    assert main(["migrate"]) == 0
    tables = _tables(path)
    assert {"users", "jobs", "outbox", "stored_updates", "processed_updates"} <= tables
    assert "newest revision" in capsys.readouterr().out
    assert main(["migrate"]) == 0  # a second run changes nothing
    assert _tables(path) == tables


def test_bad_settings_are_reported_without_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("GIGBOT_CLIENT_FEE_PERCENT", "150")
    assert main(["migrate"]) == EXIT_BAD_SETTINGS
    err = capsys.readouterr().err
    assert "GIGBOT_CLIENT_FEE_PERCENT" in err
    assert "Traceback" not in err


def test_unreachable_database_is_a_one_line_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("GIGBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/x.db")
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert "gigbot: migration failed: OperationalError" in err
    assert "Traceback" not in err


def test_unknown_command_exits_with_usage(capsys):
    with pytest.raises(SystemExit) as info:
        main(["fly"])
    assert info.value.code == 2
    assert "usage: gigbot" in capsys.readouterr().err


def test_port_in_use_is_a_friendly_start_up_error(monkeypatch, tmp_path, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("GIGBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/x.db")
        monkeypatch.setenv("GIGBOT_HTTP_PORT", str(port))
        assert main(["sandbox"]) == 1
    err = capsys.readouterr().err
    assert f"gigbot: cannot listen on 127.0.0.1:{port}" in err
    assert "Traceback" not in err


def test_a_real_token_with_sandbox_payments_refuses_to_start(monkeypatch, tmp_path, capsys):
    """Production cannot take fake money: `gigbot run` with a bot token and the default
    GIGBOT_PAYMENTS=sandbox stops before touching anything, naming the settings."""
    path = tmp_path / "live.db"
    monkeypatch.setenv("GIGBOT_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("GIGBOT_BOT_TOKEN", "123456:real-looking-token")
    assert main(["run"]) == EXIT_BAD_SETTINGS
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # one line
    assert err.startswith("gigbot: invalid settings: GIGBOT_PAYMENTS=sandbox takes no real money")
    assert "GIGBOT_ALLOW_SANDBOX_PAYMENTS=true" in err and "GIGBOT_PAYMENTS=stripe" in err
    assert "Traceback" not in err
    assert not path.exists()  # refused before the database, the HTTP port or Telegram

    monkeypatch.setenv("GIGBOT_PAYMENTS", "sandbox")  # said explicitly: still refused
    assert main(["run"]) == EXIT_BAD_SETTINGS
    monkeypatch.setenv("GIGBOT_ALLOW_SANDBOX_PAYMENTS", "false")
    assert main(["run"]) == EXIT_BAD_SETTINGS
    assert "GIGBOT_ALLOW_SANDBOX_PAYMENTS=true" in capsys.readouterr().err
    assert main(["migrate"]) == 0  # migrating takes no payments: allowed


def test_the_allow_flag_and_the_local_sandbox_are_not_refused(monkeypatch):
    from bot.config import load_settings

    monkeypatch.setenv("GIGBOT_BOT_TOKEN", "123456:real-looking-token")
    settings = load_settings()
    assert settings.fake_money_problem(sandbox=False)
    assert settings.fake_money_problem(sandbox=True) is None  # `gigbot sandbox`: no Telegram
    monkeypatch.setenv("GIGBOT_ALLOW_SANDBOX_PAYMENTS", "true")
    assert load_settings().fake_money_problem(sandbox=False) is None
    monkeypatch.delenv("GIGBOT_ALLOW_SANDBOX_PAYMENTS")
    monkeypatch.setenv("GIGBOT_PAYMENTS", "stripe")
    monkeypatch.setenv("GIGBOT_STRIPE_SECRET_KEY", "sk_test_1")
    monkeypatch.setenv("GIGBOT_STRIPE_WEBHOOK_SECRET", "whsec_1")
    assert load_settings().fake_money_problem(sandbox=False) is None
    monkeypatch.delenv("GIGBOT_BOT_TOKEN")
    monkeypatch.setenv("GIGBOT_PAYMENTS", "sandbox")
    assert load_settings().fake_money_problem(sandbox=False) is None  # no token: local sandbox
