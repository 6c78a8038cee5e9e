"""The race as one standalone HTML page: the live race chart itself, with the race inlined.

The page is the lab's race chart (optviz/ui/race_chart: its HTML, CSS and JS, after canvas_kit.js,
as the app registers it) and the race as the chart's data (`RaceExport.chart_data`), in one file. A
small module calls the chart's default export as Streamlit does, with {data, parentElement,
setStateValue}, so the file draws exactly what the page draws: the map, the trails growing with the
race, the heads, the legend, the panels or presenter style, and its Play button, step slider, speed
and keys. It plays once on opening, at the view's speed, and stops at the last step.

No server, no network: nothing is fetched, which its Content-Security-Policy enforces (`CSP`). The
chart's data says `interactive: false`, so a start cannot be dragged (with no server, the paths
could not follow it), and a note under the chart says that this is a recording.

The pictures (`export.images`) are drawn from this same page, loaded without a race
(`chart_page(None)`) in the shared browser, which hands each render its race (`window.optvizExport`,
see `export.frames`). Writing the file itself needs no browser.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import optviz

CHART = Path(optviz.__file__).parent / "ui" / "race_chart"  # the live chart's files (read, not imported:
CANVAS_KIT = CHART.parent / "canvas_kit.js"  # importing optviz.ui would import Streamlit)
FILES = ("html", "css", "js")
DATA_ID, JS_ID = "optviz-race-data", "optviz-race-js"
RECORDING = (
    "A recording of the race: Play, the slider and the arrow keys replay it; the start cannot be moved."
)

# What the page may load: nothing from anywhere (default-src 'none'), except what it carries: its inline
# scripts, the chart's JS (a module made from the page's own text, so a blob: URL, as Streamlit loads a
# component) and its inline styles. So even a label that slipped into the data cannot fetch anything,
# nor can a form or a <base> send the reader elsewhere. (The pictures' static layer, export.frames, is
# decoded with createImageBitmap, which fetches nothing.)
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' blob:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)

# The page's own look around the chart; for pictures (the class "picture" on <html>), the chart alone:
# no controls or note, no margins, and room on the legend's line for the step caption (export.frames).
_STYLE = """
html, body { margin: 0; background: #fff; }
body { padding: 16px; }
.optviz-export__note { font: 13px "Source Sans", sans-serif; color: #6b6f76; margin: 8px 0 0; }
html.picture body { padding: 0; overflow: hidden; }
html.picture .optviz-race__controls, html.picture .optviz-race__note, html.picture .optviz-export__note {
  display: none;
}
html.picture .optviz-race__legend { padding-right: 9em; }
html.picture.hide-foreground .optviz-race__foreground { visibility: hidden; }
"""

# Imports the chart's JS (its text, from the page) as a module and mounts it on #optviz-chart with the
# page's data, then presses Play once. `window.optvizMount(data)` mounts it afresh with other data
# (the pictures' renders, export.frames).
_HARNESS = """
const source = document.getElementById("%(js)s").textContent;
const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
const { default: raceChart } = await import(url);
const parent = document.getElementById("optviz-chart");
const template = parent.innerHTML;
let cleanup = null;
window.optvizMount = (data) => {
  if (cleanup) cleanup();
  parent.innerHTML = template;
  cleanup = raceChart({ data, parentElement: parent, setStateValue: () => {} });
  return parent.querySelector(".optviz-race");
};
const data = JSON.parse(document.getElementById("%(data)s").textContent);
if (data) {
  const chart = window.optvizMount(data);
  chart.querySelector(".optviz-race__play").click();
  chart.focus({ preventScroll: true });
}
"""


def inline(text: str, what: str) -> str:
    """`text` for the inside of a <script> or <style>: it must not close its element (nor open an
    HTML comment, which changes how a script's end is found)."""
    if any(tag in text.lower() for tag in ("</script", "</style", "<!--")):
        raise ValueError(f"{what} cannot be inlined: it contains a tag")
    return text


def chart_page(data: dict | None, *, title: str = "optviz race", pictures: str = "") -> str:
    """The page: the race chart with `data` (the chart's data; None: mounted later by
    `window.optvizMount`), titled `title`. `pictures`: the JS that pictures are drawn with
    (export.frames), run after the chart's; with it, the page is laid out for pictures (the chart
    alone)."""
    picture = bool(pictures)
    files = {kind: (CHART / f"race_chart.{kind}").read_text(encoding="utf-8") for kind in FILES}
    js = CANVAS_KIT.read_text(encoding="utf-8") + "\n" + files["js"]
    # JSON inside <script>: "</" escaped as "<\\/" (the same string to JSON), so no text can close it.
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    harness = _HARNESS % {"js": JS_ID, "data": DATA_ID} + inline(pictures, "the pictures' JS")
    return f"""<!DOCTYPE html>
<html lang="en"{' class="picture"' if picture else ""}>
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width">
<title>{html.escape(title)}</title>
<style>{inline(files["css"], "race_chart.css")}{_STYLE}</style>
</head>
<body>
<div id="optviz-chart">{files["html"]}</div>
<p class="optviz-export__note">{html.escape(RECORDING)}</p>
<script type="application/json" id="{DATA_ID}">{payload}</script>
<script type="text/plain" id="{JS_ID}">{inline(js, "race_chart.js")}</script>
<script type="module">{harness}</script>
</body>
</html>
"""


def to_html(data: dict, *, title: str = "optviz race") -> bytes:
    """A standalone HTML page of the race chart with `data` (`RaceExport.chart_data`): it plays once
    on opening at the data's speed and stops at the last step; no network, no server. UTF-8 bytes."""
    if not data or not data.get("race"):
        raise ValueError("an HTML page needs the chart's data with its race")
    return chart_page({**data, "interactive": False}, title=title).encode("utf-8")
