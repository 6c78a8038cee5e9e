r"""A deep MLP on the digits for diagnosing training: any depth, width, activation and initialization,
and what its layers look like inside (CS231n, neural-networks-2 and -3).

The network (x a flattened 28 x 28 image in [0, 1], L hidden layers of `width` units):

    h_0 = x,   u_l = h_{l-1} W_l + b_l,   h_l = \sigma(u_l)   (l = 1 .. L),   z = h_L W_{L+1} + b_{L+1}
    loss = -(1/B) \sum_i \log softmax(z_i)_{y_i}  +  (\lambda / 2) \sum_l \|W_l\|_F^2

(L2 weight decay on the weight matrices, not the biases, as CS231n writes it.) Every layer, the
output layer included, starts from the same initialization scheme, with fan_in and fan_out the
layer's input and output sizes:

    zero     W = 0, b = 0                           every unit the same: symmetry is never broken
    tiny     W ~ 0.01 N(0, 1), b = 0                CS231n's "small random numbers"
    pytorch  W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))   torch.nn.Linear's default
    xavier   W ~ U(-sqrt(6/(fan_in+fan_out)), +...), b = 0   Glorot & Bengio 2010, for tanh
    he       W ~ N(0, 2/fan_in), b = 0              He et al. 2015, for ReLU
    huge     W ~ N(0, 1), b = 0                     far too large: saturates tanh and sigmoid

Parameters are a list of (W, b) pairs in float32 (the package turns JAX's x64 on for the float64
gradient check, so every array here names its dtype).
"""

from __future__ import annotations

import itertools
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from optviz.mlp.model import ACTIVATIONS, N_CLASSES, N_PIXELS, cross_entropy

INITS = {
    "zero": "Zero",
    "tiny": "Tiny: 0.01·N(0, 1)",
    "pytorch": "PyTorch default",
    "xavier": "Xavier/Glorot",
    "he": "He/Kaiming",
    "huge": "Huge: N(0, 1)",
}
LAYERS_RANGE = (1, 6)
WIDTH_RANGE = (32, 512)
# A tanh or sigmoid output this close to its bounds has a local slope below ~2 % of its peak: the
# gradient through it all but stops (CS231n: "saturated").
SATURATION = {"tanh": (-0.99, 0.99), "sigmoid": (0.01, 0.99)}
HISTOGRAM_BINS = 40


class Network(NamedTuple):
    """The architecture: `layers` hidden layers of `width` units with `activation`, started by `init`."""

    layers: int = 2
    width: int = 128
    activation: str = "relu"
    init: str = "pytorch"

    @property
    def sizes(self) -> tuple[int, ...]:
        """784, width, ..., width, 10: the sizes of h_0 .. h_L and of the logits."""
        return (N_PIXELS, *[self.width] * self.layers, N_CLASSES)

    def checked(self) -> Network:
        """Itself, or a ValueError naming the setting out of range."""
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.activation!r}; choose one of: {', '.join(ACTIVATIONS)}"
            )
        if self.init not in INITS:
            raise ValueError(f"unknown initialization {self.init!r}; choose one of: {', '.join(INITS)}")
        for name, value, (low, high) in (
            ("layers", self.layers, LAYERS_RANGE),
            ("width", self.width, WIDTH_RANGE),
        ):
            if not (isinstance(value, int | np.integer) and low <= value <= high):
                raise ValueError(f"{name} must be an integer from {low} to {high}, not {value!r}")
        return self


def init_layer(
    rng: np.random.Generator, init: str, fan_in: int, fan_out: int
) -> tuple[np.ndarray, np.ndarray]:
    """One layer's (W, b) under scheme `init` (the module's table), float64, drawn from `rng`."""
    shape = (fan_in, fan_out)
    zeros = np.zeros(fan_out)
    if init == "zero":
        return np.zeros(shape), zeros
    if init == "tiny":
        return 0.01 * rng.standard_normal(shape), zeros
    if init == "pytorch":
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape), rng.uniform(-bound, bound, fan_out)
    if init == "xavier":
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, shape), zeros
    if init == "he":
        return np.sqrt(2.0 / fan_in) * rng.standard_normal(shape), zeros
    if init == "huge":
        return rng.standard_normal(shape), zeros
    raise ValueError(f"unknown initialization {init!r}; choose one of: {', '.join(INITS)}")


def init_params(network: Network, seed: int = 0, dtype=jnp.float32) -> list[tuple[jax.Array, jax.Array]]:
    """Every layer's (W, b), hidden layers first, the output layer last, as `dtype` arrays.

    Drawn with NumPy's generator: a JAX draw compiles a program per shape and scheme, which costs
    far more than drawing (a second per new architecture)."""
    sizes = network.checked().sizes
    rng = np.random.default_rng(seed)
    return [
        tuple(jnp.asarray(part, dtype) for part in init_layer(rng, network.init, fan_in, fan_out))
        for fan_in, fan_out in itertools.pairwise(sizes)
    ]


def flatten(params) -> jax.Array:
    """The parameters as one vector: W_1, b_1, W_2, b_2, ... each raveled (ravel_pytree's order)."""
    return jnp.concatenate([part.ravel() for pair in params for part in pair])


def unflatten(flat, network: Network) -> list[tuple[jax.Array, jax.Array]]:
    """`flatten`'s inverse for this architecture (static slices: usable inside jit)."""
    params, offset = [], 0
    for fan_in, fan_out in zip(network.sizes[:-1], network.sizes[1:], strict=True):
        w = flat[offset : offset + fan_in * fan_out].reshape(fan_in, fan_out)
        offset += fan_in * fan_out
        params.append((w, flat[offset : offset + fan_out]))
        offset += fan_out
    return params


def layer_of_each_parameter(network: Network) -> np.ndarray:
    """For every number of the flat vector, its layer l - 1 (0-based) if it is in W_l; biases get
    the last index, L + 1 (one past the weight matrices)."""
    sizes = network.sizes
    parts = []
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        parts += [np.full(fan_in * fan_out, index), np.full(fan_out, len(sizes) - 1)]
    return np.concatenate(parts)


def forward(params, x, activation: str, shifts=None):
    """(logits, [h_1 .. h_L], [u_1 .. u_L]) for a batch x (B, 784).

    `shifts` (one (B, width) array per hidden layer, zeros) are added to each h_l: the gradient of the
    loss with respect to them is dL/dh_l, the backward signal reaching that layer."""
    sigma = ACTIVATIONS[activation]
    h, hidden, pre = x, [], []
    for index, (w, b) in enumerate(params[:-1]):
        u = h @ w + b
        h = sigma(u) if shifts is None else sigma(u) + shifts[index]
        hidden.append(h)
        pre.append(u)
    w, b = params[-1]
    return h @ w + b, hidden, pre


def l2_penalty(params):
    """(1/2) sum_l ||W_l||^2 over the weight matrices (biases are not decayed)."""
    return 0.5 * sum(jnp.sum(w * w) for w, _ in params)


def loss_fn(params, x, labels, activation: str, weight_decay=0.0, weights=None):
    """The data loss (softmax cross-entropy, weighted if `weights`) plus the L2 penalty."""
    logits, _, _ = forward(params, x, activation)
    return cross_entropy(logits, labels, weights) + weight_decay * l2_penalty(params)


@partial(jax.jit, static_argnames="activation")
def probe(params, x, labels, activation: str):
    """Inside the network on one batch: (data loss, [h_l], [dL/dh_l]) for every hidden layer."""
    shifts = [jnp.zeros((x.shape[0], w.shape[1]), x.dtype) for w, _ in params[:-1]]

    def loss_of_shifts(shifts):
        logits, hidden, _ = forward(params, x, activation, shifts)
        return cross_entropy(logits, labels), hidden

    (loss, hidden), grads = jax.value_and_grad(loss_of_shifts, has_aux=True)(shifts)
    return loss, hidden, grads


class Histogram(NamedTuple):
    """Counts of values in bins: `edges` has one more entry than `counts`."""

    edges: np.ndarray
    counts: np.ndarray


class LayerStats(NamedTuple):
    """One hidden layer on the probe batch.

    act_std, grad_std: the standard deviations of its outputs h_l and of dL/dh_l (of the batch's
    mean loss); dead: the fraction of its units never positive on the batch (ReLU only; a dead unit
    passes no gradient, so it never comes back); saturated: the fraction of its outputs in the flat
    tails of tanh or sigmoid (SATURATION), 0 for ReLU."""

    act_std: float
    grad_std: float
    dead: float
    saturated: float
    act_hist: Histogram
    grad_hist: Histogram


class Snapshot(NamedTuple):
    """The whole network on the probe batch at one moment: its data loss and one LayerStats per
    hidden layer. The histograms of all layers share their bins, so layers compare at a glance."""

    loss: float
    layers: tuple[LayerStats, ...]


def snapshot(params, x, labels, activation: str) -> Snapshot:
    """Measure every hidden layer (LayerStats) on the batch (x, labels)."""
    loss, hidden, grads = probe(params, x, labels, activation)
    hidden = [np.asarray(h, np.float64) for h in hidden]
    grads = [np.asarray(g, np.float64) for g in grads]
    act_edges = _activation_edges(hidden, activation)
    grad_edges = _symmetric_edges(grads)
    layers = []
    for h, g in zip(hidden, grads, strict=True):
        dead = float(np.mean(np.max(h, axis=0) <= 0)) if activation == "relu" else 0.0
        if activation in SATURATION:
            low, high = SATURATION[activation]
            saturated = float(np.mean((h < low) | (h > high)))
        else:
            saturated = 0.0
        layers.append(
            LayerStats(
                act_std=float(np.std(h)),
                grad_std=float(np.std(g)),
                dead=dead,
                saturated=saturated,
                act_hist=Histogram(act_edges, np.histogram(h, act_edges)[0]),
                grad_hist=Histogram(grad_edges, np.histogram(g, grad_edges)[0]),
            )
        )
    return Snapshot(float(loss), tuple(layers))


def _activation_edges(hidden: list[np.ndarray], activation: str) -> np.ndarray:
    """The activation's whole range for tanh and sigmoid; for ReLU 0 up to the largest output."""
    if activation == "tanh":
        return np.linspace(-1.0, 1.0, HISTOGRAM_BINS + 1)
    if activation == "sigmoid":
        return np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    top = max(float(np.max(h)) for h in hidden)
    return np.linspace(0.0, top if np.isfinite(top) and top > 0 else 1.0, HISTOGRAM_BINS + 1)


def _symmetric_edges(values: list[np.ndarray]) -> np.ndarray:
    """Bins symmetric about 0 reaching the largest 99.9th percentile of |value| over the layers (a
    few extreme gradients would squeeze every other bar into one bin)."""
    top = max(float(np.percentile(np.abs(v), 99.9)) for v in values)
    top = top if np.isfinite(top) and top > 0 else 1.0
    return np.linspace(-top, top, HISTOGRAM_BINS + 1)
