"""The emulator's inline mode against the real clients: Telegram's answerInlineQuery
limits (50 results, 1-64-byte unique ids, button texts, a 64-byte next_offset),
QUERY_ID_INVALID for an unknown, answered or old query, the cache, and a chosen
result posted "via @bot" into the chat where it was typed."""

from __future__ import annotations

import pytest
import telegram
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
)
from telegram import error as tg_error

from bot.sandbox import Emulator
from bot.sandbox.inline import QUERY_TTL

from .conftest import CLARA, FELIX


def article(rid: str, title: str = "A job", button: str = "Open") -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id=rid,
        title=title,
        description="$500.00",
        input_message_content=InputTextMessageContent(
            message_text=f"<b>{title}</b> wanted", parse_mode="HTML"
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=button, url="https://t.me/b?start=job_1")]]
        ),
    )


@pytest.fixture
def inline_emu(emu: Emulator) -> Emulator:
    emu.set_inline_mode("Search jobs…")
    return emu


async def test_inline_mode_is_a_bot_setting(emu: Emulator, aio_bot: Bot) -> None:
    assert (await aio_bot.get_me()).supports_inline_queries is False
    with pytest.raises(ValueError, match="no inline mode"):
        emu.inline_query(FELIX, "python")
    emu.set_inline_mode("Search jobs…")
    assert (await aio_bot.get_me()).supports_inline_queries is True


async def test_limits_of_answer_inline_query(inline_emu: Emulator, aio_bot: Bot) -> None:
    emu = inline_emu
    asked = emu.inline_query(FELIX, "python")
    update = emu.updates[-1]["inline_query"]
    assert update["query"] == "python" and update["chat_type"] == "sender"
    bad = {
        "RESULTS_TOO_MUCH": [article(f"r{k}") for k in range(51)],
        "RESULT_ID_INVALID": [article("x" * 65)],
        "RESULT_ID_DUPLICATE": [article("a"), article("a")],
        "BUTTON_TEXT_INVALID": [article("a", button="")],
    }
    for reason, results in bad.items():
        with pytest.raises(TelegramBadRequest, match=reason):
            await aio_bot.answer_inline_query(asked.id, results)
    with pytest.raises(TelegramBadRequest, match="NEXT_OFFSET_INVALID"):
        await aio_bot.answer_inline_query(asked.id, [article("a")], next_offset="9" * 65)
    assert not asked.answered  # a refused answer leaves the query open

    # 50 results of 64-byte ids are fine; the query is then answered, once.
    results = [article(f"{k:02d}" + "y" * 62) for k in range(50)]
    assert await aio_bot.answer_inline_query(asked.id, results, next_offset="50", cache_time=0)
    assert asked.answered and len(asked.results) == 50 and asked.next_offset == "50"
    with pytest.raises(TelegramBadRequest, match="QUERY_ID_INVALID"):
        await aio_bot.answer_inline_query(asked.id, [article("a")])
    with pytest.raises(TelegramBadRequest, match="QUERY_ID_INVALID"):
        await aio_bot.answer_inline_query("123456", [article("a")])


async def test_an_old_query_cannot_be_answered(emu: Emulator, ptb_bot: telegram.Bot) -> None:
    now = [1000.0]
    emu.clock = lambda: now[0]
    emu.set_inline_mode("Search jobs…")
    asked = emu.inline_query(FELIX, "python")
    now[0] += QUERY_TTL + 1
    with pytest.raises(tg_error.BadRequest, match=r"(?i)query_id_invalid"):
        await ptb_bot.answer_inline_query(
            asked.id,
            [
                telegram.InlineQueryResultArticle(
                    "a", "A job", telegram.InputTextMessageContent("A job")
                )
            ],
        )


async def test_cache_and_the_chosen_result(inline_emu: Emulator, ptb_bot: telegram.Bot) -> None:
    emu = inline_emu
    asked = emu.inline_query(FELIX, "python")
    result = telegram.InlineQueryResultArticle(
        "job_1",
        "Python bot",
        telegram.InputTextMessageContent("<b>Python bot</b> wanted", parse_mode="HTML"),
        reply_markup=telegram.InlineKeyboardMarkup(
            [[telegram.InlineKeyboardButton("Open", url="https://t.me/b?start=job_1")]]
        ),
    )
    await ptb_bot.answer_inline_query(asked.id, [result], cache_time=60, is_personal=True)
    updates_before = len(emu.updates)
    mine = emu.inline_query(FELIX, "python")
    assert mine.cached and [r["id"] for r in mine.results] == ["job_1"]
    theirs = emu.inline_query(CLARA, "python")  # personal: Clara's goes to the bot
    assert not theirs.answered and len(emu.updates) == updates_before + 1

    card = emu.choose_inline_result(FELIX, asked.id, "job_1")
    assert card["from"]["id"] == FELIX and card["via_bot"]["id"] == emu.bot_user["id"]
    assert card["text"] == "Python bot wanted"
    assert card["entities"][0]["type"] == "bold"
    assert card["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://t.me/b?start=job_1"
    assert emu.messages(FELIX)[-1]["message_id"] == card["message_id"]
    assert emu.updates[-1]["message"]["via_bot"]["username"] == emu.bot_user["username"]
    with pytest.raises(ValueError, match="no result"):
        emu.choose_inline_result(FELIX, asked.id, "job_2")
