"""Offline exports of the lab's race: a standalone HTML page, PNG stills and an animated GIF.

For classrooms without a network and for slide decks, which cannot embed the live app. Every
function takes the race figure the page shows (`figures.race_figure`, or any figure with the same
frames, as a figure or its dict) and returns bytes; nothing here imports Streamlit.

- `html`: `to_html`, one page that plays with no server and no network.
- `images`: `to_png` (one step) and `to_gif` (evenly spaced steps), and the choice of those steps.
- `browser`: the headless Chromium that draws the images (`render_steps`), `browser_available`, and
  `ExportError` for when it cannot.
- `figure`: how all of them read the race figure (plain data, its frames, `frame_steps`).
"""

from optviz.lab.export.browser import RENDER_TIMEOUT_S, ExportError, browser_available, render_steps
from optviz.lab.export.figure import frame_steps
from optviz.lab.export.html import to_html
from optviz.lab.export.images import (
    GIF_HOLD_LAST_S,
    MIN_GIF_DELAY_MS,
    gif_seconds,
    gif_steps,
    nearest_step,
    stitch_gif,
    to_gif,
    to_png,
)

__all__ = [
    "GIF_HOLD_LAST_S",
    "MIN_GIF_DELAY_MS",
    "RENDER_TIMEOUT_S",
    "ExportError",
    "browser_available",
    "frame_steps",
    "gif_seconds",
    "gif_steps",
    "nearest_step",
    "render_steps",
    "stitch_gif",
    "to_gif",
    "to_html",
    "to_png",
]
