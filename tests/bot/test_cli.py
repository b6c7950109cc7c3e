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
