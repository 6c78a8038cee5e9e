"""Every surface: its minima, its metadata, and that its JAX gradient is right."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optviz
from surfaces import SURFACES, get_surface

ALL = list(SURFACES.values())
ids = [s.name for s in ALL]


def _hessian_norm(surface, xy):
    return float(np.linalg.norm(jax.hessian(surface.fn)(jnp.asarray(xy))))


@pytest.mark.parametrize("surface", ALL, ids=ids)
def test_listed_minima_have_their_value_zero_gradient_and_positive_curvature(surface):
    for minimum in surface.minima:
        xy = jnp.asarray(minimum.xy)
        assert float(surface.fn(xy)) == pytest.approx(minimum.value, abs=1e-6)
        # The minima are given to 7 digits, so the gradient there is at most |H| * 1e-7.
        assert np.linalg.norm(jax.grad(surface.fn)(xy)) < 1e-6 * max(1.0, _hessian_norm(surface, xy))
        assert np.linalg.eigvalsh(np.asarray(jax.hessian(surface.fn)(xy))).min() > 0


@pytest.mark.parametrize("surface", ALL, ids=ids)
def test_saddle_points_are_stationary_but_not_minima(surface):
    for xy in surface.saddle_points:
        xy = np.asarray(xy)
        assert np.linalg.norm(jax.grad(surface.fn)(jnp.asarray(xy))) < 1e-9
        angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
        ring = xy + 1e-2 * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
        assert float(jnp.min(surface.fn(jnp.asarray(ring)))) < float(surface.fn(jnp.asarray(xy)))


@pytest.mark.parametrize("surface", [s for s in ALL if s.minima], ids=[s.name for s in ALL if s.minima])
def test_global_minima_are_the_lowest_point_of_the_window(surface):
    (x0, x1), (y0, y1) = surface.bounds
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 401), np.linspace(y0, y1, 401)), axis=-1)
    lowest_on_grid = float(jnp.min(surface.fn(jnp.asarray(grid))))
    global_value = min(m.value for m in surface.global_minima)
    assert surface.global_minima, "a surface with minima names at least one global one"
    assert all(m.value == pytest.approx(global_value, abs=1e-6) for m in surface.global_minima)
    assert all(m.value >= global_value for m in surface.minima)
    assert lowest_on_grid >= global_value - 1e-9


@pytest.mark.parametrize("surface", ALL, ids=ids)
def test_minima_starts_and_saddles_lie_inside_the_window(surface):
    points = [m.xy for m in surface.minima] + list(surface.starts.values()) + list(surface.saddle_points)
    assert surface.starts, "every surface has a default start"
    assert all(surface.contains(p) for p in points)
    (x0, x1), (y0, y1) = surface.bounds
    assert x0 < x1 and y0 < y1


@pytest.mark.parametrize("surface", ALL, ids=ids)
def test_grid_evaluation_equals_pointwise_evaluation(surface):
    (x0, x1), (y0, y1) = surface.bounds
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 7), np.linspace(y0, y1, 5)), axis=-1)
    on_grid = np.asarray(surface.fn(jnp.asarray(grid)))
    pointwise = np.array([[float(surface.fn(jnp.asarray(p))) for p in row] for row in grid])
    assert on_grid.shape == (5, 7)
    np.testing.assert_allclose(on_grid, pointwise, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("surface", ALL, ids=ids)
def test_jax_gradient_matches_central_finite_differences(surface):
    (x0, x1), (y0, y1) = surface.bounds
    points = np.random.default_rng(0).uniform([x0, y0], [x1, y1], size=(20, 2))
    h = 1e-6
    for p in points:
        exact = np.asarray(jax.grad(surface.fn)(jnp.asarray(p)))
        numeric = np.array(
            [
                (float(surface.fn(jnp.asarray(p + h * e))) - float(surface.fn(jnp.asarray(p - h * e))))
                / (2 * h)
                for e in np.eye(2)
            ]
        )
        np.testing.assert_allclose(exact, numeric, rtol=1e-5, atol=1e-5 * (1 + np.abs(exact).max()))


def test_ackley_gradient_is_zero_not_nan_at_its_kink():
    assert np.all(np.asarray(jax.grad(SURFACES["ackley"].fn)(jnp.zeros(2))) == 0.0)


@pytest.mark.parametrize("surface", ALL, ids=ids)
def test_metadata_is_complete(surface):
    assert re.search(r"f\(x, y\) &?=", surface.formula), "the formula defines f(x, y)"
    assert surface.description and "\n" not in surface.description
    assert surface.title and surface.default_steps > 0
    assert all(surface.name in spec.recommended for spec in optviz.OPTIMIZERS.values()), (
        "a recommendation from every optimizer"
    )


@pytest.mark.parametrize("surface", ALL, ids=ids)
def test_default_view_moves_every_optimizer_sensibly(surface):
    """Under the surface's own defaults no optimizer explodes, and every one goes downhill."""
    runs = optviz.compare(surface.name, list(optviz.OPTIMIZERS))
    start_loss = float(surface.fn(jnp.asarray(surface.default_start)))
    for name, t in runs.items():
        if surface.minima:  # bounded below: nothing may diverge
            assert t.diverged_at is None, f"{name} diverged at step {t.diverged_at}"
        else:  # no minimum: leaving the window downhill is the lesson, but not in a burst at the start
            assert t.diverged_at is None or t.diverged_at > 50, f"{name} diverged at step {t.diverged_at}"
        assert t.loss[-1] < start_loss, f"{name} did not go downhill"
        assert all(surface.contains(p) for p in t.xy[:11]), f"{name} left the plot in its first 10 steps"


def test_required_surfaces_are_registered():
    assert {
        "rosenbrock",
        "saddle",
        "beale",
        "himmelblau",
        "quadratic",
        "rastrigin",
        "ackley",
        "six_hump_camel",
        "monkey_saddle",
        "goldstein_price",
        "booth",
        "styblinski_tang",
    } <= set(SURFACES)


def test_unknown_surface_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown surface 'nope'.*rosenbrock.*beale"):
        get_surface("nope")
