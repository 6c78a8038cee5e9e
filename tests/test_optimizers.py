"""Every optimizer: a hand-computed first step, a NumPy reference loop, optax, and closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optviz
from optviz.optimizers import MLP, OPTIMIZERS, state_fields, with_gradient_noise
from tests.numpy_reference import STEPS, descend, rosenbrock_grad

NAMES = list(OPTIMIZERS)
THETA0 = np.array([1.0, 2.0])
G1 = np.array([3.0, -4.0])

# (hyperparameters, theta after one step from THETA0 with gradient G1), worked out by hand.
FIRST_STEPS = {
    "gd": ({"lr": 0.1}, [0.7, 2.4]),  # theta - 0.1 g
    "sgd": ({"lr": 0.1, "noise": 0.0}, [0.7, 2.4]),
    "momentum": ({"lr": 0.1, "beta": 0.9}, [0.97, 2.04]),  # v = 0.1 g = (0.3, -0.4)
    "heavy_ball": ({"lr": 0.1, "beta": 0.9}, [0.7, 2.4]),  # b = g
    "nesterov": ({"lr": 0.1, "beta": 0.9}, [0.43, 2.76]),  # theta - 0.1 (g + 0.9 g)
    "adagrad": ({"lr": 0.1, "eps": 0.0}, [0.9, 2.1]),  # G = g^2: a step of lr * sign(g)
    "rmsprop": ({"lr": 0.1, "decay": 0.99, "eps": 0.0}, [0.0, 3.0]),  # sqrt(0.01 g^2) = 0.1|g|
    "adam": ({"lr": 0.1, "b1": 0.9, "b2": 0.999, "eps": 0.0}, [0.9, 2.1]),  # m_hat = g, v_hat = g^2
    # v = 0.01 g^2 = (0.09, 0.16), u_0 = 0: d = sqrt(0.09) g / sqrt(v + 0.09) = 0.3 g / (0.42426, 0.5)
    "adadelta": ({"lr": 1.0, "decay": 0.99, "eps": 0.09}, [1 - 0.9 / 0.18**0.5, 2 + 1.2 / 0.5]),
}

# Hyperparameters for the long comparisons: non-default values, so a swapped argument shows.
LONG_RUN = {
    "gd": {"lr": 0.05},
    "sgd": {"lr": 0.05},
    "momentum": {"lr": 0.05, "beta": 0.8},
    "heavy_ball": {"lr": 0.02, "beta": 0.7},
    "nesterov": {"lr": 0.02, "beta": 0.7},
    "adagrad": {"lr": 0.3, "eps": 1e-10},
    "rmsprop": {"lr": 0.01, "decay": 0.95, "eps": 1e-8},
    "adam": {"lr": 0.02, "b1": 0.8, "b2": 0.99, "eps": 1e-8},
    "adadelta": {"lr": 0.5, "decay": 0.95, "eps": 1e-4},
}


def _apply(optimizer, params, grads_sequence):
    """Feed a fixed gradient sequence to an optax-shaped optimizer; the parameters after each step."""
    state, path = optimizer.init(params), []
    for g in grads_sequence:
        updates, state = optimizer.update(jnp.asarray(g), state, params)
        params = optax.apply_updates(params, updates)
        path.append(np.asarray(params))
    return np.array(path)


def _gradient_sequence(n=150, seed=1):
    return np.random.default_rng(seed).normal(size=(n, 2)) * np.array([1.0, 10.0])


def test_the_table_of_optimizers_and_hyperparameters():
    expected = {
        "gd": {"lr", "noise"},
        "sgd": {"lr", "noise"},
        "momentum": {"lr", "beta", "noise"},
        "heavy_ball": {"lr", "beta", "noise"},
        "nesterov": {"lr", "beta", "noise"},
        "adagrad": {"lr", "eps", "noise"},
        "rmsprop": {"lr", "decay", "eps", "noise"},
        "adam": {"lr", "b1", "b2", "eps", "noise"},
        "adadelta": {"lr", "decay", "eps", "noise"},
    }
    assert {name: set(spec.hyperparams) for name, spec in OPTIMIZERS.items()} == expected
    assert OPTIMIZERS["adagrad"].defaults["eps"] == 1e-10  # torch.optim's defaults
    assert OPTIMIZERS["rmsprop"].defaults["eps"] == 1e-8 and OPTIMIZERS["rmsprop"].defaults["decay"] == 0.99
    assert (OPTIMIZERS["adam"].defaults["b1"], OPTIMIZERS["adam"].defaults["b2"]) == (0.9, 0.999)
    assert OPTIMIZERS["adadelta"].defaults == {"lr": 1.0, "decay": 0.9, "eps": 1e-6, "noise": 0.0}
    assert OPTIMIZERS["sgd"].defaults["noise"] > 0
    assert all(spec.defaults["noise"] == 0 for name, spec in OPTIMIZERS.items() if name != "sgd")


@pytest.mark.parametrize("name", NAMES)
def test_each_spec_states_what_the_pages_read_from_it(name):
    """A spec is the one place an optimizer is described: its colour is its own, its LaTeX names every
    state field, its recommendations are for known problems, and its analysis facts are well formed."""
    spec = OPTIMIZERS[name]
    assert spec.colour.startswith("#") and spec.colour not in {
        o.colour for o in OPTIMIZERS.values() if o is not spec
    }
    assert set(spec.state_symbols) == {field for field, _, _ in state_fields(name)}
    assert set(spec.recommended) <= set(optviz.SURFACES) | {MLP}
    assert all(set(values) <= set(spec.hyperparams) for values in spec.recommended.values())
    assert spec.second_parameter is None or spec.second_parameter in spec.rule_hyperparams
    if spec.stability_limit is not None:
        c, bound = spec.stability_limit(spec.defaults)
        assert c > 0 and bound > 0
    t = optviz.simulate("beale", name, start=(1.0, 1.4), steps=20)
    if spec.adaptive_rate is not None:
        rate = spec.adaptive_rate(t.state, t.hyperparams)
        assert rate.shape == (20, 2) and np.all(rate > 0)


@pytest.mark.parametrize("name", NAMES)
def test_first_step_matches_the_hand_computation(name):
    hyperparams, expected = FIRST_STEPS[name]
    path = _apply(OPTIMIZERS[name](**hyperparams), jnp.asarray(THETA0), [G1])
    np.testing.assert_allclose(path[0], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_matches_a_plain_numpy_loop_on_a_fixed_gradient_sequence(name):
    grads = _gradient_sequence()
    ours = _apply(OPTIMIZERS[name](**{**LONG_RUN[name], "noise": 0.0}), jnp.asarray(THETA0), grads)
    theta, state, reference = THETA0.copy(), {}, []
    for g in grads:
        theta = STEPS[name](theta, g, state, **LONG_RUN[name])
        reference.append(theta)
    np.testing.assert_allclose(ours, np.array(reference), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "sgd"])
def test_simulate_matches_a_plain_numpy_loop_on_rosenbrock(name):
    """The whole engine (gradients, scan, state) against a Python loop with the closed-form gradient."""
    hyperparams = {**LONG_RUN[name], "lr": LONG_RUN[name]["lr"] / 50}  # Rosenbrock is 100x steeper
    t = optviz.simulate("rosenbrock", name, start=(-1.2, 1.0), steps=200, **hyperparams)
    reference = descend(name, rosenbrock_grad, (-1.2, 1.0), 200, **hyperparams)
    assert t.diverged_at is None
    np.testing.assert_allclose(t.xy, reference, rtol=1e-9, atol=1e-12)


OPTAX_EQUIVALENTS = {
    "gd": lambda h: optax.sgd(h["lr"]),
    "heavy_ball": lambda h: optax.sgd(h["lr"], momentum=h["beta"]),
    "nesterov": lambda h: optax.sgd(h["lr"], momentum=h["beta"], nesterov=True),
    # The lecture's momentum is optax's un-debiased EMA of the gradients, scaled by -lr.
    "momentum": lambda h: optax.chain(optax.ema(h["beta"], debias=False), optax.scale(-h["lr"])),
    "adam": lambda h: optax.adam(h["lr"], b1=h["b1"], b2=h["b2"], eps=h["eps"]),
    # optax puts eps inside the root unless told otherwise; torch (and optviz) put it outside.
    "rmsprop": lambda h: optax.rmsprop(h["lr"], decay=h["decay"], eps=h["eps"], eps_in_sqrt=False),
    # optax.adagrad starts the accumulator at 0.1 and adds eps inside the root: with both at 0
    # (and eps = 0 here too, see OPTAX_OVERRIDES) the two conventions coincide.
    "adagrad": lambda h: optax.adagrad(h["lr"], initial_accumulator_value=0.0, eps=0.0),
    # Same convention as torch: accumulators from 0, eps inside both roots.
    "adadelta": lambda h: optax.adadelta(h["lr"], rho=h["decay"], eps=h["eps"]),
}
OPTAX_OVERRIDES = {"adagrad": {"eps": 0.0}}


@pytest.mark.parametrize("name", list(OPTAX_EQUIVALENTS))
def test_matches_optax_where_conventions_agree(name):
    hyperparams = {**LONG_RUN[name], **OPTAX_OVERRIDES.get(name, {})}
    grads = _gradient_sequence(seed=2)
    ours = _apply(OPTIMIZERS[name](**hyperparams), jnp.asarray(THETA0), grads)
    theirs = _apply(OPTAX_EQUIVALENTS[name](hyperparams), jnp.asarray(THETA0), grads)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_optax_adagrad_defaults_differ_from_torchs():
    """The reason the comparison above sets optax's options: its defaults give another path."""
    grads = _gradient_sequence(seed=2)
    ours = _apply(OPTIMIZERS["adagrad"](lr=0.3), jnp.asarray(THETA0), grads)
    theirs = _apply(optax.adagrad(0.3), jnp.asarray(THETA0), grads)
    assert np.abs(ours - theirs).max() > 1e-3


def test_gd_on_the_quadratic_bowl_follows_the_closed_form():
    # f = (x^2 + 20 y^2) / 2, so each GD step multiplies x by (1 - lr) and y by (1 - 20 lr).
    lr, steps, (x0, y0) = 0.04, 120, (-4.5, 1.5)
    t = optviz.simulate("quadratic", "gd", start=(x0, y0), steps=steps, lr=lr)
    k = np.arange(steps + 1)
    np.testing.assert_allclose(t.xy[:, 0], x0 * (1 - lr) ** k, rtol=1e-12)
    np.testing.assert_allclose(t.xy[:, 1], y0 * (1 - 20 * lr) ** k, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", NAMES)
def test_zero_learning_rate_never_moves(name):
    t = optviz.simulate("beale", name, start=(1.0, 1.4), steps=50, lr=0.0, noise=1.0)
    assert np.all(t.xy == np.array([1.0, 1.4]))


def test_same_seed_same_path_different_seed_different_path():
    a = optviz.simulate("himmelblau", "sgd", steps=100, seed=3)
    b = optviz.simulate("himmelblau", "sgd", steps=100, seed=3)
    c = optviz.simulate("himmelblau", "sgd", steps=100, seed=4)
    np.testing.assert_array_equal(a.xy, b.xy)
    assert np.abs(a.xy - c.xy).max() > 1e-3


def test_gradient_noise_is_standard_normal_scaled_by_noise():
    """Over many seeds, the first noisy step of GD from a flat-gradient point has mean 0 and std lr*noise."""
    noise, lr = 2.0, 0.5
    first_steps = []
    for seed in range(2000):
        opt = with_gradient_noise(optviz.optimizers.gd(lr), noise, seed)
        updates, _ = opt.update(jnp.zeros(2), opt.init(jnp.zeros(2)), jnp.zeros(2))
        first_steps.append(np.asarray(updates))
    first_steps = np.array(first_steps)
    np.testing.assert_allclose(first_steps.mean(axis=0), 0.0, atol=4 * lr * noise / np.sqrt(2000))
    np.testing.assert_allclose(first_steps.std(axis=0), lr * noise, rtol=0.06)
    assert abs(np.corrcoef(first_steps.T)[0, 1]) < 0.1


def test_sgd_without_noise_is_gd():
    np.testing.assert_array_equal(
        optviz.simulate("beale", "sgd", noise=0.0).xy, optviz.simulate("beale", "gd").xy
    )


def test_momentum_is_heavy_ball_with_a_rescaled_learning_rate():
    """v = (1 - beta) b, so the lecture's momentum at lr equals heavy-ball at lr (1 - beta)."""
    a = optviz.simulate("rosenbrock", "momentum", steps=300, lr=0.01, beta=0.9)
    b = optviz.simulate("rosenbrock", "heavy_ball", steps=300, lr=0.001, beta=0.9)
    np.testing.assert_allclose(a.xy, b.xy, rtol=1e-9)


def test_unknown_names_are_clear_errors():
    with pytest.raises(ValueError, match="adam has no hyperparameter beta; valid: lr, b1, b2, eps, noise"):
        OPTIMIZERS["adam"](beta=0.9)
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamw'.*gd, sgd, momentum"):
        optviz.simulate("beale", "adamw")


def test_update_is_jittable_with_traced_hyperparameters():
    @jax.jit
    def one_step(lr, params, g):
        opt = OPTIMIZERS["adam"](lr=lr)
        return opt.update(g, opt.init(params), params)[0]

    np.testing.assert_allclose(one_step(0.1, jnp.asarray(THETA0), jnp.asarray(G1)), [-0.1, 0.1], rtol=1e-6)
