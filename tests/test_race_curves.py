"""The lab's "Loss and distance" tab as the page mounts it, driven through AppTest: the curves
component (optviz/ui/race_curves) gets the packed curves of the race the page computed, in the
page's style, and no Plotly chart is made for them."""

import numpy as np

import optviz
from optviz.lab.config import DEFAULT_OPTIMIZERS, RaceConfig
from optviz.lab.curves_data import unpack_curve
from optviz.lab.race_data import signature
from optviz.ui.lab import CURVES_HEIGHT, PRESENTER_CURVES_HEIGHT
from tests.apptest import race_chart_data, race_charts, race_curves, race_curves_data, whole_page


def test_the_default_tab_mounts_the_curves_of_the_race_drawn(lab_session):
    at = lab_session()
    data = race_curves_data(at)
    assert (data["presenter"], data["height"]) == (False, CURVES_HEIGHT)
    curves = data["curves"]
    config = RaceConfig.create(optviz.SURFACES["rosenbrock"], DEFAULT_OPTIMIZERS)
    assert curves["signature"] == signature(config.key) == race_chart_data(at)["race"]["signature"]
    assert [c["name"] for c in curves["curves"]] == list(DEFAULT_OPTIMIZERS)
    colours = [optviz.OPTIMIZERS[n].colour for n in DEFAULT_OPTIMIZERS]
    assert [c["colour"] for c in curves["curves"]] == colours
    adam = optviz.simulate("rosenbrock", "adam")
    gap = unpack_curve(curves, DEFAULT_OPTIMIZERS.index("adam"), 0)
    np.testing.assert_allclose(gap, adam.loss, rtol=1e-4)  # Rosenbrock's f* is 0
    assert not at.get("plotly_chart")


def test_the_curves_follow_a_new_setting_and_presenter_mode(lab_session):
    at = lab_session()
    at.multiselect(key="optimizers").set_value(["gd", "adam"]).run()
    at.slider(key="steps").set_value(100).run()
    assert not at.exception, at.exception
    curves = race_curves_data(at)["curves"]
    assert [c["name"] for c in curves["curves"]] == ["gd", "adam"] and curves["steps"] == 100
    assert curves["signature"] == race_chart_data(at)["race"]["signature"]
    whole_page(at).toggle(key="presenter").set_value(True).run()
    data = race_curves_data(at)
    assert (data["presenter"], data["height"]) == (True, PRESENTER_CURVES_HEIGHT)


def test_another_tab_open_mounts_no_curves(lab_session):
    at = lab_session("Results")
    assert not race_curves(at) and race_charts(at)
