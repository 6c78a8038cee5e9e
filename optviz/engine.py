"""The trajectory engine: run optimizers on a surface with `lax.scan` over steps and `vmap` over runs.

One compiled function serves every call with the same (surface family, optimizer names, step
bucket, history flag, batch size): start points, hyperparameters, seeds, the learning-rate schedule
and the step count itself are traced arguments, so a slider that changes them never recompiles.
So are the surface's params and its escape box: a built-in surface is a family of its own, but
every formula typed as text is the one formula interpreter with its program as params
(`Surface.split`), so a new formula runs on code compiled for another. Step counts
are padded up to a bucket (`STEP_BUCKETS`); a run stops moving after its own step count, so its
final point is exact and its history is cut back to the steps asked for.

Divergence: the first step whose new point is non-finite or leaves a generous box around the plot
window (the window grown by its own size on every side) is recorded, and from then on the point and
the optimizer's state stay frozen at their last good values. Nothing downstream ever sees a NaN.

Why the loop is shaped the way it is. Each step of a 2D run is a few dozen flops, so the time goes
into launching kernels: XLA:CPU pays a fixed cost per fused kernel per loop iteration, however little
the kernel computes. Optimizers with differently shaped states compile to several small
kernels each per step; run as rows of one array (each row an (optimizer, run) pair, its state
flattened and padded to a common width, the optimizer picked by `lax.switch`) they fuse into
several times fewer, each serving every row. Under `vmap` a switch evaluates every branch for every
row, which costs nothing for a handful of rows but is waste for thousands, so large batches run one
group per optimizer instead. The loop also records only what must be sequential (position and
state); loss and gradient at every recorded point are computed afterwards in one vectorized pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from optviz.optimizers import (
    RULE_HYPERPARAMETERS,
    Switchable,
    get_optimizer,
    gradient_noise,
    state_fields,
    switchable,
)
from optviz.schedules import CONSTANT, Schedule, multiplier
from surfaces import Surface, as_surface

NOT_DIVERGED = -1
# A call compiles for the smallest bucket that holds its step count; beyond the last, multiples of it.
STEP_BUCKETS = (50, 100, 200, 300, 500, 1000, 2000)
# Above this many rows, grouping all optimizers under one switch costs more than it saves.
SWITCH_MAX_ROWS = 64
# A row of hyperparameters: every update rule's (each optimizer reads its own), then the gradient noise.
HYPERPARAMETER_NAMES = (*RULE_HYPERPARAMETERS, "noise")
NOISE = len(RULE_HYPERPARAMETERS)


class Runs(NamedTuple):
    """A batch of R runs of one optimizer, as NumPy arrays with the run index first.

    With history, per-step arrays have T + 1 rows (T steps): row t is the situation *before* step
    t + 1, so xy[:, 0] is the start, grad[:, t] is the (noisy) gradient the optimizer saw at xy[:, t]
    and state[name][:, t] is the optimizer's state after t updates. Without history, the step axis
    is absent and each array holds the final values only (grad: the gradient at the final point).
    """

    xy: np.ndarray  # (R, T + 1, 2) or (R, 2)
    loss: np.ndarray  # (R, T + 1) or (R,)
    grad: np.ndarray  # (R, T + 1, 2) or (R, 2)
    state: dict[str, np.ndarray]  # the optimizer's state fields, e.g. {"mu": ..., "nu": ..., "count": ...}
    diverged_at: np.ndarray  # (R,) int: the step at which the run diverged, or NOT_DIVERGED (-1)
    hyperparams: dict[str, float | np.ndarray]  # every hyperparameter as run: a scalar, or (R,) values


def escape_box(surface: Surface) -> tuple[np.ndarray, np.ndarray]:
    """The box outside which a run counts as diverged: the plot window grown by its size on each side."""
    (x0, x1), (y0, y1) = surface.bounds
    width, height = x1 - x0, y1 - y0
    return np.array([x0 - width, y0 - height]), np.array([x1 + width, y1 + height])


# A row packs one run's whole loop state into one float vector: [x, y, diverged_at, flat optimizer
# state, zero padding]. One array carried, selected and recorded per step means one kernel for each.
XY, DIVERGED, STATE = slice(0, 2), 2, slice(3, None)
# The compiled call returns, per recorded step, [x, y, diverged_at, loss, gx, gy, flat optimizer state].
LOSS, GRAD, OUTPUT_STATE = 3, slice(4, 6), 6


def _row_step(f, box, switch: Switchable, kind, row, hyperparams_row, xi, t, lr_scale, moving):
    """One step of one row (a run of optimizer switch.names[kind]) on the surface f with escape box
    box = (low, high): noisy gradient, update scaled by the learning-rate schedule's factor,
    divergence check. A padding step (moving False) leaves it as it is."""
    xy, diverged_at, flat_state = row[XY], row[DIVERGED], row[STATE]
    grad = jax.grad(f)(xy) + hyperparams_row[NOISE] * xi
    updates, new_state = switch.update(kind, grad, flat_state, xy, hyperparams_row[:NOISE])
    new_xy = xy + lr_scale * updates
    low, high = box
    # Element by element rather than jnp.all: a reduction would split the loop body's fused kernel.
    ok = (
        jnp.isfinite(new_xy[0])
        & jnp.isfinite(new_xy[1])
        & (new_xy[0] >= low[0])
        & (new_xy[0] <= high[0])
        & (new_xy[1] >= low[1])
        & (new_xy[1] <= high[1])
    )
    alive = (diverged_at == NOT_DIVERGED) & moving
    diverged_at = jnp.where(alive & ~ok, t + 1.0, diverged_at)[None]
    moved = jnp.concatenate([new_xy, diverged_at, new_state])
    frozen = jnp.concatenate([xy, diverged_at, flat_state])
    return jnp.where(alive & ok, moved, frozen)


class _Group(NamedTuple):
    """Rows that advance together: row r runs optimizer switch.names[kinds[r]] (see the module docstring)."""

    switch: Switchable
    kinds: jax.Array  # (rows,) index into names
    starts: jax.Array  # (rows, 2)
    hyperparams: jax.Array  # (rows, len(HYPERPARAMETER_NAMES))


def _scan_groups(f, box, groups: Sequence[_Group], steps, history, xi, seed_axis, schedule, active):
    """Advance every group's rows `steps` steps on f in one scan (moving for the first `active`); xi is
    the noise table (T + 1, [rows,] 2), schedule the learning-rate schedule as `Schedule.as_array()`.

    Returns per group its rows: (rows, T + 1, width) with history, else the final (rows, width).
    """

    def initial_rows(group):
        flat_state = jax.vmap(group.switch.init)(group.kinds, group.starts, group.hyperparams[:, :NOISE])
        not_diverged = jnp.full((len(group.kinds), 1), float(NOT_DIVERGED))
        return jnp.concatenate([group.starts, not_diverged, flat_state], axis=1)

    steppers = [
        jax.vmap(partial(_row_step, f, box, group.switch), in_axes=(0, 0, 0, seed_axis, None, None, None))
        for group in groups
    ]

    def advance(rows, inputs):
        t, xi_t, lr_scale, moving = inputs
        rows = tuple(
            step(group.kinds, r, group.hyperparams, xi_t, t, lr_scale, moving)
            for step, group, r in zip(steppers, groups, rows, strict=True)
        )
        return rows, (rows if history else None)

    initial = tuple(initial_rows(group) for group in groups)
    # Per-step scalars computed up front, in one vectorized pass: scalar work inside the loop body
    # costs a kernel launch per step (see the module docstring).
    t = jnp.arange(steps)
    lr_scales = multiplier(schedule, t + 1)  # step t + 1 is the one taken at loop index t
    finals, records = jax.lax.scan(advance, initial, (t, xi[:steps], lr_scales, t < active))
    if not history:
        return finals
    # Prepend the start and put the run axis first: (T, rows, width) -> (rows, T + 1, width).
    return tuple(
        jnp.moveaxis(jnp.concatenate([first[None], rec]), 0, 1)
        for first, rec in zip(initial, records, strict=True)
    )


@partial(jax.jit, static_argnames=("family", "names", "steps", "history"))
def _run_compiled(family, names, steps, history, params, box, starts, hyperparams, seeds, schedule, active):
    """Every optimizer in `names` over the same R runs on f = family(params, .) with escape box
    box = (low, high) (`escape_box`): starts (R, 2), hyperparams (len(names), R, H)
    with columns HYPERPARAMETER_NAMES, seeds (R,) or one seed shared by all runs, and one
    learning-rate schedule for all (`Schedule.as_array()`). Runs take `active` <= steps steps.

    Returns one array per group of `_group_layout`: its rows, in the output layout, run axis first.
    """
    f = partial(family, params)
    n_runs = starts.shape[0]
    shared_seed = jnp.ndim(seeds) == 0
    # All noise up front in one vectorized draw; xi[t] is gradient_noise(key(seed), t), the same
    # draw `with_gradient_noise` makes, so the engine and the standalone optimizers agree.
    draw = jax.vmap(lambda t, seed: gradient_noise(jax.random.key(seed), t, starts[0]), in_axes=(0, None))
    if not shared_seed:
        draw = jax.vmap(draw, in_axes=(None, 0), out_axes=1)
    xi = draw(jnp.arange(steps + 1), seeds)  # (T + 1, 2), or (T + 1, R, 2) with a seed per run

    layout = _group_layout(len(names), n_runs)
    groups = [
        _Group(
            switch=switchable(tuple(names[i] for i in members)),
            kinds=jnp.repeat(jnp.arange(len(members)), n_runs),
            starts=jnp.tile(starts, (len(members), 1)),
            hyperparams=hyperparams[jnp.array(members)].reshape(-1, hyperparams.shape[-1]),
        )
        for members in layout
    ]
    # A seed per run: every group's rows need their run's noise, repeated for each optimizer in it.
    rows_xi = xi if shared_seed else jnp.tile(xi, (1, len(layout[0]), 1))
    scanned = _scan_groups(
        f, box, groups, steps, history, rows_xi, None if shared_seed else 0, schedule, active
    )

    # Per group, the loss and the gradient each row saw at every recorded point, in one vectorized
    # pass, and one array (one device-to-host copy) in the output layout above.
    outputs = []
    for group, rows in zip(groups, scanned, strict=True):
        loss, grad = jnp.vectorize(jax.value_and_grad(f), signature="(2)->(),(2)")(rows[..., XY])
        noise = group.hyperparams[:, NOISE]
        step_noise = jnp.moveaxis(rows_xi, 0, 0 if shared_seed else 1) if history else rows_xi[steps]
        grad = grad + noise.reshape((-1,) + (1,) * (grad.ndim - 1)) * step_noise
        outputs.append(jnp.concatenate([rows[..., :LOSS], loss[..., None], grad, rows[..., STATE]], -1))
    return tuple(outputs)


def step_bucket(steps: int) -> int:
    """The step count a run of `steps` steps is compiled for (see `STEP_BUCKETS`)."""
    largest = STEP_BUCKETS[-1]
    return next((b for b in STEP_BUCKETS if b >= steps), -(-steps // largest) * largest)


def _group_layout(n_optimizers: int, n_runs: int) -> list[tuple[int, ...]]:
    """Which optimizers advance together. Few rows: all in one group under a switch; many: one group
    per optimizer (a switch would run every rule on every row). Within a group rows are
    optimizer-major: its k-th optimizer's runs are rows k*R .. (k+1)*R - 1."""
    if n_optimizers * n_runs <= SWITCH_MAX_ROWS:
        return [tuple(range(n_optimizers))]
    return [(i,) for i in range(n_optimizers)]


def run(
    surface: str | Surface,
    optimizers: Sequence[str],
    starts,
    steps: int,
    hyperparams: Mapping[str, Mapping[str, float]] | None = None,
    seeds=0,
    *,
    history: bool = True,
    schedule: Schedule = CONSTANT,
) -> dict[str, Runs]:
    """Run every optimizer from each of R start points in one compiled call.

    surface: a record, or its name. starts: (R, 2), or (2,) for a single run. hyperparams: optimizer
    name -> {hyperparameter: value}, where a value is a scalar (shared by all runs) or an array of R
    values (one per run); anything not given takes the optimizer's recommendation for this surface,
    then its default. seeds: an int shared by all runs (all see the same noise) or R ints.
    history=False keeps only the final values, which is what a 100 x 100 grid of starts needs (the
    full history would not fit in memory). schedule: the learning-rate schedule every run follows
    (see `optviz.schedules`).
    """
    surface = as_surface(surface)
    names = tuple(optimizers)
    if not names:
        raise ValueError("give at least one optimizer")
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    starts = np.atleast_2d(np.asarray(starts, dtype=np.float64))
    if starts.ndim != 2 or starts.shape[1] != 2:
        raise ValueError(f"starts must have shape (R, 2), got {starts.shape}")
    n_runs = len(starts)
    hyperparams = dict(hyperparams or {})
    unknown = sorted(set(hyperparams) - set(names))
    if unknown:
        raise ValueError(f"hyperparameters given for optimizers not being run: {', '.join(unknown)}")
    resolved = {name: resolve_hyperparams(surface, name, hyperparams.get(name)) for name in names}
    table = np.ones((len(names), n_runs, len(HYPERPARAMETER_NAMES)))  # 1.0: a harmless unused value
    for i, name in enumerate(names):
        for key, value in resolved[name].items():
            table[i, :, HYPERPARAMETER_NAMES.index(key)] = value  # a scalar, or one value per run
    seeds = np.asarray(seeds, dtype=np.uint32)
    bucket = step_bucket(int(steps))
    schedule_array = schedule.as_array()
    family, params = surface.split()
    box = np.stack(escape_box(surface))
    compiled = _run_compiled(
        family, names, bucket, history, params, box, starts, table, seeds, schedule_array, steps
    )
    # With history, the padding is cut off on the host (a NumPy view): a slice on the device would
    # compile a program for every step count.
    outputs = jax.device_get(compiled)
    if history:
        outputs = tuple(o[:, : steps + 1] for o in outputs)
    runs = {}
    for members, output in zip(_group_layout(len(names), n_runs), outputs, strict=True):
        for position, i in enumerate(members):
            rows = np.asarray(output[position * n_runs : (position + 1) * n_runs])
            runs[names[i]] = _to_runs(names[i], rows, resolved[names[i]])
    return runs


def resolve_hyperparams(surface: str | Surface, optimizer: str, overrides=None) -> dict[str, float]:
    """An optimizer's hyperparameters on a surface: its defaults, then its recommendation for this
    surface, then `overrides`. Unknown names raise a ValueError naming the valid ones."""
    return get_optimizer(optimizer).resolve(overrides, problem=as_surface(surface).name)


def _to_runs(name: str, output: np.ndarray, hyperparams) -> Runs:
    """Name the columns of one optimizer's rows (R, [T + 1,] columns) as a `Runs` (NumPy views).

    Columns past the optimizer's own state are padding from its group's widest state."""
    state, column = {}, OUTPUT_STATE
    for field, shape, dtype in state_fields(name):
        size = int(np.prod(shape))
        values = output[..., column : column + size].reshape(output.shape[:-1] + shape).astype(dtype)
        values.flags.writeable = False  # as `output` (JAX's): a run is shared, cached, never changed
        state[field] = values
        column += size
    final = output[:, -1] if output.ndim == 3 else output
    diverged_at = final[:, DIVERGED].astype(int)
    return Runs(output[..., XY], output[..., LOSS], output[..., GRAD], state, diverged_at, hyperparams)
