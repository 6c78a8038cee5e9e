"""The convolution page's backward-pass tab in a real browser: its chart (optviz/ui/conv_backward_steps)
works every step out as `conv.backward_steps` does and ends at `conv.conv2d_backward`, Play, the keys
and a pointer on dL/dY move it, a one-cell gradient at stride 2 lands on its window only and dL/dY
shows its gaps, and the chart fits a slide (960 x 540, `?embed=true`) and a 390 px phone."""

from __future__ import annotations

import io
from urllib.parse import quote

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from optviz import conv
from optviz.data import load as load_digits
from tests.e2e.browser import LOAD_TIMEOUT_MS, wait_until_drawn
from tests.e2e.conftest import PHONE

CHART = "[data-testid=conv-backward]"
JS_DRAWN = f"() => Number(document.querySelector('{CHART}')?.dataset.revision) > 0"
VIEW = "/conv?conv_view=" + quote("Backward pass")  # a space in a link: %20 (the app writes +)


def _open(page, app_url, query: str = ""):
    page.goto(app_url + VIEW + query, timeout=LOAD_TIMEOUT_MS)
    wait_until_drawn(page, LOAD_TIMEOUT_MS)
    page.wait_for_function(JS_DRAWN, timeout=LOAD_TIMEOUT_MS)
    chart = page.locator(CHART)
    chart.scroll_into_view_if_needed()
    return chart


def _digit() -> np.ndarray:
    """The page's default input: test digit 0 in [0, 1], one channel."""
    return load_digits().test_images[0][None] / 255.0


def _step(chart, n: int) -> dict:
    return chart.evaluate("(root, n) => root.stepAt(n)", n)


def _steps(chart) -> int:
    return int(chart.locator("input[type=range]").get_attribute("max")) + 1


def test_the_tab_opens_from_its_link_draws_and_plays(page, app_url, browser_log, screenshot):
    chart = _open(page, app_url)
    link = page.get_by_test_id("share-link").input_value()
    assert "conv_view=Backward+pass" in link  # the app's own link to this tab: the space as +
    assert page.get_by_role("tab", name="Backward pass").get_attribute("aria-selected") == "true"
    start = int(chart.get_attribute("data-step"))
    chart.locator(".optviz-steps__play").click()
    page.wait_for_function(f"() => Number(document.querySelector('{CHART}').dataset.step) > {start + 3}")
    assert chart.get_attribute("data-playing") == "true"
    screenshot(page, "playing")
    chart.locator(".optviz-steps__play").click()
    assert chart.get_attribute("data-playing") == "false"
    chart.locator(".optviz-steps__scrubber").fill("100")
    chart.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    assert chart.get_attribute("data-step") == "111"
    assert "output cell (4, 7): g = 1" in chart.inner_text()  # 26 cells a row: 111 = 4 * 26 + 7
    # Pointing at a cell of dL/dY (paused) goes to its step: the cell (20, 5).
    box = chart.evaluate("root => root.panels().dy")
    canvas = chart.locator("canvas").bounding_box()
    cell = box["size"] / 26
    page.mouse.move(canvas["x"] + box["x"] + 5.5 * cell, canvas["y"] + box["y"] + 20.5 * cell)
    page.wait_for_function(f"() => document.querySelector('{CHART}').dataset.step === '{20 * 26 + 5}'")
    assert page.get_by_test_id("stException").count() == 0
    browser_log.assert_clean()


def test_every_step_is_backward_steps_and_the_last_is_conv2d_backward(page, app_url, browser_log):
    """The default view (digit 0, Sobel x, dL/dY of ones): the browser's steps (window, patch, the sums
    so far) equal `conv.backward_steps`, and after the last one dL/dK and dL/dX equal the library's."""
    chart = _open(page, app_url)
    x, w = _digit(), conv.kernel_preset("Sobel x")[None, None]
    dy = np.ones((1, 26, 26))
    steps = list(conv.backward_steps(x, w, dy))
    assert _steps(chart) == len(steps)
    for n in (0, 1, 27, 300, len(steps) - 1):
        shown, step = _step(chart, n), steps[n]
        assert shown["index"] == list(step.index[1:]) and shown["dy"] == step.dy
        assert shown["taps"] == step.taps.reshape(-1, 2).tolist()
        assert np.allclose(shown["patch"], step.patch.ravel(), atol=1e-6)
        assert np.allclose(shown["dw"], step.dw.ravel(), atol=1e-4)
        assert np.allclose(shown["dxPad"], step.dx_pad.ravel(), atol=1e-4)
    dx, dw = conv.conv2d_backward(x, w, dy)
    last = _step(chart, len(steps) - 1)
    assert np.allclose(last["dw"], dw.ravel(), rtol=1e-5, atol=1e-3)
    assert np.allclose(last["dxPad"], dx.ravel(), atol=1e-4)  # no padding: padded and plain coincide
    browser_log.assert_clean()


@pytest.mark.parametrize(
    "query, geometry",
    [
        ("&c2b_stride=2&c2b_padding=1&c2b_dilation=2&c2b_grad=random&c2b_seed=7", (2, 1, 2)),
        ("&c2b_source=checkerboard&c2b_size=5&c2b_stride=3&c2b_padding=same&c2b_grad=random", (3, "same", 1)),
    ],
)
def test_strided_padded_dilated_gradients_end_at_conv2d_backward(page, app_url, browser_log, query, geometry):
    chart = _open(page, app_url, query)
    stride, padding, dilation = geometry
    source = "checkerboard" in query
    x = conv.pattern("checkerboard")[None] if source else _digit()
    w = conv.kernel_preset("Sobel x", 5 if source else 3)[None, None]
    args = {"stride": stride, "padding": padding, "dilation": dilation}
    out = conv.geometry(x.shape[1:], w.shape[2:], **args).out_shape
    seed = 7 if "c2b_seed" in query else 0
    dy = conv.upstream("random", (1, *out), seed=seed)
    dx, dw = conv.conv2d_backward(x, w, dy, **args)
    last = _step(chart, _steps(chart) - 1)
    assert _steps(chart) == out[0] * out[1]
    assert np.allclose(last["dw"], dw.ravel(), atol=1e-4)
    pads = conv.geometry(x.shape[1:], w.shape[2:], **args).pads
    rows, cols = x.shape[1] + sum(pads[0]), x.shape[2] + sum(pads[1])
    dx_pad = np.array(last["dxPad"]).reshape(rows, cols)
    (top, _), (left, _) = pads
    assert np.allclose(dx_pad[top : top + x.shape[1], left : left + x.shape[2]], dx[0], atol=1e-4)
    browser_log.assert_clean()


def _pixels(element) -> np.ndarray:
    shot = Image.open(io.BytesIO(element.screenshot())).convert("RGB")
    scale = shot.width / element.bounding_box()["width"]
    return np.asarray(shot, float), scale


def test_one_cell_at_stride_two_lands_on_its_window_and_dy_shows_the_gaps(
    page, app_url, browser_log, screenshot
):
    """dL/dY = 1 at cell (6, 4) only, stride 2, dilation 2: dL/dX after the last step is the kernel on
    that cell's window, its taps 2 apart, and nothing elsewhere; dL/dY spread by the stride has its
    cells 2 apart with zeros (gaps) between; with dL/dY of ones the gaps show in the picture."""
    chart = _open(page, app_url, "&c2b_grad=one+cell&c2b_row=6&c2b_col=4&c2b_stride=2&c2b_dilation=2")
    assert chart.get_attribute("data-step") == str(6 * 12 + 4)  # it opens on the cell (12 cells a row)
    kernel = conv.kernel_preset("Sobel x")
    last = _step(chart, _steps(chart) - 1)
    dx = np.array(last["dxPad"]).reshape(28, 28)
    expected = np.zeros((28, 28))
    expected[12:17:2, 8:13:2] = kernel  # taps (6 * 2 + 2u, 4 * 2 + 2v)
    assert np.allclose(dx, expected)
    spread = chart.evaluate("root => root.spreadDy()")
    assert (spread["rows"], spread["cols"]) == (23, 23)  # 2 * (12 - 1) + 1
    values = np.array(spread["values"]).reshape(23, 23)
    assert values[12, 8] == 1 and np.count_nonzero(values) == 1
    screenshot(page, "one-cell")

    chart = _open(page, app_url, "&c2b_stride=2")  # dL/dY of ones: a cell, a gap, a cell...
    spread = np.array(chart.evaluate("root => root.spreadDy()")["values"]).reshape(25, 25)
    assert (spread[::2, ::2] == 1).all() and not spread[1::2].any() and not spread[:, 1::2].any()
    box = chart.evaluate("root => root.panels().dy")
    pixels, scale = _pixels(chart.locator("canvas"))
    cell = box["size"] / 25

    def colour(r, c):
        y, x = round((box["y"] + (r + 0.5) * cell) * scale), round((box["x"] + (c + 0.5) * cell) * scale)
        return pixels[y, x]

    assert np.abs(colour(20, 20) - colour(20, 21)).sum() > 100  # a cell of g, then a gap (zero: white)
    assert np.abs(colour(20, 21) - colour(21, 21)).sum() < 10  # two gaps alike
    screenshot(page, "gaps")
    browser_log.assert_clean()


def test_the_tab_fits_a_slide(new_page, app_url, browser_log, screenshot):
    page = new_page(viewport={"width": 960, "height": 540})
    page.goto(f"{app_url}{VIEW}&embed=true", timeout=LOAD_TIMEOUT_MS)
    wait_until_drawn(page, LOAD_TIMEOUT_MS)
    page.wait_for_function(JS_DRAWN, timeout=LOAD_TIMEOUT_MS)
    page.wait_for_timeout(500)
    screenshot(page, "embed")
    chart = page.locator(CHART)
    box = chart.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 960 and box["y"] + box["height"] <= 540
    for control in (".optviz-steps__play", ".optviz-steps__scrubber"):
        control_box = chart.locator(control).bounding_box()
        assert control_box["y"] + control_box["height"] <= 540, control
    expect(page.get_by_role("tab")).to_have_count(0)  # the linked view alone
    expect(page.get_by_text("Input, kernel, stride, padding, dilation, ∂L/∂Y")).to_be_visible()  # folded
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 960
    browser_log.assert_clean()


def test_the_tab_fits_a_phone(new_page, app_url, browser_log, screenshot):
    """On a 390 px phone the panels stack (dL/dY beside the input, the grids and dL/dX under them),
    nothing is wider than the screen, and Play is a thumb-sized target."""
    page = new_page(**PHONE)
    page.goto(f"{app_url}{VIEW}&c2b_stride=2", timeout=LOAD_TIMEOUT_MS)
    wait_until_drawn(page, LOAD_TIMEOUT_MS)
    page.wait_for_function(JS_DRAWN, timeout=LOAD_TIMEOUT_MS)
    chart = page.locator(CHART)
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    panels = chart.evaluate("root => root.panels()")
    assert (
        panels["dy"]["x"] < panels["input"]["x"] and panels["dy"]["y"] < panels["patch"]["y"]
    )  # side by side
    assert panels["input"]["y"] < panels["patch"]["y"] < panels["dx"]["y"]
    for name in ("dy", "input", "patch", "dw", "kernel", "dx"):
        assert panels[name]["x"] >= 0 and panels[name]["x"] + panels[name]["size"] <= box["width"], name
    play = chart.locator(".optviz-steps__play").bounding_box()
    assert play["height"] >= 32 and play["width"] >= 44
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # no sideways scroll
    chart.locator(".optviz-steps__play").tap()
    page.wait_for_function(f"() => document.querySelector('{CHART}').dataset.playing === 'true'")
    screenshot(page, "phone")
    browser_log.assert_clean()


def test_in_presenter_mode_play_is_on_a_1280_x_720_projectors_first_screen(
    new_page, app_url, browser_log, screenshot
):
    """Presenter mode puts the chart before the controls and the lesson's paragraph under it."""
    page = new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{app_url}{VIEW}&presenter=true", timeout=LOAD_TIMEOUT_MS)
    wait_until_drawn(page, LOAD_TIMEOUT_MS)
    page.wait_for_function(JS_DRAWN, timeout=LOAD_TIMEOUT_MS)
    page.wait_for_timeout(500)  # the chart's layout follows its first drawing
    screenshot(page, "presenter")
    play = page.locator(".optviz-steps__play").bounding_box()
    assert play["y"] >= 0 and play["y"] + play["height"] <= 720, f"Play at {play}, window 720 px"
    assert page.locator(CHART).get_attribute("class").endswith("optviz-steps--presenter")
    browser_log.assert_clean()
