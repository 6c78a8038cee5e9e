"""Sweeps, basins, stability, noise fans and effective learning rates, against runs done one by one."""

import numpy as np
import pytest

import optviz
from optviz.lab import analysis
from optviz.lab.race import step_internals
from optviz.schedules import Schedule


def test_lr_sweep_equals_runs_one_by_one():
    lrs = np.array([1e-4, 1e-3, 3e-3, 2e-2])
    sweeps = analysis.lr_sweep("rosenbrock", ["gd", "adam"], (-1.5, 2.0), 150, {"adam": {"b1": 0.8}}, lrs)
    for name, sweep in sweeps.items():
        extra = {"b1": 0.8} if name == "adam" else {}
        for lr, objective, diverged in zip(lrs, sweep.objective, sweep.diverged, strict=True):
            one = optviz.simulate("rosenbrock", name, start=(-1.5, 2.0), steps=150, lr=lr, **extra)
            assert diverged == (one.diverged_at is not None)
            assert objective == pytest.approx(one.loss[-1], rel=1e-9, abs=1e-15)  # f* = 0


def test_divergence_edge_is_where_every_larger_rate_diverges():
    lrs = analysis.log_spaced(1e-3, 1, 31)
    sweep = analysis.lr_sweep("quadratic", ["gd"], (-4.5, 1.0), 200, lrs=lrs)["gd"]
    edge = sweep.divergence_edge()
    # GD on a bowl of curvature 20 is stable iff lr < 2 / 20 = 0.1.
    assert 0.1 <= edge <= 0.1 * 10 ** (3 / 30) * 1.0001
    assert sweep.diverged[sweep.lrs >= edge].all() and not sweep.diverged[sweep.lrs < 0.1].any()


def test_two_parameter_sweep_equals_runs_one_by_one():
    lrs, betas = np.array([0.01, 0.05, 0.2]), np.array([0.0, 0.5, 0.9])
    grid = analysis.lr_grid_sweep("quadratic", "momentum", "beta", (-4.5, 1.0), 80, lrs=lrs, others=betas)
    assert grid.objective.shape == (3, 3)
    for i, beta in enumerate(betas):
        for j, lr in enumerate(lrs):
            one = optviz.simulate("quadratic", "momentum", start=(-4.5, 1.0), steps=80, lr=lr, beta=beta)
            assert grid.objective[i, j] == pytest.approx(one.loss[-1], rel=1e-9, abs=1e-300)
            assert grid.diverged[i, j] == (one.diverged_at is not None)


def test_tune_picks_the_best_stable_rate_and_the_middle_of_ties():
    sweep = analysis.Sweep(
        "gd",
        {"lr": np.array([1e-3, 1e-2, 1e-1, 1.0, 10.0])},
        np.array([0.5, 1e-14, 1e-13, 1e-20, 0.0]),
        np.array([False, False, False, False, True]),
    )
    tuned = analysis.tune({"gd": sweep}, "quadratic")["gd"]
    assert tuned.lr == 1e-1  # 1e-2, 1e-1, 1.0 all solved (below 1e-12); the diverged 10.0 is out
    all_diverged = analysis.Sweep("gd", sweep.values, sweep.objective, np.ones(5, bool))
    assert analysis.tune({"gd": all_diverged}, "quadratic") == {}


def test_tuning_makes_a_fair_race():
    """Tuned rates beat the defaults, and each is the sweep's best for the budget."""
    sweeps = analysis.lr_sweep("beale", ["gd", "momentum", "adam"], (1.0, 1.4), 300)
    tuned = analysis.tune(sweeps, "beale")
    for name, choice in tuned.items():
        run = optviz.simulate("beale", name, start=(1.0, 1.4), steps=300, lr=choice.lr)
        default = optviz.simulate("beale", name, start=(1.0, 1.4), steps=300)
        assert run.loss[-1] <= default.loss[-1] + 1e-12
        stable = sweeps[name].objective[~sweeps[name].diverged]
        assert choice.objective == pytest.approx(stable.min(), abs=1e-12)


def test_basins_equal_runs_one_by_one():
    basin = analysis.basins("himmelblau", "gd", 200, {"lr": 0.01}, resolution=9)
    minima = np.array([m.xy for m in optviz.get_surface("himmelblau").minima])
    for i in range(0, 9, 3):
        for j in range(0, 9, 2):
            start = (basin.x[j], basin.y[i])
            end = optviz.simulate("himmelblau", "gd", start=start, steps=200, lr=0.01).xy[-1]
            distance = np.linalg.norm(minima - end, axis=1)
            expected = int(np.argmin(distance)) if distance.min() < 0.02 * np.hypot(10, 10) else -2
            assert basin.label[i, j] == expected
    # GD paints all four of Himmelblau's minima.
    assert set(basin.shares()) >= {0, 1, 2, 3}


def test_basins_mark_divergence():
    basin = analysis.basins("rosenbrock", "gd", 100, {"lr": 0.01}, resolution=11)
    assert analysis.DIVERGED in basin.shares()


@pytest.mark.parametrize(
    "name, hyperparams",
    [("gd", {}), ("heavy_ball", {"beta": 0.6}), ("momentum", {"beta": 0.5}), ("nesterov", {"beta": 0.7})],
)
def test_stability_bound_separates_convergence_from_divergence(name, hyperparams):
    """On the bowl (curvature 20 across), a rate 3% below the bound converges and 3% above diverges."""
    c, bound = optviz.OPTIMIZERS[name].stability_limit(hyperparams)
    edge = bound / (c * 20.0)
    below = optviz.simulate("quadratic", name, start=(-1.0, 1.2), steps=2000, lr=0.97 * edge, **hyperparams)
    above = optviz.simulate("quadratic", name, start=(-1.0, 1.2), steps=2000, lr=1.03 * edge, **hyperparams)
    assert below.diverged_at is None and abs(below.xy[-1, 1]) < 1.2
    assert above.diverged_at is not None


def test_gauge_crosses_its_bound_at_the_step_where_gd_starts_to_diverge():
    """With a warmup, GD's rate grows past 2 / lambda_max = 0.1 mid-run: the stiff coordinate (y, the
    top eigenvector) shrinks every step until the gauge passes 2 and grows every step after."""
    # 149, not 150: at lr_t = 0.05 exactly, one step would zero y and leave only rounding noise.
    schedule = Schedule("warmup", warmup=149)
    t = optviz.simulate("quadratic", "gd", start=(-4.5, 1.0), steps=150, lr=0.15, schedule=schedule)
    gauge = analysis.stability(t)
    crossing = gauge.first_unstable_step()
    assert crossing == 100  # lr_t = 0.15 t / 149 > 0.1 first at t = 100
    growth = np.abs(t.xy[1:, 1]) > np.abs(t.xy[:-1, 1])  # step t grew |y|
    assert not growth[: crossing - 1].any() and growth[crossing - 1 :].all()
    np.testing.assert_allclose(gauge.eigenvalues, np.tile([1.0, 20.0], (151, 1)), rtol=1e-12)
    assert analysis.stability(optviz.simulate("quadratic", "adam", steps=10)).gauge is None


def test_curvature_at_the_bowls_minimum():
    curvature = analysis.curvature_at_minimum("quadratic")
    assert curvature.condition_number == pytest.approx(20.0)
    assert curvature.optimal_lr == pytest.approx(2 / 21)
    assert analysis.curvature_at_minimum("saddle") is None


def test_minibatch_noise_vanishes_for_the_full_batch():
    assert analysis.minibatch_noise(2.0, 1) == pytest.approx(2.0)
    assert analysis.minibatch_noise(2.0, analysis.DATASET_SIZE) == 0.0
    sizes = [1, 4, 16, 64, 256]
    noises = [analysis.minibatch_noise(1.0, b) for b in sizes]
    assert noises == sorted(noises, reverse=True)
    assert analysis.minibatch_noise(1.0, 0) == analysis.minibatch_noise(1.0, 1)  # clamped


def test_noise_fan_equals_seeded_runs_one_by_one():
    fan = analysis.noise_fan("himmelblau", "gd", (0.0, 0.0), 60, noise=3.0, hyperparams={"lr": 0.01}, runs=5)
    assert fan.paths.shape == (5, 61, 2)
    for seed in (0, 3):
        one = optviz.simulate("himmelblau", "gd", start=(0.0, 0.0), steps=60, seed=seed, lr=0.01, noise=3.0)
        np.testing.assert_allclose(fan.paths[seed], one.xy, rtol=1e-12)
    clean = optviz.simulate("himmelblau", "gd", start=(0.0, 0.0), steps=60, lr=0.01)
    np.testing.assert_allclose(fan.noiseless, clean.xy, rtol=1e-12)
    np.testing.assert_allclose(fan.median, np.median(fan.paths, axis=0))


@pytest.mark.parametrize("name", ["adagrad", "rmsprop", "adadelta"])
def test_effective_lr_is_the_step_per_unit_gradient(name):
    t = optviz.simulate("beale", name, start=(1.0, 1.4), steps=40, schedule=Schedule("cosine", horizon=40))
    effective = analysis.effective_lr(t)
    for step in (1, 10, 39):
        per_unit = step_internals(t, step)[-1].value  # -move / g, measured from the path
        np.testing.assert_allclose(effective[step - 1], per_unit, rtol=1e-9)


def test_adams_effective_lr_scales_its_momentum():
    t = optviz.simulate("beale", "adam", start=(1.0, 1.4), steps=30)
    effective = analysis.effective_lr(t)
    count = t.state["count"][1:, None]
    m_hat = t.state["mu"][1:] / (1 - t.hyperparams["b1"] ** count)
    np.testing.assert_allclose(-effective * m_hat, np.diff(t.xy, axis=0), rtol=1e-9)
    assert analysis.effective_lr(optviz.simulate("beale", "gd", steps=5)) is None
