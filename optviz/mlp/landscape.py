r"""The trained MLP's loss landscape: a 2D slice through its weights, and the optimizers' paths in it.

Li et al. (2018), "Visualizing the Loss Landscape of Neural Nets" (NeurIPS), look at a network's loss
L(θ) on a plane through the trained weights θ*, spanned by two random directions δ and η:

    f(α, β) = L(θ* + α δ + β η)

A raw random direction says little: a layer with large weights barely notices a step that is huge to
a layer with small ones, and a ReLU network computes the same function when a neuron's incoming
weights are scaled up and its outgoing ones down. So each direction is *filter-normalized*: drawn
N(0, 1), then every neuron's part of it rescaled to the norm of the same neuron's weights,

    δ_j <- δ_j / ||δ_j|| * ||θ*_j||          (δ_j: the direction's incoming weights of neuron j)

which makes α = 1 a step as large as each neuron's own weights, in every layer alike. For a fully
connected layer a neuron's "filter" is its column of W (W_1 is (784, hidden): one column of 784 per
hidden unit; W_2 one column of `hidden` per class). Biases get a zero direction: Li et al. leave
biases and batch-norm parameters out (their code's `ignore='biasbn'`), so the plane moves weights only.

Each optimizer's path (`History.path`: the weights at the start and after every epoch) is drawn in
the same plane: θ - θ* is projected onto it by least squares on the basis [δ η]. Two random directions
are not orthogonal (nearly, in 101,770 dimensions: their cosine is ~1/sqrt(n)), so the coordinates
are the least-squares solution, not two dot products. In so many dimensions a random plane is also
nearly orthogonal to any path (Li et al., section 7): it holds little of how far a path went, which
`in_plane` measures (measured: under 1% of the way from the start to the trained weights), and every
path looks as if it hardly left the centre. The other plane, "start", is therefore offered too: δ is
the line from the trained weights back to the initial weights every optimizer shares, so each path
starts at (1, 0) and its progress along that line shows; η stays random and filter-normalized.

The loss on the whole grid is one compiled call: `jax.lax.map` over the grid's rows, `jax.vmap`
along each row (a row at a time keeps memory bounded: 61 points x 2,000 digits x 128 hidden units of
float32 is 62 MB). The grid and the data are traced arguments: one compiled function per network
shape, activation and resolution; another seed, centre or data set reuses it. The training slice is
2,000 of the 8,000 training digits (a fixed draw, seed SUBSAMPLE_SEED), so train and test have the
same shape and switching between them does not recompile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache, partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from optviz.mlp.model import ACTIVATIONS, History, Params, cross_entropy, digits

DATA = ("train", "test")
PLANES = ("random", "start")  # two random directions; or the line back to the shared start, and one
SLICE_DIGITS = 2000  # the test set's size, and how many training digits the train slice uses
SUBSAMPLE_SEED = 0
RESOLUTION_RANGE = (21, 61)  # grid points per axis; odd, so that the grid has (0, 0) at its middle
DEFAULT_RESOLUTION = 41
MIN_HALF_WIDTH = 1.0  # the slice spans at least α, β in [-1, 1]: steps as large as the weights
MAX_HALF_WIDTH = 10.0  # a diverged run's path may reach far off: beyond this it leaves the window
MARGIN = 1.2  # the window is this much wider than the farthest projected point


@cache
def slice_digits(which: str) -> tuple[jax.Array, jax.Array]:
    """The digits a slice's loss is measured on: (x (2000, 784) float32, labels (2000,) int32).

    "test": the 2,000 test digits; "train": 2,000 of the 8,000 training digits, drawn once without
    replacement with seed SUBSAMPLE_SEED (the same shape as the test set, so one compiled slice
    serves both). ValueError for anything else.
    """
    arrays = digits()
    if which == "test":
        return arrays.x_test, arrays.y_test
    if which == "train":
        rows = np.random.default_rng(SUBSAMPLE_SEED).choice(len(arrays.y_train), SLICE_DIGITS, replace=False)
        return arrays.x_train[rows], arrays.y_train[rows]
    raise ValueError(f"unknown data {which!r}; choose one of: {', '.join(DATA)}")


def flatten(params: Params) -> np.ndarray:
    """The parameters as one float32 vector, in ravel_pytree's order (w1, b1, w2, b2, each raveled):
    the order of History.path's rows."""
    return np.concatenate([np.ravel(np.asarray(p, np.float32)) for p in params])


def _filter_normalized(direction: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each column (a neuron's incoming weights) rescaled to the norm of the weights' same column;
    zero for a bias (see the module's docstring)."""
    if weights.ndim == 1:
        return np.zeros_like(weights, dtype=np.float32)
    norms = np.linalg.norm(weights, axis=0) / np.linalg.norm(direction, axis=0)
    return (direction * norms).astype(np.float32)


def unflatten(flat, like: Params) -> Params:
    """A flat vector (e.g. a row of History.path) as float32 Params shaped like `like`."""
    flat = np.asarray(flat, np.float32)
    sizes = [int(np.size(p)) for p in like]
    parts = np.split(flat, np.cumsum(sizes)[:-1])
    return Params(*(part.reshape(np.shape(p)) for part, p in zip(parts, like, strict=True)))


def directions(params: Params, seed: int = 0, start=None) -> tuple[Params, Params]:
    """Two directions (δ, η) for the plane through `params`, as NumPy float32 Params: random and
    filter-normalized (every entry drawn N(0, 1) with NumPy's generator of `seed`, then each
    neuron's column rescaled to the norm of its weights' column; bias directions zero).

    With `start` (flat weights: History.path[0], where every optimizer began), δ is instead
    start - θ*, unnormalized, so that α = 1 is the start itself: the plane then holds the straight
    line from the trained weights back to the shared start (the line along which Goodfellow, Vinyals
    & Saxe, 2015, plot the loss), and η stays random and filter-normalized.
    """
    rng = np.random.default_rng(seed)
    weights = [np.asarray(p, np.float32) for p in params]
    d1, d2 = (
        Params(*(_filter_normalized(rng.standard_normal(w.shape), w) for w in weights)) for _ in range(2)
    )
    if start is not None:
        d1 = unflatten(np.asarray(start, np.float32) - flatten(params), params)
    return d1, d2


@partial(jax.jit, static_argnames="activation")
def _slice(centre, d1, d2, alphas, betas, x, labels, activation):
    """f(α, β) for every β (rows) and α (columns): the module's one compiled call.

    The first layer is linear in its weights, x (W_1 + α D_1 + β E_1) = x W_1 + α x D_1 + β x E_1, so
    the three (N, hidden) products are computed once for the whole grid; each point then costs only
    its hidden layer's nonlinearity and the small second layer.
    """
    sigma = ACTIVATIONS[activation]
    xw, xd, xe = x @ centre.w1, x @ d1.w1, x @ d2.w1

    def loss(a, b):
        h = sigma(xw + a * xd + b * xe + (centre.b1 + a * d1.b1 + b * d2.b1))
        logits = h @ (centre.w2 + a * d1.w2 + b * d2.w2) + (centre.b2 + a * d1.b2 + b * d2.b2)
        return cross_entropy(logits, labels)

    row = jax.vmap(loss, in_axes=(0, None))
    return jax.lax.map(lambda b: row(alphas, b), betas)


def loss_slice(
    params: Params, d1: Params, d2: Params, alphas, betas, x, labels, activation: str = "relu"
) -> np.ndarray:
    """f(α, β) = L(θ* + α d1 + β d2) on the grid `betas` x `alphas`: shape (len(betas), len(alphas)),
    the mean cross-entropy over the digits x, labels, as float64 NumPy.

    At most RESOLUTION_RANGE[1] points per axis (time and memory stay bounded): ValueError beyond.
    """
    alphas, betas = (jnp.asarray(v, jnp.float32) for v in (alphas, betas))
    for name, axis in (("alphas", alphas), ("betas", betas)):
        if axis.ndim != 1 or not 1 <= len(axis) <= RESOLUTION_RANGE[1]:
            raise ValueError(f"{name} must be 1 to {RESOLUTION_RANGE[1]} numbers, not shape {axis.shape}")
    centre, d1, d2 = (Params(*(jnp.asarray(p, jnp.float32) for p in ps)) for ps in (params, d1, d2))
    x, labels = jnp.asarray(x, jnp.float32), jnp.asarray(labels, jnp.int32)
    return np.asarray(_slice(centre, d1, d2, alphas, betas, x, labels, activation), np.float64)


def _offsets(path, centre: Params) -> np.ndarray:
    """θ - θ* for every row of `path`, float64."""
    return np.asarray(path, np.float64) - flatten(centre)


def _basis(d1: Params, d2: Params) -> np.ndarray:
    """The plane's directions as the columns of an (n, 2) matrix."""
    return np.stack([flatten(d1), flatten(d2)], axis=1).astype(np.float64)


def project(path, centre: Params, d1: Params, d2: Params) -> np.ndarray:
    """The plane coordinates (α, β) of every weight vector in `path` (rows of flat parameters, e.g.
    History.path): the least-squares solution of [d1 d2] (α, β) = θ - θ*, shape (steps, 2).

    Least squares, as d1 and d2 are not orthogonal. A row that is not finite (a diverged run's weights
    beyond float16's range) gets NaN coordinates.
    """
    offsets = _offsets(path, centre)
    finite = np.isfinite(offsets).all(axis=1)
    coordinates = np.full((len(offsets), 2), np.nan)
    if finite.any():
        coordinates[finite] = np.linalg.lstsq(_basis(d1, d2), offsets[finite].T, rcond=None)[0].T
    return coordinates


def in_plane(path, centre: Params, d1: Params, d2: Params, coordinates: np.ndarray) -> np.ndarray:
    """How much of each row's distance from the centre the plane holds: ||α d1 + β d2|| / ||θ - θ*||
    (1: the row lies in the plane; near 0: almost all of the way to it is off the plane). NaN where
    the row is the centre itself or not finite."""
    offsets = _offsets(path, centre)
    shadow = np.linalg.norm(np.nan_to_num(coordinates) @ _basis(d1, d2).T, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = shadow / np.linalg.norm(offsets, axis=1)
    share[~np.isfinite(coordinates).all(axis=1) | ~np.isfinite(share)] = np.nan
    return share


def half_width(coordinates: Iterable[np.ndarray]) -> float:
    """The slice's half-width: MARGIN x the farthest finite projected coordinate, at least
    MIN_HALF_WIDTH and at most MAX_HALF_WIDTH."""
    finite = [np.abs(c[np.isfinite(c)]) for c in coordinates]
    farthest = max((float(c.max()) for c in finite if c.size), default=0.0)
    return float(np.clip(MARGIN * farthest, MIN_HALF_WIDTH, MAX_HALF_WIDTH))


def grid(width: float, resolution: int) -> np.ndarray:
    """`resolution` evenly spaced values from -width to width (odd: 0 is one of them)."""
    return np.linspace(-width, width, resolution)


def interpolate(alphas, betas, values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """`values` on the grid (rows along betas) interpolated bilinearly at `points` (k, 2) of (α, β)
    inside the grid; NaN outside it or for NaN points."""
    alphas, betas, points = np.asarray(alphas), np.asarray(betas), np.asarray(points, np.float64)
    inside = np.isfinite(points).all(axis=1)
    inside &= (points[:, 0] >= alphas[0]) & (points[:, 0] <= alphas[-1])
    inside &= (points[:, 1] >= betas[0]) & (points[:, 1] <= betas[-1])
    out = np.full(len(points), np.nan)
    a, b = points[inside, 0], points[inside, 1]
    i = np.clip(np.searchsorted(alphas, a) - 1, 0, len(alphas) - 2)
    j = np.clip(np.searchsorted(betas, b) - 1, 0, len(betas) - 2)
    s = (a - alphas[i]) / (alphas[i + 1] - alphas[i])
    t = (b - betas[j]) / (betas[j + 1] - betas[j])
    out[inside] = (
        (1 - s) * (1 - t) * values[j, i]
        + s * (1 - t) * values[j, i + 1]
        + (1 - s) * t * values[j + 1, i]
        + s * t * values[j + 1, i + 1]
    )
    return out


class Slice(NamedTuple):
    """A slice of the loss and the optimizers' paths in its plane, as NumPy (what a page draws)."""

    alphas: np.ndarray  # (resolution,): the grid along δ
    betas: np.ndarray  # (resolution,): the grid along η
    losses: np.ndarray  # (resolution, resolution): f(α, β), rows along β, columns along α
    paths: dict[str, np.ndarray]  # optimizer -> (epochs + 1, 2): (α, β) of its start and of each epoch
    in_plane: dict[str, np.ndarray]  # optimizer -> (epochs + 1,): the share of each point's distance held
    # optimizer -> (epochs + 1,): the slice's loss under each point, interpolated between grid points
    # in log10 (as the surface is drawn, so that a path drawn at these heights lies on it)
    heights: dict[str, np.ndarray]


def slice_with_paths(
    histories: Mapping[str, History],
    centre: str,
    *,
    data: str = "test",
    resolution: int = DEFAULT_RESOLUTION,
    seed: int = 0,
    plane: str = "random",
    activation: str = "relu",
) -> Slice:
    """The slice through the final weights of `histories[centre]` (optimizer -> History, all of one
    network shape and seed), and every History's path in its plane: `plane` "random" (two random
    filter-normalized directions) or "start" (δ back to the shared start); a square window wide enough
    for every path (`half_width`); the loss on the `data` digits. Histories without a path are left out.
    ValueError for an unknown centre, data, plane or a resolution outside RESOLUTION_RANGE.
    """
    low, high = RESOLUTION_RANGE
    if centre not in histories:
        raise ValueError(f"no History for {centre!r}; there is one for: {', '.join(histories)}")
    if plane not in PLANES:
        raise ValueError(f"unknown plane {plane!r}; choose one of: {', '.join(PLANES)}")
    if not (isinstance(resolution, int | np.integer) and low <= resolution <= high):
        raise ValueError(f"resolution must be an integer from {low} to {high}, not {resolution!r}")
    x, labels = slice_digits(data)
    params = histories[centre].params
    start = histories[centre].path[0] if plane == "start" else None
    d1, d2 = directions(params, seed, start)
    walked = {name: h.path for name, h in histories.items() if h.path is not None}
    paths = {name: project(path, params, d1, d2) for name, path in walked.items()}
    axis = grid(half_width(paths.values()), resolution)
    losses = loss_slice(params, d1, d2, axis, axis, x, labels, activation)
    return Slice(
        alphas=axis,
        betas=axis,
        losses=losses,
        paths=paths,
        in_plane={name: in_plane(walked[name], params, d1, d2, xy) for name, xy in paths.items()},
        heights={name: 10 ** interpolate(axis, axis, np.log10(losses), xy) for name, xy in paths.items()},
    )


__all__ = [
    "DATA",
    "DEFAULT_RESOLUTION",
    "PLANES",
    "RESOLUTION_RANGE",
    "SLICE_DIGITS",
    "Slice",
    "directions",
    "flatten",
    "grid",
    "half_width",
    "in_plane",
    "interpolate",
    "loss_slice",
    "project",
    "slice_digits",
    "slice_with_paths",
    "unflatten",
]
