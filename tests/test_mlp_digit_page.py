"""The MLP page's "Draw a digit" view (optviz/ui/mlp_digit.py) and its pad's value (optviz/ui/digit_pad),
driven through Streamlit's AppTest: a script that shows the view alone, for one tiny trained network."""

import base64
import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from optviz.component_code import read_data
from optviz.mlp import digit
from optviz.ui.digit_pad import NAME as DIGIT_PAD
from optviz.ui.digit_pad import decode
from optviz.ui.mlp_digit import PAD_KEY
from tests.apptest import link_notes

SCRIPT = """
import streamlit as st

from optviz import mlp
from optviz.ui.mlp import Run
from optviz.ui.mlp_digit import LINK_PARAMETERS, digit_view
from optviz.ui.url_state import PageState


@st.cache_resource
def trained():
    return {"adam": mlp.train("adam", hidden=8, epochs=1)}


state = PageState("mlp", known=LINK_PARAMETERS)
state.show_notes()
runs = [Run("adam", (), 8, "relu", 64, 1, 0), Run("gd", (), 8, "relu", 64, 1, 0)]  # gd: not trained
digit_view(runs, {} if st.session_state.get("untrained") else trained(), state, st.info)
state.publish()
"""
PREDICTION = re.compile(r'<span data-testid="digit-prediction">(.*?): <b>(\d)</b> \(([\d.]+)%\)</span>')


def _open(*, untrained: bool = False, **query) -> AppTest:
    at = AppTest.from_string(SCRIPT, default_timeout=90)
    at.session_state["untrained"] = untrained
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _packed(pixels: np.ndarray) -> dict:
    """What the pad sends for a 28 x 28 drawing in [0, 1] (digit_pad.js: bytes 0..255, base64)."""
    raw = np.round(np.asarray(pixels) * 255).astype(np.uint8).tobytes()
    return {"pixels": base64.b64encode(raw).decode(), "strokes": 1, "revision": 1}


def _draw(at: AppTest, value) -> AppTest:
    """Run the page as after the pad set its state "drawing" to `value` (its setStateValue in the
    browser): AppTest cannot drive a custom component itself."""
    (pad,) = [c for c in at.get("bidi_component") if c.proto.component_name == DIGIT_PAD]
    widgets = at._tree.get_widget_states()
    widgets.widgets.add(id=pad.proto.id, json_value=json.dumps({"drawing": value}))
    at._run(widgets)
    assert not at.exception, at.exception
    return at


def _one():
    """A "1": a vertical bar, off-centre."""
    pixels = np.zeros((28, 28))
    pixels[3:22, 5:8] = 1.0
    return pixels


def _predictions(at: AppTest) -> list[tuple[str, int, float]]:
    return [
        (name, int(d), float(p)) for element in at.html for name, d, p in PREDICTION.findall(element.body)
    ]


def _infos(at: AppTest) -> list[str]:
    return [info.value for info in at.info]


def test_before_any_drawing_the_view_says_so_and_predicts_nothing():
    at = _open()
    assert digit.EMPTY_MESSAGE in _infos(at)
    assert _predictions(at) == []
    (pad,) = [c for c in at.get("bidi_component") if c.proto.component_name == DIGIT_PAD]
    assert read_data(pad.proto)["key"] == PAD_KEY


def test_a_drawing_gets_each_trained_networks_prediction():
    at = _draw(_open(), _packed(_one()))
    ((name, guess, percent),) = _predictions(at)  # Adam only: gd is not trained
    assert name == "Adam" and 0 <= guess <= 9 and 10 <= percent <= 100
    body = "".join(element.body for element in at.html)
    assert "∂L/∂x" in body and "∂L/∂W₁[:, j]" in body and "h, 8 units" in body
    assert f"L = −log p<sub>{guess}</sub>" in body  # the predicted class by default
    assert body.count("data:image/png;base64,") == 4  # the processed digit, h, dL/dx, dL/dW1's columns
    assert not _infos(at)


def test_a_label_from_the_link_is_the_one_differentiated():
    at = _draw(_open(digit_label="3"), _packed(_one()))
    body = "".join(element.body for element in at.html)
    assert "L = −log p<sub>3</sub>" in body
    assert at.query_params["digit_label"] == "3"


def test_a_bad_label_in_the_link_is_reported_and_the_predicted_class_used():
    at = _draw(_open(digit_label="eleven"), _packed(_one()))
    assert "digit_label" in link_notes(at)
    ((_, guess, _),) = _predictions(at)
    assert f"L = −log p<sub>{guess}</sub>" in "".join(element.body for element in at.html)
    assert "digit_label" not in at.query_params


@pytest.mark.parametrize(
    "pixels, message",
    [
        (np.zeros((28, 28)), digit.EMPTY_MESSAGE),  # cleared
        (np.pad(np.ones((2, 2)), ((12, 14), (5, 21))), digit.DOT_MESSAGE),
    ],
    ids=["cleared", "a dot"],
)
def test_an_empty_or_single_dot_drawing_is_refused_with_a_sentence(pixels, message):
    at = _draw(_open(), _packed(pixels))
    assert message in _infos(at)
    assert _predictions(at) == []


@pytest.mark.parametrize(
    "value",
    [
        {"pixels": "not base64!"},
        {"pixels": base64.b64encode(b"\x00" * 10).decode()},
        {"pixels": 784},
        [1, 2, 3],
    ],
    ids=["not base64", "too short", "a number", "a list"],
)
def test_a_value_the_pad_does_not_send_counts_as_no_drawing(value):
    assert decode(value) is None
    at = _draw(_open(), value)
    assert digit.EMPTY_MESSAGE in _infos(at)


def test_the_pads_bytes_decode_to_its_drawing():
    pixels = np.round(np.random.default_rng(0).random((28, 28)) * 255) / 255
    assert np.allclose(decode(_packed(pixels)), pixels)


def test_untrained_the_view_shows_the_digit_and_asks_for_training_only():
    at = _draw(_open(untrained=True), _packed(_one()))
    assert any(text.startswith("No network is trained yet") for text in _infos(at))
    assert _predictions(at) == []
    assert "data:image/png" in "".join(element.body for element in at.html)  # the processed digit
