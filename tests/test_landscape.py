"""The trained MLP's loss landscape (optviz.mlp.landscape), its figures and its tab on the MLP page."""

import json

import jax.numpy as jnp
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from optviz.mlp import landscape
from optviz.mlp import model as mlp
from optviz.mlp.landscape_figures import landscape3d_figure, landscape_figure
from optviz.optimizers import OPTIMIZERS
from tests.apptest import link_notes


@pytest.fixture(scope="module")
def trained():
    """Two 16-unit networks trained 2 epochs from the same start: {optimizer: History}."""
    return {name: mlp.train(name, hidden=16, epochs=2, seed=3) for name in ("gd", "adam")}


def _shifted(params, d1, d2, a, b):
    return mlp.Params(*(jnp.asarray(p + a * u + b * v) for p, u, v in zip(params, d1, d2, strict=True)))


@pytest.mark.parametrize("activation", list(mlp.ACTIVATIONS))
def test_the_slice_at_its_centre_is_the_trained_networks_loss(trained, activation):
    params = trained["adam"].params
    d1, d2 = landscape.directions(params, seed=1)
    x, labels = landscape.slice_digits("test")
    axis = landscape.grid(1.0, 21)
    losses = landscape.loss_slice(params, d1, d2, axis, axis, x, labels, activation)
    assert losses.shape == (21, 21) and axis[10] == 0
    expected = float(mlp.loss_fn(mlp.Params(*map(jnp.asarray, params)), x, labels, activation))
    assert losses[10, 10] == pytest.approx(expected, rel=1e-5)


def test_the_slice_equals_a_plain_loop_of_the_loss_at_each_point(trained):
    """Rows along β, columns along α; directions with non-zero biases too, so every parameter moves."""
    params = trained["gd"].params
    rng = np.random.default_rng(7)
    d1, d2 = (
        mlp.Params(*(rng.normal(size=np.shape(p)).astype(np.float32) * 0.3 for p in params)) for _ in "ab"
    )
    x, labels = landscape.slice_digits("train")
    alphas, betas = np.array([-0.7, 0.0, 0.4]), np.array([-0.3, 0.5])
    losses = landscape.loss_slice(params, d1, d2, alphas, betas, x, labels, "tanh")
    expected = [
        [float(mlp.loss_fn(_shifted(params, d1, d2, a, b), x, labels, "tanh")) for a in alphas] for b in betas
    ]
    np.testing.assert_allclose(losses, expected, rtol=2e-5)


def test_directions_are_filter_normalized_per_neuron_with_zero_bias_directions(trained):
    params = trained["adam"].params
    d1, d2 = landscape.directions(params, seed=4)
    for direction in (d1, d2):
        for name in ("w1", "w2"):  # each column: one neuron's incoming weights
            weights, moved = getattr(params, name), getattr(direction, name)
            assert moved.shape == weights.shape and moved.dtype == np.float32
            np.testing.assert_allclose(
                np.linalg.norm(moved, axis=0), np.linalg.norm(weights, axis=0), rtol=1e-5
            )
        assert not direction.b1.any() and not direction.b2.any()
    assert not np.allclose(d1.w1, d2.w1)
    np.testing.assert_array_equal(landscape.directions(params, seed=4)[1].w2, d2.w2)  # the seed fixes them
    assert not np.allclose(landscape.directions(params, seed=5)[0].w1, d1.w1)


def test_projection_recovers_the_coordinates_of_a_point_in_the_plane(trained):
    """d1 and d2 are not orthogonal: least squares still gives back (0.3, -0.2) exactly."""
    params = trained["adam"].params
    d1, d2 = landscape.directions(params, seed=2)
    flat, u, v = (landscape.flatten(p) for p in (params, d1, d2))
    assert abs(u @ v) > 0  # not orthogonal
    rows = np.stack([flat + 0.3 * u - 0.2 * v, flat, np.full_like(flat, np.inf)])
    coordinates = landscape.project(rows, params, d1, d2)
    np.testing.assert_allclose(coordinates[:2], [[0.3, -0.2], [0.0, 0.0]], atol=1e-6)
    assert np.isnan(coordinates[2]).all()  # a diverged row beyond float16's range
    share = landscape.in_plane(rows, params, d1, d2, coordinates)
    assert share[0] == pytest.approx(1.0, abs=1e-6) and np.isnan(share[1:]).all()


def test_the_paths_start_together_and_the_window_covers_them(trained):
    view = landscape.slice_with_paths(trained, "adam", data="train", resolution=21)
    assert set(view.paths) == {"gd", "adam"} and view.losses.shape == (21, 21)
    np.testing.assert_array_equal(view.paths["gd"][0], view.paths["adam"][0])  # one shared start
    np.testing.assert_allclose(view.paths["adam"][-1], [0, 0], atol=1e-3)  # adam ends at the centre (float16)
    farthest = max(np.abs(xy).max() for xy in view.paths.values())
    assert view.alphas[-1] == pytest.approx(max(1.0, 1.2 * farthest)) and np.array_equal(
        view.alphas, view.betas
    )
    # A random plane is nearly orthogonal to a path in 12,730 dimensions: it holds little of it.
    assert view.in_plane["adam"][0] < 0.1


def test_the_plane_through_the_start_puts_the_start_at_alpha_one(trained):
    view = landscape.slice_with_paths(trained, "gd", resolution=21, plane="start")
    np.testing.assert_allclose(view.paths["adam"][0], [1, 0], atol=1e-6)
    assert view.in_plane["gd"][0] == pytest.approx(1.0, abs=1e-6)
    assert view.alphas[-1] == pytest.approx(1.2)
    heights = view.heights["gd"]
    left, right = np.searchsorted(view.alphas, 1.0) - 1, np.searchsorted(view.alphas, 1.0)
    assert min(view.losses[10, [left, right]]) <= heights[0] <= max(view.losses[10, [left, right]])  # β = 0
    assert np.all(np.isfinite(heights)) and heights[0] > heights[-1]  # downhill from the start


def test_interpolation_is_exact_on_grid_points_and_linear_between():
    axis = np.array([-1.0, 0.0, 1.0])
    values = np.add.outer(2 * axis, axis)  # rows along β: 2β + α, which bilinear interpolation keeps
    points = np.array([[0.0, 0.0], [1.0, -1.0], [0.25, 0.5], [2.0, 0.0], [np.nan, 0.0]])
    got = landscape.interpolate(axis, axis, values, points)
    np.testing.assert_allclose(got[:3], [0.0, -1.0, 1.25])
    assert np.isnan(got[3:]).all()


def test_neither_the_data_nor_the_seed_nor_the_centre_recompiles_a_slice(trained):
    """Train and test slices have the same shape: 2,000 training digits, a fixed draw."""
    x_train, _ = landscape.slice_digits("train")
    x_test, _ = landscape.slice_digits("test")
    assert x_train.shape == x_test.shape == (landscape.SLICE_DIGITS, 784)
    np.testing.assert_array_equal(landscape.slice_digits("train")[1], landscape.slice_digits("train")[1])
    landscape.slice_with_paths(trained, "adam", data="test", resolution=23)
    compiled = landscape._slice._cache_size()
    for centre, data, seed, plane in [("adam", "train", 0, "random"), ("gd", "test", 9, "random"),
                                      ("gd", "train", 1, "start")]:  # fmt: skip
        landscape.slice_with_paths(trained, centre, data=data, resolution=23, seed=seed, plane=plane)
    assert landscape._slice._cache_size() == compiled
    landscape.slice_with_paths(trained, "adam", resolution=25)
    assert landscape._slice._cache_size() == compiled + 1  # a new resolution is a new shape


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resolution": 63}, "resolution must be an integer from 21 to 61"),
        ({"resolution": 19}, "resolution must be"),
        ({"resolution": 41.0}, "resolution must be"),
        ({"data": "validation"}, "unknown data"),
        ({"plane": "pca"}, "unknown plane"),
        ({"centre": "rmsprop"}, "no History for 'rmsprop'"),
    ],
)
def test_bad_arguments_raise_clear_errors(trained, kwargs, message):
    kwargs = {"centre": "adam", **kwargs}
    with pytest.raises(ValueError, match=message):
        landscape.slice_with_paths(trained, **kwargs)


def test_a_slice_larger_than_61_points_a_side_is_refused(trained):
    params = trained["adam"].params
    x, labels = landscape.slice_digits("test")
    with pytest.raises(ValueError, match="alphas must be 1 to 61 numbers"):
        landscape.loss_slice(params, params, params, np.zeros(62), np.zeros(3), x, labels)


def test_the_figures_draw_every_path_in_its_optimizers_colour_and_symbol(trained):
    view = landscape.slice_with_paths(trained, "adam", resolution=21)
    fig = landscape_figure(view)
    (contour,) = [t for t in fig.data if t.type == "contour"]
    np.testing.assert_allclose(contour.z, np.log10(view.losses), rtol=1e-6)  # colour: log10 of the loss
    for name in trained:
        (path,) = [t for t in fig.data if t.name == OPTIMIZERS[name].label]
        assert path.line.color == OPTIMIZERS[name].colour and path.marker.symbol == OPTIMIZERS[name].marker
        sizes = list(path.marker.size)
        assert len(path.x) == 3 and sizes[-1] > sizes[0]  # a marker per epoch; the end's is larger
    assert {"start (shared)", "centre θ*"} <= {t.name for t in fig.data}
    surface = landscape3d_figure(view, "random")
    assert [t.type for t in surface.data].count("scatter3d") == 2
    (lifted,) = [t for t in surface.data if t.name == OPTIMIZERS["gd"].label]
    assert np.all(np.asarray(lifted.z) >= np.log10(view.heights["gd"]))  # on (just above) the surface


# --- the tab, through AppTest ------------------------------------------------------------------------

VIEW = """
import streamlit as st
from optviz import mlp
from optviz.ui.mlp import Run
from optviz.ui.mlp_landscape import LINK_PARAMETERS, landscape_view
from optviz.ui.url_state import PageState

@st.cache_resource
def histories(runs):
    return {run.optimizer: mlp.train(epochs=run.epochs, **run.kwargs()) for run in runs}

state = PageState("mlp", known=(*LINK_PARAMETERS, "untrained"))
state.show_notes()
runs = (Run("gd", (), 8, "relu", 64, 1, 0), Run("adam", (), 8, "relu", 64, 1, 0))
landscape_view(runs, {} if st.query_params.get("untrained") else histories(runs), state, st.info)
state.publish()
"""


def _view(query=None) -> AppTest:
    at = AppTest.from_string(VIEW, default_timeout=90)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _traces(at) -> list[dict]:
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)["data"]


def test_the_tab_draws_the_contour_with_each_path_and_says_why_one_plane():
    at = _view()
    traces = _traces(at)
    assert traces[0]["type"] == "contour"
    assert {"Gradient descent", "Adam", "start (shared)"} <= {t.get("name") for t in traces}
    text = " ".join(m.value for m in at.markdown)
    assert "Filter normalization" in text and "PCA plane per optimizer" in text
    assert "Why the paths look short" in text  # the random plane holds little of a path: said, with a figure
    at.session_state["land_3d"] = True
    at.session_state["land_plane"] = "start"
    at.run()
    assert not at.exception, at.exception
    assert [t["type"] for t in _traces(at)] == ["surface", "scatter3d", "scatter3d"]


def test_before_any_training_the_tab_asks_for_it_without_a_chart():
    at = _view({"untrained": "1"})
    assert not at.get("plotly_chart") and not at.button
    assert "train the network first" in at.info[0].value


def test_a_link_out_of_range_is_clamped_with_a_note():
    at = _view({"land_resolution": "1000", "land_data": "validation", "land_seed": "-4"})
    assert at.slider(key="land_resolution").value == 61
    assert at.radio(key="land_data").value == "test"
    assert at.number_input(key="land_seed").value == 0
    notes = link_notes(at)
    assert "1000" in notes and "validation" in notes and "-4" in notes
    assert _traces(at)[0]["type"] == "contour"
    odd = _view({"land_resolution": "42"})
    assert odd.slider(key="land_resolution").value in (41, 43) and "42" in link_notes(odd)
