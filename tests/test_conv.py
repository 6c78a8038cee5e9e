"""optviz.conv against independent references: scipy.signal, numpy.correlate, and its own explicit loop."""

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from optviz import conv


def _strided_dilated_reference(x2d, k2d, stride, padding, dilation):
    """One channel, one filter, via scipy: dilate the kernel with zeros, correlate, then subsample."""
    kh, kw = k2d.shape
    dilated = np.zeros(((kh - 1) * dilation + 1, (kw - 1) * dilation + 1))
    dilated[::dilation, ::dilation] = k2d
    pads = [conv.padding_amounts(padding, k, dilation) for k in k2d.shape]
    full = scipy.signal.correlate2d(np.pad(x2d, pads), dilated, mode="valid")
    return full[::stride, ::stride]


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    kh=st.integers(1, 5),
    kw=st.integers(1, 5),
    stride=st.integers(1, 4),
    padding=st.one_of(st.integers(0, 3), st.just("same")),
    dilation=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_conv2d_one_channel_matches_scipy_and_the_loop(h, w, kh, kw, stride, padding, dilation, seed):
    rng = np.random.default_rng(seed)
    x, k = rng.normal(size=(1, h, w)), rng.normal(size=(1, 1, kh, kw))
    args = {"stride": stride, "padding": padding, "dilation": dilation}
    padded = [n + sum(conv.padding_amounts(padding, m, dilation)) for n, m in ((h, kh), (w, kw))]
    if padded[0] < (kh - 1) * dilation + 1 or padded[1] < (kw - 1) * dilation + 1:
        with pytest.raises(ValueError, match="fits nowhere"):
            conv.conv2d(x, k, **args)
        return
    expected = _strided_dilated_reference(x[0], k[0, 0], stride, padding, dilation)
    np.testing.assert_allclose(conv.conv2d(x, k, **args)[0], expected, atol=1e-10)
    np.testing.assert_allclose(conv.conv_loop(x, k, **args)[0], expected, atol=1e-10)


@pytest.mark.parametrize("padding", [0, 1, 2, "same"])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
def test_conv2d_many_channels_and_filters_with_bias_sum_scipy_per_channel(padding, stride, dilation):
    rng = np.random.default_rng(stride * 10 + dilation)
    x, w, b = rng.normal(size=(3, 11, 9)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    y = conv.conv2d(x, w, stride=stride, padding=padding, dilation=dilation, bias=b)
    for o in range(4):
        expected = b[o] + sum(
            _strided_dilated_reference(x[c], w[o, c], stride, padding, dilation) for c in range(3)
        )
        np.testing.assert_allclose(y[o], expected, atol=1e-10)
    loop = conv.conv_loop(x, w, stride=stride, padding=padding, dilation=dilation, bias=b)
    np.testing.assert_allclose(y, loop, atol=1e-10)


def test_flipping_the_kernel_gives_scipy_convolve2d():
    rng = np.random.default_rng(1)
    x, k = rng.normal(size=(10, 8)), rng.normal(size=(3, 3))
    flipped = k[::-1, ::-1][None, None]
    np.testing.assert_allclose(
        conv.conv2d(x[None], flipped)[0], scipy.signal.convolve2d(x, k, mode="valid"), atol=1e-12
    )
    assert not np.allclose(conv.conv2d(x[None], k[None, None])[0], scipy.signal.convolve2d(x, k, "valid"))


@settings(max_examples=60, deadline=None)
@given(
    length=st.integers(1, 30),
    k=st.integers(1, 6),
    stride=st.integers(1, 4),
    padding=st.one_of(st.integers(0, 3), st.just("same")),
    dilation=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_conv1d_matches_numpy_correlate_and_the_loop(length, k, stride, padding, dilation, seed):
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=(1, length)), rng.normal(size=(1, 1, k))
    dilated = np.zeros((k - 1) * dilation + 1)
    dilated[::dilation] = w[0, 0]
    padded = np.pad(x[0], conv.padding_amounts(padding, k, dilation))
    args = {"stride": stride, "padding": padding, "dilation": dilation}
    if len(padded) < len(dilated):
        with pytest.raises(ValueError, match="fits nowhere"):
            conv.conv1d(x, w, **args)
        return
    expected = np.correlate(padded, dilated, mode="valid")[::stride]
    np.testing.assert_allclose(conv.conv1d(x, w, **args)[0], expected, atol=1e-10)
    np.testing.assert_allclose(conv.conv_loop(x, w, **args)[0], expected, atol=1e-10)


def test_conv1d_sums_channels_and_adds_bias():
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(5, 20)), rng.normal(size=(3, 5, 4)), rng.normal(size=3)
    y = conv.conv1d(x, w, bias=b)
    for o in range(3):
        expected = b[o] + sum(np.correlate(x[c], w[o, c], mode="valid") for c in range(5))
        np.testing.assert_allclose(y[o], expected, atol=1e-10)


@pytest.mark.parametrize("n", [5, 16, 28])
@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("s", [1, 2, 3])
@pytest.mark.parametrize("p", [0, 1, 2])
@pytest.mark.parametrize("d", [1, 2])
def test_output_size_formula_predicts_the_shapes(n, k, s, p, d):
    expected = conv.output_size(n, k, s, p, d)
    assert expected == (n + 2 * p - d * (k - 1) - 1) // s + 1
    if expected < 1:
        with pytest.raises(ValueError):
            conv.conv2d(np.ones((1, n, n)), np.ones((1, 1, k, k)), stride=s, padding=p, dilation=d)
    else:
        y = conv.conv2d(np.ones((1, n, n + 3)), np.ones((2, 1, k, k)), stride=s, padding=p, dilation=d)
        assert y.shape == (2, expected, conv.output_size(n + 3, k, s, p, d))


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_same_padding_keeps_the_size_at_stride_one(k, d):
    y = conv.conv2d(np.ones((1, 9, 7)), np.ones((1, 1, k, k)), padding="same", dilation=d)
    assert y.shape == (1, 9, 7)


def test_windows_show_the_patch_products_and_sum_of_each_output_cell():
    x = np.arange(25.0).reshape(1, 5, 5)
    w = conv.kernel_preset("Sobel x")[None, None]
    cells = list(conv.windows(x, w, padding=1, stride=2))
    assert [c.index for c in cells] == [(i, j) for i in range(3) for j in range(3)]
    first = cells[0]  # top-left: the window hangs over the zero padding
    np.testing.assert_array_equal(first.patch[0], [[0, 0, 0], [0, 0, 1], [0, 5, 6]])
    np.testing.assert_array_equal(first.products, first.patch * w[0])
    assert first.value == first.products.sum() == 0 * -1 + 1 * 2 + 5 * 0 + 6 * 1
    np.testing.assert_array_equal(cells[4].taps[0, 0], [2, 2])  # output (1, 1) starts at padded (2, 2)


def test_bad_arguments_say_what_is_wrong():
    x, w = np.ones((2, 5, 5)), np.ones((1, 3, 3, 3))
    with pytest.raises(ValueError, match="2 channels but the filters expect 3"):
        conv.conv2d(x, w)
    with pytest.raises(ValueError, match="stride"):
        conv.conv2d(x, w[:, :2], stride=0)
    with pytest.raises(ValueError, match="padding"):
        conv.conv2d(x, w[:, :2], padding="valid-ish")
    with pytest.raises(ValueError, match="bias"):
        conv.conv2d(x, w[:, :2], bias=[1.0, 2.0])


# --- kernels, parsing, images ----------------------------------------------------------------------


@pytest.mark.parametrize("k", conv.KERNEL_SIZES)
def test_kernel_presets_do_what_their_names_say(k):
    x = conv.pattern("square", 16)[None]
    same = {"padding": "same"}
    identity = conv.kernel_preset("identity", k)[None, None]
    np.testing.assert_allclose(conv.conv2d(x, identity, **same)[0], x[0])
    for blur in ("box blur", "Gaussian blur"):
        assert conv.kernel_preset(blur, k).sum() == pytest.approx(1.0)
    for zero_sum in ("Sobel x", "Sobel y", "Laplacian"):
        assert conv.kernel_preset(zero_sum, k).sum() == pytest.approx(0.0)
    assert conv.kernel_preset("sharpen", k).sum() == pytest.approx(1.0)
    ramp = np.tile(np.arange(8.0), (8, 1))[None]  # brightness grows left to right
    assert (conv.conv2d(ramp, conv.kernel_preset("Sobel x", k)[None, None]) > 0).all()
    assert np.allclose(conv.conv2d(ramp, conv.kernel_preset("Sobel y", k)[None, None]), 0)


def test_parse_kernel_names_each_bad_cell_and_keeps_the_fallback_there():
    fallback = conv.kernel_preset("box blur")
    cells = [["1", "1/16", "-2e-1"], ["abc", "", "inf"], [0.5, "3", "1/0"]]
    kernel, problems = conv.parse_kernel(cells, fallback)
    np.testing.assert_allclose(kernel[0], [1, 1 / 16, -0.2])
    np.testing.assert_allclose(kernel[1], fallback[1])
    assert kernel[2, 0] == 0.5 and kernel[2, 2] == fallback[2, 2]
    assert problems == [
        'row 2, column 1: "abc" is not a number',
        'row 2, column 2: "" is not a number',
        'row 2, column 3: "inf" is not a number',
        'row 3, column 3: "1/0" is not a number',
    ]


def test_images_are_deterministic_and_in_range():
    img = conv.colour_image(24)
    assert img.shape == (3, 24, 24) and img.min() >= 0 and img.max() <= 1
    np.testing.assert_array_equal(img, conv.colour_image(24))
    for name in conv.PATTERNS:
        p = conv.pattern(name, 16)
        assert p.shape == (16, 16) and set(np.unique(p)) == {0.0, 1.0}


@pytest.mark.parametrize("preset", conv.COLOUR_FILTER_PRESETS)
def test_colour_filters_have_the_layer_shape_and_count(preset):
    w = conv.colour_filters(preset, 5, k=3, seed=1)
    assert w.shape == (5, 3, 3, 3)
    assert conv.parameter_count(3, 3, 5) == w.size + 5 == 140
    y = conv.conv2d(conv.colour_image(24), w, bias=np.zeros(5))
    assert y.shape == (5, 22, 22)


def test_the_red_filter_finds_the_sun():
    y = conv.conv2d(conv.colour_image(24), conv.colour_filters("edges and colours", 3), padding="same")
    i, j = np.unravel_index(np.argmax(y[2]), y[2].shape)
    assert 0.15 < (i + 0.5) / 24 < 0.45 and 0.55 < (j + 0.5) / 24 < 0.85  # the sun's disc


# --- text ----------------------------------------------------------------------------------------------


def test_letters_drop_unknown_characters_and_cap_the_length():
    t = conv.letters("The CAT, sat!  on 3 mats")
    assert "".join(t.tokens) == "the cat sat on mats"
    assert t.dropped == ("!", ",", "3") and not t.truncated
    long = conv.letters("ab" * 5000)
    assert len(long.tokens) == conv.MAX_TEXT and long.truncated
    assert conv.letters("").tokens == () and conv.letters("§§§").tokens == ()


def test_one_hot_has_one_one_per_position():
    x = conv.one_hot(tuple("abz "))
    assert x.shape == (27, 4)
    np.testing.assert_array_equal(x.sum(axis=0), 1)
    assert x[0, 0] == x[1, 1] == x[25, 2] == x[26, 3] == 1


@pytest.mark.parametrize("ngram", ["the", "at", "cat s"])
def test_an_ngram_filter_peaks_exactly_where_the_ngram_occurs(ngram):
    text = conv.letters("the cat sat on the mat with the hat").tokens
    y = conv.conv1d(conv.one_hot(text), conv.ngram_filter(tuple(ngram))[None])[0]
    joined = "".join(text)
    occurrences = [i for i in range(len(joined)) if joined.startswith(ngram, i)]
    assert sorted(np.flatnonzero(y == len(ngram))) == occurrences
    assert y.max() == len(ngram)


def test_word_embeddings_are_deterministic_and_a_bigram_filter_finds_its_bigram():
    np.testing.assert_array_equal(conv.embed("cat"), conv.embed("cat"))
    assert np.linalg.norm(conv.embed("cat")) == pytest.approx(1.0)
    text = conv.words("The cat sat on the mat; the cat ran.").tokens
    assert text == ("the", "cat", "sat", "on", "the", "mat", "the", "cat", "ran")
    y = conv.conv1d(conv.embeddings(text), conv.ngram_filter(("the", "cat"), "embeddings")[None])[0]
    best, where = conv.max_over_time(y[None])
    assert best[0] == pytest.approx(2.0) and where[0] == 0
    assert np.flatnonzero(np.isclose(y, 2.0)).tolist() == [0, 6]


def test_conv1d_over_text_is_a_2d_convolution_with_a_kernel_as_wide_as_the_embedding():
    x = conv.one_hot(conv.letters("a filter as wide as the alphabet").tokens)  # (27, L)
    w = np.random.default_rng(3).normal(size=(2, 27, 4))
    as_1d = conv.conv1d(x, w)  # (2, L - 3)
    as_2d = conv.conv2d(x.T[None], np.transpose(w, (0, 2, 1))[:, None])  # image (1, L, 27), kernel (4, 27)
    assert as_2d.shape == (2, x.shape[1] - 3, 1)
    np.testing.assert_allclose(as_2d[:, :, 0], as_1d, atol=1e-12)
