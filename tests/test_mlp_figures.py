"""The MLP page's figure builders: what they draw follows from the data they are given."""

import numpy as np

from optviz import mlp
from optviz.mlp import figures as mlp_figures


def _texts(fig):
    return [a.text for a in fig.layout.annotations]


def test_curves_have_an_entry_per_optimizer_and_thin_long_mini_batch_series():
    n = 8000
    history = mlp.History(
        train_loss=np.array([1.0, 0.5]), train_accuracy=np.array([0.8, 0.9]), test_loss=np.array([1.1, 0.6]),
        test_accuracy=np.array([0.79, 0.88]), batch_loss=np.linspace(2, 0.1, 2 * n),
        params=None, diverged_at=None,
    )  # fmt: skip
    fig = mlp_figures.curves_figure({"adam": history, "gd": history}, batches_per_epoch=n, epochs=5)
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert legend == ["Adam", "Gradient descent", "train", "test"]
    thin = [t for t in fig.data if t.mode == "lines" and t.opacity == 0.35]
    assert len(thin) == 2 and all(len(t.y) <= mlp_figures.MAX_CURVE_POINTS + 1 for t in thin)
    assert tuple(fig.layout.xaxis.range) == (0, 5.1)


def test_train_averages_are_drawn_at_the_epochs_middle_and_test_values_at_its_end():
    """Epoch 1's train accuracy (an average while the weights moved) lies left of its test accuracy
    (the weights after the epoch), as the caption under the chart says."""
    history = mlp.History(
        train_loss=np.array([0.9, 0.4]), train_accuracy=np.array([0.70, 0.90]),
        test_loss=np.array([0.5, 0.35]), test_accuracy=np.array([0.85, 0.91]),
        batch_loss=np.linspace(2, 0.3, 20), params=None, diverged_at=None,
    )  # fmt: skip
    fig = mlp_figures.curves_figure({"adam": history}, batches_per_epoch=10, epochs=2)
    lines = {t.hovertemplate.split(" %")[0]: list(t.x) for t in fig.data if t.hovertemplate}
    assert lines["train accuracy"] == lines["train loss"] == [0.5, 1.5]
    assert lines["test accuracy"] == lines["test loss"] == [1, 2]
    caption = mlp_figures.CURVES_CAPTION
    assert "at the epoch's middle" in caption and "at its end" in caption


def test_digits_frame_exactly_the_mistakes_and_confusion_counts_are_shown():
    images = np.zeros((5, 28, 28), np.uint8)
    labels = np.array([0, 1, 2, 3, 4])
    probabilities = np.eye(10)[[0, 7, 2, 3, 9]]
    fig = mlp_figures.digits_figure(images, labels, probabilities, columns=3)
    assert len(fig.layout.shapes) == 2
    assert "7 (100%) ≠ 1" in _texts(fig)
    counts = mlp.confusion_matrix(labels, probabilities.argmax(axis=1))
    confusion = mlp_figures.confusion_figure(counts)
    assert np.array_equal(np.asarray(confusion.data[0].text), counts)


def test_weight_images_tile_the_first_units():
    w1 = np.arange(784 * 8, dtype=float).reshape(784, 8)
    fig = mlp_figures.weights_figure(w1, count=4, columns=2)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (2 * 30 - 2, 2 * 30 - 2)
    np.testing.assert_array_equal(z[:28, :28], w1[:, 0].reshape(28, 28))
    np.testing.assert_array_equal(z[:28, 30:58], w1[:, 1].reshape(28, 28))
