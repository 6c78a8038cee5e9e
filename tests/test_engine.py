"""The engine: shapes, one compiled call, no recompiles on traced values, divergence freezing."""

import jax
import numpy as np
import pytest

import optviz
from optviz import engine
from surfaces import SURFACES
from tests.numpy_reference import rosenbrock_grad


def test_trajectory_shapes_and_start():
    t = optviz.simulate("rosenbrock", "adam", start=(-1.5, 2.0), steps=200, lr=0.05, seed=0)
    assert t.xy.shape == (201, 2) and t.loss.shape == (201,) and t.grad.shape == (201, 2)
    assert tuple(t.xy[0]) == (-1.5, 2.0)
    assert t.diverged_at is None and t.steps == 200
    assert set(t.state) == {"count", "mu", "nu"}
    assert t.state["mu"].shape == (201, 2) and list(t.state["count"][:4]) == [0, 1, 2, 3]
    assert t.hyperparams == {"lr": 0.05, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "noise": 0.0}


def test_records_loss_and_exact_gradient_at_every_point():
    t = optviz.simulate("rosenbrock", "momentum", steps=100)
    np.testing.assert_allclose(t.grad, np.array([rosenbrock_grad(p) for p in t.xy]), rtol=1e-12)
    np.testing.assert_allclose(t.loss, [(1 - x) ** 2 + 100 * (y - x * x) ** 2 for x, y in t.xy], rtol=1e-12)


def test_recorded_state_explains_each_step():
    """Row t of the state and gradient reproduce the move from xy[t] to xy[t + 1]."""
    t = optviz.simulate("beale", "rmsprop", steps=50, noise=0.3, seed=1)
    hp = t.hyperparams
    for k in range(50):
        mean_sq = hp["decay"] * t.state["mean_sq"][k] + (1 - hp["decay"]) * t.grad[k] ** 2
        np.testing.assert_allclose(mean_sq, t.state["mean_sq"][k + 1], rtol=1e-12)
        step = -hp["lr"] * t.grad[k] / (np.sqrt(mean_sq) + hp["eps"])
        np.testing.assert_allclose(t.xy[k] + step, t.xy[k + 1], rtol=1e-12)


def test_defaults_come_from_the_surface():
    surface = SURFACES["beale"]
    t = optviz.simulate("beale", "adam")
    assert tuple(t.xy[0]) == surface.default_start and t.steps == surface.default_steps
    assert t.hyperparams["lr"] == optviz.OPTIMIZERS["adam"].recommended["beale"]["lr"]


def test_compare_equals_simulate_of_each():
    names = ["gd", "momentum", "adam", "sgd"]
    runs = optviz.compare("beale", names, start=(1.0, 1.4), steps=300, seed=5)
    assert list(runs) == names
    for name in names:
        alone = optviz.simulate("beale", name, start=(1.0, 1.4), steps=300, seed=5)
        # One compiled program versus another (a switch over 4 rules, a single rule): equal to rounding.
        np.testing.assert_allclose(runs[name].xy, alone.xy, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(runs[name].loss, alone.loss, rtol=1e-10, atol=1e-15)


def test_every_optimizer_sees_the_same_noise_with_the_same_seed():
    runs = optviz.compare(
        "himmelblau",
        ["gd", "sgd"],
        steps=80,
        seed=2,
        hyperparams={"gd": {"noise": 1.5}, "sgd": {"noise": 1.5}},
    )
    np.testing.assert_array_equal(runs["gd"].xy, runs["sgd"].xy)


def test_vmapped_runs_equal_single_runs():
    lrs = np.array([1e-3, 3e-3, 1e-2])
    starts = np.array([[-1.0, 1.0], [0.0, 0.0], [0.5, 2.0]])
    batch = engine.run("rosenbrock", ["heavy_ball"], starts, 150, {"heavy_ball": {"lr": lrs}})["heavy_ball"]
    assert batch.xy.shape == (3, 151, 2) and batch.diverged_at.shape == (3,)
    for i in range(3):
        alone = optviz.simulate("rosenbrock", "heavy_ball", start=tuple(starts[i]), steps=150, lr=lrs[i])
        np.testing.assert_allclose(batch.xy[i], alone.xy, rtol=1e-12)


def test_final_only_mode_matches_the_last_row_of_the_history():
    starts = np.random.default_rng(0).uniform(-4, 4, size=(16, 2))
    full = engine.run("himmelblau", ["adam", "gd"], starts, 120)
    final = engine.run("himmelblau", ["adam", "gd"], starts, 120, history=False)
    for name in ("adam", "gd"):
        assert final[name].xy.shape == (16, 2) and final[name].loss.shape == (16,)
        # Different compiled programs may fuse differently: equal to the last few bits.
        np.testing.assert_allclose(final[name].xy, full[name].xy[:, -1], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(final[name].loss, full[name].loss[:, -1], rtol=1e-9, atol=1e-20)
        np.testing.assert_array_equal(final[name].diverged_at, full[name].diverged_at)


def test_changing_traced_values_never_recompiles():
    args = ("quadratic", ("gd", "adam"), 64)
    engine.run(*args[:1], args[1], (1.0, 1.0), args[2])
    compiled = engine._run_compiled._cache_size()
    engine.run(*args[:1], args[1], (-3.0, 0.5), args[2], {"gd": {"lr": 0.02}, "adam": {"lr": 0.3, "b1": 0.5}})
    engine.run(*args[:1], args[1], (2.0, -1.0), args[2], {"adam": {"noise": 0.7, "eps": 1e-3}}, seeds=9)
    assert engine._run_compiled._cache_size() == compiled
    engine.run(*args[:1], args[1], (2.0, -1.0), args[2] + 30)  # the same step bucket (100)
    assert engine._run_compiled._cache_size() == compiled
    engine.run(*args[:1], args[1], (2.0, -1.0), 101)  # the next bucket is a new function
    assert engine._run_compiled._cache_size() == compiled + 1


def test_step_counts_within_a_bucket_compile_nothing():
    """The padding is cut off on the host: a slice on the device compiled a program per step count."""
    compiles = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(duration)

    engine.run("rosenbrock", ["gd", "adam"], (-1.0, 1.0), 310)  # compiles the (300, 500] bucket once
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        runs = [engine.run("rosenbrock", ["gd", "adam"], (-1.0, 1.0), steps) for steps in (311, 347, 499)]
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert compiles == []
    assert [r["adam"].xy.shape[1] for r in runs] == [312, 348, 500]


@pytest.mark.parametrize("steps, bucket", [(1, 50), (50, 50), (51, 100), (2000, 2000), (2001, 4000)])
def test_step_buckets(steps, bucket):
    assert engine.step_bucket(steps) == bucket


def test_padding_steps_do_not_move_a_run():
    """137 steps run in the 200-step program: the result equals the first 137 steps of 200."""
    short = engine.run("beale", ["adam", "momentum"], (1.0, 1.4), 137, history=False)
    long = engine.run("beale", ["adam", "momentum"], (1.0, 1.4), 200)
    for name in ("adam", "momentum"):
        np.testing.assert_allclose(short[name].xy[0], long[name].xy[0, 137], rtol=1e-12)
        assert long[name].xy.shape == (1, 201, 2)


def test_gd_on_rosenbrock_with_lr_001_diverges_and_freezes():
    t = optviz.simulate("rosenbrock", "gd", start=(-1.5, 2.0), steps=100, lr=0.01)
    assert t.diverged_at is not None and t.diverged_at <= 5
    k = t.diverged_at
    assert np.all(np.isfinite(t.xy)) and np.all(np.isfinite(t.loss)) and np.all(np.isfinite(t.grad))
    assert np.all(t.xy[k:] == t.xy[k - 1]), "the point stays at its last good value"
    low, high = engine.escape_box(SURFACES["rosenbrock"])
    assert np.all((t.xy >= low) & (t.xy <= high))


def test_non_finite_points_count_as_divergence():
    # Adagrad with eps = 0 and a zero gradient computes 0 / 0 on its first step.
    t = optviz.simulate("saddle", "adagrad", start=(0.0, 0.0), steps=10, eps=0.0)
    assert t.diverged_at == 1 and np.all(t.xy == 0.0)


def test_escape_box_is_the_window_grown_by_its_size():
    low, high = engine.escape_box(SURFACES["rosenbrock"])  # window x [-2, 2], y [-1, 3]
    np.testing.assert_array_equal(low, [-6.0, -5.0])
    np.testing.assert_array_equal(high, [6.0, 7.0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 0}, "steps must be a positive integer"),
        ({"steps": 2.5}, "steps must be a positive integer"),
        ({"starts": [1.0, 2.0, 3.0]}, r"starts must have shape \(R, 2\)"),
        ({"optimizers": []}, "at least one optimizer"),
        ({"hyperparams": {"adam": {"lr": 0.1}}}, "not being run: adam"),
    ],
)
def test_run_rejects_bad_arguments_clearly(kwargs, message):
    call = {"surface": "beale", "optimizers": ["gd"], "starts": (1.0, 1.0), "steps": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        engine.run(**call)


def test_compare_rejects_unknown_names_clearly():
    with pytest.raises(ValueError, match="unknown surface 'bowl'"):
        optviz.compare("bowl", ["gd"])
    with pytest.raises(ValueError, match="no optimizer has hyperparameter momentum"):
        optviz.compare("beale", ["gd"], momentum=0.9)
    with pytest.raises(ValueError, match="not compared: adam"):
        optviz.compare("beale", ["gd"], hyperparams={"adam": {"lr": 1.0}})


def test_a_seed_per_run_equals_separate_runs():
    starts = np.array([[-1.0, 1.0]] * 3)
    batch = engine.run("rosenbrock", ["sgd", "adam"], starts, 60, {"adam": {"noise": 2.0}}, seeds=[0, 1, 2])
    for name in ("sgd", "adam"):
        assert np.abs(batch[name].xy[0] - batch[name].xy[1]).max() > 1e-6, "different seeds, different paths"
        for seed in range(3):
            alone = engine.run(
                "rosenbrock",
                [name],
                starts[0],
                60,
                {"adam": {"noise": 2.0}} if name == "adam" else None,
                seeds=seed,
            )[name]
            np.testing.assert_allclose(batch[name].xy[seed], alone.xy[0], rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(batch[name].grad[seed], alone.grad[0], rtol=1e-12, atol=1e-12)


def test_large_batches_match_small_ones():
    """Above SWITCH_MAX_ROWS the optimizers run as separate groups: same results."""
    starts = np.random.default_rng(1).uniform(-2, 2, size=(engine.SWITCH_MAX_ROWS, 2))
    names = ["momentum", "adagrad"]
    big = engine.run("himmelblau", names, starts, 40)
    for i in (0, 17, engine.SWITCH_MAX_ROWS - 1):
        small = engine.run("himmelblau", names, starts[i], 40)
        for name in names:
            np.testing.assert_allclose(big[name].xy[i], small[name].xy[0], rtol=1e-12, atol=1e-15)
            for key in small[name].state:
                np.testing.assert_allclose(big[name].state[key][i], small[name].state[key][0], rtol=1e-12)


def test_a_race_is_read_only_so_sessions_can_share_it():
    """The lab keeps one race per settings for every session (a cache resource, optviz/ui/lab.py)."""
    race = optviz.compare("rosenbrock", list(optviz.OPTIMIZERS), steps=20, noise=0.5)
    for t in race.values():
        for array in (t.xy, t.loss, t.grad, *t.state.values()):
            with pytest.raises(ValueError, match="read-only"):
                array[...] = 0
