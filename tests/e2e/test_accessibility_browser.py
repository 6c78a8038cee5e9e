"""Keyboard and screen-reader users in a real browser (issue 16, part 4): from the top of every page,
Tab alone reaches the animation's Play (the MLP page: Train), with a visible focus; Space or Enter
presses it exactly once; the next Tab reaches the step scrubber, whose arrow keys step. Every formula
carries MathML (what a screen reader reads) beside its picture, not raw LaTeX."""

from __future__ import annotations

import pytest

from tests.e2e.browser import LOAD_TIMEOUT_MS, wait_until_drawn

MAX_TABS = 150  # the lab's sidebar and tabs come before its chart: about 40 stops today
# In page context: what has keyboard focus, described for the assertions (shadow roots followed).
JS_FOCUSED = """() => {
    let el = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
        || style.boxShadow !== 'none';
    return {tag: el.tagName, cls: String(el.className), text: (el.innerText || '').trim().slice(0, 40),
            visible: el.matches(':focus-visible') && ring};
}"""

# page, what must be reached, where its state shows
CHARTS = {
    "lab": ("/", "optviz-race__play", '[data-testid="race-chart"]'),
    "conv": ("/conv", "optviz-steps__play", "[data-testid=conv-steps]"),
}


def tab_until(page, matches, what: str) -> list[dict]:
    """Press Tab from the top of the page until the focused element `matches`; returns the walk."""
    page.mouse.click(2, 2)  # nothing focused: Tab starts at the top of the document
    walk = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(JS_FOCUSED)
        walk.append(focused)
        if focused and matches(focused):
            return walk
    stops = [f"{f['tag']}.{f['cls'][:30]} {f['text']!r}" for f in walk if f][-12:]
    raise AssertionError(f"{MAX_TABS} Tabs never reached {what}; the last stops: {stops}")


@pytest.mark.parametrize("name", list(CHARTS))
def test_tab_reaches_play_and_the_keys_operate_it(page, open_page, browser_log, measurement, name):
    path, play_class, root = CHARTS[name]
    open_page(path)
    chart = page.locator(root).first
    page.wait_for_function(
        "r => Number(document.querySelector(r)?.dataset.revision) > 0", arg=root, timeout=LOAD_TIMEOUT_MS
    )
    walk = tab_until(page, lambda f: play_class in f["cls"], "Play")
    measurement(f"{name}: Play is Tab stop {len(walk)}")
    assert walk[-1]["visible"], f"Play has keyboard focus but no visible focus ring: {walk[-1]}"

    page.keyboard.press("Space")  # presses Play once: playing (the chart's own Space must not undo it)
    page.wait_for_function(
        "r => document.querySelector(r).dataset.playing === 'true'", arg=root, timeout=5_000
    )
    page.keyboard.press("Enter")  # Enter presses it too: paused
    page.wait_for_function(
        "r => document.querySelector(r).dataset.playing === 'false'", arg=root, timeout=5_000
    )

    page.keyboard.press("Tab")
    focused = page.evaluate(JS_FOCUSED)
    assert "scrubber" in focused["cls"] and focused["visible"], f"after Play, Tab focused {focused}"
    step = int(chart.get_attribute("data-step"))
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([r, s]) => Number(document.querySelector(r).dataset.step) === s + 1",
        arg=[root, step],
        timeout=5_000,
    )
    if name == "lab":  # the speed list and the whole-paths box keep their own keys
        page.keyboard.press("Tab")
        speed = page.locator(".optviz-race__speed")
        before = speed.input_value()
        page.keyboard.press("ArrowDown")
        assert speed.input_value() != before, "ArrowDown on the speed list did not change the speed"
        assert chart.get_attribute("data-step") == str(step + 1), "ArrowDown on the speed list moved the race"
        page.keyboard.press("Tab")
        page.keyboard.press("Space")
        assert page.locator(".optviz-race__whole").is_checked(), "Space did not tick 'whole paths'"
        assert chart.get_attribute("data-playing") == "false", "Space on 'whole paths' played the race"
    browser_log.assert_clean()


def test_tab_reaches_train_on_the_mlp_page(page, open_page, browser_log, measurement):
    # A seed of its own: no other test has trained this run, so its results come from this Enter.
    open_page("/mlp?mlp_view=③ Training&mlp_epochs=1&mlp_optimizers=sgd&mlp_seed=16")
    page.get_by_role("button", name="Train").wait_for(timeout=LOAD_TIMEOUT_MS)
    assert page.get_by_test_id("stDataFrame").count() == 0, "results before training"
    walk = tab_until(page, lambda f: f["tag"] == "BUTTON" and f["text"].endswith("Train"), "Train")
    measurement(f"mlp: Train is Tab stop {len(walk)}")
    assert walk[-1]["visible"], f"Train has keyboard focus but no visible focus ring: {walk[-1]}"
    page.keyboard.press("Enter")
    page.get_by_test_id("stDataFrame").wait_for(timeout=LOAD_TIMEOUT_MS)  # trained: its results
    browser_log.assert_clean()


@pytest.mark.parametrize("path", ["/", "/mlp?mlp_view=⑤ The training loop", "/conv"])
def test_formulas_carry_mathml_for_screen_readers(page, open_page, path):
    """KaTeX draws each formula twice: MathML (read aloud) and an HTML picture hidden from screen
    readers. Raw LaTeX would be read as backslashes and braces."""
    open_page(path)
    wait_until_drawn(page, LOAD_TIMEOUT_MS)
    page.locator(".katex").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    formulas = page.evaluate(
        """() => [...document.querySelectorAll('.katex')].map(k => ({
            mathml: k.querySelector('.katex-mathml math') !== null,
            hidden: k.querySelector('.katex-html')?.getAttribute('aria-hidden') === 'true',
            text: k.innerText.slice(0, 60)}))"""
    )
    assert formulas, f"{path}: no formula found"
    missing = [f for f in formulas if not (f["mathml"] and f["hidden"])]
    assert not missing, f"{path}: formulas without MathML or with a readable picture: {missing}"


# --- presenter mode: readable from the back of the hall, Play on the first screen ------------------

TEXT_CONTRAST = 4.5  # WCAG 2.1 AA, 1.4.3: text
# In page context: every visible piece of text (HTML or a chart's SVG) whose contrast against what is
# behind it is under `min`: its colour (with its alpha and the opacity of its ancestors) against the
# nearest background colour under it, composited on white. Icons (a ligature font) are pictures.
JS_LOW_CONTRAST = """min => {
    const parse = c => { const m = (c || '').match(/[\\d.]+/g); if (!m) return null;
        const [r, g, b, a] = m.map(Number); return [r, g, b, a === undefined ? 1 : a]; };
    const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3]));
    const f = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    const lum = rgb => 0.2126 * f(rgb[0]) + 0.7152 * f(rgb[1]) + 0.0722 * f(rgb[2]);
    // The backgrounds of the ancestors under the text's centre (a slider's value label sits beside
    // its thumb, not on it), composited from the first opaque one up.
    const backdrop = (el, x, y) => {
        const layers = [];
        for (let p = el; p; p = p.parentElement) {
            const box = p.getBoundingClientRect();
            if (x < box.left || x > box.right || y < box.top || y > box.bottom) continue;
            const bg = parse(getComputedStyle(p).backgroundColor);
            if (bg && bg[3] > 0) { layers.push(bg); if (bg[3] === 1) break; }
        }
        return layers.reverse().reduce((under, layer) => over(layer, under), [255, 255, 255]);
    };
    const low = [];
    for (const el of document.querySelectorAll('body *')) {
        if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
        const box = el.getBoundingClientRect();
        if (!box.width || !box.height) continue;
        const style = getComputedStyle(el);
        if (style.visibility === 'hidden' || /Material Symbols/.test(style.fontFamily)) continue;
        if (['SCRIPT', 'STYLE', 'TITLE', 'OPTION'].includes(el.tagName)) continue;
        let opacity = 1;
        for (let p = el; p; p = p.parentElement) opacity *= Number(getComputedStyle(p).opacity);
        if (opacity === 0) continue;
        const colour = parse(el instanceof SVGElement ? style.fill : style.color);
        if (!colour) continue;
        colour[3] *= opacity;
        const under = backdrop(el, box.left + box.width / 2, box.top + box.height / 2);
        const [a, b] = [lum(over(colour, under)), lum(under)];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        const name = `${el.tagName}.${String(el.className?.baseVal ?? el.className).slice(0, 30)}`;
        if (ratio < min) low.push(`${ratio.toFixed(2)}:1 ${name} ${el.textContent.trim().slice(0, 40)}`);
    }
    return [...new Set(low)];
}"""
PRESENTER_VIEWS = [
    "/?presenter=true",
    "/?presenter=true&view=Learning-rate sweep",
    "/mlp?presenter=true&mlp_view=② The MLP",
    "/conv?presenter=true",
    "/conv?presenter=true&conv_view=Many channels, many filters",
]


@pytest.mark.parametrize("path", PRESENTER_VIEWS)
def test_presenter_text_has_at_least_4_5_to_1_contrast(page, open_page, path):
    open_page(path)
    wait_until_drawn(page, LOAD_TIMEOUT_MS)
    page.wait_for_timeout(1000)  # charts draw after the script is idle
    low = page.evaluate(JS_LOW_CONTRAST, TEXT_CONTRAST)
    assert not low, f"{path}: text under {TEXT_CONTRAST}:1 in presenter mode: {low}"


@pytest.mark.parametrize("name", list(CHARTS))
def test_presenter_play_is_on_the_first_screen_of_a_1280_x_720_projector(new_page, app_url, name):
    path, play_class, root = CHARTS[name]
    page = new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{app_url}{path}?presenter=true", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(
        "r => Number(document.querySelector(r)?.dataset.revision) > 0", arg=root, timeout=LOAD_TIMEOUT_MS
    )
    wait_until_drawn(page, LOAD_TIMEOUT_MS)
    page.wait_for_timeout(500)  # the chart's layout follows its first drawing
    play = page.locator(f".{play_class}").bounding_box()
    assert play and play["y"] >= 0 and play["y"] + play["height"] <= 720, (
        f"{name}: Play at {play}, window 720 px"
    )
