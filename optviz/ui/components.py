"""optviz's own `st.components.v2` components (the race chart, its curves, the share box): each one's
HTML, CSS and JS are files in a folder of its own, registered once, at import, by `from_files`.

The HTML and CSS go inline, with each update. The JS is served once, from optviz's own route, and
what goes inline is a small module that imports it (optviz/component_code.py's `loader`: a
component's files can be served by Streamlit only from an installed package that declares an asset
directory, and optviz runs from its folder). Streamlit's frontend runs inline JS by wrapping it in a
Blob and `import()`ing its blob: URL, which is why the Content-Security-Policy allows blob: scripts
(optviz/serve/csp.py).

Components share a few functions from kits beside this module, which `from_files` puts before their
own JS and CSS: `canvas_kit.js` (decoding the packed arrays, round tick spacings, the step charts'
StepChart; its frame in `canvas_kit.css`) and `clipboard_kit.js` (a Copy button's copying). The JS
goes without its comment lines, and each update's data as JSON bytes (optviz/component_code.py).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from optviz.component_code import data_bytes, loader, without_comment_lines

KITS = Path(__file__).parent


def from_files(name: str, folder: Path, *, kits: tuple[str, ...] = ()):
    """Register component `name` from `folder`/<folder's name>.html, .css and .js (after the CSS and JS
    of `kits`, e.g. ("canvas_kit",)); returns its mounting command. Mounted in the page's DOM, not a
    shadow root: the components find each other, and tests find them, with plain selectors."""
    files = {kind: _read(folder / f"{folder.name}.{kind}") for kind in ("html", "css", "js")}
    for kind in ("css", "js"):
        files[kind] = "\n".join([*(_read(KITS / f"{kit}.{kind}") for kit in kits), files[kind]]).strip()
    files["js"] = loader(name, without_comment_lines(files["js"]))
    component = st.components.v2.component(name, **files, isolate_styles=False)

    def mount(*, data=None, **options):
        """Mount (or update) the component: `data` goes as JSON bytes (`data_bytes`), the rest as
        Streamlit's component command takes it (key, on_*_change, ...)."""
        return component(data=None if data is None else data_bytes(data), **options)

    return mount


def _read(path: Path) -> str:
    """A component's or kit's file; "" for a CSS or JS file it does without."""
    return path.read_text() if path.exists() else ""
