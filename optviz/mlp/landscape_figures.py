"""Plotly builders for the MLP page's loss-landscape tab: a `landscape.Slice` in, go.Figure out.

Colour (and, in 3D, height) is log10 of the loss, so that the valley around the trained weights and
the walls far from them both show; the colour bar and the hover give the loss itself. The surface is
the lab's grey (SURFACE_COLOURSCALE), so the optimizers' coloured paths stand out as they do there.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from optviz.lab.figures import SURFACE_COLOURSCALE, TRAIL_CASING
from optviz.mlp.landscape import Slice
from optviz.optimizers import OPTIMIZERS

FONT = {"size": 15}
AXIS_TITLES = {
    "random": ("α (random direction δ)", "β (random direction η)"),
    "start": ("α (1: the shared start)", "β (random direction η)"),
}
START_COLOUR = "#000000"
CONTOURS = 20  # contour levels, evenly spaced in log10 of the loss from the slice's lowest to its highest


def _log_ticks(losses: np.ndarray) -> dict:
    """Colour-bar (or z-axis) ticks, for a scale of log10(loss), labelled with the loss: round values
    (1, 2, 3, 5, 7 per decade) inside the slice's range, or three values spread evenly in log between
    its ends when fewer than three round ones fall inside."""
    finite = losses[np.isfinite(losses) & (losses > 0)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (1.0, 10.0)
    decades = range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
    values = [m * 10.0**k for k in decades for m in (1, 2, 3, 5, 7) if low <= m * 10.0**k <= high]
    if len(values) < 3:
        values = np.geomspace(low, max(high, low * 1.001), 5)[1:-1]
    return {"tickvals": np.log10(values).tolist(), "ticktext": [f"{v:.3g}" for v in values]}


def _hover(name: str, coordinates: np.ndarray, shares: np.ndarray, heights: np.ndarray) -> list[str]:
    label = OPTIMIZERS[name].label
    rows = []
    for epoch, ((a, b), share, loss) in enumerate(zip(coordinates, shares, heights, strict=True)):
        where = "start" if epoch == 0 else f"after epoch {epoch}"
        held = "" if np.isnan(share) else f"<br>the plane holds {share:.1%} of its distance to the centre"
        rows.append(f"{label}, {where}<br>α = {a:.4f}, β = {b:.4f}<br>loss in the plane {loss:.4f}{held}")
    return rows


def landscape_figure(view: Slice, plane: str = "random", *, height: int = 560) -> go.Figure:
    """The slice as filled contours with every optimizer's path on it: a line with a marker per epoch
    (the optimizer's own colour and symbol, over a black casing), a larger marker at its end, a
    ring at the start every path shares and a cross at the centre, the weights the plane goes
    through. Axes share one scale, so the plane is not stretched."""
    log_loss = np.log10(view.losses)
    low, high = float(np.nanmin(log_loss)), float(np.nanmax(log_loss))
    levels = {"start": low, "end": high, "size": max(high - low, 1e-6) / CONTOURS, "coloring": "fill"}
    fig = go.Figure(
        go.Contour(
            x=view.alphas, y=view.betas, z=log_loss.astype(np.float32), text=view.losses.astype(np.float32),
            colorscale=SURFACE_COLOURSCALE, autocontour=False, contours=levels, zmin=low, zmax=high,
            line={"width": 0.5, "color": "rgba(60,60,60,0.35)"},
            colorbar={"title": {"text": "loss", "side": "right"}, "thickness": 12, "len": 0.8,
                      **_log_ticks(view.losses)},
            hovertemplate="α = %{x:.3f}, β = %{y:.3f}<br>loss %{text:.4f}<extra></extra>", showlegend=False,
        )
    )  # fmt: skip
    for name, xy in view.paths.items():
        spec = OPTIMIZERS[name]
        text = _hover(name, xy, view.in_plane[name], view.heights[name])
        sizes = np.full(len(xy), 8)
        sizes[-1] = 14
        fig.add_trace(
            go.Scatter(
                x=xy[:, 0], y=xy[:, 1], mode="lines", line={"color": TRAIL_CASING, "width": 4.5},
                hoverinfo="skip", showlegend=False, legendgroup=name,
            )
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=xy[:, 0], y=xy[:, 1], mode="lines+markers", name=spec.label, legendgroup=name,
                line={"color": spec.colour, "width": 2.5},
                marker={"symbol": spec.marker, "size": sizes, "color": spec.colour,
                        "line": {"color": TRAIL_CASING, "width": 1}},
                text=text, hovertemplate="%{text}<extra></extra>",
            )
        )  # fmt: skip
    starts = [xy[0] for xy in view.paths.values() if np.isfinite(xy[0]).all()]
    if starts:
        fig.add_trace(
            go.Scatter(
                x=[starts[0][0]], y=[starts[0][1]], mode="markers", name="start (shared)",
                marker={"symbol": "circle-open", "size": 20, "color": START_COLOUR, "line": {"width": 2.5}},
                hovertemplate="the initial weights every optimizer shares<extra></extra>",
            )
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=[0], y=[0], mode="markers", name="centre θ*",
            marker={"symbol": "x-thin", "size": 16, "color": START_COLOUR, "line": {"width": 2.5}},
            hovertemplate="θ*: the weights the plane goes through<extra></extra>",
        )
    )  # fmt: skip
    x_title, y_title = AXIS_TITLES[plane]
    fig.update_xaxes(title_text=x_title, range=[view.alphas[0], view.alphas[-1]], constrain="domain")
    fig.update_yaxes(
        title_text=y_title, range=[view.betas[0], view.betas[-1]], scaleanchor="x", constrain="domain"
    )
    fig.update_layout(
        height=height, font=FONT, template="plotly_white", margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )  # fmt: skip
    return fig


def landscape3d_figure(view: Slice, plane: str = "random", *, height: int = 560) -> go.Figure:
    """The slice as a surface (height log10 of the loss, ticks in loss) with the paths lying on it:
    each point at the height of the surface under its projection (the slice's loss there,
    interpolated between grid points), not at the loss of the real weights, which lie off the plane."""
    log_loss = np.log10(view.losses)
    lift = 0.01 * float(np.nanmax(log_loss) - np.nanmin(log_loss))  # paths float just above the surface
    fig = go.Figure(
        go.Surface(
            x=view.alphas, y=view.betas, z=log_loss, colorscale=SURFACE_COLOURSCALE, showscale=False,
            opacity=0.9, hoverinfo="skip",
        )
    )  # fmt: skip
    for name, xy in view.paths.items():
        spec = OPTIMIZERS[name]
        fig.add_trace(
            go.Scatter3d(
                x=xy[:, 0], y=xy[:, 1], z=np.log10(view.heights[name]) + lift, mode="lines+markers",
                name=spec.label, line={"color": spec.colour, "width": 6},
                marker={"size": 4, "color": spec.colour},
                text=_hover(name, xy, view.in_plane[name], view.heights[name]),
                hovertemplate="%{text}<extra></extra>",
            )
        )  # fmt: skip
    x_title, y_title = AXIS_TITLES[plane]
    fig.update_layout(
        height=height, font=FONT, margin={"l": 0, "r": 0, "t": 0, "b": 0},
        scene={"xaxis_title": x_title, "yaxis_title": y_title,
               "zaxis": {"title": {"text": "loss"}, **_log_ticks(view.losses)}},
        legend={"orientation": "h", "y": 1.0, "x": 0},
    )  # fmt: skip
    return fig
