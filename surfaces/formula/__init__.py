r"""Your own f(x, y): a safe formula parser that turns a student's text into a `Surface`.

    >>> s = from_formula("sin(x)*cos(y) + 0.1*(x^2 + y^2)")
    >>> print(s.formula)
    f(x, y) = \sin(x)\,\cos(y) + 0.1\,(x^{2} + y^{2})

The text is parsed with Python's `ast` (mode "eval") and checked against a whitelist; nothing is ever
passed to eval, exec or compile-to-code. The grammar:

- numbers (`2`, `0.5`, `2.5e-1`), the variables `x` and `y`, the constants `pi` and `e`;
- `+ - * /`, powers with `**` or `^` (`^` is rewritten to `**` before parsing, so it means power,
  never Python's xor), unary `-` and `+`, parentheses;
- one-argument functions: sin, cos, tan, exp, log (natural), sqrt, abs, tanh, sinh, cosh, arctan
  (alias atan); and min(a, b), max(a, b).

Anything else (other names, attributes, indexing, strings, comparisons, lambdas, ...) is rejected
with a `ValueError` whose message is meant for the student: it names the problem and where it is.
Formulas are at most 200 characters, 100 nodes and 20 levels of nesting (a long sum or product is
not nesting). An exponent that is a constant must be at most 64 in size: it is evaluated in floats
by a whitelisted evaluator, so `9**9**9` is refused at once instead of computing a big integer.

The surface's metadata is found numerically on an 81 x 81 grid over the window: f must be finite
and not constant there; the grid's interior local minima and saddle-like points are refined with
Newton's method (one compiled function per surface) and kept if they stay in the window and the
gradient vanishes there. The Hessian then tells a minimum (positive definite) from a saddle point
(indefinite); where it is degenerate (abs(x) at 0, the monkey saddle), the values on a small ring
decide. The lowest minima are "global": the lowest found in the window, not a proof. A surface may
have no minimum at all (`-x**2`): nothing is invented.

The surface's name, `f:<text without spaces>|x0,x1,y0,y1`, says everything needed to rebuild it:
`surfaces.get_surface(name)` routes such names here, and the same formula and window give the same
(cached) `Surface` object, so the engine's compiled functions, keyed by that name, are reused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from surfaces.formula.function import surface_function
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
from surfaces.surface import Bounds, Minimum, Point, Surface

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
GRID = 81  # grid points per side for the numerical checks and the search for minima
MAX_CANDIDATES = 32  # grid points refined with Newton's method, for minima and for saddles each
NEWTON_STEPS = 40


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


@lru_cache(maxsize=64)
def _build(text: str, bounds: Bounds) -> Surface:
    tree = checked_tree(text)
    if is_constant(tree):
        raise ValueError("f does not depend on x or y: use x and y in the formula")
    fn = surface_function(tree)
    (x0, x1), (y0, y1) = bounds
    xs, ys = np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)  # (GRID, GRID, 2): row i has y = ys[i]
    z = np.asarray(fn(jnp.asarray(grid)), dtype=float)
    bad = ~np.isfinite(z)
    if bad.any():
        i, j = np.argwhere(bad)[np.argmin(np.linalg.norm(grid[bad] - grid[GRID // 2, GRID // 2], axis=-1))]
        raise ValueError(
            f"f is not finite at (x, y) = ({_short(xs[j])}, {_short(ys[i])}), e.g. a division by zero, "
            "or log or sqrt of a negative number: choose a window where f is defined"
        )
    if np.ptp(z) <= 1e-12 * max(1.0, float(np.abs(z).max())):
        raise ValueError("f does not depend on x or y: it is constant on the window")

    probe = _prober(fn)
    minima, saddles, kink = _stationary_points(probe, grid, z, bounds)
    starts = _starts(probe, bounds, [m.xy for m in minima] + list(saddles))
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
        fn=fn,
        formula=to_latex(tree),
        # The text in backticks: descriptions are shown as Markdown, where * and _ mean emphasis.
        description=f"Your formula `f(x, y) = {text}` on {window}: {'; '.join(found)}.",
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
        recommended={},
    )


def _short(v: float) -> str:
    return f"{float(v):.4g}"


def _log_scale(z: np.ndarray) -> bool:
    """Colour by log(f - f_min) when f >= 0 spans many orders of magnitude: max - min above 1000 times
    the median height above the minimum (a deep narrow valley, as on Rosenbrock)."""
    low = float(z.min())
    median = float(np.median(z)) - low
    return low >= 0 and median > 0 and float(z.max()) - low > 1000 * median


def _grid_candidates(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Interior grid indices (i, j) of local minima (below all 8 neighbours), lowest first, and of
    saddle-like points (the 8 neighbours alternate above/below at least twice), flattest first."""
    centre = z[1:-1, 1:-1]
    ring = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]  # in circular order
    n = z.shape[0]
    neighbours = np.stack([z[1 + di : n - 1 + di, 1 + dj : n - 1 + dj] for di, dj in ring])
    # Below the neighbours "before" it and not above those "after" it: of two grid points that tie
    # (a minimum halfway between them, which happens on symmetric formulas), exactly one qualifies.
    before = np.array([di < 0 or (di == 0 and dj < 0) for di, dj in ring])
    is_min = np.all(np.where(before[:, None, None], neighbours > centre, neighbours >= centre), axis=0)
    above = neighbours > centre
    changes = np.sum(above != np.roll(above, 1, axis=0), axis=0)
    is_saddle = (changes >= 4) & ~is_min
    slope = np.hypot(neighbours[3] - neighbours[7], neighbours[5] - neighbours[1])
    mins = np.argwhere(is_min)
    mins = mins[np.argsort(centre[is_min], kind="stable")][:MAX_CANDIDATES]
    saddles = np.argwhere(is_saddle)
    saddles = saddles[np.argsort(slope[is_saddle], kind="stable")][:MAX_CANDIDATES]
    return mins + 1, saddles + 1


RING = 16  # directions of the ring around a degenerate stationary point


def _prober(fn: Callable) -> Callable:
    """One compiled function for all the numerical work on a surface: for points p (BATCH, 2) and a
    radius r, f(p), the gradients, the Hessians and f on a ring of RING points at distance r."""
    angles = np.linspace(0.0, 2 * np.pi, RING, endpoint=False)
    directions = jnp.asarray(np.stack([np.cos(angles), np.sin(angles)], axis=-1))

    def probe(p, r):
        ring = fn(p[None, :] + r * directions)
        return fn(p), jax.grad(fn)(p), jax.hessian(fn)(p), ring

    return jax.jit(jax.vmap(probe, in_axes=(0, None)))


BATCH = 2 * MAX_CANDIDATES  # every call of the prober has this many points, so it compiles once


def _padded(points: np.ndarray) -> np.ndarray:
    return np.concatenate([points, np.repeat(points[:1], BATCH - len(points), axis=0)])


def _newton(probe: Callable, p: np.ndarray, descend: np.ndarray, cell: float) -> np.ndarray:
    """NEWTON_STEPS Newton steps on grad f = 0 from each point of p (BATCH, 2), each at most one grid
    cell long. Where `descend`, negative curvature is flipped (saddle-free Newton), so the steps go
    downhill to a minimum; elsewhere plain Newton, which also converges to saddle points."""
    for _ in range(NEWTON_STEPS):
        _, g, h, _ = (np.asarray(a) for a in probe(jnp.asarray(p), 0.0))
        g = np.where(np.isfinite(g), g, 0.0)
        h = np.where(np.isfinite(h), h, 0.0)
        lam, v = np.linalg.eigh(h)
        size = np.maximum(np.abs(lam), 1e-12 * (1.0 + np.abs(lam).max(axis=-1, keepdims=True)))
        lam = np.where(descend[:, None] | (lam >= 0), size, -size)
        d = -np.einsum("nij,nj->ni", v, np.einsum("nji,nj->ni", v, g) / lam)
        norm = np.linalg.norm(d, axis=-1, keepdims=True)
        d = np.where(norm > cell, d * (cell / np.maximum(norm, 1e-300)), d)
        p = p + d
        if np.all(norm <= 1e-15 * (1.0 + np.abs(p).max())):
            break
    return p


def _stationary_points(probe, grid, z, bounds) -> tuple[tuple[Minimum, ...], tuple[Point, ...], bool]:
    """The minima (lowest first; the lowest ones 'global') and saddle points that Newton's method finds
    from the grid's candidates. A point is kept when it is inside the window and the gradient vanishes
    there; it is a minimum if the Hessian is positive definite, a saddle point if it is indefinite, and
    where the Hessian is degenerate (a kink as in abs(x), or a flat point as in x**3 - 3*x*y**2) the
    values on a small ring around it decide: all higher, a minimum; some lower and some higher, a saddle.
    If no minimum is found but the grid has one (a kink off the grid, as in abs(x - 0.3)), the lowest
    such grid point is the global minimum, and the returned flag is True."""
    min_idx, saddle_idx = _grid_candidates(z)
    if not len(min_idx) and not len(saddle_idx):
        return (), (), False
    (x0, x1), (y0, y1) = bounds
    cell = float(np.hypot(x1 - x0, y1 - y0)) / (GRID - 1)
    idx = np.concatenate([min_idx, saddle_idx]).reshape(-1, 2)
    n = len(idx)
    descend = _padded(np.arange(n) < len(min_idx))
    p = _newton(probe, _padded(grid[idx[:, 0], idx[:, 1]]), descend, cell)
    f, g, h, ring = (np.asarray(a)[:n] for a in probe(jnp.asarray(p), 1e-3 * cell))
    p = p[:n]

    finite = np.isfinite(f) & np.isfinite(g).all(-1) & np.isfinite(h).all((-2, -1))
    finite &= np.isfinite(ring).all(-1)
    lam = np.linalg.eigvalsh(np.where(np.isfinite(h), h, 0.0))
    scale = np.maximum(1.0, np.abs(lam).max(axis=-1))
    inside = (p[:, 0] >= x0) & (p[:, 0] <= x1) & (p[:, 1] >= y0) & (p[:, 1] <= y1)
    ok = finite & inside & (np.linalg.norm(g, axis=-1) <= 1e-8 * scale)
    tol = 1e-9 * scale
    positive, negative = lam[:, 0] > tol, lam[:, 1] < -tol
    degenerate = ~positive & ~negative & ~((lam[:, 0] < -tol) & (lam[:, 1] > tol))
    ring_higher = (ring > f[:, None]).all(-1)
    ring_both = (ring < f[:, None]).any(-1) & (ring > f[:, None]).any(-1)
    is_min = ok & (positive | (degenerate & ring_higher))
    is_saddle = ok & (((lam[:, 0] < -tol) & (lam[:, 1] > tol)) | (degenerate & ring_both))

    same = 1e-6 * cell * (GRID - 1)  # points closer than this are one point
    minima: list[tuple[np.ndarray, float]] = []
    saddles: list[np.ndarray] = []
    for k in np.argsort(f, kind="stable"):
        if is_min[k] and all(np.linalg.norm(p[k] - q) > same for q, _ in minima):
            minima.append((p[k], float(f[k])))
        if is_saddle[k] and all(np.linalg.norm(p[k] - q) > same for q in saddles):
            saddles.append(p[k])
    saddle_points = tuple((float(a), float(b)) for a, b in saddles)
    if not minima:
        if len(min_idx):  # a kink, as in abs(x) + abs(y): the lowest grid point that is below its neighbours
            i, j = min_idx[0]
            kink = Minimum((float(grid[i, j, 0]), float(grid[i, j, 1])), float(z[i, j]), "global")
            return (kink,), saddle_points, True
        return (), saddle_points, False
    lowest = minima[0][1]
    tie = 1e-9 * max(1.0, abs(lowest))
    return (
        tuple(
            Minimum((float(q[0]), float(q[1])), value, "global" if value - lowest <= tie else "local")
            for q, value in minima
        ),
        saddle_points,
        False,
    )


def _starts(probe, bounds: Bounds, landmarks: Sequence) -> dict[str, tuple[float, float]]:
    """Named start points 10% inside the corners, and the centre, leaving out any that sits on (or
    next to) a minimum or saddle point or where f is flat; the first is the default."""
    (x0, x1), (y0, y1) = bounds
    w, h = x1 - x0, y1 - y0
    named = {
        "top-left corner": (x0 + 0.1 * w, y1 - 0.1 * h),
        "bottom-right corner": (x1 - 0.1 * w, y0 + 0.1 * h),
        "top-right corner": (x1 - 0.1 * w, y1 - 0.1 * h),
        "bottom-left corner": (x0 + 0.1 * w, y0 + 0.1 * h),
        "centre": (x0 + 0.5 * w, y0 + 0.5 * h),
    }
    named = {k: (float(f"{a:.6g}"), float(f"{b:.6g}")) for k, (a, b) in named.items()}
    points = np.array(list(named.values()))
    _, g, _, _ = probe(jnp.asarray(_padded(points)), 0.0)
    slopes = np.linalg.norm(np.asarray(g)[: len(points)], axis=-1)
    steepest = float(np.max(slopes, where=np.isfinite(slopes), initial=0.0))
    near = 0.05 * math.hypot(w, h)
    good = {
        name: xy
        for (name, xy), slope in zip(named.items(), slopes, strict=True)
        if np.isfinite(slope)
        and slope > 1e-6 * max(1.0, steepest)
        and all(math.dist(xy, q) > near for q in landmarks)
    }
    return good or {"top-left corner": named["top-left corner"]}
