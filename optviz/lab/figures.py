"""Plotly figure builders: data in, figure out. Pure functions; no Streamlit, no computation beyond layout.

The race figure animates in the browser: the surface, the minima and every full path are drawn once,
and each animation frame moves only the head markers (`frame.traces`). That keeps the contour visible
while playing (a contour inside frames vanishes, plotly.js#4491) and the payload small.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from optviz.lab.pictures import BACKDROP_PIXELS_PER_CELL, picture_image, surface_picture
from optviz.lab.race import Colouring, Grid
from optviz.optimizers import OPTIMIZERS
from optviz.plotting import AnimatedFigure, plain_figure, play_pause, subplot_layout
from optviz.simulate import Trajectory
from surfaces import Surface

# A grey surface, so that the coloured paths stand out (also in print and on a washed-out projector).
SURFACE_COLOURSCALE = [[0.0, "#ffffff"], [0.5, "#e3e6ea"], [1.0, "#a9b0b8"]]
MAX_FRAMES = 501  # animation frames: every step of a 500-step run
# Each slider stop and each click target is an SVG element that the browser redraws on every change,
# so a redraw grows with their number: both stay coarse; the frames keep every step. 51 stops: one
# every 10 steps of a 500-step run, fine enough to scrub to any part of the race.
MAX_SLIDER_STOPS = 51


def _axis_ids(panel: int) -> tuple[str, str]:
    """The x and y axes of subplot `panel` (0-based): ("x", "y"), ("x2", "y2"), ..."""
    suffix = str(panel + 1) if panel else ""
    return f"x{suffix}", f"y{suffix}"


def _on_axes(traces: list[dict], panel: int) -> list[dict]:
    """`traces` drawn in subplot `panel`."""
    x, y = _axis_ids(panel)
    return [{**trace, "xaxis": x, "yaxis": y} for trace in traces]


def race_figure(
    surface: Surface,
    grid: Grid,
    colour: Colouring,
    trajectories: Mapping[str, Trajectory],
    *,
    panels: bool = False,
    frame_ms: int = 33,
    height: int = 520,
) -> go.Figure:
    """The optimizers' paths on the contour map, with one Play/Pause and step slider for all of them.

    panels=False overlays every optimizer on one map; panels=True gives each its own map (small
    multiples, axes linked). Frames move a head marker along each path; `frame_ms` sets the speed.
    """
    names = list(trajectories)
    n_panels = len(names) if panels else 1
    layout = {}
    if n_panels > 1:
        cols = min(n_panels, 3)
        layout = subplot_layout(
            math.ceil(n_panels / cols),
            cols,
            tuple(OPTIMIZERS[n].label for n in names),
            shared_xaxes="all",
            shared_yaxes="all",
            horizontal_spacing=0.04,
            vertical_spacing=0.08,
        )
        grid = Grid(grid.x[::2], grid.y[::2], grid.z[::2, ::2])  # small panels need no finer grid
    data = []
    head_traces = []  # (trace index, optimizers whose heads it draws)
    for panel in range(n_panels):
        members = [names[panel]] if panels else names
        traces = surface_traces(
            surface, grid, colour, show_scale=panel == 0, click_points=15 if panels else 21
        )
        traces += [_path(trajectories[name]) for name in members]
        traces += _start_and_ends([trajectories[n] for n in members])
        traces.append(_heads(trajectories, members))
        data += _on_axes(traces, panel)
        head_traces.append((len(data) - 1, members))

    steps = next(iter(trajectories.values())).steps if trajectories else 0
    shown_steps = np.unique(np.linspace(0, steps, min(steps + 1, MAX_FRAMES)).round().astype(int))
    # Each head trace's (x, y) at every shown step, rounded to 6 decimals (a pixel is ~1e-3 of the
    # window), as lists: [frame][optimizer].
    heads = []
    for _, members in head_traces:
        at_steps = np.round(np.stack([trajectories[n].xy[shown_steps] for n in members], axis=1), 6)
        heads.append((at_steps[..., 0].tolist(), at_steps[..., 1].tolist()))
    frames = [
        {
            "name": str(step),
            "traces": [index for index, _ in head_traces],
            "data": [{"x": x[frame], "y": y[frame]} for x, y in heads],
        }
        for frame, step in enumerate(shown_steps)
    ]
    (x0, x1), (y0, y1) = surface.bounds
    for panel in range(n_panels):
        for axis, bounds in zip(_axis_ids(panel), ([x0, x1], [y0, y1]), strict=True):
            key = axis[0] + "axis" + axis[1:]
            layout[key] = {**layout.get(key, {}), "range": bounds, "showgrid": False, "zeroline": False}
    layout.update(
        height=height,
        margin={"l": 40, "r": 10, "t": 30 if panels else 10, "b": 75},  # room for Play and the step slider
        showlegend=not panels,  # each panel's title names its optimizer
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0,
            "x": 0,
            "bgcolor": "rgba(255,255,255,0.6)",
        },
        clickmode="event+select",
        hovermode="closest",
        dragmode="zoom",
        updatemenus=[play_pause(frame_ms)],
        images=_surface_backdrops(data),
    )
    fig = plain_figure({"data": data, "layout": layout}, AnimatedFigure)
    stride = math.ceil(len(shown_steps) / MAX_SLIDER_STOPS)
    slider_steps = np.unique(np.append(shown_steps[::stride], shown_steps[-1]))
    fig.set_animation(frames, _step_slider(slider_steps))
    return fig


def _surface_backdrops(data: list[dict]) -> list[dict]:
    """A coarse picture of each contour map to lie under it, with the contour's levels set to match
    (changes the contour traces in `data`): animation frames erase the contour trace (see
    optviz.lab.pictures), and the picture then shows the same map. A coarse one, because every redraw in
    the browser pays for its pixels."""
    images = []
    for trace in data:
        if trace["type"] != "contour":
            continue
        png, contours = surface_picture(
            trace["x"],
            trace["y"],
            trace["z"],
            trace["colorscale"],
            trace["ncontours"],
            trace["line"],
            BACKDROP_PIXELS_PER_CELL,
        )
        images.append(picture_image(png, trace["x"], trace["y"], trace["xaxis"], trace["yaxis"]))
        trace["contours"] = {**trace["contours"], **contours}
    return images


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


def _path(trajectory: Trajectory) -> dict:
    """The whole path, drawn once, with the step and loss on hover."""
    name = trajectory.optimizer
    return {
        "type": "scatter",
        # Copies: a view would keep the whole run's output alive for as long as the figure is cached.
        "x": trajectory.xy[:, 0].copy(),
        "y": trajectory.xy[:, 1].copy(),
        "mode": "lines",
        "line": {"color": OPTIMIZERS[name].colour, "width": 2.5},
        "opacity": 0.75,
        "name": OPTIMIZERS[name].label,
        "legendgroup": name,
        "customdata": np.column_stack([np.arange(trajectory.steps + 1), trajectory.loss]),
        "hovertemplate": (
            f"{OPTIMIZERS[name].label}<br>step %{{customdata[0]}}<br>loss %{{customdata[1]:.4g}}"
            "<br>(%{x:.4g}, %{y:.4g})<extra></extra>"
        ),
    }


def _start_and_ends(trajectories: list[Trajectory]) -> list[dict]:
    """A ring at the start, and a cross where a run diverged."""
    start = trajectories[0].xy[0]
    traces = [
        {
            "type": "scatter",
            "x": [start[0]],
            "y": [start[1]],
            "mode": "markers",
            "marker": {"symbol": "circle-open", "size": 16, "color": "black", "line": {"width": 2.5}},
            "name": "start",
            "showlegend": False,
            "hovertemplate": "start (%{x:.4g}, %{y:.4g})<extra></extra>",
        }
    ]
    diverged = [t for t in trajectories if t.diverged_at is not None]
    if diverged:
        traces.append(
            {
                "type": "scatter",
                "x": [t.xy[-1, 0] for t in diverged],
                "y": [t.xy[-1, 1] for t in diverged],
                "mode": "markers",
                "marker": {
                    "symbol": "x",
                    "size": 16,
                    "color": [OPTIMIZERS[t.optimizer].colour for t in diverged],
                    "line": {"color": "white", "width": 1.5},
                },
                "name": "diverged",
                "showlegend": False,
                "text": [
                    f"{OPTIMIZERS[t.optimizer].label} diverged at step {t.diverged_at}" for t in diverged
                ],
                "hovertemplate": "%{text}<extra></extra>",
            }
        )
    return traces


def _heads(trajectories: Mapping[str, Trajectory], members: list[str]) -> dict:
    """The trace the frames move: one marker per optimizer, in its colour, at the start."""
    return {
        "type": "scatter",
        "x": [float(trajectories[n].xy[0, 0]) for n in members],
        "y": [float(trajectories[n].xy[0, 1]) for n in members],
        "mode": "markers",
        "marker": {
            "size": 13,
            "color": [OPTIMIZERS[n].colour for n in members],
            "line": {"color": "white", "width": 2},
        },
        "showlegend": False,
        "hoverinfo": "skip",
    }


def _step_slider(steps: np.ndarray) -> dict:
    jump = {"mode": "immediate", "frame": {"duration": 0, "redraw": False}, "transition": {"duration": 0}}
    return {
        "active": 0,
        "x": 0.2,
        "len": 0.8,
        "y": -0.05,
        "yanchor": "top",
        "pad": {"t": 8},
        "currentvalue": {"prefix": "step ", "xanchor": "right", "font": {"size": 14}},
        "steps": [{"label": str(s), "method": "animate", "args": [[str(s)], jump]} for s in steps],
    }


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
