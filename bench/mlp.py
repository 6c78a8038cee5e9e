"""MLP benchmark: one training epoch, and a six-optimizer race, against a plain NumPy baseline.

Run from the repository root:  python -m bench.mlp
Budgets (issue 5): one epoch over the 8,000 training images at batch size 64 <= 0.5 s warm on 2 cores;
6 optimizers x 5 epochs <= 15 s in total, compilation included. The baseline, measured in the same
process, is the same epoch as a plain NumPy loop (forward, hand-written backward, SGD step per batch).
Times are medians of repeated runs: the machine is shared and noisy.
"""

import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from optviz import mlp

SIX = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
BATCH, HIDDEN, EPOCH_BUDGET_S, RACE_BUDGET_S = 64, 128, 0.5, 15.0


def numpy_epoch(params, x, labels, batch_size, lr=0.1):
    """The baseline: one epoch of mini-batch SGD as a Python loop over NumPy batches."""
    w1, b1, w2, b2 = (np.array(p) for p in params)
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size], labels[start : start + batch_size]
        pre = xb @ w1 + b1
        h = np.maximum(pre, 0)
        z = h @ w2 + b2
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(yb)), yb] -= 1
        dz = p / len(yb)
        dh = (dz @ w2.T) * (pre > 0)
        w1 -= lr * (xb.T @ dh)
        b1 -= lr * dh.sum(axis=0)
        w2 -= lr * (h.T @ dz)
        b2 -= lr * dz.sum(axis=0)
    return w1


def jax_epoch(optimizer, epoch):
    """One compiled epoch call (the first compiles), waited for."""
    arrays = mlp.digits()
    hyperparams = mlp._traced(optimizer, {})
    flat, _ = ravel_pytree(mlp.init_params(HIDDEN))
    slots = mlp._pack(mlp._rule(optimizer, hyperparams).init(flat), flat)
    index = jnp.int32(mlp.MLP_OPTIMIZERS.index(optimizer))
    out = mlp._epoch(
        flat, slots, jnp.bool_(False), mlp.epoch_key(0, epoch), index, hyperparams, arrays,
        hidden=HIDDEN, activation="relu", batch_size=BATCH,
    )  # fmt: skip
    return jax.block_until_ready(out)


def median_s(fn, repeat):
    times = []
    for i in range(repeat):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    print(f"MLP 784-{HIDDEN}-10 on 8,000 MNIST digits, {jax.device_count()} CPU device(s), float32")
    race = time.perf_counter()  # first: nothing is compiled yet in this process
    accuracy = {name: mlp.train(name, epochs=5).test_accuracy[-1] for name in SIX}
    race = time.perf_counter() - race
    x = np.asarray(mlp.digits().x_train)
    labels = np.asarray(mlp.digits().y_train)
    params = mlp.init_params(HIDDEN)
    baseline = median_s(lambda i: numpy_epoch(params, x, labels, BATCH), repeat=5)
    epoch = median_s(lambda i: jax_epoch("adam", i), repeat=9)
    print(f"  baseline: one NumPy epoch (batch {BATCH}, SGD)    {baseline:6.3f} s")
    print(
        f"  one epoch, Adam, batch {BATCH}, warm (median)    {epoch:6.3f} s  "
        f"(budget {EPOCH_BUDGET_S} s: {epoch / EPOCH_BUDGET_S:.2f} of it; "
        f"{baseline / epoch:4.1f}x the NumPy baseline's speed)"
    )
    print(
        f"  6 optimizers x 5 epochs, compilation included {race:6.2f} s  "
        f"(budget {RACE_BUDGET_S:.0f} s: {race / RACE_BUDGET_S:.2f} of it; "
        f"30 NumPy epochs take {30 * baseline:.1f} s, never compiled)"
    )
    print("  test accuracy after 5 epochs: " + ", ".join(f"{k} {v:.1%}" for k, v in accuracy.items()))


if __name__ == "__main__":
    main()
