"""What the browser draws for a picture of the race: the still part once, the moving part as stamps.

Between two steps of the race figure only the head markers move (its frames change nothing else,
see figures.race_figure) and the "step N" caption changes. So Plotly, in the shared browser
(`export.browser`), draws the figure once without the heads, as a background, and once more a sheet
of stamps on a transparent background: each head marker as the chart draws it (its colour, size,
outline and symbol, from the figure's own marker settings), at four sub-pixel offsets each way, and
each caption. `export.compose` then makes any step's picture from those with NumPy: the background,
each head stamped where the frame puts it (Plotly's own axis mapping, read from the page), the
caption in the corner. Two screenshots make a GIF of any length, where drawing every frame in the
browser costs a screenshot per frame (`python -m bench.export` measures both).

Positions: Plotly puts a marker at offset + round(b + m v, 2) CSS pixels on a linear axis (its `l2p`
plus the plot area's offset), times the device scale; stamps drawn at quarter-pixel offsets put a
marker within an eighth of a pixel of there. Markers are clipped to their plot area, as Plotly clips
them (`cliponaxis`).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly
from PIL import Image

from optviz.lab.export.browser import Browser, Page
from optviz.lab.export.limits import LIMITS

PHASES = 4  # stamps per marker each way: sub-pixel offsets 0, 1/4, 1/2, 3/4 of a device pixel
SHEET_WIDTH = 640  # CSS pixels: the sheet of stamps
CAPTION_BOTTOM_PX = 10  # the caption's box ends this far above the picture's bottom, at its right margin

_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<style>
html, body {{margin: 0; padding: 0; overflow: hidden; background: white}}
html.sheet, html.sheet body {{background: transparent}}
html.sheet #figure {{display: none}}
#sheet {{position: absolute; left: 0; top: 0}}
.caption {{position: absolute; white-space: pre; font: 16px "Open Sans", verdana, arial, sans-serif;
  color: #2a3f5f}}
</style>
<script src="{plotly}"></script></head>
<body><div id="figure"></div><div id="sheet"><div id="stamps"></div></div>
<script>
const figure = document.getElementById("figure");
const sheet = document.getElementById("sheet");
const stamps = document.getElementById("stamps");
// An axis as [offset, m, b, length]: a value v is drawn at offset + round(b + m v, 2) CSS pixels.
const axis = (gd, id) => {{
  const a = gd._fullLayout[id.replace(/^([xy])/, "$1axis")];
  return [a._offset, a._m, a._b, a._length];
}};
window.clearPage = () => {{
  Plotly.purge(figure);
  Plotly.purge(stamps);
  sheet.querySelectorAll(".caption").forEach((d) => d.remove());
  document.documentElement.className = "";
}};
// The figure; returns the axes of the traces `moving`.
window.drawFigure = async (fig, moving) => {{
  clearPage();
  await Plotly.newPlot(figure, fig.data, fig.layout, {{staticPlot: true}});
  return moving.map((i) => {{
    const trace = figure._fullData[i];
    return [axis(figure, trace.xaxis), axis(figure, trace.yaxis)];
  }});
}};
// The sheet: `fig` (markers, in CSS pixels) above `captions`, each right-aligned in a column.
window.drawSheet = async (fig, captions) => {{
  document.documentElement.className = "sheet";
  const width = fig.layout.width, top = fig.layout.height;
  sheet.style.width = `${{width}}px`;
  await Plotly.newPlot(stamps, fig.data, fig.layout, {{staticPlot: true}});
  const boxes = captions.map((text) => {{
    const box = document.createElement("div");
    box.className = "caption";
    box.textContent = text;
    sheet.appendChild(box);
    return box;
  }});
  const sizes = boxes.map((box) => box.getBoundingClientRect());
  const wide = Math.ceil(Math.max(1, ...sizes.map((r) => r.width))) + 4;
  const tall = Math.ceil(Math.max(1, ...sizes.map((r) => r.height))) + 2;
  const columns = Math.max(1, Math.floor(width / wide));
  boxes.forEach((box, i) => {{
    box.style.right = `${{width - wide * ((i % columns) + 1)}}px`;
    box.style.top = `${{top + tall * Math.floor(i / columns)}}px`;
  }});
  return {{
    x: axis(stamps, "x"), y: axis(stamps, "y"),
    captions: boxes.map((box) => {{
      const r = box.getBoundingClientRect();
      return [r.left, r.top, r.right, r.bottom];
    }}),
    height: top + tall * Math.ceil(boxes.length / columns),
  }};
}};
</script></body></html>
"""


def _plotly_js() -> Path:
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


BROWSER = Browser(_PAGE.format(plotly=_plotly_js().as_uri()), pages=LIMITS.workers)


@dataclass(frozen=True)
class Axis:
    """A linear Plotly axis as drawn: a value's CSS pixel, and the plot area's extent along it."""

    offset: float
    m: float
    b: float
    length: float

    def pixel(self, value: float) -> float:
        return self.offset + round(self.b + self.m * value, 2)


@dataclass(frozen=True)
class Stamp:
    """An RGBA picture and where its anchor is: for a marker, its centre within the picture."""

    rgba: np.ndarray  # (height, width, 4) uint8, alpha not premultiplied
    anchor: tuple[float, float]  # (x, y) device pixels within rgba


@dataclass(frozen=True)
class Mover:
    """A trace that the frames move: its axes and each member's marker stamps."""

    x: Axis
    y: Axis
    stamps: list[list[Stamp]]  # [member][PHASES * phase_y + phase_x]


@dataclass(frozen=True)
class Layers:
    """Everything a picture of any step is made of (see `export.compose`)."""

    background: np.ndarray  # (height, width, 3) uint8: the figure without its moving markers
    scale: float  # device pixels per CSS pixel
    movers: dict[int, Mover]  # by trace index
    captions: dict[str, tuple[np.ndarray, tuple[int, int]]]  # text -> RGBA, its top-left in the picture


def draw(still: dict, moving: list[int], captions: list[str], *, scale: float, timeout: float) -> Layers:
    """The layers of `still` (a figure's dict, sized by its layout's width and height, without
    animation controls), whose traces `moving` are the ones frames move, and a stamp of each of
    `captions`, at `scale` device pixels per CSS pixel. ExportError if the browser fails or takes
    longer than `timeout` seconds."""
    data = [{**trace, "x": [], "y": []} if i in moving else trace for i, trace in enumerate(still["data"])]
    styles = [_point_styles(still["data"][index]) for index in moving]
    sheet, slots = _sheet(styles, scale)
    width, height = still["layout"]["width"], still["layout"]["height"]

    async def work(page: Page) -> Layers:
        await page.resize(width, height, scale)
        axes = await page.call("drawFigure", {**still, "data": data}, moving)
        background = _pixels(await page.screenshot(), "RGB")
        placed = await page.call("drawSheet", sheet, captions)
        await page.resize(SHEET_WIDTH, math.ceil(placed["height"]), scale)
        stamps = _pixels(await page.screenshot(transparent=True), "RGBA")
        await page.call("clearPage")
        on_sheet = Axis(*placed["x"]), Axis(*placed["y"])
        movers = {
            index: Mover(
                Axis(*x), Axis(*y), [[_cut(stamps, slot, on_sheet, scale) for slot in m] for m in members]
            )
            for index, members, (x, y) in zip(moving, slots, axes, strict=True)
        }
        corner = (width - still["layout"].get("margin", {}).get("r", 0), height - CAPTION_BOTTOM_PX)
        boxes = dict(zip(captions, placed["captions"], strict=True))
        words = {text: _caption(stamps, box, corner, scale) for text, box in boxes.items()}
        return Layers(background, scale, movers, words)

    return BROWSER.run(work, timeout=timeout)


def _point_styles(trace: dict) -> list[dict]:
    """How `trace` draws each of its points (per-point arrays such as colours resolved), as the
    settings of a markers-only trace."""

    def pick(value, j):
        if isinstance(value, dict):
            return {key: pick(v, j) for key, v in value.items()}
        if isinstance(value, list):
            return value[j % len(value)] if value else None
        return value

    marker = trace.get("marker") or {}
    return [
        {"mode": "markers", "marker": pick(marker, j), "opacity": trace.get("opacity", 1)}
        for j in range(len(trace.get("x") or []))
    ]


@dataclass(frozen=True)
class _Slot:
    """Where a stamp is drawn on the sheet: its square's top-left device pixel and the marker's
    centre in CSS pixels (the square's middle plus a sub-pixel phase)."""

    left: int
    top: int
    size: int  # device pixels
    x: float
    y: float


def _sheet(styles: list[list[dict]], scale: float) -> tuple[dict, list[list[list[_Slot]]]]:
    """The sheet's markers as a figure in CSS pixels (x right, y down, from the top-left corner),
    and each stamp's slot [trace][member][phase]."""
    extent = [
        float(s["marker"].get("size") or 6) + 2 * float((s["marker"].get("line") or {}).get("width") or 0)
        for members in styles
        for s in members
    ]
    cell = math.ceil(1.5 * max(extent, default=6)) + 6  # room for any symbol and its outline
    per_row, size = SHEET_WIDTH // cell, round(cell * scale)
    data, slots, n = [], [], 0
    for members in styles:
        slots.append([])
        for style in members:
            phases = []
            for phase in range(PHASES * PHASES):
                row, column = divmod(n, per_row)
                n += 1
                left, top = round(column * cell * scale), round(row * cell * scale)
                fx, fy = (phase % PHASES) / PHASES, (phase // PHASES) / PHASES
                phases.append(
                    _Slot(left, top, size, (left + size // 2 + fx) / scale, (top + size // 2 + fy) / scale)
                )
            trace = {"type": "scatter", "cliponaxis": False, "hoverinfo": "skip", **style}
            data.append({**trace, "x": [p.x for p in phases], "y": [p.y for p in phases]})
            slots[-1].append(phases)
    height = math.ceil(n / per_row) * cell
    layout = {
        "width": SHEET_WIDTH,
        "height": height,
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0, "pad": 0},
        "xaxis": {"range": [0, SHEET_WIDTH], "visible": False},
        "yaxis": {"range": [height, 0], "visible": False},
        "showlegend": False,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
    }
    return {"data": data, "layout": layout}, slots


def _pixels(png: bytes, mode: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert(mode))


def _cut(sheet: np.ndarray, slot: _Slot, axes: tuple[Axis, Axis], scale: float) -> Stamp:
    """The stamp in `slot`, anchored where Plotly drew the marker's centre."""
    x, y = axes
    square = sheet[slot.top : slot.top + slot.size, slot.left : slot.left + slot.size].copy()
    return Stamp(square, (x.pixel(slot.x) * scale - slot.left, y.pixel(slot.y) * scale - slot.top))


def _caption(
    sheet: np.ndarray, box, corner: tuple[float, float], scale: float
) -> tuple[np.ndarray, tuple[int, int]]:
    """The caption in `box` (CSS left, top, right, bottom on the sheet), and the picture's device
    pixel for its top-left corner so that its box ends at `corner` (CSS right, bottom)."""
    left, top, right, bottom = box
    x0, y0 = math.floor(left * scale) - 1, math.floor(top * scale) - 1
    x1, y1 = math.ceil(right * scale) + 1, math.ceil(bottom * scale) + 1
    x0, y0 = max(x0, 0), max(y0, 0)
    shift_x, shift_y = corner[0] - right, round(corner[1] - bottom)  # the right edges are whole pixels
    return sheet[y0:y1, x0:x1].copy(), (round(x0 + shift_x * scale), round(y0 + shift_y * scale))
