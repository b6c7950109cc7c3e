import pytest

from domain.contact import find_contact_details, has_contact_details


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at john.doe+work@gmail.com please", ["john.doe+work@gmail.com"]),
        ("JOHN@EXAMPLE.CO.UK", ["JOHN@EXAMPLE.CO.UK"]),
        ("john [at] gmail [dot] com", ["john [at] gmail [dot] com"]),
        ("john(at)gmail.com", ["john(at)gmail.com"]),
        ("call +1 555 123 4567", ["+1 555 123 4567"]),
        ("my number is (555) 123-4567.", ["(555) 123-4567"]),
        ("8-916-123-45-67", ["8-916-123-45-67"]),
        ("+442071234567", ["+442071234567"]),
        ("89161234567", ["89161234567"]),
        ("555.123.4567", ["555.123.4567"]),
        ("ping @john_doe there", ["@john_doe"]),
        ("t.me/johndoe", ["t.me/johndoe"]),
        ("https://t.me/+AbCdEf123", ["https://t.me/+AbCdEf123"]),
        ("join https://wa.me/15551234567 now", ["https://wa.me/15551234567"]),
        ("chat.whatsapp.com/abc", ["chat.whatsapp.com/abc"]),
        ("discord.gg/xyz", ["discord.gg/xyz"]),
        ("add me on WhatsApp", ["WhatsApp"]),
        ("my skype is live:john", ["skype"]),
        ("skype:john.doe?call", ["skype:john.doe?call"]),
        ("let's move to Viber", ["Viber"]),
        ("write me on telegram", ["write me on telegram"]),
        ("my tg is fine", ["my tg"]),
        ("Telegram: johnny", ["Telegram: johnny"]),
        ("пиши в телеграм", ["в телеграм"]),
        ("давай в ватсап", ["ватсап"]),
        (
            "email a@b.io or call +7 916 123-45-67, or @someone",
            ["a@b.io", "+7 916 123-45-67", "@someone"],
        ),
    ],
)
def test_finds_contact_details(text, expected):
    assert find_contact_details(text) == expected
    assert has_contact_details(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "My price is $1,250.50 for the whole job",
        "Budget: 1,250,000.00 USD",
        "I can do it for 1 250 000 руб",
        "€ 2 500 000",
        "Total 1500000 dollars",
        "budget 1000000",
        "Deadline 2026-12-31, or 31.12.2026, or 31/12/2026",
        "from 01.01.2026 to 01.02.2026",
        "version 1.2.3.4 of the library",
        "I build Telegram bots with aiogram 3.31",
        "I have 10 years experience and 250+ projects",
        "ratio 50%, 33.3%",
        "order #12345678",
        "Use the @ sign, or @me",
        "Call me when the milestone is funded",
        "the signal is strong",
        "https://github.com/johndoe",
        "user@localhost",
        "It costs 12.5k, takes 3-4 weeks",
        "budget 1500-2000, or 15000 - 20000",
        "working hours 10.00-18.00",
        "I charge 12345.67 for all of it",
        "budget 1 000 000 or 12.500.000",
    ],
)
def test_ignores_ordinary_text(text):
    assert find_contact_details(text) == []
