"""The lab's computations: the race, the surface grid, summaries and per-step internals."""

import numpy as np
import pytest

import optviz
from optviz import engine
from optviz.lab import race
from optviz.lab.config import RaceConfig
from surfaces import SURFACES, from_formula


def test_race_returns_the_selected_optimizers_cut_to_the_steps_asked_for():
    runs = race.race(RaceConfig.create("beale", ["adam", "gd"], (1.0, 1.4), 137))
    assert list(runs) == ["adam", "gd"]
    for name, t in runs.items():
        alone = optviz.simulate("beale", name, start=(1.0, 1.4), steps=137)
        assert t.steps == 137 and set(t.state) == set(alone.state)
        np.testing.assert_allclose(t.xy, alone.xy, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(t.loss, alone.loss, rtol=1e-10, atol=1e-15)


def test_step_counts_share_a_compiled_function_within_a_bucket():
    race.race(RaceConfig.create("booth", ["gd"], (0.0, 0.0), 110))
    compiled = engine._run_compiled._cache_size()
    for steps in (120, 150, 200):  # all padded to 200
        race.race(RaceConfig.create("booth", ["gd"], (0.0, 0.0), steps))
    assert engine._run_compiled._cache_size() == compiled


def test_shared_noise_adds_to_each_optimizers_own_in_variance():
    runs = race.race(
        RaceConfig.create("himmelblau", ["sgd", "adam"], (0.0, 0.0), 20, {"sgd": {"noise": 3.0}}, noise=4.0)
    )
    assert runs["sgd"].hyperparams["noise"] == pytest.approx(5.0)
    assert runs["adam"].hyperparams["noise"] == pytest.approx(4.0)


def test_on_a_formula_surface_the_race_uses_sgds_own_default_noise():
    """A formula surface recommends nothing, so SGD keeps its default noise (1.0) in the lab's race
    exactly as in `simulate` (the race once took 0.0 there: it re-derived the default by hand)."""
    surface = from_formula("x**2 + 3*y**2")
    runs = race.race(RaceConfig.create(surface, ["sgd"], (1.0, 1.0), 60))
    alone = optviz.simulate(surface.name, "sgd", start=(1.0, 1.0), steps=60)
    assert runs["sgd"].hyperparams["noise"] == alone.hyperparams["noise"] == 1.0
    np.testing.assert_allclose(runs["sgd"].xy, alone.xy, rtol=1e-12, atol=1e-15)


def test_a_run_that_diverges_after_its_last_step_is_not_reported_as_diverged():
    """The padding steps of a bucket never count: a run ends at the steps it was asked for."""
    full = optviz.simulate("rosenbrock", "gd", start=(-1.5, 2.0), steps=50, lr=0.01)
    assert full.diverged_at is not None and full.diverged_at > 1
    cut = optviz.simulate("rosenbrock", "gd", start=(-1.5, 2.0), steps=full.diverged_at - 1, lr=0.01)
    assert cut.diverged_at is None and cut.steps == full.diverged_at - 1
    np.testing.assert_array_equal(cut.xy, full.xy[: full.diverged_at])


def test_race_rejects_step_counts_out_of_range():
    with pytest.raises(ValueError, match="between 1 and 2000"):
        race.race(RaceConfig.create("booth", ["gd"], (0.0, 0.0), 5000))


@pytest.mark.parametrize("name", list(SURFACES))
def test_surface_grid_and_colouring(name):
    surface = SURFACES[name]
    grid = race.surface_grid(surface, resolution=31)
    assert grid.z.shape == (31, 31)
    assert grid.z[4, 7] == pytest.approx(float(surface.fn(np.array([grid.x[7], grid.y[4]]))))
    colour = race.colouring(surface, grid)
    values = colour(grid.z)
    assert np.all(np.isfinite(values))
    order = np.argsort(grid.z.ravel())
    assert np.all(np.diff(values.ravel()[order]) >= 0), "colours rise with the loss"


def test_distance_is_zero_at_a_minimum_and_measured_to_saddles_without_minima():
    assert race.distance_to_landmarks(SURFACES["himmelblau"], np.array([3.0, 2.0])) == 0.0
    assert race.distance_to_landmarks(SURFACES["saddle"], np.array([3.0, 4.0])) == pytest.approx(5.0)
    assert race.landmarks(SURFACES["saddle"])[1] == "saddle point"


def test_summaries_say_what_happened():
    rosenbrock, saddle, booth = SURFACES["rosenbrock"], SURFACES["saddle"], SURFACES["booth"]
    diverged = race.summarize(rosenbrock, optviz.simulate("rosenbrock", "gd", lr=0.01, steps=50))
    assert diverged.diverged_at is not None
    assert f"diverged at step {diverged.diverged_at}" in diverged.status and "lr = 0.0033" in diverged.status
    escaped = race.summarize(saddle, optviz.simulate("saddle", "adam", start=(-1.8, 0.3), steps=500))
    assert "left the plot" in escaped.status and escaped.gap is None
    solved = race.summarize(booth, optviz.simulate("booth", "gd"), tolerance=1e-6)
    assert solved.steps_to_tolerance is not None and solved.nearest == "global minimum (1, 3)"
    assert solved.status == f"reached f* + 1e-06 at step {solved.steps_to_tolerance}"
    assert solved.gap == pytest.approx(solved.final_loss)


def test_internals_reproduce_the_update_rule():
    t = optviz.simulate("beale", "adagrad", steps=30)
    step = 12
    values = {q.symbol: q.value for q in race.step_internals(t, step)}
    lr, eps = t.hyperparams["lr"], t.hyperparams["eps"]
    np.testing.assert_allclose(values["G_t"], t.state["sum_sq"][step - 1] + values["g_t"] ** 2, rtol=1e-12)
    np.testing.assert_allclose(values[r"-\Delta\theta / g_t"], lr / (np.sqrt(values["G_t"]) + eps), rtol=1e-9)
    np.testing.assert_allclose(values[r"\theta_t - \theta_{t-1}"], t.xy[step] - t.xy[step - 1])


def test_internals_use_the_optimizers_symbols_and_check_the_step():
    t = optviz.simulate("booth", "adam", steps=5)
    assert [q.symbol for q in race.step_internals(t, 1)][2:5] == ["t", "m_t", "v_t"]
    with pytest.raises(ValueError, match="between 1 and 5"):
        race.step_internals(t, 0)
