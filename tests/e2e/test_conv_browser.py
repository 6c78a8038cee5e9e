"""The convolutions page in a real browser: it loads cleanly, moving the step-by-step scrubber moves
the highlighted window and output cell (read from the Plotly graph div), and playing keeps the
pictures the frames do not move (the digit, the kernel, the output so far; the 1D tab's text)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.e2e.browser import LOAD_TIMEOUT_MS, arm_rerun_watch, wait_for_rerun

# The step-by-step chart is the first Plotly graph on the page. Its moving traces (see
# optviz.conv.figures.step_figure) are the frames' `traces`; the sixth outlines the output cell.
JS_STATE = """gd => {
    const frame = gd._transitionData._frames[0];
    const cell = gd._fullData[frame.traces[5]];
    const sum = gd._fullData[frame.traces[4]];
    return {active: gd.layout.sliders[0].active, cellX: Array.from(cell.x), cellY: Array.from(cell.y),
            sum: sum.text[0], frames: gd._transitionData._frames.length};
}"""


def test_scrubbing_moves_the_highlighted_output_cell(page, open_page, browser_log, screenshot):
    open_page("/conv")
    chart = page.locator(".js-plotly-plot").first
    page.wait_for_function(
        """() => { const gd = document.querySelector('.js-plotly-plot');
                   return gd && gd._transitionData && gd._transitionData._frames.length > 0; }""",
        timeout=LOAD_TIMEOUT_MS,
    )
    before = chart.evaluate(JS_STATE)
    assert before["frames"] == 676 and before["active"] == 0
    assert min(before["cellX"]) == -0.5 and min(before["cellY"]) == -0.5  # output cell (0, 0)

    # Jump the way the slider does when dragged: animate to a frame by name (row 10, column 13).
    chart.evaluate(
        """gd => Plotly.animate(gd, ['273'], {mode: 'immediate', frame: {duration: 0, redraw: false},
                                              transition: {duration: 0}})"""
    )
    page.wait_for_timeout(300)
    after = chart.evaluate(JS_STATE)
    assert min(after["cellX"]) == 13 - 0.5 and min(after["cellY"]) == 10 - 0.5
    assert after["sum"] != before["sum"]  # the digit's stroke, not the empty corner

    assert after["active"] == 273  # the scrubber follows
    screenshot(page)
    assert page.get_by_test_id("stException").count() == 0
    browser_log.assert_clean()


def test_every_section_shows_without_errors(page, open_page, browser_log, screenshot):
    open_page("/conv")
    for name in ("Many channels, many filters", "1D over text"):
        arm_rerun_watch(page)
        page.get_by_role("tab", name=name).click()  # reruns the page: only the open tab computes
        wait_for_rerun(page, f"opening the tab {name!r}", timeout=LOAD_TIMEOUT_MS)
        page.wait_for_timeout(800)  # let its charts draw for the screenshot
        screenshot(page, name.split()[0].lower())
    assert page.get_by_test_id("stException").count() == 0
    browser_log.assert_clean()


# CSS pixel boxes [left, top, width, height] of subplots, from Plotly's axes (relative to the graph div).
JS_BOXES = """(gd, names) => names.map(n => {
    const x = gd._fullLayout['xaxis' + n], y = gd._fullLayout['yaxis' + n];
    return [x._offset, y._offset, x._length, y._length];
})"""
PLAY = """gd => Plotly.animate(gd, null, {mode: 'immediate', frame: {duration: 40, redraw: false},
                                        transition: {duration: 0}})"""


def _contrast(chart, boxes) -> list[float]:
    """The standard deviation of each box's pixels in a screenshot of `chart` (a picture, or numbers
    on a grid, shows as contrast; an erased subplot is flat white)."""
    shot = np.asarray(Image.open(io.BytesIO(chart.screenshot())).convert("L"), float)
    scale = shot.shape[1] / chart.bounding_box()["width"]
    return [
        float(
            shot[
                round(t * scale) : round((t + h) * scale), round(left * scale) : round((left + w) * scale)
            ].std()
        )
        for left, t, w, h in boxes
    ]


def test_playing_keeps_the_digit_the_kernel_and_the_text(page, open_page, browser_log, screenshot):
    """Mid-play, the input (digit or encoded text) and the kernel keep their contrast, and the output
    map, hidden before its cells are computed, shows the cells computed so far."""
    for path, kept, built in (("/conv", ["", "3"], ["5"]), ("/conv?conv_view=1D+over+text", [""], [])):
        open_page(path)
        page.wait_for_function(
            """() => { const gd = document.querySelector('.js-plotly-plot');
                       return gd && gd._transitionData && gd._transitionData._frames.length > 0; }""",
            timeout=LOAD_TIMEOUT_MS,
        )
        chart = page.locator(".js-plotly-plot").first
        chart.scroll_into_view_if_needed()
        boxes = chart.evaluate(JS_BOXES, kept + built)
        before = _contrast(chart, boxes)
        chart.evaluate(PLAY)
        page.wait_for_timeout(1500)  # mid-play (676 frames of 40 ms)
        playing = _contrast(chart, boxes)
        screenshot(page, "playing" if path == "/conv" else "playing-1d")
        for name, was, now in zip(kept, before, playing, strict=False):
            assert was > 10 and now > 0.5 * was, f"{path}: subplot x{name} lost its picture while playing"
        for name, was, now in zip(built, before[len(kept) :], playing[len(kept) :], strict=True):
            assert now > was + 5, f"{path}: subplot x{name} shows no output cells while playing"
    browser_log.assert_clean()
