"""optviz.mlp.digit: a drawing made into an MNIST digit (against hand-made cases and the bundled digits,
which were made this way), and one image's backward pass (against central finite differences and a
plain NumPy backpropagation)."""

import time

import numpy as np
import pytest

from optviz import data
from optviz.mlp import digit
from optviz.mlp import model as mlp


def _centre_of_mass(image):
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def _box(image):
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def _disc(size, centre, diameter):
    """An anti-aliased round dot: each pixel's coverage by the disc, from 8 x 8 samples."""
    offsets = (np.arange(8) + 0.5) / 8
    ys = (np.arange(size)[:, None] + offsets).reshape(-1)
    covered = (ys[:, None] - centre[0]) ** 2 + (ys[None, :] - centre[1]) ** 2 <= (diameter / 2) ** 2
    return covered.reshape(size, 8, size, 8).mean(axis=(1, 3))


# --- preprocess ---------------------------------------------------------------------------------


def _bar_top_left(size):
    """A vertical bar drawn in the top-left corner of a size x size canvas (a "1" far off-centre)."""
    canvas = np.zeros((size, size))
    canvas[size // 20 : size // 2, size // 10 : size // 10 + max(2, size // 25)] = 1.0
    return canvas


def _l_shape(size):
    """An "L" whose ink is mostly in its long foot: the centre of mass sits near the box's bottom."""
    canvas = np.zeros((size, size))
    canvas[size // 2 : size - 2, size // 2 : size // 2 + 2] = 1.0
    canvas[size - 4 : size - 2, 3 : size // 2 + 2] = 1.0
    return canvas


def _diagonal(size):
    canvas = np.zeros((size, size))
    for i in range(size // 2):
        canvas[size // 3 + i, i : i + 3] = 0.8
    return canvas


@pytest.mark.parametrize("size", [28, 100])
@pytest.mark.parametrize("shape", [_bar_top_left, _diagonal])
def test_an_off_centre_stroke_lands_centred_with_its_larger_side_20(shape, size):
    image = digit.preprocess(shape(size))
    assert image.shape == (28, 28) and image.min() >= 0 and image.max() <= 1
    row, col = _centre_of_mass(image)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5, (row, col)
    assert max(_box(image)) in (19, 20, 21)


def test_the_aspect_ratio_is_kept():
    """A bar 4 wide and 40 tall becomes 2 wide and 20 tall: a "1" stays thin."""
    canvas = np.zeros((100, 100))
    canvas[30:70, 60:64] = 1.0
    height, width = _box(digit.preprocess(canvas))
    assert height == 20 and width == 2


def test_a_shift_that_would_cut_ink_off_stops_at_the_edge():
    """The L's centre of mass is low in its box: centring it fully would push the foot out of the
    field. Nothing is lost, and the centre of mass is as close to the centre as the field allows."""
    image = digit.preprocess(_l_shape(28))
    height, width = _box(image)
    assert max(height, width) == 20
    rows = np.flatnonzero(image.any(axis=1))
    assert rows[-1] <= 27
    row, _ = _centre_of_mass(image)
    assert row < 14 + 8


def test_the_bundled_digits_come_back_as_they_are():
    """The MNIST digits were made by this recipe, so doing it again changes (almost) nothing."""
    digits = data.load()
    images = digits.test_images[:300] / 255.0
    again = np.stack([digit.preprocess(image) for image in images])
    assert np.abs(again - images).max() <= 1e-6


def test_a_digit_drawn_ten_times_larger_comes_back_close_to_itself():
    """A bundled digit blown up 10x (a 280 x 280 drawing) and preprocessed is the digit again, up to
    resampling: the recipe does not depend on the pad's resolution."""
    image = data.load().test_images[7] / 255.0
    large = np.kron(image, np.ones((10, 10)))
    again = digit.preprocess(large)
    assert np.abs(again - image).mean() < 0.03
    assert np.corrcoef(again.ravel(), image.ravel())[0, 1] > 0.95


def test_an_empty_pad_is_refused_with_a_sentence():
    with pytest.raises(ValueError) as error:
        digit.preprocess(np.zeros((28, 28)))
    assert str(error.value) == digit.EMPTY_MESSAGE


@pytest.mark.parametrize(
    "dot",
    [
        pytest.param(np.pad(np.ones((1, 1)), ((10, 17), (3, 24))), id="one pixel"),
        pytest.param(np.pad(np.full((3, 3), 0.9), ((5, 20), (12, 13))), id="3x3"),
        pytest.param(_disc(28, (14.0, 9.0), 4.0), id="the thick brush's dot"),
        pytest.param(np.kron(_disc(28, (14.0, 9.0), 4.0), np.ones((10, 10))), id="the same at 280 px"),
        pytest.param(np.full((28, 28), 0.3), id="faint all over"),
    ],
)
def test_a_single_dot_is_refused_with_a_sentence(dot):
    with pytest.raises(ValueError) as error:
        digit.preprocess(dot)
    assert str(error.value) == digit.DOT_MESSAGE


def test_a_short_stroke_is_a_digit():
    canvas = np.zeros((28, 28))
    canvas[10:16, 13:15] = 1.0  # 6 px: the smallest "1" worth reading
    assert digit.preprocess(canvas).shape == (28, 28)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros(784),
        np.zeros((2, 28, 28)),
        np.zeros((0, 28)),
        np.full((28, 28), np.nan),
        np.full((28, 28), 2.0),
        -np.ones((28, 28)),
        [["a"] * 28] * 28,
        None,
    ],
    ids=["flat", "3d", "no rows", "nan", "above 1", "negative", "text", "None"],
)
def test_input_that_is_not_a_drawing_is_refused_with_a_sentence(bad):
    with pytest.raises(ValueError, match=r"^A drawing"):
        digit.preprocess(bad)


# --- explain ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def params():
    """A 16-unit network (nn.Linear's initialization), as the page holds trained ones: NumPy float32."""
    return mlp.Params(*(np.asarray(p) for p in mlp.init_params(hidden=16, seed=1)))


@pytest.fixture(scope="module")
def image():
    canvas = np.zeros((28, 28))
    canvas[4:24, 12:15] = 1.0
    canvas[4:7, 8:15] = 0.6
    return digit.preprocess(canvas)


SIGMA = {
    "relu": (lambda u: np.maximum(u, 0), lambda u: (u > 0).astype(float)),
    "sigmoid": (lambda u: 1 / (1 + np.exp(-u)), lambda u: np.exp(-u) / (1 + np.exp(-u)) ** 2),
    "tanh": (np.tanh, lambda u: 1 - np.tanh(u) ** 2),
}


def _loss(params, x, label, activation):
    """L = -log p_label in float64 NumPy."""
    w1, b1, w2, b2 = (np.asarray(p, np.float64) for p in params)
    z = SIGMA[activation][0](x @ w1 + b1) @ w2 + b2
    z = z - z.max()
    return -(z[label] - np.log(np.exp(z).sum()))


def _backprop(params, x, label, activation):
    """The backward pass written out in float64 NumPy: (dL/du, dL/dx, dL/dW_1)."""
    w1, b1, w2, b2 = (np.asarray(p, np.float64) for p in params)
    u = x @ w1 + b1
    z = SIGMA[activation][0](u) @ w2 + b2
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    dz = p - np.eye(10)[label]
    du = (dz @ w2.T) * SIGMA[activation][1](u)
    return du, du @ w1.T, np.outer(x, du)


@pytest.mark.parametrize("activation", list(mlp.ACTIVATIONS))
def test_saliency_equals_central_finite_differences(params, image, activation):
    label = 3
    answer = digit.explain(params, image, activation, label)
    x = image.ravel()
    eps = 1e-5
    for pixel in [(14, 13), (5, 10), (20, 14), (0, 0), (12, 20)]:
        k = pixel[0] * 28 + pixel[1]
        step = np.zeros(784)
        step[k] = eps
        finite = (_loss(params, x + step, label, activation) - _loss(params, x - step, label, activation)) / (
            2 * eps
        )
        assert answer.saliency[pixel] == pytest.approx(finite, rel=1e-3, abs=1e-6), pixel


@pytest.mark.parametrize("activation", list(mlp.ACTIVATIONS))
def test_the_weight_gradient_is_the_outer_product_of_the_image_and_du(params, image, activation):
    answer = digit.explain(params, image, activation, 7)
    du, dx, dw1 = _backprop(params, image.ravel(), 7, activation)
    assert np.allclose(answer.grad_b1, du, rtol=1e-4, atol=1e-7)
    assert np.allclose(answer.saliency.ravel(), dx, rtol=1e-4, atol=1e-7)
    assert np.allclose(answer.grad_w1, dw1, rtol=1e-4, atol=1e-7)
    # dL/dW_1 = outer(x, dL/db_1): every column is the image scaled by that unit's dL/du_j.
    assert np.allclose(answer.grad_w1, np.outer(image.ravel(), answer.grad_b1), rtol=1e-5, atol=1e-9)
    assert answer.loss == pytest.approx(_loss(params, image.ravel(), 7, activation), rel=1e-5)


def test_the_forward_pass_matches_the_model(params, image):
    answer = digit.explain(params, image, "relu", 2)
    assert answer.probabilities.shape == (10,) and answer.hidden.shape == (16,)
    assert answer.probabilities.sum() == pytest.approx(1.0, abs=1e-6)
    x = image.reshape(1, 784).astype(np.float32)
    assert np.allclose(answer.probabilities, np.asarray(mlp.predict(params, x))[0], atol=1e-6)
    assert np.allclose(answer.hidden, np.asarray(mlp.hidden_layer(params, x))[0], atol=1e-6)
    assert answer.saliency.shape == (28, 28) and answer.grad_w1.shape == (784, 16)
    assert answer.grad_w1.dtype == np.float32  # the parameters' type


def test_no_label_means_the_predicted_class(params, image):
    answer = digit.explain(params, image, "tanh")
    assert answer.label == int(answer.probabilities.argmax())
    same = digit.explain(params, image, "tanh", answer.label)
    assert np.array_equal(answer.saliency, same.saliency) and answer.loss == same.loss


def test_another_label_does_not_recompile(params, image):
    digit.explain(params, image, "sigmoid", 0)
    compiled = digit._explain._cache_size()
    for label in [None, *range(10)]:
        digit.explain(params, image, "sigmoid", label)
    assert digit._explain._cache_size() == compiled


def test_the_strongest_units_are_those_with_the_largest_du(params, image):
    answer = digit.explain(params, image, "relu", 1)
    units = digit.strongest_units(answer, 8)
    magnitudes = np.abs(answer.grad_b1)
    assert len(units) == 8 and list(magnitudes[units]) == sorted(magnitudes[units], reverse=True)
    assert magnitudes[units].min() >= np.delete(magnitudes, units).max()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"activation": "gelu"}, "unknown activation"),
        ({"label": 10}, "digit from 0 to 9"),
        ({"label": 2.5}, "digit from 0 to 9"),
        ({"image": np.zeros((20, 20))}, "784 pixels"),
    ],
)
def test_bad_arguments_are_refused(params, image, kwargs, message):
    arguments = {"image": image, "activation": "relu", "label": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        digit.explain(params, **arguments)


def test_a_warm_call_is_far_inside_a_strokes_budget(measurement):
    """Each stroke costs one explain per trained optimizer: warm, well under 20 ms for the largest
    network the page trains (512 hidden units), so the 150 ms from stroke to prediction is the page's."""
    big = mlp.Params(*(np.asarray(p) for p in mlp.init_params(hidden=512, seed=0)))
    x = data.load().test_images[0] / 255.0
    digit.explain(big, x, "relu")  # compiles
    times = []
    for label in range(10):
        start = time.perf_counter()
        digit.explain(big, x, "relu", label)
        times.append(time.perf_counter() - start)
    median = float(np.median(times)) * 1e3
    measurement(f"digit.explain, 512 hidden units, warm: median {median:.2f} ms")
    assert median < 20
