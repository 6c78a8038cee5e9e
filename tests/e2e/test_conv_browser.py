"""The convolutions page in a real browser: the step-by-step chart (optviz/ui/conv_steps) works every
window out as the explicit loops do, the scrubber, the keys and a pointer on an output cell move the
window, playing keeps the pictures (the digit, the kernel, the output so far; the 1D tab's text),
and the chart fits a 390 px phone."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from optviz import conv
from optviz.data import load as load_digits
from tests.e2e.browser import LOAD_TIMEOUT_MS, arm_rerun_watch, wait_for_rerun
from tests.e2e.conftest import PHONE

STEPS = "[data-testid=conv-steps]"
JS_DRAWN = f"() => Number(document.querySelector('{STEPS}')?.dataset.revision) > 0"


def _open_steps(page, open_page, path: str = "/conv"):
    open_page(path)
    page.wait_for_function(JS_DRAWN, timeout=LOAD_TIMEOUT_MS)
    chart = page.locator(STEPS)
    chart.scroll_into_view_if_needed()
    return chart


def test_the_first_view_loads_no_plotly(page, open_page, browser_log):
    """The step-by-step view is a canvas: Plotly's chunk (about 1 MB compressed) is not downloaded
    until a tab that draws with Plotly is opened."""
    responses = []
    page.on("response", lambda response: responses.append(response.url))
    _open_steps(page, open_page)
    page.wait_for_timeout(1500)  # late chunks would arrive by now
    assert [url for url in responses if url.endswith(".js")], "no script was loaded: the watch saw nothing"
    assert not [url for url in responses if "PlotlyChart" in url]
    browser_log.assert_clean()


def _open_step() -> int:
    """Where the default view opens: the first output cell with at least half the largest response
    (optviz/conv/figures.py, step_data), worked out here with the explicit loops."""
    image = load_digits().test_images[0][None] / 255.0
    values = np.abs([w.value for w in conv.windows(image, conv.kernel_preset("Sobel x")[None, None])])
    return int(np.flatnonzero(values >= 0.5 * values.max())[0])


def test_the_chart_works_every_window_out_as_the_loops_do(page, open_page, browser_log):
    """The browser's windows (taps, patch, products) and the sum it shows equal `conv.windows` (the
    definition as loops, in NumPy) for the page's default: test digit 0 and the Sobel x kernel."""
    chart = _open_steps(page, open_page)
    image = load_digits().test_images[0][None] / 255.0
    kernel = conv.kernel_preset("Sobel x")[None, None]
    windows = list(conv.windows(image, kernel))
    for n in (0, 1, 27, 273, 400, len(windows) - 1):
        shown = chart.evaluate("(root, n) => root.windowAt(n)", n)
        w = windows[n]
        assert shown["index"] == list(w.index)
        assert shown["taps"] == w.taps.reshape(-1, 2).tolist()
        assert np.allclose(shown["patch"], w.patch.ravel(), atol=1e-6)
        assert np.allclose(shown["products"], w.products.ravel(), atol=1e-6)
        assert np.isclose(shown["sum"], w.value, atol=1e-5)
    browser_log.assert_clean()


def test_the_scrubber_keys_and_pointer_move_the_window(page, open_page, browser_log, screenshot):
    chart = _open_steps(page, open_page)
    assert chart.get_attribute("data-step") == str(_open_step())  # on the digit, not its empty corner
    chart.locator(".optviz-steps__scrubber").fill("273")  # row 10, column 13
    assert chart.get_attribute("data-step") == "273"
    assert "output cell (10, 13)" in chart.inner_text()
    chart.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    assert chart.get_attribute("data-step") == "284"
    # Pointing at an output cell (paused) shows the window that made it: the cell (20, 5).
    panels = chart.evaluate("root => root.panels()")
    canvas = chart.locator("canvas").bounding_box()
    out = panels["output"]
    cell = out["size"] / 26
    page.mouse.move(canvas["x"] + out["x"] + 5.5 * cell, canvas["y"] + out["y"] + 20.5 * cell)
    page.wait_for_function(f"() => document.querySelector('{STEPS}').dataset.step === '{20 * 26 + 5}'")
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


def _contrast(element, boxes) -> list[float]:
    """The standard deviation of each box's pixels in a screenshot of `element` (a picture, or numbers
    on a grid, shows as contrast; an empty panel is flat). Boxes: [left, top, width, height] in CSS
    px from the element's top-left."""
    shot = np.asarray(Image.open(io.BytesIO(element.screenshot())).convert("L"), float)
    scale = shot.shape[1] / element.bounding_box()["width"]
    return [
        float(
            shot[
                round(t * scale) : round((t + h) * scale), round(left * scale) : round((left + w) * scale)
            ].std()
        )
        for left, t, w, h in boxes
    ]


def test_playing_keeps_the_digit_the_kernel_and_the_output_so_far(page, open_page, browser_log, screenshot):
    """Mid-play the input and the kernel keep their contrast; the output shows the cells computed so
    far (the rows above the opening window at the start, the whole map at the end)."""
    chart = _open_steps(page, open_page, "/conv?c2_speed=fast")
    canvas = chart.locator("canvas")
    panels = chart.evaluate("root => root.panels()")
    boxes = [
        [p["x"], p["y"], p["size"], p["size"]] for p in (panels["input"], panels["kernel"], panels["output"])
    ]
    before = _contrast(canvas, boxes)
    start = int(chart.get_attribute("data-step"))
    chart.locator(".optviz-steps__play").click()
    page.wait_for_function(f"() => Number(document.querySelector('{STEPS}').dataset.step) > {start + 20}")
    playing = _contrast(canvas, boxes)
    assert chart.get_attribute("data-playing") == "true"
    screenshot(page, "playing")
    for name, was, now in zip(("input", "kernel"), before, playing, strict=False):
        assert was > 10 and now > 0.5 * was, f"the {name} lost its picture while playing"
    chart.focus()
    page.keyboard.press("End")  # paused on the last cell: the whole output map
    assert chart.get_attribute("data-playing") == "false"
    built = _contrast(canvas, boxes)[2]
    assert built > before[2] + 5, "the output map shows no computed cells"
    browser_log.assert_clean()


def test_the_1d_view_keeps_its_text_while_playing(page, open_page, browser_log, screenshot):
    """The 1D tab is a Plotly animation: mid-play its encoded text keeps its contrast."""
    open_page("/conv?conv_view=1D+over+text")
    page.wait_for_function(
        """() => { const gd = document.querySelector('.js-plotly-plot');
                   return gd && gd._transitionData && gd._transitionData._frames.length > 0; }""",
        timeout=LOAD_TIMEOUT_MS,
    )
    chart = page.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    box = chart.evaluate(
        "gd => { const x = gd._fullLayout.xaxis, y = gd._fullLayout.yaxis;"
        " return [x._offset, y._offset, x._length, y._length]; }"
    )
    (before,) = _contrast(chart, [box])
    chart.evaluate(
        """gd => Plotly.animate(gd, null, {mode: 'immediate', frame: {duration: 40, redraw: false},
                                          transition: {duration: 0}})"""
    )
    page.wait_for_timeout(1500)
    (playing,) = _contrast(chart, [box])
    screenshot(page, "playing-1d")
    assert before > 10 and playing > 0.5 * before, "the encoded text lost its picture while playing"
    browser_log.assert_clean()


def test_the_chart_fits_a_phone(new_page, app_url, browser_log, screenshot):
    """On a 390 px phone the chart stacks (input and output side by side, the grids under them),
    nothing is wider than the screen, Play is a thumb-sized target, and the controls above the chart
    go two to a row (eight rows of them would push the chart off the first screens)."""
    page = new_page(**PHONE)
    page.goto(app_url + "/conv", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(JS_DRAWN, timeout=LOAD_TIMEOUT_MS)
    chart = page.locator(STEPS)
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    panels = chart.evaluate("root => root.panels()")
    assert panels["output"]["y"] == panels["input"]["y"] and panels["patch"]["y"] > panels["input"]["y"]
    play = chart.locator(".optviz-steps__play").bounding_box()
    assert play["height"] >= 32 and play["width"] >= 44
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # no sideways scroll
    columns = page.locator(".st-key-c2_controls [data-testid=stColumn]")
    first, second = columns.nth(0).bounding_box(), columns.nth(1).bounding_box()
    assert first["y"] == second["y"] and second["x"] > first["x"]  # the controls two by two
    chart.locator(".optviz-steps__play").tap()
    page.wait_for_function(f"() => document.querySelector('{STEPS}').dataset.playing === 'true'")
    screenshot(page, "phone")
    browser_log.assert_clean()
