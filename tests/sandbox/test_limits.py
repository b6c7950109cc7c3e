"""Flood limits (on here; off by default) and the receive-time log a sender test measures."""

from __future__ import annotations

import pytest
import telegram
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from telegram import error as tg_error

from bot.sandbox import Emulator, Limits
from bot.sandbox.limits import RateLimiter

from .conftest import ADA, CLARA, FELIX


@pytest.fixture
def limits() -> Limits:
    return Limits(per_chat_per_second=1, per_group_per_minute=2, global_per_second=3)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_per_chat_limit_gives_429(
    started: Emulator, aio_bot: Bot, ptb_bot: telegram.Bot
) -> None:
    await aio_bot.send_message(CLARA, "one")
    with pytest.raises(TelegramRetryAfter) as aio_exc:
        await aio_bot.send_message(CLARA, "two")
    assert aio_exc.value.retry_after == 1
    with pytest.raises(tg_error.RetryAfter, match="Retry in 1 second"):
        await ptb_bot.send_message(CLARA, "two")
    refused = started.calls_to("sendMessage")[-1]
    assert refused.status == 429 and refused.chat_id == CLARA
    assert "retry after 1" in (refused.description or "")
    # other chats are unaffected, until the global limit (3/s) is reached
    await aio_bot.send_message(FELIX, "one")
    await aio_bot.send_message(ADA, "one")
    group = started.create_group("Team")
    with pytest.raises(TelegramRetryAfter):
        await aio_bot.send_message(group.id, "global limit")


async def test_calls_recorded_with_receive_times(started: Emulator, aio_bot: Bot) -> None:
    await aio_bot.send_message(CLARA, "x")
    await aio_bot.send_message(FELIX, "y")
    sends = started.calls_to("sendMessage")
    assert [(c.chat_id, c.params["text"], c.status) for c in sends] == [
        (CLARA, "x", 200),
        (FELIX, "y", 200),
    ]
    assert sends[0].received_at <= sends[1].received_at


def test_sliding_windows_with_fake_clock() -> None:
    now = [100.0]
    limiter = RateLimiter(
        Limits(per_chat_per_second=1, per_group_per_minute=20, global_per_second=30),
        clock=lambda: now[0],
    )
    limiter.check(-5)
    for _ in range(19):
        now[0] += 0.5
        limiter.check(-5)
    with pytest.raises(Exception) as exc:  # 21st group message within the minute
        limiter.check(-5)
    assert getattr(exc.value, "retry_after", None) == 51
    now[0] = 160.0  # the first one left the window
    limiter.check(-5)
    limiter.check(7)
    now[0] += 0.999
    with pytest.raises(Exception, match="Too Many Requests"):
        limiter.check(7)
    now[0] += 0.002
    limiter.check(7)
