"""The optimizer lab's computations: the race itself and what the page reads off the trajectories.

Pure functions of surfaces and trajectories, returning NumPy and plain values; no plotting, no Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from optviz.lab.config import MAX_STEPS, RaceConfig
from optviz.optimizers import OPTIMIZERS
from optviz.simulate import Trajectory, compare
from surfaces import Surface


def race(config: RaceConfig) -> dict[str, Trajectory]:
    """The lab's race: every optimizer from `config.start` for `config.steps` steps, all seeing the
    same noise; the ones `config.optimizers` names are returned.

    config.noise is gradient noise added for every optimizer on top of its own `noise` (SGD has its
    own): independent Gaussian noises add in variance, so an optimizer sees sqrt(own^2 + shared^2).
    All optimizers run in one compiled call whatever the selection, so changing the selection never
    compiles anything.
    """
    if not 1 <= config.steps <= MAX_STEPS:
        raise ValueError(f"steps must be between 1 and {MAX_STEPS}, got {config.steps}")
    hyperparams = {name: config.hyperparams_of(name) for name in OPTIMIZERS}
    for values in hyperparams.values():
        values["noise"] = float(np.hypot(values["noise"], config.noise))
    c = config
    runs = compare(c.surface, list(OPTIMIZERS), c.start, c.steps, c.seed, hyperparams, c.schedule)
    return {name: runs[name] for name in config.optimizers}


@dataclass(frozen=True)
class Grid:
    """A surface sampled on a regular grid: z[i, j] = f(x[j], y[i])."""

    x: np.ndarray  # (nx,)
    y: np.ndarray  # (ny,)
    z: np.ndarray  # (ny, nx)


def surface_grid(surface: Surface, resolution: int = 81) -> Grid:
    """The surface on a resolution x resolution grid over its plot window."""
    (x0, x1), (y0, y1) = surface.bounds
    x, y = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    points = np.stack(np.meshgrid(x, y), axis=-1)
    return Grid(x, y, np.asarray(surface.fn(jnp.asarray(points))))


@dataclass(frozen=True)
class Colouring:
    """How heights map to colours (and 3D height): log10(f - f_min + floor) on log-scale surfaces, else f.

    f_min is the lowest grid value; the floor keeps the logarithm finite at the minimum itself.
    """

    log: bool
    f_min: float
    floor: float
    label: str

    def __call__(self, values: np.ndarray) -> np.ndarray:
        return np.log10(np.maximum(values - self.f_min, 0.0) + self.floor) if self.log else values


def colouring(surface: Surface, grid: Grid) -> Colouring:
    """The colour transform for `surface`, fitted to its values on `grid`."""
    if not surface.log_scale:
        return Colouring(False, float(grid.z.min()), 0.0, "f(x, y)")
    floor = max(float(np.ptp(grid.z)) * 1e-6, float(np.finfo(float).tiny))
    return Colouring(True, float(grid.z.min()), floor, "log₁₀(f − f_min)")


def landmarks(surface: Surface) -> tuple[np.ndarray, str]:
    """The points that distances are measured to: the minima, or, on a surface without any, its
    saddles (an empty (0, 2) array if it has neither, e.g. a custom f that only slopes)."""
    if surface.minima:
        return np.array([m.xy for m in surface.minima]), "nearest minimum"
    return np.array(surface.saddle_points).reshape(-1, 2), "saddle point"


def distance_to_landmarks(surface: Surface, xy: np.ndarray) -> np.ndarray:
    """Euclidean distance from each point of xy (..., 2) to the nearest landmark."""
    points, _ = landmarks(surface)
    if not len(points):
        return np.full(xy.shape[:-1], np.nan)
    return np.min(np.linalg.norm(xy[..., None, :] - points, axis=-1), axis=-1)


def optimum_value(surface: Surface) -> float | None:
    """f* = the global minimum value, or None for surfaces unbounded below."""
    return min(m.value for m in surface.minima) if surface.minima else None


@dataclass(frozen=True)
class RunSummary:
    """One row of the results table."""

    optimizer: str
    final_loss: float
    gap: float | None  # final loss - f*
    steps_to_tolerance: int | None  # first step with loss - f* <= tolerance
    nearest: str  # e.g. "global minimum (3, 0.5)"
    distance: float
    diverged_at: int | None
    status: str  # one sentence for a student


def summarize(surface: Surface, trajectory: Trajectory, tolerance: float = 1e-3) -> RunSummary:
    """The results-table row for one run: where it ended, how fast, and what happened."""
    f_star = optimum_value(surface)
    final = trajectory.xy[-1]
    points, kind = landmarks(surface)
    distances = np.linalg.norm(points - final, axis=-1) if len(points) else np.array([np.nan])
    index = int(np.argmin(distances)) if len(points) else 0
    if surface.minima:
        minimum = surface.minima[index]
        nearest = f"{minimum.kind} minimum ({minimum.xy[0]:.3g}, {minimum.xy[1]:.3g})"
    elif len(points):
        nearest = f"{kind} ({points[index][0]:.3g}, {points[index][1]:.3g})"
    else:
        nearest = "none in the window"
    steps_to_tolerance = None
    if f_star is not None:
        reached = np.flatnonzero(trajectory.loss - f_star <= tolerance)
        steps_to_tolerance = int(reached[0]) if reached.size else None
    lr = trajectory.hyperparams["lr"]
    if trajectory.diverged_at is not None and f_star is None:
        status = (
            f"left the plot at step {trajectory.diverged_at}: this surface has no minimum, so running "
            "off downhill is progress"
        )
    elif trajectory.diverged_at is not None:
        status = (
            f"diverged at step {trajectory.diverged_at}: learning rate too large? "
            f"Try lr = {lr / 3:.2g} or smaller"
        )
    elif steps_to_tolerance is not None:
        status = f"reached f* + {tolerance:g} at step {steps_to_tolerance}"
    elif f_star is not None and distances[index] < 1e-2:
        status = f"converging on the {nearest}"
    else:
        status = "still moving: more steps or a larger learning rate?"
    return RunSummary(
        optimizer=trajectory.optimizer,
        final_loss=float(trajectory.loss[-1]),
        gap=None if f_star is None else float(trajectory.loss[-1] - f_star),
        steps_to_tolerance=steps_to_tolerance,
        nearest=nearest,
        distance=float(distances[index]),
        diverged_at=trajectory.diverged_at,
        status=status,
    )


@dataclass(frozen=True)
class Quantity:
    """A number (or 2-vector) that went into one update, with its symbol in the update rule."""

    symbol: str  # LaTeX
    value: np.ndarray


def step_internals(trajectory: Trajectory, step: int) -> list[Quantity]:
    """The numbers behind update `step` (1-based: from theta_{step-1} to theta_step), in the
    notation of the optimizer's update rule."""
    if not 1 <= step <= trajectory.steps:
        raise ValueError(f"step must be between 1 and {trajectory.steps}, got {step}")
    spec = OPTIMIZERS[trajectory.optimizer]
    before, after = trajectory.xy[step - 1], trajectory.xy[step]
    grad = trajectory.grad[step - 1]
    move = after - before
    with np.errstate(divide="ignore", invalid="ignore"):
        per_unit = np.where(grad != 0, -move / grad, np.nan)
    quantities = [
        Quantity(r"\theta_{t-1}", before),  # where the step started
        Quantity("g_t", grad),  # the gradient it saw, noise included
    ]
    quantities += [
        Quantity(symbol, np.asarray(trajectory.state[field][step]))  # the state after the step
        for field, symbol in spec.state_symbols.items()
    ]
    quantities += [
        Quantity(r"\theta_t - \theta_{t-1}", move),  # the step taken
        Quantity(r"-\Delta\theta / g_t", per_unit),  # the effective learning rate of each coordinate
    ]
    return quantities
