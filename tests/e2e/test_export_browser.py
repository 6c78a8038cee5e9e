"""The exports in a real browser: the HTML page plays by itself with the network blocked, and a PNG is
the live chart's picture at the same step.

Here, beside the other browser tests, because they share their Playwright session (a second sync
Playwright in the same process fails while theirs is open).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from playwright.sync_api import expect

from optviz.lab.config import DEFAULT_OPTIMIZERS, RaceConfig
from optviz.lab.export.view import RaceExport
from optviz.lab.race_data import signature
from tests.e2e.conftest import SCREENSHOTS, screenshot_path

CHART = "[data-testid=race-chart]"
SIX = ["gd", "sgd", "momentum", "adagrad", "rmsprop", "adam"]


def _only_local(blocked: list[str]):
    def route(route):
        url = route.request.url
        if url.startswith(("file:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    return route


def test_html_plays_to_the_last_step_with_no_network_and_takes_no_start(browser, tmp_path):
    wanted = RaceExport(RaceConfig.create("beale", SIX, steps=120), "html", speed="very fast")
    html_file = tmp_path / "race.html"
    html_file.write_bytes(wanted.make())
    blocked, errors = [], []
    context = browser.new_context(viewport={"width": 1280, "height": 720}, offline=True)
    try:
        context.route("**/*", _only_local(blocked))
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        # A Content-Security-Policy that blocked part of the page would say so here ("Refused to ...").
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.goto(html_file.as_uri())
        chart = page.locator(CHART)
        expect(chart).to_have_attribute("data-playing", "true", timeout=10_000)
        # 120 steps at 250 steps/s ("very fast"): the last step within a few seconds, and it stops there.
        expect(chart).to_have_attribute("data-step", "120", timeout=15_000)
        expect(chart).to_have_attribute("data-playing", "false")
        assert page.locator(".optviz-race__step").inner_text() == "step 120 / 120"

        # A drag from the start ring moves nothing: a recording has no server to race a new start.
        before = chart.get_attribute("data-start-px")
        x, y = (float(v) for v in before.split(","))
        box = chart.bounding_box()
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.down()
        page.mouse.move(box["x"] + x + 80, box["y"] + y + 60, steps=5)
        page.mouse.up()
        page.wait_for_timeout(200)
        assert chart.get_attribute("data-start-px") == before, "the start moved in a recording"
        assert "recording" in page.locator("body").inner_text().lower()

        # The keys and the slider replay it.
        chart.focus()
        page.keyboard.press("Home")
        expect(chart).to_have_attribute("data-step", "0")
        page.keyboard.press("ArrowRight")
        expect(chart).to_have_attribute("data-step", "1")
        page.locator(".optviz-race__scrubber").fill("60")
        expect(chart).to_have_attribute("data-step", "60")
    finally:
        context.close()
    assert not errors, errors
    assert not blocked, f"the page asked the network for {blocked}"


JS_GEOMETRY = """() => {
    const root = document.querySelector('[data-testid=race-chart]');
    const maps = root.querySelector('.optviz-race__maps').getBoundingClientRect();
    const legend = root.querySelector('.optviz-race__legend').getBoundingClientRect();
    return {x: maps.x, y: maps.y, width: maps.width, height: maps.height, legend: legend.height};
}"""


def test_a_png_is_the_live_chart_at_the_same_step(page, open_lab, request):
    """The lab's chart (Rosenbrock, six optimizers, 500 steps) at step 137, and the PNG of its view
    at step 137 with the chart's width and the maps' height: the maps are the same picture (the
    legend's font is the app's in the page, so only the maps are compared)."""
    open_lab("/")
    chart = page.locator(CHART)
    config = RaceConfig.create("rosenbrock", DEFAULT_OPTIMIZERS)
    assert chart.get_attribute("data-signature") == signature(config.key), "not the lab's default race"
    chart.click(position={"x": 3, "y": 3})  # keyboard focus, away from the map
    page.keyboard.press("Home")
    for _ in range(13):
        page.keyboard.press("Shift+ArrowRight")  # ten steps, paused
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    expect(chart).to_have_attribute("data-step", "137")
    expect(chart).to_have_attribute("data-playing", "false")
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    box = page.evaluate(JS_GEOMETRY)
    clip = {key: box[key] for key in ("x", "y", "width", "height")}
    live = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("RGB"), int)

    width, maps_height = round(box["width"]), round(box["height"])
    wanted = RaceExport(config, "png", step=137, width=width, height=maps_height + round(box["legend"]) + 4)
    picture = np.asarray(Image.open(io.BytesIO(wanted.make())).convert("RGB"), int)
    maps = picture[-maps_height:]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # to look at when it fails
    Image.fromarray(live.astype(np.uint8)).save(screenshot_path(request.node.name, "live"))
    Image.fromarray(maps.astype(np.uint8)).save(screenshot_path(request.node.name, "export"))
    assert maps.shape == live.shape, f"the maps differ in size: {maps.shape} vs {live.shape}"
    off = np.abs(maps - live).max(axis=-1)
    assert (off > 40).mean() < 0.002 and off.mean() < 1.0, (
        f"{100 * (off > 40).mean():.3f} % of the map's pixels differ by more than 40 levels "
        f"(mean {off.mean():.2f})"
    )
