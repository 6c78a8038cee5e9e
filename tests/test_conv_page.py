"""The convolutions page, driven through Streamlit's AppTest (no browser).

The page is run on its own (its render function), so the lab's JAX compile does not slow every test.
"""

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from optviz import conv
from optviz.packing import decode
from tests.apptest import conv_steps_data, shown

PAGE = "from optviz.ui.conv import render\nrender()"


ONE, MANY, TEXT = "2D: one channel, one filter", "Many channels, many filters", "1D over text"
BACKWARD = "Backward pass"  # its own tests: tests/test_conv_backward_page.py


def _open(view: str = ONE):
    """The page with tab `view` open (only the open tab computes)."""
    at = AppTest.from_string(PAGE, default_timeout=60)
    at.session_state["conv_view"] = view
    at.run()
    assert not at.exception, at.exception
    return at


def _charts(at):
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _steps(at) -> dict:
    """The step-by-step chart's data, its arrays decoded: input and output values and colours as
    (rows, cols) and (rows, cols, 3) arrays, the kernel as k x k."""
    data = conv_steps_data(at)
    for name in ("input", "output"):
        image = data[name]
        shape = (image["rows"], image["cols"])
        image["values"] = decode(image["values"], "<f4").reshape(shape)
        image["rgb"] = decode(image["rgb"], "u1").reshape(*shape, 3)
    k = data["kernel"]["k"]
    data["kernel"]["values"] = np.array(data["kernel"]["values"]).reshape(k, k)
    return data


def _positions(at) -> int:
    """How many window positions the step-by-step chart steps through (one per output cell)."""
    output = conv_steps_data(at)["output"]
    return output["rows"] * output["cols"]


def _messages(at):
    return [shown(m.value) for m in [*at.warning, *at.info]]


def test_the_page_renders_all_three_sections():
    at = _open()
    assert at.title[0].value == "Convolutions"
    assert [t.label for t in at.tabs] == [ONE, MANY, TEXT, BACKWARD]
    assert _charts(at) == []  # the first view draws without Plotly (its bundle is 1 MB on the wire)
    assert _positions(at) == 26 * 26  # a 28 x 28 digit, a 3 x 3 kernel, no padding
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
    assert _positions(at) == 14 * 14
    assert any("= 14" in element.value for element in at.latex)
    at.number_input(key="c2_dilation").set_value(3).run()
    assert _positions(at) == 14 * 14  # "same" grows with the dilation
    assert conv_steps_data(at)["stride"] == 2 and conv_steps_data(at)["dilation"] == 3


@pytest.mark.parametrize(("stride", "padding", "dilation"), [(1, "0", 1), (2, "1", 2), (3, "same", 1)])
def test_the_chart_can_work_out_every_window_as_the_loops_do(stride, padding, dilation):
    """The browser works each window out from the padded input, the kernel, the stride and the
    dilation (optviz/ui/conv_steps); from what it is sent, every window of the explicit loops
    (`conv.windows`) follows: taps, patch, products, and the sum shown, the layer's output."""
    at = _open()
    at.selectbox(key="c2_source").set_value("square").run()
    at.number_input(key="c2_stride").set_value(stride).run()
    at.selectbox(key="c2_padding").set_value(padding).run()
    at.number_input(key="c2_dilation").set_value(dilation).run()
    data = _steps(at)
    image = conv.pattern("square")[None]
    kernel = conv.kernel_preset("Sobel x")[None, None]
    s, d = data["stride"], data["dilation"]
    pad = "same" if padding == "same" else int(padding)
    windows = list(conv.windows(image, kernel, stride=stride, padding=pad, dilation=dilation))
    assert len(windows) == data["output"]["values"].size
    top, left, rows, cols = data["inner"]
    assert np.allclose(data["input"]["values"][top : top + rows, left : left + cols], image[0])
    u, v = np.indices(data["kernel"]["values"].shape)
    for w in windows:
        i, j = w.index
        patch = data["input"]["values"][i * s + u * d, j * s + v * d]
        assert np.allclose(patch, w.patch[0])
        assert np.allclose(patch * data["kernel"]["values"], w.products[0])
        assert np.isclose(data["output"]["values"][i, j], w.value, atol=1e-5)
    assert len({round(w.value, 3) for w in windows}) > 2  # edges: positive, negative and zero responses


def test_the_chart_opens_on_a_window_over_the_digits_stroke():
    """Not on the all-zero corner: the opening cell is the first in reading order with at least half
    the largest response, and its window holds ink."""
    data = _steps(_open())
    output = np.abs(data["output"]["values"])
    cols = output.shape[1]
    i, j = divmod(data["openStep"], cols)
    assert output[i, j] >= 0.5 * output.max()
    assert not (output.ravel()[: data["openStep"]] >= 0.5 * output.max()).any()
    k = data["kernel"]["k"]
    assert data["input"]["values"][i : i + k, j : j + k].max() > 0.25  # stride 1, no padding: the window
    assert data["openStep"] > cols  # below the first row of windows (the digit has an empty margin)


def test_the_chart_colours_each_cell_as_a_heatmap_would():
    import plotly.colors

    data = _steps(_open())
    for name, scale in (("input", "Greys_r"), ("output", "RdBu")):
        z, rgb = data[name]["values"], data[name]["rgb"]
        r, c = np.unravel_index(np.argmax(z), z.shape)
        low, high = (min(z.min(), 0), max(z.max(), 1)) if name == "input" else (-abs(z).max(), abs(z).max())
        colour = plotly.colors.sample_colorscale(scale, [(z[r, c] - low) / (high - low)])[0]
        assert np.allclose(rgb[r, c], plotly.colors.unlabel_rgb(colour), atol=1)


def test_the_flip_toggle_flips_the_kernel_shown():
    at = _open()
    assert _steps(at)["kernel"]["values"][0].tolist() == [-1, 0, 1]
    at.toggle(key="c2_flip").set_value(True).run()
    assert _steps(at)["kernel"]["values"][0].tolist() == [1, 0, -1]


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
    assert _positions(at) == 676


def test_a_dilated_kernel_larger_than_the_input_falls_back_to_dilation_one():
    at = _open()
    at.segmented_control(key="c2_size").set_value(5).run()
    at.number_input(key="c2_dilation").set_value(8).run()  # spans 33 cells; the digit has 28
    assert not at.exception
    assert any("fits nowhere" in m and "dilation 1" in m for m in _messages(at))
    assert _positions(at) == 24 * 24


def test_a_stride_larger_than_the_input_gives_one_window_and_says_so():
    at = _open()
    at.number_input(key="c2_stride").set_value(30).run()
    assert not at.exception
    assert any("larger than the input" in m for m in _messages(at))
    assert _positions(at) == 1


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


def test_what_the_frames_do_not_move_survives_play():
    """Every subplot of an animated figure has a trace the frames redraw, and its images are
    pictures in the layout (frames never touch the layout), each cell in its heatmap colour; the
    heatmaps stay, transparent, for hovering."""
    import plotly.colors

    spec = _charts(_open(TEXT))[0]
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


def test_presenter_mode_reaches_the_step_by_step_chart():
    at = _open()
    assert conv_steps_data(at)["presenter"] is False
    at.toggle(key="presenter").set_value(True).run()
    assert conv_steps_data(at)["presenter"] is True


# --- the kernel box says when the kernel is no longer its preset (issue 16) ----------------------------


def _kernel_box(at) -> str:
    """What the Kernel box shows: its current option's label (the page sends it with the value, so the
    browser shows a changed label)."""
    box = at.selectbox(key="c2_kernel")
    assert box.proto.set_value and box.proto.raw_value == box.proto.options[box.index]
    return box.proto.raw_value


def _edit(at, cells: dict, grid: str = "c2_grid_Sobel x_3"):
    """Run the page as after typing `cells` ({(row, column): text}, from 0) in the kernel editor."""
    rows: dict = {}
    for (r, c), text in cells.items():
        rows.setdefault(r, {})[str(c + 1)] = text
    at.session_state[grid] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    return at.run()


@pytest.mark.parametrize("preset", list(conv.KERNEL_PRESETS))
@pytest.mark.parametrize("k", conv.KERNEL_SIZES)
def test_an_untouched_preset_is_not_edited_and_a_changed_cell_is(preset, k):
    """The grid shows each preset in text that reads back exactly (1/9, not 0.1111); what a link
    keeps of it (6 digits) is still the preset; one changed cell is an edit."""
    from optviz.ui.conv import _cell, cells_text, kernel_edited

    exact = conv.kernel_preset(preset, k)
    shown, _ = conv.parse_kernel([[_cell(v) for v in row] for row in exact], np.zeros((k, k)))
    assert np.array_equal(shown, exact) and not kernel_edited(shown, preset)
    linked, _ = conv.parse_kernel(np.reshape(cells_text(exact).split(","), (k, k)), np.zeros((k, k)))
    assert not kernel_edited(linked, preset)
    changed = exact.copy()
    changed[k // 2, 0] += 0.01
    assert kernel_edited(changed, preset)


def test_the_kernel_box_says_edited_on_the_run_of_the_edit_and_a_new_preset_starts_afresh():
    at = _open()
    assert _kernel_box(at) == "Sobel x" and "c2_cells" not in at.query_params
    _edit(at, {(1, 1): "5"})
    assert _kernel_box(at) == "Sobel x (edited)"
    assert _steps(at)["kernel"]["values"][1].tolist() == [-2, 5, 2]
    assert at.query_params["c2_cells"] == "-1,0,1,-2,5,2,-1,0,1"
    _edit(at, {(1, 1): "0"})  # typed back to the preset's value
    assert _kernel_box(at) == "Sobel x" and "c2_cells" not in at.query_params
    at.selectbox(key="c2_kernel").set_value("box blur").run()
    assert _kernel_box(at) == "box blur" and "c2_cells" not in at.query_params
    assert np.allclose(_steps(at)["kernel"]["values"], 1 / 9)


def _linked(cells: str):
    at = AppTest.from_string(PAGE, default_timeout=60)
    at.query_params["c2_kernel"] = "Laplacian"
    at.query_params["c2_cells"] = cells
    return at.run()


def test_a_links_kernel_is_edited_unless_it_is_the_preset_and_outlives_the_first_run():
    """The link is read on the session's first look only: its kernel must stay on the next runs,
    until a new preset starts a fresh grid (going back to the link's preset starts that afresh too)."""
    at = _linked("0,1,0,1,-5,1,0,1,0")
    assert _kernel_box(at) == "Laplacian (edited)"
    at.number_input(key="c2_stride").set_value(2).run()
    assert _kernel_box(at) == "Laplacian (edited)" and _steps(at)["kernel"]["values"][1, 1] == -5
    assert at.query_params["c2_cells"] == "0,1,0,1,-5,1,0,1,0"
    at.selectbox(key="c2_kernel").set_value("Sobel x").run()
    assert _kernel_box(at) == "Sobel x" and "c2_cells" not in at.query_params
    at.selectbox(key="c2_kernel").set_value("Laplacian").run()
    assert _kernel_box(at) == "Laplacian" and _steps(at)["kernel"]["values"][1, 1] == -4
    at = _linked("0,1,0,1,-4,1,0,1,0")
    assert _kernel_box(at) == "Laplacian" and "c2_cells" not in at.query_params
