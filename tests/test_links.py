"""Links: every page's controls round-trip through the URL, and tampered links open safely.

A page is opened in AppTest with some controls changed; the query parameters it writes are then
opened in a new session, which must show the same state. Tampered links (unknown names, text where
numbers go, out-of-range or NaN numbers, repeated keys) open with safe values and a warning that
names what was ignored, never an exception.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.apptest import link_notes, race_chart_data, race_charts, shown, tuning, whole_page

# --- round trips -------------------------------------------------------------------------------------


def test_lab_round_trip(page_session):
    at = page_session("lab")
    at.selectbox(key="surface").set_value("himmelblau").run()
    whole_page(at.number_input(key="start_x").set_value(1.25).run())
    tuning(at.multiselect(key="optimizers").set_value(["adam", "nesterov"]).run(), "adam")
    whole_page(at.select_slider(key="hp_adam_lr").set_value(0.3).run())
    whole_page(at.slider(key="steps").set_value(120).run())
    at.selectbox(key="schedule").set_value("warmup").run()
    whole_page(at.number_input(key="schedule_warmup").set_value(7).run())
    whole_page(at.segmented_control(key="layout").set_value("Side by side").run())
    at.toggle(key="presenter").set_value(True).run()
    query = dict(at.query_params)
    assert query["surface"] == "himmelblau" and query["optimizers"] == "adam,nesterov"
    assert "seed" not in query and "noise" not in query  # defaults stay out of the link

    again = page_session("lab", query)
    assert again.selectbox(key="surface").value == "himmelblau"
    assert again.number_input(key="start_x").value == 1.25
    assert again.multiselect(key="optimizers").value == ["adam", "nesterov"]
    # Adam's sliders are folded away, yet its race is the linked one, and opening them shows 0.3.
    assert race_chart_data(again)["race"]["signature"] == race_chart_data(at)["race"]["signature"]
    assert tuning(again, "adam").select_slider(key="hp_adam_lr").value == 0.3
    assert again.slider(key="steps").value == 120
    assert again.number_input(key="schedule_warmup").value == 7
    assert again.segmented_control(key="layout").value == "Side by side"
    assert again.toggle(key="presenter").value is True
    assert dict(again.query_params) == query and not link_notes(again)


def test_lab_round_trip_of_a_formula_and_a_view(page_session):
    at = page_session(
        "lab", {"surface": "custom", "formula": "x^2 + 3*y^2", "formula_x1": "4", "view": "Stability"}
    )
    assert (
        at.text_input(key="formula").value == "x^2 + 3*y^2" and at.number_input(key="formula_x1").value == 4.0
    )
    assert at.session_state["view"] == "Stability"
    assert dict(at.query_params) == {
        "surface": "custom",
        "formula": "x^2 + 3*y^2",
        "formula_x1": "4",
        "view": "Stability",
    }


def test_mlp_round_trip(page_session):
    at = page_session("mlp")
    at.select_slider(key="mlp_hidden").set_value(64).run()
    at.radio(key="mlp_activation").set_value("tanh").run()
    at.select_slider(key="mlp_batch").set_value(256).run()
    at.multiselect(key="mlp_optimizers").set_value(["adam"]).run()
    at.session_state["mlp_tune_adam"] = True  # open Adam's expander: its sliders are drawn
    at.run()
    at.select_slider(key="mlp_adam_lr").set_value(0.003).run()
    at.slider(key="graph_x").set_value(-1.5).run()
    query = dict(at.query_params)
    again = page_session("mlp", query)
    assert again.select_slider(key="mlp_hidden").value == 64
    assert again.radio(key="mlp_activation").value == "tanh"
    assert again.select_slider(key="mlp_batch").value == 256
    assert again.multiselect(key="mlp_optimizers").value == ["adam"]
    assert again.session_state["mlp_adam_lr"] == 0.003  # kept while its expander is closed
    assert again.slider(key="graph_x").value == -1.5
    assert dict(again.query_params) == query


def test_conv_round_trip_with_an_edited_kernel(page_session):
    query = {
        "c2_kernel": "Laplacian",
        "c2_stride": "2",
        "c2_padding": "same",
        "c2_cells": "0,1,0,1,-5,1,0,1,0",
    }
    at = page_session("conv", query)
    assert at.selectbox(key="c2_kernel").value == "Laplacian" and at.number_input(key="c2_stride").value == 2
    assert dict(at.query_params) == query  # the edited cell (-5 instead of -4) is kept
    at.number_input(key="c2_dilation").set_value(2).run()
    assert page_session("conv", dict(at.query_params)).number_input(key="c2_dilation").value == 2
    text = page_session(
        "conv", {"conv_view": "1D over text", "t_text": "a hat", "t_encoding": "word embeddings"}
    )
    assert text.text_input(key="t_text").value == "a hat"
    assert text.radio(key="t_encoding").value == "word embeddings"


# --- tampered links ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, named",
    [
        ({"surface": "moon"}, '"moon"'),
        ({"optimizers": "gd,adamw"}, '"adamw"'),
        ({"hp_adam_lr": "abc"}, 'hp_adam_lr: "abc" is not a number'),
        ({"steps": "10000000000"}, 'steps: "10000000000" is above 2000'),
        ({"hp_adam_eps": "-1"}, 'hp_adam_eps: "-1" is below'),
        ({"noise": "nan"}, 'noise: "nan" is not one of'),
        ({"seed": "-5"}, 'seed: "-5" is below 0'),
        ({"steps": ["100", "300"]}, '"steps" was given 2 times'),
        ({"lr": "0.1"}, 'unknown setting "lr"'),
        ({"view": "Secrets"}, '"Secrets"'),
        ({"start_x": "1e308"}, 'start_x: "1e308" is above'),
        ({"surface": "custom", "formula": "x" * 5000}, "formula is 5000 characters long"),
    ],
)
def test_a_tampered_lab_link_opens_safely_and_says_what_was_ignored(query, named, page_session):
    at = page_session("lab", query)
    assert named in link_notes(at), link_notes(at)
    assert race_charts(at)  # the race still draws


def test_a_formula_that_does_not_parse_shows_why(page_session):
    at = page_session("lab", {"surface": "custom", "formula": "__import__('os').system('ls')"})
    assert at.error and "is not allowed (no attribute access)" in shown(at.error[0].value)


@pytest.mark.parametrize(
    "page, query, named",
    [
        ("mlp", {"mlp_hidden": "100000"}, 'mlp_hidden: "100000" is not one of the slider\'s stops'),
        ("mlp", {"mlp_epochs": "-1"}, 'mlp_epochs: "-1" is below 1'),
        ("mlp", {"mlp_optimizers": "sgd,lbfgs"}, '"sgd", "lbfgs"'),
        ("conv", {"c2_stride": "1e9"}, 'c2_stride: "1e9" is above'),
        ("conv", {"c2_cells": "1,2,3"}, "c2_cells has 3 values"),
        ("conv", {"cm_cout": "abc", "conv_view": "Many channels, many filters"}, 'cm_cout: "abc"'),
    ],
)
def test_tampered_links_on_the_other_pages(page, query, named, page_session):
    assert named in link_notes(page_session(page, query))


def test_the_warning_can_be_dismissed(page_session):
    at = page_session("lab", {"surface": "moon"})
    next(b for b in at.button if b.label == "Dismiss").click().run()
    assert not link_notes(at)


def test_autoplay_is_a_link_flag_the_race_chart_gets(page_session):
    """`autoplay=true` (a slide's view plays when shown) reaches the race chart and stays in the
    link; a value that is not true or false is named and read as false."""
    at = page_session("lab", {"autoplay": "true"})
    assert race_chart_data(at)["autoplay"] is True and not link_notes(at)
    assert at.query_params["autoplay"] == "true"
    at = page_session("lab", {"autoplay": "[x](http://evil.example)"})
    assert race_chart_data(at)["autoplay"] is False
    assert 'autoplay: "[x](http://evil.example)" is not true or false' in link_notes(at)
    assert race_chart_data(page_session("lab"))["autoplay"] is False


# Hypothesis: random query dictionaries thrown at each page never raise and leave safe values.
KEYS = {
    "lab": [
        "surface",
        "optimizers",
        "steps",
        "noise",
        "seed",
        "start_x",
        "hp_adam_lr",
        "hp_gd_lr",
        "schedule",
        "schedule_every",
        "layout",
        "speed",
        "view",
        "presenter",
        "autoplay",
        "formula",
        "formula_x0",
        "nonsense",
    ],
    "mlp": [
        "mlp_hidden",
        "mlp_batch",
        "mlp_epochs",
        "mlp_seed",
        "mlp_optimizers",
        "mlp_adam_lr",
        "graph_x",
        "graph_expression",
        "mlp_view",
        "nonsense",
    ],
    "conv": [
        "c2_source",
        "c2_digit",
        "c2_kernel",
        "c2_size",
        "c2_stride",
        "c2_padding",
        "c2_dilation",
        "c2_cells",
        "conv_view",
        "t_text",
        "cm_cout",
        "nonsense",
    ],
}
VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            "nan",
            "-inf",
            "1e309",
            "-1",
            "0",
            "3",
            "0.5",
            "true",
            "abc",
            "adam,gd",
            "custom",
            "x**2",
            "1,2,3",
            "same",
            "2000",
            "Stability",
            "√",
            "%00",
            "' OR 1=1 --",
        ]
    ),
    st.text(max_size=30),
)


@pytest.mark.parametrize("page", list(KEYS))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_links_never_break_a_page(page, data, page_session):
    query = data.draw(st.dictionaries(st.sampled_from(KEYS[page]), VALUES, max_size=5))
    at = page_session(page, query)  # asserts no exception
    if page == "lab":
        assert 10 <= at.slider(key="steps").value <= 2000
        assert at.multiselect(key="optimizers").value is not None
