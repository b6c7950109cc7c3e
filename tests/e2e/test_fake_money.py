"""Production cannot take fake money (bot/app.py, bot/config.py, the sandbox pay page):
a real bot token with the sandbox gateway starts only when allowed on purpose, every
sandbox payment page says TEST, and the page links are signed with a key that is
random per database (storage/app_secrets.py), not derived from a public constant."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

import aiohttp
import pytest

from bot.app import SANDBOX_PAGE_KEY, Runtime, StartupFailed
from bot.config import Settings
from storage.app_secrets import get_or_create_secret
from storage.database import Database
from tests.clock import ManualClock
from tests.e2e.harness import make_emulator, serve_emulator
from tests.e2e.test_runtime import free_port, settings_for
from tests.funding import open_checkout
from tests.payments.market import make_deal

BANNER = "TEST — no real money"


def old_signature(seed: str, payment_id: int) -> str:
    """How page links were signed before: a key anyone could derive from the seed."""
    key = hashlib.sha256(f"sandbox-pay:{seed}".encode()).digest()
    return hmac.new(key, f"pay:{payment_id}".encode(), hashlib.sha256).hexdigest()


async def checkout_path(rt: Runtime, clock: ManualClock) -> tuple[int, str]:
    """A funding checkout through the runtime's own gateway: (payment id, page path)."""
    assert rt.database is not None and rt.payments.gateway is not None
    deal = await make_deal(rt.database, clock, rt.settings.market_config())
    payment = await open_checkout(
        rt.database, clock, rt.settings.market_config(), rt.payments.gateway,
        deal.client_id, deal.milestone_id,
    )  # fmt: skip
    assert payment.id is not None and payment.checkout_url
    url = urlsplit(payment.checkout_url)
    return payment.id, f"{url.path}?{url.query}"


async def fetch(rt: Runtime, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"{rt.url}{path}") as resp:
        return resp.status, await resp.text()


async def test_a_real_token_without_the_allow_flag_does_not_start(tmp_path) -> None:
    emu = make_emulator()
    async with serve_emulator(emu) as api_base:
        settings = settings_for("aiogram", "polling", api_base, emu.token, tmp_path / "l.db")
        settings = settings.model_copy(update={"allow_sandbox_payments": False})
        rt = Runtime(settings, announce=lambda _: None, shutdown_timeout_s=1)
        with pytest.raises(StartupFailed, match="GIGBOT_ALLOW_SANDBOX_PAYMENTS=true"):
            await rt.start()
    assert emu.calls == []  # refused before Telegram heard of it
    assert not (tmp_path / "l.db").exists()


async def test_with_the_flag_it_starts_and_every_payment_page_says_test(tmp_path) -> None:
    clock = ManualClock()
    emu = make_emulator()
    said: list[str] = []
    async with serve_emulator(emu) as api_base:
        settings = settings_for("aiogram", "webhook", api_base, emu.token, tmp_path / "t.db")
        rt = Runtime(
            settings, announce=said.append, clock=clock, run_scheduler=False, shutdown_timeout_s=2
        )
        await rt.start()
        try:
            assert any("SANDBOX gateway" in line and "TEST" in line for line in said)
            payment_id, path = await checkout_path(rt, clock)
            status, page = await fetch(rt, path)
            assert status == 200 and BANNER in page and "<title>TEST" in page
            # The key is this database's own, made at start: links signed the old way,
            # from the bot token (or the webhook secret), no longer open the page.
            for seed in (emu.token, settings.webhook_secret or ""):
                forged = f"/pay/{payment_id}?sig={old_signature(seed, payment_id)}"
                status, page = await fetch(rt, forged)
                assert status == 403 and BANNER in page
            assert rt.database is not None
            key = await get_or_create_secret(rt.database, SANDBOX_PAGE_KEY)
            assert len(key) == 32
            assert urlsplit(path).query == (
                "sig=" + hmac.new(key, f"pay:{payment_id}".encode(), hashlib.sha256).hexdigest()
            )
        finally:
            await rt.stop()

        # A restart on the same database signs with the same key: sent links still work.
        settings = settings.model_copy(update={"http_port": free_port()})
        again = Runtime(settings, announce=lambda _: None, clock=clock, run_scheduler=False)
        await again.start()
        try:
            status, page = await fetch(again, path)
            assert status == 200 and BANNER in page
        finally:
            await again.stop()


async def test_the_local_sandbox_key_is_not_the_public_constant(tmp_path) -> None:
    clock = ManualClock()
    settings = Settings(
        _env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path}/s.db", http_port=0
    )
    rt = Runtime(settings, announce=lambda _: None, clock=clock, run_scheduler=False)
    await rt.start()
    try:
        payment_id, path = await checkout_path(rt, clock)
        status, page = await fetch(rt, path)
        assert status == 200 and BANNER in page
        # Before, a sandbox without a token signed with sha256("sandbox-pay:gigbot-local-sandbox").
        forged = f"/pay/{payment_id}?sig={old_signature('gigbot-local-sandbox', payment_id)}"
        assert (await fetch(rt, forged))[0] == 403
    finally:
        await rt.stop()

    # Another database, another key.
    other = Database(f"sqlite+aiosqlite:///{tmp_path}/s.db")
    try:
        first = await get_or_create_secret(other, SANDBOX_PAGE_KEY)
    finally:
        await other.dispose()
    settings = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{tmp_path}/o.db"})
    rt = Runtime(settings, announce=lambda _: None, clock=clock, run_scheduler=False)
    await rt.start()
    try:
        assert rt.database is not None
        assert await get_or_create_secret(rt.database, SANDBOX_PAGE_KEY) != first
    finally:
        await rt.stop()
