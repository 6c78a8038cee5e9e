r"""Hyperparameter search (CS231n, neural-networks-3; Bergstra & Bengio 2012): the learning rate and
the L2 weight decay, both on a log scale, by random or grid search.

Random search draws each trial's log10(lr) and log10(weight decay) uniformly from their ranges; grid
search puts k x k trials (k = floor(sqrt(n))) at the centres of a k x k log grid. When one hyperparameter
matters far more than the other (here the learning rate), a grid of n trials tries only k = sqrt(n)
distinct learning rates, while random search tries n: Bergstra & Bengio's argument, which the
page's marginal plot shows on these very trials.

Trials are short trainings of one small network, run CHUNK at a time as one vmapped compiled call
per epoch (`training.train_together`), all from the same initial weights on the same batches. The
search yields its table after every chunk, so a stopped search keeps the trials that finished.
A diverged trial is marked; its accuracy (of weights frozen where they blew up) means nothing, so it is
never the best.
"""

from __future__ import annotations

from collections.abc import Iterator
from math import isqrt
from typing import NamedTuple

import numpy as np

from optviz.diagnose.training import train_together

METHODS = ("random", "grid")
TRIALS_RANGE = (4, 64)
EPOCHS_RANGE = (1, 5)
CHUNK = 16  # trials per compiled call: a stop waits for at most one chunk
LR_RANGE = (1e-5, 1.0)  # Adam's learning rate
WEIGHT_DECAY_RANGE = (1e-6, 1.0)
SEARCH_NETWORK = {"layers": 1, "width": 128, "activation": "relu", "init": "pytorch"}
SEARCH_OPTIMIZER = "adam"
SEARCH_BATCH = 100
BORDER = 0.1  # the outer fraction of a log range that counts as its border


class Search(NamedTuple):
    """The trials finished so far (rows), and the search that made them."""

    method: str
    lr: np.ndarray
    weight_decay: np.ndarray
    val_accuracy: np.ndarray
    train_accuracy: np.ndarray
    diverged: np.ndarray  # bool
    planned: int  # trials the search will have when finished
    lr_range: tuple[float, float]
    weight_decay_range: tuple[float, float]

    @property
    def done(self) -> int:
        return len(self.lr)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.lr, self.weight_decay, self.val_accuracy, self.train_accuracy))

    def rows(self) -> list[dict]:
        """One row per trial: lr, weight_decay, val_accuracy, train_accuracy, diverged."""
        return [
            {
                "lr": float(lr),
                "weight_decay": float(wd),
                "val_accuracy": float(acc),
                "train_accuracy": float(train),
                "diverged": bool(bad),
            }
            for lr, wd, acc, train, bad in zip(
                self.lr, self.weight_decay, self.val_accuracy, self.train_accuracy, self.diverged, strict=True
            )
        ]

    def best(self) -> int:
        """The index of the trial with the highest validation accuracy, among those that did not
        diverge (if all did, among all)."""
        accuracy = np.where(self.diverged & ~self.diverged.all(), -np.inf, self.val_accuracy)
        return int(np.argmax(accuracy))

    def on_border(self) -> list[str]:
        """The hyperparameters whose best value lies in the outer BORDER of its log range: the
        optimum may lie outside it, so the range should move (CS231n's warning)."""
        best = self.best()
        names = []
        for name, values, (low, high) in (
            ("learning rate", self.lr, self.lr_range),
            ("weight decay", self.weight_decay, self.weight_decay_range),
        ):
            where = (np.log10(values[best]) - np.log10(low)) / (np.log10(high) - np.log10(low))
            if where < BORDER or where > 1 - BORDER:
                names.append(name)
        return names


def check_range(name: str, bounds: tuple[float, float]) -> tuple[float, float]:
    low, high = (float(b) for b in bounds)
    if not (np.isfinite(low) and np.isfinite(high) and 0 < low < high):
        raise ValueError(f"{name} range must be two positive numbers, low < high, not {bounds!r}")
    return low, high


def trial_settings(
    method: str, n: int, lr_range, weight_decay_range, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The (lr, weight decay) of every trial: log-uniform draws, or a k x k log grid (k = isqrt(n))."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    low, high = TRIALS_RANGE
    if not (isinstance(n, int | np.integer) and low <= n <= high):
        raise ValueError(f"n must be an integer from {low} to {high}, not {n!r}")
    logs = [np.log10(check_range(*pair)) for pair in (("lr", lr_range), ("weight_decay", weight_decay_range))]
    if method == "random":
        rng = np.random.default_rng(seed)
        return tuple(10.0 ** rng.uniform(*log, size=n) for log in logs)
    k = isqrt(n)
    centres = (np.arange(k) + 0.5) / k  # the middles of k equal cells: no trial sits on the border
    lr, wd = np.meshgrid(*(low + centres * (high - low) for low, high in logs), indexing="ij")
    return 10.0 ** lr.ravel(), 10.0 ** wd.ravel()


def search_chunks(
    method: str = "random",
    n: int = 16,
    epochs: int = 1,
    seed: int = 0,
    lr_range: tuple[float, float] = LR_RANGE,
    weight_decay_range: tuple[float, float] = WEIGHT_DECAY_RANGE,
) -> Iterator[Search]:
    """Run the search CHUNK trials at a time, yielding every trial finished so far after each chunk.
    The last chunk is padded with copies of its first trial, so every call has the same shape
    (one compilation); the copies are dropped."""
    lr_range, weight_decay_range = (
        check_range("lr", lr_range),
        check_range("weight_decay", weight_decay_range),
    )
    lrs, wds = trial_settings(method, n, lr_range, weight_decay_range, seed)
    low, high = EPOCHS_RANGE
    if not (isinstance(epochs, int | np.integer) and low <= epochs <= high):
        raise ValueError(f"epochs must be an integer from {low} to {high}, not {epochs!r}")
    chunk = min(CHUNK, len(lrs))
    columns: list[list[np.ndarray]] = [[], [], []]
    for start in range(0, len(lrs), chunk):
        real = len(lrs[start : start + chunk])
        pad = np.full(chunk - real, start)
        picked = np.concatenate([np.arange(start, start + real), pad])
        together = train_together(
            lrs[picked],
            wds[picked],
            **SEARCH_NETWORK,
            optimizer=SEARCH_OPTIMIZER,
            batch_size=SEARCH_BATCH,
            epochs=epochs,
            seed=seed,
        )
        columns[0].append(together.val_accuracy[:real, -1])
        columns[1].append(together.train_accuracy[:real, -1])
        columns[2].append(together.diverged_at[:real] > 0)
        done = start + real
        yield Search(
            method,
            lrs[:done],
            wds[:done],
            *(np.concatenate(c) for c in columns),
            len(lrs),
            lr_range,
            weight_decay_range,
        )


def search(method: str = "random", n: int = 16, epochs: int = 1, seed: int = 0, **ranges) -> Search:
    """The whole search (`search_chunks` to the end)."""
    *_, finished = search_chunks(method, n, epochs, seed, **ranges)
    return finished


def zoom(result: Search, decades: float = 1.0) -> tuple[tuple[float, float], tuple[float, float]]:
    """Coarse to fine: new ranges `decades` either side of the best trial (CS231n's next stage)."""
    best = result.best()
    return tuple(
        (float(value * 10.0**-decades), float(value * 10.0**decades))
        for value in (result.lr[best], result.weight_decay[best])
    )
