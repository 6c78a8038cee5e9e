"""Optimizer-lab benchmark: server time from a slider change to the race chart's data handed to Streamlit.

Run from the repository root:  python -m bench.lab
Budgets (issue 3), for 6 optimizers x 500 steps: engine + packing + serialization <= 150 ms warm;
payload <= 1 MB. The race chart (optviz/ui/race_chart) is given the race packed by
optviz/lab/race_data.py (the map and the paths as typed arrays in base64); the browser draws it. The
loss-and-distance curves' packing, and the engine's share of the time, are printed too.
"""

import json

from bench._timing import median_seconds
from optviz.lab import race
from optviz.lab.config import RaceConfig
from optviz.lab.curves_data import curves_data
from optviz.lab.race_data import race_data, signature
from optviz.optimizers import OPTIMIZERS
from surfaces import SURFACES

SIX = ["gd", "sgd", "momentum", "adagrad", "rmsprop", "adam"]
SURFACE, STEPS = SURFACES["rosenbrock"], 500
GRID = race.surface_grid(SURFACE)
COLOUR = race.colouring(SURFACE, GRID)
REPEAT = 15  # calls timed, unless a line says otherwise


def slider_change(lr: float) -> str:
    """What a rerun does after a slider moves: race, pack the chart's data, serialize it as JSON."""
    config = RaceConfig.create(SURFACE, SIX, SURFACE.default_start, STEPS, {"adam": {"lr": lr}})
    return json.dumps(race_data(SURFACE, GRID, COLOUR, race.race(config), settings=signature(config.key)))


def main():
    lrs = [0.01, 0.02, 0.05, 0.1, 0.2]  # a different value each call: nothing is served from a cache
    slider_change(lrs[0])  # compile once
    print(f"6 optimizers x {STEPS} steps on {SURFACE.name}, slider change to the chart's data for Streamlit:")
    ms = 1e3 * median_seconds(lambda i: slider_change(lrs[i % len(lrs)]), REPEAT)
    size = len(slider_change(0.3)) / 1e6
    print(f"  race chart data {ms:7.1f} ms (budget 150 ms)   payload {size:5.2f} MB (budget 1 MB)")
    trajectories = race.race(RaceConfig.create(SURFACE, SIX, SURFACE.default_start, STEPS))
    curves = 1e3 * median_seconds(lambda _: curves_data(SURFACE, trajectories, settings=""), REPEAT)
    curves_kb = len(json.dumps(curves_data(SURFACE, trajectories, settings=""))) / 1e3
    print(f"  loss-and-distance curves packed {curves:5.1f} ms, {curves_kb:5.1f} KB")
    race_ms = 1e3 * median_seconds(
        lambda i: race.race(
            RaceConfig.create(SURFACE, SIX, SURFACE.default_start, STEPS, {"gd": {"lr": lrs[i % 5]}})
        ),
        REPEAT,
    )
    print(f"  of which the engine (all {len(OPTIMIZERS)} optimizers run) {race_ms:7.1f} ms")


if __name__ == "__main__":
    main()
