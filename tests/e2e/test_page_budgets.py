"""Issue 16's page budgets, measured in the browser (one user, a warm server, this 2-core machine):

- opening a tab of the lab, the MLP, the convolutions or the Diagnose training page draws its first
  chart within 1.5 s;
- choosing another loss surface in the lab's sidebar draws its race within 1 s;
- a keyboard step of the lab's "Steps" slider draws the new race within 0.5 s.

Warm, as in a lecture after the first time: every tab and surface is opened once (compiling and
caching what it needs) before it is measured, and each figure is the median of a few repetitions.
Every figure is printed ("BUDGET ...", run with -s) beside its budget and its ratio to it, with
where its time went as the page saw it: when, after the action, the script run started and ended
(the app's `data-test-script-state`; a run of a few ms can go unseen, as React may draw its start and
end in one frame) and when the chart was drawn. The assertion allows ALLOWANCE x the budget: the CI
machine runs these on 2 cores beside other tests; the printed ratio is the figure to judge.

"First chart" is the first Plotly chart, canvas component (race chart, loss curves, convolution
steps, computation graph), dataframe, table or image in the opened tab's panel, once drawn. A tab
without any (e.g. the update rules, a page of formulas) is timed to its first formula, code listing
or message. Streamlit (react-aria) mounts only the selected tab's panel, and a run that does not open
a tab leaves its panel empty, so nothing of the previously open tab can be counted; as a second
guard, no element already in the page when the tab is clicked counts.
"""

from __future__ import annotations

import os
import statistics

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.browser import LOAD_TIMEOUT_MS, RERUN_TIMEOUT_MS, wait_until_drawn

BUDGET_TAB_S = 1.5  # issue 16: opening any tab, to its first chart
BUDGET_SURFACE_S = 1.0  # issue 16: another loss surface, to its race drawn
BUDGET_STEPS_S = 0.5  # issue 16: the steps slider, to the new race drawn
ALLOWANCE = 2.0  # the assertion's slack over a budget on a shared 2-core CI machine
TAB_REPEATS = 3  # measured openings of each tab, after one warm-up opening
SURFACES = ["Beale", "Himmelblau", "Rosenbrock"]  # the lab opens on Rosenbrock
SURFACE_ROUNDS = 2  # measured passes through SURFACES, after one warm-up pass
STEP_PRESSES = 5  # measured ArrowRight presses on "Steps", after one warm-up press
IDLE_MS = 100  # a pause before each action: nobody clicks within a frame of the last one drawn
LATE_CHART_MS = 300  # after a run that drew no chart in the tab, how long a chart may still take

RACE = "[data-testid=race-chart]"
PAGES = {"lab": "/", "mlp": "/mlp", "conv": "/conv", "diagnose": "/diagnose"}

# What counts as a chart, and as a tab's content when it has no chart (page context).
JS_KINDS = """
window.__pbChart = '.js-plotly-plot, [data-testid=race-chart], [data-testid=race-curves], '
    + '[data-testid=conv-steps], [data-testid=graph-view], [data-testid=stDataFrame], '
    + '[data-testid=stTable], [data-testid=stImage] img';
window.__pbContent = '.katex, [data-testid=code-block], [data-testid=stAlert]';
window.__pbDrawn = (el) => {
    if (el.classList.contains('js-plotly-plot'))
        return !!el._fullLayout && !!el.querySelector('svg.main-svg')
            && el.getBoundingClientRect().height > 0;
    if (el.dataset.revision !== undefined) return Number(el.dataset.revision) > 0;
    if (el.dataset.testid === 'stDataFrame') {
        const canvas = el.querySelector('canvas');
        return !!canvas && canvas.width > 0 && canvas.height > 0;
    }
    if (el.tagName === 'IMG') return el.complete && el.naturalWidth > 0;
    return true;
};
window.__pbKind = (el) => el.classList.contains('js-plotly-plot') ? 'plotly chart'
    : el.tagName === 'IMG' ? 'image' : el.dataset.testid;
"""

# Before an action: record the time (performance.now()) of the action (its first pointerdown, or
# keydown), of the script run's start and end, and of the first animation frame after it at which
# `ready()` (window.__pbReady[name]) holds. `arg` = [event, name, ready's argument].
JS_ARM = """([event, readyName, readyArg]) => {
    const now = () => performance.now();
    const app = document.querySelector("[data-testid='stApp']");
    const ready = window.__pbReady[readyName];
    const m = {action: null, runStart: null, runEnd: null, ready: null, content: null, kind: null};
    window.__pb = m;
    document.addEventListener(event, () => { if (m.action === null) m.action = now(); },
                              {capture: true, once: true});
    // What is already in the page never counts: only a chart (or content) mounted after the action.
    const before = document.querySelectorAll(window.__pbChart + ', ' + window.__pbContent);
    for (const el of before) el.__pbBefore = true;
    if (window.__pbWatch) window.__pbWatch.disconnect();
    window.__pbWatch = new MutationObserver((records) => {
        if (m.action === null) return;
        const state = app.getAttribute('data-test-script-state');
        if (m.runStart === null && (state === 'running' || records.some((r) => r.oldValue === 'running')))
            m.runStart = now();
        if (m.runStart !== null) m.runEnd = state === 'running' ? null : now();  // the last run's end
    });
    window.__pbWatch.observe(
        app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']}
    );
    const tick = () => {
        if (window.__pb !== m) return;
        if (m.action !== null) ready(m, readyArg, now());
        if (m.ready === null) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
}"""

# ready(): the tab labelled `label` is selected and its panel shows a drawn chart (first content too).
JS_TAB_READY = """(m, label, t) => {
    const tabs = document.querySelector('[data-testid=stTabs]');
    const tab = tabs && tabs.querySelector('[role=tab][aria-selected=true]');
    if (!tab || tab.innerText.trim() !== label) return;
    const panel = document.getElementById(tab.getAttribute('aria-controls'));
    if (!panel) return;
    const content = panel.querySelector(window.__pbContent);
    if (m.content === null && content && !content.__pbBefore) m.content = t;
    const chart = panel.querySelector(window.__pbChart);
    if (chart && !chart.__pbBefore && window.__pbDrawn(chart)) {
        m.ready = t;
        m.kind = window.__pbKind(chart);
    }
}"""

# ready(): the race chart has taken a race newer than revision `before` (it draws it in this frame).
JS_RACE_READY = """(m, before, t) => {
    const chart = document.querySelector('[data-testid=race-chart]');
    if (chart && Number(chart.dataset.revision) > before) m.ready = t;
}"""
# A tab is shown: its chart is drawn, or it shows content and the run is over and drawn.
JS_TAB_SHOWN = """() => { const m = window.__pb;
    return m.ready !== null
        || (m.content !== null && document.querySelector("[data-testid='stApp']")
                .getAttribute('data-test-script-state') === 'notRunning'
            && !document.querySelector("[data-testid='stSkeleton']")); }"""
# What the page shows when a tab's chart or content does not come (for the failure message).
JS_DEBUG = """() => {
    const tab = document.querySelector('[data-testid=stTabs] [role=tab][aria-selected=true]');
    const panel = tab && document.getElementById(tab.getAttribute('aria-controls'));
    const chart = panel && panel.querySelector(window.__pbChart);
    return {measurement: window.__pb, selected: tab && tab.innerText, panel: !!panel,
            chart: chart && chart.outerHTML.slice(0, 200),
            state: document.querySelector("[data-testid='stApp']").getAttribute('data-test-script-state')};
}"""
# Everything the measurements use in the page, installed before each action.
JS_SETUP = JS_KINDS + f"window.__pbReady = {{tab: {JS_TAB_READY}, race: {JS_RACE_READY}}};"


# --- measuring ---------------------------------------------------------------------------------------


def idle(page) -> None:
    wait_until_drawn(page, LOAD_TIMEOUT_MS)
    page.wait_for_timeout(IDLE_MS)


def arm(page, event: str, ready: str, arg=None) -> None:
    page.evaluate(f"(arg) => {{ {JS_SETUP}; ({JS_ARM})(arg); }}", [event, ready, arg])


def result(page) -> dict:
    """The armed measurement, in seconds from the action: to ready ("s"), to the run's start, the run."""
    m = page.evaluate("() => window.__pb")
    assert m["action"] is not None, "the action did not reach the page"
    total = (m["ready"] - m["action"]) / 1000
    start = None if m["runStart"] is None else (m["runStart"] - m["action"]) / 1000
    run = None if m["runStart"] is None or m["runEnd"] is None else (m["runEnd"] - m["runStart"]) / 1000
    return {"s": total, "to_run": start, "run": run, "kind": m["kind"]}


def open_tab(page, label: str) -> dict:
    """Click tab `label` (of the page's first tab set); wait until its first chart is drawn (or, for a
    tab without one, until the run is over and drawn, and time its first content); its timings."""
    idle(page)
    arm(page, "pointerdown", "tab", label)
    page.get_by_test_id("stTabs").first.get_by_role("tab", name=label, exact=True).click()
    try:
        page.wait_for_function(JS_TAB_SHOWN, timeout=RERUN_TIMEOUT_MS)
    except PlaywrightTimeoutError as error:
        raise AssertionError(
            f"tab {label!r}: neither a chart nor content within {RERUN_TIMEOUT_MS} ms: "
            + str(page.evaluate(JS_DEBUG))
        ) from error
    if page.evaluate("() => window.__pb.ready === null"):
        try:  # the run is over: a chart may still be on its way
            page.wait_for_function("() => window.__pb.ready !== null", timeout=LATE_CHART_MS)
        except PlaywrightTimeoutError:
            page.evaluate(
                "() => { const m = window.__pb; m.ready = m.content; m.kind = 'no chart: first content'; }"
            )
    return result(page)


def race_revision(page) -> int:
    return int(page.locator(RACE).first.get_attribute("data-revision"))


def choose_surface(page, title: str) -> dict:
    """Choose `title` in the sidebar's "Loss surface" box; wait until the race chart takes its race."""
    idle(page)
    box = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Loss surface")
    box.click()
    option = page.get_by_role("option", name=title, exact=True)
    option.wait_for()
    arm(page, "pointerdown", "race", race_revision(page))
    option.click()
    page.wait_for_function("() => window.__pb.ready !== null", timeout=RERUN_TIMEOUT_MS)
    timing = result(page)
    assert box.input_value() == title
    return timing


def press_steps(page, key: str) -> dict:
    """Press `key` on the sidebar's "Steps" slider; wait until the race chart takes the new race."""
    idle(page)
    slider = page.get_by_test_id("stSidebar").get_by_role("slider", name="Steps")
    slider.focus()
    arm(page, "keydown", "race", race_revision(page))
    page.keyboard.press(key)
    page.wait_for_function("() => window.__pb.ready !== null", timeout=RERUN_TIMEOUT_MS)
    timing = result(page)
    timing["value"] = slider.get_attribute("aria-valuetext")
    return timing


def split(timings: list[dict]) -> str:
    """When, in the median measurement, the script run started and ended (s after the action)."""
    t = sorted(timings, key=lambda x: x["s"])[len(timings) // 2]
    if t["to_run"] is None:
        return "  [the run's start not seen]"
    end = "still running" if t["run"] is None else f"ends {t['to_run'] + t['run']:.2f}"
    return f"  [run starts {t['to_run']:.2f}, {end}; drawn {t['s']:.2f}]"


def line(what: str, timings: list[dict], budget: float) -> tuple[str, float]:
    median = statistics.median(t["s"] for t in timings)
    verdict = "ok" if median <= budget else "MISS"
    runs = ", ".join(f"{t['s']:.2f}" for t in timings)
    text = (
        f"BUDGET {what:<52} {median:5.2f} s  budget {budget:.1f} s  x{median / budget:.2f} {verdict:<4}"
        f"  (runs {runs}){split(timings)}"
    )
    return text, median


def check(rows: list[tuple[str, float, float]]) -> None:
    """Assert every median within ALLOWANCE x its budget, naming all that are not."""
    over = [
        f"{what}: {median:.2f} s (budget {budget} s)"
        for what, median, budget in rows
        if median > ALLOWANCE * budget
    ]
    assert not over, f"over {ALLOWANCE:g} x the budget:\n  " + "\n  ".join(over)


# --- the tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PAGES))
def test_opening_a_tab_draws_its_first_chart_within_the_budget(
    name, page, open_page, open_lab, browser_log, measurement
):
    if name == "lab":
        open_lab()
    else:
        open_page(PAGES[name])
    labels = page.get_by_test_id("stTabs").first.get_by_role("tab").all_inner_texts()
    labels = [label.strip() for label in labels]
    assert len(labels) >= 2, f"{name}: tabs {labels}"
    order = labels[1:] + labels[:1]  # each click opens a tab other than the open one
    for label in order:  # warm: compile and cache what each tab needs
        open_tab(page, label)
    timings = {label: [] for label in labels}
    for _ in range(TAB_REPEATS):
        for label in order:
            timings[label].append(open_tab(page, label))
    rows = []
    for label in labels:
        kind = timings[label][-1]["kind"]
        text, median = line(f"{name} tab '{label}' ({kind})", timings[label], BUDGET_TAB_S)
        measurement(text)
        rows.append((f"{name} tab {label!r}", median, BUDGET_TAB_S))
    measurement(f"(load average {os.getloadavg()[0]:.1f})")
    assert page.get_by_test_id("stException").count() == 0
    browser_log.assert_clean()
    check(rows)


def test_choosing_another_surface_draws_its_race_within_the_budget(page, open_lab, browser_log, measurement):
    open_lab()
    for title in SURFACES:  # warm: each surface's race computed and cached once
        choose_surface(page, title)
    timings = {title: [] for title in SURFACES}
    for _ in range(SURFACE_ROUNDS):
        for title in SURFACES:
            timings[title].append(choose_surface(page, title))
    every = [t for title in SURFACES for t in timings[title]]
    text, median = line("lab surface switch (all)", every, BUDGET_SURFACE_S)
    measurement(text)
    for title in SURFACES:
        measurement(line(f"  lab surface -> {title}", timings[title], BUDGET_SURFACE_S)[0])
    measurement(f"(load average {os.getloadavg()[0]:.1f})")
    assert page.get_by_test_id("stException").count() == 0
    browser_log.assert_clean()
    check([("lab surface switch", median, BUDGET_SURFACE_S)])


def test_a_step_of_the_steps_slider_draws_the_new_race_within_the_budget(
    page, open_lab, browser_log, measurement
):
    open_lab()
    press_steps(page, "ArrowRight")  # warm: the page's and the chart's paths after a steps change
    timings = [press_steps(page, "ArrowRight") for _ in range(STEP_PRESSES)]
    values = [t["value"] for t in timings]
    assert len(set(values)) == STEP_PRESSES, f"every press was to be a new step count: {values}"
    text, median = line(f"lab steps slider ArrowRight ({values[0]}..{values[-1]})", timings, BUDGET_STEPS_S)
    measurement(text)
    measurement(f"(load average {os.getloadavg()[0]:.1f})")
    assert page.get_by_test_id("stException").count() == 0
    browser_log.assert_clean()
    check([("lab steps slider", median, BUDGET_STEPS_S)])
