"""The optimizer lab page, driven through Streamlit's AppTest (no browser)."""

import numpy as np
import pytest

import optviz
from optviz import engine
from optviz.lab.config import DEFAULT_OPTIMIZERS
from tests.apptest import paths, race_chart_data, race_charts, race_curves, tuning, values, whole_page


def test_the_lab_opens_with_the_default_race(lab_session):
    at = lab_session()
    data = race_chart_data(at)
    assert len(paths(data)) == len(DEFAULT_OPTIMIZERS)
    assert data["race"]["steps"] == optviz.SURFACES["rosenbrock"].default_steps
    assert all(len(p["x"]) == data["race"]["steps"] + 1 for p in paths(data))
    assert any(optviz.SURFACES["rosenbrock"].formula in element.value for element in at.latex)
    assert len(race_charts(at)) == 1 and len(race_curves(at)) == 1  # the race and the loss curves
    assert len(at.get("plotly_chart")) == 0  # no Plotly chart on the lab's first view


@pytest.mark.parametrize("surface", list(optviz.SURFACES))
def test_every_surface_runs(surface, lab_session):
    at = lab_session()
    at.selectbox(key="surface").set_value(surface).run()
    assert not at.exception, at.exception
    race = race_chart_data(at)["race"]
    assert race["steps"] == optviz.SURFACES[surface].default_steps
    assert tuple(race["start"]) == optviz.SURFACES[surface].default_start


@pytest.mark.parametrize("optimizer", list(optviz.OPTIMIZERS))
def test_every_optimizer_runs_alone_with_its_rule_shown(optimizer, lab_session):
    at = lab_session("Update rules, step by step")
    at.multiselect(key="optimizers").set_value([optimizer]).run()
    assert not at.exception, at.exception
    assert [p["name"] for p in paths(race_chart_data(at))] == [optviz.OPTIMIZERS[optimizer].label]
    assert any(optviz.OPTIMIZERS[optimizer].latex in element.value for element in at.latex)


def test_moving_a_learning_rate_slider_changes_that_path_only(lab_session):
    at = tuning(lab_session(), "adam")
    before = paths(race_chart_data(at))
    at.select_slider(key="hp_adam_lr").set_value(0.1).run()
    after = paths(race_chart_data(at))
    changed = [
        b["name"]
        for b, a in zip(before, after, strict=True)
        if not np.array_equal(values(b["x"]), values(a["x"]))
    ]
    assert changed == ["Adam"]


def test_a_closed_expanders_sliders_are_not_drawn_but_keep_their_values(lab_session):
    at = lab_session()
    assert not [s for s in at.select_slider if s.key.startswith("hp_")]  # every expander starts closed
    tuning(at, "adam").select_slider(key="hp_adam_lr").set_value(0.3).run()
    race = race_chart_data(at)["race"]["signature"]
    at.session_state["tune_adam"] = False
    at.run().run()  # closed, and run again: the value is not cleaned up with its slider
    assert not [s for s in at.select_slider if s.key.startswith("hp_")]
    assert at.session_state["hp_adam_lr"] == 0.3 and at.query_params["hp_adam_lr"] == "0.3"
    assert race_chart_data(at)["race"]["signature"] == race


def test_a_diverging_run_shows_a_message_not_an_error(lab_session):
    at = tuning(lab_session(), "gd")
    at.select_slider(key="hp_gd_lr").set_value(0.01).run()
    assert not at.exception
    messages = [w.value for w in at.warning]
    assert any(
        "Gradient descent" in m and "diverged at step 4" in m and "learning rate too large" in m
        for m in messages
    )


def test_changing_the_surface_brings_its_defaults(lab_session):
    at = tuning(lab_session(), "adam", "momentum")
    whole_page(at.select_slider(key="hp_adam_lr").set_value(0.3).run())
    at.selectbox(key="surface").set_value("quadratic").run()
    surface = optviz.SURFACES["quadratic"]
    assert (
        at.select_slider(key="hp_adam_lr").value == optviz.OPTIMIZERS["adam"].recommended[surface.name]["lr"]
    )
    assert at.select_slider(key="hp_momentum_beta").value == 0.4
    assert (
        at.number_input(key="start_x").value,
        at.number_input(key="start_y").value,
    ) == surface.default_start
    assert at.slider(key="steps").value == surface.default_steps


def test_reset_button_restores_the_recommended_values(lab_session):
    at = tuning(lab_session(), "gd")
    whole_page(at.select_slider(key="hp_gd_lr").set_value(0.1).run())
    next(b for b in at.button if "Reset" in b.label).click().run()
    assert at.select_slider(key="hp_gd_lr").value == optviz.OPTIMIZERS["gd"].recommended["rosenbrock"]["lr"]


def test_side_by_side_gives_each_optimizer_its_own_panel(lab_session):
    at = lab_session()
    at.multiselect(key="optimizers").set_value(["gd", "momentum", "adam"]).run()
    at.segmented_control(key="layout").set_value("Side by side").run()
    data = race_chart_data(at)
    assert data["panels"] is True  # the chart draws a panel per path, on shared axes
    assert [p["optimizer"] for p in paths(data)] == ["gd", "momentum", "adam"]


def test_noise_start_steps_and_3d_view(lab_session):
    at = lab_session()
    whole_page(at.number_input(key="start_x").set_value(0.5).run())
    whole_page(at.slider(key="steps").set_value(100).run())
    whole_page(at.select_slider(key="noise").set_value(1.0).run())
    at.toggle(key="show_3d").set_value(True).run()
    assert not at.exception
    data = race_chart_data(at)
    assert data["race"]["steps"] == 100
    gd = next(p for p in paths(data) if p["name"] == "Gradient descent")
    assert len(gd["x"]) == 101 and values(gd["x"])[0] == 0.5
    assert len(at.get("plotly_chart")) == 1  # the 3D view (the loss curves are a component)


def test_the_update_rules_tab_shows_the_numbers_of_the_inspected_step(lab_session):
    at = lab_session("Update rules, step by step")
    at.slider(key="inspect_step").set_value(3).run()
    blocks = [element.value for element in at.latex if r"\begin{aligned}" in element.value]
    assert len(blocks) == len(DEFAULT_OPTIMIZERS)
    t = optviz.simulate("rosenbrock", "gd")
    assert rf"g_t &= ({t.grad[2][0]:.4g},\ {t.grad[2][1]:.4g})" in blocks[0]


def test_hyperparameters_start_and_noise_never_recompile(lab_session):
    at = tuning(lab_session(), "adam", "momentum")
    compiled = engine._run_compiled._cache_size()
    whole_page(at.select_slider(key="hp_adam_lr").set_value(0.2).run())
    whole_page(at.select_slider(key="hp_momentum_beta").set_value(0.5).run())
    whole_page(at.number_input(key="start_y").set_value(1.0).run())
    whole_page(at.select_slider(key="noise").set_value(0.2).run())
    at.multiselect(key="optimizers").set_value(["adam", "nesterov"]).run()
    assert not at.exception
    assert engine._run_compiled._cache_size() == compiled


def test_no_optimizer_selected_asks_for_one_instead_of_failing(lab_session):
    at = lab_session()
    at.multiselect(key="optimizers").set_value([]).run()
    assert not at.exception
    assert any("Choose at least one optimizer" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) == 0 and len(race_charts(at)) == 0 and len(race_curves(at)) == 0
