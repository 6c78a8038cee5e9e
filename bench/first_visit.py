"""A first visit to each page over a lecture hall's Wi-Fi (issue 25): bytes on the wire, requests, and
the time to the first chart, unthrottled and at 0.5 Mbit/s with 100 ms latency.

Run from the repository root:  python -m bench.first_visit [--pages / /mlp /conv] [--workers 1]
It serves the app the documented way for a class (`python -m optviz serve`: nginx in front, static
files pre-compressed) on a loopback port (bench/_server.py) and opens each page in Debian's
/usr/bin/chromium driven by Playwright, each visit in a new browser context (a cold cache, a new
cookie). DevTools' network counters give the bytes on the wire (encoded: what crosses the Wi-Fi) and
the requests; `Network.emulateNetworkConditions` throttles a visit to 200 students sharing
100 Mbit/s (0.5 Mbit/s each, 100 ms latency). The first chart: the lab's race chart with its first
race, the convolution's first step or the MLP page's graph (`data-revision` >= 1), timed from the
navigation's start.
Then the same page again in the same context: the repeat visit's bytes (the hashed files are cached).

Budgets: a first visit <= 1.5 MB, its first chart at 0.5 Mbit/s <= 30 s, a repeat visit <= 100 KB.
Prints each page's figures and its largest downloads, then `RESULT: OK` or `RESULT: BROKEN: ...`
(exit 1 when broken).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench._browser_probe import ARGS, CHROMIUM
from bench._server import ServedApp

BUDGET_FIRST_VISIT_MB, BUDGET_THROTTLED_CHART_S, BUDGET_REPEAT_KB = 1.5, 30.0, 100
HALL = {"offline": False, "latency": 100, "downloadThroughput": 0.5e6 / 8, "uploadThroughput": 0.5e6 / 8}
LOAD_MS = 300_000
VIEWPORT = {"width": 1280, "height": 720}
# A page's first chart: the lab's race chart, the convolution's step-by-step canvas or the MLP page's
# computation graph (components: their revision counts the data drawn), else a Plotly chart.
CHART_COMPONENTS = "[data-testid=race-chart], [data-testid=conv-steps], [data-testid=graph-view]"
JS_CHART_IS_DRAWN = f"""(Number(document.querySelector("{CHART_COMPONENTS}")?.dataset.revision) > 0
    || document.querySelector(".js-plotly-plot .main-svg") !== null)"""
JS_CHART_DRAWN = f"() => {JS_CHART_IS_DRAWN}"
SHOWN_FILES = 6  # the largest downloads listed per page


class Visit:
    """One browser context with DevTools' network counters: what each response cost on the wire."""

    def __init__(self, browser, throttle: dict | None) -> None:
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Network.enable")
        if throttle:
            self.cdp.send("Network.emulateNetworkConditions", throttle)
        self.urls: dict[str, str] = {}
        self.files: dict[str, int] = {}  # url -> bytes on the wire
        self.cdp.on(
            "Network.requestWillBeSent", lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"])
        )
        self.cdp.on("Network.loadingFinished", self._finished)

    def _finished(self, event) -> None:
        url = self.urls.get(event["requestId"], event["requestId"])
        self.files[url] = self.files.get(url, 0) + event["encodedDataLength"]

    def open(self, url: str) -> float:
        """Open `url`; seconds from the navigation's start to the first chart drawn."""
        self.files.clear()
        t0 = time.perf_counter()
        self.page.goto(url, timeout=LOAD_MS)
        self.page.wait_for_function(JS_CHART_DRAWN, timeout=LOAD_MS, polling=100)
        seconds = time.perf_counter() - t0
        self.page.wait_for_timeout(1000)  # the page's late requests (fonts, the chart's own)
        return seconds

    @property
    def wire(self) -> int:
        return sum(self.files.values())

    def largest(self) -> list[tuple[str, int]]:
        return sorted(self.files.items(), key=lambda item: -item[1])[:SHOWN_FILES]


def visit_page(browser, url: str, throttle: dict | None) -> dict:
    visit = Visit(browser, throttle)
    try:
        chart_s = visit.open(url)
        first = {
            "chart_s": chart_s,
            "wire": visit.wire,
            "requests": len(visit.files),
            "largest": visit.largest(),
        }
        visit.open(url)
        return {**first, "repeat": visit.wire}
    finally:
        visit.context.close()


def report(path: str, fast: dict, hall: dict) -> tuple[list[str], list[str]]:
    """The page's lines, and what broke a budget."""
    lines = [
        f"{path}: first visit {fast['wire'] / 1e6:.2f} MB on the wire (budget {BUDGET_FIRST_VISIT_MB} MB), "
        f"{fast['requests']} requests; first chart {fast['chart_s']:.1f} s unthrottled, "
        f"{hall['chart_s']:.1f} s at 0.5 Mbit/s + 100 ms (budget {BUDGET_THROTTLED_CHART_S:.0f} s); "
        f"repeat visit {fast['repeat'] / 1e3:.0f} kB (budget {BUDGET_REPEAT_KB} kB)",
        "  largest downloads: "
        + ", ".join(
            f"{urlsplit(url).path.rsplit('/', 1)[-1] or url} {size / 1e3:.0f} kB"
            for url, size in fast["largest"]
        ),
    ]
    broken = []
    if fast["wire"] > BUDGET_FIRST_VISIT_MB * 1e6:
        broken.append(f"{path}: first visit {fast['wire'] / 1e6:.2f} MB > {BUDGET_FIRST_VISIT_MB} MB")
    if hall["chart_s"] > BUDGET_THROTTLED_CHART_S:
        broken.append(
            f"{path}: throttled first chart {hall['chart_s']:.1f} s > {BUDGET_THROTTLED_CHART_S:.0f} s"
        )
    if max(fast["repeat"], hall["repeat"]) > BUDGET_REPEAT_KB * 1e3:
        broken.append(
            f"{path}: repeat visit {max(fast['repeat'], hall['repeat']) / 1e3:.0f} kB > {BUDGET_REPEAT_KB} kB"
        )
    return lines, broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", nargs="+", default=["/", "/mlp", "/conv"], help="paths to open")
    parser.add_argument("--workers", type=int, default=1, help="workers behind the front (1-4)")
    args = parser.parse_args(argv)
    if not 1 <= args.workers <= 4:
        parser.error("--workers: 1 to 4")
    from playwright.sync_api import sync_playwright

    log = Path(tempfile.mkdtemp(prefix="bench-first-visit-")) / "serve.log"
    with ServedApp(log, args.workers) as served, sync_playwright() as playwright:
        served.wait_healthy()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for path in args.pages:  # a warm server: each page run once before it is timed
            visit_page(browser, served.url + path, None)
        print(
            f"first visits through `python -m optviz serve --workers {args.workers}`, "
            "cold browser cache, warm server:"
        )
        broken = []
        for path in args.pages:
            fast = visit_page(browser, served.url + path, None)
            hall = visit_page(browser, served.url + path, HALL)
            lines, problems = report(path, fast, hall)
            print("\n".join(lines), flush=True)
            broken += problems
        browser.close()
    print("RESULT: OK" if not broken else "RESULT: BROKEN: " + "; ".join(broken))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
