"""The lab's figure builders: the surface in 3D (the race is the live chart's, tests/test_race_data.py) and
the analysis tabs' (optviz.lab.analysis_figures)."""

import numpy as np
import pytest

from optviz.lab import analysis_figures, figures, race
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


def test_the_internals_note_is_in_the_middle_of_the_right_panel_where_the_browser_draws_it():
    """Gradient descent has one learning rate: no trace in the right panel, so plotly.js makes no axes
    there, and a note referred to them ("x2 domain") falls back to the map's axes. The note is placed
    on the page instead; no annotation may refer to axes that no trace uses."""
    surface = SURFACES["rosenbrock"]
    grid = race.surface_grid(surface, 41)
    colour = race.colouring(surface, grid)
    trajectory = race.race(RaceConfig.create(surface, ["gd"], surface.default_start, 50))["gd"]
    fig = analysis_figures.internals_figure(surface, grid, colour, trajectory, 10, None)
    (note,) = [a for a in fig.layout.annotations if "no per-coordinate" in (a.text or "")]
    assert (note.xref, note.yref) == ("paper", "paper")
    assert note.x == pytest.approx(np.mean(fig.layout.xaxis2.domain))
    assert note.y == pytest.approx(np.mean(fig.layout.yaxis2.domain))
    assert (note.xanchor, note.yanchor) == ("center", "middle")  # "auto" anchors it by its side
    used = {trace.xaxis for trace in fig.data} | {trace.yaxis for trace in fig.data}
    for annotation in fig.layout.annotations:
        for ref in (annotation.xref, annotation.yref):
            assert ref == "paper" or ref.split()[0] in used, (annotation.text, ref)
