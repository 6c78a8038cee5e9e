"""Analysis benchmark: learning-rate sweeps and basin maps, vectorized against runs one at a time.

Run from the repository root:  python -m bench.analysis
Budgets (issue 8), warm, on 2 cores: a 60-value lr sweep x 6 optimizers x 500 steps <= 0.2 s; a
200 x 200 basin map x 500 steps for one optimizer <= 1 s; a custom formula compiles and draws
(parse, grid, first race, the race chart's data) in <= 2 s. The baseline is the same runs made one at a time
through `optviz.simulate`, measured in the same process (a sample of them, scaled up).
"""

import json

import numpy as np

import optviz
from bench._timing import median_seconds
from optviz.lab import analysis, race
from optviz.lab.config import RaceConfig
from optviz.lab.race_data import race_data, signature
from surfaces import from_formula

SIX = ["gd", "sgd", "momentum", "adagrad", "rmsprop", "adam"]
LRS = analysis.log_spaced(1e-5, 10.0, 60)
START, STEPS = (-1.5, 2.0), 500


def one_at_a_time_s(runs, count):
    """Seconds for `count` runs made one by one, from a timed sample of `runs` (callables); an untimed
    first pass compiles (one program per optimizer) and warms up."""

    def each(_):
        for run in runs:
            run()

    return median_seconds(each, warm_up=True) / len(runs) * count


def main():
    sweep = median_seconds(
        lambda _: analysis.lr_sweep("rosenbrock", SIX, START, STEPS, lrs=LRS), 7, warm_up=True
    )
    sample = [
        lambda name=name, lr=lr: optviz.simulate("rosenbrock", name, start=START, steps=STEPS, lr=lr)
        for name in SIX
        for lr in LRS[::6]
    ]
    sweep_loop = one_at_a_time_s(sample, len(SIX) * len(LRS))
    print(
        f"lr sweep, 60 lrs x 6 optimizers x {STEPS} steps: {sweep * 1e3:.0f} ms warm (budget 200 ms, "
        f"{sweep / 0.2:.2f} of it); one run at a time: {sweep_loop * 1e3:.0f} ms -> {sweep_loop / sweep:.0f}x"
    )

    basin = median_seconds(
        lambda _: analysis.basins("himmelblau", "adam", STEPS, resolution=200), 5, warm_up=True
    )
    rng = np.random.default_rng(0)
    starts = rng.uniform(-5, 5, size=(40, 2))
    sample = [lambda s=s: optviz.simulate("himmelblau", "adam", start=tuple(s), steps=STEPS) for s in starts]
    basin_loop = one_at_a_time_s(sample, 200 * 200)
    print(
        f"basin map, 200 x 200 starts x {STEPS} steps, Adam: {basin * 1e3:.0f} ms warm (budget 1000 ms, "
        f"{basin:.2f} of it); one run at a time: {basin_loop:.0f} s -> {basin_loop / basin:.0f}x"
    )

    # A server that has drawn a built-in surface sees a new formula: everything about it is new.
    custom = [
        median_seconds(lambda _, text=text: race_chart_json(from_formula(text)))
        for text in ("sin(x)*cos(y) + 0.1*(x**2 + y**2)", "x^4 - 2*x^2 + y^2 + x*y")
    ]
    # The same steps, warm, on a built-in surface: what is left without parse and compile.
    builtin = median_seconds(lambda _: race_chart_json(optviz.get_surface("himmelblau")), 3)
    print(
        f"custom formula to the race chart's data: {custom[0]:.2f} s and {custom[1]:.2f} s (budget 2 s); "
        "the same "
        f"steps warm on a built-in surface: {builtin * 1e3:.0f} ms"
    )


def race_chart_json(surface) -> str:
    """What the page does with a surface: its grid, the race (compiled first, for a new formula), and
    the race chart's data as JSON."""
    grid = race.surface_grid(surface)
    config = RaceConfig.create(surface, SIX, surface.default_start, surface.default_steps)
    trajectories = race.race(config)
    return json.dumps(
        race_data(surface, grid, race.colouring(surface, grid), trajectories, settings=signature(config.key))
    )


if __name__ == "__main__":
    main()
