r"""Your own f(x, y): a student's formula and window become a `Surface`.

    >>> s = from_formula("sin(x)*cos(y) + 0.1*(x^2 + y^2)")
    >>> print(s.formula)
    f(x, y) = \sin(x)\,\cos(y) + 0.1\,(x^{2} + y^{2})

One module a step, each stating its math and its reasons:

- `parse`: the whitelist grammar, its limits and its messages (text -> checked `ast` tree);
- `program`: the checked tree as data, a short list of instructions;
- `interpreter`: the one compiled JAX function that runs every program on points (..., 2);
- `latex`: the checked tree as LaTeX;
- `landmarks`: minima, saddle points and start points, found numerically;
- here: the window, the name, and `from_formula`, which checks f on the window and assembles the
  `Surface` record.

The window is two (low, high) pairs: each side at least MIN_WIDTH and at most MAX_WIDTH wide, its
edges within ±MAX_COORDINATE. f is evaluated on the landmarks' GRID x GRID grid over it and must be
finite there (the contour plot and the optimizers need a value wherever they go; the message names
the bad point nearest the centre) and not constant (a flat surface has nothing to race on). The
contour is coloured by log(f - f_min) when f >= 0 and max - min is more than 1000 times the median
height above the minimum: a deep narrow valley, as on Rosenbrock, which a linear scale would hide.

The surface's name, `f:<text without spaces>|x0,x1,y0,y1`, says everything needed to rebuild it:
`surfaces.get_surface(name)` routes such names here, and the same formula and window give the same
(cached) `Surface` object. The cache holds at most CACHED_SURFACES surfaces: a few kilobytes
each (the program's arrays and the metadata), and no compiled code, which all formulas share.
Spaces are dropped (`normalize`) so that a formula typed with or without them is one surface.
"""

from __future__ import annotations

import math
from functools import lru_cache, partial

import numpy as np

from surfaces.formula.interpreter import evaluate
from surfaces.formula.landmarks import GRID, start_points, stationary_points
from surfaces.formula.latex import to_latex
from surfaces.formula.parse import (
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_LENGTH,
    MAX_NODES,
    checked_tree,
    is_constant,
    normalize,
)
from surfaces.formula.program import to_program
from surfaces.surface import Bounds, Surface

__all__ = [
    "DEFAULT_BOUNDS",
    "MAX_COORDINATE",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_WIDTH",
    "MIN_WIDTH",
    "PREFIX",
    "check_bounds",
    "formula_name",
    "from_formula",
    "from_name",
    "is_formula_name",
    "normalize",
    "to_latex",
]

PREFIX = "f:"
DEFAULT_BOUNDS: Bounds = ((-3.0, 3.0), (-3.0, 3.0))
MAX_WIDTH = 1000.0  # widest window side
MIN_WIDTH = 1e-3  # narrowest window side
MAX_COORDINATE = 1e4  # window edges lie within +-MAX_COORDINATE
CACHED_SURFACES = 64  # formula surfaces kept for reuse (least recently used first out)


# ---------------------------------------------------------------------------------------------
# Bounds and names


def check_bounds(bounds) -> Bounds:
    """Two (low, high) pairs of finite floats, low < high, each side between MIN_WIDTH and MAX_WIDTH wide."""
    try:
        (x0, x1), (y0, y1) = bounds
        pairs = ((float(x0), float(x1)), (float(y0), float(y1)))
    except (TypeError, ValueError, OverflowError):
        raise ValueError(
            "the window must be two (low, high) pairs of numbers, e.g. ((-3, 3), (-3, 3))"
        ) from None
    for axis, (low, high) in zip("xy", pairs, strict=True):
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"the {axis} range must be finite numbers (got {low}, {high})")
        if not low < high:
            raise ValueError(f"the {axis} range must go from low to high (got {low:g} to {high:g})")
        if max(abs(low), abs(high)) > MAX_COORDINATE:
            raise ValueError(f"the {axis} range must lie within ±{MAX_COORDINATE:g} (got {low:g}, {high:g})")
        if not MIN_WIDTH <= high - low <= MAX_WIDTH:
            raise ValueError(
                f"the {axis} range must be between {MIN_WIDTH:g} and {MAX_WIDTH:g} wide (got {high - low:g})"
            )
    return pairs


def formula_name(text: str, bounds=DEFAULT_BOUNDS) -> str:
    """The surface name for `text` on `bounds`: `f:<text without spaces>|x0,x1,y0,y1`."""
    (x0, x1), (y0, y1) = check_bounds(bounds)
    return f"{PREFIX}{normalize(text)}|{x0!r},{x1!r},{y0!r},{y1!r}"


def is_formula_name(name: object) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX)


def from_name(name: str) -> Surface:
    """The surface that `formula_name` named; a name without `|bounds` takes the default window."""
    body = name[len(PREFIX) :]
    text, bar, numbers = body.rpartition("|")
    if not bar:
        return from_formula(body)
    try:
        x0, x1, y0, y1 = (float(v) for v in numbers.split(","))
    except ValueError:
        raise ValueError(f"the window in {name[:60]!r} must be four numbers: x0,x1,y0,y1") from None
    return from_formula(text, ((x0, x1), (y0, y1)))


def from_formula(text: str, bounds=DEFAULT_BOUNDS) -> Surface:
    """The Surface of the formula `text` on the window `bounds` (see `surfaces.formula.parse` for the
    grammar); a ValueError whose message is meant for the student otherwise.

    The same formula (up to spaces and `^` vs `**` spelled alike) and window give the same object.
    """
    return _build(normalize(text), check_bounds(bounds))


# ---------------------------------------------------------------------------------------------
# Building the surface: checks and teaching metadata, found numerically


@lru_cache(maxsize=CACHED_SURFACES)
def _build(text: str, bounds: Bounds) -> Surface:
    tree = checked_tree(text)
    if is_constant(tree):
        raise ValueError("f does not depend on x or y: use x and y in the formula")
    program = to_program(tree)
    (x0, x1), (y0, y1) = bounds
    xs, ys = np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)  # (GRID, GRID, 2): row i has y = ys[i]
    z = np.asarray(evaluate(program, grid), dtype=float)
    bad = ~np.isfinite(z)
    if bad.any():
        i, j = np.argwhere(bad)[np.argmin(np.linalg.norm(grid[bad] - grid[GRID // 2, GRID // 2], axis=-1))]
        raise ValueError(
            f"f is not finite at (x, y) = ({_short(xs[j])}, {_short(ys[i])}), e.g. a division by zero, "
            "or log or sqrt of a negative number: choose a window where f is defined"
        )
    if np.ptp(z) <= 1e-12 * max(1.0, float(np.abs(z).max())):
        raise ValueError("f does not depend on x or y: it is constant on the window")

    minima, saddles, kink = stationary_points(evaluate, program, grid, z, bounds)
    starts = start_points(evaluate, program, bounds, [m.xy for m in minima] + list(saddles))
    window = f"x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}]"
    found = [
        f"{len(minima) or 'no'} minim{'um' if len(minima) < 2 else 'a'} found numerically",
        f"{len(saddles) or 'no'} saddle point{'' if len(saddles) == 1 else 's'}",
    ]
    if minima:
        found.append(
            "the global minimum is the lowest one in the window"
            if not kink
            else "the minimum is a kink, located to within one grid cell"
        )
    return Surface(
        name=f"{PREFIX}{text}|{x0!r},{x1!r},{y0!r},{y1!r}",
        title="Your f(x, y)",
        fn=partial(evaluate, program),
        formula=to_latex(tree),
        # Plain text, like every description; the page shows the formula in it literally.
        description=f"Your formula f(x, y) = {text} on {window}: {'; '.join(found)}.",
        lesson=(
            "No tuned settings here: every optimizer starts from its defaults. Use the learning-rate sweep "
            "to find the rate at which each one converges fastest without diverging."
        ),
        bounds=bounds,
        starts=starts,
        minima=minima,
        saddle_points=saddles,
        log_scale=_log_scale(z),
        default_steps=200,
        family=evaluate,
        params=program,
    )


def _short(v: float) -> str:
    return f"{float(v):.4g}"


def _log_scale(z: np.ndarray) -> bool:
    """Colour by log(f - f_min) when f >= 0 spans many orders of magnitude: max - min above 1000 times
    the median height above the minimum (a deep narrow valley, as on Rosenbrock)."""
    low = float(z.min())
    median = float(np.median(z)) - low
    return low >= 0 and median > 0 and float(z.max()) - low > 1000 * median
