"""The JS of optviz's browser components as the browser gets it (optviz/ui/components.py).

A Streamlit component's code goes with every update of its data: the race chart's, 34 KB, with each
change of the race. Its comments, written for the people who read the files, are a fifth of it.
"""

from __future__ import annotations


def without_comment_lines(js: str) -> str:
    """`js` without its whole-line comments, blank lines and indentation (a comment after code on
    the same line stays). Safe for optviz's code, which has no template literal or string spanning
    lines: a line inside one would lose its indentation."""
    lines = (line.strip() for line in js.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))
