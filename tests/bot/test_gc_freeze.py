"""`gigbot run` freezes what start-up loaded out of the garbage collector's sight
(bot/app.py, freeze_what_is_loaded): a full collection then no longer walks the
~100,000 objects of the modules, flows and translations. Runtimes started any other
way (the tests') leave the collector alone."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from tests.browser.test_webchat import free_port


def sandbox_settings(tmp_path: Path) -> Any:
    from bot.config import Settings

    port = free_port()
    return Settings(
        _env_file=None,
        bot_token=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'gc.db'}",
        http_host="127.0.0.1",
        http_port=port,
        public_url=f"http://127.0.0.1:{port}",
    )


@pytest.mark.parametrize("freeze", [False, True])
async def test_a_runtime_freezes_only_when_asked(tmp_path: Path, freeze: bool) -> None:
    from bot.app import Runtime

    gc.unfreeze()
    runtime = Runtime(
        sandbox_settings(tmp_path),
        sandbox=True,
        announce=lambda _: None,
        run_scheduler=False,
        freeze_gc=freeze,
    )
    await runtime.start()
    try:
        frozen = gc.get_freeze_count()
        assert (frozen > 10_000) if freeze else frozen == 0
    finally:
        await runtime.stop()
        gc.unfreeze()  # this test process goes on


def test_gigbot_run_asks_for_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made: dict[str, Any] = {}

    class Recorder:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.update(kwargs)

        async def serve(self) -> None:
            return None

    monkeypatch.setattr("bot.app.Runtime", Recorder)
    assert cli._serve(sandbox_settings(tmp_path), sandbox=True, demo=False) == 0
    assert made["freeze_gc"] is True
