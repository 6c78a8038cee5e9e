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
from plotly.subplots import make_subplots

from optviz.lab import Colouring, Grid, distance_to_landmarks, landmarks, optimum_value
from optviz.optimizers import OPTIMIZERS
from optviz.pictures import BACKDROP_PIXELS_PER_CELL, picture_image, surface_picture
from optviz.simulate import Trajectory
from surfaces import Surface

# Okabe & Ito's colour-blind-safe palette (yellow darkened to read on a light surface). Every view
# on every page uses the same colour for the same optimizer.
OPTIMIZER_COLOURS = {
    "gd": "#0072B2",
    "sgd": "#56B4E9",
    "momentum": "#009E73",
    "heavy_ball": "#B59F00",
    "nesterov": "#000000",
    "adagrad": "#E69F00",
    "rmsprop": "#D55E00",
    "adam": "#CC79A7",
}
# A grey surface, so that the coloured paths stand out (also in print and on a washed-out projector).
SURFACE_COLOURSCALE = [[0.0, "#ffffff"], [0.5, "#e3e6ea"], [1.0, "#a9b0b8"]]
MAX_FRAMES = 501  # animation frames: every step of a 500-step run
# Each slider stop and each click target is an SVG element that the browser redraws on every change
# (measured in Chromium: 961 click targets ~50 ms), so both stay coarse; the frames keep every step.
MAX_SLIDER_STOPS = 51


class AnimatedFigure(go.Figure):
    """A go.Figure whose animation (frames and the step slider) is kept as plain data.

    plotly.py builds and validates an object for every trace of every frame and every slider step
    (~80 us each: a third of a second for 500 frames x 6 markers). These are a few numbers each,
    written by code that knows their shape, so they skip that: `to_dict()`, which Streamlit,
    `write_html` and `to_json` all serialize from, adds them to the validated data and layout.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plain_frames: list[dict] = []
        self._plain_slider: dict | None = None

    def set_animation(self, frames: list[dict], slider: dict) -> None:
        self._plain_frames, self._plain_slider = frames, slider

    def to_dict(self):
        figure = super().to_dict()
        figure["frames"] = self._plain_frames
        if self._plain_slider is not None:
            figure["layout"]["sliders"] = [self._plain_slider]
        return figure


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
    cols = min(n_panels, 3)
    rows = math.ceil(n_panels / cols)
    fig = AnimatedFigure()
    if n_panels > 1:
        make_subplots(
            figure=fig,
            rows=rows,
            cols=cols,
            shared_xaxes="all",
            shared_yaxes="all",
            horizontal_spacing=0.04,
            vertical_spacing=0.08,
            subplot_titles=[OPTIMIZERS[n].label for n in names],
        )
        grid = Grid(grid.x[::2], grid.y[::2], grid.z[::2, ::2])  # small panels need no finer grid
    head_traces = []  # (trace index, optimizers whose heads it draws)
    for panel in range(n_panels):
        members = [names[panel]] if panels else names
        cell = {"row": panel // cols + 1, "col": panel % cols + 1} if n_panels > 1 else {}
        add_surface(
            fig, surface, grid, colour, show_scale=panel == 0, click_points=15 if panels else 21, cell=cell
        )
        for name in members:
            _add_path(fig, trajectories[name], cell=cell)
        _add_start_and_ends(fig, [trajectories[n] for n in members], cell=cell)
        fig.add_trace(_heads(trajectories, members, 0), **cell)
        head_traces.append((len(fig.data) - 1, members))

    steps = next(iter(trajectories.values())).steps if trajectories else 0
    shown_steps = np.unique(np.linspace(0, steps, min(steps + 1, MAX_FRAMES)).round().astype(int))
    frames = [
        {
            "name": str(step),
            "traces": [index for index, _ in head_traces],
            "data": [_heads_data(trajectories, members, step) for _, members in head_traces],
        }
        for step in shown_steps
    ]
    (x0, x1), (y0, y1) = surface.bounds
    fig.update_xaxes(range=[x0, x1], showgrid=False, zeroline=False)
    fig.update_yaxes(range=[y0, y1], showgrid=False, zeroline=False)
    fig.update_layout(
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
        updatemenus=[_play_pause(frame_ms)],
    )
    stride = math.ceil(len(shown_steps) / MAX_SLIDER_STOPS)
    slider_steps = np.unique(np.append(shown_steps[::stride], shown_steps[-1]))
    fig.set_animation(frames, _step_slider(slider_steps))
    _add_surface_backdrops(fig)
    return fig


def _add_surface_backdrops(fig: go.Figure) -> None:
    """Put a coarse picture of each contour map under it, with the contour's levels set to match:
    animation frames erase the contour trace (see optviz.pictures), and the picture then shows the
    same map. A coarse one, because every redraw in the browser pays for its pixels."""
    for trace in fig.data:
        if trace.type != "contour":
            continue
        colorscale = [list(stop) for stop in trace.colorscale]
        line = {"width": trace.line.width, "color": trace.line.color}
        png, contours = surface_picture(
            trace.x, trace.y, trace.z, colorscale, trace.ncontours, line, BACKDROP_PIXELS_PER_CELL
        )
        fig.add_layout_image(picture_image(png, trace.x, trace.y, trace.xaxis or "x", trace.yaxis or "y"))
        trace.update(contours=contours)


def add_surface(
    fig,
    surface: Surface,
    grid: Grid,
    colour: Colouring,
    *,
    show_scale: bool,
    click_points: int,
    cell,
    filled: bool = True,
):
    """The contour map (lines only over another map if not `filled`), the invisible click targets
    (none if click_points is 0), and markers at the minima and saddle points."""
    fig.add_trace(
        go.Contour(
            x=grid.x,
            y=grid.y,
            z=colour(grid.z).astype(np.float32),
            colorscale=SURFACE_COLOURSCALE,
            ncontours=24,
            contours={"coloring": "fill" if filled else "none"},
            line={
                "width": 0.5 if filled else 0.8,
                "color": "rgba(60,60,60,0.35)" if filled else "rgba(0,0,0,0.4)",
            },
            showscale=show_scale and filled,
            showlegend=False,
            colorbar={"title": {"text": colour.label, "side": "right"}, "thickness": 12, "len": 0.8},
            hoverinfo="skip",
        ),
        **cell,
    )
    if click_points:
        (x0, x1), (y0, y1) = surface.bounds
        gx, gy = np.meshgrid(np.linspace(x0, x1, click_points), np.linspace(y0, y1, click_points))
        fig.add_trace(
            go.Scatter(
                x=gx.ravel().astype(np.float32),
                y=gy.ravel().astype(np.float32),
                mode="markers",
                marker={"size": 14, "opacity": 0},
                name="click to start here",
                showlegend=False,
                hovertemplate="start here: (%{x:.2f}, %{y:.2f})<extra></extra>",
                selected={"marker": {"opacity": 0}},
                unselected={"marker": {"opacity": 0}},
            ),
            **cell,
        )
    if surface.minima:
        fig.add_trace(
            go.Scatter(
                x=[m.xy[0] for m in surface.minima],
                y=[m.xy[1] for m in surface.minima],
                mode="markers",
                marker={
                    # Global: a white star outlined in black; local: an open (outline-only) black star.
                    "symbol": ["star" if m.kind == "global" else "star-open" for m in surface.minima],
                    "size": 15,
                    "color": ["white" if m.kind == "global" else "black" for m in surface.minima],
                    "line": {"color": "black", "width": 1.5},
                },
                name="minima",
                showlegend=False,
                text=[f"{m.kind} minimum, f = {m.value:.4g}" for m in surface.minima],
                hovertemplate="%{text}<br>(%{x:.4g}, %{y:.4g})<extra></extra>",
            ),
            **cell,
        )
    if surface.saddle_points:
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in surface.saddle_points],
                y=[p[1] for p in surface.saddle_points],
                mode="markers",
                marker={"symbol": "x-thin", "size": 14, "line": {"color": "black", "width": 2}},
                name="saddle point",
                showlegend=False,
                hovertemplate="saddle point (%{x:.3g}, %{y:.3g})<extra></extra>",
            ),
            **cell,
        )


def _add_path(fig, trajectory: Trajectory, *, cell):
    """The whole path, drawn once, with the step and loss on hover."""
    name = trajectory.optimizer
    fig.add_trace(
        go.Scatter(
            x=trajectory.xy[:, 0],
            y=trajectory.xy[:, 1],
            mode="lines",
            line={"color": OPTIMIZER_COLOURS[name], "width": 2.5},
            opacity=0.75,
            name=OPTIMIZERS[name].label,
            legendgroup=name,
            customdata=np.column_stack([np.arange(trajectory.steps + 1), trajectory.loss]),
            hovertemplate=(
                f"{OPTIMIZERS[name].label}<br>step %{{customdata[0]}}<br>loss %{{customdata[1]:.4g}}"
                "<br>(%{x:.4g}, %{y:.4g})<extra></extra>"
            ),
        ),
        **cell,
    )


def _add_start_and_ends(fig, trajectories: list[Trajectory], *, cell):
    """A ring at the start, and a cross where a run diverged."""
    start = trajectories[0].xy[0]
    fig.add_trace(
        go.Scatter(
            x=[start[0]],
            y=[start[1]],
            mode="markers",
            marker={"symbol": "circle-open", "size": 16, "color": "black", "line": {"width": 2.5}},
            name="start",
            showlegend=False,
            hovertemplate="start (%{x:.4g}, %{y:.4g})<extra></extra>",
        ),
        **cell,
    )
    diverged = [t for t in trajectories if t.diverged_at is not None]
    if diverged:
        fig.add_trace(
            go.Scatter(
                x=[t.xy[-1, 0] for t in diverged],
                y=[t.xy[-1, 1] for t in diverged],
                mode="markers",
                marker={
                    "symbol": "x",
                    "size": 16,
                    "color": [OPTIMIZER_COLOURS[t.optimizer] for t in diverged],
                    "line": {"color": "white", "width": 1.5},
                },
                name="diverged",
                showlegend=False,
                text=[f"{OPTIMIZERS[t.optimizer].label} diverged at step {t.diverged_at}" for t in diverged],
                hovertemplate="%{text}<extra></extra>",
            ),
            **cell,
        )


def _heads_data(trajectories: Mapping[str, Trajectory], members: list[str], step: int) -> dict:
    """The head markers' positions at `step`, as the few numbers a frame carries."""
    return {
        "x": [round(float(trajectories[n].xy[step, 0]), 6) for n in members],
        "y": [round(float(trajectories[n].xy[step, 1]), 6) for n in members],
    }


def _heads(trajectories: Mapping[str, Trajectory], members: list[str], step: int) -> go.Scatter:
    """The trace the frames move: one marker per optimizer, in its colour."""
    return go.Scatter(
        **_heads_data(trajectories, members, step),
        mode="markers",
        marker={
            "size": 13,
            "color": [OPTIMIZER_COLOURS[n] for n in members],
            "line": {"color": "white", "width": 2},
        },
        showlegend=False,
        hoverinfo="skip",
    )


def _play_pause(frame_ms: int) -> dict:
    animate = {"frame": {"duration": frame_ms, "redraw": False}, "transition": {"duration": 0}}
    return {
        "type": "buttons",
        "direction": "left",
        "x": 0.0,
        "y": -0.05,
        "xanchor": "left",
        "yanchor": "top",
        "pad": {"t": 20, "r": 8},
        "showactive": False,
        "buttons": [
            {"label": "▶ Play", "method": "animate", "args": [None, {**animate, "fromcurrent": True}]},
            {
                "label": "❚❚ Pause",
                "method": "animate",
                "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
            },
        ],
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


def progress_figure(
    surface: Surface, trajectories: Mapping[str, Trajectory], *, height: int = 320
) -> go.Figure:
    """Loss against step (log scale) and distance to the nearest minimum, for every optimizer."""
    f_star = optimum_value(surface)
    _, landmark = landmarks(surface)
    loss_title = "f(θ_t) − f*  (log scale)" if f_star is not None else "f(θ_t)"
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=[loss_title, f"distance to {landmark}"], horizontal_spacing=0.1
    )
    for name, t in trajectories.items():
        style = {"color": OPTIMIZER_COLOURS[name], "width": 2}
        steps = np.arange(t.steps + 1)
        # A gap of exactly 0 has no logarithm: show it at the smallest positive double instead.
        loss = np.maximum(t.loss - f_star, np.finfo(float).tiny) if f_star is not None else t.loss
        fig.add_trace(
            go.Scatter(
                x=steps, y=loss, mode="lines", line=style, name=OPTIMIZERS[name].label, legendgroup=name
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=distance_to_landmarks(surface, t.xy),
                mode="lines",
                line=style,
                name=OPTIMIZERS[name].label,
                legendgroup=name,
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    fig.update_yaxes(type="log" if f_star is not None else "linear", exponentformat="power", row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=2)
    fig.update_xaxes(title_text="step")
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.12, "x": 0},
        hovermode="x unified",
    )
    return fig


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
                line={"color": OPTIMIZER_COLOURS[name], "width": 6},
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


def presenter_style(fig: go.Figure) -> go.Figure:
    """The same figure for the back of a lecture hall: larger text, lines about twice as thick,
    markers half as large again, darker contour lines. Changes `fig` in place and returns it; a
    figure already in this style is returned as it is."""
    if fig.layout.meta == "presenter":
        return fig
    fig.layout.meta = "presenter"
    fig.update_layout(font={"size": 20}, legend={"font": {"size": 18}})
    for trace in fig.data:
        if trace.type == "contour":
            trace.update(line={"color": "rgba(0,0,0,0.6)", "width": 1})
        if trace.type in ("scatter", "scatter3d"):
            if "lines" in (trace.mode or ""):
                trace.line.width = 2 * (trace.line.width or 2)
            size = trace.marker.size if trace.marker is not None else None
            if isinstance(size, (int, float)):
                trace.marker.size = 1.5 * size
    for annotation in fig.layout.annotations:  # subplot titles
        annotation.font = {"size": 20}
    return fig
