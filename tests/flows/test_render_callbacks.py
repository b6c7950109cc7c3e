"""render.py and callbacks.py: escaping, splitting, keyboards, cards; callback data."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.entities import Job
from domain.states import JobStatus
from handlers.callbacks import CALLBACK_LIMIT, Callback, StaleButton, decode, encode
from handlers.i18n import translator
from handlers.render import (
    Html,
    bold,
    esc,
    job_card,
    join,
    keyboard,
    money,
    pagination_row,
    split_message,
    trim,
    utf16_len,
)
from tests.flows.telegram_html import visible_text


def squash(text: str) -> str:
    return "".join(text.split())


# --- escaping ----------------------------------------------------------------


def test_esc_escapes_user_text_once():
    assert esc('<b>"x" & y</b>') == "&lt;b&gt;&quot;x&quot; &amp; y&lt;/b&gt;"
    assert esc(esc("<")) == "&lt;"  # Html is not escaped twice
    assert bold("<i>") == "<b>&lt;i&gt;</b>"
    assert join([bold("a"), "<c>"]) == "<b>a</b>\n&lt;c&gt;"
    assert Html("<b>x</b>") + "<" == "<b>x</b>&lt;"


def test_money_uses_minor_units():
    assert money(125050, "USD") == "$1,250.50"
    assert money(500, "JPY") == "¥500"


# --- splitting ---------------------------------------------------------------


def test_short_text_is_one_part():
    assert split_message("<b>hi</b>") == ["<b>hi</b>"]


def test_long_text_splits_on_line_boundaries():
    lines = [f"line {i} " + "x" * 50 for i in range(200)]
    parts = split_message("\n".join(lines), 1000)
    assert len(parts) > 1
    for part in parts:
        assert utf16_len(part) <= 1000
        for line in part.strip("\n").split("\n"):
            assert line in lines  # no line was cut in the middle


def test_tags_are_closed_and_reopened_across_parts():
    text = "<b>" + "word " * 2000 + "</b>"
    parts = split_message(text, 4096)
    assert len(parts) == 3
    for part in parts:
        assert part.startswith("<b>") and part.endswith("</b>")
        visible_text(part)
        assert utf16_len(part) <= 4096


def test_entities_and_emoji_are_never_cut():
    text = ("&amp;👩‍💻" * 3000) + "<i>end</i>"
    parts = split_message(text, 4096)
    for part in parts:
        assert utf16_len(part) <= 4096
        visible_text(part)  # raises on a half entity
    assert squash("".join(visible_text(p) for p in parts)) == squash(visible_text(text))


def test_a_10000_character_word_is_split_anywhere():
    parts = split_message(esc("<" * 10_000))
    assert len(parts) >= 10  # "&lt;" is four characters
    assert "".join(visible_text(p) for p in parts) == "<" * 10_000


def test_trim_adds_an_ellipsis_inside_the_tags():
    text = "<b>" + "a" * 5000 + "</b>"
    cut = trim(text, 100)
    assert utf16_len(cut) <= 100
    assert cut.endswith("…</b>")
    visible_text(cut)
    assert trim("short") == "short"


_piece = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40).map(esc),
    st.sampled_from(["\n", " ", "😀", "&amp;", "<b>", "</b>", "<i>", "</i>"]),
)


def _depth(pieces: list[str]) -> int:
    """How deep the tags of `_balanced(pieces)` nest."""
    stack: list[str] = []
    deepest = 0
    for p in pieces:
        if p in ("<b>", "<i>"):
            stack.append(p[1])
            deepest = max(deepest, len(stack))
        elif p in ("</b>", "</i>") and stack and stack[-1] == p[2]:
            stack.pop()
    return deepest


def _balanced(pieces: list[str]) -> str:
    """Drop closing tags that close nothing, then close what stays open."""
    out, stack = [], []
    for p in pieces:
        if p in ("<b>", "<i>"):
            stack.append(p[1])
            out.append(p)
        elif p in ("</b>", "</i>"):
            if stack and stack[-1] == p[2]:
                stack.pop()
                out.append(p)
        else:
            out.append(p)
    out += [f"</{name}>" for name in reversed(stack)]
    return "".join(out)


@settings(max_examples=150, deadline=None)
@given(st.lists(_piece, max_size=60), st.integers(min_value=30, max_value=300))
def test_split_property_valid_within_limit_nothing_lost(pieces, limit):
    # A part must hold the open tags, their closings and one entity ("&quot;"):
    # below that split_message refuses ("limit too small"), as it should.
    assume(limit >= 7 * _depth(pieces) + 6)
    text = _balanced(pieces)
    visible_text(text)
    parts = split_message(text, limit)
    for part in parts:
        assert utf16_len(part) <= limit
        visible_text(part)
    joined = "".join(visible_text(p) for p in parts)
    assert squash(joined) == squash(visible_text(text)) or not squash(visible_text(text))


# --- keyboards and cards -------------------------------------------------------


def test_pagination_row():
    row = pagination_row(2, 5, lambda p: encode("jobs", "page", arg=p))
    assert [b["text"] for b in row] == ["‹ Prev", "2/5", "Next ›"]
    assert [b["data"] for b in row] == ["jobs:page::1", "jobs:page::2", "jobs:page::3"]
    assert [b["text"] for b in pagination_row(1, 2, str)] == ["1/2", "Next ›"]
    assert pagination_row(1, 1, str) == []


def test_keyboard_skips_empty_rows():
    b = {"text": "a", "data": "x:y"}
    assert keyboard(None, b, [b, None], [], [b, b]) == [[b], [b], [b, b]]
    assert keyboard(None) is None


def test_job_card_escapes_every_field():
    job = Job(
        id=7,
        client_id=1,
        title="<script>alert(1)</script>",
        description="Fish & <chips>",
        category="dev<",
        skills=["c++", "<x>"],
        budget=125050,
        deadline=date(2026, 3, 1),
        status=JobStatus.OPEN,
    )
    card = job_card(job, translator("en"))
    text = visible_text(card)
    assert "<script>alert(1)</script>" in text and "Fish & <chips>" in text
    assert "$1,250.50" in text and "Job #7" in text and "2026-03-01" in text
    ru = visible_text(job_card(job, translator("ru")))
    assert "Заказ №7" in ru and "открыт" in ru


# --- callback data -------------------------------------------------------------


def test_callback_round_trip_and_shapes():
    assert encode("job", "show", 12) == "job:show:12"
    assert encode("set", "lang", arg="ru") == "set:lang::ru"
    assert decode("job:show:12:p2") == Callback("job", "show", 12, "p2")
    assert decode("cmd:menu") == Callback("cmd", "menu")


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "job",
        "job:",
        "Job:x",
        "job:x:",
        "job:x:01",
        "job:x:1:",
        "job:x:1:a:b",
        "job:x::",
        "job:x:-1",
        "job:x:1:a b",
        "j" * 65,
        "job:x:1:" + "a" * 33,
        "job:x:١",
    ],
)
def test_bad_callback_data_is_stale(data):
    with pytest.raises(StaleButton):
        decode(data)


def test_encode_refuses_what_decode_would_refuse():
    with pytest.raises(ValueError):
        encode("job", "show", arg="a" * 40)
    with pytest.raises(ValueError):
        encode("Job", "show")
    with pytest.raises(ValueError):
        encode("job", "show", -1)
    with pytest.raises(ValueError):
        encode("job", "show", True)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        encode("abcdefghijklmnop", "abcdefghijklmnop", 10**17, "a" * 32)  # > 64 bytes


@given(
    st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True),
    st.none() | st.integers(min_value=0, max_value=10**18 - 1),
    st.none() | st.from_regex(r"[A-Za-z0-9_.\-]{1,32}", fullmatch=True),
)
def test_callback_property_round_trip(prefix, action, id_, arg):
    try:
        data = encode(prefix, action, id_, arg)
    except ValueError:
        return  # over 64 bytes: refused when encoding, never sent
    assert len(data.encode()) <= CALLBACK_LIMIT
    assert decode(data) == Callback(prefix, action, id_, arg)
