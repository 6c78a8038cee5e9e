"""The lab's analysis tabs, schedules and tuning, driven through Streamlit's AppTest."""

import json

import numpy as np
import pytest

import optviz
from optviz.lab import analysis
from optviz.ui.lab_views import SWEEP_LRS
from tests.apptest import paths, race_chart_data, race_charts, tuning, values, whole_page


def _charts(at):
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


@pytest.mark.parametrize(
    "view, traces",
    [
        ("Learning-rate sweep", "scatter"),
        ("Basins of attraction", "heatmap"),
        ("Stability", "scatter"),
        ("Noise fan", "scatter"),
        ("Internals", "scatter"),
    ],
)
def test_each_analysis_tab_renders_its_chart(view, traces, lab_session):
    at = lab_session(view)
    charts = _charts(at)
    assert len(charts) >= 1 and race_charts(at)  # the race (a component), and the tab's chart
    assert any(trace["type"] == traces for trace in charts[0]["data"])


def test_stability_warns_only_about_a_run_that_pays_for_passing_its_bound(page_session):
    """On Beale, gradient descent passes its bound on its first step only, then converges: a note,
    not a warning. On Ackley it ends still above the bound (it oscillates): a warning."""
    at = page_session("lab", {"surface": "beale", "optimizers": "gd", "view": "Stability"})
    assert not at.warning, [w.value for w in at.warning]
    assert any("passed its bound at step 1 (1 step(s) in all)" in note.value for note in at.info)
    at = page_session("lab", {"surface": "ackley", "optimizers": "gd", "view": "Stability"})
    assert any("still above it at the end" in warning.value for warning in at.warning)


def test_a_new_surface_says_which_tuned_hyperparameters_went_back(lab_session):
    at = tuning(lab_session(), "adam")
    at.multiselect(key="optimizers").set_value(["gd", "adam"]).run()
    at.selectbox(key="surface").set_value("himmelblau").run()
    assert not at.toast, "nothing was tuned: nothing to say"
    whole_page(tuning(at, "adam").select_slider(key="hp_adam_lr").set_value(0.3).run())
    at.selectbox(key="surface").set_value("beale").run()
    assert [toast.value for toast in at.toast] == [
        "Adam: hyperparameters back at the values recommended for Beale."
    ], [toast.value for toast in at.toast]
    assert at.session_state["hp_adam_lr"] == optviz.resolve_hyperparams("beale", "adam")["lr"]


def test_only_the_open_tab_computes(lab_session):
    at = lab_session()
    assert len(at.get("plotly_chart")) == 0  # the race and the curves are components; no sweep, no basins
    assert not any("60 learning rates" in m.value for m in at.markdown)


def test_the_sweep_shows_the_current_learning_rates_on_the_curves(lab_session):
    at = tuning(lab_session("Learning-rate sweep"), "adam")
    sweep = _charts(at)[0]
    rings = [t for t in sweep["data"] if t.get("marker", {}).get("symbol") == "circle-open"]
    adam_lr = at.select_slider(key="hp_adam_lr").value
    assert len(rings) == 6 and any(r["x"] == [adam_lr] for r in rings)
    assert len(values(sweep["data"][0]["x"])) == len(SWEEP_LRS) == 60


def test_tuning_sets_each_learning_rate_to_the_sweeps_best_and_says_how(lab_session):
    at = lab_session()
    at.multiselect(key="optimizers").set_value(["gd", "momentum", "adam"]).run()
    assert "lowest f − f* after the budget" in at.button(key="tune").help  # the objective, said
    at.button(key="tune").click().run()
    assert not at.exception
    start, steps = optviz.SURFACES["rosenbrock"].default_start, at.slider(key="steps").value
    sweeps = analysis.lr_sweep("rosenbrock", ["gd", "momentum", "adam"], start, steps, lrs=SWEEP_LRS)
    expected = analysis.tune(sweeps, "rosenbrock")
    said = [toast.value for toast in at.toast]
    assert said == [
        f"Tuned for {steps} steps from this start: "
        + ", ".join(
            f"{label} η = {expected[n].lr:.3g}"
            for n, label in (("gd", "Gradient descent"), ("momentum", "Momentum"), ("adam", "Adam"))
        )
        + "."
    ], said
    tuning(at, "gd", "momentum", "adam")
    for name in ("gd", "momentum", "adam"):
        assert at.select_slider(key=f"hp_{name}_lr").value == pytest.approx(expected[name].lr)
    # The race re-ran with the tuned rates: Adam's path is the tuned one.
    adam = next(p for p in paths(race_chart_data(at)) if p["name"] == "Adam")
    tuned_run = optviz.simulate("rosenbrock", "adam", start=start, steps=steps, lr=expected["adam"].lr)
    np.testing.assert_allclose(values(adam["x"])[-1], tuned_run.xy[-1, 0], rtol=1e-5)


@pytest.mark.parametrize("kind", ["step", "cosine", "warmup"])
def test_a_schedule_changes_the_race_and_is_shown_with_the_update_rules(kind, lab_session):
    at = lab_session("Update rules, step by step")
    before = paths(race_chart_data(at))
    at.selectbox(key="schedule").set_value(kind).run()
    assert not at.exception
    after = paths(race_chart_data(at))
    for b, a in zip(before, after, strict=True):
        assert not np.array_equal(values(b["x"]), values(a["x"]))
    assert any(r"\eta_t" in element.value for element in at.latex)


def test_basin_resolution_and_noise_fan_controls(lab_session):
    at = lab_session("Basins of attraction")
    at.select_slider(key="basin_resolution").set_value(50).run()
    heatmap = next(t for t in _charts(at)[0]["data"] if t["type"] == "heatmap")
    assert len(values(heatmap["x"])) == 50
    at = lab_session("Noise fan")
    at.select_slider(key="fan_batch").set_value(1024).run()  # the full batch: no noise
    assert not at.exception
    assert any("= 0" in m.value and "full batch" in m.value for m in at.markdown)


def test_your_own_formula_runs_in_every_view(lab_session):
    at = lab_session()
    at.selectbox(key="surface").set_value("custom").run()
    at.text_input(key="formula").input("x**2 + 3*y**2 + sin(3*x)").run()
    assert not at.exception and not at.error
    assert any(r"\sin" in element.value for element in at.latex)
    # The formula as the interpreter runs it, one instruction a line, ending in f's register.
    listing = next(t.value for t in at.text if t.value.startswith("r0 = x"))
    assert listing.splitlines()[2:5] == ["r2 = r0 ** 2", "r3 = 3", "r4 = r1 ** 2"]
    assert race_chart_data(at)["race"]["start"] == [-2.4, 2.4]  # the formula surface's default start
    for view in ("Learning-rate sweep", "Basins of attraction", "Stability", "Noise fan", "Internals"):
        at.session_state["view"] = view
        at.run()
        assert not at.exception, (view, at.exception)
        assert len(at.get("plotly_chart")) >= 1 and race_charts(at), view


@pytest.mark.parametrize(
    "text, message",
    [
        ("__import__('os')", "not a known function"),
        ("x.real", "not allowed"),
        ("9**9**9", "too large"),
        ("x +", "ends too early"),
        ("sin(x))", "column"),
        ("log(x)", "not finite"),
        ("x" * 10_000, "too long"),
    ],
)
def test_a_bad_formula_shows_why_and_keeps_the_last_good_one(text, message, lab_session):
    at = lab_session()
    at.selectbox(key="surface").set_value("custom").run()
    at.text_input(key="formula").input("x**2 + y**2").run()
    good = paths(race_chart_data(at))
    at.text_input(key="formula").input(text).run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert any("last formula that worked" in c.value for c in at.caption)
    for before, after in zip(good, paths(race_chart_data(at)), strict=True):
        np.testing.assert_array_equal(values(before["x"]), values(after["x"]))


def test_a_bad_window_shows_why(lab_session):
    at = lab_session()
    at.selectbox(key="surface").set_value("custom").run()
    at.number_input(key="formula_x1").set_value(-5.0).run()  # x to < x from
    assert not at.exception and at.error


def test_a_formula_error_is_shown_as_typed_not_as_markdown(lab_session):
    at = lab_session()
    at.selectbox(key="surface").set_value("custom").run()
    at.text_input(key="formula").input("__import__('os')").run()
    assert r"\_\_import\_\_" in at.error[0].value  # escaped: shown as typed, not in bold
