"""The figure builders: what each trace is, what the frames move, and the payload budget."""

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from optviz.lab import figures, race
from optviz.lab.config import RaceConfig
from optviz.optimizers import OPTIMIZERS
from surfaces import SURFACES

SIX = ["gd", "sgd", "momentum", "adagrad", "rmsprop", "adam"]


def _race(surface="rosenbrock", names=SIX, steps=500, **kwargs):
    surface = SURFACES[surface]
    grid = race.surface_grid(surface)
    trajectories = race.race(RaceConfig.create(surface, names, surface.default_start, steps))
    fig = figures.race_figure(surface, grid, race.colouring(surface, grid), trajectories, **kwargs)
    return fig, trajectories


def _spec(fig):
    """The figure as the browser receives it."""
    return json.loads(pio.to_json(fig.to_dict(), validate=False))


@pytest.mark.parametrize("panels", [False, True])
def test_frames_move_only_the_heads_to_each_optimizers_position(panels):
    fig, trajectories = _race(panels=panels, steps=120)
    spec = _spec(fig)
    frames = spec["frames"]
    assert [f["name"] for f in frames] == [str(k) for k in range(121)]
    head_indices = frames[0]["traces"]
    assert len(head_indices) == (6 if panels else 1)
    assert all(spec["data"][i]["type"] == "scatter" for i in head_indices)
    contour_indices = [i for i, trace in enumerate(spec["data"]) if trace["type"] == "contour"]
    assert len(contour_indices) == (6 if panels else 1)
    assert not set(contour_indices) & set(head_indices), "the surface is never redrawn by a frame"
    heads = [xy for data in frames[60]["data"] for xy in zip(data["x"], data["y"], strict=True)]
    expected = [tuple(trajectories[n].xy[60]) for n in SIX]
    np.testing.assert_allclose(heads, expected, atol=1e-6)
    stops = [int(s["label"]) for s in spec["layout"]["sliders"][0]["steps"]]
    assert stops[0] == 0 and stops[-1] == 120 and len(stops) <= figures.MAX_SLIDER_STOPS + 1
    assert set(stops) <= {int(f["name"]) for f in frames}, "every stop jumps to a frame"


def test_one_path_per_optimizer_in_its_own_colour():
    fig, trajectories = _race(steps=50)
    paths = [t for t in fig.data if t.type == "scatter" and t.mode == "lines"]
    assert [p.line.color for p in paths] == [OPTIMIZERS[n].colour for n in SIX]
    np.testing.assert_allclose(np.asarray(paths[2].x), trajectories["momentum"].xy[:, 0])


def test_long_runs_are_subsampled_to_at_most_max_frames():
    fig, _ = _race(steps=2000, names=["adam"])
    frames = fig.to_dict()["frames"]
    assert len(frames) == figures.MAX_FRAMES and frames[0]["name"] == "0" and frames[-1]["name"] == "2000"


def test_a_diverged_run_is_marked_where_it_stopped():
    surface = SURFACES["rosenbrock"]
    grid = race.surface_grid(surface, 31)
    t = race.race(RaceConfig.create("rosenbrock", ["gd"], (-1.5, 2.0), 50, {"gd": {"lr": 0.01}}))
    fig = figures.race_figure(surface, grid, race.colouring(surface, grid), t)
    marker = next(trace for trace in fig.data if trace.name == "diverged")
    assert (marker.x[0], marker.y[0]) == tuple(t["gd"].xy[-1]) and "diverged at step 4" in marker.text[0]


@pytest.mark.parametrize("panels", [False, True])
def test_payload_for_six_optimizers_and_500_steps_stays_under_1_mb(panels):
    fig, _ = _race(panels=panels)
    assert len(pio.to_json(fig.to_dict(), validate=False)) < 1_000_000


def test_3d_view_has_the_surface_and_a_path_per_optimizer():
    surface = SURFACES["goldstein_price"]
    grid = race.surface_grid(surface, 41)
    colour = race.colouring(surface, grid)
    trajectories = race.race(RaceConfig.create(surface, ["gd", "momentum"], surface.default_start, 100))
    fig = figures.surface3d_figure(surface, grid, colour, trajectories)
    assert [t.type for t in fig.data] == ["surface", "scatter3d", "scatter3d"]
    heights = np.asarray(fig.data[1].z) - colour(trajectories["gd"].loss)
    assert np.ptp(heights) < 1e-9 and 0 < heights[0] < 0.05 * np.ptp(colour(grid.z)), (
        "on the surface, just above"
    )


@pytest.mark.parametrize("panels", [False, True])
def test_the_race_figure_is_valid_plotly(panels):
    """The builders write Plotly's schema directly (no validation per page run): plotly.py checks every
    property here, data, layout, frames and slider, and raises on one it does not know."""
    fig, _ = _race(panels=panels, steps=60)
    go.Figure(fig.to_dict())
