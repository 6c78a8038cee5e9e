"""The Diagnose training page in a real browser: its first chart within 3 s of opening (warm, issue
19), every tab drawn, the search run and stopped from the page, a phone, and a view in a slide."""

from __future__ import annotations

import time
from urllib.parse import quote

from playwright.sync_api import expect

from tests.e2e.browser import JS_DRAWN, LOAD_TIMEOUT_MS, RERUN_TIMEOUT_MS
from tests.e2e.conftest import PHONE

FIRST_CHART_BUDGET_S = 3.0
ALLOWANCE = 2.0  # the assertion's slack on a shared 2-core CI machine; the printed figure is the one to judge
JS_FIRST_CHART = """() => [...document.querySelectorAll('.js-plotly-plot')].some(
    g => g._fullLayout && g.querySelector('svg.main-svg') && g.getBoundingClientRect().height > 0)"""
SEARCH = "⑥ Hyperparameter search"


def view(label: str, **settings: str) -> str:
    query = "&".join(f"{key}={quote(value)}" for key, value in {"diag_view": label, **settings}.items())
    return f"/diagnose?{query}"


def charts(page) -> int:
    return page.locator(".js-plotly-plot").count()


def test_the_first_chart_is_drawn_within_three_seconds_of_opening(
    new_page, app_url, browser_log, measurement
):
    warm = new_page(viewport={"width": 1280, "height": 720})
    warm.goto(app_url + "/diagnose", timeout=LOAD_TIMEOUT_MS)
    warm.wait_for_function(JS_FIRST_CHART, timeout=LOAD_TIMEOUT_MS)
    times = []
    for _ in range(3):  # a new session each time: the browser loads the page and Streamlit runs it afresh
        page = new_page(viewport={"width": 1280, "height": 720})
        start = time.perf_counter()
        page.goto(app_url + "/diagnose", timeout=LOAD_TIMEOUT_MS)
        page.wait_for_function(JS_FIRST_CHART, timeout=LOAD_TIMEOUT_MS)
        times.append(time.perf_counter() - start)
    median = sorted(times)[1]
    verdict = "ok" if median <= FIRST_CHART_BUDGET_S else "MISS"
    runs = ", ".join(f"{t:.2f}" for t in times)
    measurement(
        f"BUDGET diagnose: opening to the first chart (warm) {median:5.2f} s  budget 3.0 s  {verdict} "
        f"({runs})"
    )
    assert median <= ALLOWANCE * FIRST_CHART_BUDGET_S
    browser_log.assert_clean()


def test_every_tab_draws_its_charts(page, open_page, browser_log, screenshot):
    open_page("/diagnose")
    tabs = page.get_by_test_id("stTabs").first.get_by_role("tab")
    labels = [label.strip() for label in tabs.all_inner_texts()]
    assert len(labels) == 7, labels
    expected = {label: 1 for label in labels} | {labels[0]: 2, "⑤ Gradient check": 2, SEARCH: 0}
    for label in labels:
        page.get_by_test_id("stTabs").first.get_by_role("tab", name=label, exact=True).click()
        page.wait_for_function(
            f"() => document.querySelectorAll('.js-plotly-plot').length >= {expected[label]}"
            f" && ({JS_DRAWN})()",
            timeout=RERUN_TIMEOUT_MS,
        )
        page.wait_for_timeout(300)
        assert page.get_by_test_id("stException").count() == 0, label
        screenshot(page, label.encode("ascii", "ignore").decode().strip().replace(" ", "-"))
    browser_log.assert_clean()


def test_a_search_runs_from_the_page_and_shows_its_best_trial(page, open_page, browser_log, screenshot):
    open_page(view(SEARCH, diag_trials="4", diag_search_epochs="1", diag_method="grid"))
    assert charts(page) == 0
    page.get_by_role("button", name="Run search").click()
    page.get_by_text("Best of 4").wait_for(timeout=RERUN_TIMEOUT_MS)
    page.wait_for_function(JS_FIRST_CHART, timeout=RERUN_TIMEOUT_MS)
    page.wait_for_function(JS_DRAWN, timeout=RERUN_TIMEOUT_MS)
    expect(page.get_by_role("button", name="coarse to fine", exact=False)).to_have_count(1)
    screenshot(page, "search")
    browser_log.assert_clean()


def test_a_stopped_search_keeps_its_finished_trials(page, open_page, browser_log, screenshot):
    """40 trials run 16 at a time: Stop once the first 16 show keeps them (and the page says so)."""
    open_page(view(SEARCH, diag_trials="40", diag_search_epochs="1", diag_method="random"))
    page.get_by_role("button", name="Run search").click()
    page.get_by_text("Best of 16").wait_for(timeout=RERUN_TIMEOUT_MS)
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Stopped: showing the").wait_for(timeout=RERUN_TIMEOUT_MS)
    text = page.get_by_test_id("stAlert").all_inner_texts()
    assert any("of 40 trials that finished" in t for t in text), text
    page.wait_for_function(JS_FIRST_CHART, timeout=RERUN_TIMEOUT_MS)
    screenshot(page, "stopped")
    browser_log.assert_clean()


def test_the_page_fits_a_phone(new_page, app_url, browser_log, screenshot):
    page = new_page(**PHONE)
    page.goto(app_url + "/diagnose", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(JS_FIRST_CHART, timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(JS_DRAWN, timeout=LOAD_TIMEOUT_MS)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # no sideways scroll
    box = page.locator(".js-plotly-plot").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    screenshot(page, "phone")
    browser_log.assert_clean()


def test_a_slide_shows_the_linked_view_alone(new_page, app_url, browser_log, screenshot):
    page = new_page(viewport={"width": 960, "height": 540})
    page.goto(app_url + view("⑤ Gradient check", embed="true"), timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(JS_FIRST_CHART, timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(JS_DRAWN, timeout=LOAD_TIMEOUT_MS)
    assert page.get_by_test_id("stTabs").count() == 0  # the view alone, no tab row
    assert page.get_by_text("Largest relative error").count() == 1
    assert charts(page) == 2
    screenshot(page, "slide")
    browser_log.assert_clean()
