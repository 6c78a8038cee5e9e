"""The lab's figure builders: the surface in 3D (the race is the live chart's, tests/test_race_data.py)."""

import numpy as np

from optviz.lab import figures, race
from optviz.lab.config import RaceConfig
from surfaces import SURFACES


def test_3d_view_has_the_surface_and_a_path_per_optimizer():
    surface = SURFACES["goldstein_price"]
    grid = race.surface_grid(surface, 41)
    colour = race.colouring(surface, grid)
    trajectories = race.race(RaceConfig.create(surface, ["gd", "momentum"], surface.default_start, 100))
    fig = figures.surface3d_figure(surface, grid, colour, trajectories)
    assert [t.type for t in fig.data] == ["surface", "scatter3d", "scatter3d"]
    heights = np.asarray(fig.data[1].z) - colour(trajectories["gd"].loss)
    assert np.ptp(heights) < 1e-9 and 0 < heights[0] < 0.05 * np.ptp(colour(grid.z)), (
        "on the surface, just above"
    )
