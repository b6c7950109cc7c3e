"""Payment links follow the server (issue 11, item 2): without GIGBOT_PUBLIC_URL
the pages are linked at the host and port actually served, and the start-up
banner says where."""

from __future__ import annotations

from bot.app import Runtime
from bot.config import Settings
from tests.e2e.test_runtime import free_port


def sandbox_settings(db_path, **extra) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(
        _env_file=None,
        bot_token=None,
        database_url=f"sqlite+aiosqlite:///{db_path}",
        http_host="127.0.0.1",
        http_port=free_port(),
        **extra,
    )


async def test_payment_links_follow_the_port_served(tmp_path) -> None:
    settings = sandbox_settings(tmp_path / "a.db")
    said: list[str] = []
    rt = Runtime(settings, sandbox=True, announce=said.append, run_scheduler=False)
    await rt.start()
    try:
        expected = f"http://127.0.0.1:{settings.http_port}"
        assert rt.public_url == expected == rt.url
        assert rt.payments.gateway.public_url == expected  # type: ignore[union-attr]
        assert rt.engine.public_url == expected  # type: ignore[union-attr]
        assert any(f"Payment pages: {expected}/pay/" in line for line in said)
    finally:
        await rt.stop()


async def test_a_public_url_set_on_purpose_is_kept(tmp_path) -> None:
    settings = sandbox_settings(tmp_path / "b.db", public_url="https://pay.example.org")
    rt = Runtime(settings, sandbox=True, announce=lambda _: None, run_scheduler=False)
    await rt.start()
    try:
        assert rt.public_url == "https://pay.example.org"
        assert rt.payments.gateway.public_url == "https://pay.example.org"  # type: ignore[union-attr]
    finally:
        await rt.stop()
