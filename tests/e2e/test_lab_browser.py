"""The app in a real browser: pages load cleanly, the race chart plays at the requested speed,
sidebar controls update the chart quickly, and a click on the map moves the start point.

Each test opens its page fresh (a new browser context, so a new Streamlit session with default state).
The lab's race chart is the component `[data-testid=race-chart]` (optviz/ui/race_chart): its
attributes say the step shown, whether it plays, how many races it has drawn (`data-revision`) and
where the start is; `drawnPath(label)` gives the points of a path it draws and `pixelAt(x, y)` where
a point of the map is.
"""

from __future__ import annotations

import re
import statistics

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.e2e.browser import RERUN_TIMEOUT_MS, arm_rerun_watch, wait_for_rerun, wait_until_drawn

CHART = "[data-testid=race-chart]"
LATENCY_SAMPLES = 11  # the median of 11 changes: steady enough on a noisy 2-core machine
WARM_UP_CHANGES = 2
DEFAULT_OPTIMIZERS = ["Gradient descent", "SGD (noisy gradients)", "Momentum", "Adagrad", "RMSProp", "Adam"]
# In page context: the number of distinct colours in a row of the chart's background (the map), a
# sign that the contour map is drawn (a blank or flat canvas has one or two).
JS_MAP_COLOURS = """() => {
    const canvas = document.querySelector('[data-testid=race-chart] canvas');
    const context = canvas.getContext('2d');
    const row = context.getImageData(0, Math.round(canvas.height / 2), canvas.width, 1).data;
    const colours = new Set();
    for (let i = 0; i < row.length; i += 4) colours.add(row[i] * 65536 + row[i + 1] * 256 + row[i + 2]);
    return colours.size;
}"""


# --- helpers ---------------------------------------------------------------------------------------


def chart(page):
    return page.locator(CHART).first


def step(page) -> int:
    return int(chart(page).get_attribute("data-step"))


def drawn_path(page, name: str):
    """The points of the path the race chart draws for optimizer `name` (its label), or None."""
    return chart(page).evaluate("(element, name) => element.drawnPath(name)", name)


def settle(page, js: str, arg=None, timeout: float = RERUN_TIMEOUT_MS) -> None:
    """Wait until `js(arg)` is true in the page, for at most `timeout` ms: for what a finished run
    changes after it is over (a widget's value, a chart's data). Returns either way: the assertions
    that follow say what the page shows."""
    try:
        page.wait_for_function(js, arg=arg, timeout=timeout)
    except PlaywrightTimeoutError:
        pass


def sidebar_expander(page, title: str):
    sidebar = page.get_by_test_id("stSidebar")
    return sidebar.get_by_test_id("stExpander").filter(
        has=page.locator("summary", has_text=re.compile(rf"(^|\s){re.escape(title)}$"))
    )


def play_button(page):
    return chart(page).get_by_role("button", name=re.compile("Play|Pause"))


# --- a. every page loads cleanly -------------------------------------------------------------------

PAGES = {
    "lab": ("/", None),
    "mlp": ("/mlp", "MLP & backpropagation"),
    "conv": ("/conv", "Convolutions"),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_without_errors(page, open_page, open_lab, browser_log, screenshot, name):
    path, heading = PAGES[name]
    if heading is None:
        open_lab()
    else:
        open_page(path)
        page.get_by_role("heading", name=heading).wait_for()
    page.wait_for_timeout(1000)  # let late errors (lazy chunks, fonts, charts) arrive
    screenshot(page)
    if browser_log.warnings:
        print("\n".join(browser_log.warnings))
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, "the page shows an exception:\n" + "\n".join(exceptions.all_inner_texts())
    browser_log.assert_clean()


# --- b. the race chart renders -----------------------------------------------------------------------


def test_race_chart_has_one_path_per_default_optimizer_over_the_map(page, open_lab, browser_log):
    open_lab()
    steps = int(chart(page).get_by_role("slider", name="step", exact=True).get_attribute("max"))
    assert steps >= 100
    legend = chart(page).locator(".optviz-race__legend span").all_inner_texts()
    assert legend == DEFAULT_OPTIMIZERS
    for name in DEFAULT_OPTIMIZERS:
        points = drawn_path(page, name)
        assert points is not None and len(points) == 2 * (steps + 1), f"{name}: not {steps + 1} points"
    assert page.evaluate(JS_MAP_COLOURS) >= 5, "the contour map is not drawn"
    assert (
        chart(page).get_attribute("data-step") == "0" and chart(page).get_attribute("data-playing") == "false"
    )
    browser_log.assert_clean()


# --- c. Play and Pause ----------------------------------------------------------------------------


def test_play_advances_and_pause_stops(page, open_lab, browser_log):
    open_lab()
    play_button(page).click()
    page.wait_for_timeout(1500)
    assert chart(page).get_attribute("data-playing") == "true"
    playing = step(page)
    assert playing >= 5, f"Play showed only {playing} steps in 1.5 s"

    play_button(page).click()  # now Pause
    assert chart(page).get_attribute("data-playing") == "false"
    paused = step(page)
    page.wait_for_timeout(1000)
    assert step(page) == paused, "the race kept running after Pause"
    # The map is still drawn: the race is drawn over it, never instead of it.
    assert page.evaluate(JS_MAP_COLOURS) >= 5
    browser_log.assert_clean()


# --- d. animation frame rate ----------------------------------------------------------------------


def test_very_fast_animation_shows_at_least_30_frames_per_second(page, open_lab, browser_log, measurement):
    open_lab()
    speed = page.get_by_test_id("stSidebar").get_by_role("slider", name="Animation speed")
    speed.focus()
    page.keyboard.press("End")
    expect(speed).to_have_attribute("aria-valuetext", "very fast")
    # The speed reaches the chart with a short run of the page's fragments, which the script-state
    # watch can miss (it did once in CI): the chart's own speed box is what the run changes.
    speed_box = chart(page).get_by_role("combobox", name="steps per second")
    expect(speed_box).to_have_value("250", timeout=RERUN_TIMEOUT_MS)
    wait_until_drawn(page, RERUN_TIMEOUT_MS)

    # The browser's own frame rate while idle: the ceiling for any animation on this machine.
    idle_fps = page.evaluate(
        """async () => {
            let n = 0;
            const t0 = performance.now();
            while (performance.now() - t0 < 1000) { await new Promise(requestAnimationFrame); n++; }
            return n * 1000 / (performance.now() - t0);
        }"""
    )
    play_button(page).click()
    # Frames that showed a new step: the race's animation frames, as the browser painted them.
    result = page.evaluate(
        """async () => {
            const chart = document.querySelector('[data-testid=race-chart]');
            const nextFrame = () => new Promise(r => requestAnimationFrame(r));
            const t0 = performance.now();
            let rafs = 0, shown = 0, last = chart.dataset.step;
            while (performance.now() - t0 < 1500) {
                await nextFrame();
                rafs++;
                if (chart.dataset.step !== last) { shown++; last = chart.dataset.step; }
            }
            return {seconds: (performance.now() - t0) / 1000, rafs, shown, step: Number(last)};
        }"""
    )
    fps = result["shown"] / result["seconds"]
    measurement(
        f"'very fast' (250 steps/s): {fps:.1f} animation frames/s ({result['shown']} frames in "
        f"{result['seconds']:.2f} s, at step {result['step']}); browser painted "
        f"{result['rafs'] / result['seconds']:.1f} frames/s while playing, {idle_fps:.1f} while idle"
    )
    assert fps >= 30, f"only {fps:.1f} animation frames per second at 'very fast'"
    browser_log.assert_clean()


# --- e. a sidebar control updates the chart, quickly ---------------------------------------------


def test_learning_rate_change_updates_the_chart_within_500_ms(page, open_lab, browser_log, measurement):
    open_lab()
    expander = sidebar_expander(page, "Adam")
    expander.locator("summary").click()
    learning_rate = expander.get_by_role("slider", name=re.compile("learning rate"))
    learning_rate.wait_for(state="visible")
    gd_before = drawn_path(page, "Gradient descent")
    node = chart(page).element_handle()

    timings_ms = []  # key press -> chart drawn with the new path (raced by the chart: no page run)
    # Every press lowers Adam's learning rate to a value not seen before (0.05 -> 0.03 -> ... -> 3e-4),
    # so no sample is served from a cache and every one changes Adam's path; the first
    # WARM_UP_CHANGES (the browser's and the server's first redraws) are not counted.
    for i in range(WARM_UP_CHANGES + LATENCY_SAMPLES):
        key = "ArrowLeft"
        value_before = learning_rate.get_attribute("aria-valuetext")
        revision_before = chart(page).get_attribute("data-revision")
        learning_rate.focus()
        page.evaluate(
            """() => { window.__e2eKeyAt = null;
                       window.addEventListener('keydown', () => { window.__e2eKeyAt = performance.now(); },
                                               {capture: true, once: true}); }"""
        )
        page.keyboard.press(key)
        # Polled once per animation frame: the first frame the chart paints with the new race.
        changed_at = page.wait_for_function(
            """before => {
                const chart = document.querySelector('[data-testid=race-chart]');
                return chart && chart.dataset.revision !== before && performance.now();
            }""",
            arg=revision_before,
            polling="raf",
            timeout=RERUN_TIMEOUT_MS,
        ).json_value()
        key_at = page.evaluate("() => window.__e2eKeyAt")
        assert key_at is not None, "the key press did not reach the slider"
        if i >= WARM_UP_CHANGES:
            timings_ms.append(changed_at - key_at)
        value_after = learning_rate.get_attribute("aria-valuetext")
        assert value_after != value_before, f"{key} did not move Adam's learning-rate slider ({value_before})"
        wait_until_drawn(page, RERUN_TIMEOUT_MS)  # a run for an earlier press at rest, if one began

    assert drawn_path(page, "Gradient descent") == gd_before, (
        "changing Adam's learning rate changed GD's path"
    )
    assert page.evaluate("node => node === document.querySelector('[data-testid=race-chart]')", node), (
        "the chart was mounted again"
    )
    median = statistics.median(timings_ms)
    measurement(
        "learning-rate change -> chart drawn with the new path: "
        + ", ".join(f"{t:.0f}" for t in timings_ms)
        + f" ms; median {median:.0f} ms"
    )
    assert median <= 500, f"median {median:.0f} ms from key press to updated chart (samples {timings_ms})"
    browser_log.assert_clean()


# --- f. a click on the map sets the start point ---------------------------------------------------


def test_click_on_map_sets_start_point(page, open_lab, browser_log, screenshot):
    open_lab()
    target = (0.55, 0.03)
    start_before = [float(v) for v in chart(page).get_attribute("data-start").split(",")]
    assert start_before != pytest.approx(target, abs=0.1)

    element = chart(page)
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    px, py = element.evaluate("(element, [x, y]) => element.pixelAt(x, y)", list(target))
    x0_box, y0_box = page.get_by_label("x₀", exact=True), page.get_by_label("y₀", exact=True)
    inputs_before = (x0_box.input_value(), y0_box.input_value())
    arm_rerun_watch(page)
    page.mouse.click(box["x"] + px, box["y"] + py)
    wait_for_rerun(page, "a click on the map")
    # The inputs take the run's values from React effects, after the run is over.
    settle(
        page,
        """([before, start]) => {
            const value = label => document.querySelector(`input[aria-label="${label}"]`)?.value;
            const chart = document.querySelector('[data-testid=race-chart]');
            return (value('x₀') !== before[0] || value('y₀') !== before[1]) && chart.dataset.start !== start;
        }""",
        [list(inputs_before), ",".join(str(v) for v in start_before)],
    )
    screenshot(page)

    x0, y0 = float(x0_box.input_value()), float(y0_box.input_value())
    # One CSS pixel is about 1/700 of the window's 4 units: the click lands within a pixel or two.
    assert (x0, y0) == pytest.approx(target, abs=0.02), (
        f"after a click at {target} the inputs show ({x0}, {y0})"
    )
    start = [float(v) for v in chart(page).get_attribute("data-start").split(",")]
    assert start == pytest.approx((x0, y0), abs=1e-3), (
        f"the chart's start is at {start}, the inputs say ({x0}, {y0})"
    )
    gd_path = drawn_path(page, "Gradient descent")
    assert gd_path[:2] == pytest.approx((x0, y0), abs=1e-3)
    browser_log.assert_clean()
