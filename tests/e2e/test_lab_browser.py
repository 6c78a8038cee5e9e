"""The app in a real browser: pages load cleanly, the race chart animates at the requested speed,
sidebar controls update the chart quickly, and a click on the map moves the start point.

Each test opens its page fresh (a new browser context, so a new Streamlit session with default state).
The lab's race chart is the first `.js-plotly-plot` on the page; the traces are read from Plotly's
`_fullData` (decoded arrays: `data` holds the base64 `{dtype, bdata}` form Streamlit sends).
"""

from __future__ import annotations

import re
import statistics

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.e2e.browser import RERUN_TIMEOUT_MS, arm_rerun_watch, wait_for_rerun

CHART = ".js-plotly-plot"
LATENCY_SAMPLES = 11  # the median of 11 changes: steady enough on a noisy 2-core machine
WARM_UP_CHANGES = 2
DEFAULT_OPTIMIZERS = ["Gradient descent", "SGD (noisy gradients)", "Momentum", "Adagrad", "RMSProp", "Adam"]

# JavaScript run on the race chart's element (`gd`, the first `.js-plotly-plot`).
JS_TRACE = """(gd, name) => {
    const t = gd._fullData.find(d => d.name === name);
    return t ? {x: Array.from(t.x), y: Array.from(t.y)} : null;
}"""
# The frame duration (ms) the race chart's Play button asks Plotly for.
JS_FRAME_MS = "gd => gd.layout.updatemenus[0].buttons[0].args[1].frame.duration"
# In page context: the first few points of a trace of the current race chart, or null.
JS_PATH_HEAD = """name => {
    const gd = document.querySelector('.js-plotly-plot');
    const t = gd && gd._fullData && gd._fullData.find(d => d.name === name);
    return t ? Array.from(t.x.slice(0, 8)).concat(Array.from(t.y.slice(0, 8))) : null;
}"""


# --- helpers ---------------------------------------------------------------------------------------


def chart(page):
    return page.locator(CHART).first


def count_frames(page) -> None:
    """Count the animation frames the race chart shows (Plotly's plotly_animatingframe event)."""
    chart(page).evaluate(
        """gd => {
            window.__e2eFrames = 0;
            window.__e2eLastFrame = null;
            gd.on('plotly_animatingframe', e => { window.__e2eFrames++; window.__e2eLastFrame = e.name; });
        }"""
    )


def shown_frames(page) -> dict:
    return page.evaluate("() => ({count: window.__e2eFrames, last: window.__e2eLastFrame})")


def trace(page, name: str):
    """The named trace of the race chart as {x, y} lists, or None."""
    return chart(page).evaluate(JS_TRACE, name)


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
    return chart(page).locator(".updatemenu-button", has_text="Play")


def pause_button(page):
    return chart(page).locator(".updatemenu-button", has_text="Pause")


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


def test_race_chart_has_frames_and_one_path_per_default_optimizer(page, open_lab, browser_log):
    open_lab()
    gd = chart(page)
    info = gd.evaluate(
        """gd => ({
            frames: gd._transitionData._frames.length,
            frameNames: gd._transitionData._frames.map(f => f.name),
            sliderSteps: gd.layout.sliders[0].steps.length,
            types: gd._fullData.map(t => t.type),
            lines: gd._fullData.filter(t => t.type === 'scatter' && t.mode === 'lines')
                               .map(t => ({name: t.name, n: t.x.length})),
        })"""
    )
    assert info["frames"] > 100, f"only {info['frames']} animation frames"
    assert info["frameNames"][0] == "0" and all(n.isdigit() for n in info["frameNames"])
    assert [int(n) for n in info["frameNames"]] == sorted({int(n) for n in info["frameNames"]})
    assert 26 <= info["sliderSteps"] <= 52, "the step slider has about 50 stops whatever the run's length"
    assert info["types"][0] == "contour"
    assert [line["name"] for line in info["lines"]] == DEFAULT_OPTIMIZERS
    last_step = int(info["frameNames"][-1])
    for line in info["lines"]:
        assert line["n"] == last_step + 1, f"{line['name']} has {line['n']} points for {last_step} steps"
    browser_log.assert_clean()


# --- c. Play and Pause ----------------------------------------------------------------------------


def test_play_advances_and_pause_stops(page, open_lab, browser_log):
    open_lab()
    count_frames(page)
    play_button(page).click()
    page.wait_for_timeout(1500)
    playing = shown_frames(page)
    assert playing["count"] >= 5, f"Play showed only {playing['count']} frames in 1.5 s"

    pause_button(page).click()
    page.wait_for_timeout(300)  # a frame already in flight may still land
    paused = shown_frames(page)
    page.wait_for_timeout(1000)
    later = shown_frames(page)
    assert later["count"] == paused["count"], f"the animation kept running after Pause: {paused} -> {later}"

    # The head markers sit where the last frame shown put them.
    frame = chart(page).evaluate(
        """gd => { const f = gd._transitionData._frameHash[window.__e2eLastFrame];
                   const heads = gd._fullData[f.traces[0]];
                   return {frame: f.data[0], heads: {x: Array.from(heads.x), y: Array.from(heads.y)}}; }"""
    )
    assert frame["heads"]["x"] == pytest.approx(frame["frame"]["x"])
    assert frame["heads"]["y"] == pytest.approx(frame["frame"]["y"])
    # The surface is still drawn: a contour trace would have been erased by the frames
    # (plotly.js#4491), the picture under the traces is not.
    assert chart(page).evaluate("gd => gd.querySelectorAll('.imagelayer image').length") == 1
    browser_log.assert_clean()


# --- d. animation frame rate ----------------------------------------------------------------------


def test_very_fast_animation_shows_at_least_30_frames_per_second(page, open_lab, browser_log, measurement):
    open_lab()
    speed = page.get_by_test_id("stSidebar").get_by_role("slider", name="Animation speed")
    speed.focus()
    frame_ms_before = chart(page).evaluate(JS_FRAME_MS)
    arm_rerun_watch(page)
    page.keyboard.press("End")
    expect(speed).to_have_attribute("aria-valuetext", "very fast")
    wait_for_rerun(page, "choosing 'very fast'")
    # The chart takes the run's new figure from a React effect, after the run is over.
    settle(
        page,
        f"""before => {{ const gd = document.querySelector('{CHART}');
                        return gd && gd.layout && ({JS_FRAME_MS})(gd) !== before; }}""",
        frame_ms_before,
    )
    frame_ms = chart(page).evaluate(JS_FRAME_MS)
    assert frame_ms <= 1000 / 60 + 1, f"'very fast' asks Plotly for {frame_ms} ms frames, not 60 fps"

    # The browser's own frame rate while idle: the ceiling for any animation on this machine.
    idle_fps = page.evaluate(
        """async () => {
            let n = 0;
            const t0 = performance.now();
            while (performance.now() - t0 < 1000) { await new Promise(requestAnimationFrame); n++; }
            return n * 1000 / (performance.now() - t0);
        }"""
    )
    count_frames(page)
    play_button(page).click()
    result = page.evaluate(
        """async () => {
            const nextFrame = () => new Promise(r => requestAnimationFrame(r));
            const waitStart = performance.now();
            while (window.__e2eFrames < 2 && performance.now() - waitStart < 5000) await nextFrame();
            const start = {t: performance.now(), count: window.__e2eFrames};
            let rafs = 0;
            while (performance.now() - start.t < 2000) { await nextFrame(); rafs++; }
            return {start, end: {t: performance.now(), count: window.__e2eFrames}, rafs};
        }"""
    )
    # No Pause here: pausing is test_play_advances_and_pause_stops's business (and its page errors).
    seconds = (result["end"]["t"] - result["start"]["t"]) / 1000
    shown = result["end"]["count"] - result["start"]["count"]
    fps = shown / seconds
    measurement(
        f"'very fast' (60 fps requested, {frame_ms} ms frames): {fps:.1f} animation frames/s "
        f"({shown} frames in {seconds:.2f} s); browser painted {result['rafs'] / seconds:.1f} frames/s "
        f"while playing, {idle_fps:.1f} while idle"
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
    gd_before = trace(page, "Gradient descent")

    timings_ms, rerun_start_ms = [], []  # key press -> chart drawn with the new path; -> script run started
    # Every press lowers Adam's learning rate to a value not seen before (0.05 -> 0.03 -> ... -> 3e-4),
    # so no sample is served from a cache and every one changes Adam's path; the first
    # WARM_UP_CHANGES (the browser's and the server's first redraws) are not counted.
    for i in range(WARM_UP_CHANGES + LATENCY_SAMPLES):
        key = "ArrowLeft"
        value_before = learning_rate.get_attribute("aria-valuetext")
        path_before = page.evaluate(JS_PATH_HEAD, "Adam")
        learning_rate.focus()
        page.evaluate(
            """() => { window.__e2eKeyAt = null;
                       window.addEventListener('keydown', () => { window.__e2eKeyAt = performance.now(); },
                                               {capture: true, once: true}); }"""
        )
        arm_rerun_watch(page)
        page.keyboard.press(key)
        # Polled once per animation frame, so this is the first frame the browser draws with the new
        # path (Plotly sets the data, then blocks the main thread while drawing the new chart).
        changed_at = page.wait_for_function(
            """([name, before]) => {
                const gd = document.querySelector('.js-plotly-plot');
                const t = gd && gd._fullData && gd._fullData.find(d => d.name === name);
                if (!t) return false;
                const now = Array.from(t.x.slice(0, 8)).concat(Array.from(t.y.slice(0, 8)));
                return now.some((v, j) => v !== before[j]) && performance.now();
            }""",
            arg=["Adam", path_before],
            polling="raf",
            timeout=RERUN_TIMEOUT_MS,
        ).json_value()
        key_at, run_at = page.evaluate("() => [window.__e2eKeyAt, window.__e2eRanAt]")
        assert key_at is not None, "the key press did not reach the slider"
        if i >= WARM_UP_CHANGES:
            timings_ms.append(changed_at - key_at)
            rerun_start_ms.append(None if run_at is None else run_at - key_at)
        value_after = learning_rate.get_attribute("aria-valuetext")
        assert value_after != value_before, f"{key} did not move Adam's learning-rate slider ({value_before})"
        wait_for_rerun(page, f"changing the learning rate to {value_after}")

    assert trace(page, "Gradient descent") == gd_before, "changing Adam's learning rate changed GD's path"
    median = statistics.median(timings_ms)
    measurement(
        "learning-rate change -> chart drawn with the new path: "
        + ", ".join(f"{t:.0f}" for t in timings_ms)
        + f" ms; median {median:.0f} ms (script run started after: "
        + ", ".join("?" if t is None else f"{t:.0f}" for t in rerun_start_ms)
        + " ms)"
    )
    assert median <= 500, f"median {median:.0f} ms from key press to updated chart (samples {timings_ms})"
    browser_log.assert_clean()


# --- f. a click on the map sets the start point ---------------------------------------------------


def test_click_on_map_sets_start_point(page, open_lab, browser_log, screenshot):
    open_lab()
    target = (0.55, 0.03)  # between grid points: the click selects the nearest one
    grid = trace(page, "click to start here")
    nearest = min(
        zip(grid["x"], grid["y"], strict=True),
        key=lambda p: (p[0] - target[0]) ** 2 + (p[1] - target[1]) ** 2,
    )
    start_before = trace(page, "start")
    assert (start_before["x"][0], start_before["y"][0]) != pytest.approx(nearest, abs=0.1)

    gd = chart(page)
    gd.scroll_into_view_if_needed()
    position = gd.evaluate(
        """(gd, [x, y]) => { const L = gd._fullLayout, box = gd.getBoundingClientRect();
                          return {x: box.left + L._size.l + L.xaxis.l2p(x),
                                  y: box.top + L._size.t + L.yaxis.l2p(y)}; }""",
        list(target),
    )
    x0_box, y0_box = page.get_by_label("x₀", exact=True), page.get_by_label("y₀", exact=True)
    inputs_before = (x0_box.input_value(), y0_box.input_value())
    arm_rerun_watch(page)
    page.mouse.move(position["x"], position["y"])
    page.mouse.click(position["x"], position["y"])
    wait_for_rerun(page, "a click on the map")
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot').length === 2", timeout=RERUN_TIMEOUT_MS
    )  # the previous chart is gone
    # The inputs and the chart take the run's values from React effects, after the run is over.
    settle(
        page,
        """([before, name, start]) => {
            const value = label => document.querySelector(`input[aria-label="${label}"]`)?.value;
            const gd = document.querySelector('.js-plotly-plot');
            const t = gd && gd._fullData && gd._fullData.find(d => d.name === name);
            return (value('x₀') !== before[0] || value('y₀') !== before[1])
                && t && (t.x[0] !== start[0] || t.y[0] !== start[1]);
        }""",
        [list(inputs_before), "start", [start_before["x"][0], start_before["y"][0]]],
    )
    screenshot(page)

    x0, y0 = float(x0_box.input_value()), float(y0_box.input_value())
    assert (x0, y0) == pytest.approx(nearest, abs=1e-3), (
        f"after a click at {target} the start inputs show ({x0}, {y0}), not the nearest grid point {nearest}"
    )
    start = trace(page, "start")
    assert (start["x"][0], start["y"][0]) == pytest.approx((x0, y0), abs=1e-3), (
        f"the chart's start marker is at ({start['x'][0]}, {start['y'][0]}), the inputs say ({x0}, {y0})"
    )
    gd_path = trace(page, "Gradient descent")
    assert (gd_path["x"][0], gd_path["y"][0]) == pytest.approx((x0, y0), abs=1e-3)
    browser_log.assert_clean()
