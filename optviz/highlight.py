"""Python source cut into highlighted pieces, with the standard library's tokenizer: what the page's
code blocks (optviz/ui/code_block) colour, without a syntax highlighter in the browser (Streamlit's
st.code downloads one of about 400 kB).

The pieces join back to the source exactly: the text between tokens (spaces, line breaks, a line's
continuation) is a piece of kind "". Source the tokenizer cannot read (an unfinished string, an
indentation error) is one plain piece: shown as it is, never lost.
"""

from __future__ import annotations

import io
import keyword
import token
import tokenize
from itertools import accumulate

KINDS = ("keyword", "definition", "string", "number", "comment", "")  # "": plain text


def _kind(tok: tokenize.TokenInfo, previous: str) -> str:
    if tok.type == token.NAME:
        if keyword.iskeyword(tok.string) or keyword.issoftkeyword(tok.string):
            return "keyword"
        return "definition" if previous in ("def", "class") else ""
    return {token.STRING: "string", token.NUMBER: "number", token.COMMENT: "comment"}.get(tok.type, "")


def python_spans(source: str) -> list[tuple[str, str]]:
    """(kind, text) pieces of `source` in order, kind one of KINDS; "".join of the texts is `source`."""
    line_starts = [0, *accumulate(len(line) for line in source.splitlines(keepends=True))]

    def offset(row: int, column: int) -> int:
        return line_starts[row - 1] + column if row - 1 < len(line_starts) else len(source)

    spans: list[tuple[str, str]] = []
    position, previous = 0, ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            start = offset(*tok.start)
            end = start + len(tok.string)  # tok.end is past the source for the NEWLINE it adds at its end
            if start < position or source[start:end] != tok.string:
                raise ValueError("a token that is not where the tokenizer says")
            if start > position:
                spans.append(("", source[position:start]))
            if end > start:
                spans.append((_kind(tok, previous), source[start:end]))
            position = max(position, end)
            if tok.type == token.NAME:
                previous = tok.string
    except (tokenize.TokenError, SyntaxError, ValueError):
        return [("", source)] if source else []
    if position < len(source):
        spans.append(("", source[position:]))
    return _merged(spans)


def _merged(spans: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Neighbouring pieces of one kind as one piece (fewer elements for the browser)."""
    merged: list[tuple[str, str]] = []
    for kind, text in spans:
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return merged
