"""Colour is never the only cue (issue 16): every pair of optimizer colours stays distinguishable for
a typical, a red-blind and a green-blind eye (CIEDE2000 differences of the colours as each eye sees
them), and every optimizer has a marker of its own that the canvas charts draw."""

import re
from itertools import combinations
from pathlib import Path

import pytest

from optviz.lab.race_data import path_data
from optviz.optimizers import OPTIMIZERS
from optviz.simulate import simulate
from surfaces import SURFACES
from tests.colour_vision import ciede2000, lab, rgb, seen_by

MIN_DIFFERENCE = 10  # ΔE00: about 1 is just noticeable side by side; 10 reads as another colour


@pytest.mark.parametrize(
    "lab1, lab2, expected",  # Sharma, Wu & Dalal (2005), Table 1: pairs 1, 4, 17 and 34
    [
        ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
        ((50, -1.3802, -84.2814), (50, 0, -82.7485), 1.0),
        ((50, 2.5, 0), (73, 25, -18), 27.1492),
        ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
    ],
)
def test_ciede2000_matches_the_published_test_data(lab1, lab2, expected):
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("vision", ["normal", "protanopia", "deuteranopia"])
def test_every_pair_of_optimizer_colours_is_distinguishable(vision):
    seen = {name: lab(seen_by(rgb(spec.colour), vision)) for name, spec in OPTIMIZERS.items()}
    differences = {(a, b): ciede2000(seen[a], seen[b]) for a, b in combinations(seen, 2)}
    closest = min(differences, key=differences.get)
    assert differences[closest] >= MIN_DIFFERENCE, f"{vision}: {closest} differ by {differences[closest]:.1f}"


def test_every_optimizer_has_its_own_marker_which_the_race_chart_is_sent_and_can_draw():
    markers = [spec.marker for spec in OPTIMIZERS.values()]
    assert len(set(markers)) == len(markers)
    kit = (Path(__file__).parents[1] / "optviz" / "ui" / "canvas_kit.js").read_text()
    drawn = set(re.findall(r'"?([a-z-]+)"?: \[\d, -?\d+\]', kit)) | {"circle"}  # MARKER_POLYGONS, and the arc
    assert set(markers) <= drawn, set(markers) - drawn
    sent = path_data(SURFACES["beale"], simulate("beale", "adam", steps=5))
    assert sent["marker"] == OPTIMIZERS["adam"].marker
