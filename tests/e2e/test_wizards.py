"""Wizards that forgive (issue 11, items 3 and 4) through the real aiogram and
python-telegram-bot against the emulator: /cancel is in the command menu and ends
the job wizard with the menu, and each new wizard step takes the previous step
message's buttons away (editMessageReplyMarkup through the outbox)."""

from __future__ import annotations

import pytest

from bot.app import Runtime
from tests.e2e.harness import CLARA, FRAMEWORKS, make_emulator, serve_emulator
from tests.e2e.test_runtime import settings_for


@pytest.fixture(params=FRAMEWORKS)
async def world(request, tmp_path):
    emu = make_emulator()
    async with serve_emulator(emu) as api_base:
        settings = settings_for(request.param, "polling", api_base, emu.token, tmp_path / "w.db")
        rt = Runtime(settings, announce=lambda _: None, polling_timeout_s=1, shutdown_timeout_s=5)
        await rt.start()
        try:
            yield emu
        finally:
            await rt.stop()


def _buttons(message: dict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def test_cancel_ends_the_job_wizard_and_old_steps_lose_their_buttons(world):
    emu = world
    assert any(c["command"] == "cancel" for c in emu.commands_for(CLARA))
    emu.send_command(CLARA, "start")
    welcome = await emu.wait_for_message(CLARA, lambda m: "Welcome to Gigbot" in m["text"])
    press = emu.press_button(CLARA, welcome["message_id"], text="💼 I hire (client)")
    await emu.wait_for_callback_answer(press.id)

    emu.send_command(CLARA, "post")
    title = await emu.wait_for_message(CLARA, lambda m: "step 1 of 7" in m["text"])
    assert _buttons(title) == ["✖️ Cancel"]
    emu.send_text(CLARA, "Logo for a coffee shop")
    step2 = await emu.wait_for_message(CLARA, lambda m: "Step 2 of 7" in m["text"])
    assert "✖️ Cancel" in _buttons(step2)
    # The older step's buttons are gone (editMessageReplyMarkup through the framework).
    await emu.wait_for_message(
        CLARA, lambda m: m["message_id"] == title["message_id"] and not _buttons(m)
    )

    emu.send_command(CLARA, "cancel")
    done = await emu.wait_for_message(
        CLARA, lambda m: m["text"].startswith("✖️ Cancelled."), after=step2["message_id"]
    )
    assert "📝 Post a job" in _buttons(done)  # the main menu
    await emu.wait_for_message(
        CLARA, lambda m: m["message_id"] == step2["message_id"] and not _buttons(m)
    )
    assert emu.calls_to("editMessageReplyMarkup")

    emu.send_text(CLARA, "A round logo with a coffee bean, vector files.")
    after = await emu.wait_for_message(CLARA, after=done["message_id"])
    assert "Step 3 of 7" not in after["text"]  # the wizard is over
