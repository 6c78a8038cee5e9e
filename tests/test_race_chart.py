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
from optviz.lab.race_requests import REQUESTS as RACE_REQUESTS
from optviz.optimizers import HYPERPARAMETERS
from optviz.ui import lab
from optviz.ui.lab import CHART_HEIGHT
from optviz.ui.widgets import slider_stops
from surfaces import from_formula
from tests.apptest import (
    move_race_slider,
    paths,
    race_chart_data,
    race_charts,
    send_from_race_chart,
    tuning,
    whole_page,
)


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


# --- the chart's own sliders -----------------------------------------------------------------------


def _chart_sliders(data) -> dict[str, dict]:
    return {s["key"]: s for t in data["tuning"] for s in t["sliders"]}


def test_the_chart_offers_each_racing_optimizer_its_step_size_and_decays(lab_session):
    at = tuning(lab_session(), "adam")
    data = race_chart_data(at)
    labels = [t["label"] for t in data["tuning"]]
    assert labels == [optviz.OPTIMIZERS[name].label for name in DEFAULT_OPTIMIZERS]
    sliders = _chart_sliders(data)
    # It knows every slider of the sidebar (it races their moves: their stops read a position)...
    sidebar = {s.key for s in at.sidebar.get("select_slider") if s.key.startswith("hp_adam_")}
    assert {k for k in sliders if k.startswith("hp_adam_")} == sidebar
    for key in sidebar:  # position i of the sidebar's slider is stop i of the chart's
        shown = [f"{stop:.4g}" for stop in sliders[key]["stops"]]
        assert shown == list(at.select_slider(key=key).proto.options), key
    # ... and offers the step size and decays in its own row.
    row = {k for k, s in sliders.items() if k.startswith("hp_adam_") and s["row"]}
    assert row == {"hp_adam_lr", "hp_adam_b1", "hp_adam_b2"}
    adam_lr = sliders["hp_adam_lr"]
    recommended = optviz.resolve_hyperparams("rosenbrock", "adam")["lr"]
    assert adam_lr["symbol"] == "η" and adam_lr["value"] == recommended
    assert adam_lr["stops"] == slider_stops("lr", recommended)  # the sidebar's stops

    # ... and the race-wide sliders it races too: the steps (numeric: a position is the value) and the
    # noise (a position is the index of a stop).
    steps, noise = data["raceSliders"]
    assert steps == {"key": "steps", "value": 500, "numeric": True}
    assert noise["key"] == "noise" and noise["value"] == 0.0
    assert [str(stop) for stop in noise["stops"]] == list(at.select_slider(key="noise").proto.options)

    # A change that reruns the race's fragments sends the values, not the stops (kept by the chart).
    move_race_slider(at, "hp_adam_lr", 0.3)
    sliders = _chart_sliders(race_chart_data(at))
    assert sliders["hp_adam_lr"]["value"] == 0.3 and "stops" not in sliders["hp_adam_lr"]


def test_values_the_chart_settled_on_become_the_sidebars_and_the_links(lab_session):
    at = lab_session()
    send_from_race_chart(at, {"tuned": {"values": {"hp_adam_lr": 0.003, "hp_momentum_beta": 0.5}, "seq": 5}})
    assert not at.exception, at.exception
    assert (at.session_state["hp_adam_lr"], at.session_state["hp_momentum_beta"]) == (0.003, 0.5)
    data = race_chart_data(at)
    assert data["answer"] == 5  # the race answers the chart's request 5
    expected = RaceConfig.create(
        "rosenbrock", DEFAULT_OPTIMIZERS, hyperparams={"adam": {"lr": 0.003}, "momentum": {"beta": 0.5}}
    )
    assert data["race"]["signature"] == signature(expected.key)
    assert (at.query_params["hp_adam_lr"], at.query_params["hp_momentum_beta"]) == ("0.003", "0.5")
    # Its box closed, the sidebar was not sent again (the fragments reran); open, it shows the value.
    at = tuning(lab_session(), "adam")
    send_from_race_chart(at, {"tuned": {"values": {"hp_adam_lr": 0.007}, "seq": 2}})
    assert at.select_slider(key="hp_adam_lr").value == 0.007
    assert at.query_params["hp_adam_lr"] == "0.007"


def test_the_run_at_rest_takes_the_race_the_route_answered(lab_session, monkeypatch):
    """The chart raced its sliders through the route; the page's run once they rest draws that race
    rather than computing it again (`RaceRequests.raced`)."""
    at = lab_session()
    data = race_chart_data(at)
    RACE_REQUESTS.answer(data["token"], *data["race"]["start"], {"hp_adam_lr": 0.0015})

    def no_race(config):
        raise AssertionError("the page raced the settings again")

    monkeypatch.setattr(lab, "race", no_race)
    send_from_race_chart(at, {"tuned": {"values": {"hp_adam_lr": 0.0015}, "seq": 3}})
    assert not at.exception, at.exception
    expected = RaceConfig.create("rosenbrock", DEFAULT_OPTIMIZERS, hyperparams={"adam": {"lr": 0.0015}})
    assert race_chart_data(at)["race"]["signature"] == signature(expected.key)


def test_the_page_setting_the_sliders_itself_starts_a_new_epoch(lab_session):
    """A reset, the tuner and a new surface set the sliders the chart races: the chart is told (a
    new `epoch`) to forget values it has not sent, which would undo them; other changes are not."""
    at = lab_session()
    first = race_chart_data(at)["epoch"]
    move_race_slider(at, "steps", 100)
    whole_page(at).number_input(key="seed").set_value(3).run()
    assert race_chart_data(at)["epoch"] == first
    whole_page(at)
    for step, more in (
        (lambda: at.button(key="reset").click().run(), 1),
        (lambda: at.button(key="tune").click().run(), 2),
        (lambda: at.selectbox(key="surface").set_value("beale").run(), 3),
    ):
        step()
        assert not at.exception, at.exception
        assert race_chart_data(at)["epoch"] == first + more


def test_settled_values_out_of_range_clamp_and_nonsense_is_ignored(lab_session):
    at = lab_session()
    send_from_race_chart(at, {"tuned": {"values": {"hp_adam_lr": 1e9}, "seq": 1}})
    assert at.session_state["hp_adam_lr"] == HYPERPARAMETERS["lr"].high
    for nonsense in (
        {"values": {"hp_adam_lr": "fast"}, "seq": 2},
        {"values": {"hp_bogus_lr": 0.1}, "seq": 3},
        {"values": {"hp_adam_lr": float("nan")}, "seq": 4},
        {"values": "hp_adam_lr=0.1", "seq": 5},
        {"seq": 6},
    ):
        send_from_race_chart(at, {"tuned": nonsense})
        assert not at.exception, (nonsense, at.exception)
        assert at.session_state["hp_adam_lr"] == HYPERPARAMETERS["lr"].high, nonsense
