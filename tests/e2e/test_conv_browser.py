"""The convolutions page in a real browser: it loads cleanly, and moving the step-by-step scrubber
moves the highlighted window and output cell (read from the Plotly graph div)."""

from __future__ import annotations

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
