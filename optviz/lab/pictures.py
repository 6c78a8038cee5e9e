"""The contour map of an animated figure, drawn as a picture under the traces.

plotly.js removes contour traces from the plot as soon as an animation frame moves other traces
without a full redraw (plotly.js#4491). Checked in Chromium with the plotly.js Streamlit 1.67 ships
(4.2.0) and the one plotly.py 7.1 inlines (4.1.1): the contour's SVG paths go from ~60 to 0 on
the first frame of Play, also when the contour is not listed in the frame. So an animated figure
draws each filled contour map as a picture (layout.images, layer "below"), which frames never
touch, and keeps the contour trace, invisible, for its colour bar.

Drawing a picture (colouring every pixel, then encoding a PNG) costs more than building the rest of
the race figure, and it depends only on the map, so pictures are kept (a few dozen, keyed by the
map's numbers): a slider change that re-builds the race figure reuses its surface's. In the browser
a picture costs time on every redraw of the chart, growing with its pixels, so the page keeps its
crisp contour trace on top and puts a coarse picture under it, which only shows once Play has erased
the contour; exports, drawn once, get a fine picture instead.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
from collections import OrderedDict

import numpy as np
from PIL import Image

PIXELS_PER_CELL = 8  # picture pixels per grid cell for exports; bilinear between grid points
BACKDROP_PIXELS_PER_CELL = 2  # for the page's picture under its contour
MAX_KEPT = 32  # pictures kept (a small PNG each); beyond that the oldest goes, to be drawn again if asked for
_kept: OrderedDict[str, tuple[bytes, dict]] = OrderedDict()


def nice_step(span: float, count: int) -> float:
    """A round contour spacing (1, 2 or 5 times a power of ten) giving at most about `count` bands,
    chosen as plotly.js chooses automatic contours (its axis tick rule)."""
    raw = span / max(count, 1)
    power = 10.0 ** np.floor(np.log10(raw))
    return float(power * min((m for m in (1, 2, 5, 10) if m * power >= raw), default=10))


def _rgb(colour: str) -> np.ndarray:
    colour = colour.strip()
    if colour.startswith("#"):
        return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], float)
    values = colour[colour.index("(") + 1 : colour.index(")")].split(",")
    return np.array([float(v) for v in values[:3]])


def _line_rgba(colour: str) -> tuple[np.ndarray, float]:
    alpha = 1.0
    if colour.startswith("rgba"):
        alpha = float(colour[colour.index("(") + 1 : colour.index(")")].split(",")[3])
    return _rgb(colour), alpha


def _sample(colorscale, t: np.ndarray) -> np.ndarray:
    """Colours (..., 3) of `colorscale` (pairs of position and colour) at positions t in [0, 1]."""
    positions = np.array([float(p) for p, _ in colorscale])
    colours = np.array([_rgb(c) for _, c in colorscale])
    return np.stack([np.interp(t, positions, colours[:, k]) for k in range(3)], axis=-1)


def as_array(value) -> np.ndarray:
    """A trace's array, also in plotly's typed-array form {"dtype", "bdata", "shape"}."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if shape:
            array = array.reshape([int(n) for n in str(shape).split(",")])
        return array.astype(float)
    return np.asarray(value, float)


def surface_picture(
    x, y, z, colorscale, ncontours: int, line: dict, pixels_per_cell: int = PIXELS_PER_CELL
) -> tuple[bytes, dict]:
    """A filled contour map as a PNG (the same bands, colours and band edges) and the contour
    settings that match it (start, end, size)."""
    x, y, z = as_array(x), as_array(y), as_array(z)
    key = hashlib.sha1(
        b"".join(a.tobytes() for a in (x, y, z))
        + repr((colorscale, ncontours, line, pixels_per_cell)).encode()
    ).hexdigest()
    if key in _kept:
        _kept.move_to_end(key)
        return _kept[key]
    finite = z[np.isfinite(z)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    step = nice_step(high - low, ncontours) if high > low else 1.0
    start, end = math.floor(low / step) * step, math.ceil(high / step) * step
    width, height = (len(x) - 1) * pixels_per_cell, (len(y) - 1) * pixels_per_cell
    # Bilinear interpolation of z onto pixel centres, top row = highest y.
    u = np.interp(np.linspace(x[0], x[-1], width), x, np.arange(len(x)))
    v = np.interp(np.linspace(y[-1], y[0], height), y, np.arange(len(y)))
    i0, j0 = np.minimum(v.astype(int), len(y) - 2), np.minimum(u.astype(int), len(x) - 2)
    fv, fu = (v - i0)[:, None], (u - j0)[None, :]
    zi = np.nan_to_num(z, nan=high)
    values = (
        zi[i0][:, j0] * (1 - fv) * (1 - fu)
        + zi[i0][:, j0 + 1] * (1 - fv) * fu
        + zi[i0 + 1][:, j0] * fv * (1 - fu)
        + zi[i0 + 1][:, j0 + 1] * fv * fu
    )
    band = np.floor((values - start) / step)
    levels = max(round((end - start) / step), 1)
    rgb = _sample(colorscale, np.clip((band + 0.5) / levels, 0, 1))
    if line.get("width", 0.5) > 0:
        edge = np.zeros(band.shape, bool)
        edge[:, 1:] |= band[:, 1:] != band[:, :-1]
        edge[1:, :] |= band[1:, :] != band[:-1, :]
        colour, alpha = _line_rgba(line.get("color", "rgba(60,60,60,0.35)"))
        rgb[edge] = (1 - alpha) * rgb[edge] + alpha * colour
    out = io.BytesIO()
    Image.fromarray(np.round(rgb).astype(np.uint8)).save(out, format="PNG", optimize=True)
    _kept[key] = out.getvalue(), {"start": start, "end": end, "size": step}
    while len(_kept) > MAX_KEPT:
        _kept.popitem(last=False)
    return _kept[key]


def surfaces_as_pictures(figure: dict) -> dict:
    """`figure` (a figure's dict) with each visible filled contour map drawn as a fine picture
    below the traces and the trace made invisible (kept for its colour bar); maps already drawn this
    way (an invisible trace) are left as they are."""
    figure = {**figure, "data": list(figure["data"]), "layout": dict(figure["layout"])}
    images = list(figure["layout"].get("images", []))
    for index, trace in enumerate(figure["data"]):
        filled = (trace.get("contours") or {}).get("coloring", "fill") != "none"
        if trace.get("type") != "contour" or not filled or trace.get("opacity") == 0:
            continue
        colorscale = trace.get("colorscale") or [[0, "#ffffff"], [1, "#000000"]]
        png, contours = surface_picture(
            trace["x"],
            trace["y"],
            trace["z"],
            colorscale,
            int(trace.get("ncontours", 24)),
            trace.get("line") or {},
        )
        x, y = as_array(trace["x"]), as_array(trace["y"])
        images.append(picture_image(png, x, y, trace.get("xaxis", "x"), trace.get("yaxis", "y")))
        figure["data"][index] = {
            **trace,
            "contours": {**(trace.get("contours") or {}), **contours},
            "opacity": 0,
        }
    figure["layout"]["images"] = images
    return figure


def picture_image(png: bytes, x: np.ndarray, y: np.ndarray, xref: str, yref: str) -> dict:
    """The layout image that lays `png` over the grid x, y of the axes xref, yref, under the traces."""
    return {
        "source": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        "xref": xref,
        "yref": yref,
        "x": float(x[0]),
        "y": float(y[-1]),
        "sizex": float(x[-1] - x[0]),
        "sizey": float(y[-1] - y[0]),
        "sizing": "stretch",
        "xanchor": "left",
        "yanchor": "top",
        "layer": "below",
    }
