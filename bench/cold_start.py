"""Cold start: seconds from `streamlit run app.py` to the lab's race chart drawn in a browser.

Run from the repository root:  python -m bench.cold_start [--repeat 3]
Budget (the quality-gates issue): at most 10 s with a warm compilation cache, on 2 cores.

Each start launches `streamlit run app.py` on a free loopback port (the browser, headless Debian
Chromium, is already running: launching it is not the app's time), polls /_stcore/health, opens the
lab as soon as the server answers, and stops the clock when the race chart is drawn: the
component has drawn its first race (`data-revision` > 0), as the browser tests' `open_lab` waits.
Scenarios, each the median of `--repeat` starts, each with its own JAX cache folder
($OPTVIZ_JAX_CACHE_DIR):
- no cache: the persistent compilation cache off, the app as it was before it had one;
- empty cache: the first start ever on a machine (the cache fills during it);
- warm cache: a later start (the folder the empty-cache start filled);
- warmed: an empty folder filled by `python -m optviz.warmup` (the install or deploy step), then the
  start: the very first start, warm.
The OS file cache and Python's .pyc files are warm after the first start of the run, for every
scenario alike: a machine that just booted reads more from disk.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._browser_probe import ARGS, CHART_DRAWN, CHROMIUM
from bench._server import REPO, AppServer

BUDGET_S = 10.0
LOAD_TIMEOUT_MS = 120_000


def time_to_chart(browser, cache_dir: str, log: Path) -> dict[str, float]:
    """One start with JAX's cache at `cache_dir` ("off": none): seconds to healthy and to the chart."""
    server = AppServer(log, env={"OPTVIZ_JAX_CACHE_DIR": cache_dir})
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        server.start()
        healthy = server.wait_healthy()
        page.goto(server.url + "/", timeout=LOAD_TIMEOUT_MS)
        page.wait_for_function(CHART_DRAWN, timeout=LOAD_TIMEOUT_MS, polling="raf")
        chart = time.monotonic() - server.started_at
    finally:
        page.close()
        server.stop()
    return {"healthy": healthy, "chart": chart}


def warm(cache_dir: str) -> float:
    """`python -m optviz.warmup` into `cache_dir`; returns its seconds."""
    start = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "optviz.warmup"],
        cwd=REPO,
        env={**os.environ, "OPTVIZ_JAX_CACHE_DIR": cache_dir},
        check=True,
        capture_output=True,
    )
    return time.monotonic() - start


def measure(repeat: int = 3, scenarios=("no cache", "empty cache", "warm cache", "warmed")) -> dict:
    """Medians per scenario: {"healthy": s, "chart": s, "runs": [...]} (and "warm-up" for "warmed")."""
    from playwright.sync_api import sync_playwright

    results: dict[str, dict] = {name: {"runs": []} for name in scenarios}
    with tempfile.TemporaryDirectory(prefix="optviz-cold-") as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for i in range(repeat):  # interleaved, so a busy moment on the machine hits every scenario
                filled = f"{tmp}/filled-{i}"
                for name in scenarios:
                    folder = {"no cache": "off", "empty cache": filled, "warm cache": filled}.get(name)
                    if name == "warmed":
                        folder = f"{tmp}/warmed-{i}"
                        results[name].setdefault("warm-up", []).append(warm(folder))
                    if name == "warm cache" and "empty cache" not in scenarios:
                        time_to_chart(browser, folder, Path(tmp) / "fill.log")  # fill it first
                    results[name]["runs"].append(time_to_chart(browser, folder, Path(tmp) / f"{name}.log"))
        finally:
            browser.close()
    for result in results.values():
        result["healthy"] = statistics.median(r["healthy"] for r in result["runs"])
        result["chart"] = statistics.median(r["chart"] for r in result["runs"])
        if "warm-up" in result:
            result["warm-up"] = statistics.median(result["warm-up"])
    return results


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="starts per scenario (1-10)")
    args = parser.parse_args(argv)
    if not 1 <= args.repeat <= 10:
        parser.error("--repeat must be 1-10")
    before = _load_average()
    results = measure(args.repeat)
    print(
        f"cold start, `streamlit run app.py` -> lab's race chart drawn (median of {args.repeat}; "
        f"load average {before} before, {_load_average()} after):"
    )
    for name, r in results.items():
        runs = ", ".join(f"{run['chart']:.1f}" for run in r["runs"])
        answering = f"server answering after {r['healthy']:.1f} s"
        extra = f"; `python -m optviz.warmup` took {r['warm-up']:.1f} s before it" if "warm-up" in r else ""
        print(f"  {name:12s} {r['chart']:5.1f} s ({answering}; runs {runs}){extra}")
    no_cache = results["no cache"]["chart"]
    for name in ("empty cache", "warm cache", "warmed"):
        print(f"  no cache / {name}: {no_cache / results[name]['chart']:.2f}x")
    warm_s = results["warm cache"]["chart"]
    ok = warm_s <= BUDGET_S
    print(f"  budget: warm cache <= {BUDGET_S:.0f} s: {'met' if ok else 'BROKEN'} ({warm_s:.1f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
