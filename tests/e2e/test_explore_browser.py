"""The lab's analysis tabs and your own f(x, y) in a real browser: every tab draws its chart without
errors, a typed formula lands in the URL, and that URL reopens the same surface in a new session."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import LOAD_TIMEOUT_MS, arm_rerun_watch, wait_for_rerun, wait_until_drawn

TABS = ["Learning-rate sweep", "Basins of attraction", "Stability", "Noise fan", "Internals"]
FORMULA = "x^4 - 2*x^2 + y^2 + 0.5*x*y"


def _no_exception(page) -> None:
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, "\n".join(exceptions.all_inner_texts())


@pytest.mark.parametrize("tab", TABS)
def test_each_analysis_tab_draws_its_chart(page, open_lab, browser_log, screenshot, tab):
    open_lab()
    arm_rerun_watch(page)
    page.get_by_role("tab", name=tab).click()  # reruns the page: only the open tab computes
    wait_for_rerun(page, f"opening the tab {tab!r}", timeout=LOAD_TIMEOUT_MS)
    # The tab's own chart, in its panel (the open "Loss and distance" tab had a chart too).
    expect(page.get_by_role("tabpanel", name=tab).locator(".js-plotly-plot").first).to_be_visible(
        timeout=LOAD_TIMEOUT_MS
    )
    page.wait_for_function("() => location.search.includes('view=')", timeout=10_000)
    assert parse_qs(urlparse(page.url).query)["view"] == [tab]  # the open tab is in the link
    screenshot(page)
    _no_exception(page)
    browser_log.assert_clean()


def test_a_typed_formula_is_in_the_link_and_the_link_reopens_it(page, browser, open_lab, browser_log):
    open_lab("/?surface=custom")  # the surface list's last entry
    box = page.get_by_label("f(x, y) =", exact=True)
    box.fill(FORMULA)
    # The example formula's heading is "Your f(x, y)" too, and the script is idle until the rerun
    # starts: wait for the rerun that Enter causes, not for the heading or for READY.
    arm_rerun_watch(page)
    box.press("Enter")
    wait_for_rerun(page, "typing a formula", timeout=LOAD_TIMEOUT_MS)  # a new formula compiles
    expect(page.get_by_role("heading", name="Your f(x, y)")).to_be_visible()
    page.wait_for_function("() => location.search.includes('formula=')", timeout=10_000)
    query = parse_qs(urlparse(page.url).query)
    assert query["formula"] == [FORMULA] and query["surface"] == ["custom"]
    _no_exception(page)
    browser_log.assert_clean()

    # The copied link, opened in a fresh session, shows the same formula.
    other = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        other.goto(page.url, timeout=LOAD_TIMEOUT_MS)
        other.get_by_role("heading", name="Your f(x, y)").wait_for(timeout=LOAD_TIMEOUT_MS)
        # The heading is Markdown, drawn with the run; the text box is drawn seconds later in a new
        # browser context (its code loads on first use), and shows its value a moment after that.
        wait_until_drawn(other)
        expect(other.get_by_label("f(x, y) =", exact=True)).to_have_value(FORMULA, timeout=LOAD_TIMEOUT_MS)
        _no_exception(other)
    finally:
        other.close()
