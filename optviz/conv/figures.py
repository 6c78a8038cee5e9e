"""What the convolution page draws: data in, figure out. No Streamlit, no convolution math.

`step_data` packs the one-channel step-by-step view for its canvas component (optviz/ui/conv_steps),
which works each window out in the browser; the rest are Plotly figures (many channels, 1D text).

The 1D text figure animates in the browser (Play and a scrubber, no server round trip): each frame
carries only a few numbers (the window's outline and the values it covers). What the frames do not
move must survive them. plotly.js, animating without a full redraw (plotly.js#4491, checked in
Chromium with Streamlit 1.67's plotly.js), erases every heatmap at the first frame, and every trace
of a subplot that no frame touches. So the encoded text is drawn as a picture (a layout image, which
frames never touch), each cell a block of pixels so that cells stay crisp, over a transparent
heatmap kept for hovering when paused.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from optviz.conv.model import Window
from optviz.packing import encode
from optviz.plotting import AnimatedFigure, play_pause

GREY = "Greys_r"  # pixel intensities: black 0, white 1
DIVERGING = "RdBu"  # signed responses: red negative, blue positive (centred on zero)
HIGHLIGHT = "#E69F00"  # the window and its output cell (Okabe & Ito orange)
FONT = {"size": 15}  # readable on a projector
# Play and Pause sit under the plots, clear of the scrubber, in the page's font size.
PLAY_PLACEMENT = {"y": 0.0, "pad": {"t": 50, "r": 8}, "font": {"size": 14}}
CELL_PX = 12  # picture pixels per image cell: sharp cells at the sizes the page draws them


def _picture(z: np.ndarray, colorscale: str, zmin: float, zmax: float, xref: str, yref: str) -> dict:
    """The heatmap of `z` (cell (r, c) centred on (c, r), row 0 on top) as a layout image under the
    traces, in the colours the heatmap would have (see the module's docstring for why)."""
    cells = _colours(z, colorscale, zmin, zmax).repeat(CELL_PX, axis=0).repeat(CELL_PX, axis=1)
    png = io.BytesIO()
    Image.fromarray(cells).save(png, format="PNG", optimize=True)
    rows, cols = np.shape(z)
    return {
        "source": "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii"),
        "xref": xref,
        "yref": yref,
        "x": -0.5,
        "y": -0.5,
        "sizex": cols,
        "sizey": rows,
        "sizing": "stretch",
        "xanchor": "left",
        "yanchor": "top",
        "layer": "below",
    }


def _colours(z: np.ndarray, colorscale: str, zmin: float, zmax: float) -> np.ndarray:
    """Each cell of `z` in the colour a Plotly heatmap would give it: RGB bytes, shape (*z.shape, 3)."""
    t = np.clip((np.asarray(z, float) - zmin) / ((zmax - zmin) or 1.0), 0.0, 1.0)
    scale = plotly.colors.get_colorscale(colorscale)
    colours = plotly.colors.sample_colorscale(scale, t.ravel().tolist())
    rgb = np.array([plotly.colors.unlabel_rgb(c) for c in colours]).round().astype(np.uint8)
    return rgb.reshape(*t.shape, 3)


def _cells(values: np.ndarray, digits: int = 2) -> list[str]:
    """Grid values as short labels, row by row ('-0' shown as '0')."""
    return [f"{v:.{digits}g}" if abs(v) >= 10**-digits else "0" for v in np.ravel(values)]


def _outline(r0: float, r1: float, c0: float, c1: float) -> dict:
    """A closed rectangle around cells r0..r1, c0..c1 (inclusive), as a polygon in cell coordinates."""
    return {
        "x": [c0 - 0.5, c1 + 0.5, c1 + 0.5, c0 - 0.5, c0 - 0.5],
        "y": [r0 - 0.5, r0 - 0.5, r1 + 0.5, r1 + 0.5, r0 - 0.5],
    }


def _scrubber(names: Sequence[str], labels: Sequence[str], prefix: str) -> dict:
    """One slider stop per frame, named `names`; the current stop's label shows above the slider."""
    jump = {"mode": "immediate", "frame": {"duration": 0, "redraw": False}, "transition": {"duration": 0}}
    return {
        "active": 0,
        "x": 0.18,
        "len": 0.82,
        "y": 0.0,
        "yanchor": "top",
        "pad": {"t": 40},  # under the x axis's title
        "ticklen": 3,
        "minorticklen": 0,
        # At the slider's right end: its left end is beside Play, whose width grows with the font.
        "currentvalue": {"prefix": prefix, "xanchor": "right", "font": {"size": 14, "color": "#333"}},
        # Every stop keeps its label (the current value shows it) but the row of labels under the
        # slider would overlap, so it is drawn transparent.
        "font": {"color": "rgba(0,0,0,0)"},
        "steps": [
            {"label": label, "value": name, "method": "animate", "args": [[name], jump]}
            for name, label in zip(names, labels, strict=True)
        ],
    }


def _grid_text(k: int, values, axes: str, size: int = 14) -> go.Scatter:
    """A k x k grid of numbers as text (the patch, the kernel or the products)."""
    r, c = np.indices((k, k))
    return go.Scatter(
        x=c.ravel(),
        y=r.ravel(),
        text=_cells(values),
        mode="text",
        textfont={"size": size},
        hoverinfo="skip",
        showlegend=False,
        xaxis=f"x{axes}",
        yaxis=f"y{axes}",
    )


def step_data(
    padded: np.ndarray,
    pads: tuple[tuple[int, int], tuple[int, int]],
    kernel: np.ndarray,
    output: np.ndarray,
    *,
    stride: int,
    dilation: int,
    frame_ms: int,
) -> dict:
    """What the step-by-step chart (optviz/ui/conv_steps) draws, for one channel and one filter: the
    zero-padded input and the output map, each as its cells' values and colours (packed arrays), the
    kernel, and where it goes.

    The chart works each step's window out in the browser by the definition the page teaches:
    kernel cell (u, v) of output cell (i, j) lands on padded-input cell (i s + u d, j s + v d), so
    the patch is padded[i s + u d, j s + v d] and the products are patch * kernel; the sum it shows is
    `output[i, j]`, the layer's own answer (`conv.conv2d`). Nothing per step crosses the wire.

    The chart opens (and comes back, in a slide) on `openStep`: the first output cell in reading
    order whose size is at least half the largest, so that the first view shows the window on the
    digit's stroke with numbers in it, not an all-zero corner of the padding.
    """
    (top, bottom), (left, right) = pads
    lo, hi = min(padded.min(), 0.0), max(padded.max(), 1.0)
    limit = float(np.abs(output).max()) or 1.0
    return {
        "openStep": int(np.argmax(np.abs(output).ravel() >= 0.5 * limit)),  # 0 for an all-zero output
        "input": _image_data(padded, GREY, lo, hi),
        "inner": [top, left, padded.shape[0] - top - bottom, padded.shape[1] - left - right],
        "kernel": {"k": int(kernel.shape[0]), "values": np.asarray(kernel, float).ravel().tolist()},
        "output": _image_data(output, DIVERGING, -limit, limit),
        "stride": int(stride),
        "dilation": int(dilation),
        "frameMs": int(frame_ms),
        "highlight": HIGHLIGHT,
    }


def _image_data(z: np.ndarray, colorscale: str, zmin: float, zmax: float) -> dict:
    """An image's cells for the browser: shape, values (float32) and colours (RGB bytes, row by row)."""
    return {
        "rows": int(z.shape[0]),
        "cols": int(z.shape[1]),
        "values": encode(z, "<f4"),
        "rgb": encode(_colours(z, colorscale, zmin, zmax), "u1"),
    }


CHANNELS = ("red", "green", "blue")


def _window_box(w: Window) -> dict:
    return _outline(w.taps[0, 0, 0], w.taps[-1, -1, 0], w.taps[0, 0, 1], w.taps[-1, -1, 1])


def channels_figure(
    image: np.ndarray, filters: np.ndarray, window: Window, o: int, *, height: int = 440
) -> go.Figure:
    """One output position of filter o over an RGB image: the image, each zero-padded channel with the
    window, and below each channel the filter's slice for it, titled with that channel's partial dot
    product <patch_c, w_oc>. (image: the padded (3, H, W); filters: (C_out, 3, k, k).)"""
    partial = window.products.sum(axis=(1, 2))
    titles = ["the image", *(f"{c} channel" for c in CHANNELS), ""]
    titles += [f"filter {o + 1}, {c} slice: sum = {p:.3g}" for c, p in zip(CHANNELS, partial, strict=True)]
    fig = make_subplots(rows=2, cols=4, subplot_titles=titles, horizontal_spacing=0.04, vertical_spacing=0.1)
    fig.add_trace(go.Image(z=np.moveaxis(image, 0, -1) * 255, hoverinfo="skip"), row=1, col=1)
    box = _window_box(window)
    limit = float(np.abs(filters[o]).max()) or 1.0
    for c in range(3):
        fig.add_trace(
            go.Heatmap(
                z=image[c], colorscale=GREY, zmin=0, zmax=1, showscale=False, hovertemplate="%{z:.2f}"
            ),
            row=1,
            col=c + 2,
        )
        kernel = filters[o, c]
        k = kernel.shape[0]
        fig.add_trace(
            go.Heatmap(
                z=kernel, colorscale=DIVERGING, zmin=-limit, zmax=limit, showscale=False, hoverinfo="skip"
            ),
            row=2,
            col=c + 2,
        )
        fig.add_trace(_grid_text(k, kernel, ""), row=2, col=c + 2)
    for col in range(1, 5):
        fig.add_trace(go.Scatter(**box, mode="lines", line={"color": HIGHLIGHT, "width": 3}), row=1, col=col)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    for n in range(2, 9):
        fig.update_yaxes(scaleanchor=f"x{n}", row=(n - 1) // 4 + 1, col=(n - 1) % 4 + 1)
    fig.layout.xaxis5.visible = fig.layout.yaxis5.visible = False
    fig.update_annotations(font=FONT)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=False)
    return fig


def feature_maps_figure(
    output: np.ndarray, index: tuple[int, int], o: int, *, height: int = 230
) -> go.Figure:
    """Every filter's output map side by side (one colour scale each, centred on zero); the cell at
    `index` outlined in map o."""
    c_out = output.shape[0]
    fig = make_subplots(
        rows=1, cols=c_out, subplot_titles=[f"map {n + 1}" for n in range(c_out)], horizontal_spacing=0.02
    )
    for n in range(c_out):
        limit = float(np.abs(output[n]).max()) or 1.0
        fig.add_trace(
            go.Heatmap(
                z=output[n],
                colorscale=DIVERGING,
                zmin=-limit,
                zmax=limit,
                showscale=False,
                hovertemplate=f"map {n + 1}" + "[%{y}, %{x}] = %{z:.3g}<extra></extra>",
            ),
            row=1,
            col=n + 1,
        )
    i, j = index
    fig.add_trace(
        go.Scatter(**_outline(i, i, j, j), mode="lines", line={"color": HIGHLIGHT, "width": 3}),
        row=1,
        col=o + 1,
    )
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", constrain="domain")
    for n in range(1, c_out + 1):
        fig.update_yaxes(scaleanchor="x" if n == 1 else f"x{n}", row=1, col=n)
    fig.update_annotations(font=FONT)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=False)
    return fig


def text_figure(
    tokens: Sequence[str],
    x: np.ndarray,
    row_labels: Sequence[str],
    responses: Sequence[tuple[str, np.ndarray, float]],
    animate: int,
    width: int,
    *,
    frame_ms: int = 300,
    height: int = 560,
) -> go.Figure:
    """1D convolution over text: the encoded sentence (one column per position, one row per channel),
    the window of filter `animate` (width `width`) sliding along it, and each filter's output sequence.

    responses: (name, output sequence, centre offset) per filter; output t is drawn at position
    t + offset, the middle of its window, so it lines up with the text above.
    """
    fig = AnimatedFigure()
    make_subplots(
        figure=fig, rows=2, cols=1, shared_xaxes=True, row_heights=[0.55, 0.45], vertical_spacing=0.06
    )
    channels, length = x.shape
    fig.add_trace(
        go.Heatmap(
            z=x,
            x=np.arange(length),
            y=np.arange(channels),
            colorscale="Blues",
            showscale=False,
            opacity=0,  # drawn as a picture (see the module's docstring); kept for hovering
            hovertemplate="%{y}: %{z:.2f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    lo, hi = float(np.min(x)), float(np.max(x))
    fig.add_layout_image(_picture(x, "Blues", lo, hi, "x", "y"))
    palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
    for n, (name, y, offset) in enumerate(responses):
        fig.add_trace(
            go.Scatter(
                x=np.arange(len(y)) + offset,
                y=y,
                mode="lines+markers",
                name=name,
                line={"color": palette[n % len(palette)], "width": 2},
                marker={"size": 5},
            ),
            row=2,
            col=1,
        )
    _, sequence, offset = responses[animate]

    def moving(t: int) -> list[dict]:
        box = _outline(0, channels - 1, t + offset - (width - 1) / 2, t + offset + (width - 1) / 2)
        return [box, {"x": [t + offset], "y": [float(sequence[t])]}]

    first = moving(0)
    fig.add_trace(go.Scatter(**first[0], mode="lines", line={"color": HIGHLIGHT, "width": 3}), row=1, col=1)
    fig.add_trace(
        go.Scatter(
            **first[1],
            mode="markers",
            marker={"color": HIGHLIGHT, "size": 14, "line": {"color": "black", "width": 1}},
            showlegend=False,
        ),
        row=2,
        col=1,
    )
    fig.data[-2].showlegend = False
    fig.update_yaxes(
        autorange="reversed",
        showgrid=False,  # grid lines would cross the picture, which lies under them
        tickvals=np.arange(channels),
        ticktext=list(row_labels),
        tickfont={"size": 11},
        row=1,
        col=1,
    )
    fig.update_yaxes(title_text="filter output", row=2, col=1)
    fig.update_xaxes(
        tickvals=np.arange(length),
        ticktext=[t if t != " " else "␣" for t in tokens],
        tickfont={"size": 13},
        showticklabels=True,
        showgrid=False,
        row=1,
        col=1,
    )
    fig.update_xaxes(title_text="position", row=2, col=1)
    indices = [len(fig.data) - 2, len(fig.data) - 1]
    frames = [{"name": str(t), "traces": indices, "data": moving(t)} for t in range(len(sequence))]
    starts = [t + round(offset - (width - 1) / 2) for t in range(len(sequence))]
    labels = [f"{t}: '" + "".join(tokens[max(a, 0) : a + width]) + "'" for t, a in enumerate(starts)]
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 110},
        # Above the text's picture: between the panels it would cover the picture's last rows.
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        updatemenus=[play_pause(frame_ms, **PLAY_PLACEMENT)],
    )
    fig.set_animation(frames, _scrubber([str(t) for t in range(len(sequence))], labels, "window "))
    return fig
