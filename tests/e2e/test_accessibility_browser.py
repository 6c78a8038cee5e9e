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
    "conv": ("/conv", "optviz-conv__play", "[data-testid=conv-steps]"),
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
