"""Bot API methods through the real aiogram and python-telegram-bot clients."""

from __future__ import annotations

import html

import aiohttp
import pytest
import telegram
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramNotFound
from aiogram.methods import TelegramMethod
from aiogram.types import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram import error as tg_error

from bot.sandbox import Emulator

from .conftest import CLARA, FELIX, TOKEN


def kb(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


async def test_get_me_with_both_clients(aio_bot: Bot, ptb_bot: telegram.Bot) -> None:
    me = await aio_bot.get_me()
    assert me.id == 123456789 and me.is_bot and me.username == "gigbot_sandbox_bot"
    assert ptb_bot.username == "gigbot_sandbox_bot"  # PTB calls getMe on initialize


async def test_send_edit_delete_aiogram(started: Emulator, aio_bot: Bot) -> None:
    sent = await aio_bot.send_message(
        CLARA,
        "Hi <b>Clara</b>, see https://example.org",
        parse_mode="HTML",
        reply_markup=kb(InlineKeyboardButton(text="Go", callback_data="go")),
    )
    assert sent.from_user and sent.from_user.is_bot
    assert sent.chat.type == "private" and sent.chat.first_name == "Clara (client)"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [
        ("bold", 3, 5),
        ("url", 14, 19),
    ]
    assert sent.reply_markup and sent.reply_markup.inline_keyboard[0][0].callback_data == "go"
    # message ids are per chat and shared with the user's messages (/start was 1)
    assert sent.message_id == 2

    edited = await aio_bot.edit_message_text(
        "Hi <i>again</i>", chat_id=CLARA, message_id=sent.message_id, parse_mode="HTML"
    )
    assert not isinstance(edited, bool) and edited.edit_date
    view = started.messages(CLARA)
    assert [m["message_id"] for m in view] == [1, 2]
    assert view[1]["text"] == "Hi again" and "reply_markup" not in view[1]  # dropped on edit

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await aio_bot.edit_message_text(
            "Hi <i>again</i>", chat_id=CLARA, message_id=sent.message_id, parse_mode="HTML"
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await aio_bot.edit_message_text("x", chat_id=CLARA, message_id=99)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await aio_bot.edit_message_text("x", chat_id=CLARA, message_id=1)

    markup = kb(InlineKeyboardButton(text="Pay", url="http://127.0.0.1:8080/pay/1"))
    await aio_bot.edit_message_reply_markup(
        chat_id=CLARA, message_id=sent.message_id, reply_markup=markup
    )
    assert started.messages(CLARA)[1]["reply_markup"]["inline_keyboard"][0][0]["url"]
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await aio_bot.edit_message_reply_markup(
            chat_id=CLARA, message_id=sent.message_id, reply_markup=markup
        )

    assert await aio_bot.delete_message(CLARA, sent.message_id)
    assert [m["message_id"] for m in started.messages(CLARA)] == [1]
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await aio_bot.delete_message(CLARA, sent.message_id)


async def test_send_edit_with_ptb(started: Emulator, ptb_bot: telegram.Bot) -> None:
    sent = await ptb_bot.send_message(FELIX, "<u>Job</u> alert", parse_mode="HTML")
    assert sent.entities[0].type == "underline"
    edited = await ptb_bot.edit_message_text("Job taken", chat_id=FELIX, message_id=sent.id)
    assert isinstance(edited, telegram.Message) and edited.edit_date is not None
    with pytest.raises(tg_error.BadRequest, match="not modified"):
        await ptb_bot.edit_message_text("Job taken", chat_id=FELIX, message_id=sent.id)
    assert await ptb_bot.send_chat_action(FELIX, "typing")
    assert started.chat_view(FELIX)["action"] == "typing"


async def test_html_validation(started: Emulator, aio_bot: Bot, ptb_bot: telegram.Bot) -> None:
    user_text = "Tom <3 & Jerry <script>"
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag"):
        await aio_bot.send_message(CLARA, f"<b>Title</b>\n{user_text}", parse_mode="HTML")
    with pytest.raises(tg_error.BadRequest, match="Can't parse entities"):
        await ptb_bot.send_message(CLARA, f"<b>Title</b>\n{user_text}", parse_mode="HTML")
    ok = await aio_bot.send_message(
        CLARA, f"<b>Title <i>nested</i></b>\n{html.escape(user_text)}", parse_mode="HTML"
    )
    assert ok.text == f"Title nested\n{user_text}"
    for bad in ("<b>unclosed", "<b><i>x</b></i>", "<p>x</p>"):
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await aio_bot.send_message(CLARA, bad, parse_mode="HTML")
    # without a parse mode the same text is literal
    plain = await aio_bot.send_message(CLARA, user_text)
    assert plain.text == user_text


async def test_text_limits(started: Emulator, aio_bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await aio_bot.send_message(CLARA, "   ")
    # 4096 characters after entity parsing is fine; markup does not count
    await aio_bot.send_message(CLARA, "<b>" + "a" * 4095 + "&amp;</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await aio_bot.send_message(CLARA, "a" * 4097)


async def test_keyboard_validation(started: Emulator, aio_bot: Bot) -> None:
    await aio_bot.send_message(
        CLARA, "ok", reply_markup=kb(InlineKeyboardButton(text="x", callback_data="d" * 64))
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await aio_bot.send_message(
            CLARA, "x", reply_markup=kb(InlineKeyboardButton(text="x", callback_data="d" * 65))
        )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):  # 33 chars, 66 bytes
        await aio_bot.send_message(
            CLARA, "x", reply_markup=kb(InlineKeyboardButton(text="x", callback_data="ж" * 33))
        )
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await aio_bot.send_message(CLARA, "x", reply_markup=kb(InlineKeyboardButton(text="x")))


async def test_chat_errors_and_unknown_method(
    started: Emulator, aio_bot: Bot, base_url: str
) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await aio_bot.send_message(424242, "hello")

    class Bogus(TelegramMethod[bool]):
        __returning__ = bool
        __api_method__ = "sendTeleport"

    with pytest.raises(TelegramNotFound):
        await aio_bot(Bogus())
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base_url}/botWRONG:token/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        # JSON, urlencoded and query-string parameters all work, like on Telegram
        url = f"{base_url}/bot{TOKEN}/sendMessage"
        async with http.post(url, json={"chat_id": CLARA, "text": "json"}) as resp:
            assert (await resp.json())["result"]["text"] == "json"
        async with http.post(url, data={"chat_id": str(CLARA), "text": "form"}) as resp:
            assert (await resp.json())["result"]["text"] == "form"
        async with http.get(url, params={"chat_id": CLARA, "text": "query"}) as resp:
            body = await resp.json()
            assert body["ok"] is True and body["result"]["text"] == "query"
        async with http.post(url, json={"chat_id": CLARA}) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message text is empty",
            }


async def test_commands_per_language_and_scope(
    started: Emulator, aio_bot: Bot, ptb_bot: telegram.Bot
) -> None:
    await aio_bot.set_my_commands([BotCommand(command="start", description="Start")])
    await aio_bot.set_my_commands(
        [BotCommand(command="start", description="Los geht's")], language_code="de"
    )
    await ptb_bot.set_my_commands(
        [("disputes", "Open disputes")], scope=telegram.BotCommandScopeChat(3)
    )
    assert [c.description for c in await aio_bot.get_my_commands()] == ["Start"]
    de = await ptb_bot.get_my_commands(language_code="de")
    assert [(c.command, c.description) for c in de] == [("start", "Los geht's")]
    assert await aio_bot.get_my_commands(language_code="fr") == []
    # what each user's menu shows: language and chat scope win over the default
    assert started.commands_for(FELIX)[0]["description"] == "Los geht's"
    assert started.commands_for(CLARA)[0]["description"] == "Start"
    await aio_bot.delete_my_commands(language_code="de")
    assert await aio_bot.get_my_commands(language_code="de") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await aio_bot.set_my_commands([BotCommand(command="Bad Command", description="x")])
    assert await ptb_bot.set_chat_menu_button(CLARA, telegram.MenuButtonCommands())
    assert await aio_bot.close() and await aio_bot.log_out()
