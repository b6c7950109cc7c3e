"""Raw Bot API updates → Events, parsed by each framework's own update model."""

from __future__ import annotations

import pytest

from bot.adapters import create_adapter
from handlers.events import Event, IncomingFile

CLARA = {
    "id": 1001,
    "is_bot": False,
    "first_name": "Clara",
    "last_name": "C",
    "username": "clara",
    "language_code": "ru",
}
PRIVATE = {"id": 1001, "type": "private", "first_name": "Clara"}
GROUP = {"id": -100500, "type": "supergroup", "title": "Team"}


def message(update_id: int = 7, chat=PRIVATE, **content) -> dict:
    return {
        "update_id": update_id,
        "message": {"message_id": 5, "date": 1700000000, "chat": chat, "from": CLARA, **content},
    }


@pytest.fixture(params=["aiogram", "ptb"])
def adapter(request):
    adapter = create_adapter(request.param, "123:abc", "http://127.0.0.1:9")
    adapter.username = "gigbot_bot"  # normally learnt from getMe at start
    return adapter


def test_plain_text(adapter):
    event = adapter.parse(message(text="Hello <b>"))
    assert event == Event(
        kind="text",
        user_id=1001,
        chat_id=1001,
        update_id=7,
        chat_type="private",
        user_name="Clara C",
        username="clara",
        language_code="ru",
        text="Hello <b>",
    )


@pytest.mark.parametrize(
    ("text", "command", "args"),
    [
        ("/start", "start", ""),
        ("/start job_12", "start", "job_12"),  # a deep link t.me/bot?start=job_12
        ("/Help@gigbot_bot", "help", ""),
        ("/resolve@GigBot_Bot 12  50%", "resolve", "12  50%"),
        ("/dispute 7\nsecond line", "dispute", "7\nsecond line"),
    ],
)
def test_commands_lose_the_slash_and_our_bot_name(adapter, text, command, args):
    event = adapter.parse(message(text=text))
    assert (event.kind, event.command, event.args) == ("command", command, args)


def test_a_command_for_another_bot_is_ignored(adapter):
    assert adapter.parse(message(chat=GROUP, text="/start@other_bot")) is None


def test_group_chat_type_is_kept(adapter):
    event = adapter.parse(message(chat=GROUP, text="hi"))
    assert (event.chat_id, event.chat_type, event.user_id) == (-100500, "supergroup", 1001)


def test_callback_query(adapter):
    payload = {
        "update_id": 9,
        "callback_query": {
            "id": "q77",
            "from": CLARA,
            "chat_instance": "ci",
            "data": "job:open:3",
            "message": {"message_id": 41, "date": 1700000000, "chat": PRIVATE, "text": "x"},
        },
    }
    event = adapter.parse(payload)
    assert (event.kind, event.callback_data, event.callback_query_id, event.message_id) == (
        "button",
        "job:open:3",
        "q77",
        41,
    )
    assert (event.user_id, event.chat_id, event.update_id) == (1001, 1001, 9)


def test_document_with_caption(adapter):
    doc = {
        "file_id": "F1",
        "file_unique_id": "u1",
        "file_name": "cv.pdf",
        "mime_type": "application/pdf",
        "file_size": 1234,
    }
    event = adapter.parse(message(document=doc, caption="my work"))
    assert event.kind == "file" and event.text == "my work"
    assert event.files == (IncomingFile("F1", "document", "cv.pdf", "application/pdf", 1234),)


def test_photo_takes_the_largest_size(adapter):
    sizes = [
        {
            "file_id": f"P{w}",
            "file_unique_id": f"u{w}",
            "width": w,
            "height": w,
            "file_size": w * 10,
        }
        for w in (90, 1280, 320)
    ]
    event = adapter.parse(message(photo=sizes))
    assert event.kind == "file"
    assert [(f.file_id, f.kind) for f in event.files] == [("P1280", "photo")]


@pytest.mark.parametrize(
    ("old", "new", "kind"), [("member", "kicked", "blocked"), ("kicked", "member", "unblocked")]
)
def test_blocking_and_unblocking_the_bot(adapter, old, new, kind):
    bot = {"id": 123, "is_bot": True, "first_name": "Gigbot", "username": "gigbot_bot"}
    change = {
        "chat": PRIVATE,
        "from": CLARA,
        "date": 1700000000,
        "old_chat_member": {
            "user": bot,
            "status": old,
            **({"until_date": 0} if old == "kicked" else {}),
        },
        "new_chat_member": {
            "user": bot,
            "status": new,
            **({"until_date": 0} if new == "kicked" else {}),
        },
    }
    event = adapter.parse({"update_id": 11, "my_chat_member": change})
    assert (event.kind, event.user_id, event.chat_id, event.update_id) == (kind, 1001, 1001, 11)


def test_updates_without_meaning_are_ignored(adapter):
    assert (
        adapter.parse(
            message(
                sticker={
                    "file_id": "S",
                    "file_unique_id": "s",
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                }
            )
        )
        is None
    )
    assert (
        adapter.parse(
            {
                "update_id": 12,
                "edited_message": message()["message"] | {"text": "x", "edit_date": 1},
            }
        )
        is None
    )


def test_text_no_database_takes_is_made_storable(adapter):
    """NUL (PostgreSQL refuses it in text) goes, a lone surrogate (not UTF-8) becomes
    U+FFFD: in names, username, message, caption, file name and button data."""
    sender = {**CLARA, "first_name": "Cla\x00ra", "last_name": "\ud800C", "username": "cla\x00ra"}
    payload = message(text="hi\x00 there\udc00")
    payload["message"]["from"] = sender
    event = adapter.parse(payload)
    assert (event.user_name, event.username, event.text) == (
        "Clara \ufffdC",
        "clara",
        "hi there\ufffd",
    )
    document = {"file_id": "DOC1", "file_unique_id": "u1", "file_name": "cv\x00.pdf"}
    event = adapter.parse(message(document=document, caption="my\x00 cv"))
    assert event.text == "my cv" and event.files[0].file_name == "cv.pdf"
    press = {
        "update_id": 8,
        "callback_query": {"id": "q1", "from": sender, "chat_instance": "c", "data": "t:\x00a"},
    }
    event = adapter.parse(press)
    assert event.callback_data == "t:a" and event.user_name == "Clara \ufffdC"


def test_ids_no_bigint_holds_are_ignored(adapter):
    too_big = {**CLARA, "id": 2**63}
    payload = message(text="hello", chat={**PRIVATE, "id": 2**63})
    payload["message"]["from"] = too_big
    assert adapter.parse(payload) is None


def test_inline_query(adapter):
    event = adapter.parse(
        {
            "update_id": 11,
            "inline_query": {
                "id": "4411",
                "from": CLARA,
                "query": "python bot",
                "offset": "20",
                "chat_type": "sender",
            },
        }
    )
    assert event is not None and event.kind == "inline_query"
    assert (event.inline_query_id, event.text, event.inline_offset) == ("4411", "python bot", "20")
    assert event.chat_type == "sender" and event.bot_username == "gigbot_bot"
    assert event.user_id == 1001 and event.language_code == "ru"


def test_pre_checkout_query_and_successful_payment(adapter):
    asked = adapter.parse(
        {
            "update_id": 12,
            "pre_checkout_query": {
                "id": "pc1",
                "from": CLARA,
                "currency": "USD",
                "total_amount": 10500,
                "invoice_payload": "gigbot:payment:3",
            },
        }
    )
    assert asked is not None and asked.kind == "pre_checkout" and asked.payment is not None
    assert asked.payment.pre_checkout_query_id == "pc1"
    assert (asked.payment.payload, asked.payment.total_amount) == ("gigbot:payment:3", 10500)
    paid = adapter.parse(
        message(
            successful_payment={
                "currency": "USD",
                "total_amount": 10500,
                "invoice_payload": "gigbot:payment:3",
                "telegram_payment_charge_id": "tgch_1",
                "provider_payment_charge_id": "ch_1",
            }
        )
    )
    assert paid is not None and paid.kind == "payment" and paid.payment is not None
    assert (paid.payment.telegram_charge_id, paid.payment.provider_charge_id) == ("tgch_1", "ch_1")


def test_our_own_inline_card_is_no_message_to_answer(adapter):
    via = {"id": 123, "is_bot": True, "first_name": "Gigbot", "username": "gigbot_bot"}
    assert adapter.parse(message(text="💼 Python bot", via_bot=via)) is None
    other = {**via, "id": 9, "username": "other_bot"}
    assert adapter.parse(message(text="a gif", via_bot=other)) is not None
