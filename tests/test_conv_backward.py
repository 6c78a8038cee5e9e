"""optviz.conv.backward against independent references: `jax.vjp` of the forward convolution (the
same lax call `conv.conv2d` makes), a plain NumPy loop, and its own step-by-step loop."""

import itertools

import jax
import numpy as np
import pytest

from optviz import conv
from optviz.conv import backward, model

GEOMETRIES = list(itertools.product([1, 2, (2, 1)], [0, 1, "same"], [1, 2]))  # stride, padding, dilation


def _case(stride, padding, dilation, c_in=2, c_out=3, size=(9, 8), kernel=(3, 3), seed=0):
    """A random input, filters and upstream gradient of the forward output's shape."""
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=(c_in, *size)), rng.normal(size=(c_out, c_in, *kernel))
    out = conv.geometry(size, kernel, stride, padding, dilation).out_shape
    return x, w, rng.normal(size=(c_out, *out))


def _loop(x, w, dy, stride, padding, dilation):
    """The backward pass by its definition, in float64: for every output cell (o, i, j) and kernel
    cell (u, v), the product w[o, c, u, v] * x_pad[c, r, q] with r = i s + u d, q = j s + v d passes
    dy[o, i, j] on to both factors."""
    g = conv.geometry(x.shape[1:], w.shape[2:], stride, padding, dilation)
    (sr, sc), (dr, dc) = g.stride, g.dilation
    x_pad = conv.pad_input(x, g.pads)
    dw, dx_pad = np.zeros_like(w), np.zeros_like(x_pad)
    c_out, _, kh, kw = w.shape
    for o, i, j, u, v in itertools.product(range(c_out), *map(range, g.out_shape), range(kh), range(kw)):
        r, q = i * sr + u * dr, j * sc + v * dc
        dw[o, :, u, v] += dy[o, i, j] * x_pad[:, r, q]
        dx_pad[:, r, q] += dy[o, i, j] * w[o, :, u, v]
    (top, _), (left, _) = g.pads
    return dx_pad[:, top : top + x.shape[1], left : left + x.shape[2]], dw


@pytest.mark.parametrize("stride, padding, dilation", GEOMETRIES)
def test_conv2d_backward_equals_jax_vjp_of_the_forward_convolution(stride, padding, dilation):
    x, w, dy = _case(stride, padding, dilation)
    g = conv.geometry(x.shape[1:], w.shape[2:], stride, padding, dilation)
    bias = np.zeros(w.shape[0], np.float32)

    def forward(x, w):  # conv.conv2d's own compiled lax call
        return model._conv_compiled(x, w, bias, g.stride, g.dilation, g.pads)

    y, pullback = jax.vjp(forward, x.astype(np.float32), w.astype(np.float32))
    assert np.allclose(y, conv.conv2d(x, w, stride=stride, padding=padding, dilation=dilation), atol=1e-5)
    dx_ref, dw_ref = pullback(dy.astype(np.float32))
    dx, dw = conv.conv2d_backward(x, w, dy, stride=stride, padding=padding, dilation=dilation)
    assert dx.shape == x.shape and dw.shape == w.shape
    assert np.allclose(dx, dx_ref, atol=1e-5) and np.allclose(dw, dw_ref, atol=1e-5)


MORE = [(3, 2, 1), (2, 0, 3), ((1, 3), 1, (2, 1))]  # strides that skip cells, wide dilations


@pytest.mark.parametrize("stride, padding, dilation", [*GEOMETRIES, *MORE])
def test_conv2d_backward_equals_the_plain_loop(stride, padding, dilation):
    x, w, dy = _case(stride, padding, dilation, size=(10, 11), seed=1)
    dx_ref, dw_ref = _loop(x, w, dy, stride, padding, dilation)
    dx, dw = conv.conv2d_backward(x, w, dy, stride=stride, padding=padding, dilation=dilation)
    assert np.allclose(dx, dx_ref, atol=1e-4) and np.allclose(dw, dw_ref, atol=1e-4)


@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, 1, 1), ((2, 1), "same", 2)])
def test_the_steps_go_through_the_output_in_reading_order_and_end_at_the_gradients(stride, padding, dilation):
    x, w, dy = _case(stride, padding, dilation, c_out=2)
    steps = list(conv.backward_steps(x, w, dy, stride=stride, padding=padding, dilation=dilation))
    assert [s.index for s in steps] == list(np.ndindex(*dy.shape))
    assert [s.dy for s in steps] == dy.ravel().tolist()
    dx, dw = conv.conv2d_backward(x, w, dy, stride=stride, padding=padding, dilation=dilation)
    assert np.allclose(steps[-1].dx, dx, atol=1e-5) and np.allclose(steps[-1].dw, dw, atol=1e-5)
    # Each step adds dy * patch to dw[o] and dy * w[o] onto its window's taps in dx_pad.
    before, step = steps[4], steps[5]
    o = step.index[0]
    assert np.allclose(step.dw[o] - before.dw[o], step.dy * step.patch)
    added = step.dx_pad - before.dx_pad
    rows, cols = step.taps[..., 0], step.taps[..., 1]
    assert np.allclose(added[:, rows, cols], step.dy * w[o])
    added[:, rows, cols] = 0
    assert not added.any()


def test_one_gradient_cell_spreads_onto_its_window_only_with_gaps_at_stride_two():
    """dy = 1 at one cell: dx is the kernel laid on that cell's window (its taps, d apart), dw is the
    input under it. With stride 2 and a 1 x 1 kernel, dy of ones reaches every other row and column
    only: the transposed convolution's gaps."""
    x = np.random.default_rng(2).normal(size=(1, 9, 9))
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    dy = np.zeros((1, 3, 3))
    dy[0, 1, 2] = 1.0
    dx, dw = conv.conv2d_backward(x, w, dy, stride=2, dilation=2)
    (step,) = [s for s in conv.backward_steps(x, w, dy, stride=2, dilation=2) if s.dy]
    rows, cols = step.taps[..., 0], step.taps[..., 1]  # no padding: padded and plain coincide
    assert rows[:, 0].tolist() == [2, 4, 6] and cols[0].tolist() == [4, 6, 8]
    expected = np.zeros_like(dx)
    expected[0, rows, cols] = w[0, 0]
    assert np.allclose(dx, expected)
    assert np.allclose(dw[0, 0], x[0, rows, cols], atol=1e-6)

    dx, _ = conv.conv2d_backward(x, np.ones((1, 1, 1, 1)), np.ones((1, 5, 5)), stride=2)
    assert (dx[0, ::2, ::2] == 1).all() and not dx[0, 1::2].any() and not dx[0, :, 1::2].any()


def test_cells_the_forward_pass_never_read_get_no_gradient():
    """Stride 3 along 6 columns with a 2-wide kernel reads columns 0-1 and 3-4: column 2, between the
    windows, and column 5, past the last one, get zero."""
    x = np.ones((1, 2, 6))
    dx, _ = conv.conv2d_backward(x, np.ones((1, 1, 1, 2)), np.ones((1, 2, 2)), stride=(1, 3))
    assert dx[0].tolist() == [[1, 1, 0, 1, 1, 0]] * 2


@pytest.mark.parametrize(
    "x_shape, w_shape, dy_shape, message",
    [
        ((1, 6, 6), (1, 1, 3, 3), (1, 3, 4), r"forward output's shape .* = \(1, 4, 4\), got \(1, 3, 4\)"),
        ((1, 6, 6), (2, 1, 3, 3), (1, 4, 4), r"= \(2, 4, 4\), got \(1, 4, 4\)"),
        ((2, 6, 6), (1, 1, 3, 3), (1, 4, 4), "x has 2 channels but the filters expect 1"),
        ((6, 6), (1, 1, 3, 3), (1, 4, 4), r"expected x of shape \(C_in, H, W\)"),
        ((1, 2, 2), (1, 1, 3, 3), (1, 1, 1), "it fits nowhere"),
    ],
)
def test_shapes_that_do_not_match_say_what_is_wrong(x_shape, w_shape, dy_shape, message):
    with pytest.raises(ValueError, match=message):
        conv.conv2d_backward(np.ones(x_shape), np.ones(w_shape), np.ones(dy_shape))
    with pytest.raises(ValueError, match=message):
        next(conv.backward_steps(np.ones(x_shape), np.ones(w_shape), np.ones(dy_shape)))


def test_new_data_of_the_same_shapes_does_not_recompile():
    x, w, dy = _case(2, 1, 1, size=(13, 13), seed=3)
    conv.conv2d_backward(x, w, dy, stride=2, padding=1)
    compiled = backward._backward_compiled._cache_size()
    for seed in range(4, 8):
        x, w, dy = _case(2, 1, 1, size=(13, 13), seed=seed)
        conv.conv2d_backward(x, w, dy, stride=2, padding=1)
    assert backward._backward_compiled._cache_size() == compiled
    conv.conv2d_backward(x, w, dy[:, :6, :6], stride=2, padding=0)  # another geometry: compiled once more
    assert backward._backward_compiled._cache_size() == compiled + 1


def test_upstream_gradients_are_ones_seeded_noise_or_one_cell():
    assert (conv.upstream("ones", (1, 3, 4)) == 1).all()
    random = conv.upstream("random", (2, 3, 3), seed=4)
    assert np.array_equal(random, conv.upstream("random", (2, 3, 3), seed=4)) and random.std() > 0.3
    one = conv.upstream("one cell", (1, 3, 4), cell=(0, 2, 3))
    assert one[0, 2, 3] == 1 and one.sum() == 1
    with pytest.raises(ValueError, match=r"the cell \(0, 3, 0\) is outside the output of shape \(1, 3, 4\)"):
        conv.upstream("one cell", (1, 3, 4), cell=(0, 3, 0))
    with pytest.raises(
        ValueError, match="unknown upstream gradient 'zeros'; choose one of ones, random, one cell"
    ):
        conv.upstream("zeros", (1, 3, 4))
