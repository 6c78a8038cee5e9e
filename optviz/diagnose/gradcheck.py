r"""The gradient check (CS231n, neural-networks-3): the analytic gradient (`jax.grad`, backpropagation)
against the centered difference

    numeric_i = (L(\theta + h e_i) - L(\theta - h e_i)) / (2 h),

compared by the relative error |a - n| / max(|a|, |n|) (0 where both are 0). CS231n's reading:
above 1e-2 the gradient is probably wrong; 1e-2 to 1e-4 uncomfortable; below 1e-4 fine for
networks with kinks (ReLU), while below 1e-7 is what a smooth network should reach in float64.

The error as h shrinks is V-shaped: the centered difference's truncation error falls as h^2
(its Taylor series' next term is h^2 L'''/6), while round-off grows as eps |L| / h (two nearly equal
losses subtracted, eps = 2.2e-16 in float64, 1.2e-7 in float32), so the best h is near eps^(1/3):
about 1e-5 in float64, 1e-2 to 1e-3 in float32.

A ReLU has a kink at 0: when the two evaluations at theta +- h put some unit's pre-activation on
different sides of it, the difference is not the derivative at theta, and the error can be large
whatever the precision. `kinks` marks the parameters where that happened.

The check runs on a small network (CHECK_NETWORK by default) and a few digits, so it takes well
under a second.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from optviz.diagnose.network import (
    Network,
    flatten,
    forward,
    init_params,
    layer_of_each_parameter,
    loss_fn,
    unflatten,
)
from optviz.mlp.model import digits

CHECK_NETWORK = Network(layers=2, width=32, activation="tanh", init="pytorch")
CHECK_BATCH = 16  # digits the loss is measured on
CHECK_PARAMETERS = 24  # parameters sampled
THRESHOLDS = {"above: probably wrong": 1e-2, "above: uncomfortable": 1e-4, "below: happy": 1e-7}
STEP_SWEEP = 10.0 ** -np.arange(1.0, 12.5, 0.5)  # h from 1e-1 to 1e-12
DTYPES = ("float32", "float64")


class GradCheck(NamedTuple):
    """Analytic and numeric gradients of sampled parameters, and their relative errors."""

    indices: np.ndarray  # positions in the raveled parameters
    layers: np.ndarray  # the layer (1-based) each belongs to
    analytic: np.ndarray
    numeric: np.ndarray
    rel_error: np.ndarray
    kinks: np.ndarray  # bool: theta +- h put some ReLU on different sides of its kink


def verdict(error: float) -> str:
    """CS231n's reading of a relative error."""
    if error > 1e-2:
        return "probably wrong"
    if error > 1e-4:
        return "uncomfortable: look for a bug"
    if error > 1e-7:
        return "okay for a network with kinks (ReLU); a smooth one usually does better"
    return "you should be happy"


def relative_error(analytic, numeric) -> np.ndarray:
    """|a - n| / max(|a|, |n|), 0 where both are 0."""
    analytic, numeric = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    return np.divide(np.abs(analytic - numeric), scale, out=np.zeros_like(scale), where=scale > 0)


def grad_check(
    seed: int = 0,
    h: float = 1e-5,
    dtype: str = "float64",
    network: Network = CHECK_NETWORK,
    weight_decay: float = 0.0,
) -> GradCheck:
    """Check CHECK_PARAMETERS parameters, sampled from every layer, at h in `dtype`."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, not {dtype!r}")
    if not (np.isfinite(h) and 0 < h < 1):
        raise ValueError(f"h must be a number between 0 and 1, not {h!r}")
    network = network.checked()
    arrays = digits()
    x, labels = arrays.x_train[:CHECK_BATCH].astype(dtype), arrays.y_train[:CHECK_BATCH]
    flat = flatten(init_params(network, seed, jnp.dtype(dtype)))
    indices, layers = _sample(network, seed, np.asarray(x))
    analytic, numeric, kinks = _check(
        flat,
        jnp.asarray(indices),
        jnp.asarray(h, dtype),
        jnp.asarray(weight_decay, dtype),
        x,
        labels,
        network=network,
    )
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    return GradCheck(indices, layers, analytic, numeric, relative_error(analytic, numeric), np.asarray(kinks))


def step_sweep(seed: int = 0, network: Network = CHECK_NETWORK) -> dict[str, np.ndarray]:
    """The median relative error at every h of STEP_SWEEP, for each dtype: the V."""
    return {
        dtype: np.asarray(
            [np.median(grad_check(seed, float(h), dtype, network).rel_error) for h in STEP_SWEEP]
        )
        for dtype in DTYPES
    }


def _sample(network: Network, seed: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CHECK_PARAMETERS positions in the flat vector spread evenly over W_1, b_1, W_2, ... (so the first
    and last layers are both checked), and the layer (1-based) of each. W_1's rows are those of
    pixels lit in the batch: a pixel that is 0 in every image gets a gradient of exactly 0, and a
    relative error of two zeros says nothing."""
    rng = np.random.default_rng(seed)
    layer = layer_of_each_parameter(network)
    offsets = np.flatnonzero(np.diff(layer, prepend=-1))  # where each W_l and b_l starts
    ends = [*offsets[1:], layer.size]
    counts = np.diff(np.linspace(0, CHECK_PARAMETERS, len(offsets) + 1).round().astype(int))
    lit = np.flatnonzero(np.any(x > 0, axis=0))
    chosen, layers = [], []
    for part, (start, end, count) in enumerate(zip(offsets, ends, counts, strict=True)):
        if part == 0:  # W_1: rows of lit pixels
            rows = rng.choice(lit, size=count)
            candidates = start + rows * network.width + rng.integers(0, network.width, size=count)
        else:
            candidates = start + rng.choice(end - start, size=min(count, end - start), replace=False)
        chosen.append(candidates)
        layers.append(np.full(len(candidates), part // 2 + 1))
    return np.concatenate(chosen), np.concatenate(layers)


@partial(jax.jit, static_argnames="network")
def _check(flat, indices, h, weight_decay, x, labels, *, network):
    """(analytic, numeric, kinks) at `indices`, each evaluation in flat's dtype."""

    def loss(flat):
        return loss_fn(unflatten(flat, network), x, labels, network.activation, weight_decay)

    def signs(flat):
        return jnp.concatenate(
            [(u > 0).ravel() for u in forward(unflatten(flat, network), x, network.activation)[2]]
        )

    def at(index):
        step = jnp.zeros_like(flat).at[index].set(h)
        numeric = (loss(flat + step) - loss(flat - step)) / (2 * h)
        crossed = jnp.any(signs(flat + step) != signs(flat - step))
        return numeric, crossed & (network.activation == "relu")

    numeric, kinks = jax.lax.map(at, indices)
    return jax.grad(loss)(flat)[indices], numeric, kinks
