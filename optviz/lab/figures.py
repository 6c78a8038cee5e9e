"""Plotly figure builders for the lab: data in, figure out. Pure functions; no Streamlit, no computation
beyond layout.

The contour map that the analysis views draw under their own traces (`surface_traces`, `add_surface`)
and the surface in 3D. The race itself is drawn by the live race chart (optviz/ui/race_chart), in the
page and in the exports.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from optviz.lab.race import Colouring, Grid
from optviz.optimizers import OPTIMIZERS
from optviz.simulate import Trajectory
from surfaces import Surface

# A grey surface, so that the coloured paths stand out (also in print and on a washed-out projector).
SURFACE_COLOURSCALE = [[0.0, "#ffffff"], [0.5, "#e3e6ea"], [1.0, "#a9b0b8"]]
# The race chart draws each trail over a casing of this colour, a pixel wider on each side: sky blue
# and orange are under 3:1 against the light bands above, and over 3:1 against it (tests/test_colours.py).
TRAIL_CASING = "#000000"


def surface_traces(
    surface: Surface,
    grid: Grid,
    colour: Colouring,
    *,
    show_scale: bool,
    click_points: int,
    filled: bool = True,
) -> list[dict]:
    """The contour map (lines only over another map if not `filled`), the invisible click targets
    (none if click_points is 0), and markers at the minima and saddle points."""
    traces = [
        {
            "type": "contour",
            "x": grid.x,
            "y": grid.y,
            "z": colour(grid.z).astype(np.float32),
            "colorscale": SURFACE_COLOURSCALE,
            "ncontours": 24,
            "contours": {"coloring": "fill" if filled else "none"},
            "line": {
                "width": 0.5 if filled else 0.8,
                "color": "rgba(60,60,60,0.35)" if filled else "rgba(0,0,0,0.4)",
            },
            "showscale": show_scale and filled,
            "showlegend": False,
            "colorbar": {"title": {"text": colour.label, "side": "right"}, "thickness": 12, "len": 0.8},
            "hoverinfo": "skip",
        }
    ]
    if click_points:
        (x0, x1), (y0, y1) = surface.bounds
        gx, gy = np.meshgrid(np.linspace(x0, x1, click_points), np.linspace(y0, y1, click_points))
        traces.append(
            {
                "type": "scatter",
                "x": gx.ravel().astype(np.float32),
                "y": gy.ravel().astype(np.float32),
                "mode": "markers",
                "marker": {"size": 14, "opacity": 0},
                "name": "click to start here",
                "showlegend": False,
                "hovertemplate": "start here: (%{x:.2f}, %{y:.2f})<extra></extra>",
                "selected": {"marker": {"opacity": 0}},
                "unselected": {"marker": {"opacity": 0}},
            }
        )
    if surface.minima:
        traces.append(
            {
                "type": "scatter",
                "x": [m.xy[0] for m in surface.minima],
                "y": [m.xy[1] for m in surface.minima],
                "mode": "markers",
                "marker": {
                    # Global: a white star outlined in black; local: an open (outline-only) black star.
                    "symbol": ["star" if m.kind == "global" else "star-open" for m in surface.minima],
                    "size": 15,
                    "color": ["white" if m.kind == "global" else "black" for m in surface.minima],
                    "line": {"color": "black", "width": 1.5},
                },
                "name": "minima",
                "showlegend": False,
                "text": [f"{m.kind} minimum, f = {m.value:.4g}" for m in surface.minima],
                "hovertemplate": "%{text}<br>(%{x:.4g}, %{y:.4g})<extra></extra>",
            }
        )
    if surface.saddle_points:
        traces.append(
            {
                "type": "scatter",
                "x": [p[0] for p in surface.saddle_points],
                "y": [p[1] for p in surface.saddle_points],
                "mode": "markers",
                "marker": {"symbol": "x-thin", "size": 14, "line": {"color": "black", "width": 2}},
                "name": "saddle point",
                "showlegend": False,
                "hovertemplate": "saddle point (%{x:.3g}, %{y:.3g})<extra></extra>",
            }
        )
    return traces


def add_surface(fig: go.Figure, surface: Surface, grid: Grid, colour: Colouring, *, cell, **options) -> None:
    """`surface_traces(surface, grid, colour, **options)` added to `fig` (in subplot `cell`, a
    {"row", "col"} or {} for the only one)."""
    traces = surface_traces(surface, grid, colour, **options)
    if cell:
        fig.add_traces(traces, rows=cell["row"], cols=cell["col"])
    else:
        fig.add_traces(traces)


def surface3d_figure(
    surface: Surface,
    grid: Grid,
    colour: Colouring,
    trajectories: Mapping[str, Trajectory],
    *,
    height: int = 560,
) -> go.Figure:
    """The surface in 3D with each path lying on it (heights on the same scale as the contour colours)."""
    heights = colour(grid.z)
    lift = 0.01 * float(np.ptp(heights))  # paths float just above the surface, or it hides them
    fig = go.Figure(
        go.Surface(
            x=grid.x,
            y=grid.y,
            z=heights,
            colorscale=SURFACE_COLOURSCALE,
            showscale=False,
            opacity=0.9,
            hoverinfo="skip",
        )
    )
    for name, t in trajectories.items():
        fig.add_trace(
            go.Scatter3d(
                x=t.xy[:, 0],
                y=t.xy[:, 1],
                z=colour(t.loss) + lift,
                mode="lines",
                line={"color": OPTIMIZERS[name].colour, "width": 6},
                name=OPTIMIZERS[name].label,
            )
        )
    fig.update_layout(
        height=height,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        scene={"xaxis_title": "x", "yaxis_title": "y", "zaxis_title": colour.label},
        legend={"orientation": "h", "y": 1.0, "x": 0},
    )
    return fig
