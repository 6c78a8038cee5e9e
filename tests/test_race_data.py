"""The race chart's data (optviz/lab/race_data.py): packed arrays that decode to the trajectories,
the map to within one quantum, and a path update within its size budget."""

import json

import numpy as np
import pytest

import optviz
from optviz.lab.config import DEFAULT_OPTIMIZERS, RaceConfig
from optviz.lab.race import colouring, race, surface_grid
from optviz.lab.race_data import QUANTUM, race_data, signature, unpack_path, unpack_surface

PATH_UPDATE_BUDGET = 100_000  # bytes of JSON per path update, 6 optimizers x 500 steps (issue 15)


def _packed(surface_name, steps=None, **hyperparams):
    surface = optviz.SURFACES[surface_name]
    config = RaceConfig.create(surface, DEFAULT_OPTIMIZERS, steps=steps, hyperparams=hyperparams)
    grid = surface_grid(surface)
    trajectories = race(config)
    return race_data(surface, grid, colouring(surface, grid), trajectories, settings=signature(config.key)), (
        trajectories,
        grid,
        colouring(surface, grid),
    )


@pytest.mark.parametrize("surface", list(optviz.SURFACES))
def test_paths_decode_to_the_trajectories_in_float32(surface):
    data, (trajectories, _, _) = _packed(surface)
    assert [p["name"] for p in data["paths"]] == list(trajectories)
    for packed, t in zip(data["paths"], trajectories.values(), strict=True):
        xy = unpack_path(packed)
        assert xy.shape == t.xy.shape
        if t.diverged_at is None:
            np.testing.assert_allclose(xy, t.xy, rtol=1e-6, atol=1e-6)
        assert packed["colour"] == optviz.OPTIMIZERS[t.optimizer].colour
        assert packed["diverged_at"] == t.diverged_at
    assert data["start"] == list(next(iter(trajectories.values())).xy[0])


@pytest.mark.parametrize("surface", list(optviz.SURFACES))
def test_the_map_decodes_to_its_colour_values_within_one_quantum(surface):
    data, (_, grid, colour) = _packed(surface)
    values = colour(grid.z)
    map_ = data["surface"]
    np.testing.assert_allclose(unpack_surface(map_), values, atol=(map_["zmax"] - map_["zmin"]) / QUANTUM)
    assert map_["levels"]["start"] <= values.min() and map_["levels"]["size"] > 0
    assert len(map_["minima"]) == len(optviz.SURFACES[surface].minima)


def test_a_diverged_path_stays_finite_in_float32_and_says_where_it_left():
    data, (trajectories, _, _) = _packed("rosenbrock", gd={"lr": 0.01})
    gd = next(p for p in data["paths"] if p["name"] == "gd")
    assert gd["diverged_at"] == trajectories["gd"].diverged_at is not None
    assert np.isfinite(unpack_path(gd)).all()


def test_a_path_update_of_six_optimizers_and_500_steps_is_within_budget():
    data, _ = _packed("rosenbrock", steps=500)
    size = len(json.dumps(data))
    print(f"race data, 6 x 500 steps: {size / 1000:.1f} KB (budget {PATH_UPDATE_BUDGET / 1000:.0f} KB)")
    assert size <= PATH_UPDATE_BUDGET


def test_the_signature_tells_settings_apart():
    a = RaceConfig.create("rosenbrock", DEFAULT_OPTIMIZERS)
    b = RaceConfig.create("rosenbrock", DEFAULT_OPTIMIZERS, hyperparams={"adam": {"lr": 0.2}})
    assert signature(a.key) == signature(RaceConfig.create("rosenbrock", DEFAULT_OPTIMIZERS).key)
    assert signature(a.key) != signature(b.key)
