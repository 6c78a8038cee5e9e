r"""A multilayer perceptron on MNIST digits, trained with the lab's optimizers, in float32 JAX.

The network, in the lecture's notation (x is a flattened 28 x 28 image, pixels scaled to [0, 1]):

    h = \sigma(x W_1 + b_1)        W_1: (784, hidden), b_1: (hidden,), \sigma = ReLU, sigmoid or tanh
    z = h W_2 + b_2                W_2: (hidden, 10),  b_2: (10,)
    p = softmax(z),  L = -(1/B) \sum_i \log p_{i, y_i}      (softmax cross-entropy over a mini-batch)

Weights start as PyTorch's nn.Linear does: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn from `seed`,
so every optimizer in a race starts from the same network and sees the same shuffled batches.

Training reuses `optviz.optimizers` unchanged: those update rules work on one array, so the parameters
are raveled into one flat vector (`jax.flatten_util.ravel_pytree`) and unraveled inside the loss. One
epoch is one compiled `lax.scan` over the shuffled mini-batches. The ragged last batch is *padded*:
with N images and batch size B there are ceil(N / B) batches, the last one filled up with repeated
images whose weight is zero, so every image counts exactly once per epoch and the padded batch's loss
is the mean over its real images only (dropping it instead would skip up to B - 1 images an epoch:
3,000 of 8,000 at B = 5,000).

Numbers are float32 throughout (data, parameters, hyperparameters), even though importing `surfaces`
switches JAX to x64: networks train in float32, and it halves the memory every step streams through.
The optimizer (`optviz.optimizers.switchable`: an index picked by `lax.switch`, every state in one
flat layout) and its hyperparameters are traced arguments, so neither a learning rate nor the
optimizer recompiles: one compiled epoch per hidden size, activation, batch size and data size serves
a whole race (compiling an epoch costs more than training one, so compiling per optimizer would
cost more than the race).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache, partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from optviz import data
from optviz.optimizers import MLP, OPTIMIZERS, Switchable, get_optimizer, rule_row, switchable

N_PIXELS = 28 * 28
N_CLASSES = 10
ACTIVATIONS = {"relu": jax.nn.relu, "sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh}
ACTIVATION_LATEX = {
    "relu": r"\mathrm{ReLU}(u) = \max(0, u)",
    "sigmoid": r"\sigma(u) = \frac{1}{1 + e^{-u}}",
    "tanh": r"\tanh(u)",
}
# With real mini-batches the gradient noise is real, so an optimizer whose default adds artificial
# noise (the lab's "sgd") has no place here: "gd" on mini-batches *is* SGD.
MLP_OPTIMIZERS = tuple(name for name, spec in OPTIMIZERS.items() if spec.defaults["noise"] == 0)
HIDDEN_RANGE = (1, 1024)
BATCH_RANGE = (1, data.TRAIN_SIZE)
EPOCH_RANGE = (1, 50)
# The page keeps a run responsive by capping its mini-batch steps (batch size 1: 8,000 steps an
# epoch); `epoch_cap` turns that into epochs.
MAX_PAGE_STEPS = 8000


class Params(NamedTuple):
    """The MLP's parameters (float32)."""

    w1: jax.Array  # (784, hidden)
    b1: jax.Array  # (hidden,)
    w2: jax.Array  # (hidden, 10)
    b2: jax.Array  # (10,)


class History(NamedTuple):
    """A training run as NumPy arrays: one entry per finished epoch, and one per mini-batch step.

    train_loss and train_accuracy are averages over the epoch's mini-batches, measured as they were
    trained on (as a PyTorch training loop reports them); test_* are measured on the 2,000 test images
    after the epoch. `params` are the weights after the last finished epoch.

    `path` is where the weights went: the flat parameter vector (the order of
    `jax.flatten_util.ravel_pytree(Params)`: w1, b1, w2, b2, each raveled) at the start (row 0, the
    initial weights every optimizer with this seed shares) and after each finished epoch, for drawing
    the run's path through weight space (`optviz.mlp.landscape`). It is float16 to bound memory: 2 bytes
    a weight, 101,770 x 6 x 2 B = 1.2 MB for 5 epochs of the 128-unit network (float32, kept by every
    finished job, would double it; the page's largest run, 512 units x 20 epochs, keeps 17 MB), and its
    ~3 significant digits are far finer than a drawing needs. Recording a row costs ~0.5 ms an epoch.
    A weight beyond float16's range (+-65,504; only a diverged run's) becomes +-inf there.
    None only in a History made by hand without weights (figure tests).
    """

    train_loss: np.ndarray  # (epochs,)
    train_accuracy: np.ndarray  # (epochs,)
    test_loss: np.ndarray  # (epochs,)
    test_accuracy: np.ndarray  # (epochs,)
    batch_loss: np.ndarray  # (epochs * batches_per_epoch,): the loss of every mini-batch, before its step
    params: Params  # NumPy arrays
    diverged_at: int | None  # the first step whose update was not finite (params froze before it), or None
    path: np.ndarray | None = None  # (epochs + 1, parameters) float16: the start, then after each epoch

    @property
    def epochs(self) -> int:
        return len(self.test_loss)

    @property
    def nbytes(self) -> int:
        """The memory its arrays hold (what a finished run kept for everyone costs)."""
        arrays = [self.train_loss, self.train_accuracy, self.test_loss, self.test_accuracy, self.batch_loss]
        arrays += [*self.params, *([] if self.path is None else [self.path])]
        return sum(np.asarray(a).nbytes for a in arrays)


class StepNumbers(NamedTuple):
    """One training-loop iteration on one mini-batch, as the page explains it phase by phase."""

    shapes: dict[str, tuple[int, ...]]  # x, h, z (logits), p, and every parameter
    loss: float  # the mini-batch loss before the step
    grad_norms: dict[str, float]  # ||dL/dW_1||, ||dL/db_1||, ... (Frobenius norms)
    update_norms: dict[str, float]  # ||Δ W_1||, ... : what the optimizer's step changed
    loss_after: float  # the same mini-batch's loss after the step


# --- the network --------------------------------------------------------------------------------


def init_params(hidden: int = 128, seed: int = 0) -> Params:
    """nn.Linear's initialization for both layers: every W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    keys = jax.random.split(jax.random.key(seed), 4)

    def uniform(key, shape, fan_in):
        bound = 1.0 / np.sqrt(fan_in)
        return jax.random.uniform(key, shape, jnp.float32, -bound, bound)

    return Params(
        w1=uniform(keys[0], (N_PIXELS, hidden), N_PIXELS),
        b1=uniform(keys[1], (hidden,), N_PIXELS),
        w2=uniform(keys[2], (hidden, N_CLASSES), hidden),
        b2=uniform(keys[3], (N_CLASSES,), hidden),
    )


def parameter_count(params: Params) -> int:
    return sum(int(np.size(p)) for p in params)


def hidden_layer(params: Params, x, activation: str = "relu"):
    """h = σ(x W_1 + b_1) for a batch x of shape (B, 784): shape (B, hidden)."""
    return ACTIVATIONS[activation](x @ params.w1 + params.b1)


def forward(params: Params, x, activation: str = "relu"):
    """The logits z = σ(x W_1 + b_1) W_2 + b_2, shape (B, 10); softmax(z) are the class probabilities."""
    return hidden_layer(params, x, activation) @ params.w2 + params.b2


def cross_entropy(logits, labels, weights=None):
    """Mean softmax cross-entropy -log softmax(z)_y, weighted (weights 0 mark padding) if given."""
    losses = -jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], axis=1)[:, 0]
    if weights is None:
        return jnp.mean(losses)
    return jnp.sum(weights * losses) / jnp.sum(weights)


def loss_fn(params: Params, x, labels, activation: str = "relu", weights=None):
    """L(θ) on one mini-batch: the softmax cross-entropy of the MLP's logits."""
    return cross_entropy(forward(params, x, activation), labels, weights)


@partial(jax.jit, static_argnames="activation")
def predict(params: Params, x, activation: str = "relu"):
    """Class probabilities softmax(z), shape (B, 10)."""
    return jax.nn.softmax(forward(params, x, activation))


# --- data ---------------------------------------------------------------------------------------


class Arrays(NamedTuple):
    """Digits as float32 device arrays: images flattened to (N, 784) and scaled to [0, 1]."""

    x_train: jax.Array
    y_train: jax.Array
    x_test: jax.Array
    y_test: jax.Array


def as_arrays(digits: data.Digits) -> Arrays:
    def flat(images):
        return jnp.asarray(images.reshape(len(images), -1), jnp.float32) / 255.0

    return Arrays(
        flat(digits.train_images),
        jnp.asarray(digits.train_labels, jnp.int32),
        flat(digits.test_images),
        jnp.asarray(digits.test_labels, jnp.int32),
    )


@cache
def digits() -> Arrays:
    """The bundled 8,000 + 2,000 digits, loaded once per process."""
    return as_arrays(data.load())


# --- training -----------------------------------------------------------------------------------


def batches_per_epoch(n: int, batch_size: int) -> int:
    return -(-n // batch_size)


def epoch_cap(batch_size: int, n: int = data.TRAIN_SIZE) -> int:
    """The most epochs the page trains at this batch size: MAX_PAGE_STEPS steps, at least one epoch."""
    return max(1, min(EPOCH_RANGE[1], MAX_PAGE_STEPS // batches_per_epoch(n, batch_size)))


def batch_indices(key, n: int, batch_size: int):
    """One epoch's shuffled mini-batches: indices (batches, B) and weights (batches, B), padding weighted 0.

    The padding repeats the first images of the shuffle, so it costs nothing but weighs nothing.
    """
    batches = batches_per_epoch(n, batch_size)
    order = jax.random.permutation(key, n)
    pad = batches * batch_size - n
    indices = jnp.concatenate([order, order[:pad]])
    weights = jnp.concatenate([jnp.ones(n, jnp.float32), jnp.zeros(pad, jnp.float32)])
    return indices.reshape(batches, batch_size), weights.reshape(batches, batch_size)


def epoch_key(seed: int, epoch: int):
    """The shuffle of epoch `epoch` (0-based): the same for every optimizer with the same seed."""
    return jax.random.fold_in(jax.random.key(seed + 1), epoch)  # not the init key: independent draws


@cache
def _unravel(hidden: int):
    """flat vector -> Params for this hidden size (ravel_pytree's inverse, built once per size)."""
    return ravel_pytree(init_params(hidden))[1]


def _optimizers(hidden: int) -> Switchable:
    """Every MLP optimizer as one traced choice, on the raveled parameters of this hidden size."""
    size = (N_PIXELS + 1) * hidden + (hidden + 1) * N_CLASSES
    return switchable(MLP_OPTIMIZERS, (size,), jnp.float32)


def _train_step(carry, batch, *, x, labels, optimizer, hidden, activation, hyperparams):
    """zero_grad / forward / loss / backward / step on one mini-batch (JAX has no grads to zero: each
    jax.grad call returns fresh ones). `optimizer` is a traced index into MLP_OPTIMIZERS and
    `hyperparams` a traced row of RULE_HYPERPARAMETERS. An update that is not finite is skipped and
    marks divergence."""
    flat, state, diverged = carry
    indices, weights = batch
    unravel = _unravel(hidden)

    def batch_loss(flat):
        logits = forward(unravel(flat), x[indices], activation)
        return cross_entropy(logits, labels[indices], weights), logits

    (loss, logits), grads = jax.value_and_grad(batch_loss, has_aux=True)(flat)
    updates, new_state = _optimizers(hidden).update(optimizer, grads, state, flat, hyperparams)
    # Once an update is not finite the parameters stay frozen for good (`diverged` is sticky), so the
    # optimizer's state may go bad without harm and needs no guarding of its own.
    ok = jnp.all(jnp.isfinite(updates)) & ~diverged
    flat = jnp.where(ok, flat + updates, flat)
    correct = jnp.sum(weights * (jnp.argmax(logits, axis=1) == labels[indices]))
    return (flat, new_state, ~ok), (loss, correct, ~ok)


@partial(jax.jit, static_argnames=("hidden", "activation", "batch_size"))
def _epoch(flat, state, diverged, key, optimizer, hyperparams, arrays, *, hidden, activation, batch_size):
    """One epoch as one compiled scan over the shuffled mini-batches, then the test-set evaluation.

    The optimizer (an index into MLP_OPTIMIZERS) and its hyperparameters are traced: one compiled
    function per (hidden, activation, batch size, data size) serves every optimizer and setting.
    Returns the new (flat, state, diverged), each batch's loss, whether each step diverged, the
    epoch's train loss and accuracy (averaged over its batches as trained) and the test loss and accuracy.
    """
    n = arrays.x_train.shape[0]
    indices, weights = batch_indices(key, n, batch_size)
    step = partial(
        _train_step,
        x=arrays.x_train,
        labels=arrays.y_train,
        optimizer=optimizer,
        hidden=hidden,
        activation=activation,
        hyperparams=hyperparams,
    )
    (flat, state, diverged), (losses, correct, bad) = jax.lax.scan(
        step, (flat, state, diverged), (indices, weights)
    )
    batch_sizes = jnp.sum(weights, axis=1)
    train_loss = jnp.sum(losses * batch_sizes) / n
    test_logits = forward(_unravel(hidden)(flat), arrays.x_test, activation)
    test_loss = cross_entropy(test_logits, arrays.y_test)
    test_accuracy = jnp.mean(jnp.argmax(test_logits, axis=1) == arrays.y_test)
    metrics = (train_loss, jnp.sum(correct) / n, test_loss, test_accuracy)
    return (flat, state, diverged), losses, bad, metrics


def resolve(optimizer: str, hyperparams: Mapping[str, float]) -> dict[str, float]:
    """The optimizer's hyperparameters for the MLP: its defaults, its recommendation for this network
    (`OptimizerSpec.recommended[MLP]`, a learning rate that trains well in a few epochs), `hyperparams`.

    ValueError for an optimizer the MLP does not offer or a hyperparameter it does not take.
    """
    if optimizer not in MLP_OPTIMIZERS:
        get_optimizer(optimizer)  # a ValueError listing the valid names if it is not one at all
        raise ValueError(
            f"{optimizer!r} adds artificial gradient noise; with mini-batches plain 'gd' is SGD. "
            f"Choose one of: {', '.join(MLP_OPTIMIZERS)}"
        )
    if "noise" in hyperparams:
        raise ValueError("the MLP's gradient noise comes from its mini-batches; it takes no 'noise'")
    resolved = OPTIMIZERS[optimizer].resolve(hyperparams, problem=MLP)
    resolved.pop("noise")
    return resolved


def _traced(optimizer: str, hyperparams: Mapping[str, float]) -> tuple[jax.Array, jax.Array]:
    """The optimizer's index into MLP_OPTIMIZERS and its hyperparameters as a float32 row (float32
    keeps the parameters float32 under x64): what the compiled epoch takes."""
    row = rule_row(resolve(optimizer, hyperparams), jnp.float32)
    return jnp.int32(MLP_OPTIMIZERS.index(optimizer)), row


def _check_structure(hidden, activation, batch_size, epochs) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of: {', '.join(ACTIVATIONS)}")
    for name, value, (low, high) in (
        ("hidden", hidden, HIDDEN_RANGE),
        ("batch_size", batch_size, BATCH_RANGE),
        ("epochs", epochs, EPOCH_RANGE),
    ):
        if not (isinstance(value, int | np.integer) and low <= value <= high):
            raise ValueError(f"{name} must be an integer from {low} to {high}, not {value!r}")


def train_epochs(
    optimizer: str = "adam",
    hidden: int = 128,
    activation: str = "relu",
    batch_size: int = 64,
    epochs: int = 5,
    seed: int = 0,
    arrays: Arrays | None = None,
    **hyperparams: float,
) -> Iterator[History]:
    """Train, yielding the History so far after every epoch (so a page can draw it live).

    One compiled call per epoch; the first call for a new (optimizer, hidden, activation, batch size)
    compiles. `arrays` defaults to the bundled digits.
    """
    _check_structure(hidden, activation, batch_size, epochs)
    arrays = digits() if arrays is None else arrays
    index, row = _traced(optimizer, hyperparams)
    flat, unravel = ravel_pytree(init_params(hidden, seed))
    state, diverged = _optimizers(hidden).init(index, flat, row), jnp.bool_(False)
    structure = {"hidden": hidden, "activation": activation, "batch_size": batch_size}
    batch_losses, bad_steps, metrics, path = [], [], [], [_float16(flat)]
    for epoch in range(epochs):
        (flat, state, diverged), losses, bad, values = _epoch(
            flat, state, diverged, epoch_key(seed, epoch), index, row, arrays, **structure
        )
        batch_losses.append(np.asarray(losses))
        bad_steps.append(np.asarray(bad))
        metrics.append([float(v) for v in values])
        path.append(_float16(flat))
        yield _history(batch_losses, bad_steps, metrics, unravel(flat), path)


def _float16(flat) -> np.ndarray:
    """A flat parameter vector as a float16 row of History.path (out of range: +-inf, without a warning)."""
    with np.errstate(over="ignore"):
        return np.asarray(flat).astype(np.float16)


def _history(batch_losses, bad_steps, metrics, params, path) -> History:
    columns = np.asarray(metrics, dtype=np.float64).T
    bad = np.concatenate(bad_steps)
    return History(
        train_loss=columns[0],
        train_accuracy=columns[1],
        test_loss=columns[2],
        test_accuracy=columns[3],
        batch_loss=np.concatenate(batch_losses),
        params=Params(*(np.asarray(p) for p in params)),
        diverged_at=int(np.argmax(bad)) + 1 if bad.any() else None,
        path=np.stack(path),
    )


def train(
    optimizer: str = "adam",
    hidden: int = 128,
    activation: str = "relu",
    batch_size: int = 64,
    epochs: int = 5,
    seed: int = 0,
    arrays: Arrays | None = None,
    **hyperparams: float,
) -> History:
    """Train the MLP on the digits and return its History (per-epoch curves and the final weights).

    `hyperparams` are the optimizer's (lr, beta, b1, ...); those left out take the optimizer's
    defaults, with a learning rate suited to this network (`OptimizerSpec.recommended[MLP]`).
    """
    *_, history = train_epochs(optimizer, hidden, activation, batch_size, epochs, seed, arrays, **hyperparams)
    return history


# --- inspection ---------------------------------------------------------------------------------


def step_numbers(
    optimizer: str = "adam",
    hidden: int = 128,
    activation: str = "relu",
    batch_size: int = 64,
    seed: int = 0,
    arrays: Arrays | None = None,
    **hyperparams: float,
) -> StepNumbers:
    """The numbers of the very first training-loop iteration: the first shuffled mini-batch, the
    initial weights, one step of `optimizer`."""
    _check_structure(hidden, activation, batch_size, 1)
    arrays = digits() if arrays is None else arrays
    params = init_params(hidden, seed)
    indices, weights = batch_indices(epoch_key(seed, 0), arrays.x_train.shape[0], batch_size)
    real = indices[0][weights[0] > 0]
    x, labels = arrays.x_train[real], arrays.y_train[real]
    loss, grads = jax.value_and_grad(loss_fn)(params, x, labels, activation)
    flat, unravel = ravel_pytree(params)
    rule = OPTIMIZERS[optimizer].rule(**resolve(optimizer, hyperparams))
    updates, _ = rule.update(ravel_pytree(grads)[0], rule.init(flat), flat)
    stepped = unravel(flat + updates)
    h = hidden_layer(params, x, activation)
    shapes = {"x": x.shape, "h": h.shape, "z": (x.shape[0], N_CLASSES), "p": (x.shape[0], N_CLASSES)}
    shapes.update({name: tuple(p.shape) for name, p in params._asdict().items()})
    norms = {name: float(jnp.linalg.norm(g)) for name, g in grads._asdict().items()}
    steps = {name: float(jnp.linalg.norm(u)) for name, u in unravel(updates)._asdict().items()}
    return StepNumbers(shapes, float(loss), norms, steps, float(loss_fn(stepped, x, labels, activation)))


def confusion_matrix(labels, predicted) -> np.ndarray:
    """counts[i, j] = how many images of digit i were predicted as j."""
    counts = np.zeros((N_CLASSES, N_CLASSES), dtype=np.int64)
    np.add.at(counts, (np.asarray(labels), np.asarray(predicted)), 1)
    return counts


__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_LATEX",
    "BATCH_RANGE",
    "EPOCH_RANGE",
    "HIDDEN_RANGE",
    "MAX_PAGE_STEPS",
    "MLP_OPTIMIZERS",
    "N_CLASSES",
    "N_PIXELS",
    "Arrays",
    "History",
    "Params",
    "StepNumbers",
    "as_arrays",
    "batch_indices",
    "batches_per_epoch",
    "confusion_matrix",
    "cross_entropy",
    "digits",
    "epoch_cap",
    "epoch_key",
    "forward",
    "hidden_layer",
    "init_params",
    "loss_fn",
    "parameter_count",
    "predict",
    "resolve",
    "step_numbers",
    "train",
    "train_epochs",
]
