"""The MLP & backpropagation page, driven through Streamlit's AppTest (no browser)."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from optviz import mlp
from optviz.ui import mlp as page

APP = str(Path(__file__).resolve().parents[1] / "script.py")


def _open():
    """script.py, switched to the page served at /mlp.

    AppTest.switch_page only takes page *files*; this page is a function registered by st.navigation,
    whose script hash is the hash of its url_path (as streamlit's st.Page computes it).
    """
    at = AppTest.from_file(APP, default_timeout=90).run()
    at._page_hash = calc_hash("mlp")
    at.run()
    assert not at.exception, at.exception
    return at


def _latex(at):
    """The page's formulas, without the $$ fences st.latex adds."""
    return [element.value.strip("$\n") for element in at.latex]


def _charts(at):
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _curves(at):
    """The training curves chart, or None."""
    titles = ({a.get("text") for a in spec["layout"].get("annotations", [])} for spec in _charts(at))
    specs = _charts(at)
    return next((spec for spec, t in zip(specs, titles, strict=True) if "cross-entropy loss" in t), None)


@pytest.fixture
def at():
    return _open()


def test_the_page_opens_with_the_graph_the_network_and_a_prompt_to_train(at):
    latex = _latex(at)
    assert r"y = x^2" in latex
    assert any(r"784 \cdot 128 + 128 + 128 \cdot 10 + 10 = 101{,}770" in value for value in latex)
    assert any("Press **Train**" in info.value for info in at.info)
    assert _curves(at) is None
    assert len(at.get("plotly_chart")) == 5  # graph, tangent, weights, confusion matrix, digits


def test_network_controls_change_the_parameter_count_and_cap_tiny_batches(at):
    at.select_slider(key="mlp_hidden").set_value(32).run()
    assert any("= 25{,}450" in value for value in _latex(at))  # 784*32 + 32 + 32*10 + 10
    at.select_slider(key="mlp_batch").set_value(1).run()
    assert any("capped at 1 epoch" in c.value for c in at.caption)
    assert any(r"8{,}000\text{ steps per epoch}" in value for value in _latex(at))
    at.radio(key="mlp_activation").set_value("tanh").run()
    assert not at.exception
    assert r"\sigma:\ \tanh(u)" in _latex(at)


def test_train_draws_curves_for_each_optimizer_and_caches_them(at, monkeypatch):
    calls = []
    original = mlp.train_epochs
    monkeypatch.setattr(mlp, "train_epochs", lambda **kw: calls.append(kw["optimizer"]) or original(**kw))
    at.select_slider(key="mlp_hidden").set_value(16).run()
    at.multiselect(key="mlp_optimizers").set_value(["gd", "adam"]).run()
    at.slider(key="mlp_epochs").set_value(2).run()
    at.button(key="mlp_train").click().run()
    assert not at.exception, at.exception
    assert calls == ["gd", "adam"]
    curves = _curves(at)
    names = {trace.get("name") for trace in curves["data"]}
    assert {"Gradient descent", "Adam"} <= names
    assert len(at.dataframe[0].value) == 2
    assert list(at.dataframe[0].value["epochs"]) == ["2 of 2", "2 of 2"]
    assert any("test accuracy" in option for option in at.selectbox(key="mlp_inspect").options)

    at.slider(key="graph_x").set_value(1.0).run()  # another control: the curves stay, nothing retrains
    at.button(key="mlp_train").click().run()
    assert calls == ["gd", "adam"]
    assert _curves(at) is not None
    at.select_slider(key="mlp_adam_lr").set_value(0.01).run()
    at.button(key="mlp_train").click().run()
    assert calls == ["gd", "adam", "adam"], "a new learning rate retrains that optimizer only"


def test_a_stopped_run_shows_its_finished_epochs(at):
    run = page.Run("adam", tuple(sorted(mlp.resolve("adam", {}).items())), 16, "relu", 64, 3, 0)
    partial = mlp.train(**run.kwargs(), epochs=1)
    at.session_state["mlp_stopped"] = {run: partial}
    at.select_slider(key="mlp_hidden").set_value(16).run()
    at.multiselect(key="mlp_optimizers").set_value(["adam"]).run()
    at.slider(key="mlp_epochs").set_value(3).run()
    assert any("Stopped" in w.value for w in at.warning)
    assert list(at.dataframe[0].value["epochs"]) == ["1 of 3"]


def test_bad_choices_fall_back_instead_of_failing(at):
    at.multiselect(key="mlp_optimizers").set_value([]).run()
    assert not at.exception
    assert any("No optimizer chosen" in w.value for w in at.warning)
