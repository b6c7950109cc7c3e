"""Each framework's TelegramApi and polling, through its real HTTP stack, against the
Bot API emulator on loopback."""

from __future__ import annotations

import asyncio
import json
import struct
import zlib

import pytest

from bot import telegram_port as port
from bot.adapters import create_adapter
from handlers.events import Event
from tests.e2e.harness import CLARA, FELIX, FRAMEWORKS, make_emulator, serve_emulator

BUTTONS = [[{"text": "Open", "data": "job:1"}, {"text": "Site", "url": "https://example.com"}]]


@pytest.fixture
def emu():
    return make_emulator()


@pytest.fixture(params=FRAMEWORKS)
async def adapter(request, emu):
    async with serve_emulator(emu) as base:
        adapter = create_adapter(request.param, emu.token, base)
        await adapter.start()
        yield adapter
        await adapter.close()


async def test_knows_its_username(adapter):
    assert adapter.username == "gigbot_sandbox_bot"


async def test_send_edit_document_with_html_and_no_previews(adapter, emu):
    emu.send_text(CLARA, "hi")  # the chat is open to the bot once the user wrote
    api = adapter.api
    message_id = await api.send_message(CLARA, "<b>Hello</b> https://example.com", BUTTONS)
    sent = emu.calls_to("sendMessage")[-1].params
    assert sent["parse_mode"] == "HTML"
    preview = sent["link_preview_options"]
    assert (json.loads(preview) if isinstance(preview, str) else preview)["is_disabled"] is True
    shown = emu.last_message(CLARA)
    assert shown["message_id"] == message_id and shown["text"].startswith("Hello")
    buttons = shown["reply_markup"]["inline_keyboard"][0]
    assert buttons[0]["callback_data"] == "job:1" and buttons[1]["url"] == "https://example.com"

    await api.edit_message(CLARA, message_id, "<i>Edited</i>", None)
    await api.edit_message(CLARA, message_id, "<i>Edited</i>", None)  # "not modified" is fine
    assert emu.last_message(CLARA)["text"] == "Edited"

    upload = emu.send_document(CLARA, b"%PDF-1", "cv.pdf", "application/pdf")
    file_id = upload["document"]["file_id"]
    doc_id = await api.send_document(CLARA, file_id, "<b>your file</b>", None)
    assert emu.last_message(CLARA)["message_id"] == doc_id
    assert emu.last_message(CLARA)["caption"] == "your file"


def png(width: int, height: int) -> bytes:
    """A real PNG header (the emulator reads the size from IHDR)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


async def test_send_photo_with_caption_and_buttons(adapter, emu):
    emu.send_text(CLARA, "hi")
    photo = emu.store_file(png(640, 480), "shot.png", "image/png", "photos")
    message_id = await adapter.api.send_photo(CLARA, photo.file_id, "<b>Screenshot</b> v1", BUTTONS)
    call = emu.calls_to("sendPhoto")[-1]
    assert call.status == 200 and call.params["parse_mode"] == "HTML"
    shown = emu.last_message(CLARA)
    assert shown["message_id"] == message_id
    assert shown["photo"][0]["file_id"] == photo.file_id
    assert (shown["photo"][0]["width"], shown["photo"][0]["height"]) == (640, 480)
    assert shown["caption"] == "Screenshot v1" and "text" not in shown
    assert shown["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "job:1"
    with pytest.raises(port.BadRequest):  # an unknown file is Telegram's 400, mapped
        await adapter.api.send_photo(CLARA, "no-such-file", None, None)


async def test_errors_are_mapped_to_the_port(adapter, emu):
    api = adapter.api
    with pytest.raises(port.Forbidden):
        await api.send_message(FELIX, "never wrote to the bot", None)
    emu.send_text(CLARA, "hi")
    with pytest.raises(port.BadRequest):
        await api.send_message(CLARA, "<b>unclosed", None)
    with pytest.raises(port.BadRequest):
        await api.edit_message(CLARA, 999_999, "gone", None)
    emu.limits.per_chat_per_second = 1
    await api.send_message(CLARA, "first", None)
    with pytest.raises(port.RetryAfter) as info:
        await api.send_message(CLARA, "second", None)
    assert info.value.seconds >= 1


async def test_commands_callback_answers_and_raw_calls(adapter, emu):
    api = adapter.api
    await api.set_commands([("start", "Start"), ("help", "Help")], None)
    await api.set_commands([("start", "Начать")], "ru")
    emu.add_user("Ivan", user_id=2001, language_code="ru")
    assert [c["command"] for c in emu.commands_for(CLARA)] == ["start", "help"]
    assert emu.commands_for(2001)[0]["description"] == "Начать"

    emu.send_text(CLARA, "hi")
    message_id = await api.send_message(CLARA, "pick", [[{"text": "A", "data": "a"}]])
    press = emu.press_button(CLARA, message_id, "a")
    await api.answer_callback(press.id, "Done", True)
    answered = await emu.wait_for_callback_answer(press.id)
    assert (answered.text, answered.show_alert) == ("Done", True)

    me = await api.call("getMe")
    assert me["username"] == "gigbot_sandbox_bot"


async def test_polling_feeds_events_in_order(adapter, emu):
    got: list[Event] = []
    three = asyncio.Event()

    async def submit(event: Event) -> None:
        got.append(event)
        if len(got) == 3:
            three.set()

    await adapter.start_polling(submit, timeout_s=1)
    emu.send_command(CLARA, "start", "job_5")
    emu.send_text(CLARA, "one")
    emu.block_bot(FELIX)  # FELIX never opened the chat; blocking is still an update
    await asyncio.wait_for(three.wait(), 5)
    await adapter.stop_polling()
    assert [(e.kind, e.command, e.args, e.text) for e in got[:2]] == [
        ("command", "start", "job_5", "/start job_5"),
        ("text", None, "", "one"),
    ]
    assert (got[2].kind, got[2].user_id) == ("blocked", FELIX)
    assert got[0].update_id < got[1].update_id < got[2].update_id
    # Confirmed: a new poller does not get them again.
    assert emu.updates == []


async def test_webhook_is_set_and_deleted(adapter, emu):
    await adapter.set_webhook("http://127.0.0.1:9/tg/hook", "s3cret")
    assert (emu.webhook_url, emu.webhook_secret) == ("http://127.0.0.1:9/tg/hook", "s3cret")
    await adapter.delete_webhook()
    assert emu.webhook_url in (None, "")
