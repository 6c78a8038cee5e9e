"""The MLP & backpropagation page, driven through Streamlit's AppTest (no browser)."""

import json
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from optviz import mlp
from optviz.mlp.figures import CURVES_CAPTION
from optviz.mlp.training_jobs import TRAINER
from optviz.ui import mlp as page
from tests.apptest import graph_view_data

APP = str(Path(__file__).resolve().parents[1] / "script.py")
GRAPH, NETWORK, TRAINING, LEARNED, LOOP, DIGIT, LANDSCAPE = page.VIEWS


def _open(view: str = page.VIEWS[0]):
    """script.py, switched to the page served at /mlp, with the tab `view` open.

    AppTest.switch_page only takes page *files*; this page is a function registered by st.navigation,
    whose script hash is the hash of its url_path (as streamlit's st.Page computes it).
    """
    at = AppTest.from_file(APP, default_timeout=90).run()
    at._page_hash = calc_hash("mlp")
    at.session_state["mlp_view"] = view
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


def _trained(at):
    """Wait for the runs the page asked the trainer for, then run the page again (as its timer
    would while they train)."""
    assert TRAINER.wait_idle(timeout=180), "training took more than 3 minutes"
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def at():
    return _open()


@pytest.fixture
def training():
    return _open(TRAINING)


def test_the_page_opens_on_the_graph_and_computes_only_the_open_tab(at):
    assert r"y = x^2" in _latex(at)
    assert graph_view_data(at) is not None  # the graph and its tangent, drawn by a component
    assert not at.get("plotly_chart")  # no other tab's charts
    assert not any("parameters" in value for value in _latex(at))  # tab ② is not computed


def test_the_network_tab_counts_parameters_and_the_training_tab_asks_for_train(at):
    at.session_state["mlp_view"] = NETWORK
    at.run()
    assert any(r"784 \cdot 128 + 128 + 128 \cdot 10 + 10 = 101{,}770" in value for value in _latex(at))
    at.session_state["mlp_view"] = TRAINING
    at.run()
    assert any("Press **Train**" in info.value for info in at.info)
    assert _curves(at) is None
    at.session_state["mlp_view"] = LEARNED
    at.run()
    assert len(at.get("plotly_chart")) == 3  # weights, confusion matrix, digits of the untrained network
    assert any("Not trained yet" in info.value for info in at.info) and at.button(key="mlp_train_here")


@pytest.mark.parametrize("view", [LEARNED, DIGIT, LANDSCAPE])
def test_a_view_that_needs_a_trained_network_trains_it_right_there(view):
    """A slide shows one view alone (no tab ③): each view after it says why it waits and has its own
    Train; while the runs train it shows their progress, then the view itself."""
    at = _open(view)
    at.select_slider(key="mlp_hidden").set_value(16).run()
    at.slider(key="mlp_epochs").set_value(1).run()
    at.number_input(key="mlp_seed").set_value(30 + page.VIEWS.index(view)).run()  # no other test's runs
    assert at.info and at.button(key="mlp_train_here")
    assert not [chart for chart in _charts(at) if chart["data"][0]["type"] == "contour"]
    at.button(key="mlp_train_here").click().run()
    assert not at.exception, at.exception
    _trained(at)
    assert not at.get("button") or "mlp_train_here" not in [b.key for b in at.button]
    if view == LANDSCAPE:
        assert _charts(at)[0]["data"][0]["type"] == "contour"
    elif view == LEARNED:
        inspect = at.selectbox(key="mlp_inspect")
        assert "test accuracy" in inspect.format_func(inspect.value)


def test_network_controls_change_the_parameter_count_and_cap_tiny_batches(at):
    at.session_state["mlp_view"] = NETWORK
    at.run()
    at.select_slider(key="mlp_hidden").set_value(32).run()
    assert any("= 25{,}450" in value for value in _latex(at))  # 784*32 + 32 + 32*10 + 10
    at.select_slider(key="mlp_batch").set_value(1).run()
    assert any("capped at 1 epoch" in c.value for c in at.caption)
    assert any(r"8{,}000\text{ steps per epoch}" in value for value in _latex(at))
    at.radio(key="mlp_activation").set_value("tanh").run()
    assert not at.exception
    assert r"\sigma:\ \tanh(u)" in _latex(at)


def test_train_draws_curves_for_each_optimizer_and_caches_them(training, monkeypatch):
    at = training
    calls = []
    original = mlp.train_epochs
    monkeypatch.setattr(mlp, "train_epochs", lambda **kw: calls.append(kw["optimizer"]) or original(**kw))
    at.select_slider(key="mlp_hidden").set_value(16).run()
    at.multiselect(key="mlp_optimizers").set_value(["gd", "adam"]).run()
    at.slider(key="mlp_epochs").set_value(2).run()
    at.button(key="mlp_train").click().run()
    assert not at.exception, at.exception
    _trained(at)
    assert calls == ["gd", "adam"]
    curves = _curves(at)
    names = {trace.get("name") for trace in curves["data"]}
    assert {"Gradient descent", "Adam"} <= names
    assert any(caption.value == CURVES_CAPTION for caption in at.caption)  # where train and test are drawn
    assert len(at.dataframe[0].value) == 2
    assert list(at.dataframe[0].value["epochs"]) == ["2 of 2", "2 of 2"]
    at.session_state["mlp_view"] = LEARNED
    at.run()
    assert any("test accuracy" in option for option in at.selectbox(key="mlp_inspect").options)

    at.session_state["mlp_view"] = TRAINING
    at.run()
    at.radio(key="mlp_activation").set_value("tanh").run()  # another network: not trained yet
    assert _curves(at) is None
    at.radio(key="mlp_activation").set_value("relu").run()  # back: the curves are still there
    at.button(key="mlp_train").click().run()
    _trained(at)
    assert calls == ["gd", "adam"], "nothing retrains"
    assert _curves(at) is not None
    at.session_state["mlp_tune_adam"] = True  # open Adam's expander: its sliders are drawn
    at.run()
    at.select_slider(key="mlp_adam_lr").set_value(0.01).run()
    at.button(key="mlp_train").click().run()
    _trained(at)
    assert calls == ["gd", "adam", "adam"], "a new learning rate retrains that optimizer only"


def test_a_stopped_run_shows_its_finished_epochs(training):
    at = training
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


def test_training_goes_on_while_the_page_reruns_and_stop_keeps_its_epochs(training, monkeypatch):
    """Each epoch waits for the test: a tab switched and a control moved leave the run training;
    Stop ends it after its epoch and the page keeps the epochs it saw."""
    gate = threading.Semaphore(0)
    original = mlp.train_epochs

    def gated(**kwargs):
        for history in original(**kwargs):
            yield history
            gate.acquire(timeout=60)

    monkeypatch.setattr(mlp, "train_epochs", gated)
    at = training
    at.select_slider(key="mlp_hidden").set_value(16).run()
    at.multiselect(key="mlp_optimizers").set_value(["momentum"]).run()
    at.slider(key="mlp_epochs").set_value(3).run()
    at.number_input(key="mlp_seed").set_value(11).run()
    at.button(key="mlp_train").click().run()
    run = page.Run("momentum", tuple(sorted(mlp.resolve("momentum", {}).items())), 16, "relu", 64, 3, 11)
    job = TRAINER.job(run)
    deadline = time.monotonic() + 120
    while job.history is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.history is not None and job.history.epochs == 1

    at.session_state["mlp_view"] = LEARNED
    at.run()  # another tab: no curves computed, the run goes on
    assert _curves(at) is None and job.active
    at.session_state["mlp_view"] = TRAINING
    at.run()
    assert job.active and _curves(at) is not None
    assert at.get("progress")[0].proto.text == "Momentum: 1 of 3 epochs done"
    gate.release()
    deadline = time.monotonic() + 120
    while job.history.epochs < 2 and time.monotonic() < deadline:
        time.sleep(0.05)

    at.button(key="mlp_stop").click().run()
    assert any("Stopped" in w.value for w in at.warning)
    assert list(at.dataframe[0].value["epochs"]) == ["2 of 3"]
    gate.release()  # the epoch under way ends, and with it the run
    assert job.wait(60) and job.state == "stopped" and TRAINER.job(run) is None
