"""The convolution lesson's math: 2D and 1D convolution in JAX, and a plain loop that shows its work.

Layouts follow PyTorch without the batch axis: a 2D input x is (C_in, H, W), the weights w are
(C_out, C_in, kh, kw) and the output is (C_out, H_out, W_out); in 1D, x is (C_in, L), w is
(C_out, C_in, k) and the output (C_out, L_out). Each output cell is a cross-correlation, as in every
deep-learning library:

    y[o, i, j] = b[o] + sum_c sum_u sum_v  w[o, c, u, v] * x_pad[c, i*s + u*d, j*s + v*d]

(stride s, dilation d, x_pad the zero-padded input). Flipping the kernel in both axes gives the
textbook convolution. Along each axis the output has floor((n + 2p - d(k - 1) - 1) / s) + 1 cells.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from optviz.text import quote

Padding = int | str  # zero padding on every side, or "same"

# --- sizes and padding ------------------------------------------------------------------------------


def output_size(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Output cells along one axis: floor((n + 2p - d(k - 1) - 1) / s) + 1 (may be <= 0: nothing fits).

    n input cells, kernel size k, stride s, zero padding p on each side, dilation d.
    """
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def padding_amounts(padding: Padding, k: int, d: int = 1) -> tuple[int, int]:
    """Zeros added (before, after) along one axis. "same" adds d(k - 1) in total, the extra one after
    when that is odd (PyTorch's rule), so that a stride-1 output has the input's size."""
    if padding == "same":
        total = d * (k - 1)
        return total // 2, total - total // 2
    if isinstance(padding, str) or padding < 0:
        raise ValueError(f'padding must be a non-negative integer or "same", not {padding!r}')
    return int(padding), int(padding)


def _per_axis(value: int | Sequence[int], ndim: int, name: str) -> tuple[int, ...]:
    values = (value,) * ndim if isinstance(value, int | np.integer) else tuple(value)
    if len(values) != ndim or any(int(v) < 1 for v in values):
        raise ValueError(f"{name} must be a positive integer (or one per axis), not {value!r}")
    return tuple(int(v) for v in values)


@dataclass(frozen=True)
class Geometry:
    """Where a kernel goes: per spatial axis, the stride, dilation, padding (before, after), output size."""

    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    out_shape: tuple[int, ...]


def geometry(in_shape, kernel_shape, stride=1, padding: Padding = 0, dilation=1) -> Geometry:
    """Check the arguments and work out the output shape; a ValueError says what does not fit."""
    ndim = len(in_shape)
    stride = _per_axis(stride, ndim, "stride")
    dilation = _per_axis(dilation, ndim, "dilation")
    pads = tuple(padding_amounts(padding, k, d) for k, d in zip(kernel_shape, dilation, strict=True))
    out_shape = tuple(
        (n + lo + hi - d * (k - 1) - 1) // s + 1
        for n, k, s, d, (lo, hi) in zip(in_shape, kernel_shape, stride, dilation, pads, strict=True)
    )
    for n, k, d, (lo, hi), m in zip(in_shape, kernel_shape, dilation, pads, out_shape, strict=True):
        if m < 1:
            raise ValueError(
                f"the kernel spans d(k - 1) + 1 = {d * (k - 1) + 1} cells but the padded input has only "
                f"{n + lo + hi}: it fits nowhere"
            )
    return Geometry(stride, dilation, pads, out_shape)


def _check(x, w, bias, spatial: int):
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim != spatial + 1 or w.ndim != spatial + 2:
        raise ValueError(
            f"expected x with {spatial + 1} axes (C_in, ...) and w with {spatial + 2} (C_out, C_in, ...), "
            f"got shapes {x.shape} and {w.shape}"
        )
    if x.shape[0] != w.shape[1]:
        raise ValueError(f"x has {x.shape[0]} channels but the filters expect {w.shape[1]}")
    bias = np.zeros(w.shape[0]) if bias is None else np.asarray(bias, dtype=float)
    if bias.shape != (w.shape[0],):
        raise ValueError(f"bias must have one value per filter ({w.shape[0]}), got shape {bias.shape}")
    return x, w, bias


# --- the JAX version ----------------------------------------------------------------------------------


@partial(jax.jit, static_argnames=("stride", "dilation", "pads"))
def _conv_compiled(x, w, bias, stride, dilation, pads):
    """lax.conv_general_dilated on one batch item; its default layouts are (N, C, ...) and (O, I, ...)."""
    y = lax.conv_general_dilated(x[None], w, stride, pads, rhs_dilation=dilation)[0]
    return y + bias.reshape((-1,) + (1,) * (y.ndim - 1))


def _conv(x, w, stride, padding, dilation, bias, spatial: int) -> np.ndarray:
    x, w, bias = _check(x, w, bias, spatial)
    g = geometry(x.shape[1:], w.shape[2:], stride, padding, dilation)
    dtype = jnp.result_type(float)  # float64 when JAX's x64 mode is on, else float32
    y = _conv_compiled(
        jnp.asarray(x, dtype), jnp.asarray(w, dtype), jnp.asarray(bias, dtype), g.stride, g.dilation, g.pads
    )
    return np.asarray(y)


def conv2d(x, w, *, stride=1, padding: Padding = 0, dilation=1, bias=None) -> np.ndarray:
    """2D cross-correlation: x (C_in, H, W), w (C_out, C_in, kh, kw) -> (C_out, H_out, W_out), as NumPy.

    Equals torch.nn.functional.conv2d(x[None], w, bias, stride, padding, dilation)[0]. stride and
    dilation are an int or a (rows, columns) pair; padding an int or "same".
    """
    return _conv(x, w, stride, padding, dilation, bias, spatial=2)


def conv1d(x, w, *, stride=1, padding: Padding = 0, dilation=1, bias=None) -> np.ndarray:
    """1D cross-correlation: x (C_in, L), w (C_out, C_in, k) -> (C_out, L_out), as NumPy.

    Equals torch.nn.functional.conv1d(x[None], w, bias, stride, padding, dilation)[0].
    """
    return _conv(x, w, stride, padding, dilation, bias, spatial=1)


# --- the explicit loop, which shows its work ---------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """One output cell of one filter, worked out: y[index] = sum(products) + bias.

    taps: for each kernel cell, its position in the padded input, shape (*kernel_shape, ndim);
    patch: the input values under the kernel (C_in, *kernel_shape); products = patch * w[o].
    """

    index: tuple[int, ...]
    taps: np.ndarray
    patch: np.ndarray
    products: np.ndarray
    bias: float
    value: float


def pad_input(x: np.ndarray, pads) -> np.ndarray:
    """x (C, *spatial) with zeros added around its spatial axes."""
    return np.pad(np.asarray(x, dtype=float), ((0, 0), *pads))


def windows(x, w, *, stride=1, padding: Padding = 0, dilation=1, bias=None, o: int = 0) -> Iterator[Window]:
    """Filter o's output cells one by one, in reading order, each with its patch, products and sum.

    This is the definition, written as loops: the kernel cell u lands on padded-input cell
    index * s + u * d.
    """
    spatial = np.ndim(w) - 2
    x, w, bias = _check(x, w, bias, spatial)
    g = geometry(x.shape[1:], w.shape[2:], stride, padding, dilation)
    x_pad = pad_input(x, g.pads)
    offsets = np.stack(np.indices(w.shape[2:]), axis=-1) * np.array(g.dilation)  # (*k, ndim)
    channels = np.arange(x.shape[0]).reshape((-1,) + (1,) * spatial)
    for index in np.ndindex(*g.out_shape):
        taps = np.array(index) * np.array(g.stride) + offsets
        patch = x_pad[(channels, *np.moveaxis(taps, -1, 0))]
        products = patch * w[o]
        yield Window(index, taps, patch, products, float(bias[o]), float(products.sum() + bias[o]))


def conv_loop(x, w, *, stride=1, padding: Padding = 0, dilation=1, bias=None) -> np.ndarray:
    """The same result as conv2d / conv1d (by the number of axes of x), computed by plain loops."""
    x, w, bias = _check(x, w, bias, np.ndim(w) - 2)
    g = geometry(x.shape[1:], w.shape[2:], stride, padding, dilation)
    y = np.empty((w.shape[0], *g.out_shape))
    for o in range(w.shape[0]):
        for window in windows(x, w, stride=stride, padding=padding, dilation=dilation, bias=bias, o=o):
            y[(o, *window.index)] = window.value
    return y


# --- kernels ----------------------------------------------------------------------------------------

KERNEL_SIZES = (3, 5)


def _binomial(k: int) -> np.ndarray:
    """Pascal's row k - 1: [1, 2, 1], [1, 4, 6, 4, 1] (a discrete Gaussian)."""
    return np.array([math.comb(k - 1, i) for i in range(k)], dtype=float)


def _derivative(k: int) -> np.ndarray:
    """A central difference smoothed to width k: [-1, 0, 1], [-1, -2, 0, 2, 1]."""
    return np.convolve(_binomial(k - 2), [1.0, 0.0, -1.0])[::-1]


def _delta(k: int) -> np.ndarray:
    kernel = np.zeros((k, k))
    kernel[k // 2, k // 2] = 1.0
    return kernel


def _laplacian(k: int) -> np.ndarray:
    """The discrete Laplacian (3x3: 4-neighbour), or a Laplacian of Gaussian for 5x5; sums to zero."""
    if k == 3:
        return np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])
    r = np.abs(np.indices((k, k)) - k // 2).sum(axis=0)  # city-block distance from the centre
    kernel = np.where(r <= k // 2, k // 2 + 1 - r, 0.0)
    kernel[k // 2, k // 2] = 0.0
    kernel[k // 2, k // 2] = -kernel.sum()
    return kernel


def _emboss(k: int) -> np.ndarray:
    """Light from the top left: -(distance toward the top left), clipped; the centre keeps the pixel."""
    i, j = np.indices((k, k)) - k // 2
    kernel = np.clip(i + j, -2, 2).astype(float)
    kernel[k // 2, k // 2] = 1.0
    return kernel


KERNEL_PRESETS = {
    "identity": _delta,
    "box blur": lambda k: np.full((k, k), 1.0 / k**2),
    "Gaussian blur": lambda k: np.outer(_binomial(k), _binomial(k)) / _binomial(k).sum() ** 2,
    "sharpen": lambda k: _delta(k) - _laplacian(k) / (-_laplacian(k)[k // 2, k // 2] / 4),
    "Sobel x": lambda k: np.outer(_binomial(k), _derivative(k)),
    "Sobel y": lambda k: np.outer(_derivative(k), _binomial(k)),
    "Laplacian": _laplacian,
    "emboss": _emboss,
}


def kernel_preset(name: str, k: int = 3) -> np.ndarray:
    """A named k x k kernel (k in KERNEL_SIZES). Sobel x responds to left-to-right brightness increases."""
    if name not in KERNEL_PRESETS:
        raise ValueError(f"unknown kernel {name!r}; choose one of {', '.join(KERNEL_PRESETS)}")
    if k not in KERNEL_SIZES:
        raise ValueError(f"kernel size must be one of {KERNEL_SIZES}, not {k}")
    return KERNEL_PRESETS[name](k)


_FRACTION = re.compile(r"^\s*([-+]?\d*\.?\d+(?:e[-+]?\d+)?)\s*/\s*(\d*\.?\d+)\s*$", re.I)


def parse_number(text) -> float | None:
    """A finite number from a cell: '0.5', '-2', '1e-2' or a fraction '1/16'; None if it is not one."""
    if isinstance(text, int | float | np.number) and not isinstance(text, bool):
        return float(text) if math.isfinite(text) else None
    text = str(text or "").strip()
    match = _FRACTION.match(text)
    try:
        value = float(match[1]) / float(match[2]) if match else float(text)
    except (ValueError, ZeroDivisionError):
        return None
    return value if math.isfinite(value) else None


def parse_kernel(cells, fallback: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """A kernel from a grid of cells (text or numbers), and one message per cell that is not a number.

    Such a cell takes the fallback kernel's value, so the page always has a kernel to show.
    """
    kernel = np.array(fallback, dtype=float)
    problems = []
    for (r, c), _ in np.ndenumerate(kernel):
        value = parse_number(cells[r][c])
        if value is None:
            problems.append(f"row {r + 1}, column {c + 1}: {quote(str(cells[r][c]))} is not a number")
        else:
            kernel[r, c] = value
    return kernel, problems


# --- images -------------------------------------------------------------------------------------------

PATTERNS = ("square", "vertical stripes", "checkerboard", "diagonal edge")


def pattern(name: str, n: int = 16) -> np.ndarray:
    """A synthetic n x n greyscale image in [0, 1] with clear edges."""
    i, j = np.indices((n, n))
    images = {
        "square": (abs(i - n / 2 + 0.5) < n / 4) & (abs(j - n / 2 + 0.5) < n / 4),
        "vertical stripes": (j // 3) % 2 == 0,
        "checkerboard": ((i // 4) + (j // 4)) % 2 == 0,
        "diagonal edge": i > j,
    }
    if name not in images:
        raise ValueError(f"unknown pattern {name!r}; choose one of {', '.join(PATTERNS)}")
    return images[name].astype(float)


def colour_image(n: int = 24) -> np.ndarray:
    """A small RGB scene (3, n, n) in [0, 1], generated here so that nothing downloads: blue sky
    brightening to the horizon, a red-orange sun, green hills below."""
    y, x = (np.indices((n, n)) + 0.5) / n
    hills = y > 0.62 + 0.1 * np.sin(2 * np.pi * x * 1.3 + 0.5)
    sun = (x - 0.7) ** 2 + (y - 0.3) ** 2 < 0.15**2
    red = np.where(hills, 0.15, np.where(sun, 0.95, 0.35 + 0.4 * y))
    green = np.where(hills, 0.55 + 0.25 * (y - 0.6), np.where(sun, 0.55, 0.55 + 0.3 * y))
    blue = np.where(hills, 0.15, np.where(sun, 0.1, 0.95))
    return np.clip(np.stack([red, green, blue]), 0.0, 1.0)


COLOUR_FILTER_PRESETS = ("edges and colours", "random")


def colour_filters(preset: str, c_out: int, k: int = 3, seed: int = 0) -> np.ndarray:
    """c_out filters of shape (3, k, k) for an RGB input.

    "edges and colours" cycles through: vertical edges of brightness (Sobel x on every channel),
    horizontal edges (Sobel y), "red, not green" (+red - green at the centre: the sun), and "green"
    (a Gaussian blur of the green channel: the hills). "random": He-initialised, N(0, 2 / (3 k^2)).
    """
    if preset == "random":
        return np.random.default_rng(seed).normal(0.0, np.sqrt(2.0 / (3 * k * k)), (c_out, 3, k, k))
    if preset != "edges and colours":
        raise ValueError(f"unknown filter preset {preset!r}; choose one of {COLOUR_FILTER_PRESETS}")
    zero, delta, gauss = np.zeros((k, k)), _delta(k), kernel_preset("Gaussian blur", k)
    bank = [
        np.stack([kernel_preset("Sobel x", k) / 3] * 3),
        np.stack([kernel_preset("Sobel y", k) / 3] * 3),
        np.stack([delta, -delta, zero]),
        np.stack([zero, gauss, zero]),
    ]
    return np.stack([bank[o % len(bank)] for o in range(c_out)])


def parameter_count(k: int, c_in: int, c_out: int, bias: bool = True) -> int:
    """Weights and biases of a conv layer: k * k * C_in * C_out + C_out."""
    return k * k * c_in * c_out + (c_out if bias else 0)


# --- text ---------------------------------------------------------------------------------------------

ALPHABET = "abcdefghijklmnopqrstuvwxyz "
MAX_TEXT = 200  # characters (or words) shown: the one-hot matrix and the scrubber stay readable
EMBEDDING_DIM = 8


@dataclass(frozen=True)
class Tokens:
    """Text cut into the positions a 1D convolution slides over, and what was changed to get there."""

    tokens: tuple[str, ...]  # letters (one-hot) or words (embeddings)
    dropped: tuple[str, ...]  # characters outside the alphabet, removed (sorted, unique)
    truncated: bool  # the text was cut to MAX_TEXT positions


def letters(text: str) -> Tokens:
    """Lower-case letters and spaces; other characters are dropped, runs of spaces collapse to one."""
    lowered = text.lower()
    dropped = tuple(sorted({ch for ch in lowered if ch not in ALPHABET}))
    kept = re.sub(" +", " ", "".join(ch for ch in lowered if ch in ALPHABET)).strip()
    return Tokens(tuple(kept[:MAX_TEXT]), dropped, len(kept) > MAX_TEXT)


def words(text: str) -> Tokens:
    """Lower-case words of letters a-z; other characters separate words and are reported as dropped."""
    lowered = text.lower()
    dropped = tuple(sorted({ch for ch in lowered if ch not in ALPHABET}))
    found = re.findall("[a-z]+", lowered)
    return Tokens(tuple(found[:MAX_TEXT]), dropped, len(found) > MAX_TEXT)


def one_hot(tokens: Sequence[str]) -> np.ndarray:
    """(len(ALPHABET), L): column t has a 1 in the row of letter t. Channels = letters, as in Conv1d."""
    x = np.zeros((len(ALPHABET), len(tokens)))
    x[[ALPHABET.index(ch) for ch in tokens], np.arange(len(tokens))] = 1.0
    return x


def embed(word: str) -> np.ndarray:
    """A small deterministic word embedding: a unit vector in R^EMBEDDING_DIM drawn from a generator
    seeded by the word's CRC-32, so the same word always gets the same vector (no training, no files)."""
    v = np.random.default_rng(zlib.crc32(word.encode())).normal(size=EMBEDDING_DIM)
    return v / np.linalg.norm(v)


def embeddings(tokens: Sequence[str]) -> np.ndarray:
    """(EMBEDDING_DIM, L): one embedding per word, as columns."""
    return np.stack([embed(w) for w in tokens], axis=1) if tokens else np.zeros((EMBEDDING_DIM, 0))


def ngram_filter(ngram: Sequence[str], encoding: str = "one-hot") -> np.ndarray:
    """A filter (C_in, n) that looks for `ngram`: its columns are the n-gram's own encoding.

    Its response at a window is sum_t <x_t, w_t>: with one-hot letters, the number of letters that
    match (n exactly at the n-gram); with unit word embeddings, a sum of cosines, largest (n) there.
    """
    return one_hot(ngram) if encoding == "one-hot" else embeddings(ngram)


def max_over_time(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Max-over-time pooling of (C_out, L_out): each filter's largest response and where it occurs."""
    return y.max(axis=1), y.argmax(axis=1)


__all__ = [
    "ALPHABET",
    "COLOUR_FILTER_PRESETS",
    "EMBEDDING_DIM",
    "KERNEL_PRESETS",
    "KERNEL_SIZES",
    "MAX_TEXT",
    "PATTERNS",
    "Geometry",
    "Padding",
    "Tokens",
    "Window",
    "colour_filters",
    "colour_image",
    "conv1d",
    "conv2d",
    "conv_loop",
    "embed",
    "embeddings",
    "geometry",
    "kernel_preset",
    "letters",
    "max_over_time",
    "ngram_filter",
    "one_hot",
    "output_size",
    "pad_input",
    "padding_amounts",
    "parameter_count",
    "parse_kernel",
    "parse_number",
    "pattern",
    "windows",
    "words",
]
