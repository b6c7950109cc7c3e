"""User actions reaching real framework handlers, and the bot's answers reaching the chat."""

from __future__ import annotations

import asyncio
import html
import io
from collections.abc import AsyncIterator

import pytest
import telegram
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramForbiddenError
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from telegram import error as tg_error
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.sandbox import Emulator

from .conftest import CLARA, FELIX, TOKEN


@pytest.fixture
async def aiogram_polling(aio_bot: Bot) -> AsyncIterator[Dispatcher]:
    """A Dispatcher polling the emulator; handlers are added before the first update."""
    dp = Dispatcher()

    @dp.message(CommandStart(deep_link=True))
    async def start(message: Message, command: CommandObject) -> None:
        name = html.escape(message.from_user.first_name if message.from_user else "")
        await message.answer(
            f"Welcome <b>{name}</b>! Job: <code>{html.escape(command.args or '')}</code>",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Hire", callback_data="hire:42")]]
            ),
        )

    @dp.callback_query(F.data.startswith("hire:"))
    async def hire(query: CallbackQuery) -> None:
        await query.answer("Hired!", show_alert=True)
        if isinstance(query.message, Message):
            await query.message.edit_text("Hired for job 42 ✅")

    @dp.message(F.document)
    async def got_file(message: Message, bot: Bot) -> None:
        assert message.document
        data = await bot.download(message.document.file_id)
        assert data is not None
        size = len(data.read())
        await message.answer(f"Got {message.document.file_name} ({size} bytes)")

    task = asyncio.create_task(dp.start_polling(aio_bot, handle_signals=False))
    yield dp
    await dp.stop_polling()
    await task


async def test_deep_link_button_and_edit_via_aiogram(
    emu: Emulator, aiogram_polling: Dispatcher
) -> None:
    emu.send_command(CLARA, "start", "job_42")
    reply = await emu.wait_for_message(CLARA, lambda m: "Welcome" in m["text"])
    assert reply["text"] == "Welcome Clara (client)! Job: job_42"
    assert {e["type"] for e in reply["entities"]} == {"bold", "code"}

    press = emu.press_button(CLARA, reply["message_id"], "hire:42")
    answered = await emu.wait_for_callback_answer(press.id)
    assert (answered.text, answered.show_alert) == ("Hired!", True)
    edited = await emu.wait_for_message(CLARA, lambda m: "edit_date" in m)
    # edited in place: same id and position, keyboard gone
    assert edited["message_id"] == reply["message_id"]
    assert [m["message_id"] for m in emu.messages(CLARA)] == [1, reply["message_id"]]
    assert "reply_markup" not in edited and edited["text"].startswith("Hired")
    with pytest.raises(ValueError, match="no such callback button"):
        emu.press_button(CLARA, reply["message_id"], "hire:42")  # keyboard is gone
    forged = emu.press_button(CLARA, reply["message_id"], "hire:42", forge=True)
    assert (await emu.wait_for_callback_answer(forged.id)).text == "Hired!"


async def test_user_document_downloaded_by_bot(emu: Emulator, aiogram_polling: Dispatcher) -> None:
    sent = emu.send_document(FELIX, b"%PDF-1.4 portfolio", "portfolio.pdf")
    assert sent["document"]["mime_type"] == "application/pdf"
    reply = await emu.wait_for_message(FELIX, lambda m: m["text"].startswith("Got"))
    assert reply["text"] == "Got portfolio.pdf (18 bytes)"


async def test_bot_sends_document_user_fetches(
    started: Emulator, aio_bot: Bot, ptb_bot: telegram.Bot
) -> None:
    msg = await aio_bot.send_document(
        CLARA,
        BufferedInputFile(b"invoice bytes", filename="invoice.txt"),
        caption="<b>Invoice</b> #7",
        parse_mode="HTML",
    )
    assert msg.document and msg.document.file_name == "invoice.txt"
    assert msg.caption == "Invoice #7" and msg.caption_entities
    assert started.file_data(msg.document.file_id) == b"invoice bytes"
    # re-send by file_id (PTB), then download through getFile + the file route (PTB)
    again = await ptb_bot.send_document(FELIX, msg.document.file_id)
    assert again.document.file_unique_id == msg.document.file_unique_id
    tg_file = await ptb_bot.get_file(again.document.file_id)
    assert bytes(await tg_file.download_as_bytearray()) == b"invoice bytes"
    photo = await ptb_bot.send_photo(CLARA, io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(16)))
    assert photo.photo and started.file_data(photo.photo[-1].file_id).startswith(b"\x89PNG")
    with pytest.raises(tg_error.BadRequest, match=r"(?i)wrong file identifier"):
        await ptb_bot.send_document(CLARA, "no-such-file-id")


async def test_user_document_get_file_both_clients(
    emu: Emulator, aio_bot: Bot, ptb_bot: telegram.Bot
) -> None:
    sent = emu.send_document(CLARA, b"brief v2", "brief.txt", caption="see /help")
    file_id = sent["document"]["file_id"]
    aio_file = await aio_bot.get_file(file_id)
    assert aio_file.file_size == 8 and aio_file.file_path
    buf = await aio_bot.download_file(aio_file.file_path)
    assert buf is not None and buf.read() == b"brief v2"
    ptb_file = await ptb_bot.get_file(file_id)
    assert bytes(await ptb_file.download_as_bytearray()) == b"brief v2"


async def test_blocked_user_gives_forbidden(
    started: Emulator, aio_bot: Bot, ptb_bot: telegram.Bot
) -> None:
    started.block_bot(CLARA)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await aio_bot.send_message(CLARA, "ping")
    with pytest.raises(tg_error.Forbidden, match="bot was blocked by the user"):
        await ptb_bot.send_message(CLARA, "ping")
    updates = await ptb_bot.get_updates()
    member = updates[-1].my_chat_member
    assert member and member.new_chat_member.status == "kicked"
    assert member.old_chat_member.status == "member"
    started.unblock_bot(CLARA)
    assert (await aio_bot.send_message(CLARA, "welcome back")).text == "welcome back"


async def test_never_started_user_is_unreachable(emu: Emulator, aio_bot: Bot) -> None:
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await aio_bot.send_message(CLARA, "hello?")
    emu.add_user("Grace", user_id=1004, started=True)
    assert (await aio_bot.send_message(1004, "hello!")).chat.id == 1004


async def test_ptb_application_polling(emu: Emulator, base_url: str) -> None:
    async def start(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message
        await update.effective_message.reply_html(
            f"Hi! args={context.args}",
            reply_markup=telegram.InlineKeyboardMarkup(
                [[telegram.InlineKeyboardButton("Pitch", callback_data="pitch:7")]]
            ),
        )

    async def pitch(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query
        await update.callback_query.answer("Pitch sent")
        await update.callback_query.edit_message_reply_markup(None)

    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{base_url}/bot")
        .base_file_url(f"{base_url}/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pitch))
    async with app:
        await app.start()
        assert app.updater
        await app.updater.start_polling(poll_interval=0, timeout=5)
        emu.send_command(FELIX, "start", "ref_clara")
        reply = await emu.wait_for_message(FELIX, lambda m: m["text"].startswith("Hi!"))
        assert reply["text"] == "Hi! args=['ref_clara']"
        press = emu.press_button(FELIX, reply["message_id"], text="Pitch")
        assert (await emu.wait_for_callback_answer(press.id)).text == "Pitch sent"
        await emu.wait_for_message(FELIX, lambda m: "edit_date" in m and "reply_markup" not in m)
        await app.updater.stop()
        await app.stop()
