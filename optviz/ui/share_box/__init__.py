"""The share box: the link to the view, and the HTML that embeds it in a slide deck, each with a Copy
button. A small `st.components.v2` component rather than `st.code`: a code element makes the browser
download Streamlit's syntax highlighter (about 400 kB compressed) on every page, for two lines of
text that need no highlighting.

Registered once, at import, from the files beside this module (optviz/ui/components.py).
"""

from __future__ import annotations

from pathlib import Path

from optviz.ui.components import from_files

NAME = "optviz.share_box"
_mount = from_files(NAME, Path(__file__).parent, kits=("clipboard_kit",))


def share_box(where, link: str) -> None:
    """The link to this view and the iframe snippet for a slide deck, in `where` (e.g. the sidebar)."""
    separator = "&" if "?" in link else "?"
    iframe = f'<iframe src="{link}{separator}embed=true" width="960" height="540" style="border:0"></iframe>'
    with where:
        _mount(key="share_box", data={"link": link, "iframe": iframe})
