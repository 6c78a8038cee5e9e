"""The loss-and-distance curves' data (optviz/lab/curves_data.py): each curve decodes to the gap and
the distance computed here from the trajectory by the formulas the Plotly figure used, a zero gap
stays on the log axis, a surface without f* gets a linear loss axis, and the size fits its budget."""

import json

import numpy as np
import pytest

import optviz
from optviz.lab.config import DEFAULT_OPTIMIZERS, RaceConfig
from optviz.lab.curves_data import FLOOR, curves_data, unpack_curve
from optviz.lab.race import race
from surfaces import from_formula

SIZE_BUDGET = 40_000  # bytes of JSON for 6 optimizers x 500 steps
LOG_RTOL = 1e-4  # log10(v) in float32: v to a relative 4e-5 across the whole double range


def _packed(surface, steps=None, start=None, **hyperparams):
    surface = optviz.SURFACES[surface] if isinstance(surface, str) else surface
    config = RaceConfig.create(surface, DEFAULT_OPTIMIZERS, start, steps, hyperparams)
    trajectories = race(config)
    return curves_data(surface, trajectories, settings="s"), trajectories


def _reference(surface, t):
    """The gap f − f* (floored at the smallest positive double) and the Euclidean distance to the
    nearest minimum, written out again from the definitions (progress_figure's formulas)."""
    f_star = min(m.value for m in surface.minima)
    gap = np.maximum(t.loss - f_star, np.finfo(float).tiny)
    minima = np.array([m.xy for m in surface.minima])
    distance = np.sqrt(((t.xy[:, None, :] - minima[None]) ** 2).sum(-1)).min(-1)
    return gap, distance


@pytest.mark.parametrize("name", [n for n, s in optviz.SURFACES.items() if s.minima])
def test_each_curve_decodes_to_the_gap_and_the_distance_of_its_run(name):
    surface = optviz.SURFACES[name]
    data, trajectories = _packed(name)
    assert [c["name"] for c in data["curves"]] == list(trajectories)
    assert data["steps"] == next(iter(trajectories.values())).steps
    assert [a["log"] for a in data["axes"]] == [True, True]
    assert data["axes"][0]["title"] == "f(θ_t) − f*  (log scale)"
    assert data["axes"][1]["title"] == "distance to nearest minimum"
    for k, (optimizer, t) in enumerate(trajectories.items()):
        assert data["curves"][k]["colour"] == optviz.OPTIMIZERS[optimizer].colour
        assert data["curves"][k]["label"] == optviz.OPTIMIZERS[optimizer].label
        gap, distance = _reference(surface, t)
        np.testing.assert_allclose(unpack_curve(data, k, 0), gap, rtol=LOG_RTOL)
        shown = distance > 0  # a distance of exactly 0 has no logarithm: a gap in the curve
        np.testing.assert_allclose(unpack_curve(data, k, 1)[shown], distance[shown], rtol=LOG_RTOL)
        assert np.isnan(unpack_curve(data, k, 1)[~shown]).all()


def test_a_gap_of_zero_is_floored_at_the_smallest_double_and_stays_on_the_log_axis():
    """Started on Booth's minimum, f − f* is 0 at step 0: it is drawn at 2.2e-308, not dropped."""
    booth = optviz.SURFACES["booth"]
    data, trajectories = _packed("booth", steps=20, start=booth.minima[0].xy)
    assert trajectories["gd"].loss[0] - booth.minima[0].value <= 0
    gap = unpack_curve(data, 0, 0)
    assert np.isfinite(gap).all() and gap[0] == pytest.approx(FLOOR, rel=LOG_RTOL)


def test_a_surface_without_f_star_shows_the_loss_itself_on_a_linear_axis():
    data, trajectories = _packed("saddle", steps=50, start=(-1.8, 0.001))
    assert data["axes"][0] == {"title": "f(θ_t)", "log": False}
    assert data["axes"][1] == {"title": "distance to saddle point", "log": True}
    np.testing.assert_allclose(unpack_curve(data, 0, 0), trajectories["gd"].loss, rtol=1e-6, atol=1e-6)


def test_a_surface_without_minima_or_saddles_has_no_distance_curve():
    data, _ = _packed(from_formula("x + y"), steps=30)
    assert np.isnan(unpack_curve(data, 0, 1)).all() and np.isfinite(unpack_curve(data, 0, 0)).all()


def test_a_diverged_run_stays_finite_on_the_wire():
    data, trajectories = _packed("rosenbrock", gd={"lr": 0.01})
    assert trajectories["gd"].diverged_at is not None
    gd = next(k for k, c in enumerate(data["curves"]) if c["name"] == "gd")
    assert np.isfinite(unpack_curve(data, gd, 0)).all()


def test_six_optimizers_and_500_steps_fit_the_size_budget():
    data, _ = _packed("rosenbrock", steps=500)
    size = len(json.dumps(data))
    print(f"curves data, 6 x 500 steps: {size / 1000:.1f} KB (budget {SIZE_BUDGET / 1000:.0f} KB)")
    assert size <= SIZE_BUDGET
