"""Contact spotting as moderation uses it (issue 12, part 6): texts of job posts,
pitches, profiles and messages in English and Russian — what must be caught and
what must not be (prices, dates, versions, code, the word Telegram in a job)."""

from __future__ import annotations

import pytest

from domain.contact import find_contact_details
from domain.usecases.moderation import spot

CAUGHT = [
    ("Звоните: +7 916 123-45-67, Иван", ["+7 916 123-45-67"]),
    ("мой телефон 8 (916) 123 45 67", ["8 (916) 123 45 67"]),
    ("почта ivan.petrov@mail.ru, отвечу быстро", ["ivan.petrov@mail.ru"]),
    ("пишите: ivan собака mail точка ru", ["ivan собака mail точка ru"]),
    ("email me: john at gmail dot com", ["john at gmail dot com"]),
    ("мой тг @ivan_petrov", ["мой тг", "@ivan_petrov"]),
    ("пишите в телегу, там быстрее", ["в телегу"]),
    ("моя телега ivan", ["моя телега"]),
    ("напишите в вацап", ["вацап"]),
    ("вайбер +79161234567", ["вайбер", "+79161234567"]),
    ("Portfolio and chat: https://t.me/ivan_dev", ["https://t.me/ivan_dev"]),
    ("wa.me/79161234567", ["wa.me/79161234567"]),
    ("skype: ivan.p", ["skype"]),
    ("tel:+15551234567", ["tel:+15551234567"]),
]

NOT_CAUGHT = [
    "Бюджет 150 000 руб, оплата по этапам",
    "Срок до 31.12.2026, созвон не нужен",
    "Нужен бот для Telegram на aiogram 3.13.1",
    "Оплата 1500-2000 USD за весь проект",
    "Опыт 7 лет, сделаю за 5 дней",
    "Budget $1,250.50, deadline 2026-12-31",
    "I use @media queries and @keyframes in CSS",
    "Python @dataclass and @property decorators",
    "Let's meet at noon to discuss the scope",
    "Version 3.10.12, 12 500 000 rows, 99.9% uptime",
    "Build a Telegram bot with payments",
]


@pytest.mark.parametrize(("text", "expected"), CAUGHT)
def test_contact_details_are_caught(text, expected):
    assert find_contact_details(text) == expected


@pytest.mark.parametrize("text", NOT_CAUGHT)
def test_ordinary_text_is_not_a_contact(text):
    assert find_contact_details(text) == []


def test_spot_joins_several_texts_without_repeats():
    assert spot("Title with @ivan_dev", None, "", "Body: @ivan_dev or a@b.io") == [
        "@ivan_dev",
        "a@b.io",
    ]
