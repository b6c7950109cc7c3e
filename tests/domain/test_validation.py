from datetime import date

import pytest

from domain.errors import ValidationError
from domain.validation import (
    BIO_MAX,
    COVER_LETTER_MAX,
    DESCRIPTION_MAX,
    DISPUTE_REASON_MAX,
    HEADLINE_MAX,
    JOB_TITLE_MAX,
    MESSAGE_MAX,
    REPORT_REASON_MAX,
    REVIEW_TEXT_MAX,
    URL_MAX,
    clean_text,
    parse_date,
    parse_int,
    parse_percent_or_amount,
    parse_rating,
    parse_url,
)

TODAY = date(2026, 3, 15)


def refused(code, fn, *args):
    with pytest.raises(ValidationError) as exc:
        fn(*args)
    assert exc.value.code == code, exc.value.message
    assert exc.value.message
    return exc.value


def test_limits_are_the_documented_ones():
    assert (JOB_TITLE_MAX, DESCRIPTION_MAX, COVER_LETTER_MAX, MESSAGE_MAX) == (
        120,
        4000,
        3000,
        3000,
    )
    assert (DISPUTE_REASON_MAX, REVIEW_TEXT_MAX, HEADLINE_MAX, BIO_MAX) == (2000, 1000, 120, 2000)
    assert REPORT_REASON_MAX == 1000


# --- clean_text ---------------------------------------------------------------


def test_clean_text_strips_and_keeps_emoji_and_html_as_plain_text():
    assert (
        clean_text("  <b>Logo</b> & 👩‍💻 design  ", "title", 1, 120) == "<b>Logo</b> & 👩‍💻 design"
    )


def test_clean_text_unifies_line_ends_and_drops_control_characters():
    assert clean_text("a\r\nb\rc\x00\x07d\u200b\te", "bio") == "a\nb\ncd\te"
    assert clean_text("می\u200cخواهم", "bio") == "می\u200cخواهم"  # Persian keeps its ZWNJ


def test_clean_text_accepts_exactly_the_limits():
    assert clean_text("x" * 120, "title", 5, 120) == "x" * 120
    assert clean_text("x" * 5, "title", 5, 120) == "x" * 5


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t", "\x00\u200b"])
def test_clean_text_refuses_empty(text):
    err = refused("text_empty", clean_text, text, "title", 1, 120)
    assert err.params["field"] == "title"


def test_clean_text_refuses_too_long_and_too_short():
    err = refused("text_too_long", clean_text, "x" * 121, "title", 1, 120)
    assert err.params == {"field": "title", "max": 120, "length": 121}
    err = refused("text_too_short", clean_text, "abc", "title", 5, 120)
    assert err.params["min"] == 5


# --- parse_date -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-31", date(2026, 12, 31)),
        ("31.12.2026", date(2026, 12, 31)),
        ("31/12/2026", date(2026, 12, 31)),
        ("01/02/2027", date(2027, 2, 1)),  # day first
        ("5.4.2026", date(2026, 4, 5)),
        ("today", TODAY),
        ("Tomorrow", date(2026, 3, 16)),
        ("in 10 days", date(2026, 3, 25)),
        ("in  1 day", date(2026, 3, 16)),
        ("in 2 weeks", date(2026, 3, 29)),
        ("2028-03-15", date(2028, 3, 15)),  # exactly two years ahead
    ],
)
def test_parse_date_accepts(text, expected):
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "date_invalid"),
        ("next friday", "date_invalid"),
        ("31.02.2026", "date_invalid"),
        ("2026-13-01", "date_invalid"),
        ("12/31/2026", "date_invalid"),  # month-first is not guessed
        ("2026-03-14", "date_past"),
        ("14.03.2026", "date_past"),
        ("2028-03-16", "date_too_far"),
        ("in 800 days", "date_too_far"),
        ("in 9999 days", "date_too_far"),
    ],
)
def test_parse_date_refuses(text, code):
    refused(code, parse_date, text, TODAY)


def test_parse_date_two_years_from_a_leap_day():
    assert parse_date("2030-02-28", date(2028, 2, 29)) == date(2030, 2, 28)
    refused("date_too_far", parse_date, "2030-03-01", date(2028, 2, 29))


# --- parse_int / parse_rating -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"), [("12", 12), (" 7 ", 7), ("1 000", 1000), (5, 5), ("0", 0)]
)
def test_parse_int_accepts(text, value):
    assert parse_int(text, "days", 0, 1000) == value


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "number_invalid"),
        ("ten", "number_invalid"),
        ("1.5", "number_invalid"),
        (True, "number_invalid"),
        ("9" * 40, "number_invalid"),
        ("-1", "number_range"),
        ("1001", "number_range"),
        (5000, "number_range"),
    ],
)
def test_parse_int_refuses(text, code):
    err = refused(code, parse_int, text, "days", 0, 1000)
    assert err.params["field"] == "days"


@pytest.mark.parametrize(
    ("value", "rating"),
    [
        (1, 1),
        (5, 5),
        ("4", 4),
        (" 3 ", 3),
        ("4/5", 4),
        ("5★", 5),
        ("★★★", 3),
        ("⭐⭐⭐⭐", 4),
        ("⭐️⭐️", 2),
    ],
)
def test_parse_rating_accepts(value, rating):
    assert parse_rating(value) == rating


@pytest.mark.parametrize("value", [0, 6, -1, True, "0", "6", "", "five", "4.5", "★" * 6, "10"])
def test_parse_rating_refuses(value):
    refused("rating_invalid", parse_rating, value)


# --- parse_percent_or_amount -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("all", 10_000),
        ("ALL", 10_000),
        ("none", 0),
        ("0", 0),
        ("0%", 0),
        ("100%", 10_000),
        ("50%", 5_000),
        ("33.3%", 3_330),
        ("12.345%", 1_235),  # 1234.5 rounds half up
        ("70", 7_000),
        ("100", 10_000),
        ("$40.50", 4_050),
        ("100 USD", 10_000),
    ],
)
def test_share_accepts(text, share):
    assert parse_percent_or_amount(text, 10_000, "USD") == share


def test_share_percent_rounds_half_up_to_the_minor_unit():
    assert parse_percent_or_amount("50%", 3, "USD") == 2  # 1.5 → 2
    assert parse_percent_or_amount("50%", 101, "JPY") == 51
    assert parse_percent_or_amount("33.3%", 999, "JPY") == 333  # 332.667


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("101%", "share_percent_invalid"),
        ("-5%", "share_percent_invalid"),
        ("abc%", "share_percent_invalid"),
        ("nan%", "share_percent_invalid"),
        ("100.01", "share_too_large"),
        ("-5", "share_invalid"),
        ("half", "share_invalid"),
        ("40 EUR", "share_invalid"),
        ("1.005", "share_invalid"),
        ("", "share_invalid"),
    ],
)
def test_share_refuses(text, code):
    refused(code, parse_percent_or_amount, text, 10_000, "USD")


# --- parse_url --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("https://github.com/me", "https://github.com/me"),
        ("http://example.org", "http://example.org"),
        ("  https://dribbble.com/shots/1?x=1#a  ", "https://dribbble.com/shots/1?x=1#a"),
        ("github.com/me", "https://github.com/me"),
        ("https://пример.рф/работы", "https://пример.рф/работы"),
        ("https://my-site.example.co.uk:8443/p", "https://my-site.example.co.uk:8443/p"),
    ],
)
def test_parse_url_accepts(text, url):
    assert parse_url(text) == url


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "url_empty"),
        ("javascript:alert(1)", "url_scheme"),
        ("ftp://example.com/file", "url_scheme"),
        ("mailto:me@example.com", "url_scheme"),
        ("data:text/html,hi", "url_scheme"),
        ("https://", "url_invalid"),
        ("https://localhost/x", "url_invalid"),
        ("https://exa mple.com", "url_invalid"),
        ("https://user:pw@bank.com.evil.io/", "url_invalid"),
        ("https://-bad-.com", "url_invalid"),
        ("https://example.com:99999/", "url_invalid"),
        ("not a link", "url_invalid"),
        ("https://example.com/" + "a" * URL_MAX, "url_too_long"),
    ],
)
def test_parse_url_refuses(text, code):
    refused(code, parse_url, text)
