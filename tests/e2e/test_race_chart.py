"""The lab's live race chart (issue 15) in a real browser: it stays mounted, keeps its step, plays,
answers the keyboard, follows a dragged start (mouse and touch; clamped at the map's edge; a click
sets it too), keeps its contour crisp while playing, fits an embed box and a phone, survives fifty
rapid changes, names a diverging path and draws side-by-side panels.

The chart is a custom component; its root element `[data-testid="race-chart"]` (possibly inside an
open shadow root: Playwright's CSS selectors pierce those) keeps the test hooks current:
`data-step`, `data-playing` ("true"/"false"), `data-revision` (one more each time new run data is
drawn) and `data-start-px` ("x,y": the start marker's centre in CSS px from the root's top-left);
`data-signature` names the settings of the race drawn (a hash of them, the same in every session).
In page context the root is found by `window.__race()` (installed by `open_race`; the chart is in
the page's DOM). Latency and frame-rate figures are printed (`pytest -s`) and listed in the summary;
`python -m bench.race_chart` judges them against the issue's budgets.
"""

from __future__ import annotations

import io
import os
import re
import statistics
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

import optviz
from optviz.serve.race_route import RACE_ROUTE
from surfaces import SURFACES
from tests.e2e.browser import LOAD_TIMEOUT_MS, RERUN_TIMEOUT_MS, wait_until_drawn
from tests.e2e.conftest import PHONE, VIEWPORT

RACE = '[data-testid="race-chart"]'
ROSENBROCK = SURFACES["rosenbrock"]  # the lab's default surface: 6 optimizers x 500 steps
ADAM_LR = "hp_adam_lr"  # the link name of Adam's learning rate
# Adam's learning-rate slider offers 43 stops, 1e-6 ... 10, and starts at 0.05 (index 28): 14 presses
# right reach 10 (index 42), then 36 left end at index 6, 1e-05. Every one of the 50 presses moves it.
FIFTY_PRESSES = ["ArrowRight"] * 14 + ["ArrowLeft"] * 36

# In page context: window.__race() returns the chart's root element (found once, then again only when
# the element it found has left the document).
JS_INSTALL_FINDER = """() => {
    window.__race = () => {
        if (!window.__raceEl || !window.__raceEl.isConnected) {
            window.__raceEl = document.querySelector('[data-testid="race-chart"]');
        }
        return window.__raceEl;
    };
}"""
JS_HOOKS = """() => { const r = window.__race(); if (!r) return null;
    return {step: r.dataset.step, playing: r.dataset.playing, revision: Number(r.dataset.revision),
            startPx: r.dataset.startPx, signature: r.dataset.signature ?? null}; }"""
# Records every change of data-revision / data-step with its time (performance.now()).
JS_WATCH = """() => {
    const r = window.__race();
    window.__revs = []; window.__steps = [];
    if (window.__raceWatch) window.__raceWatch.disconnect();
    window.__raceWatch = new MutationObserver(records => {
        const t = performance.now();
        for (const m of records) {
            if (m.attributeName === 'data-revision')
                window.__revs.push({t, revision: Number(r.dataset.revision), startPx: r.dataset.startPx});
            if (m.attributeName === 'data-step') window.__steps.push({t, step: Number(r.dataset.step)});
        }
    });
    window.__raceWatch.observe(r, {attributes: true, attributeFilter: ['data-revision', 'data-step']});
}"""
# The bounding box (viewport CSS px) of the largest canvas or svg in the chart: its map.
JS_MAP_BOX = """() => {
    const r = window.__race();
    let best = null;
    for (const el of r.querySelectorAll('canvas, svg')) {
        const b = el.getBoundingClientRect();
        if (!best || b.width * b.height > best.width * best.height)
            best = {x: b.x, y: b.y, width: b.width, height: b.height};
    }
    return best;
}"""


# --- helpers ---------------------------------------------------------------------------------------


def race(page):
    return page.locator(RACE).first


def hooks(page) -> dict:
    return page.evaluate(JS_HOOKS)


def start_px(page) -> tuple[float, float]:
    x, y = hooks(page)["startPx"].split(",")
    return float(x), float(y)


def wait_for_revision_above(page, revision: int, what: str, timeout: float = RERUN_TIMEOUT_MS) -> float:
    """Wait (polling every animation frame) until data-revision exceeds `revision`; returns the
    page time (performance.now()) of the first frame that shows it."""
    try:
        return page.wait_for_function(
            "n => Number(window.__race()?.dataset.revision) > n && performance.now()",
            arg=revision,
            polling="raf",
            timeout=timeout,
        ).json_value()
    except Exception as error:
        raise AssertionError(
            f"data-revision stayed at {revision} for {timeout:.0f} ms after {what}"
        ) from error


def open_race(page, app_url: str, path: str = "/") -> None:
    """Open `path`, wait until the script is idle and drawn and the race chart has drawn run data."""
    page.goto(app_url + path, timeout=LOAD_TIMEOUT_MS)
    wait_until_drawn(page, LOAD_TIMEOUT_MS)
    race(page).wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)
    page.evaluate(JS_INSTALL_FINDER)
    wait_for_revision_above(page, 0, "opening the page", timeout=LOAD_TIMEOUT_MS)


def settle(page, quiet_ms: int = 800, timeout_ms: int = 30_000) -> None:
    """Wait until the script is idle and drawn and data-revision has not changed for `quiet_ms`."""
    wait_until_drawn(page, timeout_ms)
    page.wait_for_function(
        """quiet => { const r = window.__race(); const now = performance.now();
                      if (window.__settleRev !== r.dataset.revision) {
                          window.__settleRev = r.dataset.revision; window.__settleAt = now; }
                      return now - window.__settleAt >= quiet; }""",
        arg=quiet_ms,
        polling=100,
        timeout=timeout_ms,
    )
    wait_until_drawn(page, timeout_ms)


def focus_chart(page) -> None:
    """Give the chart keyboard focus with a click on it, away from the map (a click on the map sets
    the start): its top-left corner."""
    race(page).click(position={"x": 3, "y": 3})


def lr_slider(page, optimizer: str = "Adam"):
    """An optimizer's learning-rate slider in the sidebar (its expander opened)."""
    sidebar = page.get_by_test_id("stSidebar")
    expander = sidebar.get_by_test_id("stExpander").filter(
        has=page.locator("summary", has_text=re.compile(rf"(^|\s){optimizer}$"))
    )
    if not expander.get_by_role("slider").first.is_visible():
        expander.locator("summary").click()
    slider = expander.get_by_role("slider", name=re.compile("learning rate"))
    slider.wait_for(state="visible")
    return slider


def change_control(page, slider, key: str = "ArrowLeft") -> float:
    """Press `key` on `slider` and wait until the chart draws the new run data; returns the time
    from the key press to the first animation frame showing it (ms)."""
    before = hooks(page)["revision"]
    slider.focus()
    page.evaluate(
        """() => { window.__keyAt = null;
                   window.addEventListener('keydown', () => { window.__keyAt = performance.now(); },
                                           {capture: true, once: true}); }"""
    )
    value = slider.get_attribute("aria-valuetext")
    page.keyboard.press(key)
    drawn_at = wait_for_revision_above(page, before, f"{key} on a slider at {value}")
    key_at = page.evaluate("() => window.__keyAt")
    assert key_at is not None, "the key press did not reach the slider"
    return drawn_at - key_at


def wait_for_link(page, name: str, value: str) -> None:
    """Wait until the page's URL gives link parameter `name` the number `value` (once a change has
    reached the page)."""
    page.wait_for_function(
        "([name, v]) => Number(new URLSearchParams(location.search).get(name)) === Number(v)",
        arg=[name, value],
        timeout=RERUN_TIMEOUT_MS,
    )


def at_its_link(page, new_page, app_url: str):
    """A fresh page opened at `page`'s link, its chart drawn: the race the link's settings make."""
    fresh = new_page(viewport=page.viewport_size)
    open_race(fresh, app_url, "/?" + urlsplit(page.url).query)
    return fresh


def assert_drawn_as_at_its_link(page, new_page, app_url: str, what: str):
    """`page`'s chart draws the race a fresh page opened at its link draws (`what` says otherwise);
    returns the fresh page."""
    fresh = at_its_link(page, new_page, app_url)
    assert hooks(page)["signature"] == hooks(fresh)["signature"], what
    return fresh


def link(page) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}


def box_inside(inner: dict, outer: dict, slack: float = 0.5) -> bool:
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


def boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def play_button(page):
    return race(page).get_by_role("button", name=re.compile(r"play|pause", re.I)).first


def scrubber(page):
    return race(page).get_by_role("slider", name="step", exact=True)


# --- pixel statistics of the map --------------------------------------------------------------------


def picture_stats(png: bytes) -> dict:
    """Statistics of a screenshot of the map, inside a 10 % margin (axes and ticks left out).

    colours: distinct colours (5 bits a channel). blockiness: the share of the colour changes between
    neighbouring pixels that fall on the busiest eighth of the columns (or rows, whichever is higher):
    a coarse picture scaled up in blocks changes colour only on its block edges (near 1.0); a picture
    drawn at screen resolution changes colour all over (a small share). lines: the share of pixels
    that differ from both neighbours on one axis in the same direction by more than 60 (sum over RGB):
    thin lines such as contour lines (a filled picture without lines has almost none).
    """
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int32)
    h, w, _ = image.shape
    crop = image[h // 10 : h - h // 10, w // 10 : w - w // 10]
    q = crop >> 3
    colours = len(np.unique(q[..., 0] * 1024 + q[..., 1] * 32 + q[..., 2]))

    def busiest_eighth(changes: np.ndarray) -> float:  # changes: per-column (or row) counts
        top = np.sort(changes)[::-1][: max(1, changes.size // 8)]
        return float(top.sum() / max(changes.sum(), 1))

    dx = np.abs(np.diff(crop, axis=1)).sum(axis=2) > 0
    dy = np.abs(np.diff(crop, axis=0)).sum(axis=2) > 0
    blockiness = max(busiest_eighth(dx.sum(axis=0)), busiest_eighth(dy.sum(axis=1)))

    def thin(axis: int) -> np.ndarray:
        a = np.moveaxis(crop, axis, 0)
        centre, before, after = a[1:-1], a[:-2], a[2:]
        d1, d2 = (centre - before).sum(axis=-1), (centre - after).sum(axis=-1)
        return ((d1 > 60) & (d2 > 60)) | ((d1 < -60) & (d2 < -60))

    lines = (thin(0).sum() + thin(1).sum()) / crop[..., 0].size
    return {"colours": colours, "blockiness": blockiness, "lines": float(lines)}


def test_picture_stats_tell_a_crisp_contour_map_from_a_coarse_blocky_one():
    """The statistics the mid-play screenshot is judged by can fail: a smooth colour field with thin
    contour lines passes, the same field sampled on a 40 x 40 grid and scaled up in blocks does not."""
    h, w = 400, 600
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    field = np.log1p(100 * ((1 - 2 * x) ** 2 + 10 * (2 * y - 4 * x**2) ** 2))
    field = (field - field.min()) / (field.max() - field.min())
    rgb = np.stack([255 * field, 255 * (1 - np.abs(2 * field - 1)), 255 * (1 - field)], axis=-1)
    levels = np.linspace(0.05, 0.95, 12)
    on_line = np.min(np.abs(field[..., None] - levels), axis=-1) < 0.004
    crisp = np.where(on_line[..., None], 30, rgb).astype(np.uint8)
    coarse = np.repeat(np.repeat(rgb[:: h // 40, :: w // 40], h // 40, 0), w // 40, 1).astype(np.uint8)

    def png(a: np.ndarray) -> bytes:
        out = io.BytesIO()
        Image.fromarray(a).save(out, format="PNG")
        return out.getvalue()

    good, bad = picture_stats(png(crisp)), picture_stats(png(coarse))
    assert good["colours"] >= 64 and good["blockiness"] < 0.5 and good["lines"] >= 0.002, good
    assert bad["blockiness"] >= 0.5 and bad["lines"] < 0.002, bad


# --- pages of other sizes ---------------------------------------------------------------------------


# --- 1. one element for the whole session; the step survives a change ------------------------------


# Each of the page's components' code as the browser fetched it: [url, bytes over the network (0 when
# the browser's cache had it)].
JS_CODE_FETCHES = """() => performance.getEntriesByType('resource')
    .filter((entry) => entry.name.includes('/optviz/code/'))
    .map((entry) => [new URL(entry.name).pathname, entry.transferSize])"""


def test_the_components_code_comes_once_from_the_app_and_a_reload_takes_it_from_the_cache(
    page, app_url, browser_log
):
    codes = {}
    page.on(
        "response",
        lambda response: "/optviz/code/" in response.url and codes.setdefault(response.url, response),
    )
    open_race(page, app_url)
    fetched = dict(page.evaluate(JS_CODE_FETCHES))
    assert {"/optviz/code/optviz.race_chart.js", "/optviz/code/optviz.race_curves.js"} <= set(fetched)
    assert all(size > 0 for size in fetched.values()), fetched  # a new context: from the app
    for url, response in codes.items():
        headers = response.all_headers()
        assert response.status == 200 and headers["content-type"].startswith("text/javascript"), url
        assert "immutable" in headers["cache-control"], url
    page.reload(timeout=LOAD_TIMEOUT_MS)
    wait_until_drawn(page, LOAD_TIMEOUT_MS)
    page.evaluate(JS_INSTALL_FINDER)
    wait_for_revision_above(page, 0, "opening the page again", timeout=LOAD_TIMEOUT_MS)
    again = dict(page.evaluate(JS_CODE_FETCHES))
    assert set(again) == set(fetched) and not any(again.values()), f"fetched again: {again}"
    browser_log.assert_clean()


def test_chart_stays_the_same_element_and_keeps_its_step_across_changes(
    page, app_url, browser_log, measurement
):
    open_race(page, app_url)
    race(page).evaluate("el => { el.__e2eMark = 'first mount'; }")
    # A legend entry's swatch: a learning rate changes no entry, so the legend is kept as drawn.
    swatch = "el.querySelector('.optviz-race__legend canvas')"
    race(page).evaluate(f"el => {{ {swatch}.__e2eMark = 'first legend'; }}")
    focus_chart(page)
    page.keyboard.press("Home")
    for _ in range(12):
        page.keyboard.press("Shift+ArrowRight")
    expect(race(page)).to_have_attribute("data-step", "120")
    expect(race(page)).to_have_attribute("data-playing", "false")

    slider = lr_slider(page)
    revision = hooks(page)["revision"]
    latencies = []
    for i in range(5):
        latency = change_control(page, slider, "ArrowLeft")
        if i > 0:  # the first change warms the browser's and the server's paths
            latencies.append(latency)
        settle(page, quiet_ms=300)
        now = hooks(page)
        assert now["step"] == "120", f"after change {i + 1} the chart shows step {now['step']}, not 120"
        assert now["playing"] == "false", f"after change {i + 1} the chart plays"
        mark = race(page).evaluate("el => el.__e2eMark ?? null")
        assert mark == "first mount", f"after change {i + 1} the chart is a new element (remounted)"
        legend = race(page).evaluate(f"el => {swatch}?.__e2eMark ?? null")
        assert legend == "first legend", f"after change {i + 1} the legend was drawn again"
    assert hooks(page)["revision"] >= revision + 5, "five changes did not draw five new runs"
    wait_for_link(page, ADAM_LR, slider.get_attribute("aria-valuetext"))  # once the slider rests
    measurement(
        "control change -> new paths drawn (Adam's learning rate, key press to data-revision): "
        + ", ".join(f"{t:.0f}" for t in latencies)
        + f" ms; median {statistics.median(latencies):.0f} ms (load average {os.getloadavg()[0]:.1f})"
    )
    # The budget (p50 100 ms) is bench.race_chart's to judge; on this shared 2-core machine the
    # figure swings with other work (300-600 ms at load averages 4-8), so the default run only guards
    # against a chart that has become grossly slow.
    assert statistics.median(latencies) <= 1000, f"median {statistics.median(latencies):.0f} ms per change"
    assert page.get_by_test_id("stException").count() == 0
    browser_log.assert_clean()


def chart_lr_slider(page, optimizer: str = "Adam"):
    """An optimizer's learning rate among the chart's own sliders (its "Tune η" row opened)."""
    toggle = race(page).locator(".optviz-race__tune-toggle")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    race(page).get_by_label("optimizer to tune").select_option(label=optimizer)
    slider = race(page).get_by_role("slider", name=f"{optimizer} η learning rate")
    slider.wait_for(state="visible")
    return slider


JS_COUNT_RUNS = """() => {
    window.__runs = 0;
    const app = document.querySelector("[data-testid='stApp']");
    new MutationObserver(() => {
        if (app.dataset.testScriptState === 'running') window.__runs += 1;
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


@pytest.mark.parametrize("moved", ["the chart's own", "the sidebar's"])
def test_a_learning_rate_slider_redraws_at_once_and_the_page_follows_when_it_rests(
    page, app_url, browser_log, measurement, screenshot, moved
):
    """An η slider, the chart's own or the sidebar's (which the chart watches): each press draws the
    race of the new value, raced by the server's route with no page run (the step, the element and
    the legend stay); once the slider rests, one run takes the value into the link and the other
    slider, and the picture stays."""
    open_race(page, app_url)
    race(page).evaluate("el => { el.__e2eMark = 'first mount'; }")
    focus_chart(page)
    page.keyboard.press("Home")
    for _ in range(12):
        page.keyboard.press("Shift+ArrowRight")
    expect(race(page)).to_have_attribute("data-step", "120")
    sliders = (chart_lr_slider, lr_slider) if moved == "the chart's own" else (lr_slider, chart_lr_slider)
    slider, other = (find(page) for find in sliders)
    page.evaluate(JS_COUNT_RUNS)
    latencies = []
    for _ in range(4):
        latencies.append(change_control(page, slider, "ArrowLeft"))  # the arrows move the slider...
    value = slider.get_attribute("aria-valuetext")
    runs_while_moving = page.evaluate("() => window.__runs")
    assert hooks(page)["step"] == "120", "...not the race"
    assert race(page).evaluate("el => el.__e2eMark ?? null") == "first mount", "the chart was remounted"
    adam = np.asarray(race(page).evaluate("el => el.drawnPath('Adam')")).reshape(-1, 2)
    expected = optviz.simulate("rosenbrock", "adam", lr=float(value)).xy
    np.testing.assert_allclose(adam, expected, rtol=1e-4, atol=1e-5)
    screenshot(page, "tuned")

    wait_for_link(page, ADAM_LR, value)
    settle(page)
    measurement(
        f"{moved} η slider, key press -> new paths drawn: "
        + ", ".join(f"{t:.0f}" for t in latencies)
        + f" ms; page runs while it moved: {runs_while_moving}; after it rested: "
        + str(page.evaluate("() => window.__runs") - runs_while_moving)
    )
    assert runs_while_moving == 0, f"a press on {moved} slider ran the page before the slider rested"
    assert page.evaluate("() => window.__runs") >= 1, "the page never took the value"
    assert statistics.median(latencies) <= 500, f"median {statistics.median(latencies):.0f} ms per press"
    assert np.allclose(np.asarray(race(page).evaluate("el => el.drawnPath('Adam')")).reshape(-1, 2), adam)
    assert hooks(page)["step"] == "120"
    assert other.get_attribute("aria-valuetext") == value  # the other slider followed
    assert slider.get_attribute("aria-valuetext") == value  # and the one moved kept its value
    assert page.get_by_test_id("stException").count() == 0
    browser_log.assert_clean()


def test_the_sidebars_steps_and_noise_sliders_race_without_a_page_run(page, app_url, new_page, browser_log):
    """The steps and the noise, too, are raced by the chart as their sliders move (no page run until
    they rest); then the link holds both, and a fresh page at the link draws the same race."""
    open_race(page, app_url)
    sidebar = page.get_by_test_id("stSidebar")
    steps = sidebar.get_by_role("slider", name="Steps")
    noise = sidebar.get_by_role("slider", name="Gradient noise σ for every optimizer")
    page.evaluate(JS_COUNT_RUNS)
    change_control(page, steps, "ArrowRight")
    assert len(race(page).evaluate("el => el.drawnPath('Adam')")) == 2 * (ROSENBROCK.default_steps + 11)
    change_control(page, noise, "ArrowRight")
    assert page.evaluate("() => window.__runs") == 0, "a press on the steps or the noise ran the page"
    wait_for_link(page, "noise", noise.get_attribute("aria-valuetext"))
    wait_for_link(page, "steps", str(ROSENBROCK.default_steps + 10))
    settle(page)
    assert_drawn_as_at_its_link(page, new_page, app_url, "the last values' race is not drawn")
    assert page.get_by_test_id("stException").count() == 0
    browser_log.assert_clean()


def test_a_reset_right_after_a_slider_press_is_not_undone_when_the_slider_rests(
    page, app_url, new_page, browser_log
):
    """A slider the chart races waits 0.6 s before the page takes its value; a reset clicked within
    that time wins: the value moved before it (here on the chart's own slider, the sidebar's box
    closed) never comes back, and the default's race is drawn."""
    open_race(page, app_url)
    fresh = new_page(viewport=page.viewport_size)
    open_race(fresh, app_url)  # the defaults' race
    slider = chart_lr_slider(page)
    default = slider.get_attribute("aria-valuetext")
    change_control(page, slider, "ArrowLeft")
    change_control(page, slider, "ArrowLeft")
    page.get_by_role("button", name="Reset to this surface's defaults").click()  # within the 0.6 s
    page.wait_for_timeout(1500)
    settle(page)
    assert slider.get_attribute("aria-valuetext") == default
    assert ADAM_LR not in link(page), f"the moved value came back: {page.url}"
    assert hooks(page)["signature"] == hooks(fresh)["signature"], "the reset's race is not drawn"
    assert page.get_by_test_id("stException").count() == 0
    browser_log.assert_clean()


# --- 2. Play, Space and the keyboard; the contour while playing -------------------------------------


def test_play_space_keys_and_a_crisp_contour_while_playing(
    page, app_url, browser_log, measurement, screenshot
):
    open_race(page, app_url)
    chart = race(page)
    focus_chart(page)
    keys = [("Home", 0), ("ArrowRight", 1), ("Shift+ArrowRight", 11), ("ArrowLeft", 10),
            ("Shift+ArrowLeft", 0), ("PageDown", 1), ("PageUp", 0), ("End", ROSENBROCK.default_steps),
            ("Home", 0)]  # fmt: skip
    for key, step in keys:
        page.keyboard.press(key)
        expect(chart, f"after {key}").to_have_attribute("data-step", str(step))

    map_box = page.evaluate(JS_MAP_BOX)
    assert map_box and map_box["width"] > 100 and map_box["height"] > 100, f"no map drawn: {map_box}"
    paused = picture_stats(page.screenshot(clip=map_box))

    # Space plays: data-step advances, and a frame-rate probe runs while it does.
    page.keyboard.press("Space")
    expect(chart).to_have_attribute("data-playing", "true")
    probe = page.evaluate(
        """async () => {
            const r = window.__race(), next = () => new Promise(requestAnimationFrame);
            const t0 = performance.now(), step0 = Number(r.dataset.step);
            let frames = 0;
            while (performance.now() - t0 < 1000) { await next(); frames++; }
            const seconds = (performance.now() - t0) / 1000;
            return {fps: frames / seconds, steps: (Number(r.dataset.step) - step0) / seconds,
                    step: Number(r.dataset.step)};
        }"""
    )
    mid_play = page.screenshot(clip=map_box)
    playing_step = int(hooks(page)["step"])
    screenshot(page, "mid-play")
    page.keyboard.press("Space")
    expect(chart).to_have_attribute("data-playing", "false")
    stopped = int(chart.get_attribute("data-step"))
    page.wait_for_timeout(500)
    assert int(chart.get_attribute("data-step")) == stopped, "data-step kept moving after Space paused"

    playing = picture_stats(mid_play)
    measurement(
        f"playback (Space): {probe['fps']:.1f} painted frames/s, {probe['steps']:.1f} steps/s; "
        f"map while playing (step {playing_step}): {playing}; paused at step 0: {paused}"
    )
    assert probe["step"] > 0 and playing_step > 0, "playing did not advance data-step"
    assert playing["colours"] >= 64, f"the map while playing has only {playing['colours']} colours: {playing}"
    assert playing["blockiness"] < 0.5, f"the map while playing is blocky: {playing}"
    assert paused["lines"] >= 0.002, f"no contour lines on the paused map: {paused}"
    assert playing["lines"] >= 0.5 * paused["lines"], (
        f"contour lines gone while playing: {playing} vs {paused}"
    )

    # The Play button plays too, and pauses.
    play_button(page).click()
    expect(chart).to_have_attribute("data-playing", "true")
    page.wait_for_function("s => Number(window.__race().dataset.step) > s", arg=stopped, timeout=5_000)
    play_button(page).click()
    expect(chart).to_have_attribute("data-playing", "false")
    browser_log.assert_clean()


# --- 3. dragging the start --------------------------------------------------------------------------


def drag(page, by=None, to=None, moves: int = 12, pause_ms: int = 40) -> dict:
    """Drag the start marker by (dx, dy) CSS px, or to the viewport point `to`, with the mouse in
    `moves` moves `pause_ms` apart; returns the redraws counted before the release."""
    race(page).scroll_into_view_if_needed()
    box = race(page).bounding_box()
    sx, sy = start_px(page)
    x0, y0 = box["x"] + sx, box["y"] + sy
    dx, dy = by if by is not None else (to[0] - x0, to[1] - y0)
    page.evaluate(JS_WATCH)
    revision = hooks(page)["revision"]
    page.mouse.move(x0, y0)
    page.mouse.down()
    down_at = page.evaluate("() => performance.now()")
    for i in range(1, moves + 1):
        page.mouse.move(x0 + dx * i / moves, y0 + dy * i / moves)
        page.wait_for_timeout(pause_ms)
    during, up_at = page.evaluate("() => [window.__revs.length, performance.now()]")
    page.mouse.up()
    return {"revision": revision, "during": during, "from": (sx, sy), "seconds": (up_at - down_at) / 1000}


def test_drag_moves_the_start_redraws_while_dragging_clamps_and_a_click_sets_it(
    page, app_url, new_page, browser_log, measurement
):
    open_race(page, app_url)
    (x_low, _), (y_low, y_high) = ROSENBROCK.bounds
    default_x, default_y = ROSENBROCK.default_start
    asked = []  # the race route's answers during the drag (the release goes through the page)
    page.on("response", lambda r: asked.append(r.status) if RACE_ROUTE in r.url else None)

    dragged = drag(page, by=(90, 60))
    page.wait_for_url(re.compile(r"[?&]start_x="), timeout=RERUN_TIMEOUT_MS)
    settle(page)
    revs = page.evaluate("() => window.__revs")
    measurement(
        f"drag of {dragged['seconds']:.2f} s: {dragged['during']} redraws before the release "
        f"({dragged['during'] / dragged['seconds']:.1f}/s), {len(revs)} in all, "
        f"{len(asked)} answers of the race route"
    )
    assert dragged["during"] >= 3, f"only {dragged['during']} redraws while dragging (several expected)"
    assert len(asked) >= 3 and set(asked) == {200}, f"the drag asked the race route: {asked}"
    sx, sy = start_px(page)
    assert (sx, sy) == pytest.approx((dragged["from"][0] + 90, dragged["from"][1] + 60), abs=4), (
        f"the start marker is at {sx, sy} px after a drag by (90, 60) from {dragged['from']}"
    )
    x, y = float(link(page)["start_x"]), float(link(page).get("start_y", default_y))
    assert x > default_x and y < default_y, f"a drag right and down gave start ({x}, {y}) from the default"
    assert float(page.get_by_label("x₀", exact=True).input_value()) == pytest.approx(x, abs=1e-3)
    # The race drawn at the end is the final start's (no late answer to an earlier position won):
    # the same settings as a fresh page opened at the link.
    fresh = at_its_link(page, new_page, app_url)
    drawn, expected = hooks(page)["signature"], hooks(fresh)["signature"]
    assert drawn is not None, "the chart does not name the settings it drew (data-signature)"
    assert drawn == expected, f"after the drag the chart shows race {drawn}; the final start's is {expected}"
    fresh.context.close()

    # Beyond the map: down and left of it, into the sidebar. The start clamps to the surface's window.
    map_box = page.evaluate(JS_MAP_BOX)
    viewport = page.viewport_size
    target = (
        max(2.0, map_box["x"] - 150),
        min(viewport["height"] - 2.0, map_box["y"] + map_box["height"] + 150),
    )
    below = target[1] > map_box["y"] + map_box["height"]
    first_x = link(page)["start_x"]
    drag(page, to=target, moves=6)
    page.wait_for_function(
        "x => new URLSearchParams(location.search).get('start_x') !== x",
        arg=first_x,
        timeout=RERUN_TIMEOUT_MS,
    )
    settle(page)
    x, y = float(link(page)["start_x"]), float(link(page).get("start_y", default_y))
    assert x == pytest.approx(x_low, abs=1e-3), (
        f"a drag beyond the map's left edge gave start_x {x}, not {x_low}"
    )
    assert y_low - 1e-3 <= y <= y_high + 1e-3, f"start_y {y} outside the window"
    if below:
        assert y == pytest.approx(y_low, abs=1e-3), f"a drag below the map gave start_y {y}, not {y_low}"
    sx, sy = start_px(page)
    box = race(page).bounding_box()
    marker = {"x": box["x"] + sx, "y": box["y"] + sy, "width": 0, "height": 0}
    assert box_inside(marker, map_box, slack=2), f"the clamped start marker {marker} is off the map {map_box}"

    # A click elsewhere on the map (the middle of the map, away from the marker) sets the start there.
    clamped_x = link(page)["start_x"]
    click = (map_box["x"] + map_box["width"] / 2, map_box["y"] + map_box["height"] / 2)
    page.mouse.click(*click)
    page.wait_for_function(
        "x => new URLSearchParams(location.search).get('start_x') !== x",
        arg=clamped_x,
        timeout=RERUN_TIMEOUT_MS,
    )
    settle(page)
    sx, sy = start_px(page)
    box = race(page).bounding_box()
    assert (box["x"] + sx, box["y"] + sy) == pytest.approx(click, abs=4), (
        f"after a click at {click} the start marker is at {(box['x'] + sx, box['y'] + sy)}"
    )
    x, y = float(link(page)["start_x"]), float(link(page).get("start_y", default_y))
    assert x_low < x and y_low < y < y_high, f"a click in the middle of the map gave start ({x}, {y})"
    assert float(page.get_by_label("x₀", exact=True).input_value()) == pytest.approx(x, abs=1e-3)
    assert page.get_by_test_id("stException").count() == 0
    browser_log.assert_clean()


def test_a_drag_and_the_charts_slider_still_redraw_through_the_page_when_the_race_route_fails(
    page, app_url, new_page, browser_log
):
    """A worker that cannot answer the route (here: every request to it fails on the way) costs
    speed, not the drag or the sliders the chart races: the chart sends them to the page instead."""
    failed = []
    page.route(f"**{RACE_ROUTE}*", lambda route: (failed.append(route.request.url), route.abort()))
    open_race(page, app_url)
    dragged = drag(page, by=(80, 50))
    page.wait_for_url(re.compile(r"[?&]start_x="), timeout=RERUN_TIMEOUT_MS)
    settle(page)
    assert failed, "the chart never tried the race route"
    assert dragged["during"] >= 2, f"only {dragged['during']} redraws while dragging through the page"
    fresh = assert_drawn_as_at_its_link(page, new_page, app_url, "the final start's race is not drawn")
    fresh.context.close()
    # The sliders the chart races, its own and the sidebar's, too, go to the page at once.
    for find in (chart_lr_slider, lr_slider):
        slider = find(page)
        for _ in range(2):
            change_control(page, slider, "ArrowLeft")
        value = slider.get_attribute("aria-valuetext")
        wait_for_link(page, ADAM_LR, value)
        settle(page)
        fresh = assert_drawn_as_at_its_link(page, new_page, app_url, "the last value's race is not drawn")
        fresh.context.close()
    # The aborted requests themselves are logged by the browser; anything else is a failure.
    browser_log.errors = [e for e in browser_log.errors if "net::ERR_FAILED" not in e]
    browser_log.assert_clean()


# --- 4. fifty rapid changes ---------------------------------------------------------------------------


def test_fifty_rapid_slider_changes_end_with_the_last_settings_paths(
    page, app_url, new_page, browser_log, measurement
):
    open_race(page, app_url)
    slider = lr_slider(page)
    slider.focus()
    revision = hooks(page)["revision"]
    index, last = int(slider.get_attribute("value")), int(slider.get_attribute("max"))
    for key in FIFTY_PRESSES:
        index = min(index + 1, last) if key == "ArrowRight" else max(index - 1, 0)
        page.keyboard.press(key)
    expect(slider).to_have_attribute("value", str(index))
    final = slider.get_attribute("aria-valuetext")
    wait_for_link(page, ADAM_LR, final)
    settle(page, quiet_ms=1500, timeout_ms=RERUN_TIMEOUT_MS)
    after = hooks(page)["revision"]
    measurement(f"fifty rapid presses on Adam's learning rate: {after - revision} redraws")
    assert after > revision, "fifty changes drew nothing new"
    assert page.get_by_test_id("stException").count() == 0

    # What is drawn is the last setting's race: the same picture as a fresh page opened at its link.
    fresh = at_its_link(page, new_page, app_url)
    assert float(link(fresh)[ADAM_LR]) == float(final)
    signatures = (hooks(page)["signature"], hooks(fresh)["signature"])
    if signatures != (None, None):  # the chart names the settings it drew (data-signature)
        assert signatures[0] == signatures[1], (
            f"drawn after fifty changes: {signatures[0]}; fresh: {signatures[1]}"
        )
    pictures = []
    for p in (page, fresh):
        focus_chart(p)
        p.keyboard.press("End")
        expect(race(p)).to_have_attribute("data-step", str(ROSENBROCK.default_steps))
        race(p).scroll_into_view_if_needed()
        p.mouse.move(0, 0)  # no hover highlight
        p.wait_for_timeout(300)
        png = p.screenshot(clip=p.evaluate(JS_MAP_BOX))
        pictures.append(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int))
    assert pictures[0].shape == pictures[1].shape, "the two maps differ in size"
    differ = float((np.abs(pictures[0] - pictures[1]).sum(axis=2) > 30).mean())
    measurement(
        f"after fifty changes vs a fresh page at the final link: {100 * differ:.2f} % of the map's pixels "
        f"differ; data-signature {signatures[0]} vs {signatures[1]}"
    )
    assert differ < 0.002, f"{100 * differ:.2f} % of the map differs from a fresh page at the final setting"
    browser_log.assert_clean()


def test_a_click_on_the_map_right_after_a_slider_press_races_the_start_with_the_new_value(
    page, app_url, new_page, browser_log
):
    """A start that goes to the page before the chart's slider rested takes the slider's value with
    it: the page never races the new start with the old value (which would flash before the slider's
    own run)."""
    open_race(page, app_url)
    slider = chart_lr_slider(page)
    change_control(page, slider, "ArrowLeft")
    value = slider.get_attribute("aria-valuetext")
    box = page.evaluate(JS_MAP_BOX)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # within the 0.6 s
    page.wait_for_url(re.compile(r"[?&]start_x="), timeout=RERUN_TIMEOUT_MS)
    wait_for_link(page, ADAM_LR, value)
    settle(page)
    assert_drawn_as_at_its_link(page, new_page, app_url, "the click's race lacks the slider's value")
    assert page.get_by_test_id("stException").count() == 0
    browser_log.assert_clean()


def test_fifty_rapid_presses_on_the_charts_slider_end_with_the_last_values_race(
    page, app_url, new_page, browser_log, measurement
):
    """Fifty presses as fast as the keyboard goes: the route's answers come back in any order and at
    most two are asked at a time, yet what is drawn at the end, and what the page and the link take
    once the slider rests, is the last value's race."""
    open_race(page, app_url)
    slider = chart_lr_slider(page)
    slider.focus()
    revision = hooks(page)["revision"]
    for key in FIFTY_PRESSES:
        page.keyboard.press(key)
    final = slider.get_attribute("aria-valuetext")
    wait_for_link(page, ADAM_LR, final)
    settle(page, quiet_ms=1500, timeout_ms=RERUN_TIMEOUT_MS)
    measurement(f"fifty rapid presses on the chart's η slider: {hooks(page)['revision'] - revision} redraws")
    fresh = at_its_link(page, new_page, app_url)
    assert hooks(page)["signature"] == hooks(fresh)["signature"], (
        f"drawn after fifty presses: {hooks(page)['signature']}; a fresh page at the link: "
        f"{hooks(fresh)['signature']}"
    )
    assert page.get_by_test_id("stException").count() == 0
    browser_log.assert_clean()


# --- 5. the embed box and a phone --------------------------------------------------------------------


def test_embed_box_holds_map_play_and_scrubber_without_overlap(new_page, app_url, browser_log, screenshot):
    page = new_page(viewport={"width": 960, "height": 540})
    open_race(page, app_url, "/?embed=true")
    screenshot(page, "embed")
    view = {"x": 0, "y": 0, "width": 960, "height": 540}

    def check_boxes(least: int) -> None:
        boxes = {
            "map": page.evaluate(JS_MAP_BOX),
            "Play": play_button(page).bounding_box(),
            "scrubber": scrubber(page).bounding_box(),
        }
        for name, box in boxes.items():
            assert box is not None and box["width"] > 0, f"no {name} in the embedded chart"
            assert box_inside(box, view), f"the {name} ({box}) is not inside the 960 x 540 embed box"
        # The other controls the chart shows (speed, the whole-paths toggle, its own sliders when
        # open) are inside too, and no two of the map and the controls overlap.
        others = page.evaluate(
            """() => [...window.__race().querySelectorAll('button, input, select')]
                .filter(el => el.checkVisibility({visibilityProperty: true}))
                .map((el, i) => { const b = el.getBoundingClientRect();
                                  const box = {x: b.x, y: b.y, width: b.width, height: b.height};
                                  return [`${el.className || el.type || el.tagName} ${i}`, box]; })"""
        )
        for name, box in others:
            if box not in boxes.values():
                boxes[name] = box
                assert box_inside(box, view), f"the {name} ({box}) is not inside the 960 x 540 embed box"
        names = list(boxes)
        assert len(names) >= least, f"only {names} found in the embedded chart"
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                assert not boxes_overlap(boxes[a], boxes[b]), f"{a} {boxes[a]} overlaps {b} {boxes[b]}"

    check_boxes(least=4)  # a speed control too
    chart_lr_slider(page)  # the chart's own sliders opened: the map makes room for them
    page.wait_for_timeout(300)
    screenshot(page, "embed-tune")
    check_boxes(least=8)  # the optimizer's choice and its three sliders too
    browser_log.assert_clean()


def test_phone_chart_fits_and_a_touch_drag_moves_the_start(new_page, app_url, browser_log, screenshot):
    page = new_page(**PHONE, device_scale_factor=2)
    open_race(page, app_url)
    chart = race(page)
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    screenshot(page, "phone")
    assert box["x"] >= -0.5 and box["x"] + box["width"] <= 390.5, f"the chart {box} does not fit 390 px"
    map_box = page.evaluate(JS_MAP_BOX)
    assert map_box["x"] >= -0.5 and map_box["x"] + map_box["width"] <= 390.5, f"the map {map_box} is cut off"
    # Every control the chart shows is on the screen: none pushed past its right edge. (The chart
    # hides its "whole paths" toggle when narrow, by design: hidden ones are listed, not failed.)
    controls = page.evaluate(
        """() => [...window.__race().querySelectorAll('button, input, select, label')].map(el => {
            const b = el.getBoundingClientRect();
            return {what: el.outerHTML.slice(0, 80), left: b.left, right: b.right, width: b.width,
                    height: b.height, visible: el.checkVisibility({visibilityProperty: true})};
        })"""
    )
    shown = [c for c in controls if c["visible"] and c["width"] > 0]
    hidden = [c["what"].split(">")[0] + ">" for c in controls if c not in shown]
    if hidden:
        print(f"controls the chart hides on a 390 px phone: {hidden}")
    assert play_button(page).is_visible() and scrubber(page).is_visible(), "no Play or scrubber on the phone"
    for control in shown:
        assert control["left"] >= -0.5 and control["right"] <= 390.5, f"off a 390 px screen: {control}"

    sx, sy = start_px(page)
    x0, y0 = box["x"] + sx, box["y"] + sy
    page.evaluate(JS_WATCH)
    revision = hooks(page)["revision"]
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, x: float | None = None, y: float | None = None) -> None:
        points = [] if x is None else [{"x": x, "y": y, "id": 1}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", x0, y0)
    for i in range(1, 21):
        touch("touchMove", x0 + 2 * i, y0 + 1.5 * i)
        page.wait_for_timeout(40)
    during = page.evaluate("() => window.__revs.length")
    touch("touchEnd")
    page.wait_for_url(re.compile(r"[?&]start_x="), timeout=RERUN_TIMEOUT_MS)
    settle(page)
    assert during >= 1, "a touch drag drew no new paths before the finger lifted"
    assert hooks(page)["revision"] > revision
    x = float(link(page)["start_x"])
    assert x > ROSENBROCK.default_start[0], f"a touch drag to the right gave start_x {x}"
    assert start_px(page) == pytest.approx((sx + 40, sy + 30), abs=4)
    browser_log.assert_clean()


# --- 6. a diverging path -----------------------------------------------------------------------------


def test_a_diverging_path_is_named_in_the_legend_and_the_page(page, app_url, browser_log, screenshot):
    """GD with η = 0.01 from Rosenbrock's default start diverges at step 4: the chart says where it
    left (its legend), the page says so too, and nothing raises."""
    open_race(page, app_url, "/?hp_gd_lr=0.01")
    screenshot(page, "diverged")
    legend = race(page).inner_text()
    assert re.search(r"Gradient descent[^\n]*diverged at step 4", legend), f"the chart's text: {legend!r}"
    assert "diverged at step" not in legend.split("Gradient descent", 1)[0], "another path is said to diverge"
    warning = page.locator("[data-testid^=stAlert]").filter(
        has_text=re.compile(r"Gradient descent.*diverged")
    )
    expect(warning.first).to_be_visible()

    # A smaller step brings GD home: its legend entry loses the note and keeps its name.
    slider = lr_slider(page, "Gradient descent")
    for _ in range(10):
        if "diverged at step" not in race(page).inner_text():
            break
        change_control(page, slider, "ArrowLeft")
    assert "diverged at step" not in race(page).inner_text(), "GD's legend entry still says it diverged"
    assert float(slider.get_attribute("aria-valuetext")) < 0.01
    assert "Gradient descent" in race(page).inner_text()
    assert page.get_by_test_id("stException").count() == 0
    browser_log.assert_clean()


# --- 7. side by side -----------------------------------------------------------------------------------


def test_side_by_side_panels_keep_the_hooks_and_a_drag_in_the_first_panel(
    page, app_url, browser_log, screenshot
):
    """One panel per optimizer: data-start-px is the first panel's marker, and dragging it moves the
    start (every panel's race follows: one new revision, the link gets the start)."""
    open_race(page, app_url, "/?layout=Side+by+side")
    screenshot(page, "panels")
    assert link(page).get("layout") == "Side by side"
    dragged = drag(page, by=(30, 20), moves=6)
    page.wait_for_url(re.compile(r"[?&]start_x="), timeout=RERUN_TIMEOUT_MS)
    settle(page)
    assert hooks(page)["revision"] > dragged["revision"], "the drag drew no new race"
    assert start_px(page) == pytest.approx((dragged["from"][0] + 30, dragged["from"][1] + 20), abs=4)
    assert float(link(page)["start_x"]) > ROSENBROCK.default_start[0]
    assert link(page).get("layout") == "Side by side", "the drag lost the layout"
    browser_log.assert_clean()


def test_equal_scale_draws_a_unit_as_long_on_both_axes(page, app_url, browser_log):
    """The ill-conditioned bowl's window is 10 wide and 4 tall: stretched to the chart's box, a unit
    of y is longer than one of x; on equal scales it is as long."""
    per_unit = {}
    for equal in (False, True):
        open_race(page, app_url, f"/?surface=quadratic&equal_scale={str(equal).lower()}")
        corner, right, top = (
            page.evaluate("p => window.__race().pixelAt(...p)", p) for p in [(-5, -2), (5, -2), (-5, 2)]
        )
        per_unit[equal] = ((right[0] - corner[0]) / 10, (corner[1] - top[1]) / 4)
    (x_stretched, y_stretched), (x_equal, y_equal) = per_unit[False], per_unit[True]
    # Stretched, y's unit is 2.5 times x's times the map's height over its width (1.55 at 1280 x 720).
    assert y_stretched > 1.25 * x_stretched, per_unit
    assert abs(x_equal - y_equal) <= 0.01 * x_equal, per_unit
    browser_log.assert_clean()


def test_the_chart_fits_the_window_again_when_the_page_above_it_changes_height(page, app_url, browser_log):
    """The chart's height is fitted to the window below it. A web font that arrives late rewraps the
    description above and moves the chart (on a loaded machine it once stayed 56 px short): 40 px more
    above shrinks it by 40 px, Play still in the window, and 40 px less gives its height back."""
    open_race(page, app_url)
    settle(page)
    js_box = "() => { const r = window.__race().getBoundingClientRect(); return [r.bottom, r.height]; }"
    window_height = VIEWPORT["height"]
    bottom, height = page.evaluate(js_box)
    assert bottom <= window_height, f"the chart ends at {bottom} px, below the {window_height} px window"
    js_above = "px => { document.querySelector('[data-testid=\"stMainBlockContainer\"]')"
    js_above += ".firstElementChild.style.marginTop = `${px}px`; }"
    for above, expected in [(40, height - 40), (0, height)]:
        page.evaluate(js_above, above)
        js_height_is = "h => Math.abs(window.__race().getBoundingClientRect().height - h) <= 1"
        page.wait_for_function(js_height_is, arg=expected, timeout=5_000)
        assert page.evaluate(js_box)[0] <= window_height
    browser_log.assert_clean()
