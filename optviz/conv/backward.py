"""The backward pass of a 2D convolution, computed as the lesson states it: two more convolutions.

Layouts as in `conv2d` (PyTorch without the batch axis): x (C_in, H, W), w (C_out, C_in, kh, kw), the
upstream gradient dy = dL/dY (C_out, H_out, W_out). With stride s, dilation d and x_pad the zero-padded
input, the forward pass is

    y[o, i, j] = sum_c sum_u sum_v  w[o, c, u, v] * x_pad[c, i s + u d, j s + v d]

so each product w[o, c, u, v] * x_pad[...] passes dy[o, i, j] back to both of its factors:

    dL/dK:  dw[o, c, u, v] = sum_i sum_j  dy[o, i, j] * x_pad[c, i s + u d, j s + v d]
            the padded input correlated with dy, dy's cells s apart and the window stepping by d:
            (C_out, C_in, kh, kw), the kernel's shape;
    dL/dX:  dx_pad[c, r, q] = sum of dy[o, i, j] * w[o, c, u, v] over every (o, i, j, u, v) with
            i s + u d = r and j s + v d = q: dy with s - 1 zeros between its cells (the gaps),
            padded by d (k - 1) all round, correlated with the kernel flipped in both axes (and
            dilated by d): the *full* convolution of the spread-out dy with the kernel, a transposed
            convolution. Cropping the padding gives dx (C_in, H, W), the input's shape; rows and
            columns the forward pass never read (when s does not divide the padded size) get zero.

`conv2d_backward` computes both with `lax.conv_general_dilated`, compiled once per shape and geometry
(new data of the same shapes reuses the compiled function); `backward_steps` is the same sums as loops,
one output cell at a time, as the page animates them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from optviz.conv.model import Geometry, Padding, geometry, pad_input


def _check(x, w, dy, stride, padding, dilation) -> tuple[np.ndarray, np.ndarray, np.ndarray, Geometry]:
    """The arrays and the forward geometry; a ValueError says in a sentence what does not fit."""
    x, w, dy = np.asarray(x, dtype=float), np.asarray(w, dtype=float), np.asarray(dy, dtype=float)
    if x.ndim != 3 or w.ndim != 4:
        raise ValueError(
            "expected x of shape (C_in, H, W) and w of shape (C_out, C_in, kh, kw), "
            f"got {x.shape} and {w.shape}"
        )
    if x.shape[0] != w.shape[1]:
        raise ValueError(f"x has {x.shape[0]} channels but the filters expect {w.shape[1]}")
    g = geometry(x.shape[1:], w.shape[2:], stride, padding, dilation)
    expected = (w.shape[0], *g.out_shape)
    if dy.shape != expected:
        raise ValueError(
            f"the upstream gradient dL/dY must have the forward output's shape (C_out, H_out, W_out) = "
            f"{expected}, got {dy.shape}"
        )
    return x, w, dy, g


@partial(jax.jit, static_argnames=("stride", "dilation", "pads"))
def _backward_compiled(x, w, dy, stride, dilation, pads):
    """(dx, dw) by two lax convolutions (see the module's docstring); every size is static."""
    kernel = w.shape[2:]
    padded = [n + lo + hi for n, (lo, hi) in zip(x.shape[1:], pads, strict=True)]
    # dw: the input's channels as the batch, dy's filters as the output channels: out[c, o, u, v].
    dw = lax.conv_general_dilated(
        x[:, None], dy[:, None], window_strides=dilation, padding=pads, rhs_dilation=stride
    )
    dw = dw[:, :, : kernel[0], : kernel[1]].transpose(1, 0, 2, 3)  # windows past the kernel: dropped
    # dx: dy spread out by the stride, padded by d (k - 1) (plus the cells the forward never reached),
    # against the flipped kernel with its channel axes swapped: (C_in, C_out, kh, kw).
    full = []
    for n, k, s, d, m in zip(padded, kernel, stride, dilation, dy.shape[1:], strict=True):
        reach = d * (k - 1)
        full.append((reach, reach + n - (s * (m - 1) + reach + 1)))
    flipped = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    dx_pad = lax.conv_general_dilated(
        dy[None], flipped, window_strides=(1, 1), padding=full, lhs_dilation=stride, rhs_dilation=dilation
    )[0]
    (top, _), (left, _) = pads
    return dx_pad[:, top : top + x.shape[1], left : left + x.shape[2]], dw


def conv2d_backward(x, w, dy, *, stride=1, padding: Padding = 0, dilation=1) -> tuple[np.ndarray, np.ndarray]:
    """(dL/dX, dL/dK) of `conv2d(x, w, stride=..., padding=..., dilation=...)` given dy = dL/dY, as NumPy.

    x (C_in, H, W), w (C_out, C_in, kh, kw), dy (C_out, H_out, W_out) -> dx (C_in, H, W) and
    dw (C_out, C_in, kh, kw). dw is the padded input correlated with dy; dx is the full (transposed)
    convolution of dy, its cells spread s apart, with the flipped kernel, cropped by the padding
    (formulas in the module's docstring). Equals what `jax.vjp` of the forward pass (or PyTorch's
    autograd) returns. A dy of another shape than the forward output is a ValueError.
    """
    x, w, dy, g = _check(x, w, dy, stride, padding, dilation)
    dtype = jnp.result_type(float)  # float64 when JAX's x64 mode is on, else float32
    dx, dw = _backward_compiled(
        jnp.asarray(x, dtype), jnp.asarray(w, dtype), jnp.asarray(dy, dtype), g.stride, g.dilation, g.pads
    )
    return np.asarray(dx), np.asarray(dw)


UPSTREAM = ("ones", "random", "one cell")  # the upstream gradients dL/dY the page offers


def upstream(kind: str, shape: tuple[int, ...], *, seed: int = 0, cell: tuple[int, ...] = ()) -> np.ndarray:
    """An upstream gradient dL/dY of `shape` (C_out, H_out, W_out): "ones" (the gradient of
    L = sum(Y)), "random" (standard normal, from `seed`) or "one cell" (1 at `cell`, the gradient of
    L = Y[cell]; a cell outside the output is a ValueError)."""
    if kind == "ones":
        return np.ones(shape)
    if kind == "random":
        return np.random.default_rng(seed).normal(size=shape)
    if kind != "one cell":
        raise ValueError(f"unknown upstream gradient {kind!r}; choose one of {', '.join(UPSTREAM)}")
    if len(cell) != len(shape) or not all(0 <= c < n for c, n in zip(cell, shape, strict=True)):
        raise ValueError(f"the cell {tuple(cell)} is outside the output of shape {tuple(shape)}")
    dy = np.zeros(shape)
    dy[tuple(cell)] = 1.0
    return dy


@dataclass(frozen=True)
class BackwardStep:
    """One output cell's share of the backward pass, and the two gradients after it.

    index (o, i, j): the output cell; dy: dL/dY there; taps: where each kernel cell (u, v) landed in
    the padded input, shape (kh, kw, 2); patch: the input under the window (C_in, kh, kw). This step
    adds dy * patch to dw[o] and dy * w[o] to dx_pad at the taps: dw and dx_pad are the sums so far,
    dx_pad on the padded input (what lands on the padding is cropped away at the end: dx).
    """

    index: tuple[int, int, int]
    dy: float
    taps: np.ndarray
    patch: np.ndarray
    dw: np.ndarray
    dx_pad: np.ndarray
    pads: tuple[tuple[int, int], tuple[int, int]]

    @property
    def dx(self) -> np.ndarray:
        """dL/dX so far: dx_pad without the padding, (C_in, H, W)."""
        (top, bottom), (left, right) = self.pads
        rows, cols = self.dx_pad.shape[1:]
        return self.dx_pad[:, top : rows - bottom, left : cols - right]


def backward_steps(x, w, dy, *, stride=1, padding: Padding = 0, dilation=1) -> Iterator[BackwardStep]:
    """The backward pass as loops, one output cell at a time in reading order (filter by filter): the
    definition the page animates. The last step's dw and dx equal `conv2d_backward`'s."""
    x, w, dy, g = _check(x, w, dy, stride, padding, dilation)
    x_pad = pad_input(x, g.pads)
    offsets = np.stack(np.indices(w.shape[2:]), axis=-1) * np.array(g.dilation)  # (kh, kw, 2)
    dw, dx_pad = np.zeros_like(w), np.zeros_like(x_pad)
    for o, i, j in np.ndindex(*dy.shape):
        taps = np.array([i, j]) * np.array(g.stride) + offsets
        rows, cols = taps[..., 0], taps[..., 1]
        patch = x_pad[:, rows, cols]
        dw[o] += dy[o, i, j] * patch
        dx_pad[:, rows, cols] += dy[o, i, j] * w[o]  # a window's taps are distinct cells
        yield BackwardStep((o, i, j), float(dy[o, i, j]), taps, patch, dw.copy(), dx_pad.copy(), g.pads)


__all__ = ["UPSTREAM", "BackwardStep", "backward_steps", "conv2d_backward", "upstream"]
