"""The share box: the link to the view, and the HTML that embeds it in a slide deck, each with a Copy
button. A small `st.components.v2` component rather than `st.code`: a code element makes the browser
download Streamlit's syntax highlighter (about 400 kB compressed) on every page, for two lines of
text that need no highlighting.

Its HTML, CSS and JS are the files beside this module, passed as strings (see
optviz/ui/race_chart/__init__.py for why, and the Content-Security-Policy's blob: scripts).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

NAME = "optviz.share_box"
_HERE = Path(__file__).parent

_mount = st.components.v2.component(
    NAME,
    html=(_HERE / "share_box.html").read_text(),
    css=(_HERE / "share_box.css").read_text(),
    js=(_HERE / "share_box.js").read_text(),
    isolate_styles=False,  # the page's font and colours; tests find the fields with plain selectors
)


def share_box(where, link: str) -> None:
    """The link to this view and the iframe snippet for a slide deck, in `where` (e.g. the sidebar)."""
    separator = "&" if "?" in link else "?"
    iframe = f'<iframe src="{link}{separator}embed=true" width="960" height="540" style="border:0"></iframe>'
    with where:
        _mount(key="share_box", data={"link": link, "iframe": iframe})
