"""The convolutions page, driven through Streamlit's AppTest (no browser).

The page is run on its own (its render function), so the lab's JAX compile does not slow every test.
"""

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from optviz import conv
from tests.apptest import shown

PAGE = "from optviz.ui.conv import render\nrender()"


ONE, MANY, TEXT = "2D: one channel, one filter", "Many channels, many filters", "1D over text"


def _open(view: str = ONE):
    """The page with tab `view` open (only the open tab computes)."""
    at = AppTest.from_string(PAGE, default_timeout=60)
    at.session_state["conv_view"] = view
    at.run()
    assert not at.exception, at.exception
    return at


def _charts(at):
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _step_chart(at):
    return _charts(at)[0]


def _messages(at):
    return [shown(m.value) for m in [*at.warning, *at.info]]


def test_the_page_renders_all_three_sections():
    at = _open()
    assert at.title[0].value == "Convolutions"
    assert [t.label for t in at.tabs] == [ONE, MANY, TEXT]
    (steps,) = _charts(at)
    assert len(steps["frames"]) == 26 * 26  # a 28 x 28 digit, a 3 x 3 kernel, no padding
    assert any("= 26" in element.value for element in at.latex)  # the output-size formula, worked
    at = _open(MANY)
    _, maps = _charts(at)
    assert len(maps["data"]) == 4 + 1  # four feature maps and the highlighted cell
    assert any(r"3\cdot3\cdot 3\cdot4 + 4 = 112" in element.value for element in at.latex)
    at = _open(TEXT)
    (text,) = _charts(at)
    assert len(text["frames"]) == len(conv.letters("the cat sat on the mat with the hat").tokens) - 2


def test_stride_padding_and_dilation_change_the_output_and_its_formula():
    at = _open()
    at.number_input(key="c2_stride").set_value(2).run()
    at.selectbox(key="c2_padding").set_value("same").run()
    assert not at.exception
    assert len(_step_chart(at)["frames"]) == 14 * 14
    assert any("= 14" in element.value for element in at.latex)
    at.number_input(key="c2_dilation").set_value(3).run()
    assert len(_step_chart(at)["frames"]) == 14 * 14  # "same" grows with the dilation


def test_the_frames_hold_the_windows_sums():
    at = _open()
    at.selectbox(key="c2_source").set_value("square").run()
    spec = _step_chart(at)
    image = conv.pattern("square")[None]
    kernel = conv.kernel_preset("Sobel x")[None, None]
    windows = list(conv.windows(image, kernel))
    sums = [frame["data"][4]["text"][0] for frame in spec["frames"]]
    assert sums == [f"sum = {w.value:.3g}" for w in windows]
    assert len(set(sums)) > 2  # edges: positive, negative and zero responses


def test_the_flip_toggle_flips_the_kernel_shown():
    at = _open()
    kernel_text = next(
        t for t in _step_chart(at)["data"] if t.get("mode") == "text" and t.get("xaxis") == "x3"
    )
    assert kernel_text["text"][:3] == ["-1", "0", "1"]
    at.toggle(key="c2_flip").set_value(True).run()
    kernel_text = next(
        t for t in _step_chart(at)["data"] if t.get("mode") == "text" and t.get("xaxis") == "x3"
    )
    assert kernel_text["text"][:3] == ["1", "0", "-1"]


def test_a_kernel_cell_that_is_not_a_number_is_named_and_replaced_by_the_preset():
    at = AppTest.from_string(PAGE, default_timeout=60)
    at.session_state["c2_grid_Sobel x_3"] = {
        "edited_rows": {1: {"2": "two"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception
    assert any('row 2, column 2: "two" is not a number' in m for m in _messages(at))
    assert len(_step_chart(at)["frames"]) == 676


def test_a_dilated_kernel_larger_than_the_input_falls_back_to_dilation_one():
    at = _open()
    at.segmented_control(key="c2_size").set_value(5).run()
    at.number_input(key="c2_dilation").set_value(8).run()  # spans 33 cells; the digit has 28
    assert not at.exception
    assert any("fits nowhere" in m and "dilation 1" in m for m in _messages(at))
    assert len(_step_chart(at)["frames"]) == 24 * 24


def test_a_stride_larger_than_the_input_gives_one_window_and_says_so():
    at = _open()
    at.number_input(key="c2_stride").set_value(30).run()
    assert not at.exception
    assert any("larger than the input" in m for m in _messages(at))
    assert len(_step_chart(at)["frames"]) == 1


def test_many_channels_section_follows_its_controls():
    at = _open(MANY)
    at.number_input(key="cm_cout").set_value(6).run()
    at.segmented_control(key="cm_size").set_value(5).run()
    at.number_input(key="cm_bias").set_value(0.5).run()
    assert not at.exception
    maps = _charts(at)[1]
    assert len(maps["data"]) == 6 + 1
    assert any(r"5\cdot5\cdot 3\cdot6 + 6 = 456" in e.value and "(6, 20, 20)" in e.value for e in at.latex)
    assert any("+ 0.5 =" in e.value for e in at.latex)
    at.selectbox(key="cm_preset").set_value("random").run()
    assert not at.exception


def test_the_ngram_filter_peaks_on_the_ngram_in_the_page():
    at = _open(TEXT)
    at.text_input(key="t_text").set_value("a cat and the hat").run()
    table = at.dataframe[-1].value
    the = table[table["filter"] == "'the'"].iloc[0]
    assert the["max response"] == 3 and the["window there"] == "the" and the["at position"] == 10


def test_word_embeddings_mode_runs():
    at = _open(TEXT)
    at.radio(key="t_encoding").set_value("word embeddings").run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert table.iloc[0]["window there"] == "the cat"
    assert table.iloc[0]["max response"] == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "No usable text"),
        ("§§§ 123", "No usable text"),
        ("x" * 10_000, "only its first 200 positions"),
        ("Hello, wörld!", "were dropped"),
    ],
)
def test_bad_text_gives_a_message_and_a_chart(text, message):
    at = _open(TEXT)
    at.text_input(key="t_text").set_value(text).run()
    assert not at.exception
    assert any(message in m for m in _messages(at))
    assert len(_charts(at)[0]["frames"]) >= 1


def test_ngrams_longer_than_the_text_fall_back():
    at = _open(TEXT)
    at.text_input(key="t_text").set_value("ab").run()
    at.text_input(key="t_grams_one-hot").set_value("abcdef, , 12").run()
    assert not at.exception
    assert any("No usable n-gram" in m for m in _messages(at))


def test_switching_the_animated_filter_moves_a_window_of_its_width():
    at = _open(TEXT)
    at.selectbox(key="t_animate").set_value("at").run()
    frame = _charts(at)[0]["frames"][0]["data"][0]
    assert np.ptp(frame["x"]) == 2  # a window two positions wide


def _subplots_frames_keep(spec) -> set[str]:
    """The subplots whose traces survive Play: those with a trace the frames redraw (plotly.js
    erases the others' traces, and every heatmap, at the first frame: optviz.conv.figures)."""
    animated = set(spec["frames"][0]["traces"])
    return {trace.get("xaxis", "x") for n, trace in enumerate(spec["data"]) if n in animated}


def _pixels(source: str) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))).convert("RGB"))


def _as_array(value) -> np.ndarray:
    """A trace's array, also in plotly's typed-array form {"dtype", "bdata", "shape"}."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if shape:
            array = array.reshape([int(n) for n in str(shape).split(",")])
        return array.astype(float)
    return np.asarray(value, float)


@pytest.mark.parametrize("view", [ONE, TEXT])
def test_what_the_frames_do_not_move_survives_play(view):
    """Every subplot of an animated figure has a trace the frames redraw, and its images are
    pictures in the layout (frames never touch the layout), each cell in its heatmap colour; the
    heatmaps stay, transparent, for hovering."""
    import plotly.colors

    spec = _step_chart(_open(view)) if view == ONE else _charts(_open(view))[0]
    used = {trace.get("xaxis", "x") for trace in spec["data"] if trace["type"] != "heatmap"}
    assert used <= _subplots_frames_keep(spec)
    heatmaps = [trace for trace in spec["data"] if trace["type"] == "heatmap"]
    pictures = spec["layout"]["images"]
    assert heatmaps and len(pictures) == len(heatmaps)
    for trace, picture in zip(heatmaps, pictures, strict=True):
        assert trace["opacity"] == 0 and picture["xref"] == trace.get("xaxis", "x")
        z = _as_array(trace["z"])
        pixels = _pixels(picture["source"])
        cell = pixels.shape[0] // z.shape[0]
        assert pixels.shape[:2] == (z.shape[0] * cell, z.shape[1] * cell)
        r, c = np.unravel_index(np.argmax(z), z.shape)  # the brightest cell, sampled at its centre
        low, high = trace.get("zmin", z.min()), trace.get("zmax", z.max())
        colour = plotly.colors.sample_colorscale(trace["colorscale"], [(z[r, c] - low) / ((high - low) or 1)])
        expected = plotly.colors.unlabel_rgb(colour[0])
        assert np.allclose(pixels[r * cell + cell // 2, c * cell + cell // 2], expected, atol=1)
