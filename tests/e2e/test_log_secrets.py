"""No secret in the logs at DEBUG: a whole run of the runtime in webhook mode with
Stripe payments, by real aiogram and real python-telegram-bot against the Bot API
emulator (PTB logs its token and the webhook secret at DEBUG), logging set up as
`gigbot run` does it (bot/cli.py). The bot token, the webhook secret and the Stripe
keys appear nowhere in what was written."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest

from bot.app import Runtime
from bot.logging import REDACTED, setup_logging
from tests.e2e.harness import CLARA, FRAMEWORKS, make_emulator, serve_emulator
from tests.e2e.test_runtime import SECRET, settings_for
from tests.payments.stripe_standin import sign

STRIPE_KEY = "sk_test_51HlogSecretKey"
STRIPE_WEBHOOK_SECRET = "whsec_log_test_secret"
STRIPE_CONNECT_SECRET = "whsec_log_connect_secret"


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_debug_run_logs_no_secret(framework, tmp_path, log_output):
    emu = make_emulator()
    async with serve_emulator(emu) as api_base:
        settings = settings_for(
            framework, "webhook", api_base, emu.token, tmp_path / "logs.db"
        ).model_copy(
            update={
                "log_level": "DEBUG",
                "payments": "stripe",
                "stripe_secret_key": STRIPE_KEY,
                "stripe_webhook_secret": STRIPE_WEBHOOK_SECRET,
                "stripe_connect_webhook_secret": STRIPE_CONNECT_SECRET,
                "stripe_api_base": "http://127.0.0.1:9",  # nothing is asked of Stripe
            }
        )
        secrets = settings.secret_values
        assert {emu.token, SECRET, STRIPE_KEY, STRIPE_WEBHOOK_SECRET} <= set(secrets)
        setup_logging("DEBUG", secrets=secrets, stream=log_output)
        runtime = Runtime(
            settings, announce=lambda _: None, polling_timeout_s=1, shutdown_timeout_s=5
        )
        await runtime.start()
        try:
            emu.send_command(CLARA, "start")
            welcome = await emu.wait_for_message(CLARA, lambda m: "Welcome to Gigbot" in m["text"])
            press = emu.press_button(CLARA, welcome["message_id"], text="💼 I hire (client)")
            await emu.wait_for_callback_answer(press.id)
            # Stripe: an event signed with each secret, one with a bad signature.
            event = json.dumps({"id": "evt_log", "type": "customer.created", "data": {}})
            async with aiohttp.ClientSession() as session:
                for signature, status in (
                    (sign(event.encode(), STRIPE_WEBHOOK_SECRET), 200),
                    (sign(event.encode(), STRIPE_CONNECT_SECRET), 200),
                    ("t=1,v1=00", 400),
                ):
                    async with session.post(
                        f"{runtime.url}/stripe/webhook",
                        data=event,
                        headers={"Stripe-Signature": signature},
                    ) as response:
                        assert response.status == status
            await runtime.dispatcher.drain()
            # A failure whose message quotes secrets, from a library's logger.
            try:
                raise RuntimeError(f"{emu.token} {SECRET} {STRIPE_KEY}")
            except RuntimeError:
                logging.getLogger("aiohttp.client").exception("request failed")
        finally:
            await runtime.stop()
    text = log_output.getvalue()
    if framework == "ptb":  # these lines held the token and the webhook secret
        assert f"Set Bot API URL: {api_base}/bot123456789:{REDACTED}" in text
        assert f"'secret_token': '{REDACTED}'" in text
    assert "stripe webhook refused" in text
    for secret in (*secrets, emu.token.partition(":")[2]):
        assert secret not in text
    assert REDACTED in text
