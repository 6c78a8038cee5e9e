"""The lab's loss and distance curves in a real browser (optviz/ui/race_curves): drawn in the
optimizers' colours, a cursor that follows the race chart's step (Play, the arrow keys) with no
server round trip, a click that moves the race, and a first visit that loads no Plotly.

The curves' root is `[data-testid=race-curves]`: `data-step` is the cursor's step, `data-revision`
counts the data drawn. The race chart is `[data-testid=race-chart]` (tests/e2e/test_lab_browser.py).
"""

from __future__ import annotations

import optviz
from optviz.lab.config import DEFAULT_OPTIMIZERS
from tests.e2e.browser import LOAD_TIMEOUT_MS

CURVES = "[data-testid=race-curves]"
CHART = "[data-testid=race-chart]"
MIN_PIXELS = 30  # device pixels of a curve's colour: a line of a few hundred px is far more
# In page context: for each colour [r, g, b], the pixels of the curves' canvas within a small
# distance of it (anti-aliased edges blend with the white behind; the line's middle keeps its colour).
JS_COLOUR_PIXELS = """(colours) => {
    const canvas = document.querySelector('[data-testid=race-curves] canvas');
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const counts = colours.map(() => 0);
    for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 250) continue;
        colours.forEach(([r, g, b], k) => {
            const off = Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b);
            if (off <= 24) counts[k]++;
        });
    }
    return counts;
}"""
JS_STEPS_AGREE = """() => {
    const race = document.querySelector('[data-testid=race-chart]').dataset.step;
    return Number(race) > 0 && document.querySelector('[data-testid=race-curves]').dataset.step === race;
}"""


def _rgb(colour: str) -> list[int]:
    return [int(colour[i : i + 2], 16) for i in (1, 3, 5)]


def _open_curves(page, open_lab) -> None:
    open_lab()
    page.wait_for_function(f"() => Number(document.querySelector('{CURVES}')?.dataset.revision) > 0")
    page.locator(CURVES).scroll_into_view_if_needed()


def _steps(page) -> tuple[int, int]:
    race = int(page.locator(CHART).get_attribute("data-step"))
    return race, int(page.locator(CURVES).get_attribute("data-step"))


def test_the_curves_draw_every_optimizer_in_its_colour(page, open_lab, browser_log, screenshot):
    _open_curves(page, open_lab)
    page.wait_for_timeout(300)  # the next animation frame draws
    colours = [_rgb(optviz.OPTIMIZERS[name].colour) for name in DEFAULT_OPTIMIZERS]
    counts = page.evaluate(JS_COLOUR_PIXELS, colours)
    print("pixels per curve colour:", dict(zip(DEFAULT_OPTIMIZERS, counts, strict=True)))
    assert all(n >= MIN_PIXELS for n in counts), dict(zip(DEFAULT_OPTIMIZERS, counts, strict=True))
    legend = page.locator(f"{CURVES} .optviz-curves__item").all_inner_texts()
    labels = [optviz.OPTIMIZERS[n].label for n in DEFAULT_OPTIMIZERS]
    assert len(legend) == len(labels) and all(
        t.startswith(label) for t, label in zip(legend, labels, strict=True)
    )
    screenshot(page)
    browser_log.assert_clean()


def test_the_cursor_follows_the_race_playing_and_stepped_with_the_keys(page, open_lab, browser_log):
    _open_curves(page, open_lab)
    assert _steps(page) == (0, 0)
    page.locator(CHART).get_by_role("button", name="▶ Play").click()
    page.wait_for_function(JS_STEPS_AGREE)
    seen = []
    for _ in range(5):  # while it plays, each read agrees: the cursor moves with the race's frames
        page.wait_for_timeout(150)
        seen.append(page.evaluate(
            f"""() => [document.querySelector('{CHART}').dataset.step,
                       document.querySelector('{CURVES}').dataset.step]"""
        ))  # fmt: skip
    assert all(race == curves for race, curves in seen), seen
    assert int(seen[-1][0]) > int(seen[0][0]), f"the race did not play: {seen}"
    page.locator(CHART).get_by_role("button", name="❚❚ Pause").click()
    page.locator(CHART).focus()
    page.keyboard.press("ArrowRight")  # from where the pause left it, rounded to a step
    before, _ = _steps(page)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert _steps(page) == (before + 2, before + 2)
    page.keyboard.press("Shift+ArrowLeft")
    back = max(0, before + 2 - 10)
    assert _steps(page) == (back, back)
    browser_log.assert_clean()


def test_hovering_reads_a_step_and_a_click_moves_the_race_there(page, open_lab, browser_log):
    _open_curves(page, open_lab)
    steps = int(page.locator(CHART).get_by_role("slider", name="step", exact=True).get_attribute("max"))
    box = page.evaluate(
        f"""() => {{ const canvas = document.querySelector('{CURVES} canvas');
                    const r = canvas.getBoundingClientRect();
                    return [r.left, r.top, r.width, r.height]; }}"""
    )
    left, top, width, height = box
    # The middle of the first panel (the left half of the canvas, side by side at 1280 px).
    x, y = left + width / 4, top + height / 2
    page.mouse.move(x, y)
    readout = page.locator(f"{CURVES} .optviz-curves__step")
    readout.filter(has_text="pointer").wait_for()
    hovered = int(readout.inner_text().split()[1])
    assert 0.3 * steps < hovered < 0.7 * steps, (hovered, steps)
    page.mouse.click(x, y)
    page.wait_for_function(JS_STEPS_AGREE)
    assert _steps(page) == (hovered, hovered)
    assert page.locator(CHART).get_attribute("data-playing") == "false"
    browser_log.assert_clean()


def test_the_first_visit_loads_no_plotly(page, open_lab, browser_log):
    """The default tab's curves are drawn by the component: Plotly's chunk (about 1 MB compressed)
    is not downloaded on the lab's first visit."""
    responses = []
    page.on("response", lambda response: responses.append(response.url))
    _open_curves(page, open_lab)
    page.wait_for_timeout(1500)  # late chunks would arrive by now
    scripts = [url for url in responses if url.endswith(".js")]
    assert scripts, "no script was loaded: the watch saw nothing"
    plotly = [url for url in responses if "PlotlyChart" in url]
    assert not plotly, plotly
    browser_log.assert_clean()


def test_curves_mounted_again_start_at_the_race_s_step(page, open_lab, browser_log):
    """Back on the tab, the curves mount anew and read the step from the race chart (which stayed)."""
    _open_curves(page, open_lab)
    page.locator(CHART).focus()
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    assert _steps(page) == (12, 12)
    page.locator(CURVES).evaluate("element => { element.__before = true; }")
    page.get_by_role("tab", name="Results").click()  # reruns the page: only the open tab is drawn
    page.wait_for_function(f"() => !document.querySelector('{CURVES}')", timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("tab", name="Loss and distance").click()
    page.wait_for_function(
        f"""() => {{ const element = document.querySelector('{CURVES}');
                    return element && !element.__before && Number(element.dataset.revision) > 0; }}""",
        timeout=LOAD_TIMEOUT_MS,
    )
    assert _steps(page) == (12, 12)
    browser_log.assert_clean()
