"""The lab's controls that change only the race rerun the page's fragments (the chart, the open tab,
the files and the 3D surface when shown), not the page (optviz/ui/lab.py, `_race_changed`). A
slider of a hyperparameter, the steps or the noise runs nothing itself: the race chart races it in
the browser and sends the values once they rest (`move_race_slider`), and that run reruns the
fragments.

AppTest's tree after such a rerun holds only what the fragments sent, as a browser receives it: no
sidebar (the browser keeps the one it has), the chart with the new paths and no map (it has one).
"""

from __future__ import annotations

import numpy as np
import pytest

import optviz
from optviz.lab.config import DEFAULT_OPTIMIZERS, RaceConfig
from optviz.lab.race_data import signature
from optviz.ui import lab
from tests.apptest import (
    move_race_slider,
    paths,
    race_chart_data,
    race_charts,
    race_curves,
    race_curves_data,
    tuning,
    values,
    whole_page,
    with_files,
)


def _sidebar_keys(at) -> set[str]:
    return {widget.key for widget in at.sidebar.get("select_slider")} | {
        widget.key for widget in at.sidebar.get("selectbox")
    }


def _linked_adam(lr: float) -> str:
    return signature(
        RaceConfig.create("rosenbrock", DEFAULT_OPTIMIZERS, hyperparams={"adam": {"lr": lr}}).key
    )


def test_a_learning_rate_change_redraws_the_race_and_its_curves_without_the_page(lab_session):
    at = tuning(lab_session(), "adam")
    assert race_chart_data(at)["race"]["surface"] is not None  # the page's run sends the map
    assert "surface" in _sidebar_keys(at)

    move_race_slider(at, "hp_adam_lr", 0.3)
    assert not at.exception, at.exception
    assert not _sidebar_keys(at), "the sidebar was sent again: the page reran"
    assert race_chart_data(at)["answer"] == 1  # the race answers the chart's request
    race = race_chart_data(at)["race"]
    assert race["surface"] is None, "the map went again with a change of the paths"
    assert race["signature"] == _linked_adam(0.3)
    adam = next(p for p in paths(race_chart_data(at)) if p["name"] == "Adam")
    expected = optviz.simulate("rosenbrock", "adam", lr=0.3)
    np.testing.assert_allclose(values(adam["x"])[-1], expected.xy[-1, 0], rtol=1e-5)
    assert race_curves_data(at)["curves"]["signature"] == race["signature"]  # the open tab followed
    assert at.query_params["hp_adam_lr"] == "0.3"  # and the link


def test_sliders_at_rest_are_not_sent_again_the_race_the_chart_shows(lab_session):
    """The chart raced the sliders through the route and shows that race: it sends the race's
    signature with the values (`drawn`), and the run at rest sends no race (None: the chart keeps
    the one it shows), while the tabs and the link follow. A chart showing another race (the
    route's answer still on its way) is sent the page's."""
    at = tuning(lab_session(), "adam")
    move_race_slider(at, "hp_adam_lr", 0.3, drawn=_linked_adam(0.3))
    assert not at.exception, at.exception
    assert race_chart_data(at)["race"] is None and race_chart_data(at)["answer"] == 1
    assert race_curves_data(at)["curves"]["signature"] == _linked_adam(0.3)
    assert at.query_params["hp_adam_lr"] == "0.3"
    move_race_slider(whole_page(at), "hp_adam_lr", 0.2, seq=2, drawn=_linked_adam(0.3))
    assert race_chart_data(at)["race"]["signature"] == _linked_adam(0.2)


@pytest.mark.parametrize(
    ("kind", "key", "value"),
    [
        ("raced", "steps", 120),
        ("raced", "noise", 0.5),
        ("number_input", "seed", 7),
        ("number_input", "start_x", 0.5),
        ("segmented_control", "layout", "Side by side"),
        ("select_slider", "speed", "fast"),
    ],
)
def test_every_race_control_reruns_the_fragments_only(lab_session, kind, key, value):
    at = lab_session()
    before = race_chart_data(at)
    if kind == "raced":  # a slider the chart races: the values come once it rests
        move_race_slider(at, key, value)
    else:
        getattr(at, kind)(key=key).set_value(value).run()
    assert not at.exception, at.exception
    assert not _sidebar_keys(at), f"{key}: the page reran"
    after = race_chart_data(at)
    assert after["race"]["surface"] is None
    assert (after["race"]["signature"], after["speed"], after["panels"]) != (
        before["race"]["signature"],
        before["speed"],
        before["panels"],
    ), f"{key}: the chart was not given the change"
    assert len(race_curves(at)) == 1
    assert at.query_params[key] == str(value)


def test_the_sidebars_hyperparameter_sliders_run_nothing_while_the_chart_races_them(lab_session):
    """With the race chart on the page, a hyperparameter's slider is made with on_change="ignore"
    (the chart races its moves); a slide of a tab alone (no chart) reruns the view on each move."""
    at = tuning(lab_session(), "adam")
    for slider in (at.select_slider(key="hp_adam_lr"), at.slider(key="steps"), at.select_slider(key="noise")):
        assert slider.proto.ignore_rerun, slider.key
    assert not at.select_slider(key="speed").proto.ignore_rerun  # the chart's look reruns the fragments
    alone = lab_session("Results")
    alone.session_state["lab_view_alone"] = True  # an embedded link naming a view (a slide of the tab)
    alone = tuning(alone, "adam")
    assert not race_charts(alone)
    slider = alone.select_slider(key="hp_adam_lr")
    assert not slider.proto.ignore_rerun and not alone.slider(key="steps").proto.ignore_rerun
    slider.set_value(1.0).run()
    assert not alone.exception and not _sidebar_keys(alone), "the page reran"
    table = alone.dataframe[0].value
    expected = optviz.simulate("rosenbrock", "adam", lr=1.0)
    adam = table[table["optimizer"] == "Adam"].iloc[0]
    assert adam["final loss"] == pytest.approx(float(expected.loss[-1]), rel=1e-5)


def test_a_chart_without_a_map_is_sent_one(lab_session):
    """The chart asks (`map_wanted`) when it was given paths alone and has no map: the next run of
    its fragment sends the map with the paths, once."""
    at = tuning(lab_session(), "adam")
    move_race_slider(at, "hp_adam_lr", 0.3)
    assert race_chart_data(at)["race"]["surface"] is None
    whole_page(at).session_state["race_map_wanted"] = True  # what the chart's `map_wanted` callback sets
    move_race_slider(at, "hp_adam_lr", 0.2, seq=2)
    assert race_chart_data(at)["race"]["surface"]["id"].startswith("rosenbrock:")
    move_race_slider(whole_page(at), "hp_adam_lr", 0.1, seq=3)
    assert race_chart_data(at)["race"]["surface"] is None  # asked once, sent once


def test_the_files_and_the_3d_surface_follow_a_change_when_shown(lab_session):
    at = lab_session()
    assert not at.get("download_button"), "the files are folded away: not drawn"
    at.toggle(key="show_3d").set_value(True).run()
    at = with_files(at)
    assert any(b.proto.label == ":material/download: HTML animation" for b in at.get("download_button"))
    move_race_slider(at, "steps", 100)
    assert not at.exception and not _sidebar_keys(at)
    assert any(b.proto.label == ":material/download: HTML animation" for b in at.get("download_button"))
    (surface3d,) = at.get("plotly_chart")
    assert '"x"' in surface3d.proto.spec  # the 3D figure was drawn again, with the new paths


def test_the_open_tab_follows_a_change(lab_session):
    at = tuning(lab_session("Results"), "adam")
    move_race_slider(at, "hp_adam_lr", 1.0)
    assert not at.exception and not _sidebar_keys(at)
    table = at.dataframe[0].value
    adam = table[table["optimizer"] == "Adam"].iloc[0]
    expected = optviz.simulate("rosenbrock", "adam", lr=1.0)
    assert adam["final loss"] == pytest.approx(float(expected.loss[-1]), rel=1e-5)


def test_a_race_control_in_a_session_missing_another_control_reruns_the_page(lab_session, monkeypatch):
    """A client that sends only the values it changed (a browser sends them all) leaves the session
    without the other controls' values, so the callback cannot read the race: the change then
    reruns the page, which makes them again."""
    at = tuning(lab_session(), "adam")
    read, calls = lab._read_race_settings, []

    def first_read_fails(surface):
        calls.append(surface.name)
        if len(calls) == 1:  # the callback's: as if "schedule" had not come back
            raise AttributeError('st.session_state has no attribute "schedule"')
        return read(surface)

    monkeypatch.setattr(lab, "_read_race_settings", first_read_fails)
    at.number_input(key="seed").set_value(7).run()
    assert not at.exception, at.exception
    assert len(calls) == 2, "the page's run read the race again"
    assert "surface" in _sidebar_keys(at), "the page reran"
    expected = RaceConfig.create("rosenbrock", DEFAULT_OPTIMIZERS, seed=7)
    assert race_chart_data(at)["race"]["signature"] == signature(expected.key)


def test_fragment_reruns_in_a_row_keep_the_link_current(page_session):
    """Each fragment rerun writes the link from the URL as it is then: a value set back to its
    default leaves the link once, and the next rerun does not try to remove it again."""
    at = tuning(page_session("lab", {"hp_adam_lr": "0.3", "view": "Results"}), "adam")
    default = optviz.OPTIMIZERS["adam"].recommended["rosenbrock"]["lr"]
    move_race_slider(at, "hp_adam_lr", default)  # the race's fragments rerun
    assert not at.exception, at.exception
    assert "hp_adam_lr" not in at.query_params
    at.select_slider(key="tolerance").set_value(1e-2).run()  # the tab's own control: its fragment alone
    assert not at.exception, at.exception
    assert "hp_adam_lr" not in at.query_params and at.query_params["tolerance"] == "0.01"
