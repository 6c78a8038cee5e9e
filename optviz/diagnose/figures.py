"""Plotly builders for the Diagnose training page: data in, go.Figure out (no Streamlit, no training).

A value that is not finite (a diverged run, a ratio of a still-zero weight matrix) is never drawn:
the line stops there, and where a run diverged is marked with a cross instead.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from optviz.diagnose.gradcheck import STEP_SWEEP, THRESHOLDS, GradCheck
from optviz.diagnose.hyperparameter_search import Search
from optviz.diagnose.network import Snapshot
from optviz.diagnose.training import Run
from optviz.mlp.figures import MAX_CURVE_POINTS, WRONG_COLOUR, figure_layout

LN10 = float(np.log(10))
# Layer 1 .. 7 (the output layer last), light to dark: depth reads as shade. Viridis' stops (without its
# yellow end, too faint on white).
LAYER_COLOURS = ["#90d743", "#35b779", "#21918c", "#31688e", "#443983", "#440154", "#000000"]
# Okabe & Ito: four learning rates, too low to too high.
LR_COLOURS = ["#56B4E9", "#009E73", "#E69F00", "#CC79A7"]
TRAIN_COLOUR, VAL_COLOUR = "#0072B2", "#D55E00"
RATIO_BAND = (1e-4, 1e-2)  # a decade either side of CS231n's 1e-3


def _log_hline(fig: go.Figure, y: float, label: str, colour: str, dash: str) -> None:
    """A labelled horizontal line on a log y axis. (add_hline's own label lands at the wrong height
    on a log axis: an annotation's y there is in decades.)"""
    fig.add_hline(y=y, line={"color": colour, "dash": dash})
    fig.add_annotation(
        x=1,
        xref="x domain",
        y=np.log10(y),
        text=label,
        showarrow=False,
        xanchor="right",
        yanchor="bottom",
        font={"color": colour, "size": 12},
    )


def _finite(values) -> list[float | None]:
    """Plotly draws None as a gap: every value that is not finite becomes one."""
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, np.float64)]


def layer_colour(layer: int, layers: int) -> str:
    """Layer `layer` (0-based) of `layers`, spread over the palette."""
    return LAYER_COLOURS[round(layer * (len(LAYER_COLOURS) - 2) / max(1, layers - 1))]


# --- 1. initialization -------------------------------------------------------------------------------


def histograms_figure(snapshot: Snapshot, activation: str, *, height: int = 420) -> go.Figure:
    """Per hidden layer, the histogram of its outputs h_l (top) and of dL/dh_l (bottom), on bins shared
    by all layers, each titled with its standard deviation."""
    layers = len(snapshot.layers)
    titles = [f"layer {i + 1}<br>std {s.act_std:.2g}" for i, s in enumerate(snapshot.layers)]
    titles += [f"std {s.grad_std:.2g}" for s in snapshot.layers]
    fig = make_subplots(
        rows=2, cols=layers, subplot_titles=titles, vertical_spacing=0.2, horizontal_spacing=0.02
    )
    for i, stats in enumerate(snapshot.layers):
        colour = layer_colour(i, layers)
        for row, hist in ((1, stats.act_hist), (2, stats.grad_hist)):
            centres = (hist.edges[:-1] + hist.edges[1:]) / 2
            fraction = hist.counts / max(1, hist.counts.sum())
            fig.add_bar(
                x=centres,
                y=fraction,
                row=row,
                col=i + 1,
                marker={"color": colour, "line": {"width": 0}},
                width=hist.edges[1] - hist.edges[0],
                showlegend=False,
                hovertemplate="%{x:.3g}: %{y:.1%}<extra>" + f"layer {i + 1}</extra>",
            )
    fig.update_yaxes(showticklabels=False, showgrid=False)
    fig.update_xaxes(nticks=3, tickformat=".2g", row=1)
    fig.update_xaxes(nticks=3, tickformat=".0e", row=2)  # short: side by side on a phone
    fig.update_yaxes(title_text=f"{activation}(u)", row=1, col=1)
    fig.update_yaxes(title_text="∂L/∂h", row=2, col=1)
    fig.update_annotations(font_size=12)
    return figure_layout(fig, height, bargap=0)


def std_figure(snapshot: Snapshot, *, height: int = 300) -> go.Figure:
    """The standard deviation of h_l and of dL/dh_l against depth, log scale: vanishing or exploding
    reads as a straight slope."""
    layers = np.arange(1, len(snapshot.layers) + 1)
    fig = go.Figure()
    for name, values, colour in (
        ("outputs h", [s.act_std for s in snapshot.layers], TRAIN_COLOUR),
        ("gradients ∂L/∂h", [s.grad_std for s in snapshot.layers], VAL_COLOUR),
    ):
        positive = [v if v > 0 else None for v in values]  # a log axis cannot show 0
        fig.add_scatter(
            x=layers, y=positive, mode="lines+markers", name=name, line={"color": colour, "width": 3}
        )
    fig.update_xaxes(title_text="hidden layer", dtick=1)
    fig.update_yaxes(title_text="standard deviation", type="log", exponentformat="power")
    return figure_layout(fig, height, legend={"orientation": "h", "y": 1.15})


# --- 2. update:weight ratio --------------------------------------------------------------------------


def update_ratio_figure(run: Run, steps_per_epoch: int, *, height: int = 380) -> go.Figure:
    """||ΔW_l|| / ||W_l|| of every weight matrix at every step (log), against the band around 1e-3."""
    fig = go.Figure()
    fig.add_hrect(y0=RATIO_BAND[0], y1=RATIO_BAND[1], fillcolor="#009E73", opacity=0.12, line_width=0)
    _log_hline(fig, 1e-3, "10⁻³", "#007a5a", "dash")
    steps, layers = run.update_ratio.shape
    stride = max(1, steps // MAX_CURVE_POINTS)
    x = np.arange(1, steps + 1)[::stride] / steps_per_epoch + run.first_epoch
    for layer in range(layers):
        ratio = run.update_ratio[::stride, layer]
        name = "output layer" if layer == layers - 1 else f"layer {layer + 1}"
        positive = [v if v is not None and v > 0 else None for v in _finite(ratio)]
        fig.add_scatter(x=x, y=positive, mode="lines", name=name, line={"color": layer_colour(layer, layers)})
    _mark_divergence(fig, run, steps_per_epoch, y=RATIO_BAND[1])
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="‖ΔW‖ / ‖W‖", type="log", exponentformat="power")
    return figure_layout(fig, height, legend={"orientation": "h", "y": 1.12})


def _mark_divergence(fig: go.Figure, run: Run, steps_per_epoch: int, y: float) -> None:
    if run.diverged_at is not None:
        fig.add_scatter(
            x=[run.first_epoch + run.diverged_at / steps_per_epoch],
            y=[y],
            mode="markers+text",
            marker={"symbol": "x", "size": 14, "color": WRONG_COLOUR},
            text=[f"diverged at step {run.diverged_at}"],
            textposition="top right",
            name="diverged",
            showlegend=False,
        )


# --- 3. loss curves ----------------------------------------------------------------------------------


def smoothed(values: np.ndarray, window: int) -> np.ndarray:
    """The running mean over the last `window` values (fewer at the start): mini-batch noise averaged
    out, without looking ahead."""
    sums = np.cumsum(np.concatenate([[0.0], values]))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(0, ends - window)
    return (sums[ends] - sums[starts]) / (ends - starts)


def loss_curves_figure(
    batch_loss: np.ndarray,
    diverged_at,
    labels: list[str],
    steps_per_epoch: int,
    *,
    log: bool,
    height: int = 400,
) -> go.Figure:
    """One colour per setting (rows of batch_loss): every step's loss, thin (the wiggle is mini-batch
    noise), and its running mean over a fifth of an epoch, thick (the trend); against epochs, cut
    where the run diverged (a cross marks it), with ln 10 (a uniform guess) dotted."""
    fig = go.Figure()
    fig.add_hline(y=LN10, line={"color": "#777777", "dash": "dot"}, annotation_text="ln 10")
    steps = batch_loss.shape[1]
    stride = max(1, steps // MAX_CURVE_POINTS)
    x = np.arange(1, steps + 1) / steps_per_epoch
    window = max(1, steps_per_epoch // 5)
    for row, (label, colour) in enumerate(zip(labels, LR_COLOURS, strict=False)):
        end = int(diverged_at[row]) - 1 if diverged_at[row] else steps
        raw = batch_loss[row, :end]
        fig.add_scatter(
            x=x[:end:stride], y=_finite(raw[::stride]), mode="lines", name=label, legendgroup=label,
            showlegend=False, opacity=0.35, line={"color": colour, "width": 1}, hoverinfo="skip",
        )  # fmt: skip
        trend = _finite(smoothed(raw, window)[::stride]) if end else []
        fig.add_scatter(
            x=x[:end:stride], y=trend, mode="lines", name=label, legendgroup=label,
            line={"color": colour, "width": 3},
        )  # fmt: skip
        if diverged_at[row]:
            last = next((v for v in reversed(trend) if v is not None), LN10)
            fig.add_scatter(
                x=[x[end - 1] if end else x[0]], y=[last], mode="markers", showlegend=False,
                marker={"symbol": "x", "size": 14, "color": colour}, hovertemplate="diverged<extra></extra>",
            )  # fmt: skip
    fig.update_xaxes(title_text="epoch")
    # Linear: up to a little above ln 10, as CS231n draws it (a diverging run's spike goes off the top;
    # the log axis shows all of it).
    fig.update_yaxes(
        title_text="mini-batch loss", type="log" if log else "linear", range=None if log else [0, 3]
    )
    return figure_layout(fig, height, legend={"orientation": "h", "y": 1.12})


# --- 4. train/val gap --------------------------------------------------------------------------------


def gap_figure(run: Run, *, height: int = 380) -> go.Figure:
    """Train and validation accuracy after every epoch; the gap between them is overfitting."""
    epochs = np.arange(1, run.epochs + 1)
    fig = go.Figure()
    fig.add_scatter(
        x=epochs,
        y=_finite(run.train_accuracy),
        name="train",
        mode="lines",
        line={"color": TRAIN_COLOUR, "width": 3},
    )
    fig.add_scatter(
        x=epochs,
        y=_finite(run.val_accuracy),
        name="validation",
        mode="lines",
        fill="tonexty",
        fillcolor="rgba(213, 94, 0, 0.12)",
        line={"color": VAL_COLOUR, "width": 3, "dash": "dash"},
    )
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="accuracy", tickformat=".0%", range=[0, 1.02])
    return figure_layout(fig, height, legend={"orientation": "h", "y": 1.12})


# --- 5. gradient check -------------------------------------------------------------------------------


def _thresholds(fig: go.Figure) -> None:
    for label, value in THRESHOLDS.items():
        _log_hline(fig, value, label, "#555555", "dot")


def _log_error(values) -> list[float]:
    """Relative errors for a log axis: an exact 0 is drawn at 1e-17, below float64's resolution."""
    return [max(float(v), 1e-17) for v in values]


def grad_check_figure(check: GradCheck, *, height: int = 360) -> go.Figure:
    """The relative error of every sampled parameter (log), coloured by layer; crossed kinks ringed."""
    fig = go.Figure()
    _thresholds(fig)
    layers = int(check.layers.max())
    for layer in range(1, layers + 1):
        mine = check.layers == layer
        name = "output layer" if layer == layers else f"layer {layer}"
        fig.add_scatter(
            x=np.flatnonzero(mine),
            y=_log_error(check.rel_error[mine]),
            mode="markers",
            name=name,
            marker={
                "size": 11,
                "color": layer_colour(layer - 1, layers),
                "line": {"width": 1, "color": "#333"},
            },
            customdata=np.stack([check.analytic[mine], check.numeric[mine]], axis=1),
            hovertemplate="analytic %{customdata[0]:.6g}<br>numeric %{customdata[1]:.6g}"
            "<br>relative error %{y:.2e}<extra></extra>",
        )
    if check.kinks.any():
        fig.add_scatter(
            x=np.flatnonzero(check.kinks),
            y=_log_error(check.rel_error[check.kinks]),
            mode="markers",
            name="a ReLU kink crossed",
            marker={"size": 20, "symbol": "circle-open", "color": WRONG_COLOUR},
        )
    fig.update_xaxes(title_text="sampled parameter")
    fig.update_yaxes(title_text="relative error", type="log", exponentformat="power")
    return figure_layout(fig, height, legend={"orientation": "h", "y": 1.14})


def sweep_figure(sweep: dict[str, np.ndarray], h: float, *, height: int = 360) -> go.Figure:
    """The median relative error against the step h (log-log) for each precision: the V."""
    fig = go.Figure()
    _thresholds(fig)
    for (dtype, errors), colour in zip(sweep.items(), (VAL_COLOUR, TRAIN_COLOUR), strict=True):
        fig.add_scatter(
            x=STEP_SWEEP,
            y=_log_error(errors),
            mode="lines+markers",
            name=dtype,
            line={"color": colour, "width": 3},
        )
    fig.add_vline(x=h, line={"color": "#333333", "dash": "dash"}, annotation_text=f"h = {h:.0e}")
    fig.update_xaxes(title_text="step h", type="log", exponentformat="power", autorange="reversed")
    fig.update_yaxes(title_text="median relative error", type="log", exponentformat="power")
    return figure_layout(fig, height, legend={"orientation": "h", "y": 1.14})


# --- 6. search ---------------------------------------------------------------------------------------


def _padded(bounds: tuple[float, float]) -> list[float]:
    """A log axis over `bounds` with a twentieth of its width either side, so no marker is cut."""
    low, high = np.log10(bounds)
    pad = (high - low) / 20
    return [low - pad, high + pad]


def search_figure(result: Search, *, height: int = 470) -> go.Figure:
    """Left: every trial in the (learning rate, weight decay) plane, coloured by validation accuracy
    (diverged: crosses; best: a star). Right: accuracy against the learning rate alone, the one that
    matters: a grid tries few distinct values of it, random search as many as it has trials."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.2)
    ok, bad, best = ~result.diverged, result.diverged, result.best()
    accuracy = result.val_accuracy
    fig.add_scatter(
        x=result.lr[ok],
        y=result.weight_decay[ok],
        mode="markers",
        row=1,
        col=1,
        name="trial",
        marker={
            "size": 13,
            "color": accuracy[ok],
            "colorscale": "Viridis",
            "cmin": 0,
            "cmax": 1,
            # Under the left chart: between the two it would sit on the right one's axis.
            "colorbar": {
                "title": {"text": "val. accuracy", "side": "right"},
                "tickformat": ".0%",
                "orientation": "h",
                "x": 0.24,
                "len": 0.45,
                "y": -0.42,
                "thickness": 12,
            },
            "line": {"width": 1, "color": "#333"},
        },
        customdata=accuracy[ok],
        hovertemplate="lr %{x:.2e}<br>decay %{y:.2e}<br>%{customdata:.1%}<extra></extra>",
    )
    if bad.any():
        fig.add_scatter(
            x=result.lr[bad],
            y=result.weight_decay[bad],
            mode="markers",
            row=1,
            col=1,
            name="diverged",
            marker={"size": 13, "symbol": "x", "color": WRONG_COLOUR},
        )
    fig.add_scatter(
        x=[result.lr[best]],
        y=[result.weight_decay[best]],
        mode="markers",
        row=1,
        col=1,
        name="best",
        marker={"size": 24, "symbol": "star-open", "color": "#000000", "line": {"width": 2}},
    )
    fig.add_scatter(
        x=result.lr,
        y=np.where(bad, 0.0, accuracy),  # a diverged trial's accuracy means nothing: at the bottom
        mode="markers",
        row=1,
        col=2,
        showlegend=False,
        marker={
            "size": 10,
            "color": np.where(bad, WRONG_COLOUR, TRAIN_COLOUR),
            "symbol": np.where(bad, "x", "circle"),
        },
        hovertemplate="lr %{x:.2e}: %{y:.1%}<extra></extra>",
    )
    for col in (1, 2):
        fig.update_xaxes(
            title_text="learning rate",
            type="log",
            exponentformat="power",
            row=1,
            col=col,
            range=_padded(result.lr_range),
        )
    fig.update_yaxes(
        title_text="weight decay",
        type="log",
        exponentformat="power",
        row=1,
        col=1,
        range=_padded(result.weight_decay_range),
    )
    fig.update_yaxes(title_text="validation accuracy", tickformat=".0%", range=[0, 1], row=1, col=2)
    margin = {"l": 10, "r": 10, "t": 40, "b": 90}  # room for the colour bar under the left chart
    return figure_layout(fig, height, legend={"orientation": "h", "y": 1.12}, margin=margin)


# --- 7. branch ---------------------------------------------------------------------------------------


def branch_figure(
    base: Run, branch: Run, labels: tuple[str, str], steps_per_epoch: int, *, height: int = 380
) -> go.Figure:
    """Validation accuracy after every epoch (left) and the mini-batch loss, smoothed over a tenth of
    an epoch (right), of the run that went on and of the branch from the pause; the branch starts
    from the paused run's point."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=["validation accuracy", "mini-batch loss (smoothed)"])
    pause = branch.first_epoch
    window = max(1, steps_per_epoch // 10)
    for run, label, colour, dash in (
        (base, labels[0], TRAIN_COLOUR, "solid"),
        (branch, labels[1], VAL_COLOUR, "dash"),
    ):
        epochs = np.arange(run.first_epoch + 1, run.first_epoch + run.epochs + 1)
        accuracy = _finite(run.val_accuracy)
        if run is branch:
            epochs, accuracy = (
                np.concatenate([[pause], epochs]),
                [float(base.val_accuracy[pause - 1]), *accuracy],
            )
        steps = np.arange(1, len(run.batch_loss) + 1)
        stride = max(1, len(steps) // MAX_CURVE_POINTS)
        style = {"legendgroup": label, "line": {"color": colour, "width": 3, "dash": dash}}
        fig.add_scatter(x=epochs, y=accuracy, mode="lines+markers", name=label, row=1, col=1, **style)
        fig.add_scatter(
            x=(steps / steps_per_epoch + run.first_epoch)[::stride],
            y=_finite(smoothed(run.batch_loss, window)[::stride]),
            mode="lines", name=label, showlegend=False, row=1, col=2, **style,
        )  # fmt: skip
    for col in (1, 2):
        fig.add_vline(x=pause, line={"color": "#777777", "dash": "dot"}, row=1, col=col)
        fig.update_xaxes(title_text="epoch", dtick=1, row=1, col=col)
    fig.update_yaxes(tickformat=".1%", row=1, col=1)
    return figure_layout(fig, height, legend={"orientation": "h", "y": 1.18})
