"""The convolution page's backward-pass tab, driven through Streamlit's AppTest (no browser): what its
chart is sent, the worked-out shapes and dL/dK beside it, a gradient cell outside the output, links,
and no recompiling for controls that only change data."""

import re

import numpy as np
import pytest

from optviz import conv
from optviz.conv import backward
from optviz.data import load as load_digits
from optviz.packing import decode
from optviz.ui.conv_backward_steps import NAME
from tests.apptest import components_data, link_notes

VIEW = {"conv_view": "Backward pass"}


def _data(at) -> dict:
    """The backward chart's data, its input and dL/dY decoded as (rows, cols) arrays."""
    (data,) = components_data(at, NAME)
    for name in ("input", "dy"):
        data[name]["values"] = decode(data[name]["values"], "<f4").reshape(
            data[name]["rows"], data[name]["cols"]
        )
    return data


def _latex(at) -> str:
    return " ".join(element.value for element in at.latex)


def test_the_tab_sends_the_input_the_kernel_and_dy_and_works_the_shapes_out(page_session):
    at = page_session("conv", VIEW)
    assert [t.label for t in at.tabs][-1] == "Backward pass"
    data = _data(at)
    digit = load_digits().test_images[0] / 255.0
    assert np.allclose(data["input"]["values"], digit, atol=1e-6)  # no padding by default
    assert (data["dy"]["values"] == 1).all() and data["dy"]["values"].shape == (26, 26)  # ones
    assert data["kernel"]["values"] == conv.kernel_preset("Sobel x").ravel().tolist()
    assert (data["stride"], data["dilation"], data["presenter"]) == (1, 1, False)
    latex = _latex(at)
    assert r"1\times26\times26" in latex and "a sum of 676 products" in latex
    _, dw = conv.conv2d_backward(digit[None], conv.kernel_preset("Sobel x")[None, None], np.ones((1, 26, 26)))
    shown = re.search(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}", latex)[1]
    numbers = [float(v) for v in re.findall(r"-?[\d.]+(?:e[-+]?\d+)?", shown)]
    assert np.allclose(numbers, dw.ravel(), rtol=1e-3)  # the library's dL/dK, after the last step


def test_stride_padding_dilation_and_the_gradient_reach_the_chart(page_session):
    at = page_session("conv", {**VIEW, "c2b_stride": "2", "c2b_padding": "1", "c2b_dilation": "2"})
    at.radio(key="c2b_grad").set_value("random").run()
    at.number_input(key="c2b_seed").set_value(5).run()
    data = _data(at)
    out = conv.geometry((28, 28), (3, 3), 2, 1, 2).out_shape
    assert data["dy"]["values"].shape == out == (13, 13)
    assert np.allclose(data["dy"]["values"], conv.upstream("random", (1, *out), seed=5)[0], atol=1e-6)
    assert data["input"]["values"].shape == (30, 30) and data["inner"] == [1, 1, 28, 28]
    assert (data["stride"], data["dilation"]) == (2, 2)
    assert r"\xrightarrow{+1\text{ unread}}30\times30" in _latex(at)  # 13 -> 25 -> 33 -> 29 (+1) -> 30 -> 28


def test_a_gradient_cell_outside_the_output_is_refused_and_clamped(page_session):
    at = page_session("conv", {**VIEW, "c2b_grad": "one cell", "c2b_row": "40", "c2b_col": "3"})
    assert "∂L/∂Y cell row 40 is outside the output, whose rows are 0 to 25: using row 25." in [
        w.value for w in at.warning
    ]
    assert at.number_input(key="c2b_row").value == 25
    dy = _data(at)["dy"]["values"]
    assert dy[25, 3] == 1 and np.count_nonzero(dy) == 1
    assert _data(at)["openStep"] == 25 * 26 + 3
    at.selectbox(key="c2b_stride").set_value(3).run()  # a smaller output: 9 x 9
    assert any("cell row 25 is outside the output, whose rows are 0 to 8" in w.value for w in at.warning)
    assert at.number_input(key="c2b_row").value == 8 and _data(at)["dy"]["values"][8, 3] == 1
    assert not at.exception


@pytest.mark.parametrize(
    "query, note",
    [
        ({"c2b_stride": "9"}, 'c2b_stride: "9"'),
        ({"c2b_grad": "[all](http://evil.example)"}, 'c2b_grad: "[all](http://evil.example)"'),
        ({"c2b_row": "1e309", "c2b_grad": "one cell"}, 'c2b_row: "1e309"'),
        ({"c2b_seed": "abc", "c2b_grad": "random"}, 'c2b_seed: "abc"'),
    ],
)
def test_bad_links_fall_back_with_a_note(page_session, query, note):
    at = page_session("conv", {**VIEW, **query})
    assert note in link_notes(at)
    assert components_data(at, NAME)  # the chart is drawn all the same


def test_every_control_is_in_the_link_and_a_link_reopens_the_view(page_session):
    at = page_session("conv", VIEW)
    at.selectbox(key="c2b_source").set_value("checkerboard").run()
    at.selectbox(key="c2b_kernel").set_value("Laplacian").run()
    at.segmented_control(key="c2b_size").set_value(5).run()
    at.selectbox(key="c2b_stride").set_value(2).run()
    at.selectbox(key="c2b_padding").set_value("same").run()
    at.selectbox(key="c2b_dilation").set_value(2).run()
    at.select_slider(key="c2b_speed").set_value("fast").run()
    at.radio(key="c2b_grad").set_value("one cell").run()
    at.number_input(key="c2b_row").set_value(2).run()
    at.number_input(key="c2b_col").set_value(5).run()
    query = dict(at.query_params)
    assert {key for key in query if key.startswith("c2b_")} == {
        "c2b_source", "c2b_kernel", "c2b_size", "c2b_stride", "c2b_padding", "c2b_dilation", "c2b_speed",
        "c2b_grad", "c2b_row", "c2b_col",
    }  # fmt: skip
    again = page_session("conv", query)
    assert not link_notes(again)
    assert _data(again)["dy"]["values"][2, 5] == 1 and _data(again)["kernel"] == _data(at)["kernel"]
    assert _data(again)["frameMs"] == 40


def test_controls_that_only_change_data_do_not_recompile(page_session):
    at = page_session("conv", VIEW)
    compiled = backward._backward_compiled._cache_size()
    at.number_input(key="c2b_digit").set_value(7).run()
    at.selectbox(key="c2b_kernel").set_value("box blur").run()
    at.radio(key="c2b_grad").set_value("random").run()
    at.number_input(key="c2b_seed").set_value(3).run()
    at.radio(key="c2b_grad").set_value("one cell").run()
    at.number_input(key="c2b_row").set_value(4).run()
    assert not at.exception
    assert backward._backward_compiled._cache_size() == compiled


def test_presenter_mode_reaches_the_chart(page_session):
    at = page_session("conv", {**VIEW, "presenter": "true"})
    assert _data(at)["presenter"] is True
