"""optviz's own `st.components.v2` components (the race chart, its curves, the share box): each one's
HTML, CSS and JS are files in a folder of its own, registered once, at import, by `from_files`.

The files are read and passed as strings: a component's files can be served by path only from an
installed package that declares an asset directory, and optviz runs from its folder. Streamlit's
frontend runs such inline JS by wrapping it in a Blob and `import()`ing its blob: URL, which is why
the Content-Security-Policy allows blob: scripts (optviz/serve/csp.py).

The canvas components share a few functions (decoding the packed arrays, round tick spacings) from
`canvas_kit.js`, which `from_files` puts before their own JS: an inline module cannot import another.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

CANVAS_KIT = Path(__file__).parent / "canvas_kit.js"


def from_files(name: str, folder: Path, *, canvas_kit: bool = False):
    """Register component `name` from `folder`/<folder's name>.html, .css and .js (with `canvas_kit`,
    the kit's functions first); returns its mounting command. Mounted in the page's DOM, not a shadow
    root: the components find each other, and tests find them, with plain selectors."""
    files = {kind: (folder / f"{folder.name}.{kind}").read_text() for kind in ("html", "css", "js")}
    if canvas_kit:
        files["js"] = CANVAS_KIT.read_text() + "\n" + files["js"]
    return st.components.v2.component(name, **files, isolate_styles=False)
