"""Offline exports of the lab's race: a standalone HTML page, PNG stills and an animated GIF.

For classrooms without a network and for slide decks, which cannot embed the live app. Every
function takes the race figure the page shows (`figures.race_figure`, or any figure with the same
frames, as a figure or its dict) and returns bytes; nothing here imports Streamlit.

- `html`: `to_html`, one page that plays with no server and no network.
- `images`: `to_png` (one step) and `to_gif` (evenly spaced steps), the choice of those steps and
  the GIF's palette.
- `layers`: what the browser draws for them (the still figure once, the moving markers as stamps),
  and `compose`: each step's picture made from those with NumPy.
- `browser`: the one headless Chromium every export shares, `browser_available`, and `ExportError`
  for when a picture cannot be made.
- `figure`: how all of them read the race figure (plain data, its frames, `frame_steps`).
- `limits`: how many renders at once, how many finished files kept, how long one may take.
"""

from optviz.lab.export.browser import ExportError, browser_available
from optviz.lab.export.figure import frame_steps
from optviz.lab.export.html import to_html
from optviz.lab.export.images import (
    GIF_HOLD_LAST_S,
    MIN_GIF_DELAY_MS,
    figure_palette,
    gif_seconds,
    gif_steps,
    nearest_step,
    to_gif,
    to_png,
)

__all__ = [
    "GIF_HOLD_LAST_S",
    "MIN_GIF_DELAY_MS",
    "ExportError",
    "browser_available",
    "figure_palette",
    "frame_steps",
    "gif_seconds",
    "gif_steps",
    "nearest_step",
    "to_gif",
    "to_html",
    "to_png",
]
