"""Text from a person or a link, as the pages show it: clipped, quoted, and escaped for Markdown.

Whether Streamlit's Markdown really shows the escaped text as typed (no link, image, HTML or KaTeX)
is checked in Chromium by tests/e2e/test_hostile_links.py; here, the escaping itself.
"""

import string

import pytest

from optviz.text import MAX_SHOWN, WORD_JOINER, clip, literal, quote
from tests.apptest import shown

PAYLOADS = [
    "[Log in again](http://evil.example/login)",
    "![x](http://evil.example/p.png)",
    "<http://evil.example>",
    "www.evil.example",
    "<img src=x onerror=alert(1)>",
    r"$\href{http://evil.example}{x}$",
    "&lt;b&gt; :red[x] :material/home: **bold** `code` ~~gone~~",
]


@pytest.mark.parametrize("text", PAYLOADS)
def test_literal_escapes_every_punctuation_mark_and_reads_back_as_typed(text):
    escaped = literal(text)
    assert shown(escaped) == text
    marks = iter(escaped)
    for c in marks:  # every mark comes as a backslash and the mark itself
        assert c not in string.punctuation or (c == "\\" and next(marks) in string.punctuation), escaped
    for mark in ".:@":  # and these after an invisible word joiner, which no autolink spans
        assert escaped.count(mark) == escaped.count(WORD_JOINER + "\\" + mark)
    assert "http://" not in escaped and "www." not in escaped


def test_line_breaks_and_bidirectional_overrides_become_spaces():
    assert literal("a\n\n[r]: b\u202ec") == "a  \\[r\\]\u2060\\: b c"


def test_long_text_is_clipped_with_an_ellipsis():
    assert clip("x" * 200) == "x" * (MAX_SHOWN - 1) + "…" and len(clip("x" * 200)) == MAX_SHOWN
    assert clip("short") == "short" and clip("x" * 200, limit=None) == "x" * 200
    assert shown(literal("[" * 200)) == "[" * (MAX_SHOWN - 1) + "…"


def test_quote_puts_the_clipped_text_in_quotes():
    assert quote("[Log in again](http://evil.example)") == '"[Log in again](http://evil.example)"'
    assert quote("y" * 100) == '"' + "y" * (MAX_SHOWN - 1) + '…"'
