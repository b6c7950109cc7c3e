"""Telegram HTML parse mode, checked without any HTTP."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.html_check import HtmlParseError, parse_html


def test_nested_tags_give_utf16_entities() -> None:
    text, ents = parse_html("😀 <b>bold <i>both</i></b> <a href='https://x.org/?a=1&amp;b=2'>l</a>")
    assert text == "😀 bold both l"
    assert ents == [
        {"offset": 3, "length": 9, "type": "bold"},
        {"offset": 8, "length": 4, "type": "italic"},
        {"offset": 13, "length": 1, "type": "text_link", "url": "https://x.org/?a=1&b=2"},
    ]


def test_all_documented_tags() -> None:
    src = (
        "<strong>a</strong><em>b</em><u>c</u><ins>d</ins><s>e</s><strike>f</strike><del>g</del>"
        '<span class="tg-spoiler">h</span><tg-spoiler>i</tg-spoiler><code>j</code>'
        '<pre><code class="language-python">k</code></pre><blockquote>l</blockquote>'
        '<blockquote expandable>m</blockquote><tg-emoji emoji-id="5368324170671202286">n</tg-emoji>'
    )
    text, ents = parse_html(src)
    assert text == "abcdefghijklmn"
    assert [e["type"] for e in ents] == [
        "bold", "italic", "underline", "underline", "strikethrough", "strikethrough",
        "strikethrough", "spoiler", "spoiler", "code", "pre", "blockquote",
        "expandable_blockquote", "custom_emoji",
    ]  # fmt: skip
    assert ents[10]["language"] == "python"


def test_entities_decoded() -> None:
    assert parse_html("&lt;&gt;&amp;&quot;&#65;&#x42; & &nbsp; a&b")[0] == '<>&"AB & &nbsp; a&b'


@pytest.mark.parametrize(
    ("src", "error"),
    [
        ("Tom <3 Jerry", 'Unsupported start tag "3"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x<y", "Unclosed start tag at byte offset 1"),
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("<br>", 'Unsupported start tag "br"'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("é <b", "Unclosed start tag at byte offset 3"),
    ],
)
def test_refused_like_telegram(src: str, error: str) -> None:
    with pytest.raises(HtmlParseError, match=error.replace("(", r"\(")):
        parse_html(src)


@given(st.text())
def test_escaped_text_round_trips(text: str) -> None:
    plain, ents = parse_html(html.escape(text))
    assert plain == text
    assert ents == []
