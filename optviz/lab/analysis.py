r"""Beyond watching the balls roll: learning-rate sweeps, fair tuning, basins of attraction,
stability, noise fans and effective learning rates.

Each is many runs at once through the engine (one compiled, vmapped call), returned as NumPy.
No plotting, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from optviz.engine import NOT_DIVERGED, run
from optviz.lab.race import optimum_value
from optviz.optimizers import OPTIMIZERS
from optviz.schedules import CONSTANT, Schedule
from optviz.simulate import Trajectory
from surfaces import Surface, as_surface

# A run whose f - f* gets below this has solved the problem to plotting precision; below it,
# differences are rounding noise, so tuning treats them as ties.
SOLVED = 1e-12


def log_spaced(low: float, high: float, count: int) -> np.ndarray:
    """`count` values from low to high, evenly spaced on a log scale."""
    return np.logspace(np.log10(low), np.log10(high), count)


# --- learning-rate sweeps and tuning -----------------------------------------------------------------


@dataclass(frozen=True)
class Sweep:
    """One optimizer's final results over a grid of learning rates (or of two hyperparameters)."""

    optimizer: str
    values: Mapping[str, np.ndarray]  # hyperparameter -> its grid axis (one axis per swept name)
    objective: np.ndarray  # f - f* (or f where there is no f*) after the step budget, per grid point
    diverged: np.ndarray  # bool, per grid point

    @property
    def lrs(self) -> np.ndarray:
        return self.values["lr"]

    def divergence_edge(self) -> float | None:
        """For a 1D sweep: the smallest learning rate from which every larger one diverges."""
        stable = np.flatnonzero(~self.diverged)
        if stable.size == len(self.diverged):
            return None
        first_unstable = 0 if stable.size == 0 else stable[-1] + 1
        return float(self.lrs[first_unstable]) if first_unstable < len(self.lrs) else None


def _objective(surface: Surface, loss: np.ndarray) -> np.ndarray:
    f_star = optimum_value(surface)
    return loss if f_star is None else np.maximum(loss - f_star, 0.0)


def lr_sweep(
    surface: str | Surface,
    optimizers: Sequence[str],
    start,
    steps: int,
    hyperparams: Mapping[str, Mapping[str, float]] | None = None,
    lrs=None,
    seed: int = 0,
    schedule: Schedule = CONSTANT,
) -> dict[str, Sweep]:
    """Every optimizer at every learning rate in `lrs` (default: 60 over 6 decades) from `start`,
    the other hyperparameters as given: one compiled call for all of them."""
    surface = as_surface(surface)
    lrs = log_spaced(1e-5, 10.0, 60) if lrs is None else np.asarray(lrs, dtype=float)
    starts = np.repeat(np.asarray(start, dtype=float)[None], len(lrs), axis=0)
    table = {name: {**(hyperparams or {}).get(name, {}), "lr": lrs} for name in optimizers}
    runs = run(surface, list(optimizers), starts, steps, table, seed, history=False, schedule=schedule)
    return {
        name: Sweep(
            name,
            {"lr": lrs},
            _objective(surface, runs[name].loss),
            runs[name].diverged_at != NOT_DIVERGED,
        )
        for name in optimizers
    }


def lr_grid_sweep(
    surface: str | Surface,
    optimizer: str,
    other: str,
    start,
    steps: int,
    hyperparams: Mapping[str, float] | None = None,
    lrs=None,
    others=None,
    seed: int = 0,
    schedule: Schedule = CONSTANT,
) -> Sweep:
    """A two-hyperparameter sweep, e.g. lr x beta for momentum or lr x b1 for Adam, in one call.

    objective[i, j] is the result for others[i] and lrs[j] (rows: the other hyperparameter)."""
    surface = as_surface(surface)
    lrs = log_spaced(1e-4, 1.0, 40) if lrs is None else np.asarray(lrs, dtype=float)
    others = np.linspace(0.0, 0.99, 34) if others is None else np.asarray(others, dtype=float)
    lr_grid, other_grid = np.meshgrid(lrs, others)
    starts = np.repeat(np.asarray(start, dtype=float)[None], lr_grid.size, axis=0)
    table = {optimizer: {**(hyperparams or {}), "lr": lr_grid.ravel(), other: other_grid.ravel()}}
    runs = run(surface, [optimizer], starts, steps, table, seed, history=False, schedule=schedule)[optimizer]
    shape = lr_grid.shape
    return Sweep(
        optimizer,
        {other: others, "lr": lrs},
        _objective(surface, runs.loss).reshape(shape),
        (runs.diverged_at != NOT_DIVERGED).reshape(shape),
    )


@dataclass(frozen=True)
class Tuned:
    """The learning rate a sweep picked for one optimizer, and why."""

    optimizer: str
    lr: float
    objective: float  # its f - f* (or f) after the budget


def tune(sweeps: Mapping[str, Sweep], surface: str | Surface) -> dict[str, Tuned]:
    """Each optimizer's best learning rate: the lowest f - f* after the step budget among the runs
    that did not diverge. Results below SOLVED tie; among ties, the middle of the tied range (the
    most robust choice). On a surface without a minimum, leaving the plot counts (it went downhill)."""
    has_minimum = optimum_value(as_surface(surface)) is not None
    tuned = {}
    for name, sweep in sweeps.items():
        allowed = ~sweep.diverged if has_minimum else np.ones_like(sweep.diverged)
        if not allowed.any():
            continue
        score = np.where(allowed, np.maximum(sweep.objective, SOLVED), np.inf)
        best = np.flatnonzero(score == score.min())
        pick = best[len(best) // 2]
        tuned[name] = Tuned(name, float(sweep.lrs[pick]), float(sweep.objective[pick]))
    return tuned


# --- basins of attraction ------------------------------------------------------------------------------

DIVERGED, NOT_CONVERGED = -1, -2


@dataclass(frozen=True)
class BasinMap:
    """Where each start on a grid ends up: label[i, j] for the start (x[j], y[i]) is the index of the
    minimum it reached (in `surface.minima`), DIVERGED, or NOT_CONVERGED."""

    x: np.ndarray
    y: np.ndarray
    label: np.ndarray  # (ny, nx) int

    def shares(self) -> dict[int, float]:
        """The fraction of starts that got each label."""
        values, counts = np.unique(self.label, return_counts=True)
        return {int(v): c / self.label.size for v, c in zip(values, counts, strict=True)}


def basins(
    surface: str | Surface,
    optimizer: str,
    steps: int,
    hyperparams: Mapping[str, float] | None = None,
    resolution: int = 100,
    seed: int = 0,
    schedule: Schedule = CONSTANT,
) -> BasinMap:
    """Run `optimizer` from every point of a resolution x resolution grid over the plot window (one
    call) and label each start by the minimum it ends within 2% of the window's diagonal of."""
    surface = as_surface(surface)
    (x0, x1), (y0, y1) = surface.bounds
    x, y = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    starts = np.stack(np.meshgrid(x, y), axis=-1).reshape(-1, 2)
    runs = run(
        surface,
        [optimizer],
        starts,
        steps,
        {optimizer: dict(hyperparams or {})},
        seed,
        history=False,
        schedule=schedule,
    )[optimizer]
    label = np.full(len(starts), NOT_CONVERGED)
    if surface.minima:
        minima = np.array([m.xy for m in surface.minima])
        distance = np.linalg.norm(runs.xy[:, None, :] - minima, axis=-1)
        nearest = np.argmin(distance, axis=1)
        reached = distance[np.arange(len(starts)), nearest] < 0.02 * np.hypot(x1 - x0, y1 - y0)
        label = np.where(reached, nearest, NOT_CONVERGED)
    label = np.where(runs.diverged_at != NOT_DIVERGED, DIVERGED, label)
    return BasinMap(x, y, label.reshape(resolution, resolution))


# --- stability ------------------------------------------------------------------------------------------


@partial(jax.jit, static_argnames="family")
def _hessian_eigenvalues(family, params, xy):
    """The eigenvalues (ascending) of the Hessian of f = family(params, .) at each point of xy (N, 2):
    (N, 2). Keyed by the surface's family (`Surface.split`): one compile serves every formula."""
    hessian = jax.vmap(jax.hessian(partial(family, params)))(xy)
    return jnp.linalg.eigvalsh(hessian)


def hessian_eigenvalues(surface: str | Surface, xy) -> np.ndarray:
    """lambda_min, lambda_max of the Hessian at each point of xy (..., 2), as (..., 2)."""
    xy = np.asarray(xy, dtype=float)
    flat = np.asarray(_hessian_eigenvalues(*as_surface(surface).split(), xy.reshape(-1, 2)))
    return flat.reshape(xy.shape)


@dataclass(frozen=True)
class Stability:
    """Along a trajectory: curvature and the stability gauge lr_t * c * lambda_max against its bound."""

    eigenvalues: np.ndarray  # (T + 1, 2): lambda_min, lambda_max of the Hessian at each point
    gauge: np.ndarray | None  # (T,) for steps 1..T: lr_t * c * lambda_max at the point the step starts
    bound: float | None

    def first_unstable_step(self) -> int | None:
        """The first step (1-based) whose gauge exceeds the bound."""
        if self.gauge is None:
            return None
        over = np.flatnonzero(self.gauge > self.bound)
        return int(over[0]) + 1 if over.size else None


def stability(trajectory: Trajectory) -> Stability:
    """The stability gauge along a run: step t multiplies the error along the Hessian's top
    eigenvector by a factor of magnitude > 1 exactly when gauge_t > bound (on a quadratic)."""
    eigenvalues = hessian_eigenvalues(trajectory.surface, trajectory.xy)
    limit = OPTIMIZERS[trajectory.optimizer].stability_limit
    if limit is None:
        return Stability(eigenvalues, None, None)
    c, limit = limit(trajectory.hyperparams)
    lr = trajectory.hyperparams["lr"] * trajectory.schedule.factors(trajectory.steps)
    return Stability(eigenvalues, lr * c * eigenvalues[:-1, 1], limit)


@dataclass(frozen=True)
class Curvature:
    """The local quadratic model at a minimum: lambda_min, lambda_max, kappa and GD's best lr."""

    at: tuple[float, float]
    lambda_min: float
    lambda_max: float

    @property
    def condition_number(self) -> float:
        return self.lambda_max / self.lambda_min

    @property
    def optimal_lr(self) -> float:
        """GD's fastest rate on this quadratic: 2 / (lambda_min + lambda_max) (both modes shrink alike)."""
        return 2.0 / (self.lambda_min + self.lambda_max)


def curvature_at_minimum(surface: str | Surface) -> Curvature | None:
    """The curvature at the global minimum (exact everywhere on a quadratic), or None without one."""
    surface = as_surface(surface)
    if not surface.global_minima:
        return None
    at = surface.global_minima[0].xy
    low, high = hessian_eigenvalues(surface, np.array(at))
    return Curvature(at, float(low), float(high)) if low > 0 else None


# --- noise fans -----------------------------------------------------------------------------------------

# The data-set size the mini-batch noise model assumes (a batch of this size is the full batch).
DATASET_SIZE = 1024


def minibatch_noise(per_example: float, batch_size: int, dataset_size: int = DATASET_SIZE) -> float:
    r"""The std of a mini-batch gradient's noise: the mean of B of N examples drawn without
    replacement has variance sigma^2 / B * (N - B) / (N - 1), so it is 0 for the full batch."""
    batch_size = min(max(int(batch_size), 1), dataset_size)
    return per_example * np.sqrt((dataset_size - batch_size) / (batch_size * (dataset_size - 1)))


@dataclass(frozen=True)
class Fan:
    """N noisy runs of one optimizer, their coordinatewise median path, and the noise-free run."""

    paths: np.ndarray  # (N, T + 1, 2)
    median: np.ndarray  # (T + 1, 2)
    noiseless: np.ndarray  # (T + 1, 2)
    loss: np.ndarray  # (N, T + 1)
    noise: float


def noise_fan(
    surface: str | Surface,
    optimizer: str,
    start,
    steps: int,
    noise: float,
    hyperparams: Mapping[str, float] | None = None,
    runs: int = 50,
    schedule: Schedule = CONSTANT,
) -> Fan:
    """`runs` runs with gradient noise `noise`, seeds 0..runs-1, in one call (plus one without noise)."""
    starts = np.repeat(np.asarray(start, dtype=float)[None], runs + 1, axis=0)
    noise_per_run = np.r_[np.full(runs, noise), 0.0]
    table = {optimizer: {**(hyperparams or {}), "noise": noise_per_run}}
    seeds = np.arange(runs + 1)
    result = run(surface, [optimizer], starts, steps, table, seeds, schedule=schedule)[optimizer]
    paths = result.xy[:runs]
    return Fan(paths, np.median(paths, axis=0), result.xy[runs], result.loss[:runs], float(noise))


# --- effective learning rates ---------------------------------------------------------------------------


def effective_lr(trajectory: Trajectory) -> np.ndarray | None:
    r"""Per coordinate, the learning rate of the adaptive methods' step at steps 1..T: eta_t times the
    optimizer's adaptive factor (`OptimizerSpec.adaptive_rate`): Adagrad eta_t / (sqrt(G_t) + eps),
    RMSProp eta_t / (sqrt(v_t) + eps), Adam eta_t / (sqrt(v_hat_t) + eps) (its step is that times
    m_hat_t rather than g_t), Adadelta eta_t sqrt(u_{t-1} + eps) / sqrt(v_t + eps). None for methods
    without one.
    """
    rate = OPTIMIZERS[trajectory.optimizer].adaptive_rate
    if rate is None:
        return None
    lr = trajectory.hyperparams["lr"] * trajectory.schedule.factors(trajectory.steps)[:, None]
    return lr * rate(trajectory.state, trajectory.hyperparams)
