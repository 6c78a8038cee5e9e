"""optviz.conv.backward_figures: the backward chart's data (where it opens, its colours) and the
shapes worked out, checked against the geometry and the library's own gradients."""

import re

import numpy as np
import plotly.colors
import pytest

from optviz import conv
from optviz.conv import backward_figures
from optviz.packing import decode


def _data(x, kernel, dy, stride=1, padding=0, dilation=1):
    g = conv.geometry(x.shape, kernel.shape, stride, padding, dilation)
    padded = conv.pad_input(x[None], g.pads)[0]
    return backward_figures.step_data(
        padded, g.pads, kernel, dy, stride=stride, dilation=dilation, frame_ms=40
    )


def test_the_data_carries_the_padded_input_dy_and_palettes_of_the_page_colour_scales():
    x = conv.pattern("square")
    dy = np.random.default_rng(0).normal(size=(8, 8))
    data = _data(x, conv.kernel_preset("Sobel x"), dy, stride=2, padding=1)
    assert np.allclose(decode(data["input"]["values"], "<f4").reshape(18, 18)[1:17, 1:17], x)
    assert data["inner"] == [1, 1, 16, 16] and data["inputRange"] == [0.0, 1.0]
    assert np.allclose(decode(data["dy"]["values"], "<f4").reshape(8, 8), dy, atol=1e-6)
    for name, scale in (("grey", "Greys_r"), ("diverging", "RdBu")):
        palette = decode(data["palettes"][name], "u1").reshape(-1, 3)
        assert len(palette) == backward_figures.PALETTE_SIZE
        for t in (0.0, 1.0):  # the colour scale's two ends
            end = plotly.colors.unlabel_rgb(plotly.colors.sample_colorscale(scale, [t])[0])
            assert np.allclose(palette[round(t * (len(palette) - 1))], end, atol=1)


def test_the_chart_opens_on_a_window_over_the_picture_or_on_the_one_cell():
    x = np.zeros((12, 12))
    x[6:9, 7:10] = 1.0
    kernel = conv.kernel_preset("box blur")
    assert _data(x, kernel, np.ones((10, 10)))["openStep"] == 4 * 10 + 5  # the first window touching ink
    one = np.zeros((10, 10))
    one[1, 2] = 1.0
    assert _data(x, kernel, one)["openStep"] == 1 * 10 + 2  # a window on no ink: still that cell
    one[7, 7] = 1.0
    assert _data(x, kernel, one)["openStep"] == 7 * 10 + 7  # of the cells with a gradient, one on ink
    assert _data(x, kernel, np.ones((5, 5)), stride=2)["openStep"] == 2 * 5 + 3  # windows 2 apart


@pytest.mark.parametrize(
    "n, k, stride, padding, dilation, sizes, labels",
    [
        (28, 3, 1, 0, 1, [26, 26, 30, 28, 28], ["s = 1", "pad }2", "crop }0"]),
        (28, 3, 2, 1, 2, [13, 25, 33, 29, 30, 28], ["s = 2", "pad }4", "+1", "crop }1"]),
        (16, 5, 3, "same", 1, [6, 16, 24, 20, 16], ["s = 3", "pad }4", "crop }2"]),
    ],
)
def test_the_shapes_are_worked_out_with_the_numbers(n, k, stride, padding, dilation, sizes, labels):
    """dL/dY has the output's shape, dL/dK the kernel's, dL/dX the input's (checked against
    conv2d_backward); dL/dX's way: dy spread by s, padded by d (k - 1), the full convolution, the
    cells never read (when there are), the crop."""
    args = {"stride": stride, "padding": padding, "dilation": dilation}
    table, way = backward_figures.shapes_latex((n, n), (k, k), **args)
    out = conv.geometry((n, n), (k, k), **args).out_shape
    dy = np.ones((1, *out))
    dx, dw = conv.conv2d_backward(np.ones((1, n, n)), np.ones((1, 1, k, k)), dy, **args)
    body = re.sub(r"\\(begin|end)\{array\}(\{lll\})?", "", table)
    shapes = dict(row.split(" & ")[:2] for row in body.split(r" \\ "))
    times = r"\times".join
    assert shapes[r"\partial L/\partial Y"] == times(map(str, dy.shape))
    assert shapes[r"\partial L/\partial K = X_\text{pad} \star \partial L/\partial Y"] == times(
        map(str, dw.shape)
    )
    assert shapes[r"\partial L/\partial X"] == times(map(str, dx.shape))
    assert f"a sum of {out[0] * out[1]} products" in table
    assert [int(m) for m in re.findall(r"(\d+)\\times\1", way)] == sizes
    assert all(label in way for label in labels)
    assert ("unread" in way) == (len(sizes) == 6)
