"""The Content-Security-Policy that the front sends with every page: nothing from another origin.

optviz is shared by links, and a link carries text that the app shows. Should a future slip ever let
that text become markup, the browser itself still refuses to load or send anything elsewhere: every
fetch directive allows the app's own origin only ('self', which also covers its own ws:/wss:
websocket), plus what Streamlit's frontend and Plotly need, checked in Chromium on every page (no
CSP violation). Each addition below was either seen as a violation without it (the data: pictures
and font, the WebAssembly) or is what the code that needs it does (emotion's inline styles, the
index's inline script, Plotly's blob: image):
- `style-src 'unsafe-inline'`: Streamlit's styles are made at run time (emotion) as inline <style>;
- the inline script of Streamlit's index.html, allowed by its hash (read from the installed file, so
  a Streamlit upgrade keeps working), not by 'unsafe-inline';
- `'wasm-unsafe-eval'`: the protobuf decoder (long.js) compiles a tiny WebAssembly module of its
  own, embedded in its code, for 64-bit arithmetic. This allows compiling WebAssembly only, never
  JavaScript from text (no 'unsafe-eval': neither Streamlit nor Plotly needs it on these pages);
- `img-src data:` and `font-src data:`: the pictures and a font that Streamlit's frontend inlines
  and Plotly draws; `img-src blob:`: Plotly's "Download plot as PNG" draws the
  chart's SVG through a blob: image;
- `script-src blob:`: optviz's components (the lab's race chart, ...) are `st.components.v2`
  components with inline JS, and Streamlit's frontend runs a component's inline JS by wrapping it in
  a Blob and `import()`ing its blob: URL (BidiComponent's `getOrCreateUrlForJs`, Streamlit 1.67). A
  hash cannot allow that (a hash source matches inline scripts, not a fetched module). That inline
  JS is a small loader; the code it imports comes from the app's own route ('self',
  optviz/serve/code_route.py). A blob: URL can only be made by script already running in the page,
  so this lets no other origin's script in.
No `frame-ancestors`: the views are meant to be embedded in slide decks opened from anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions ('sha256-...') for each inline <script> in `html`."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def policy(index_html: Path) -> str:
    """The policy for pages whose document is `index_html` (Streamlit's)."""
    scripts = " ".join(
        ["'self'", "blob:", "'wasm-unsafe-eval'", *inline_script_hashes(index_html.read_text())]
    )
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        ]
    )
