"""The MLP: shapes, gradients, training steps against plain NumPy, accuracy and compilation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optviz import data
from optviz.mlp import model as mlp
from tests.numpy_reference import STEPS


@pytest.fixture(scope="module")
def small():
    """100 training and 20 test digits: enough for exact step-by-step comparisons."""
    d = data.load()
    return mlp.as_arrays(
        data.Digits(d.train_images[:100], d.train_labels[:100], d.test_images[:20], d.test_labels[:20])
    )


def test_parameter_count_and_shapes():
    params = mlp.init_params(128, seed=0)
    assert mlp.parameter_count(params) == 784 * 128 + 128 + 128 * 10 + 10 == 101_770
    assert [p.shape for p in params] == [(784, 128), (128,), (128, 10), (10,)]
    assert all(p.dtype == jnp.float32 for p in params)
    x = jnp.zeros((5, 784), jnp.float32)
    assert mlp.hidden_layer(params, x).shape == (5, 128)
    assert mlp.forward(params, x).shape == (5, 10)
    probabilities = mlp.predict(params, x, "tanh")
    np.testing.assert_allclose(np.sum(probabilities, axis=1), 1.0, rtol=1e-6)


def test_initialization_follows_nn_linear_and_the_seed():
    a, b = mlp.init_params(64, seed=3), mlp.init_params(64, seed=3)
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    assert not np.array_equal(a.w1, mlp.init_params(64, seed=4).w1)
    assert np.abs(a.w1).max() <= 1 / np.sqrt(784) and np.abs(a.w1).max() > 0.9 / np.sqrt(784)
    assert np.abs(a.w2).max() <= 1 / np.sqrt(64)


@pytest.mark.parametrize("activation", list(mlp.ACTIVATIONS))
def test_jax_grad_matches_finite_differences_on_a_tiny_mlp(activation):
    rng = np.random.default_rng(0)
    params = mlp.Params(
        w1=rng.normal(size=(784, 3)) * 0.05,
        b1=rng.normal(size=3),
        w2=rng.normal(size=(3, 10)),
        b2=rng.normal(size=10),
    )
    params = mlp.Params(*(jnp.asarray(p, jnp.float64) for p in params))
    x = jnp.asarray(rng.uniform(size=(4, 784)))
    labels = jnp.asarray([3, 1, 4, 1])
    grads = jax.grad(mlp.loss_fn)(params, x, labels, activation)
    h = 1e-6
    for field in ("w1", "b1", "w2", "b2"):
        value = np.asarray(getattr(params, field))
        for index in [tuple(rng.integers(0, n) for n in value.shape) for _ in range(5)]:
            bumped = []
            for sign in (1, -1):
                changed = value.copy()
                changed[index] += sign * h
                bumped.append(
                    float(
                        mlp.loss_fn(params._replace(**{field: jnp.asarray(changed)}), x, labels, activation)
                    )
                )
            assert float(getattr(grads, field)[index]) == pytest.approx(
                (bumped[0] - bumped[1]) / (2 * h), rel=1e-5, abs=1e-9
            )


def numpy_loss_and_grads(w1, b1, w2, b2, x, labels):
    """Softmax cross-entropy of the ReLU MLP and its gradient, backpropagated by hand."""
    pre = x @ w1 + b1
    h = np.maximum(pre, 0)
    z = h @ w2 + b2
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    n = len(labels)
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    dz = p.copy()
    dz[np.arange(n), labels] -= 1
    dz /= n
    dh = (dz @ w2.T) * (pre > 0)
    return loss, [x.T @ dh, dh.sum(axis=0), h.T @ dz, dz.sum(axis=0)]


@pytest.mark.parametrize(
    ("optimizer", "hyperparams"),
    [
        ("gd", {"lr": 0.1}),
        ("momentum", {"lr": 0.1, "beta": 0.9}),
        ("adam", {"lr": 1e-3, "b1": 0.9, "b2": 0.999, "eps": 1e-8}),
    ],
)
def test_training_steps_equal_a_hand_written_numpy_loop(small, optimizer, hyperparams):
    """Batch size 48 over 100 images: two full batches, then a padded one holding 4 real images."""
    history = mlp.train(optimizer, hidden=16, batch_size=48, epochs=1, seed=5, arrays=small, **hyperparams)
    params = [np.asarray(p, np.float64) for p in mlp.init_params(16, seed=5)]
    indices, weights = (np.asarray(a) for a in mlp.batch_indices(mlp.epoch_key(5, 0), 100, 48))
    x, labels = np.asarray(small.x_train, np.float64), np.asarray(small.y_train)
    state, losses = {}, []
    for batch, weight in zip(indices, weights, strict=True):
        real = batch[weight > 0]
        loss, grads = numpy_loss_and_grads(*params, x[real], labels[real])
        losses.append(loss)
        flat = np.concatenate([p.ravel() for p in params])
        flat = STEPS[optimizer](flat, np.concatenate([g.ravel() for g in grads]), state, **hyperparams)
        params = [
            part.reshape(p.shape)
            for part, p in zip(np.split(flat, np.cumsum([p.size for p in params])[:-1]), params, strict=True)
        ]
    assert [len(batch[w > 0]) for batch, w in zip(indices, weights, strict=True)] == [48, 48, 4]
    np.testing.assert_allclose(history.batch_loss, losses, rtol=1e-5)
    for ours, reference in zip(history.params, params, strict=True):
        np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=2e-6)
    assert history.train_loss[0] == pytest.approx(
        (48 * losses[0] + 48 * losses[1] + 4 * losses[2]) / 100, rel=1e-5
    )


def test_every_image_is_in_exactly_one_batch_each_epoch():
    indices, weights = (np.asarray(a) for a in mlp.batch_indices(mlp.epoch_key(0, 2), 8000, 3000))
    assert indices.shape == (3, 3000)
    assert sorted(indices[weights > 0]) == list(range(8000))
    again, _ = mlp.batch_indices(mlp.epoch_key(0, 3), 8000, 3000)
    assert not np.array_equal(indices, np.asarray(again)), "each epoch reshuffles"


def test_adam_reaches_92_percent_test_accuracy_in_5_epochs():
    history = mlp.train(optimizer="adam", lr=1e-3, epochs=5)
    assert history.test_accuracy.shape == history.train_loss.shape == history.test_loss.shape == (5,)
    assert history.test_accuracy[-1] >= 0.92, history.test_accuracy
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.batch_loss.shape == (5 * 125,)
    assert history.diverged_at is None
    assert mlp.parameter_count(history.params) == 101_770


def test_an_epoch_is_one_compiled_scan_and_neither_hyperparameters_nor_optimizers_recompile(small):
    flat, _ = jax.flatten_util.ravel_pytree(mlp.init_params(8))
    index, hyperparams = mlp._traced("momentum", {})
    state = mlp._optimizers(8).init(index, flat, hyperparams)
    structure = {"hidden": 8, "activation": "tanh", "batch_size": 10}
    jaxpr = jax.make_jaxpr(lambda *args: mlp._epoch(*args, **structure))(
        flat, state, jnp.bool_(False), mlp.epoch_key(0, 0), index, hyperparams, small
    )
    inner = jaxpr.jaxpr.eqns[0].params["jaxpr"].jaxpr  # the jitted epoch
    scans = [e for e in inner.eqns if e.primitive.name == "scan"]
    assert len(scans) == 1 and scans[0].params["length"] == 10
    mlp.train("momentum", hidden=8, activation="tanh", batch_size=10, epochs=2, arrays=small, lr=0.1)
    compiled = mlp._epoch._cache_size()
    for optimizer, hyperparams in [("momentum", {"lr": 0.05, "beta": 0.5}), ("adam", {"lr": 0.3})]:
        mlp.train(
            optimizer,
            hidden=8,
            activation="tanh",
            batch_size=10,
            epochs=2,
            seed=1,
            arrays=small,
            **hyperparams,
        )
    for optimizer in mlp.MLP_OPTIMIZERS:
        mlp.train(optimizer, hidden=8, activation="tanh", batch_size=10, epochs=1, arrays=small)
    assert mlp._epoch._cache_size() == compiled


def test_a_diverging_run_freezes_instead_of_producing_nan(small):
    history = mlp.train("gd", hidden=8, batch_size=10, epochs=2, arrays=small, lr=1e30)
    assert history.diverged_at is not None and history.diverged_at >= 1
    assert all(np.isfinite(p).all() for p in history.params)


def test_history_path_holds_the_start_and_the_weights_after_every_epoch_in_float16(small):
    """Row 0 is the initial weights every optimizer with this seed shares; the last row is
    History.params, to float16's precision (11 significant bits)."""
    start = np.asarray(jax.flatten_util.ravel_pytree(mlp.init_params(8, seed=2))[0])
    histories = list(mlp.train_epochs("adam", hidden=8, batch_size=10, epochs=3, seed=2, arrays=small))
    for epochs, history in enumerate(histories, start=1):
        assert history.path.shape == (epochs + 1, mlp.parameter_count(history.params))
        assert history.path.dtype == np.float16
        np.testing.assert_array_equal(history.path[0], start.astype(np.float16))
        last = np.concatenate([np.ravel(p) for p in history.params])
        np.testing.assert_allclose(history.path[-1], last, rtol=2**-11, atol=1e-7)
    np.testing.assert_array_equal(histories[-1].path[:3], histories[1].path)  # epochs are appended
    assert not np.array_equal(histories[-1].path[-1], histories[-1].path[-2])


def test_step_numbers_of_the_first_mini_batch(small):
    numbers = mlp.step_numbers("gd", hidden=16, batch_size=48, seed=5, arrays=small, lr=0.1)
    assert numbers.shapes == {
        "x": (48, 784),
        "h": (48, 16),
        "z": (48, 10),
        "p": (48, 10),
        "w1": (784, 16),
        "b1": (16,),
        "w2": (16, 10),
        "b2": (10,),
    }
    history = mlp.train("gd", hidden=16, batch_size=48, epochs=1, seed=5, arrays=small, lr=0.1)
    assert numbers.loss == pytest.approx(history.batch_loss[0], rel=1e-6)
    for name in ("w1", "b1", "w2", "b2"):  # gradient descent steps by exactly lr * gradient
        assert numbers.update_norms[name] == pytest.approx(0.1 * numbers.grad_norms[name], rel=1e-5)
    assert numbers.loss_after < numbers.loss


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"optimizer": "sgd"}, "mini-batches"),
        ({"optimizer": "lbfgs"}, "unknown optimizer"),
        ({"noise": 1.0}, "no 'noise'"),
        ({"beta": 0.9}, "no hyperparameter beta"),
        ({"activation": "gelu"}, "unknown activation"),
        ({"batch_size": 0}, "batch_size must be"),
        ({"hidden": 2.5}, "hidden must be"),
        ({"epochs": 1000}, "epochs must be"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mlp.train(**kwargs)


def test_confusion_matrix_and_epoch_cap():
    counts = mlp.confusion_matrix([1, 1, 2, 9], [1, 7, 2, 9])
    assert counts[1, 1] == 1 and counts[1, 7] == 1 and counts.sum() == 4
    assert mlp.epoch_cap(1) == 1 and mlp.epoch_cap(2) == 2 and mlp.epoch_cap(64) == 50
