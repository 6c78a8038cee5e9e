"""The offline lecture deck (issue 18): how long `python -m optviz lecture` takes to write the default
week-2 deck, how large the file is, and how fast it steps in a browser with no network.

Run from the repository root:  python -m bench.lecture
Budgets: the file <= 25 MB, written in <= 60 s (a fresh process: JAX compiles, the MLP trains); next
scene drawn <= 1 s after the key press. Exits 1 if a budget is broken.

The baseline, in the same process: the lab's own standalone HTML of one race (Beale, 6 optimizers,
300 steps), which carries the race chart's code and one race; the deck carries 18 scenes, plotly.js
once, and the components' code once each. Stepping is timed in Debian's /usr/bin/chromium (Playwright)
at 1280 x 720, every request outside the file refused: from the key press to every chart of the new
scene drawn (each of its slots holding what its component or Plotly drew).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench._browser_probe import ARGS, CHROMIUM
from optviz.lab.config import RaceConfig
from optviz.lab.export.view import RaceExport

MAX_MB, MAX_WRITE_S, MAX_STEP_S = 25.0, 60.0, 1.0
SIX = ["gd", "sgd", "momentum", "adagrad", "rmsprop", "adam"]
# Every slot of the shown scene has drawn something (a component's root, Plotly's container).
DRAWN = """() => { const scene = document.querySelector('.optviz-offline__scene:not([hidden])');
    return [...scene.querySelectorAll('[data-mount]')].every((slot) => slot.firstElementChild); }"""


def write_deck(out: Path) -> float:
    """Seconds to write the default deck to `out` in a fresh process (what a lecturer runs)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "optviz", "lecture", "--out", str(out)], check=True)
    return time.perf_counter() - started


def _only_the_file(route) -> None:
    if route.request.url.startswith(("file:", "blob:", "data:")):
        route.continue_()
    else:
        route.abort()


def step_times(deck: Path) -> list[float]:
    """Seconds from → to the next scene drawn, for every scene after the first."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 720}, offline=True)
        context.route("**/*", _only_the_file)
        page = context.new_page()
        page.goto(deck.as_uri())
        page.wait_for_selector(".optviz-lecture[data-ready=true]")
        page.wait_for_function(DRAWN)
        times = []
        count = page.locator(".optviz-offline__scene").count()
        for _ in range(count - 1):
            started = time.perf_counter()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(DRAWN, polling="raf")
            times.append(time.perf_counter() - started)
            page.wait_for_timeout(300)  # a lecturer reads the scene a moment before the next key
        browser.close()
    return times


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        race = RaceExport(RaceConfig.create("beale", SIX, steps=300), "html")
        started = time.perf_counter()
        baseline = race.make()
        baseline_s = time.perf_counter() - started
        deck = Path(folder) / "week2.html"
        seconds = write_deck(deck)
        megabytes = deck.stat().st_size / 1e6
        steps = step_times(deck)
    baseline_mb = len(baseline) / 1e6
    print(f"baseline: one race as HTML (Beale, 6 x 300)  {baseline_mb:.2f} MB in {baseline_s:.2f} s")
    print(
        f"week-2 deck, {len(steps) + 1} scenes:  {megabytes:.1f} MB (budget {MAX_MB:g}; "
        f"{megabytes / baseline_mb:.1f} x the race)  written in {seconds:.1f} s (budget {MAX_WRITE_S:g})"
    )
    print(f"next scene drawn: median {statistics.median(steps):.3f} s, slowest {max(steps):.3f} s "
          f"(budget {MAX_STEP_S:g})")  # fmt: skip
    broken = megabytes > MAX_MB or seconds > MAX_WRITE_S or max(steps) > MAX_STEP_S
    print("budgets: " + ("BROKEN" if broken else "met"))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
