"""Colour is never the only cue (issue 16): every pair of optimizer colours stays distinguishable for
a typical, a red-blind and a green-blind eye (CIEDE2000 differences of the colours as each eye sees
them), every trail stands out from the map's contour bands (WCAG's 3:1 for lines), and every optimizer
has a marker of its own that the canvas charts draw."""

import re
from itertools import combinations
from pathlib import Path

import pytest

from optviz.lab.figures import SURFACE_COLOURSCALE, TRAIL_CASING
from optviz.lab.race_data import path_data
from optviz.optimizers import OPTIMIZERS
from optviz.simulate import simulate
from surfaces import SURFACES
from tests.colour_vision import ciede2000, contrast, lab, rgb, seen_by

MIN_DIFFERENCE = 10  # ΔE00: about 1 is just noticeable side by side; 10 reads as another colour
LINE_CONTRAST = 3.0  # WCAG 2.1, 1.4.11: graphical objects against what is next to them


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


def test_contrast_ratio_matches_wcag_examples():
    assert contrast(rgb("#000000"), rgb("#ffffff")) == pytest.approx(21)
    assert contrast(rgb("#767676"), rgb("#ffffff")) == pytest.approx(4.54, abs=0.01)  # the AA grey


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_trail_stands_out_from_every_contour_band(name):
    """The race chart draws a trail in its colour over a casing (optviz/lab/figures.py), so what meets
    a band is the casing where the colour alone is too light; the bands run between the colour
    scale's stops, so its stops are the extremes of their luminance."""
    chart_js = Path(__file__).parents[1] / "optviz" / "ui" / "race_chart" / "race_chart.js"
    assert "strokeStyle = this.surface.casing" in chart_js.read_text(), "the race chart draws no casing"
    colour, casing = rgb(OPTIMIZERS[name].colour), rgb(TRAIL_CASING)
    bands = [rgb(stop) for _, stop in SURFACE_COLOURSCALE]
    against_bands = min(contrast(colour, band) for band in bands)
    casing_against_bands = min(contrast(casing, band) for band in bands)
    assert casing_against_bands >= LINE_CONTRAST
    against_casing = contrast(colour, casing)
    assert against_bands >= LINE_CONTRAST or against_casing >= LINE_CONTRAST, (
        f"{name}: {against_bands:.2f}:1 against the bands, {against_casing:.2f}:1 against the casing"
    )
