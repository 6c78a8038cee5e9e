"""Optimizer-lab benchmark: server time from a slider change to the figure handed to Streamlit.

Run from the repository root:  python -m bench.lab
Budgets (issue 3), for 6 optimizers x 500 steps: engine + figure build + serialization <= 150 ms warm;
figure payload <= 1 MB. The baselines, measured in the same process: the same animation built the
default plotly.py way (validated go.Frame objects); the same figure with only its data and layout
validated (its frames plain, as before the builders wrote plain specs); and the figure serialized
with the standard library's json instead of orjson. Also: the loss-and-distance curves' packing.
"""

import json

import plotly.graph_objects as go
import plotly.io as pio
import plotly.tools

from bench._timing import median_seconds
from optviz.lab import figures, race
from optviz.lab.config import RaceConfig
from optviz.lab.curves_data import curves_data
from optviz.optimizers import OPTIMIZERS
from surfaces import SURFACES

SIX = ["gd", "sgd", "momentum", "adagrad", "rmsprop", "adam"]
SURFACE, STEPS = SURFACES["rosenbrock"], 500
GRID = race.surface_grid(SURFACE)
COLOUR = race.colouring(SURFACE, GRID)
REPEAT = 15  # calls timed, unless a line says otherwise


def slider_change(lr: float, panels: bool) -> str:
    """What a rerun does after a slider moves: race, build the figure, serialize it as Streamlit does."""
    trajectories = race.race(
        RaceConfig.create(SURFACE, SIX, SURFACE.default_start, STEPS, {"adam": {"lr": lr}})
    )
    fig = figures.race_figure(SURFACE, GRID, COLOUR, trajectories, panels=panels)
    return pio.to_json(
        plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True), validate=False
    )


def validated_frames_baseline() -> str:
    """The same race with its frames and slider passed through plotly.py's validation."""
    trajectories = race.race(RaceConfig.create(SURFACE, SIX, SURFACE.default_start, STEPS))
    plain = figures.race_figure(SURFACE, GRID, COLOUR, trajectories).to_dict()
    fig = go.Figure(data=plain["data"], layout=plain["layout"], frames=plain["frames"])
    return pio.to_json(
        plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True), validate=False
    )


def validated_spec_baseline() -> str:
    """The same race figure with its data and layout validated by plotly.py (frames kept plain)."""
    trajectories = race.race(RaceConfig.create(SURFACE, SIX, SURFACE.default_start, STEPS))
    plain = figures.race_figure(SURFACE, GRID, COLOUR, trajectories)
    spec = plain.to_dict()
    fig = figures.AnimatedFigure(data=spec["data"], layout=spec["layout"])
    fig.set_animation(spec["frames"], spec["layout"]["sliders"][0])
    return pio.to_json(
        plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True), validate=False
    )


def main():
    lrs = [0.01, 0.02, 0.05, 0.1, 0.2]  # a different value each call: nothing is served from a cache
    for panels in (False, True):
        slider_change(lrs[0], panels)  # compile once
    baseline = 1e3 * median_seconds(lambda _: validated_frames_baseline(), 5)
    print(f"6 optimizers x {STEPS} steps on {SURFACE.name}, slider change to figure handed to Streamlit:")
    print(f"  baseline: plotly.py-validated frames      {baseline:7.1f} ms")
    for panels, name in ((False, "overlay"), (True, "side by side")):
        ms = 1e3 * median_seconds(lambda i, panels=panels: slider_change(lrs[i % len(lrs)], panels), REPEAT)
        size = len(slider_change(0.3, panels)) / 1e6
        print(
            f"  {name:13s} {ms:7.1f} ms (budget 150 ms, {baseline / ms:4.1f}x faster than baseline)   "
            f"payload {size:5.2f} MB (budget 1 MB)"
        )
    validated = 1e3 * median_seconds(lambda _: validated_spec_baseline(), 5)
    print(f"  baseline: data and layout validated        {validated:7.1f} ms")
    trajectories = race.race(RaceConfig.create(SURFACE, SIX, SURFACE.default_start, STEPS))
    curves = 1e3 * median_seconds(lambda _: curves_data(SURFACE, trajectories, settings=""), REPEAT)
    curves_kb = len(json.dumps(curves_data(SURFACE, trajectories, settings=""))) / 1e3
    print(f"  loss-and-distance curves packed {curves:5.1f} ms, {curves_kb:5.1f} KB")
    spec = figures.race_figure(SURFACE, GRID, COLOUR, trajectories).to_dict()
    orjson_ms = 1e3 * median_seconds(lambda _: pio.to_json(spec, validate=False, engine="orjson"), REPEAT)
    json_ms = 1e3 * median_seconds(lambda _: pio.to_json(spec, validate=False, engine="json"), REPEAT)
    print(
        f"  race figure to JSON: orjson {orjson_ms:5.1f} ms, "
        f"json {json_ms:5.1f} ms ({json_ms / orjson_ms:4.1f}x)"
    )
    race_ms = 1e3 * median_seconds(
        lambda i: race.race(
            RaceConfig.create(SURFACE, SIX, SURFACE.default_start, STEPS, {"gd": {"lr": lrs[i % 5]}})
        ),
        REPEAT,
    )
    print(f"  of which the engine (all {len(OPTIMIZERS)} optimizers run) {race_ms:7.1f} ms")


if __name__ == "__main__":
    main()
