"""The landmarks of a formula surface, found numerically: its minima, its saddle points, and start
points for the race. A typed-in formula comes with no literature to look them up in.

The search works on f over a GRID x GRID grid of the window, which the caller has evaluated:

1. Candidates. An interior grid point below its 8 neighbours is a candidate minimum (of two
   neighbours that tie, exactly one qualifies, so a minimum halfway between grid points is not
   lost); one whose 8 neighbours, taken round the ring, switch between above and below it at least
   4 times (two ridges and two valleys) is a candidate saddle. At most MAX_CANDIDATES of each are
   kept: the lowest minima and the flattest saddles.
2. Newton's method. From each candidate, NEWTON_STEPS steps d = -H^{-1} grad f, computed in the
   eigenbasis of the Hessian H and each at most one grid cell long, so that a step where the
   quadratic model is poor cannot fling the point far away. From a candidate minimum every
   eigenvalue is replaced by its absolute value (saddle-free Newton), which makes each step go
   downhill, to a minimum; from a candidate saddle plain Newton, which converges to the stationary
   point nearby whatever its kind.
3. Classification. A refined point counts if it lies in the window, f and its derivatives are
   finite there and |grad f| <= 1e-8 max(1, |lambda|_max). The Hessian's eigenvalues decide: all
   positive, a minimum; of both signs, a saddle (both negative, a maximum, which is not listed).
   Where the Hessian is degenerate (a kink as in abs(x), or a flat point as in the monkey saddle
   x**3 - 3*x*y**2), f on a ring of RING points, 1e-3 of a grid cell away, decides: all higher, a
   minimum; some lower and some higher, a saddle. Points closer than 1e-6 of the window's diagonal
   are one point. The minima within 1e-9 max(1, |f_min|) of the lowest f_min are "global": the lowest
   found in the window, not a proof. If Newton's method finds no minimum but the grid has one (a kink off
   the grid, as in abs(x - 0.3)), that grid point is the global minimum, to within one grid cell.
   A surface may have no minimum at all (-x**2): nothing is invented.
4. Start points. 10% inside each corner, and the centre, leaving out any within 5% of the window's
   diagonal of a minimum or saddle point, where the race would have nothing to show, and any where
   f is flat (|grad f| at most 1e-6 of the steepest), where an optimizer would not move.

The search for stationary points is one compiled call (`refine`: the Newton steps, then f, its
gradient, its Hessian and f on the ring where they end), and the start points another (`probe`).
Both take f as `Surface.split()` gives it, a family and its params, so the code compiled for one
formula serves every other; every call pads its points to BATCH, so it compiles only once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from surfaces.surface import Bounds, Minimum, Point

GRID = 81  # grid points per side for the numerical checks and the search for minima
MAX_CANDIDATES = 32  # grid points refined with Newton's method, for minima and for saddles each
NEWTON_STEPS = 40


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
BATCH = 2 * MAX_CANDIDATES  # every search works on this many points, so its code compiles once


def _padded(points: np.ndarray) -> np.ndarray:
    return np.concatenate([points, np.repeat(points[:1], BATCH - len(points), axis=0)])


def _derivatives(f: Callable, p, r):
    """At each point of p (N, 2): f, its gradient, its Hessian, and f on a ring of RING points at
    distance r around it."""
    angles = np.linspace(0.0, 2 * np.pi, RING, endpoint=False)
    directions = jnp.asarray(np.stack([np.cos(angles), np.sin(angles)], axis=-1))

    def at(q):
        return f(q), jax.grad(f)(q), jax.hessian(f)(q), f(q[None, :] + r * directions)

    return jax.vmap(at)(p)


@partial(jax.jit, static_argnames="family")
def probe(family: Callable, params, p, r):
    """`_derivatives` of f = family(params, .) at the BATCH points p, in one compiled call."""
    return _derivatives(partial(family, params), p, r)


@partial(jax.jit, static_argnames="family")
def refine(family: Callable, params, p, descend, cell):
    """NEWTON_STEPS Newton steps on grad f = 0 from each point of p (BATCH, 2), each at most one grid
    cell long, then `_derivatives` at the points reached (ring radius 1e-3 cell), in one compiled call.

    Where `descend`, negative curvature is flipped (saddle-free Newton), so the steps go downhill to
    a minimum; elsewhere plain Newton, which also converges to saddle points. The loop stops early
    once no point moves by more than 1e-15 of the largest coordinate."""
    f = partial(family, params)
    slope = jax.vmap(jax.grad(f))
    curvature = jax.vmap(jax.hessian(f))

    def step(carry):
        i, p, _ = carry
        g, h = slope(p), curvature(p)
        g = jnp.where(jnp.isfinite(g), g, 0.0)
        h = jnp.where(jnp.isfinite(h), h, 0.0)
        lam, v = jnp.linalg.eigh(h)
        size = jnp.maximum(jnp.abs(lam), 1e-12 * (1.0 + jnp.abs(lam).max(axis=-1, keepdims=True)))
        lam = jnp.where(descend[:, None] | (lam >= 0), size, -size)
        d = -jnp.einsum("nij,nj->ni", v, jnp.einsum("nji,nj->ni", v, g) / lam)
        norm = jnp.linalg.norm(d, axis=-1, keepdims=True)
        d = jnp.where(norm > cell, d * (cell / jnp.maximum(norm, 1e-300)), d)
        p = p + d
        return i + 1, p, jnp.all(norm <= 1e-15 * (1.0 + jnp.abs(p).max()))

    _, p, _ = lax.while_loop(lambda c: (c[0] < NEWTON_STEPS) & ~c[2], step, (0, p, False))
    return p, _derivatives(f, p, 1e-3 * cell)


def stationary_points(family, params, grid, z, bounds) -> tuple[tuple[Minimum, ...], tuple[Point, ...], bool]:
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
    p, derivatives = refine(family, params, _padded(grid[idx[:, 0], idx[:, 1]]), descend, cell)
    p = np.asarray(p)[:n]
    f, g, h, ring = (np.asarray(a)[:n] for a in derivatives)

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


def start_points(family, params, bounds: Bounds, landmarks: Sequence) -> dict[str, tuple[float, float]]:
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
    _, g, _, _ = probe(family, params, _padded(points), 0.0)
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
