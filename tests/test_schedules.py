"""Learning-rate schedules: closed forms, optax's schedules, and the engine against a NumPy loop."""

import numpy as np
import optax
import pytest

import optviz
from optviz.schedules import SCHEDULES, Schedule
from tests.numpy_reference import STEPS, rosenbrock_grad


def test_factors_match_optax_and_closed_forms():
    t = np.arange(1, 301)
    # optax counts updates from 0: update t uses the schedule at count t - 1.
    cosine = Schedule("cosine", horizon=200).factors(300)
    np.testing.assert_allclose(cosine, optax.cosine_decay_schedule(1.0, 200)(t - 1), atol=1e-7)
    step = Schedule("step", gamma=0.3, every=40).factors(300)
    staircase = optax.exponential_decay(1.0, transition_steps=40, decay_rate=0.3, staircase=True)
    np.testing.assert_allclose(step, staircase(t - 1), rtol=1e-6)
    np.testing.assert_allclose(Schedule("warmup", warmup=25).factors(300), np.minimum(1, t / 25))
    np.testing.assert_array_equal(Schedule().factors(300), np.ones(300))


@pytest.mark.parametrize("kind", list(SCHEDULES))
@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_every_optimizer_follows_the_schedule_like_a_numpy_loop(name, kind):
    schedule = Schedule(kind, gamma=0.5, every=7, horizon=30, warmup=9)
    hyperparams = {"lr": 2e-3 if name in ("gd", "momentum", "nesterov") else 2e-2}
    if name in ("momentum", "nesterov"):
        hyperparams["beta"] = 0.8
    steps, start = 40, (-1.2, 1.0)
    t = optviz.simulate("rosenbrock", name, start=start, steps=steps, schedule=schedule, **hyperparams)

    rule = STEPS[name]
    extra = {k: v for k, v in t.hyperparams.items() if k not in ("lr", "noise")}
    theta, state, path = np.array(start), {}, [np.array(start)]
    for factor in schedule.factors(steps):
        theta = rule(theta, rosenbrock_grad(theta), state, lr=t.hyperparams["lr"] * factor, **extra)
        path.append(theta)
    np.testing.assert_allclose(t.xy, np.array(path), rtol=1e-9, atol=1e-12)


def test_changing_the_schedule_never_recompiles():
    from optviz.engine import _run_compiled

    optviz.compare("quadratic", ["gd", "adam"], steps=60)
    before = _run_compiled._cache_size()
    for schedule in (Schedule("cosine", horizon=30), Schedule("step", every=5), Schedule("warmup", warmup=3)):
        optviz.compare("quadratic", ["gd", "adam"], steps=60, schedule=schedule)
    assert _run_compiled._cache_size() == before


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "linear"}, "unknown schedule 'linear'"),
        ({"gamma": 0.0}, "gamma must be in"),
        ({"gamma": 1.5}, "gamma must be in"),
        ({"every": 0}, "every must be at least 1"),
        ({"warmup": -3}, "warmup must be at least 1"),
    ],
)
def test_bad_schedules_are_rejected_clearly(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Schedule(**kwargs)
