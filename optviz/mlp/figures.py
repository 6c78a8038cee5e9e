"""Plotly builders for the MLP & backpropagation page: data in, go.Figure out (no Streamlit, no training).

Text inside figures is plain Unicode (Plotly's LaTeX needs MathJax, which Streamlit does not load);
the page renders the formulas beside the figures with KaTeX.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from optviz.mlp.model import History
from optviz.optimizers import OPTIMIZERS

FONT = {"size": 15}  # legible on a projector at 1280 x 720
WRONG_COLOUR = "#D55E00"
MAX_CURVE_POINTS = 400  # mini-batch losses drawn per run: every k-th, so the noise stays visible


def figure_layout(fig: go.Figure, height: int, **kwargs) -> go.Figure:
    """The look every figure of the MLP and Diagnose pages shares: projector-sized text, a white
    template, tight margins (unless given)."""
    kwargs.setdefault("margin", {"l": 10, "r": 10, "t": 40, "b": 10})
    fig.update_layout(height=height, font=FONT, template="plotly_white", **kwargs)
    return fig


# --- training curves ---------------------------------------------------------------------------


CURVES_CAPTION = (
    "Solid: the train loss and accuracy averaged over each epoch's mini-batches as they were trained on, "
    "drawn at the epoch's middle (the weights changed during the epoch). Dotted: the test set, measured "
    "after the epoch, drawn at its end. Thin: the loss of every mini-batch."
)


def _epoch_line(values, colour, label, group, hover, *, test=False, legend=False) -> go.Scatter:
    """One value per epoch: solid for training, dotted with diamonds for the test set.

    A train value is an average over the epoch's mini-batches, taken while the weights moved, so it
    is drawn at the epoch's middle (epoch k at k - 0.5); a test value is measured on the weights at
    the epoch's end (at k). Drawn at the same x, epoch 1's train accuracy would sit below its test
    accuracy, which reads as a bug in the network (CURVES_CAPTION says this under the chart)."""
    epochs = np.arange(1, len(values) + 1)
    return go.Scatter(
        x=epochs if test else epochs - 0.5, y=values, mode="lines+markers", name=label, legendgroup=group,
        showlegend=legend, hovertemplate=hover + f"<extra>{label}</extra>",
        line={"color": colour, "width": 2, "dash": "dot" if test else "solid"},
        marker={"symbol": "diamond" if test else "circle"},
    )  # fmt: skip


def curves_figure(
    histories: Mapping[str, History], batches_per_epoch: int, epochs: int, *, height: int = 380
):
    """Loss (every mini-batch, thin; train and test per epoch, markers) and accuracy, against epochs.

    The x axis always spans all `epochs`, so curves visibly grow while training runs.
    """
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=["cross-entropy loss", "accuracy"], horizontal_spacing=0.08
    )
    for name, h in histories.items():
        colour, label = OPTIMIZERS[name].colour, OPTIMIZERS[name].label
        stride = max(1, len(h.batch_loss) // MAX_CURVE_POINTS)
        steps = np.arange(1, len(h.batch_loss) + 1)[::stride]
        traces = [
            (1, _epoch_line(h.train_loss, colour, label, name, "train loss %{y:.4f}", legend=True)),
            (1, _epoch_line(h.test_loss, colour, label, name, "test loss %{y:.4f}", test=True)),
            (2, _epoch_line(h.train_accuracy, colour, label, name, "train accuracy %{y:.1%}")),
            (2, _epoch_line(h.test_accuracy, colour, label, name, "test accuracy %{y:.1%}", test=True)),
        ]
        fig.add_trace(
            go.Scatter(
                x=steps / batches_per_epoch, y=h.batch_loss[::stride], mode="lines", opacity=0.35,
                line={"color": colour, "width": 1}, legendgroup=name, showlegend=False, hoverinfo="skip",
            ),
            row=1, col=1,
        )  # fmt: skip
        for col, trace in traces:
            fig.add_trace(trace, row=1, col=col)
    for label, dash in (("train", "solid"), ("test", "dot")):  # what solid and dotted mean, in the legend
        fig.add_trace(
            go.Scatter(x=[None], y=[None], mode="lines", name=label, line={"color": "#888", "dash": dash}),
            row=1, col=2,
        )  # fmt: skip
    fig.update_xaxes(title_text="epoch", range=[0, epochs + 0.1])
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=1)
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
    return figure_layout(fig, height, legend={"orientation": "h", "yanchor": "bottom", "y": 1.1, "x": 0})


# --- what the network learned ------------------------------------------------------------------


def _tile(images: np.ndarray, columns: int, gap: int = 2, row_gap: int = 2) -> np.ndarray:
    """Images (n, 28, 28) laid out on a grid with NaN gaps between them (drawn as background)."""
    n, size, _ = images.shape
    rows = -(-n // columns)
    width, height = size + gap, size + row_gap
    canvas = np.full((max(rows * height - row_gap, 1), columns * width - gap), np.nan)
    for k, image in enumerate(images):
        r, c = divmod(k, columns)
        canvas[r * height : r * height + size, c * width : c * width + size] = image
    return canvas


def weights_figure(w1: np.ndarray, *, count: int = 24, columns: int = 6, height: int = 300):
    """The first layer's weights into hidden units 0..count-1, each as a 28 x 28 image (red +, blue −).

    Unit j computes x · W_1[:, j]: the image shows which pixels push it up and which push it down.
    """
    units = np.asarray(w1)[:, :count].T.reshape(-1, 28, 28)
    limit = float(np.abs(units).max()) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=_tile(units, columns), colorscale="RdBu_r", zmin=-limit, zmax=limit, zmid=0,
            colorbar={"title": "weight", "thickness": 12}, hovertemplate="weight %{z:.3f}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return figure_layout(fig, height, margin={"l": 0, "r": 0, "t": 0, "b": 0})


def digits_figure(images, labels, probabilities, *, columns: int = 8, height: int = 380):
    """Test digits with the predicted class and its probability above each; mistakes framed in red,
    with the true label. Hovering a digit shows all ten probabilities."""
    images = np.asarray(images, dtype=float)
    labels, probabilities = np.asarray(labels), np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1)
    cell, row_cell = 28 + 2, 28 + 9  # room above each digit for its label
    fig = go.Figure(
        go.Heatmap(
            z=_tile(images, columns, row_gap=row_cell - 28),
            colorscale="gray_r",
            showscale=False,
            hoverinfo="skip",
            zmin=0,
            zmax=255,
        )
    )
    hover_x, hover_y, hover_text = [], [], []
    for k, (label, guess, p) in enumerate(zip(labels, predicted, probabilities, strict=True)):
        r, c = divmod(k, columns)
        x, y = c * cell + 13.5, r * row_cell + 13.5
        wrong = label != guess
        text = f"{guess} ({p[guess]:.0%})" + (f" ≠ {label}" if wrong else "")
        fig.add_annotation(
            x=x, y=r * row_cell - 1, text=text, showarrow=False, yanchor="bottom",
            font={"size": 13, "color": WRONG_COLOUR if wrong else "#222"},
        )  # fmt: skip
        if wrong:
            fig.add_shape(
                type="rect", x0=c * cell - 1.5, x1=c * cell + 28.5,
                y0=r * row_cell - 1.5, y1=r * row_cell + 28.5, line={"color": WRONG_COLOUR, "width": 3},
            )  # fmt: skip
        hover_x.append(x)
        hover_y.append(y)
        hover_text.append(
            f"true {label}, predicted {guess}<br>" + "<br>".join(f"{d}: {q:.1%}" for d, q in enumerate(p))
        )
    fig.add_trace(
        go.Scatter(
            x=hover_x, y=hover_y, mode="markers", marker={"size": 30, "opacity": 0}, text=hover_text,
            hovertemplate="%{text}<extra></extra>", showlegend=False,
        )
    )  # fmt: skip
    rows = -(-len(images) // columns)
    fig.update_xaxes(visible=False)
    # Top to bottom, with room above the first row for its labels.
    fig.update_yaxes(visible=False, range=[rows * row_cell - 9, -9], scaleanchor="x")
    return figure_layout(fig, height, margin={"l": 0, "r": 0, "t": 0, "b": 0})


def confusion_figure(counts: np.ndarray, *, height: int = 380):
    """counts[i, j]: test digits of class i predicted as j; the diagonal holds the correct ones."""
    counts = np.asarray(counts)
    fig = go.Figure(
        go.Heatmap(
            z=np.log1p(counts), x=list(range(10)), y=list(range(10)), text=counts, texttemplate="%{text}",
            colorscale="Blues", showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_xaxes(title_text="predicted", dtick=1, side="top")
    fig.update_yaxes(title_text="true digit", dtick=1, autorange="reversed")
    return figure_layout(fig, height, margin={"l": 10, "r": 10, "t": 50, "b": 10})
