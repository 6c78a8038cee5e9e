"""The `Surface` record: everything the app knows about one 2D loss surface, stated once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jax

Point = tuple[float, float]
Bounds = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class Minimum:
    """A known minimum of a surface: where it is, its value, and whether it is global."""

    xy: Point
    value: float
    kind: Literal["global", "local"] = "global"


@dataclass(frozen=True, eq=False)
class Surface:
    """A JAX-differentiable loss surface f: R^2 -> R with its teaching metadata.

    `fn` takes an array whose last axis holds (x, y), so the same function evaluates a grid
    of shape (..., 2) for contour plots and a single point of shape (2,) for `jax.grad`.

    A surface may be one member of a family of functions that share compiled code: every formula
    typed as text is the one formula interpreter running its own program (`family(params, points)`
    with `params` the program). Compiled code takes the family as its static part and the params
    as an argument (see `split`), so a new member compiles nothing.
    """

    name: str
    title: str
    fn: Callable[[jax.Array], jax.Array]
    formula: str  # LaTeX, without surrounding $ signs
    description: str  # one line: what the surface is
    lesson: str  # what to look for when optimizers race on it
    bounds: Bounds  # the plot window ((x_min, x_max), (y_min, y_max))
    starts: Mapping[str, Point]  # named start points that make a good demo; the first is the default
    minima: tuple[Minimum, ...] = ()
    saddle_points: tuple[Point, ...] = ()  # stationary points that are neither minima nor maxima
    log_scale: bool = False  # colour the contour by log(f - f_min) to show deep narrow valleys
    default_steps: int = 200
    family: Callable[[Any, jax.Array], jax.Array] | None = None  # fn(points) = family(params, points)
    params: Any = None  # the arrays (a JAX pytree) that pick this member of the family

    def split(self) -> tuple[Callable[[Any, jax.Array], jax.Array], Any]:
        """f as compiled code takes it: (family, params) with f(points) = family(params, points).

        The family is hashable and the same for every surface that can share compiled code: the
        interpreter for all formulas; for a built-in, its own function, as `Alone(fn)`."""
        return (self.family, self.params) if self.family is not None else (Alone(self.fn), None)

    @property
    def default_start(self) -> Point:
        return next(iter(self.starts.values()))

    @property
    def global_minima(self) -> tuple[Minimum, ...]:
        return tuple(m for m in self.minima if m.kind == "global")

    def contains(self, xy: Point) -> bool:
        """Whether a point lies inside the plot window (edges included)."""
        (x0, x1), (y0, y1) = self.bounds
        return x0 <= xy[0] <= x1 and y0 <= xy[1] <= y1


@dataclass(frozen=True)
class Alone:
    """A function of points as a family of one, `Alone(fn)(params, points) = fn(points)`; equal for
    equal functions, so compiled code keyed by it is found again."""

    fn: Callable[[jax.Array], jax.Array]

    def __call__(self, params, points):
        return self.fn(points)
