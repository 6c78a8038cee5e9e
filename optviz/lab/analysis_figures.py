"""Plotly builders for the lab's analysis views: sweeps, basins, stability, noise fans, internals.

Pure functions: data in, go.Figure out; no Streamlit, no computation beyond layout.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from optviz.lab.analysis import DIVERGED, NOT_CONVERGED, BasinMap, Fan, Stability, Sweep
from optviz.lab.figures import add_surface
from optviz.lab.race import Colouring, Grid
from optviz.optimizers import HYPERPARAMETERS, OPTIMIZERS
from optviz.simulate import Trajectory
from surfaces import Surface

# log10 of the objective is drawn from here: an objective of exactly 0 has no logarithm.
FLOOR = 1e-16


def _shown(objective, has_minimum: bool):
    """The objective as plotted: f - f* floored for a log axis, or f itself (any sign, linear axis)."""
    return np.maximum(objective, FLOOR) if has_minimum else objective


DIVERGED_COLOUR, NOT_CONVERGED_COLOUR = "#3b3b3b", "#d9d9d9"
# Basin colours: one per minimum, distinct from the optimizer colours' meaning (they label places).
BASIN_COLOURS = ["#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB", "#882255"]


def _layout(fig: go.Figure, height: int, **extra) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10}, **extra)
    return fig


def _objective_label(has_minimum: bool) -> str:
    return "f − f* after the budget" if has_minimum else "f after the budget"


def sweep_figure(
    sweeps: Mapping[str, Sweep],
    current: Mapping[str, tuple[float, float]],
    has_minimum: bool,
    *,
    height: int = 380,
) -> go.Figure:
    """Final objective against learning rate (log-log) per optimizer; crosses where runs diverged, a
    dotted line at each divergence edge, and a ring at each optimizer's current (lr, objective)."""
    fig = go.Figure()
    for name, sweep in sweeps.items():
        colour, label = OPTIMIZERS[name].colour, OPTIMIZERS[name].label
        stable = np.where(sweep.diverged, np.nan, _shown(sweep.objective, has_minimum))
        fig.add_trace(
            go.Scatter(
                x=sweep.lrs,
                y=stable,
                mode="lines+markers",
                name=label,
                legendgroup=name,
                line={"color": colour, "width": 2.5},
                marker={"size": 5},
                hovertemplate=f"{label}<br>lr %{{x:.3g}}<br>%{{y:.3g}}<extra></extra>",
            )
        )
        if sweep.diverged.any():
            fig.add_trace(
                go.Scatter(
                    x=sweep.lrs[sweep.diverged],
                    y=np.full(sweep.diverged.sum(), 1.0),
                    mode="markers",
                    marker={"symbol": "x", "size": 7, "color": colour},
                    yaxis="y2",
                    legendgroup=name,
                    showlegend=False,
                    hovertemplate=f"{label} diverged at lr %{{x:.3g}}<extra></extra>",
                )
            )
        edge = sweep.divergence_edge()
        if edge is not None:
            fig.add_vline(x=edge, line={"color": colour, "dash": "dot", "width": 1.5})
        if name in current:
            lr, objective = current[name]
            fig.add_trace(
                go.Scatter(
                    x=[lr],
                    y=[_shown(objective, has_minimum)],
                    mode="markers",
                    legendgroup=name,
                    showlegend=False,
                    marker={"symbol": "circle-open", "size": 16, "color": colour, "line": {"width": 3}},
                    hovertemplate=f"{label}: current lr %{{x:.3g}} gives %{{y:.3g}}<extra></extra>",
                )
            )
    fig.update_xaxes(type="log", title_text="learning rate η (log scale)", exponentformat="power")
    fig.update_yaxes(
        type="log" if has_minimum else "linear",
        title_text=_objective_label(has_minimum),
        exponentformat="power",
    )
    return _layout(
        fig,
        height,
        yaxis2={"overlaying": "y", "range": [0, 1.05], "visible": False},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="closest",
    )


def grid_sweep_figure(
    sweep: Sweep, current: tuple[float, float], has_minimum: bool, *, height: int = 380
) -> go.Figure:
    """A heatmap of log10(objective) over learning rate x a second hyperparameter; diverged cells dark."""
    other = next(name for name in sweep.values if name != "lr")
    shown = _shown(sweep.objective, has_minimum)
    z = np.where(sweep.diverged, np.nan, np.log10(shown) if has_minimum else shown)
    fig = go.Figure(
        go.Heatmap(
            x=np.log10(sweep.lrs),
            y=sweep.values[other],
            z=z,
            colorscale="Viridis_r",
            colorbar={
                "title": {
                    "text": ("log₁₀ " if has_minimum else "") + _objective_label(has_minimum),
                    "side": "right",
                }
            },
            hovertemplate=f"lr 10^%{{x:.2f}}<br>{other} %{{y:.3g}}<br>log₁₀ %{{z:.2f}}<extra></extra>",
        )
    )
    # Diverged cells: NaN in the heatmap, painted by a dark background behind it.
    fig.add_trace(
        go.Scatter(
            x=[np.log10(current[0])],
            y=[current[1]],
            mode="markers",
            name="current setting",
            marker={"symbol": "circle-open", "size": 18, "color": "white", "line": {"width": 3}},
            hovertemplate="current: lr %{customdata:.3g}, " + other + " %{y:.3g}<extra></extra>",
            customdata=[current[0]],
        )
    )
    fig.update_xaxes(title_text="log₁₀ learning rate η", showgrid=False, zeroline=False)
    symbol = HYPERPARAMETERS[other]
    fig.update_yaxes(title_text=f"{symbol.text}  ({symbol.description})", showgrid=False)
    title = f"{OPTIMIZERS[sweep.optimizer].label}: light grey = diverged; ring = your setting"
    return _layout(fig, height, plot_bgcolor="#d0d0d0", title={"text": title, "x": 0, "font": {"size": 14}})


def basin_figure(
    surface: Surface, grid: Grid, colour: Colouring, maps: Mapping[str, BasinMap], *, height: int = 420
) -> go.Figure:
    """Side-by-side maps, one per optimizer: each start coloured by the minimum it reached."""
    names = list(maps)
    fig = make_subplots(
        rows=1,
        cols=len(names),
        shared_yaxes=True,
        horizontal_spacing=0.03,
        subplot_titles=[OPTIMIZERS[n].label for n in names],
    )
    labels = [f"{m.kind} minimum ({m.xy[0]:.3g}, {m.xy[1]:.3g})" for m in surface.minima]
    labels += ["diverged", "not converged"]
    minimum_colours = [BASIN_COLOURS[i % len(BASIN_COLOURS)] for i in range(len(surface.minima))]
    colours = [*minimum_colours, DIVERGED_COLOUR, NOT_CONVERGED_COLOUR]
    # Map labels to consecutive codes 0..K+1 so one discrete colour scale serves every panel.
    n_codes = len(colours)
    scale = []
    for code, c in enumerate(colours):
        scale += [[code / n_codes, c], [(code + 1) / n_codes, c]]
    for panel, name in enumerate(names):
        basin = maps[name]
        code = np.where(basin.label == DIVERGED, n_codes - 2, basin.label)
        code = np.where(basin.label == NOT_CONVERGED, n_codes - 1, code)
        fig.add_trace(
            go.Heatmap(
                x=basin.x,
                y=basin.y,
                z=code + 0.5,
                zmin=0,
                zmax=n_codes,
                colorscale=scale,
                showscale=False,
                text=np.asarray(labels, dtype=object)[code],
                hovertemplate="start (%{x:.3g}, %{y:.3g})<br>→ %{text}<extra></extra>",
            ),
            row=1,
            col=panel + 1,
        )
        cell = {"row": 1, "col": panel + 1}
        add_surface(fig, surface, grid, colour, show_scale=False, click_points=0, cell=cell, filled=False)
    # The legend: one empty marker trace per label, in its colour.
    for label, c in zip(labels, colours, strict=True):
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"symbol": "square", "size": 12, "color": c},
                name=label,
            )
        )
    (x0, x1), (y0, y1) = surface.bounds
    fig.update_xaxes(range=[x0, x1], showgrid=False, zeroline=False, nticks=5)
    fig.update_yaxes(range=[y0, y1], showgrid=False, zeroline=False)
    return _layout(fig, height, legend={"orientation": "h", "yanchor": "top", "y": -0.08, "x": 0})


def stability_figure(stabilities: Mapping[str, Stability], *, height: int = 420) -> go.Figure:
    """Top: each optimizer's gauge divided by its bound (above 1, the step amplifies the error along
    the sharpest direction). Bottom: the Hessian's eigenvalues along each path."""
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=[
            "stability gauge ÷ its bound  (above 1: unstable)",
            "Hessian eigenvalues λ_min, λ_max",
        ],
    )
    for name, s in stabilities.items():
        colour, label = OPTIMIZERS[name].colour, OPTIMIZERS[name].label
        if s.gauge is not None:
            steps = np.arange(1, len(s.gauge) + 1)
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=s.gauge / s.bound,
                    mode="lines",
                    name=label,
                    legendgroup=name,
                    line={"color": colour, "width": 2.5},
                ),
                row=1,
                col=1,
            )
        steps = np.arange(len(s.eigenvalues))
        for which, dash in ((1, "solid"), (0, "dot")):
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=s.eigenvalues[:, which],
                    mode="lines",
                    legendgroup=name,
                    name=label,
                    showlegend=s.gauge is None and which == 1,
                    line={"color": colour, "width": 1.8, "dash": dash},
                    hovertemplate=f"{label} λ_{'max' if which else 'min'} %{{y:.4g}}<extra></extra>",
                ),
                row=2,
                col=1,
            )
    fig.add_hline(y=1.0, line={"color": "#b00020", "dash": "dash", "width": 2}, row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=1)
    fig.update_xaxes(title_text="step", row=2, col=1)
    return _layout(fig, height, legend={"orientation": "h", "yanchor": "bottom", "y": 1.06, "x": 0})


def fan_figure(
    surface: Surface, grid: Grid, colour: Colouring, fan: Fan, optimizer: str, *, height: int = 480
):
    """Every noisy path, translucent, with the median path and the noise-free path on top."""
    fig = go.Figure()
    add_surface(fig, surface, grid, colour, show_scale=False, click_points=0, cell={})
    # All paths in one trace, separated by gaps: one SVG path element instead of N.
    gaps = np.full((len(fan.paths), 1, 2), np.nan)
    joined = np.concatenate([fan.paths, gaps], axis=1).reshape(-1, 2)
    c = OPTIMIZERS[optimizer].colour
    fig.add_trace(
        go.Scatter(
            x=joined[:, 0],
            y=joined[:, 1],
            mode="lines",
            line={"color": c, "width": 1},
            opacity=0.25,
            name=f"{len(fan.paths)} noisy runs (σ = {fan.noise:.3g})",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=fan.median[:, 0],
            y=fan.median[:, 1],
            mode="lines",
            line={"color": c, "width": 4},
            name="median path",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=fan.noiseless[:, 0],
            y=fan.noiseless[:, 1],
            mode="lines",
            line={"color": "black", "width": 2, "dash": "dash"},
            name="no noise (full batch)",
        )
    )
    (x0, x1), (y0, y1) = surface.bounds
    fig.update_xaxes(range=[x0, x1], showgrid=False, zeroline=False)
    fig.update_yaxes(range=[y0, y1], showgrid=False, zeroline=False)
    return _layout(fig, height, legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0})


def internals_figure(
    surface: Surface,
    grid: Grid,
    colour: Colouring,
    trajectory: Trajectory,
    step: int,
    effective_lr: np.ndarray | None,
    *,
    height: int = 440,
) -> go.Figure:
    """Left: the path with arrows at step t for the plain gradient step -eta_t g_t, the momentum
    (velocity or m_hat) step where there is one, and the step actually taken. Right: the per-coordinate
    effective learning rate over time, where the optimizer has one."""
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.58, 0.42],
        horizontal_spacing=0.08,
        subplot_titles=[f"step t = {step}, zoomed to the step", "effective η per coordinate"],
    )
    cell = {"row": 1, "col": 1}
    add_surface(fig, surface, grid, colour, show_scale=False, click_points=0, cell=cell)
    name = trajectory.optimizer
    fig.add_trace(
        go.Scatter(
            x=trajectory.xy[:, 0],
            y=trajectory.xy[:, 1],
            mode="lines+markers",
            name=OPTIMIZERS[name].label,
            line={"color": OPTIMIZERS[name].colour, "width": 2},
            marker={"size": 4},
        ),
        **cell,
    )
    before = trajectory.xy[step - 1]
    lr_t = trajectory.hyperparams["lr"] * trajectory.schedule.factors(step)[-1]
    arrows = [("−η_t g_t (plain gradient step)", -lr_t * trajectory.grad[step - 1], "#b00020")]
    velocity = _velocity_step(trajectory, step, lr_t)
    if velocity is not None:
        arrows.append(velocity)
    arrows.append(("step taken θ_t − θ_{t−1}", trajectory.xy[step] - before, "#000000"))
    (x0, x1), (y0, y1) = surface.bounds
    # Zoom to the step: a few arrow lengths around where it starts, within the plot window.
    reach = max(2.5 * max(np.linalg.norm(vector) for _, vector, _ in arrows), 0.02 * (x1 - x0))
    for label, vector, c in arrows:
        tip = np.clip(before + vector, [x0, y0], [x1, y1])  # a huge gradient step would leave the plot
        fig.add_annotation(
            x=tip[0],
            y=tip[1],
            ax=before[0],
            ay=before[1],
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            showarrow=True,
            arrowhead=3,
            arrowsize=1.2,
            arrowwidth=3,
            arrowcolor=c,
            text="",
        )
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                line={"color": c, "width": 3},
                name=f"{label}: ({vector[0]:.3g}, {vector[1]:.3g})",
            ),
            **cell,
        )
    x_range = [max(x0, before[0] - reach), min(x1, before[0] + reach)]
    y_range = [max(y0, before[1] - reach), min(y1, before[1] + reach)]
    fig.update_xaxes(range=x_range, showgrid=False, zeroline=False, **cell)
    fig.update_yaxes(range=y_range, showgrid=False, zeroline=False, scaleanchor="x", **cell)
    if effective_lr is not None:
        steps = np.arange(1, len(effective_lr) + 1)
        for axis, dash in ((0, "solid"), (1, "dot")):
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=effective_lr[:, axis],
                    mode="lines",
                    name=f"effective η, {'xy'[axis]}",
                    line={"color": OPTIMIZERS[name].colour, "width": 2.5, "dash": dash},
                ),
                row=1,
                col=2,
            )
        fig.add_vline(x=step, line={"color": "#777", "dash": "dash"}, row=1, col=2)
        fig.update_yaxes(type="log", exponentformat="power", row=1, col=2)
        fig.update_xaxes(title_text="step", row=1, col=2)
    else:
        # Placed on the page, at the middle of the right panel: plotly.js makes no axes for a subplot
        # without traces, so a note referred to "x2 domain" fell back to the map's axes (x, y).
        (left, right), (bottom, top) = fig.layout.xaxis2.domain, fig.layout.yaxis2.domain
        fig.add_annotation(  # short lines: the panel is some 300 px wide, and presenter text is 20 px
            text="one learning rate for<br>both coordinates:<br>no per-coordinate<br>adaptation",
            showarrow=False,
            xref="paper",
            yref="paper",
            x=(left + right) / 2,
            y=(bottom + top) / 2,
            xanchor="center",  # on the page, "auto" would anchor a note this far right at its right end
            yanchor="middle",
        )
    # The legend at the foot of the figure, which grows to hold it: placed on the plot (y = -0.1) it
    # covered the right panel's axis title "step", or ran under it with larger text.
    legend = {"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "x": 0}
    return _layout(fig, height, legend=legend)


def _velocity_step(trajectory: Trajectory, step: int, lr_t: float):
    """(label, vector, colour) of the momentum part of step t, for optimizers that keep one."""
    state, h = trajectory.state, trajectory.hyperparams
    if "velocity" in state:
        return ("−η_t × velocity", -lr_t * state["velocity"][step], "#009E73")
    if "mu" in state:
        m_hat = state["mu"][step] / (1 - h["b1"] ** state["count"][step])
        return ("−η_t m̂_t (momentum of g)", -lr_t * m_hat, "#009E73")
    return None
