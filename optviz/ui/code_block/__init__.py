"""A block of Python with a Copy button: an `st.components.v2` component that colours the source from
the standard library's tokenizer (optviz/highlight.py) instead of `st.code`, whose syntax highlighter
(about 400 kB) a page would otherwise download for a few lines of code. Shown in the system's
monospace font, which needs no download either.

Registered once, at import, from the files beside this module (optviz/ui/components.py).
"""

from __future__ import annotations

from pathlib import Path

from optviz.highlight import python_spans
from optviz.ui.components import from_files

NAME = "optviz.code_block"
_mount = from_files(NAME, Path(__file__).parent, kits=("clipboard_kit",))


def code_block(where, source: str, *, key: str) -> None:
    """Show Python `source` in `where`, coloured, with a Copy button; `key` names it in the page."""
    with where:
        _mount(key=key, data={"spans": python_spans(source)})
