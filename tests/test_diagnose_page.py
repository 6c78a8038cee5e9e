"""The Diagnose training page through AppTest: every tab from its link, bad links clamped with a note
shown literally, the 20-example sanity check, a search run and stopped, divergence shown and never
drawn as NaN."""

from __future__ import annotations

import json
import math

import pytest
from streamlit.testing.v1 import AppTest

from optviz.mlp.training_jobs import Trainer
from optviz.ui import diagnose
from tests.apptest import link_notes
from tests.conftest import PAGES

SEARCH = "⑥ Hyperparameter search"


@pytest.fixture
def trainer(monkeypatch) -> Trainer:
    """The page's searches run in a trainer of this test's own."""
    own = Trainer()
    monkeypatch.setattr(diagnose, "TRAINER", own)
    return own


def session(query: dict) -> AppTest:
    at = AppTest.from_string(PAGES["diagnose"], default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def numbers(value):
    """Every number in a figure's JSON (nested lists and dicts)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from numbers(item)
    elif isinstance(value, float):
        yield value


@pytest.mark.parametrize("view", diagnose.VIEWS)
def test_every_tab_opens_from_its_link(view):
    at = session({"diag_view": view})
    assert not at.exception, at.exception
    assert not link_notes(at)
    drawn = figures(at)
    if view == SEARCH:
        assert not drawn and any("Run search" in info.value for info in at.info)
    else:
        assert drawn, f"{view}: no chart"
    for spec in drawn:
        assert all(math.isfinite(x) for x in numbers(spec["data"])), f"{view}: a number that is not finite"


def test_a_bad_link_is_clamped_with_a_note_shown_literally():
    hostile = "[x](http://evil.example)"
    at = session(
        {
            "diag_layers": "99",
            "diag_width": "7",
            "diag_init": hostile,
            "diag_trials": "1000",
            "diag_train_size": "5",
            "diag_h": "banana",
            "diag_view": "④ Train/val gap",
        }
    )
    assert not at.exception, at.exception
    assert at.session_state["diag_layers"] == 6
    assert at.session_state["diag_width"] == 32
    assert at.session_state["diag_init"] == "pytorch"
    assert at.session_state["diag_train_size"] == 20
    notes = link_notes(at)
    for name in ("diag_layers", "diag_width", "diag_init", "diag_train_size"):
        assert name in notes, notes
    assert hostile in notes  # as typed, literally
    warning = next(w.value for w in at.warning if "this link" in w.value)
    assert "](http" not in warning  # escaped: Markdown cannot make it a link


def test_overfitting_twenty_examples_is_one_click():
    at = session({"diag_view": "④ Train/val gap"})
    at.button(key="diag_overfit").click().run()
    assert not at.exception, at.exception
    assert at.session_state["diag_train_size"] == 20 and at.session_state["diag_decay"] == 0.0
    assert any("It can overfit" in s.value for s in at.success), [s.value for s in at.success]


def test_a_search_runs_in_the_background_and_zooms_in(trainer):
    at = session({"diag_view": SEARCH, "diag_trials": "4", "diag_search_epochs": "1", "diag_method": "grid"})
    at.button(key="diag_run").click().run()
    assert trainer.wait_idle(timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert any("Best of 4" in m.value for m in at.markdown)
    assert len(figures(at)) == 1
    at.button(key="diag_zoom").click().run()
    low, high = at.session_state["diag_lr_low"], at.session_state["diag_lr_high"]
    assert math.isclose(math.log10(high / low), 2.0)  # a decade either side of the best


def test_a_range_with_its_ends_crossed_asks_to_move_a_slider():
    at = session({"diag_view": SEARCH, "diag_lr_low": "0.1", "diag_lr_high": "0.001"})
    assert not at.exception
    assert any("lowest end below its highest" in w.value for w in at.warning)


def test_a_diverging_run_is_named_and_never_drawn_as_nan():
    # Deep, huge weights, plain gradient descent: the gradients overflow at the second step. (A large
    # learning rate alone rarely gives a non-finite update: ReLUs die and tanh saturates first.)
    link = {
        "diag_layers": "6",
        "diag_width": "256",
        "diag_init": "huge",
        "diag_optimizer": "gd",
        "diag_lr_gd": "1",
    }
    at = session({"diag_view": "② Update:weight ratio", **link})
    assert not at.exception, at.exception
    assert any("Diverged at step" in e.value for e in at.error), [e.value for e in at.error]
    for spec in figures(at):
        assert all(math.isfinite(x) for x in numbers(spec["data"]))


def test_dead_relus_are_named_instead_of_a_low_learning_rate():
    at = session({"diag_view": "② Update:weight ratio", "diag_optimizer": "gd", "diag_lr_gd": "10"})
    assert not at.exception, at.exception
    assert any("no weight matrix moved" in w.value for w in at.warning), [w.value for w in at.warning]
    assert not any("too low" in i.value for i in at.info)


def test_step_in_with_two_epochs_pauses_after_the_first():
    at = session({"diag_view": "⑦ Step in", "diag_branch_epochs": "2", "diag_pause": "5"})
    assert not at.exception, at.exception
    assert any("Pause after epoch: **1**" in c.value for c in at.caption)
    assert "after epoch 1 and see the same batches" in " ".join(m.value for m in at.markdown)
