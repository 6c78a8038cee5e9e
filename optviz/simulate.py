"""The friendly front of the engine: one `Trajectory` per optimizer, with surface defaults filled in.

A surface may be given by name or as its record; the name is looked up once, here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from optviz.engine import NOT_DIVERGED, run
from optviz.optimizers import OPTIMIZERS
from optviz.schedules import CONSTANT, Schedule
from surfaces import Point, Surface, as_surface


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One optimizer's run on one surface, as NumPy arrays (T steps, T + 1 rows).

    Row t is the situation before step t + 1: xy[0] is the start, grad[t] the gradient the optimizer
    saw at xy[t] (noise included), state[name][t] its state after t updates.
    """

    surface: str  # the surface's name (a plain value: a trajectory is cached and pickled)
    optimizer: str
    hyperparams: dict[str, float]
    seed: int
    xy: np.ndarray  # (T + 1, 2)
    loss: np.ndarray  # (T + 1,)
    grad: np.ndarray  # (T + 1, 2)
    state: dict[str, np.ndarray]  # each (T + 1, ...)
    diverged_at: int | None  # the step at which the run left the escape box or became non-finite
    schedule: Schedule = CONSTANT  # the learning rate of step t is hyperparams['lr'] * schedule factor

    @property
    def steps(self) -> int:
        return len(self.xy) - 1


def simulate(
    surface: str | Surface,
    optimizer: str,
    start: Point | None = None,
    steps: int | None = None,
    seed: int = 0,
    schedule: Schedule = CONSTANT,
    **hyperparams: float,
) -> Trajectory:
    """Run one optimizer on a surface; omitted values take the surface's defaults.

    >>> t = simulate("rosenbrock", "adam", start=(-1.5, 2.0), steps=200, lr=0.05)
    """
    runs = compare(surface, [optimizer], start, steps, seed, {optimizer: hyperparams}, schedule=schedule)
    return runs[optimizer]


def compare(
    surface: str | Surface,
    optimizers: Sequence[str],
    start: Point | None = None,
    steps: int | None = None,
    seed: int = 0,
    hyperparams: Mapping[str, Mapping[str, float]] | None = None,
    schedule: Schedule = CONSTANT,
    **shared: float,
) -> dict[str, Trajectory]:
    """Race several optimizers from the same start in one compiled call.

    hyperparams: optimizer name -> overrides for that optimizer; `shared` keywords (for example
    noise=0.5) apply to every optimizer that has them. All runs with the same seed see the same noise.
    schedule: the learning-rate schedule all of them follow (`optviz.schedules.Schedule`).
    """
    surface = as_surface(surface)
    names = list(dict.fromkeys(optimizers))
    hyperparams = dict(hyperparams or {})
    given = {name: {**_shared_for(name, shared), **hyperparams.pop(name, {})} for name in names}
    if hyperparams:
        raise ValueError(f"hyperparameters given for optimizers not compared: {', '.join(hyperparams)}")
    start = surface.default_start if start is None else start
    steps = surface.default_steps if steps is None else steps
    runs = run(surface, names, start, steps, given, seed, schedule=schedule)
    return {
        name: Trajectory(
            surface=surface.name,
            optimizer=name,
            hyperparams=runs[name].hyperparams,
            seed=seed,
            xy=runs[name].xy[0],
            loss=runs[name].loss[0],
            grad=runs[name].grad[0],
            state={key: value[0] for key, value in runs[name].state.items()},
            diverged_at=None if runs[name].diverged_at[0] == NOT_DIVERGED else int(runs[name].diverged_at[0]),
            schedule=schedule,
        )
        for name in names
    }


def _shared_for(name: str, shared: Mapping[str, float]) -> dict[str, float]:
    """The shared keywords that optimizer `name` takes; a keyword that no optimizer takes is an error."""
    known = {key for spec in OPTIMIZERS.values() for key in spec.hyperparams}
    unknown = sorted(set(shared) - known)
    if unknown:
        raise ValueError(
            f"no optimizer has hyperparameter {', '.join(unknown)}; valid: {', '.join(sorted(known))}"
        )
    return {key: value for key, value in shared.items() if key in OPTIMIZERS[name].hyperparams}
