"""optviz.diagnose against independent references: the initializations against their formulas (and
Kolmogorov-Smirnov tests), the deep MLP's loss, gradients and backward signals against a hand-written
NumPy backpropagation, the gradient check's numbers, the known symptoms of bad initializations,
training (overfitting 20 digits, the update:weight ratio recomputed by hand, divergence, stepping in
from a checkpoint, vmapped settings), the hyperparameter search, and helpful errors for bad input."""

import itertools
from functools import cache

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from scipy import stats

from optviz import diagnose

# the package exports a function named `search`, which hides its module of that name
from optviz.diagnose import hyperparameter_search as search_module
from optviz.diagnose import network as net
from optviz.diagnose.gradcheck import STEP_SWEEP, relative_error
from optviz.mlp.model import digits

LN10 = np.log(10.0)


# --- a plain NumPy reference: forward and hand-written backpropagation, float64 -------------------


def _sigma(u, activation):
    if activation == "tanh":
        return np.tanh(u)
    if activation == "relu":
        return np.maximum(u, 0.0)
    return 1.0 / (1.0 + np.exp(-u))


def _sigma_prime(u, h, activation):
    if activation == "tanh":
        return 1.0 - h * h
    if activation == "relu":
        return (u > 0).astype(np.float64)
    return h * (1.0 - h)


def numpy_backprop(params, x, labels, activation, weight_decay):
    """(loss, [(dW, db)], [h_1 .. h_L], [dL/dh_1 .. dL/dh_L]) of the mean softmax cross-entropy plus
    (weight_decay / 2) sum ||W||^2, by the chain rule written out layer by layer."""
    params = [(np.asarray(w, np.float64), np.asarray(b, np.float64)) for w, b in params]
    x = np.asarray(x, np.float64)
    hs, us = [x], []
    for w, b in params[:-1]:
        us.append(hs[-1] @ w + b)
        hs.append(_sigma(us[-1], activation))
    w_out, b_out = params[-1]
    z = hs[-1] @ w_out + b_out
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    batch = len(labels)
    rows = np.arange(batch)
    loss = -np.mean(np.log(p[rows, labels])) + 0.5 * weight_decay * sum(np.sum(w * w) for w, _ in params)
    dz = p.copy()
    dz[rows, labels] -= 1.0
    dz /= batch
    grads = [None] * len(params)
    grads[-1] = (hs[-1].T @ dz + weight_decay * w_out, dz.sum(axis=0))
    dh = dz @ w_out.T
    dhs = [None] * (len(params) - 1)
    for layer in reversed(range(len(params) - 1)):
        w, _ = params[layer]
        dhs[layer] = dh
        du = dh * _sigma_prime(us[layer], hs[layer + 1], activation)
        grads[layer] = (hs[layer].T @ du + weight_decay * w, du.sum(axis=0))
        dh = du @ w.T
    return loss, grads, hs[1:], dhs


@pytest.fixture(scope="module")
def batch8():
    arrays = digits()
    return np.asarray(arrays.x_train[:8], np.float64), np.asarray(arrays.y_train[:8])


# --- 1. initializations against their formulas ------------------------------------------------------

FAN_IN, FAN_OUT = 784, 512


def _layer(init, seed=0):
    w, b = net.init_layer(np.random.default_rng(seed), init, FAN_IN, FAN_OUT)
    assert w.shape == (FAN_IN, FAN_OUT) and b.shape == (FAN_OUT,)
    return np.asarray(w, np.float64).ravel(), np.asarray(b, np.float64)


def test_he_is_normal_with_variance_two_over_fan_in():
    w, b = _layer("he")
    std = np.sqrt(2.0 / FAN_IN)
    assert np.std(w) == pytest.approx(std, rel=0.02)
    assert abs(np.mean(w)) < 0.01 * std
    assert stats.kstest(w / std, "norm").pvalue > 1e-3
    # the test has power: the same numbers are not uniform on [-sqrt(3) std, sqrt(3) std]
    bound = np.sqrt(3.0) * std
    assert stats.kstest(w, "uniform", args=(-bound, 2 * bound)).pvalue < 1e-10
    assert not b.any()


def test_xavier_is_uniform_within_glorots_bound():
    w, b = _layer("xavier")
    bound = np.sqrt(6.0 / (FAN_IN + FAN_OUT))
    assert np.abs(w).max() <= bound * (1 + 1e-6)
    assert np.abs(w).max() > 0.999 * bound
    assert np.std(w) == pytest.approx(bound / np.sqrt(3.0), rel=0.02)
    assert stats.kstest(w, "uniform", args=(-bound, 2 * bound)).pvalue > 1e-3
    assert stats.kstest(w / (bound / np.sqrt(3.0)), "norm").pvalue < 1e-10
    assert not b.any()


def test_pytorch_default_is_uniform_in_one_over_sqrt_fan_in_for_weights_and_biases():
    w, b = _layer("pytorch")
    bound = 1.0 / np.sqrt(FAN_IN)
    for values in (w, b):
        assert np.abs(values).max() <= bound * (1 + 1e-6)
        assert np.std(values) == pytest.approx(bound / np.sqrt(3.0), rel=0.1 if values is b else 0.02)
        assert stats.kstest(values, "uniform", args=(-bound, 2 * bound)).pvalue > 1e-3
    assert np.abs(w).max() > 0.999 * bound
    assert np.abs(b).max() > 0.9 * bound


@pytest.mark.parametrize(("init", "std"), [("tiny", 0.01), ("huge", 1.0)])
def test_tiny_and_huge_are_scaled_standard_normals(init, std):
    w, b = _layer(init)
    assert np.std(w) == pytest.approx(std, rel=0.02)
    assert stats.kstest(w / std, "norm").pvalue > 1e-3
    assert not b.any()


def test_zero_is_all_zeros_and_every_init_follows_its_seed():
    w, b = _layer("zero")
    assert not w.any() and not b.any()
    for init in ("tiny", "pytorch", "xavier", "he", "huge"):
        first, again, other = _layer(init, 1)[0], _layer(init, 1)[0], _layer(init, 2)[0]
        assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_init_params_gives_every_layer_its_fan_in():
    network = diagnose.Network(layers=3, width=64, activation="relu", init="he")
    params = diagnose.init_params(network, seed=0)
    assert [w.shape for w, _ in params] == [(784, 64), (64, 64), (64, 64), (64, 10)]
    assert all(w.dtype == jnp.float32 and b.dtype == jnp.float32 for w, b in params)
    # the 64 x 64 layers: std sqrt(2/64), not sqrt(2/784)
    assert np.std(np.asarray(params[1][0])) == pytest.approx(np.sqrt(2.0 / 64), rel=0.05)
    assert np.std(np.asarray(params[0][0])) == pytest.approx(np.sqrt(2.0 / 784), rel=0.05)


# --- 2. the network against NumPy backpropagation ---------------------------------------------------


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_loss_gradients_activations_and_backward_signals_match_numpy(activation, batch8):
    x, labels = batch8
    network = diagnose.Network(layers=3, width=32, activation=activation, init="pytorch")
    params = diagnose.init_params(network, seed=0, dtype=jnp.float64)
    weight_decay = 1e-3
    loss, grads, hidden, signals = numpy_backprop(params, x, labels, activation, weight_decay)

    x64, labels64 = jnp.asarray(x), jnp.asarray(labels)
    jax_loss, jax_grads = jax.value_and_grad(net.loss_fn)(params, x64, labels64, activation, weight_decay)
    assert float(jax_loss) == pytest.approx(loss, rel=1e-10)
    for (dw, db), (jdw, jdb) in zip(grads, jax_grads, strict=True):
        np.testing.assert_allclose(np.asarray(jdw), dw, rtol=1e-8, atol=1e-14)
        np.testing.assert_allclose(np.asarray(jdb), db, rtol=1e-8, atol=1e-14)
    # weight decay reaches the weights and not the biases
    _, no_decay = jax.value_and_grad(net.loss_fn)(params, x64, labels64, activation, 0.0)
    np.testing.assert_allclose(
        np.asarray(jax_grads[1][0] - no_decay[1][0]), weight_decay * np.asarray(params[1][0]), atol=1e-14
    )
    np.testing.assert_allclose(np.asarray(jax_grads[1][1]), np.asarray(no_decay[1][1]), atol=1e-15)

    logits, jax_hidden, _ = net.forward(params, x64, activation)
    assert logits.shape == (8, 10)
    for h, jh in zip(hidden, jax_hidden, strict=True):
        np.testing.assert_allclose(np.asarray(jh), h, rtol=1e-10, atol=1e-14)

    data_loss, probe_hidden, probe_signals = net.probe(params, x64, labels64, activation)
    data_only = loss - 0.5 * weight_decay * sum(np.sum(np.asarray(w) ** 2) for w, _ in params)
    assert float(data_loss) == pytest.approx(data_only, rel=1e-10)
    assert len(probe_signals) == network.layers
    for h, jh in zip(hidden, probe_hidden, strict=True):
        np.testing.assert_allclose(np.asarray(jh), h, rtol=1e-10, atol=1e-14)
    for dh, jdh in zip(signals, probe_signals, strict=True):
        np.testing.assert_allclose(np.asarray(jdh), dh, rtol=1e-8, atol=1e-15)


def test_flatten_is_ravel_pytrees_order_and_unflatten_inverts_it():
    network = diagnose.Network(layers=2, width=32, activation="tanh", init="pytorch")
    params = diagnose.init_params(network, seed=3)
    flat = net.flatten(params)
    assert flat.shape == (784 * 32 + 32 + 32 * 32 + 32 + 32 * 10 + 10,)
    assert np.array_equal(np.asarray(flat), np.asarray(ravel_pytree(params)[0]))
    back = net.unflatten(flat, network)
    assert len(back) == len(params)
    for (w, b), (w2, b2) in zip(params, back, strict=True):
        assert w.shape == w2.shape and b.shape == b2.shape
        assert np.array_equal(np.asarray(w), np.asarray(w2)) and np.array_equal(np.asarray(b), np.asarray(b2))
    # layer_of_each_parameter: W_l gets l - 1, every bias the index one past the weight matrices
    layer = net.layer_of_each_parameter(network)
    expected = np.concatenate(
        [
            *(np.full(784 * 32, 0), np.full(32, 3)),
            *(np.full(32 * 32, 1), np.full(32, 3)),
            *(np.full(32 * 10, 2), np.full(10, 3)),
        ]
    )
    assert np.array_equal(layer, expected)


# --- 3. the gradient check ----------------------------------------------------------------------------


def test_relative_error_against_hand_computed_values():
    analytic = [1.0, 0.0, -2.0, 1e-3, 3.0, -1e-8]
    numeric = [1.1, 0.0, 2.0, 0.0, 3.0, -2e-8]
    expected = [0.1 / 1.1, 0.0, 2.0, 1.0, 0.0, 0.5]
    np.testing.assert_allclose(relative_error(analytic, numeric), expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_float64_gradient_check_is_tight(seed):
    check = diagnose.grad_check(seed=seed, h=1e-5, dtype="float64")
    assert len(check.indices) == len(check.rel_error) == 24
    assert np.median(check.rel_error) < 1e-7
    assert check.rel_error.max() < 1e-6
    np.testing.assert_allclose(check.rel_error, relative_error(check.analytic, check.numeric))
    assert not check.kinks.any()  # tanh has no kinks
    # sampled from every layer: the first (W_1, b_1) and the last (the output layer) included
    assert check.layers.min() == 1 and check.layers.max() == 3
    assert set(check.layers) == {1, 2, 3}
    assert np.all(check.analytic != 0)  # W_1's rows are lit pixels: no uninformative 0 vs 0


def test_gradient_check_with_weight_decay_is_tight():
    check = diagnose.grad_check(seed=0, h=1e-5, weight_decay=1e-2)
    assert check.rel_error.max() < 1e-6
    plain = diagnose.grad_check(seed=0, h=1e-5)
    assert np.array_equal(check.indices, plain.indices)
    assert not np.allclose(check.analytic, plain.analytic, rtol=1e-6)  # the decay was included


def test_float32_gradient_check_is_much_worse_than_float64():
    error32 = np.median(diagnose.grad_check(seed=0, h=1e-5, dtype="float32").rel_error)
    error64 = np.median(diagnose.grad_check(seed=0, h=1e-5, dtype="float64").rel_error)
    assert error32 > 1e-4
    assert error32 > 1e3 * error64


def test_step_sweep_is_v_shaped_with_a_larger_best_h_in_float32():
    sweep = diagnose.step_sweep()
    assert set(sweep) == {"float32", "float64"}
    errors = sweep["float64"]
    assert len(errors) == len(STEP_SWEEP)
    assert STEP_SWEEP[0] == pytest.approx(1e-1) and STEP_SWEEP[-1] == pytest.approx(1e-12)
    best = int(np.argmin(errors))
    assert 0 < best < len(errors) - 1
    assert errors[0] > 100 * errors[best] and errors[-1] > 100 * errors[best]
    # the centered difference's truncation error falls as h^2 (a one-sided difference: as h)
    slope = np.polyfit(np.log10(STEP_SWEEP[:5]), np.log10(errors[:5]), 1)[0]
    assert slope == pytest.approx(2.0, abs=0.2)
    # round-off eps/h is larger in float32: its best h is larger
    assert STEP_SWEEP[int(np.argmin(sweep["float32"]))] > STEP_SWEEP[best]


def test_relu_kinks_are_flagged_at_large_h_only():
    relu = diagnose.Network(layers=2, width=32, activation="relu", init="pytorch")
    coarse = diagnose.grad_check(seed=0, h=1e-1, network=relu)
    fine = diagnose.grad_check(seed=0, h=1e-6, network=relu)
    assert coarse.kinks.any()
    assert fine.kinks.sum() <= 1
    assert np.median(fine.rel_error) < 1e-6


# --- 4. known symptoms at initialization --------------------------------------------------------------


@cache
def _stats(init, activation):
    return diagnose.init_stats(init, activation, layers=6)


def test_tiny_init_with_tanh_shrinks_the_activations_layer_by_layer():
    stds = [layer.act_std for layer in _stats("tiny", "tanh").layers]
    assert len(stds) == 6
    assert all(later < earlier for earlier, later in itertools.pairwise(stds))
    assert stds[-1] < 1e-3 * stds[0]
    grads = [layer.grad_std for layer in _stats("tiny", "tanh").layers]
    assert grads[0] < grads[-1]  # the backward signal shrinks too, towards the input


def test_he_with_relu_keeps_the_activations_scale():
    snapshot = _stats("he", "relu")
    first, last = snapshot.layers[0].act_std, snapshot.layers[-1].act_std
    assert 0.5 < last / first < 2.0
    assert all(layer.saturated == 0 for layer in snapshot.layers)


def test_huge_init_with_tanh_saturates_every_layer():
    snapshot = _stats("huge", "tanh")
    assert all(layer.saturated > 0.5 for layer in snapshot.layers)
    assert snapshot.loss > 3 * LN10


@pytest.mark.parametrize(("init", "activation"), [("pytorch", "relu"), ("xavier", "tanh"), ("he", "relu")])
def test_sane_inits_start_near_a_uniform_guess(init, activation):
    assert _stats(init, activation).loss == pytest.approx(LN10, abs=0.2)


def test_zero_init_with_relu_is_all_dead():
    snapshot = _stats("zero", "relu")
    assert all(layer.dead == 1.0 for layer in snapshot.layers)
    assert snapshot.loss == pytest.approx(LN10, rel=1e-5)  # zero logits: exactly a uniform guess


@pytest.mark.parametrize(("init", "activation"), [("tiny", "tanh"), ("he", "relu")])
def test_histograms_count_every_output(init, activation):
    snapshot = _stats(init, activation)
    width = 256
    edges = snapshot.layers[0].act_hist.edges
    if activation == "tanh":
        assert edges[0] == -1.0 and edges[-1] == 1.0
    for layer in snapshot.layers:
        assert np.array_equal(layer.act_hist.edges, edges)  # shared bins
        assert len(layer.act_hist.counts) == len(edges) - 1
        assert layer.act_hist.counts.sum() == 500 * width
        assert layer.grad_hist.counts.sum() <= 500 * width
        assert layer.grad_hist.counts.sum() >= 0.99 * 500 * width  # bins reach the 99.9th percentile


# --- 5. training ------------------------------------------------------------------------------------

SMALL = {
    "layers": 1,
    "width": 128,
    "activation": "relu",
    "init": "pytorch",
    "train_size": 20,
    "batch_size": 20,
}


def test_twenty_examples_are_overfit():
    run = diagnose.train(**SMALL, optimizer="adam", lr=1e-2, epochs=100)
    assert run.train_accuracy[-1] == 1.0
    assert run.train_loss[-1] < 0.01
    assert run.diverged_at is None and run.first_epoch == 0 and run.epochs == 100
    assert run.batch_loss.shape == (100,)
    assert run.update_ratio.shape == (100, 2)
    assert np.all(np.isfinite(run.update_ratio)) and np.all(run.update_ratio > 0)
    assert np.all(np.isfinite(run.val_accuracy)) and np.all(np.isfinite(run.val_loss))


def test_update_ratio_of_a_gd_step_matches_numpy():
    lr, weight_decay = 0.1, 1e-3
    run = diagnose.train(**SMALL, optimizer="gd", lr=lr, weight_decay=weight_decay, epochs=1)
    assert run.update_ratio.shape == (1, 2)
    network = diagnose.Network(1, 128, "relu", "pytorch")
    params = diagnose.init_params(network, seed=0)
    arrays = digits()
    x, labels = np.asarray(arrays.x_train[:20]), np.asarray(arrays.y_train[:20])
    loss, grads, _, _ = numpy_backprop(params, x, labels, "relu", weight_decay)
    expected = [
        lr * np.linalg.norm(dw) / np.linalg.norm(np.asarray(w, np.float64))
        for (w, _), (dw, _) in zip(params, grads, strict=True)
    ]
    np.testing.assert_allclose(run.update_ratio[0], expected, rtol=1e-4)
    # the recorded loss of that step is the data loss before the update
    data_loss = loss - 0.5 * weight_decay * sum(np.sum(np.asarray(w, np.float64) ** 2) for w, _ in params)
    assert run.batch_loss[0] == pytest.approx(data_loss, rel=1e-5)
    # and the weights after it are theta - lr * g
    flat = np.concatenate([part.ravel() for pair in grads for part in pair])
    start = np.asarray(net.flatten(params), np.float64)
    np.testing.assert_allclose(np.asarray(run.checkpoint.flat), start - lr * flat, rtol=1e-5, atol=1e-7)


def test_a_huge_learning_rate_diverges_and_freezes_finite():
    run = diagnose.train(**SMALL, optimizer="gd", lr=1e8, epochs=10)
    assert isinstance(run.diverged_at, int) and 1 <= run.diverged_at <= 10
    assert bool(run.checkpoint.diverged)
    assert np.all(np.isfinite(np.asarray(run.checkpoint.flat)))
    assert np.all(np.isfinite(run.val_accuracy)) and np.all(np.isfinite(run.train_accuracy))
    assert np.all(np.isfinite(run.batch_loss[: run.diverged_at - 1]))
    # the weights froze before the bad step (one step an epoch here): every epoch from it on measures them
    assert len(set(run.val_accuracy[run.diverged_at - 1 :].tolist())) == 1
    assert len(set(run.train_accuracy[run.diverged_at - 1 :].tolist())) == 1


def test_dead_relus_stop_the_updates_and_are_not_read_as_a_low_learning_rate():
    run = diagnose.train(optimizer="gd", lr=10.0, epochs=1)  # the default 3 x 256 ReLU network
    assert run.diverged_at is None
    stopped = run.updates_stopped_at
    assert stopped is not None and 2 <= stopped < len(run.update_ratio) // 2
    assert np.all(run.update_ratio[stopped - 1 :] == 0) and np.any(run.update_ratio[stopped - 2] > 0)
    # medians over the steps that moved: far above the band, as a learning rate of 10 should read
    assert np.all(run.median_update_ratio > 1e-2)
    assert np.all(np.nanmedian(run.update_ratio, axis=0) == 0)  # what a plain median would have said


def test_a_sane_run_never_stops_updating():
    run = diagnose.train(**SMALL, optimizer="adam", lr=1e-3, epochs=2)
    assert run.updates_stopped_at is None
    assert np.all((run.median_update_ratio > 1e-4) & (run.median_update_ratio < 1e-1))


def test_update_ratio_is_nan_while_a_weight_matrix_is_all_zero():
    run = diagnose.train(**{**SMALL, "init": "zero"}, optimizer="gd", epochs=2)
    assert run.update_ratio.shape == (2, 2)
    assert np.all(np.isnan(run.update_ratio))  # zero init: W_1 and W_2 stay 0 (symmetry is never broken)
    assert np.all(np.isnan(run.median_update_ratio)) and run.updates_stopped_at is None
    assert run.diverged_at is None


def test_histograms_at_the_start_and_after_every_epoch():
    run = diagnose.train(**SMALL, optimizer="gd", lr=0.1, epochs=2, histograms=True)
    assert len(run.snapshots) == 3
    assert all(len(snapshot.layers) == 1 for snapshot in run.snapshots)
    # the first is the initial weights on the 20 training digits: the first step's loss
    assert run.snapshots[0].loss == pytest.approx(run.batch_loss[0], rel=1e-5)
    assert run.snapshots[0].layers[0].act_hist.counts.sum() == 20 * 128


BRANCH = {
    "layers": 1,
    "width": 32,
    "activation": "relu",
    "init": "pytorch",
    "train_size": 200,
    "batch_size": 50,
    "optimizer": "adam",
    "lr": 1e-3,
    "weight_decay": 1e-4,
}


@pytest.fixture(scope="module")
def branched():
    return diagnose.branch(at_epoch=1, epochs=3, change={"lr": BRANCH["lr"]}, **BRANCH)


def test_continuing_from_a_checkpoint_unchanged_reproduces_the_run(branched):
    base, continued = branched
    assert base.epochs == 3 and base.first_epoch == 0
    assert continued.epochs == 2 and continued.first_epoch == 1
    steps = 200 // 50
    assert base.batch_loss.shape == (3 * steps,) and continued.batch_loss.shape == (2 * steps,)
    assert np.array_equal(continued.val_accuracy, base.val_accuracy[1:])
    assert np.array_equal(continued.val_loss, base.val_loss[1:])
    assert np.array_equal(continued.train_loss, base.train_loss[1:])
    assert np.array_equal(continued.batch_loss, base.batch_loss[steps:])
    assert np.array_equal(continued.update_ratio, base.update_ratio[steps:])
    assert np.array_equal(np.asarray(continued.checkpoint.flat), np.asarray(base.checkpoint.flat))
    assert continued.checkpoint.epoch == base.checkpoint.epoch == 3


def test_a_changed_branch_departs_only_after_the_pause(branched):
    base, _ = branched
    _, changed = diagnose.branch(at_epoch=1, epochs=3, change={"lr": 1e-1}, **BRANCH)
    assert changed.first_epoch == 1
    steps = 200 // 50
    assert changed.batch_loss[0] == base.batch_loss[steps]  # the same weights at the pause
    assert not np.array_equal(changed.batch_loss, base.batch_loss[steps:])
    with pytest.raises(ValueError, match="pause"):
        diagnose.branch(at_epoch=3, epochs=3, change={}, **BRANCH)


def test_train_together_rows_match_each_other_and_train(branched):
    base, _ = branched
    lr, weight_decay = BRANCH["lr"], BRANCH["weight_decay"]
    settings = {k: v for k, v in BRANCH.items() if k not in ("lr", "weight_decay")}
    together = diagnose.train_together([lr, lr], [weight_decay, weight_decay], **settings, epochs=2)
    steps = 200 // 50
    assert together.batch_loss.shape == (2, 2 * steps)
    assert together.val_accuracy.shape == together.train_accuracy.shape == together.val_loss.shape == (2, 2)
    for field in ("batch_loss", "train_accuracy", "val_accuracy", "val_loss", "diverged_at"):
        rows = getattr(together, field)
        assert np.array_equal(rows[0], rows[1]), field
    # a row is `train` with the same settings: the base run's first two epochs
    np.testing.assert_allclose(together.val_accuracy[0], base.val_accuracy[:2], atol=1e-5)
    np.testing.assert_allclose(together.train_accuracy[0], base.train_accuracy[:2], atol=1e-5)
    np.testing.assert_allclose(together.val_loss[0], base.val_loss[:2], rtol=1e-4)
    np.testing.assert_allclose(together.batch_loss[0], base.batch_loss[: 2 * steps], rtol=1e-4)
    assert together.diverged_at[0] == 0


# --- 6. hyperparameter search ---------------------------------------------------------------------------

LR_RANGE, WD_RANGE = (1e-4, 1e-2), (1e-6, 1e-3)


@pytest.fixture(scope="module")
def chunks():
    return list(
        diagnose.search_chunks(
            "random", n=20, epochs=1, seed=0, lr_range=LR_RANGE, weight_decay_range=WD_RANGE
        )
    )


def _inside(values, bounds, margin=0.0):
    """Whether every value lies in the log range, `margin` (a fraction of it) away from both ends."""
    low, high = np.log10(bounds)
    where = (np.log10(values) - low) / (high - low)
    return bool(np.all((where >= margin) & (where <= 1 - margin)))


def test_grid_search_tries_few_distinct_values_away_from_the_border():
    lrs, wds = search_module.trial_settings("grid", 16, LR_RANGE, WD_RANGE)
    assert len(lrs) == len(wds) == 16
    assert len(np.unique(lrs)) == 4 and len(np.unique(wds)) == 4
    assert len(set(zip(lrs.tolist(), wds.tolist(), strict=True))) == 16
    assert _inside(lrs, LR_RANGE, 0.1) and _inside(wds, WD_RANGE, 0.1)
    # a log grid: equal steps of log10
    assert np.allclose(np.diff(np.log10(np.unique(lrs))), 0.5)
    assert len(search_module.trial_settings("grid", 20, LR_RANGE, WD_RANGE)[0]) == 16  # k = isqrt(n)


def test_random_search_tries_a_distinct_learning_rate_every_trial():
    lrs, wds = search_module.trial_settings("random", 16, LR_RANGE, WD_RANGE)
    assert len(np.unique(lrs)) == 16 and len(np.unique(wds)) == 16
    assert _inside(lrs, LR_RANGE) and _inside(wds, WD_RANGE)


def test_search_chunks_yield_finished_trials_and_keep_them(chunks):
    assert [c.done for c in chunks] == [16, 20]
    assert [c.planned for c in chunks] == [20, 20]
    first, final = chunks
    assert first.rows() == final.rows()[:16]
    lrs, wds = search_module.trial_settings("random", 20, LR_RANGE, WD_RANGE)
    np.testing.assert_array_equal(final.lr, lrs)
    np.testing.assert_array_equal(final.weight_decay, wds)
    assert len(np.unique(final.lr)) == 20
    assert _inside(final.lr, LR_RANGE) and _inside(final.weight_decay, WD_RANGE)
    rows = final.rows()
    assert all({"lr", "weight_decay", "val_accuracy"} <= set(row) for row in rows)
    accuracy = np.array([row["val_accuracy"] for row in rows])
    assert np.all((accuracy >= 0) & (accuracy <= 1)) and not final.diverged.any()
    assert accuracy.max() > 0.8  # one epoch of Adam at a sane learning rate learns the digits
    assert final.best() == int(np.argmax(accuracy))
    assert (final.lr_range, final.weight_decay_range) == (LR_RANGE, WD_RANGE)


def test_padding_of_the_last_chunk_does_not_leak_into_its_trials(chunks):
    final = chunks[-1]
    # the padded copies repeat trial 16: trials 17 .. 19 are their own (different learning rates)
    assert len(np.unique(final.lr[16:])) == 4
    assert len(final.val_accuracy) == len(final.train_accuracy) == len(final.diverged) == 20


def _search(lr, wd, accuracy, lr_range=(1e-4, 1.0), wd_range=(1e-6, 1.0)):
    n = len(lr)
    return diagnose.Search(
        method="random",
        lr=np.asarray(lr, float),
        weight_decay=np.asarray(wd, float),
        val_accuracy=np.asarray(accuracy, float),
        train_accuracy=np.asarray(accuracy, float),
        diverged=np.zeros(n, bool),
        planned=n,
        lr_range=lr_range,
        weight_decay_range=wd_range,
    )


def test_on_border_flags_a_best_value_at_the_edge_of_its_range():
    # lr range 1e-4 .. 1 (4 decades): its outer 10% is below 10^-3.6 and above 10^-0.4
    middle = _search([1e-2, 1e-3], [1e-3, 1e-2], [0.9, 0.5])
    assert middle.on_border() == []
    low_lr = _search([1.5e-4, 1e-2], [1e-3, 1e-3], [0.9, 0.5])
    assert low_lr.on_border() == ["learning rate"]
    high_both = _search([0.6, 1e-2], [0.5, 1e-3], [0.95, 0.5])
    assert high_both.on_border() == ["learning rate", "weight decay"]
    assert _search([0.3, 1e-2], [1e-3, 1e-3], [0.9, 0.5]).on_border() == []  # 10^-0.52: inside


def test_zoom_puts_a_decade_either_side_of_the_best():
    result = _search([1e-2, 1e-3, 0.1], [1e-5, 1e-4, 1e-3], [0.5, 0.9, 0.7])
    (lr_low, lr_high), (wd_low, wd_high) = diagnose.zoom(result)
    assert (lr_low, lr_high) == pytest.approx((1e-4, 1e-2), rel=1e-12)
    assert (wd_low, wd_high) == pytest.approx((1e-5, 1e-3), rel=1e-12)
    (low, high), _ = diagnose.zoom(result, decades=0.5)
    assert (low, high) == pytest.approx((1e-3 / np.sqrt(10), 1e-3 * np.sqrt(10)), rel=1e-12)


def test_zoom_of_a_real_search(chunks):
    final = chunks[-1]
    best = final.best()
    lr_range, wd_range = diagnose.zoom(final)
    assert lr_range == pytest.approx((final.lr[best] / 10, final.lr[best] * 10), rel=1e-12)
    assert wd_range == pytest.approx(
        (final.weight_decay[best] / 10, final.weight_decay[best] * 10), rel=1e-12
    )


# --- 7. bad input ---------------------------------------------------------------------------------------

BAD_INPUT = [
    (lambda: diagnose.init_stats("he", "relu", layers=0), "layers must be an integer from 1 to 6"),
    (lambda: diagnose.init_stats("he", "relu", layers=7), "layers must be an integer from 1 to 6"),
    (lambda: diagnose.train(layers=7), "layers must be an integer from 1 to 6"),
    (
        lambda: diagnose.init_stats("he", "relu", layers=2, width=16),
        "width must be an integer from 32 to 512",
    ),
    (
        lambda: diagnose.init_stats("he", "relu", layers=2, width=1024),
        "width must be an integer from 32 to 512",
    ),
    (lambda: diagnose.init_stats("glorot", "relu", layers=2), "unknown initialization 'glorot'.*xavier"),
    (lambda: diagnose.init_stats("he", "gelu", layers=2), "unknown activation 'gelu'.*relu"),
    (lambda: net.init_layer(np.random.default_rng(0), "glorot", 4, 4), "unknown initialization 'glorot'"),
    (lambda: diagnose.train(train_size=10), "train_size must be an integer from 20 to 8000"),
    (lambda: diagnose.train(train_size=9000), "train_size must be an integer from 20 to 8000"),
    (lambda: diagnose.search(n=3), "n must be an integer from 4 to 64"),
    (lambda: diagnose.search(n=65), "n must be an integer from 4 to 64"),
    (lambda: diagnose.search(method="bayes"), "method must be one of.*random.*grid"),
    (lambda: diagnose.search(lr_range=(1, 0.1)), "lr range must be two positive numbers, low < high"),
    (lambda: diagnose.grad_check(dtype="float16"), "dtype must be one of.*float32.*float64"),
    (lambda: diagnose.grad_check(h=0), "h must be a number between 0 and 1"),
    (lambda: diagnose.grad_check(h=float("nan")), "h must be a number between 0 and 1"),
]


@pytest.mark.parametrize(("call", "message"), BAD_INPUT)
def test_bad_input_raises_a_helpful_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_run_kept_to_draw_is_small_without_its_checkpoint():
    """The page keeps up to 32 runs per process: without the weights and optimizer state (three copies
    of 1.7 million parameters for 6 x 512) a run is its curves and histograms only."""
    run = diagnose.train(layers=6, width=512, train_size=200, epochs=2, histograms=True)
    assert run.nbytes > 3 * 1_700_000 * 4
    kept = run.without_checkpoint()
    assert kept.checkpoint is None and kept.nbytes < 100_000
    np.testing.assert_array_equal(kept.val_accuracy, run.val_accuracy)
