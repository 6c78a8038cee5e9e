"""Diagnose-training benchmark: the search, a deep epoch with its histograms and the gradient check,
against their budgets (issue 19, 2-core CPU) and against baselines run in the same process.

Run from the repository root:  python -m bench.diagnose
Budgets: a 32-trial random search x 2 epochs on the 8,000 digits <= 20 s; one epoch of a 6 x 256
network with its histograms <= 1.5 s; a gradient check <= 1 s. (The page's first chart, <= 3 s after
opening with a warm cache, is measured in the browser by tests/e2e/test_diagnose_browser.py.)
Baselines: the same 32 trainings as a Python loop of `diagnose.train` calls (what vmapping them into
one compiled call per epoch buys; 8 of them timed and scaled to 32); the same deep epoch as a plain
NumPy loop (forward, hand-written backward, SGD step; 20 of its 125 batches timed and scaled); one
`jax.grad` of the check's loss (the analytic half of a check). Times are medians of repeated runs.
NumPy runs single-threaded BLAS (see bench/mlp.py for why).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS

import time

import jax
import numpy as np

from bench._timing import median_seconds
from optviz import diagnose
from optviz.diagnose import hyperparameter_search as search_module
from optviz.diagnose.gradcheck import CHECK_BATCH, CHECK_NETWORK
from optviz.diagnose.network import Network, flatten, init_params, loss_fn
from optviz.mlp.model import digits

SEARCH_BUDGET_S, EPOCH_BUDGET_S, CHECK_BUDGET_S = 20.0, 1.5, 1.0
DEEP = {"layers": 6, "width": 256, "activation": "relu", "init": "he", "optimizer": "gd", "lr": 0.05}


def numpy_epoch_seconds(batches: int = 20, batch_size: int = 64) -> float:
    """A 6 x 256 ReLU epoch (125 batches of 64) as a plain NumPy loop, from `batches` of them."""
    x, y = (np.asarray(a) for a in digits()[:2])
    params = [(np.asarray(w), np.asarray(b)) for w, b in init_params(Network(6, 256, "relu", "he"))]
    start = time.perf_counter()
    for index in range(batches):
        xb, yb = (
            x[index * batch_size : (index + 1) * batch_size],
            y[index * batch_size : (index + 1) * batch_size],
        )
        inputs, h = [], xb
        for w, b in params[:-1]:
            inputs.append(h)
            h = np.maximum(h @ w + b, 0)
        inputs.append(h)
        logits = h @ params[-1][0] + params[-1][1]
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        delta = p
        delta[np.arange(len(yb)), yb] -= 1
        delta /= len(yb)
        for layer in range(len(params) - 1, -1, -1):
            w, b = params[layer]
            grad_w, grad_b = inputs[layer].T @ delta, delta.sum(axis=0)
            if layer:
                delta = (delta @ w.T) * (inputs[layer] > 0)
            params[layer] = (w - 0.05 * grad_w, b - 0.05 * grad_b)
    return (time.perf_counter() - start) * 125 / batches


def main() -> None:
    print(f"Diagnose training on 8,000 MNIST digits, {jax.device_count()} CPU device(s), float32")
    rows = []

    start = time.perf_counter()
    diagnose.search("random", 32, 2, seed=0)
    cold = time.perf_counter() - start
    warm = median_seconds(lambda i: diagnose.search("random", 32, 2, seed=i + 1), repeat=2)
    lrs, wds = search_module.trial_settings(
        "random", 32, search_module.LR_RANGE, search_module.WEIGHT_DECAY_RANGE
    )
    one_by_one = {**search_module.SEARCH_NETWORK, "optimizer": "adam", "batch_size": 100, "epochs": 2}
    diagnose.train(**one_by_one, lr=float(lrs[0]), weight_decay=float(wds[0]))  # compiled, outside the clock
    start = time.perf_counter()
    for lr, wd in zip(lrs[:8], wds[:8], strict=True):
        diagnose.train(**one_by_one, lr=float(lr), weight_decay=float(wd))
    loop = (time.perf_counter() - start) * 4
    print(
        f"search 32 x 2 epochs: cold {cold:.1f} s, warm {warm:.1f} s (budget {SEARCH_BUDGET_S:.0f} s) | "
        f"a Python loop of train(): {loop:.1f} s (8 timed, x4): {loop / warm:.1f}x the vmapped search"
    )
    rows.append(("32-trial search x 2 epochs (cold)", cold, SEARCH_BUDGET_S))

    diagnose.train(**DEEP, epochs=1, histograms=True)
    with_histograms = median_seconds(lambda i: diagnose.train(**DEEP, epochs=1, histograms=True, seed=i), 3)
    without = median_seconds(lambda i: diagnose.train(**DEEP, epochs=1, seed=i), 3)
    numpy_epoch = numpy_epoch_seconds()
    print(
        f"6 x 256 epoch (125 batches of 64): {with_histograms:.2f} s with histograms, {without:.2f} s without"
        f" (budget {EPOCH_BUDGET_S} s) | NumPy loop {numpy_epoch:.2f} s (20 batches timed, scaled): "
        f"this epoch takes {without / numpy_epoch:.1f}x as long (it also measures 10,000 digits' accuracy)"
    )
    rows.append(("6 x 256 epoch with histograms (warm)", with_histograms, EPOCH_BUDGET_S))

    jax.clear_caches()
    start = time.perf_counter()
    diagnose.grad_check(seed=0)
    check_cold = time.perf_counter() - start
    check_warm = median_seconds(lambda i: diagnose.grad_check(seed=i + 1), repeat=5)
    sweep = median_seconds(lambda i: diagnose.step_sweep(seed=0), repeat=2, warm_up=True)
    x, y = (a[:CHECK_BATCH] for a in digits()[:2])
    flat, params = flatten(init_params(CHECK_NETWORK)), init_params(CHECK_NETWORK)
    grad = jax.jit(jax.grad(lambda p: loss_fn(p, x.astype(np.float64), y, CHECK_NETWORK.activation)))
    params64 = [(w.astype(np.float64), b.astype(np.float64)) for w, b in params]
    analytic = median_seconds(lambda i: jax.block_until_ready(grad(params64)), repeat=20, warm_up=True)
    print(
        f"gradient check (24 parameters, float64): warm {check_warm * 1e3:.0f} ms, cold {check_cold:.1f} s "
        f"(compilation) (budget {CHECK_BUDGET_S} s) | one jax.grad {analytic * 1e3:.2f} ms: "
        f"{check_warm / analytic:.0f}x | the h sweep (46 checks) {sweep:.2f} s; {flat.size:,} parameters"
    )
    rows.append(("gradient check (warm)", check_warm, CHECK_BUDGET_S))
    rows.append(("gradient check (cold, compiling)", check_cold, CHECK_BUDGET_S))
    print("first chart: measured by tests/e2e/test_diagnose_browser.py")

    print(f"\n{'budget':40} {'measured':>9} {'budget':>7}")
    for name, seconds, budget in rows:
        verdict = "ok" if seconds <= budget else "MISSED"
        print(f"{name:40} {seconds:8.3f}s {budget:6.1f}s  {verdict}")


if __name__ == "__main__":
    main()
