"""The operator's files (Dockerfile, compose.yaml, deploy/) against the code they run.

No Docker engine runs on the machines the suite runs on, so the containers are not
started here (tests/scale starts the same `gigbot run` processes behind HAProxy on
real PostgreSQL). What drifts silently is checked instead: every setting these files
set is one Settings reads, every command they run is one the CLI has, every file
they copy or mount exists, the health check is the route the server answers, and
HAProxy accepts the balancer's configuration.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
FILES = ("Dockerfile", "compose.yaml", "deploy/gigbot@.service", "deploy/haproxy.cfg")
SETTING = re.compile(r"\b(GIGBOT_[A-Z0-9_]+)\b")


def _text(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def _settings_names() -> set[str]:
    return {f"GIGBOT_{name.upper()}" for name in Settings.model_fields}


def _cli_commands() -> set[str]:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    return set(commands.choices)


@pytest.mark.parametrize("name", FILES[:3])
def test_every_setting_set_is_one_gigbot_reads(name):
    unknown = set(SETTING.findall(_text(name))) - _settings_names()
    assert not unknown, f"{name} sets {sorted(unknown)}, which Settings does not read"


def test_every_command_run_is_one_the_cli_has():
    commands = _cli_commands()
    run = re.findall(r'"gigbot",\s*"([a-z-]+)"', _text("Dockerfile") + _text("compose.yaml"))
    run += re.findall(r"bin/gigbot ([a-z-]+)", _text("deploy/gigbot@.service"))
    assert run and set(run) <= commands, (run, commands)


def test_what_is_copied_and_mounted_exists():
    copies = re.findall(r"^COPY (.+)$", _text("Dockerfile"), re.MULTILINE)
    copied = [source for line in copies for source in line.split()[:-1]]
    mounted = re.findall(r"- \./([^:\s]+):", _text("compose.yaml"))
    missing = [p for p in [*copied, *mounted] if not (ROOT / p).exists()]
    assert copied and mounted and not missing, missing


def test_the_health_checks_ask_the_route_the_server_answers():
    server = (ROOT / "bot" / "http.py").read_text(encoding="utf-8")
    assert 'add_get("/healthz"' in server
    assert "/healthz" in _text("Dockerfile")
    assert "option httpchk GET /healthz" in _text("deploy/haproxy.cfg")


def test_compose_runs_the_processes_the_balancer_finds():
    compose = _text("compose.yaml")
    for service in ("postgres", "redis", "migrate", "gigbot", "balancer"):
        assert re.search(rf"^  {service}:$", compose, re.MULTILINE), service
    # HAProxy's server-template resolves the compose service's replicas by name and port.
    assert re.search(r"server-template gigbot \d+ gigbot:8080", _text("deploy/haproxy.cfg"))
    assert "GIGBOT_HTTP_PORT=8080" in _text("Dockerfile")


def test_haproxy_accepts_the_balancer_configuration(tmp_path):
    haproxy = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if haproxy is None:
        pytest.skip("haproxy is not installed (.ci/run installs it from Debian's packages)")
    checked = subprocess.run(
        [haproxy, "-c", "-f", str(ROOT / "deploy" / "haproxy.cfg")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
