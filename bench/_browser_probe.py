"""One real Chromium page as an extra session during `bench.load --browser-probe`: it opens the lab,
then keeps typing a new start x₀ (Enter) after a think time of 1-4 s, and times the key press to the
first animation frame the browser draws with the new paths (as tests/e2e/test_lab_browser.py does).

Debian's /usr/bin/chromium driven by Playwright (never `playwright install`); loopback only.
"""

from __future__ import annotations

import os
import random
import time

CHROMIUM = os.environ.get("OPTVIZ_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
# The lab's race chart (optviz/ui/race_chart) has drawn a race: its revision counts the races drawn.
CHART_DRAWN = """() => { const chart = document.querySelector('[data-testid=race-chart]');
    return chart && Number(chart.dataset.revision) > 0 && chart.dataset.startPx; }"""
PATH_HEAD = """() => { const chart = document.querySelector('[data-testid=race-chart]');
    const path = chart && chart.drawnPath && chart.drawnPath('Adam');
    return path ? path.slice(0, 8) : null; }"""
CHANGED = """before => { const chart = document.querySelector('[data-testid=race-chart]');
    const path = chart && chart.drawnPath && chart.drawnPath('Adam');
    if (!path) return false;
    return path.slice(0, 8).some((v, j) => v !== before[j]) && performance.now(); }"""


def probe(url: str, until: float, report) -> None:
    """Append key-press-to-chart times (s) to report.browser_latencies_s; problems to report.errors."""
    from playwright.sync_api import sync_playwright

    rng = random.Random(12345)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.on("pageerror", lambda e: report.errors.append(f"browser probe: page error {e}"))
                page.goto(url + "/", timeout=120_000)
                page.wait_for_function(CHART_DRAWN, timeout=120_000)
                page.wait_for_selector(READY, timeout=120_000)
                x0 = page.get_by_label("x₀", exact=True)
                low, high = float(x0.get_attribute("min")), float(x0.get_attribute("max"))
                while time.monotonic() < until:
                    time.sleep(rng.uniform(1.0, 4.0))
                    if time.monotonic() >= until:
                        break
                    before = page.evaluate(PATH_HEAD)
                    x0.fill(f"{rng.uniform(low + 0.05 * (high - low), high - 0.05 * (high - low)):.4f}")
                    page.evaluate(
                        """() => { window.__keyAt = null;
                                   const mark = () => { window.__keyAt = performance.now(); };
                                   window.addEventListener('keydown', mark, {capture: true, once: true}); }"""
                    )
                    x0.press("Enter")
                    changed_at = page.wait_for_function(
                        CHANGED, arg=before, polling="raf", timeout=60_000
                    ).json_value()
                    key_at = page.evaluate("() => window.__keyAt")
                    report.browser_latencies_s.append((changed_at - key_at) / 1000)
                    page.wait_for_selector(READY, timeout=60_000)
            finally:
                browser.close()
    except Exception as error:
        report.errors.append(f"browser probe: {type(error).__name__}: {error}")
