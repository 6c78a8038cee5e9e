"""What the convolution page's backward-pass tab draws: data in, data out. No Streamlit, no gradients.

`step_data` packs one channel and one filter for the canvas component optviz/ui/conv_backward_steps,
which works every step out in the browser by the definition `conv.backward_steps` states (its
browser test holds it to that, and its last step to `conv.conv2d_backward`); `shapes_latex` writes
out the shapes of x, K, dL/dY (Y's), dL/dK and dL/dX with the page's numbers.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import plotly.colors
from numpy.lib.stride_tricks import sliding_window_view

from optviz.conv.model import geometry
from optviz.packing import encode

HIGHLIGHT = "#E69F00"  # the window and its output cell (Okabe & Ito orange), as on the forward tab
PALETTE_SIZE = 256


@cache
def _palette(colorscale: str) -> str:
    """PALETTE_SIZE colours sampled evenly along a Plotly colour scale, packed as RGB bytes: the
    browser colours each cell as a Plotly heatmap with that scale would (the gradients change at
    every step, so their pictures are coloured there)."""
    colours = plotly.colors.sample_colorscale(
        plotly.colors.get_colorscale(colorscale), np.linspace(0.0, 1.0, PALETTE_SIZE).tolist()
    )
    return encode(np.array([plotly.colors.unlabel_rgb(c) for c in colours]).round(), "u1")


def open_step(padded: np.ndarray, kernel_shape, dy: np.ndarray, *, stride: int, dilation: int) -> int:
    """Where the chart opens (and comes back to, in a slide): the first output cell in reading order
    with a gradient whose window touches the picture (a pixel at least half the brightest), else the
    first cell with a gradient (a "one cell" gradient: that cell), else 0."""
    span = [dilation * (k - 1) + 1 for k in kernel_shape]
    taps = sliding_window_view(padded, span)[::stride, ::stride, ::dilation, ::dilation]  # (*dy.shape, k, k)
    reach = taps.max(axis=(2, 3))
    flowing = dy != 0
    on_picture = flowing & (reach >= 0.5 * padded.max())
    return int(np.argmax(on_picture if on_picture.any() else flowing))


def step_data(
    padded: np.ndarray,
    pads: tuple[tuple[int, int], tuple[int, int]],
    kernel: np.ndarray,
    dy: np.ndarray,
    *,
    stride: int,
    dilation: int,
    frame_ms: int,
) -> dict:
    """What the backward chart draws for one channel and one filter: the zero-padded input (its
    values, packed float32, and their range), where the image lies inside the padding, the kernel,
    the upstream gradient dy = dL/dY (packed float32, the forward output's shape), the stride and
    dilation, and the colour palettes (grey for the input, red-blue for the gradients).

    At step n (output cell (i, j) in reading order) the chart adds dy[i, j] * patch to dL/dK and
    dy[i, j] * kernel to dL/dX on the window's taps (i s + u d, j s + v d), summing every step so far:
    `conv.backward_steps`, worked out in the browser. Nothing per step crosses the wire.
    """
    (top, bottom), (left, right) = pads
    return {
        "openStep": open_step(padded, kernel.shape, dy, stride=stride, dilation=dilation),
        "input": _values(padded),
        "inputRange": [min(float(padded.min()), 0.0), max(float(padded.max()), 1.0)],
        "inner": [top, left, padded.shape[0] - top - bottom, padded.shape[1] - left - right],
        "kernel": {"k": int(kernel.shape[0]), "values": np.asarray(kernel, float).ravel().tolist()},
        "dy": _values(dy),
        "stride": int(stride),
        "dilation": int(dilation),
        "frameMs": int(frame_ms),
        "highlight": HIGHLIGHT,
        "palettes": {"grey": _palette("Greys_r"), "diverging": _palette("RdBu")},
    }


def _values(z: np.ndarray) -> dict:
    return {"rows": int(z.shape[0]), "cols": int(z.shape[1]), "values": encode(z, "<f4")}


def _shape(*sizes) -> str:
    return r"\times".join(str(int(n)) for n in sizes)


def _number(values) -> str:
    """One per axis: the value once when the axes agree, else the values in parentheses."""
    values = [str(v) for v in values]
    return values[0] if len(set(values)) == 1 else "(" + ", ".join(values) + ")"


def shapes_latex(
    in_shape, kernel_shape, *, c_in: int = 1, c_out: int = 1, stride=1, padding=0, dilation=1
) -> list[str]:
    """The shapes of x, the kernel K, dL/dY, dL/dK and dL/dX worked out with these numbers (in_shape
    and kernel_shape: (rows, columns); stride and dilation: an int or a pair), as two LaTeX lines: a
    table of the five shapes, and dL/dX's way through the transposed convolution (dy spread by the
    stride, padded by d (k - 1), convolved with the flipped kernel, the unread cells added, cropped).

    dL/dY has the forward output's shape, dL/dK the kernel's, dL/dX the input's. Axis by axis: dy's
    m cells spread s apart fill s (m - 1) + 1; padded by d (k - 1) on both sides, a full convolution
    with the flipped kernel leaves s (m - 1) + 1 + d (k - 1), which is the padded input's size less
    the cells the forward pass never read (zeros there); cropping the padding leaves n.
    """
    g = geometry(in_shape, kernel_shape, stride, padding, dilation)
    padded = [n + lo + hi for n, (lo, hi) in zip(in_shape, g.pads, strict=True)]
    spread = [s * (m - 1) + 1 for s, m in zip(g.stride, g.out_shape, strict=True)]
    reach = [d * (k - 1) for d, k in zip(g.dilation, kernel_shape, strict=True)]
    full = [a + 2 * r for a, r in zip(spread, reach, strict=True)]
    kept = [a + r for a, r in zip(spread, reach, strict=True)]
    unread = [p - c for p, c in zip(padded, kept, strict=True)]
    pads = _number([f"{lo}" if lo == hi else f"{lo}+{hi}" for lo, hi in g.pads])
    products = int(np.prod(g.out_shape)) * c_out
    rows = [
        ("X", _shape(c_in, *in_shape), rf"\text{{padded by }}p = {pads}\text{{: }}{_shape(c_in, *padded)}"),
        ("K", _shape(c_out, c_in, *kernel_shape), r"C_\text{out}\times C_\text{in}\times k\times k"),
        (
            r"\partial L/\partial Y",
            _shape(c_out, *g.out_shape),
            r"\text{the shape of }Y\text{: one gradient per output cell}",
        ),
        (
            r"\partial L/\partial K = X_\text{pad} \star \partial L/\partial Y",
            _shape(c_out, c_in, *kernel_shape),
            rf"\text{{the shape of }}K\text{{: each entry a sum of {products} products}}",
        ),
        (
            r"\partial L/\partial X",
            _shape(c_in, *in_shape),
            r"\text{the shape of }X\text{, by a transposed convolution:}",
        ),
    ]
    table = r"\begin{array}{lll}" + r" \\ ".join(" & ".join(row) for row in rows) + r"\end{array}"
    path = (
        rf"{_shape(*g.out_shape)}\xrightarrow{{\text{{spread }}s = {_number(g.stride)}}}{_shape(*spread)}"
        rf"\xrightarrow{{\text{{pad }}{_number(reach)}}}{_shape(*full)}"
        rf"\xrightarrow{{\ast\,\operatorname{{rot180}}(K)}}{_shape(*kept)}"
        + (rf"\xrightarrow{{+{_number(unread)}\text{{ unread}}}}{_shape(*padded)}" if any(unread) else "")
        + rf"\xrightarrow{{\text{{crop }}{pads}}}{_shape(*in_shape)}"
    )
    return [table, path]
