r"""Training the deep MLP while watching it: the loss of every step, the update:weight ratio of every
layer at every step, train and validation accuracy after every epoch, and (optionally) the layers'
histograms at the start and after every epoch.

The update:weight ratio of layer l at step t is \|\Delta W_l\|_F / \|W_l\|_F, the size of the step
the optimizer took against the size of the weights it changed; CS231n's rule of thumb wants it near
1e-3 (much lower: the learning rate is too small; much higher: too large).

The optimizers are the lab's (`optviz.optimizers`, through the MLP's `switchable` on the raveled
parameters), so the choice of optimizer and every hyperparameter are traced: one compiled epoch per
architecture, batch size and data size serves them all, and `jax.vmap` of that same epoch trains many
settings in one call (`train_together`: the hyperparameter search and the four learning rates of the
loss-curve lesson). A step whose update is not finite is skipped and marks divergence, as in
`optviz.mlp.model`: the weights freeze where they were (finite). They may be so large that losses
measured with them are not finite (logits overflow), so a run's numbers after `diverged_at` are not
to be read: the figures stop each line there and mark it.

Validation is the bundle's 2,000 held-out digits; the training set is the first `train_size` of its
8,000 training digits.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from functools import cache, partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from optviz import data
from optviz.diagnose.network import (
    Network,
    Snapshot,
    flatten,
    forward,
    init_params,
    l2_penalty,
    snapshot,
    unflatten,
)
from optviz.mlp.model import (
    MLP_OPTIMIZERS,
    batch_indices,
    batches_per_epoch,
    cross_entropy,
    digits,
    epoch_key,
)
from optviz.mlp.model import resolve as resolve_hyperparameters
from optviz.optimizers import rule_row, switchable

TRAIN_SIZE_RANGE = (20, data.TRAIN_SIZE)
PROBE_SIZE = 500  # training digits the histograms are measured on


class Checkpoint(NamedTuple):
    """Where a run stands after `epoch` epochs: enough to go on from there (`train(start=...)`)."""

    flat: jax.Array  # the raveled weights
    state: jax.Array  # the optimizer's flat state
    optimizer: str
    epoch: int
    diverged: jax.Array


class Run(NamedTuple):
    r"""A run as NumPy arrays, one entry per finished epoch or per step (of the epochs it trained:
    a run continued from a checkpoint holds the epochs after it).

    train_loss: the data loss averaged over the epoch's batches as they were trained on;
    train_accuracy, val_accuracy, val_loss: measured after the epoch on the whole training subset and
    the 2,000 validation digits; batch_loss: every step's data loss before its update;
    update_ratio: (steps, layers + 1) \|\Delta W_l\| / \|W_l\| for every weight matrix (NaN while W_l
    is all zero); snapshots: the hidden layers at the start and after each epoch, if asked for."""

    train_loss: np.ndarray
    train_accuracy: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    batch_loss: np.ndarray
    update_ratio: np.ndarray
    snapshots: tuple[Snapshot, ...]
    diverged_at: int | None  # the first step (1-based, of this run) whose update was not finite
    first_epoch: int  # the epochs before this run's first one (0 unless continued from a checkpoint)
    checkpoint: Checkpoint | None  # None once dropped (`without_checkpoint`)

    @property
    def epochs(self) -> int:
        return len(self.val_accuracy)

    def without_checkpoint(self) -> Run:
        """The run without its weights and optimizer state (three copies of every parameter: 20 MB
        for 6 x 512), for keeping many runs to draw."""
        return self._replace(checkpoint=None)

    @property
    def median_update_ratio(self) -> np.ndarray:
        """Each weight matrix's median ratio over the steps that moved it. Steps with a ratio of 0
        (no gradient flowed back: dead units, or weights frozen after divergence) and NaN (W_l all
        zero) are left out, so a network whose ReLUs died does not read as "learning rate too low"."""
        moved = np.where(np.isfinite(self.update_ratio) & (self.update_ratio > 0), self.update_ratio, np.nan)
        with warnings.catch_warnings():  # a matrix that never moved has no median: NaN, said by the page
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(moved, axis=0)

    @property
    def updates_stopped_at(self) -> int | None:
        """The first step (1-based) from which no weight matrix moved again, if that happened before
        the end: every unit of some layer stopped passing gradient back (ReLUs that all died)."""
        moving = np.any(np.nan_to_num(self.update_ratio) > 0, axis=1)
        if not moving.any() or moving[-1]:
            return None
        return int(np.flatnonzero(moving)[-1]) + 2

    @property
    def nbytes(self) -> int:
        """The memory it holds (the weights and optimizer state of its checkpoint included)."""
        arrays = [self.train_loss, self.train_accuracy, self.val_loss, self.val_accuracy]
        arrays += [self.batch_loss, self.update_ratio]
        arrays += [] if self.checkpoint is None else [self.checkpoint.flat, self.checkpoint.state]
        arrays += [
            array
            for snapshot in self.snapshots
            for layer in snapshot.layers
            for histogram in (layer.act_hist, layer.grad_hist)
            for array in histogram
        ]
        return sum(np.asarray(a).nbytes for a in arrays)


# --- the compiled epoch ----------------------------------------------------------------------------


@cache
def _optimizers(size: int):
    return switchable(MLP_OPTIMIZERS, (size,), jnp.float32)


def _layer_norms(vector, network: Network):
    r"""\|part of `vector` in W_l\| for every weight matrix (static slices: a segment sum over the
    flat vector is a scatter, several times slower on a CPU)."""
    return jnp.stack([jnp.sqrt(jnp.sum(w * w)) for w, _ in unflatten(vector, network)])


def _step(carry, batch, *, x, labels, kind, row, weight_decay, network):
    """One mini-batch: forward, loss (+ L2), backward, the optimizer's step; its data loss and the
    update:weight ratio of every layer."""
    flat, state, diverged = carry
    indices, weights = batch

    def loss(params):
        logits, _, _ = forward(params, x[indices], network.activation)
        data_loss = cross_entropy(logits, labels[indices], weights)
        return data_loss + weight_decay * l2_penalty(params), data_loss

    # Differentiated with respect to the layers, then raveled with one concatenation: the gradient
    # of slicing the flat vector would pad every slice to the whole vector and add them up.
    (_, data_loss), grads = jax.value_and_grad(loss, has_aux=True)(unflatten(flat, network))
    grads = flatten(grads)
    updates, new_state = _optimizers(flat.size).update(kind, grads, state, flat, row)
    ok = jnp.all(jnp.isfinite(updates)) & ~diverged
    weight_norms = _layer_norms(flat, network)
    ratio = jnp.where(weight_norms > 0, _layer_norms(updates, network) / weight_norms, jnp.nan)
    flat = jnp.where(ok, flat + updates, flat)
    return (flat, new_state, ~ok), (data_loss, ratio, ~ok)


def _accuracy_and_loss(flat, x, labels, network):
    logits, _, _ = forward(unflatten(flat, network), x, network.activation)
    return jnp.mean(jnp.argmax(logits, axis=1) == labels), cross_entropy(logits, labels)


def _epoch(
    flat, state, diverged, key, kind, row, weight_decay, x, labels, x_val, y_val, *, network, batch_size
):
    """One epoch as one scan over the shuffled mini-batches, then the accuracies: returns the new
    (flat, state, diverged) and (batch losses, ratios, bad steps, train loss, train accuracy, val
    accuracy, val loss)."""
    n = x.shape[0]
    indices, weights = batch_indices(key, n, batch_size)
    step = partial(_step, x=x, labels=labels, kind=kind, row=row, weight_decay=weight_decay, network=network)
    carry, (losses, ratios, bad) = jax.lax.scan(step, (flat, state, diverged), (indices, weights))
    train_loss = jnp.sum(losses * jnp.sum(weights, axis=1)) / n
    train_accuracy, _ = _accuracy_and_loss(carry[0], x, labels, network)
    val_accuracy, val_loss = _accuracy_and_loss(carry[0], x_val, y_val, network)
    return carry, (losses, ratios, bad, train_loss, train_accuracy, val_accuracy, val_loss)


def _architecture(network: Network) -> Network:
    """What a compiled epoch depends on: the layers' sizes and activation, not how the weights
    started (so one compilation serves every initialization)."""
    return network._replace(init="pytorch")


_STATIC = ("network", "batch_size")
_one_epoch = jax.jit(_epoch, static_argnames=_STATIC)


@partial(jax.jit, static_argnames=_STATIC)
def _many_epochs(
    flats, states, diverged, key, kind, rows, weight_decays, x, labels, x_val, y_val, *, network, batch_size
):
    """`_epoch` for many settings at once: weights, state and hyperparameters vary (axis 0); the data,
    the batches and the optimizer do not."""
    epoch = partial(_epoch, network=network, batch_size=batch_size)
    in_axes = (0, 0, 0, None, None, 0, 0, None, None, None, None)
    return jax.vmap(epoch, in_axes=in_axes)(
        flats, states, diverged, key, kind, rows, weight_decays, x, labels, x_val, y_val
    )


# --- runs ------------------------------------------------------------------------------------------


def hyperparameter_row(optimizer: str, lr: float | None) -> jax.Array:
    """The optimizer's hyperparameters for the MLP (its defaults; `lr` if given) as a float32 row."""
    return rule_row(resolve_hyperparameters(optimizer, {} if lr is None else {"lr": lr}), jnp.float32)


def recommended_lr(optimizer: str) -> float:
    return resolve_hyperparameters(optimizer, {})["lr"]


def training_data(train_size: int):
    """(x, y, x_val, y_val): the first `train_size` training digits and the 2,000 validation digits."""
    low, high = TRAIN_SIZE_RANGE
    if not (isinstance(train_size, int | np.integer) and low <= train_size <= high):
        raise ValueError(f"train_size must be an integer from {low} to {high}, not {train_size!r}")
    arrays = digits()
    return arrays.x_train[:train_size], arrays.y_train[:train_size], arrays.x_test, arrays.y_test


def _check(optimizer: str, batch_size: int, epochs: int, weight_decay: float) -> None:
    resolve_hyperparameters(optimizer, {})  # a ValueError for an optimizer the MLP does not offer
    if not (isinstance(batch_size, int | np.integer) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
    if not (isinstance(epochs, int | np.integer) and epochs >= 1):
        raise ValueError(f"epochs must be a positive integer, not {epochs!r}")
    if not (np.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"weight_decay must be a finite number >= 0, not {weight_decay!r}")


def train_epochs(
    layers: int = 2,
    width: int = 128,
    activation: str = "relu",
    init: str = "pytorch",
    optimizer: str = "gd",
    lr: float | None = None,
    weight_decay: float = 0.0,
    train_size: int = data.TRAIN_SIZE,
    batch_size: int = 64,
    epochs: int = 3,
    seed: int = 0,
    histograms: bool = False,
    start: Checkpoint | None = None,
) -> Iterator[Run]:
    """Train, yielding the Run so far after every epoch.

    `lr` None takes the optimizer's recommended learning rate for the MLP. `start` continues a
    checkpoint's weights (with its optimizer state if `optimizer` is the same, else a fresh state)
    for `epochs` more epochs, shuffled as the epochs after it would have been."""
    network = Network(layers, width, activation, init).checked()
    _check(optimizer, batch_size, epochs, weight_decay)
    batch_size = min(batch_size, train_size)
    x, y, x_val, y_val = training_data(train_size)
    kind, row = jnp.int32(MLP_OPTIMIZERS.index(optimizer)), hyperparameter_row(optimizer, lr)
    if start is None:
        flat, first_epoch, diverged = flatten(init_params(network, seed)), 0, jnp.bool_(False)
        state = _optimizers(flat.size).init(kind, flat, row)
    else:
        flat, first_epoch, diverged = start.flat, start.epoch, start.diverged
        same = start.optimizer == optimizer
        state = start.state if same else _optimizers(flat.size).init(kind, flat, row)
    probe = (x[:PROBE_SIZE], y[:PROBE_SIZE], activation)
    snapshots = [snapshot(unflatten(flat, network), *probe)] if histograms else []
    per_step, per_epoch = [], []
    for epoch in range(first_epoch, first_epoch + epochs):
        (flat, state, diverged), (losses, ratios, bad, *metrics) = _one_epoch(
            flat,
            state,
            diverged,
            epoch_key(seed, epoch),
            kind,
            row,
            jnp.float32(weight_decay),
            x,
            y,
            x_val,
            y_val,
            network=_architecture(network),
            batch_size=batch_size,
        )
        per_step.append([np.asarray(losses), np.asarray(ratios), np.asarray(bad)])
        per_epoch.append([float(m) for m in metrics])
        if histograms:
            snapshots.append(snapshot(unflatten(flat, network), *probe))
        yield _run(
            per_step,
            per_epoch,
            snapshots,
            first_epoch,
            Checkpoint(flat, state, optimizer, epoch + 1, diverged),
        )


def _run(per_step, per_epoch, snapshots, first_epoch, checkpoint) -> Run:
    losses, ratios, bad = (np.concatenate(parts) for parts in zip(*per_step, strict=True))
    train_loss, train_accuracy, val_accuracy, val_loss = np.asarray(per_epoch, np.float64).T
    return Run(
        train_loss=train_loss,
        train_accuracy=train_accuracy,
        val_loss=val_loss,
        val_accuracy=val_accuracy,
        batch_loss=losses.astype(np.float64),
        update_ratio=ratios.astype(np.float64),
        snapshots=tuple(snapshots),
        diverged_at=int(np.argmax(bad)) + 1 if bad.any() else None,
        first_epoch=first_epoch,
        checkpoint=checkpoint,
    )


def train(**settings) -> Run:
    """`train_epochs` to the end: the finished Run (same arguments)."""
    *_, run = train_epochs(**settings)
    return run


def branch(at_epoch: int, epochs: int, change: dict, **settings) -> tuple[Run, Run]:
    """Step in while training: the run of `settings` for `epochs` epochs, and the branch that pauses
    it after `at_epoch` and goes on from the same weights with `change` (e.g. {"lr": 0.01} or
    {"optimizer": "adam", "lr": None}) for the remaining epochs. Both see the same batches."""
    if not 1 <= at_epoch < epochs:
        raise ValueError(f"the pause must come after epoch 1 to {epochs - 1}, not {at_epoch!r}")
    base = train(**settings, epochs=epochs)
    paused = train(**settings, epochs=at_epoch)
    return base, train(**{**settings, **change}, epochs=epochs - at_epoch, start=paused.checkpoint)


class Together(NamedTuple):
    """Several settings trained side by side (one vmapped call per epoch): rows are settings."""

    batch_loss: np.ndarray  # (settings, steps)
    train_accuracy: np.ndarray  # (settings, epochs)
    val_accuracy: np.ndarray  # (settings, epochs)
    val_loss: np.ndarray  # (settings, epochs)
    diverged_at: np.ndarray  # (settings,) the first bad step, 0 if none


def train_together(
    lrs,
    weight_decays,
    layers: int = 1,
    width: int = 128,
    activation: str = "relu",
    init: str = "pytorch",
    optimizer: str = "gd",
    train_size: int = data.TRAIN_SIZE,
    batch_size: int = 64,
    epochs: int = 2,
    seed: int = 0,
) -> Together:
    """Train one network per (lr, weight decay) pair, all from the same initial weights on the same
    batches, in one vmapped compiled call per epoch (not a Python loop over settings)."""
    network = Network(layers, width, activation, init).checked()
    lrs, weight_decays = np.asarray(lrs, np.float64), np.asarray(weight_decays, np.float64)
    for value in weight_decays:
        _check(optimizer, batch_size, epochs, float(value))
    if not (
        lrs.shape == weight_decays.shape and lrs.ndim == 1 and np.all(lrs > 0) and np.all(np.isfinite(lrs))
    ):
        raise ValueError("lrs must be positive finite numbers, one per weight decay")
    x, y, x_val, y_val = training_data(train_size)
    count, kind = len(lrs), jnp.int32(MLP_OPTIMIZERS.index(optimizer))
    rows = jnp.stack([hyperparameter_row(optimizer, float(lr)) for lr in lrs])
    flat = flatten(init_params(network, seed))
    flats = jnp.broadcast_to(flat, (count, flat.size))
    states = jax.vmap(lambda f, r: _optimizers(flat.size).init(kind, f, r))(flats, rows)
    carry = (flats, states, jnp.zeros(count, bool))
    losses, bad, metrics = [], [], []
    for epoch in range(epochs):
        carry, (step_losses, _, step_bad, _, train_accuracy, val_accuracy, val_loss) = _many_epochs(
            *carry,
            epoch_key(seed, epoch),
            kind,
            rows,
            jnp.asarray(weight_decays, jnp.float32),
            x,
            y,
            x_val,
            y_val,
            network=_architecture(network),
            batch_size=min(batch_size, train_size),
        )
        losses.append(np.asarray(step_losses))
        bad.append(np.asarray(step_bad))
        metrics.append([np.asarray(train_accuracy), np.asarray(val_accuracy), np.asarray(val_loss)])
    bad = np.concatenate(bad, axis=1)
    train_accuracy, val_accuracy, val_loss = (
        np.stack(m, axis=1).astype(np.float64) for m in zip(*metrics, strict=True)
    )
    return Together(
        batch_loss=np.concatenate(losses, axis=1).astype(np.float64),
        train_accuracy=train_accuracy,
        val_accuracy=val_accuracy,
        val_loss=val_loss,
        diverged_at=np.where(bad.any(axis=1), np.argmax(bad, axis=1) + 1, 0),
    )


def steps_per_epoch(train_size: int, batch_size: int) -> int:
    return batches_per_epoch(train_size, min(batch_size, train_size))
