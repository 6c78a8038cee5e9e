"""Text that came from a person or a link, shown as typed: never as a link, an image or markup.

A link is the app's front door: a lecturer posts one, a class opens it. If a link's text were read
as Markdown, `?steps=[Log in again](http://evil.example)` would put a phishing link inside the app's
own notice, and `![x](http://evil.example/p.png)` would make every student's browser report to
another host. So every page shows such text (link values and keys, formulas and what is said about
them, the 1D sentence, kernel cells) through `literal`, and sentences about it quote it with
`quote`. Library code builds plain sentences; the page escapes them where Markdown renders them.
"""

from __future__ import annotations

import unicodedata

MAX_SHOWN = 80  # characters of a person's text quoted back to them; longer text ends in "…"

# Streamlit renders notices, captions and errors as Markdown (CommonMark with GFM autolinks, KaTeX
# between $, its own :colour[...] and :icon: codes). CommonMark lets a backslash escape any ASCII
# punctuation, which turns each of these characters back into itself: [ ] ( ) ! < > & make no link,
# image, HTML or entity; $ and \ start no formula; : makes no :colour[...].
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# GFM's bare autolinks (`http://x`, `www.x`, `a@b.c`) are found in the text *after* escapes are read
# (measured in Chromium: `http\:\/\/x` is still a link). An invisible word joiner before each `.`,
# `:` and `@` breaks every such pattern and changes nothing a reader sees.
_UNLINK = frozenset(".:@")
WORD_JOINER = "\u2060"


def clip(text: str, limit: int | None = MAX_SHOWN) -> str:
    """`text` cut to `limit` characters, the last of them "…" if anything was cut (None: whole)."""
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def quote(text: str) -> str:
    """A person's text quoted in a plain sentence, clipped: `"[Log in again](http://evil.exam…"`."""
    return f'"{clip(text)}"'


def literal(text: str, limit: int | None = MAX_SHOWN) -> str:
    """`text` (clipped to `limit`) as Markdown that shows exactly these characters: every ASCII
    punctuation mark escaped, bare autolinks broken (see WORD_JOINER), control and format characters
    (line breaks, which could start a heading, list or link definition; bidirectional overrides, which
    reorder what is read) shown as spaces."""
    return "".join(_shown(c) for c in clip(text, limit))


def _shown(c: str) -> str:
    if c in _UNLINK:
        return WORD_JOINER + "\\" + c
    if c in _ASCII_PUNCTUATION:
        return "\\" + c
    if unicodedata.category(c) in ("Cc", "Cf"):
        return " "
    return c
