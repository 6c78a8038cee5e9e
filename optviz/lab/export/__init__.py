"""Offline exports of the lab's race: a standalone HTML page, PNG stills and an animated GIF.

For classrooms without a network and for slide decks, which cannot embed the live app. Each one is
the live race chart itself (optviz/ui/race_chart: its JS draws them all), given the chart's data
(`view.RaceExport.chart_data`: the race packed by optviz.lab.race_data and the view's look); each
function returns bytes; nothing here imports Streamlit.

- `html`: `to_html`, one page that plays with no server and no network (the chart's files and the
  race inlined), and `chart_page`, that page, which the pictures are drawn from too.
- `images`: `to_png` (one step) and `to_gif` (evenly spaced steps), the choice of those steps and
  the GIF's palette.
- `frames`: how the browser draws them from the chart's page (a static layer once, each step's
  picture composited, a GIF's frames mapped to its palette and deflated in the page).
- `browser`: the one headless Chromium every picture shares, `browser_available`, and `ExportError`
  for when a picture cannot be made.
- `view`: `RaceExport`, one export named completely (the page's buttons and the command line);
  `jobs`, `process` and `limits`: how the app makes them once for a class, apart from its pages.
"""

from optviz.lab.export.browser import ExportError, browser_available
from optviz.lab.export.html import chart_page, to_html
from optviz.lab.export.images import (
    GIF_HOLD_LAST_S,
    MIN_GIF_DELAY_MS,
    gif_seconds,
    gif_steps,
    picture_step,
    race_palette,
    to_gif,
    to_png,
)

__all__ = [
    "GIF_HOLD_LAST_S",
    "MIN_GIF_DELAY_MS",
    "ExportError",
    "browser_available",
    "chart_page",
    "gif_seconds",
    "gif_steps",
    "picture_step",
    "race_palette",
    "to_gif",
    "to_html",
    "to_png",
]
