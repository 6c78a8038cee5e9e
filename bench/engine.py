"""Engine benchmark: one compiled JAX call against the same runs as a plain Python/NumPy loop.

Run from the repository root:  python -m bench.engine
Budgets (issue 2, set for the first 8 optimizers): warm call <= 2 ms and >= 100x faster than NumPy
for every optimizer x 1000 steps; 100 x 100 starts x 500 steps x every optimizer warm <= 1.5 s.
Compile time is reported, not budgeted.
"""

import numpy as np

import optviz
from bench._timing import median_seconds
from optviz import engine
from tests.numpy_reference import STEPS, rosenbrock, rosenbrock_grad

SURFACE, START, STEPS_PER_RUN = "rosenbrock", (-1.5, 2.0), 1000
NAMES = list(optviz.OPTIMIZERS)


def numpy_runs():
    """The engine's work, step for step, as a Python loop: loss and gradient at the point, a noise
    draw, the update, the divergence check, and a record of position, loss, gradient and state."""
    surface = optviz.get_surface(SURFACE)
    low, high = engine.escape_box(surface)
    rng = np.random.default_rng(0)
    for name in NAMES:
        hyperparams = optviz.resolve_hyperparams(surface, name)
        noise = hyperparams.pop("noise")
        step = STEPS[name]
        theta, state, diverged_at, records = np.array(START), {}, None, []
        for t in range(STEPS_PER_RUN):
            loss, grad = rosenbrock(theta), rosenbrock_grad(theta) + noise * rng.normal(size=2)
            records.append((theta, loss, grad, dict(state)))
            if diverged_at is not None:
                continue
            new = step(theta, grad, state, **hyperparams)
            if np.all(np.isfinite(new) & (new >= low) & (new <= high)):
                theta = new
            else:
                diverged_at = t + 1


def main():
    numpy_time = median_seconds(lambda _: numpy_runs(), 3)

    first_call = median_seconds(lambda _: engine.run(SURFACE, NAMES, START, STEPS_PER_RUN))
    raw_call = median_seconds(lambda _: engine.run(SURFACE, NAMES, START, STEPS_PER_RUN), 50)
    api_call = median_seconds(lambda _: optviz.compare(SURFACE, NAMES, start=START, steps=STEPS_PER_RUN), 50)

    (x0, x1), (y0, y1) = optviz.get_surface(SURFACE).bounds
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 100), np.linspace(y0, y1, 100)), -1).reshape(-1, 2)
    grid_first = median_seconds(lambda _: engine.run(SURFACE, NAMES, grid, 500, history=False))
    grid_call = median_seconds(lambda _: engine.run(SURFACE, NAMES, grid, 500, history=False), 3)

    print(f"{len(optviz.OPTIMIZERS)} optimizers x {STEPS_PER_RUN} steps on {SURFACE}, full history:")
    print(f"  plain NumPy loop (baseline)      {numpy_time * 1e3:9.1f} ms")
    print(f"  first JAX call (with compile)    {first_call * 1e3:9.1f} ms")
    print(
        f"  warm engine.run                  {raw_call * 1e3:9.2f} ms   (budget 2 ms)    "
        f"{numpy_time / raw_call:5.0f}x faster than NumPy (budget >= 100x)"
    )
    print(
        f"  warm optviz.compare              {api_call * 1e3:9.2f} ms                    "
        f"{numpy_time / api_call:5.0f}x faster than NumPy"
    )
    print(f"100 x 100 starts x 500 steps x {len(optviz.OPTIMIZERS)} optimizers, final points only:")
    print(f"  first call (with compile)        {grid_first * 1e3:9.1f} ms")
    print(
        f"  warm                             {grid_call * 1e3:9.1f} ms   (budget 1500 ms) "
        f"{grid_call / raw_call:5.0f}x the time of one start, for 5000x the optimizer-steps"
    )


if __name__ == "__main__":
    main()
