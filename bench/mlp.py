"""MLP benchmark: one training epoch, and a six-optimizer race, against a plain NumPy baseline.

Run from the repository root:  python -m bench.mlp
Also the training tab's poll: what rebuilding the curves costs against sending them; and the chosen
optimizers trained in turn (as the trainer does, an epoch of each) against all in one vmapped call.
Budgets (issue 5): one epoch over the 8,000 training images at batch size 64 <= 0.5 s warm on 2 cores;
6 optimizers x 5 epochs <= 15 s in total, compilation included. The baseline, measured in the same
process, is the same epoch as a plain NumPy loop (forward, hand-written backward, SGD step per batch).
Times are medians of repeated runs: the machine is shared and noisy. NumPy runs single-threaded BLAS:
on this shared 2-core machine OpenBLAS's spinning threads made its matmuls ~10x slower, and the
baseline should be the fastest plain version, not a handicapped one.
"""

import os
from functools import partial

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from bench._timing import median_seconds
from optviz.mlp import model as mlp
from optviz.mlp.figures import curves_figure
from optviz.ui.mlp import POLL_S

SIX = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
BATCH, HIDDEN, EPOCH_BUDGET_S, RACE_BUDGET_S = 64, 128, 0.5, 15.0


def numpy_epoch(params, x, labels, order, batch_size, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """The baseline: the same epoch (shuffled batches, Adam) as a Python loop over NumPy batches."""
    shapes = [np.shape(p) for p in params]
    theta = np.concatenate([np.ravel(p) for p in params])
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t, start in enumerate(range(0, len(x), batch_size), start=1):
        batch = order[start : start + batch_size]
        w1, b1_, w2, b2_ = (
            part.reshape(shape)
            for part, shape in zip(
                np.split(theta, np.cumsum([np.prod(s) for s in shapes])[:-1]), shapes, strict=True
            )
        )
        xb, yb = x[batch], labels[batch]
        pre = xb @ w1 + b1_
        h = np.maximum(pre, 0)
        z = h @ w2 + b2_
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(yb)), yb] -= 1
        dz = p / len(yb)
        dh = (dz @ w2.T) * (pre > 0)
        g = np.concatenate([(xb.T @ dh).ravel(), dh.sum(axis=0), (h.T @ dz).ravel(), dz.sum(axis=0)])
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr / (1 - b1**t) * m / (np.sqrt(v / (1 - b2**t)) + eps)
    return theta


def jax_epoch(optimizer, epoch):
    """One compiled epoch call (the first compiles), waited for."""
    arrays = mlp.digits()
    index, hyperparams = mlp._traced(optimizer, {})
    flat, _ = ravel_pytree(mlp.init_params(HIDDEN))
    state = mlp._optimizers(HIDDEN).init(index, flat, hyperparams)
    out = mlp._epoch(
        flat, state, jnp.bool_(False), mlp.epoch_key(0, epoch), index, hyperparams, arrays,
        hidden=HIDDEN, activation="relu", batch_size=BATCH,
    )  # fmt: skip
    return jax.block_until_ready(out)


def vmapped_epochs(optimizers, epochs):
    """The six optimizers in one compiled call per epoch (jax.vmap of the page's epoch over the
    networks): the alternative to training them in turn that the trainer does not take."""
    arrays = mlp.digits()
    traced = [mlp._traced(name, {}) for name in optimizers]
    index, rows = jnp.stack([i for i, _ in traced]), jnp.stack([r for _, r in traced])
    start, _ = ravel_pytree(mlp.init_params(HIDDEN))
    init = mlp._optimizers(HIDDEN).init
    state = jax.vmap(lambda i, row: init(i, start, row))(index, rows)
    carry = (jnp.tile(start, (len(traced), 1)), state, jnp.zeros(len(traced), dtype=bool))
    one = partial(mlp._epoch, hidden=HIDDEN, activation="relu", batch_size=BATCH)
    epoch = jax.vmap(one, in_axes=(0, 0, 0, None, 0, 0, None))  # key and data shared
    for k in range(epochs):
        carry, *_ = jax.block_until_ready(epoch(*carry, mlp.epoch_key(0, k), index, rows, arrays))


def main():
    print(f"MLP 784-{HIDDEN}-10 on 8,000 MNIST digits, {jax.device_count()} CPU device(s), float32")
    mlp.digits()  # load the data once, outside the timings
    accuracy = {}

    def race(i):
        jax.clear_caches()  # every repeat compiles again: the budget includes compilation
        accuracy.update({name: mlp.train(name, epochs=5).test_accuracy[-1] for name in SIX})

    race = median_seconds(race, 3)
    x = np.asarray(mlp.digits().x_train)
    labels = np.asarray(mlp.digits().y_train)
    params = mlp.init_params(HIDDEN)
    order = np.random.default_rng(0).permutation(len(x))
    baseline = median_seconds(lambda _: numpy_epoch(params, x, labels, order, BATCH), 5)
    epoch = median_seconds(lambda i: jax_epoch("adam", i), 9)
    print(f"  baseline: one NumPy epoch (batch {BATCH}, Adam)    {baseline:6.3f} s")
    print(
        f"  one epoch, Adam, batch {BATCH}, warm (median)    {epoch:6.3f} s  "
        f"(budget {EPOCH_BUDGET_S} s: {epoch / EPOCH_BUDGET_S:.2f} of it; "
        f"{baseline / epoch:4.1f}x the NumPy baseline's speed)"
    )
    print(
        f"  6 optimizers x 5 epochs, compiled afresh (median) {race:6.2f} s  "
        f"(budget {RACE_BUDGET_S:.0f} s: {race / RACE_BUDGET_S:.2f} of it; "
        f"{30 * baseline / race:.2f}x NumPy's 30 epochs, {30 * baseline:.1f} s)"
    )
    print("  test accuracy after 5 epochs: " + ", ".join(f"{k} {v:.1%}" for k, v in accuracy.items()))
    vmapped_epochs(SIX, 1)  # compiled once, outside the timing
    in_turn = median_seconds(lambda _: [mlp.train(name, epochs=2) for name in SIX], 3)
    together = median_seconds(lambda _: vmapped_epochs(SIX, 2), 3)
    print(
        f"  6 optimizers x 2 epochs, warm: in turn (the trainer's way) {in_turn:.2f} s, in one vmapped "
        f"call per epoch {together:.2f} s ({together / in_turn:.2f}x the time)"
    )
    histories = {name: mlp.train(name, epochs=5) for name in SIX}
    batches = mlp.batches_per_epoch(len(x), BATCH)
    build = median_seconds(lambda _: curves_figure(histories, batches, 5), 5)
    figure = curves_figure(histories, batches, 5)
    send = median_seconds(lambda _: figure.to_json(), 5)
    print(
        f"  the training tab's poll (every {POLL_S} s while training): building the curves "
        f"{1000 * build:.0f} ms, sending them as JSON {1000 * send:.0f} ms ({build / send:.0f}x): "
        "a poll with no new epoch only sends"
    )


if __name__ == "__main__":
    main()
