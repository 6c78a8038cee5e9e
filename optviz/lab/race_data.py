"""What the live race chart (optviz/ui/race_chart) draws, packed as one JSON-able dict.

Pure: surfaces and trajectories in, plain values out; no Streamlit, no drawing. The browser draws
the map and the paths itself (a canvas), so what crosses the wire is numbers, compactly:

- the surface: its colour values c = colour(f) on the plot grid (the same transform, grey scale and
  about 24 round contour bands, `nice_step`, as the Plotly maps' contours), quantised to
  16 bits over [c_min, c_max]: q = round(65535 (c - c_min) / (c_max - c_min)), so c is recovered to
  (c_max - c_min) / 131070, far below one contour band (a 24th of the range);
- each path: its (T + 1) x 2 points as float32, little-endian, base64: 6 optimizers x 501 points
  is 24 KB of floats, 32 KB as text, where the same numbers as JSON decimals take about 3 times that.
  A diverged run's points are clipped to a box ten windows wide first, so float32 never overflows.

`signature` names the settings a race was computed for (a short hash of `RaceConfig.key`): the page
and the benchmark check that the paths drawn are the ones asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np

from optviz.lab.figures import SURFACE_COLOURSCALE, TRAIL_CASING
from optviz.lab.race import Colouring, Grid
from optviz.optimizers import OPTIMIZERS
from optviz.packing import decode, encode
from optviz.simulate import Trajectory
from surfaces import Surface

CONTOUR_BANDS = 24  # about this many bands, with a round spacing (as the Plotly contour's ncontours)
QUANTUM = 65535  # the surface's colour values as uint16
ESCAPE_WINDOWS = 10  # a diverged path is clipped to a box this many windows wide around the map


def nice_step(span: float, count: int) -> float:
    """A round contour spacing (1, 2 or 5 times a power of ten) giving at most about `count` bands,
    chosen as plotly.js chooses automatic contours (its axis tick rule)."""
    raw = span / max(count, 1)
    power = 10.0 ** np.floor(np.log10(raw))
    return float(power * min((m for m in (1, 2, 5, 10) if m * power >= raw), default=10))


def signature(key: tuple) -> str:
    """A short name for a race's settings (`RaceConfig.key`): 12 hex digits of their SHA-1."""
    return hashlib.sha1(repr(key).encode()).hexdigest()[:12]


def surface_data(surface: Surface, grid: Grid, colour: Colouring) -> dict:
    """The map: quantised colour values on the grid, its contour bands, colour scale and landmarks."""
    values = colour(grid.z)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    span = high - low if high > low else 1.0
    quantised = np.round((np.nan_to_num(values, nan=high, posinf=high, neginf=low) - low) / span * QUANTUM)
    step = nice_step(span, CONTOUR_BANDS)
    (x0, x1), (y0, y1) = surface.bounds
    return {
        "id": f"{surface.name}:{signature((grid.z.shape, float(grid.z.sum()), surface.bounds))}",
        "bounds": [[float(x0), float(x1)], [float(y0), float(y1)]],
        "nx": len(grid.x),
        "ny": len(grid.y),
        "z": encode(np.clip(quantised, 0, QUANTUM), "<u2"),  # row i is y[i], column j is x[j]
        "zmin": low,
        "zmax": low + span,
        "levels": {"start": float(np.floor(low / step) * step), "size": step},
        "colorscale": SURFACE_COLOURSCALE,
        "casing": TRAIL_CASING,
        "label": colour.label,
        "minima": [
            {"x": float(m.xy[0]), "y": float(m.xy[1]), "global": m.kind == "global"} for m in surface.minima
        ],
        "saddles": [[float(p[0]), float(p[1])] for p in surface.saddle_points],
    }


def path_data(surface: Surface, trajectory: Trajectory) -> dict:
    """One optimizer's path as float32 pairs, with its colour, marker, label and the step it diverged at."""
    (x0, x1), (y0, y1) = surface.bounds
    reach_x, reach_y = ESCAPE_WINDOWS * (x1 - x0), ESCAPE_WINDOWS * (y1 - y0)
    xy = np.nan_to_num(trajectory.xy, nan=0.0)
    xy = np.stack(
        [np.clip(xy[:, 0], x0 - reach_x, x1 + reach_x), np.clip(xy[:, 1], y0 - reach_y, y1 + reach_y)],
        axis=-1,
    )
    spec = OPTIMIZERS[trajectory.optimizer]
    return {
        "name": trajectory.optimizer,
        "label": spec.label,
        "colour": spec.colour,
        "marker": spec.marker,
        "xy": encode(xy, "<f4"),
        "diverged_at": trajectory.diverged_at,
    }


def race_data(
    surface: Surface,
    grid: Grid,
    colour: Colouring,
    trajectories: Mapping[str, Trajectory],
    *,
    settings: str,
) -> dict:
    """Everything the chart draws for one race: the map and the paths, with `settings`, the
    signature of the race's settings."""
    return {
        **race_paths(surface, trajectories, settings=settings),
        "surface": surface_data(surface, grid, colour),
    }


def race_paths(surface: Surface, trajectories: Mapping[str, Trajectory], *, settings: str) -> dict:
    """A race without its map ("surface": None): what the chart needs for a new start on the map it
    has (optviz/lab/race_requests.py)."""
    steps = next(iter(trajectories.values())).steps if trajectories else 0
    first = next(iter(trajectories.values()), None)
    start = [float(v) for v in first.xy[0]] if first is not None else None
    return {
        "signature": settings,
        "surface": None,
        "steps": steps,
        "start": start,
        "paths": [path_data(surface, t) for t in trajectories.values()],
    }


def unpack_path(packed: dict) -> np.ndarray:
    """A path's points back as a (T + 1, 2) float32 array (what the browser decodes)."""
    return decode(packed["xy"], "<f4").reshape(-1, 2)


def unpack_surface(packed: dict) -> np.ndarray:
    """The map's colour values back as an (ny, nx) array, to within one quantum."""
    q = decode(packed["z"], "<u2").reshape(packed["ny"], packed["nx"])
    return packed["zmin"] + q / QUANTUM * (packed["zmax"] - packed["zmin"])
