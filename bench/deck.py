"""optviz in a real reveal.js deck (issue 21): how long after its slide comes up an embedded view has
drawn its first chart, and where that time goes.

Run from the repository root:  python -m bench.deck [--visits 5]
It starts `streamlit run app.py` on a loopback port (bench/_server.py), serves examples/ (the
reveal.js deck, reveal.js vendored) from a second loopback port, and opens
examples/reveal-deck.html?app=<the server> in Debian's /usr/bin/chromium driven by Playwright, at
1280 x 720. The server is warm (each view opened once first) and so is the browser's cache, as in
a lecture. Each visit goes to the slide before the view's, presses PageDown and times, from the key:

    frame     the iframe's navigation starts (reveal.js sets its src when the slide is shown)
    html      its page has arrived
    scripts   the last script file the page loaded has arrived
    run       the first script run starts in the server (the app's state says "running")
    drawn     the first chart is drawn (the race chart's first race, the convolution's first step;
              on the MLP page, its computation graph)

Both views' slides use <iframe data-src> without data-preload: loaded when shown, unloaded when left,
so every visit starts afresh (the budget's case). Then the same links in a new tab (cached scripts),
and the MLP page's embed link.

Budget: the first chart <= 1.5 s after the slide is shown, and after a new tab opens the link.
Prints the medians, then `RESULT: OK` or `RESULT: BROKEN: ...` (exit 1 when broken).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import statistics
import sys
import tempfile
import threading
from pathlib import Path

from bench._browser_probe import ARGS, CHROMIUM
from bench._server import HOST, REPO, AppServer, free_port
from bench.first_visit import JS_CHART_IS_DRAWN

BUDGET_READY_S = 1.5
DECK = REPO / "examples" / "reveal-deck.html"
VIEWS = {"race": "surface=beale", "conv": "/conv?"}  # each live slide's view, by a part of its link
OTHER_PAGES = {"mlp": "/mlp?embed=true"}  # pages the deck does not show, timed in a new tab too
LOAD_MS = 120_000

# In every frame, from its first script: when the app's script state changes and when its first
# chart is drawn, as epoch milliseconds (comparable across frames).
MARKS = """(() => {
  const now = () => performance.timeOrigin + performance.now();
  const marks = (window.__deckMarks = { states: [], drawn: null });
  let last = null;
  const watch = () => {
    const app = document.querySelector("[data-testid=stApp]");
    const state = app && app.getAttribute("data-test-script-state");
    if (state && state !== last) { last = state; marks.states.push([state, now()]); }
    const drawn = JS_CHART_IS_DRAWN;
    if (marks.drawn === null && drawn) requestAnimationFrame(() => { marks.drawn = now(); });
  };
  new MutationObserver(watch).observe(document, { subtree: true, childList: true, attributes: true });
})();""".replace("JS_CHART_IS_DRAWN", JS_CHART_IS_DRAWN)

READ_MARKS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const scripts = performance.getEntriesByType("resource").filter((r) => r.initiatorType === "script"
      || r.name.endsWith(".js"));
  const origin = performance.timeOrigin;
  const marks = window.__deckMarks;
  const run = marks.states.find(([state]) => state === "running");
  return {
    frame: origin,
    html: origin + nav.responseEnd,
    scripts: origin + Math.max(nav.responseEnd, ...scripts.map((r) => r.responseEnd)),
    run: run ? run[1] : null,
    runs: marks.states.filter(([state]) => state === "running").length,
    drawn: marks.drawn,
  };
}"""
STAGES = ("frame", "html", "scripts", "run", "drawn")


def serve_examples() -> tuple[http.server.ThreadingHTTPServer, str]:
    """examples/ over HTTP on a loopback port (a deck opened from a web server, as a lecturer's is);
    returns the server (call .shutdown()) and its URL."""
    handler = functools.partial(QuietHandler, directory=str(DECK.parent))
    server = http.server.ThreadingHTTPServer((HOST, free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{HOST}:{server.server_address[1]}"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Files, without a log line per request; the browser's favicon request gets an empty answer
    (the decks have none), not a 404 that a console check would report."""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


def view_frame(page, part: str, timeout_ms: float = LOAD_MS):
    """The deck's iframe whose URL holds `part`, once it has one."""
    for _ in range(int(timeout_ms // 20)):
        for frame in page.frames:
            if part in frame.url:
                return frame
        page.wait_for_timeout(20)
    raise AssertionError(f"no frame whose URL holds {part!r}; frames: {[f.url for f in page.frames]}")


def slide_of(page, part: str) -> int:
    return page.evaluate(
        """part => [...document.querySelectorAll('.slides > section')].findIndex((s) =>
               [...s.querySelectorAll('iframe')].some((f) => (f.dataset.src || f.src).includes(part)))""",
        part,
    )


def visit_slide(page, part: str) -> dict:
    """Go to the slide before the view's, press PageDown; the stages in seconds from the key."""
    page.evaluate("index => Reveal.slide(index)", slide_of(page, part) - 1)
    page.wait_for_timeout(1000)  # the view's iframe (if it was loaded) is unloaded
    key = page.evaluate("() => performance.timeOrigin + performance.now()")
    page.keyboard.press("PageDown")
    frame = view_frame(page, part)
    frame.wait_for_function("() => window.__deckMarks && window.__deckMarks.drawn", timeout=LOAD_MS)
    marks = frame.evaluate(READ_MARKS)
    return {stage: (marks[stage] - key) / 1000 for stage in STAGES} | {"runs": marks["runs"]}


def visit_tab(context, url: str) -> float:
    """Open `url` in a new tab; seconds from the navigation's start to the first chart drawn."""
    page = context.new_page()
    try:
        page.goto(url, timeout=LOAD_MS)
        page.wait_for_function("() => window.__deckMarks && window.__deckMarks.drawn", timeout=LOAD_MS)
        return page.evaluate("() => (window.__deckMarks.drawn - performance.timeOrigin) / 1000")
    finally:
        page.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visits", type=int, default=5, help="visits to each view's slide")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    problems = []
    examples, examples_url = serve_examples()
    with tempfile.TemporaryDirectory() as tmp, AppServer(Path(tmp) / "app.log") as app:
        app.wait_healthy()
        deck_url = f"{examples_url}/{DECK.name}?app={app.url}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            context.add_init_script(MARKS)
            page = context.new_page()
            page.goto(deck_url, timeout=LOAD_MS)
            page.wait_for_function("() => window.Reveal && Reveal.isReady()")
            links = {
                name: page.evaluate(
                    "part => [...document.querySelectorAll('iframe')].map((f) => f.dataset.src || f.src)"
                    ".find((src) => src.includes(part))",
                    part,
                )
                for name, part in VIEWS.items()
            }
            links |= {name: app.url + path for name, path in OTHER_PAGES.items()}
            for url in links.values():  # a warm server and a warm cache
                visit_tab(context, url)
            print(f"reveal.js deck at 1280 x 720, {args.visits} visits per slide; seconds from PageDown:")
            print(f"  {'view':6}" + "".join(f"{stage:>9}" for stage in STAGES) + "   script runs")
            for name, part in VIEWS.items():
                visits = [visit_slide(page, part) for _ in range(args.visits)]
                median = {stage: statistics.median(v[stage] for v in visits) for stage in STAGES}
                runs = max(v["runs"] for v in visits)
                print(f"  {name:6}" + "".join(f"{median[stage]:9.2f}" for stage in STAGES) + f"   {runs}")
                if median["drawn"] > BUDGET_READY_S:
                    problems.append(f"{name} slide: first chart {median['drawn']:.2f} s > {BUDGET_READY_S} s")
            print("The same links in a new tab (cached scripts), seconds to the first chart:")
            for name, url in links.items():
                seconds = statistics.median(visit_tab(context, url) for _ in range(args.visits))
                print(f"  {name:6}{seconds:9.2f}")
                if seconds > BUDGET_READY_S:
                    problems.append(f"{name} in a new tab: first chart {seconds:.2f} s > {BUDGET_READY_S} s")
            browser.close()
    examples.shutdown()
    print("RESULT: OK" if not problems else "RESULT: BROKEN: " + "; ".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
