"""The lab's live race chart (optviz/ui/race_chart) as the page mounts it, driven through AppTest:
the data it is given, and a start it sends back landing in the page's state and link."""

import numpy as np

import optviz
from optviz.lab.config import (
    CHART_SPEEDS,
    DEFAULT_OPTIMIZERS,
    EQUAL_SCALE_MAX_RATIO,
    RaceConfig,
    equal_scale_fits,
    window_ratio,
)
from optviz.lab.race_data import signature
from optviz.ui.lab import CHART_HEIGHT
from surfaces import from_formula
from tests.apptest import paths, race_chart_data, race_charts, send_from_race_chart


def test_the_lab_mounts_the_chart_with_the_race_it_computed(lab_session):
    at = lab_session()
    (chart,) = race_charts(at)
    assert chart.proto.component_name == "optviz.race_chart"
    data = race_chart_data(at)
    assert (data["panels"], data["presenter"], data["answer"]) == (False, False, 0)
    assert data["speed"] == CHART_SPEEDS["normal"] and data["height"] == CHART_HEIGHT
    surface = optviz.SURFACES["rosenbrock"]
    config = RaceConfig.create(surface, DEFAULT_OPTIMIZERS)
    assert data["race"]["signature"] == signature(config.key)
    assert data["race"]["surface"]["bounds"] == [list(b) for b in surface.bounds]
    adam = next(p for p in paths(data) if p["optimizer"] == "adam")
    np.testing.assert_allclose(adam["x"], optviz.simulate("rosenbrock", "adam").xy[:, 0], rtol=1e-6)


def test_a_start_sent_by_the_chart_is_raced_from_and_lands_in_the_link(lab_session):
    at = lab_session()
    send_from_race_chart(at, {"start": {"x": 0.25, "y": -0.5, "seq": 3, "final": False}})
    assert not at.exception, at.exception
    data = race_chart_data(at)
    assert data["answer"] == 3  # the race answers request 3
    assert data["race"]["start"] == [0.25, -0.5]
    assert (at.number_input(key="start_x").value, at.number_input(key="start_y").value) == (0.25, -0.5)
    send_from_race_chart(at, {"start": {"x": 0.5, "y": 1.0, "seq": 4, "final": True}})
    assert race_chart_data(at)["answer"] == 4
    assert (at.session_state["start_x"], at.session_state["start_y"]) == (0.5, 1.0)
    assert (at.query_params["start_x"], at.query_params["start_y"]) == ("0.5", "1")


def test_a_start_picked_on_the_map_is_rounded_to_what_its_controls_show(lab_session):
    """The browser sends float32 positions (-2.700000048); the controls show 3 decimals, and the
    race and the link use the same numbers (issue 16: no `start_x=-2.700000048`)."""
    at = lab_session()
    send_from_race_chart(at, {"start": {"x": -0.700000048, "y": 1.23456789, "seq": 1, "final": True}})
    assert race_chart_data(at)["race"]["start"] == [-0.7, 1.235]
    assert (at.query_params["start_x"], at.query_params["start_y"]) == ("-0.7", "1.235")


def test_a_start_outside_the_map_clamps_and_nonsense_is_ignored(lab_session):
    at = lab_session()
    (_, x1), (y0, _) = optviz.SURFACES["rosenbrock"].bounds
    send_from_race_chart(at, {"start": {"x": 99.0, "y": -99.0, "seq": 1, "final": True}})
    assert race_chart_data(at)["race"]["start"] == [x1, y0]
    send_from_race_chart(at, {"start": {"x": "left", "y": None, "seq": 2}})
    assert not at.exception, at.exception
    assert race_chart_data(at)["race"]["start"] == [x1, y0]


def test_equal_scale_goes_to_the_chart_and_the_link_where_the_window_allows(page_session):
    at = page_session("lab", {"surface": "quadratic"})  # a window 2.5 times wider than tall
    assert race_chart_data(at)["equalScale"] is False
    at.toggle(key="equal_scale").set_value(True).run()
    assert race_chart_data(at)["equalScale"] is True
    assert at.query_params["equal_scale"] == "true"

    # A formula's window, -3 to 27 by -3 to 3, 5 times wider than tall: the toggle is greyed out.
    wide = {"surface": "custom", "formula": "x^2 + y^2", "formula_x1": "27", "equal_scale": "true"}
    at = page_session("lab", wide)
    toggle = at.toggle(key="equal_scale")
    assert toggle.disabled and "5.0 times" in toggle.help
    assert race_chart_data(at)["equalScale"] is False


def test_equal_scale_fits_windows_up_to_the_set_ratio():
    square, wide = optviz.SURFACES["beale"], optviz.SURFACES["quadratic"]
    assert window_ratio(square) == 1 and window_ratio(wide) == 2.5
    assert equal_scale_fits(square) and equal_scale_fits(wide)
    strip = from_formula("x^2 + y^2", ((0.0, EQUAL_SCALE_MAX_RATIO + 0.1), (0.0, 1.0)))
    assert not equal_scale_fits(strip)
    assert not equal_scale_fits(from_formula("x^2 + y^2", ((0.0, 1.0), (0.0, 5.0))))
