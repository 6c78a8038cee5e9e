"""Which drawing layer plays the race best: painted frames per second in headless Chromium while 6
optimizers x 500 steps play with growing trails over the contour map.

Run from the repository root:  python -m bench.race_chart_layers [--seconds 3]
Budget (issue 15): >= 55 painted frames per second, the contour map visible in every frame.

Candidates, each on a page of its own served from a local folder (no Streamlit, no network):
- canvas: the race chart itself (optviz/ui/race_chart/race_chart.js), fed the lab's default race
  packed by optviz/lab/race_data.py; the map is drawn once on a background canvas, each frame
  redraws only the trails and heads on the foreground canvas;
- plotly react: plotly.js (the copy plotly.py ships) with the contour map and, per optimizer, a trail
  and a head trace; each frame `Plotly.react` with the trails cut at the current step;
- plotly restyle: the same figure, each frame `Plotly.restyle` of only the trail and head traces.
An idle page (nothing drawn) gives the browser's own ceiling on this machine at that moment.
Each plays at 50 steps per second (the chart's default: 500 steps in 10 s) for `--seconds`; the
figure is the number of requestAnimationFrame callbacks per second (frames the browser painted) and
the 95th percentile of the time between them. The machine is shared: compare the three in one run.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import tempfile
import threading
from pathlib import Path

import plotly

from bench._browser_probe import ARGS, CHROMIUM

REPO = Path(__file__).resolve().parents[1]
CHART_DIR = REPO / "optviz" / "ui" / "race_chart"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
STEPS_PER_SECOND = 50
BUDGET_FPS = 55

# In page context: play for `seconds`, calling `frame(step)` from each animation frame (the
# candidate's own drawing, or nothing for the canvas chart, which plays itself); returns the
# painted frames per second and the 95th percentile gap between frames (ms).
MEASURE = """async ([seconds, stepsPerSecond, candidate]) => {
    const gaps = [];
    let last = null;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
        const now = await new Promise(requestAnimationFrame);
        if (last !== null) gaps.push(now - last);
        last = now;
        if (window.drawStep) window.drawStep(Math.min(500, ((now - t0) / 1000) * stepsPerSecond));
    }
    gaps.sort((a, b) => a - b);
    const elapsed = (performance.now() - t0) / 1000;
    return {fps: (gaps.length + 1) / elapsed, p95: gaps[Math.floor(0.95 * (gaps.length - 1))]};
}"""

CANVAS_PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>{css}</style></head>
<body style="width: 900px">{html}
<script type="module">
import mount from "./race_chart.js";
const data = await (await fetch("./data.json")).json();
mount({{data, parentElement: document.body, setStateValue: () => {{}}}});
window.ready = true;
</script></body></html>"""

PLOTLY_PAGE = """<!doctype html><html><head><meta charset="utf-8"><script src="./plotly.min.js"></script>
</head><body><div id="chart" style="width: 900px; height: 520px"></div>
<script>
(async () => {{
  const data = await (await fetch("./data.json")).json();
  const race = data.race, s = race.surface;
  const bytes = text => Uint8Array.from(atob(text), c => c.charCodeAt(0)).buffer;
  const q = new Uint16Array(bytes(s.z));
  const z = [];
  const value = v => s.zmin + v / 65535 * (s.zmax - s.zmin);
  for (let i = 0; i < s.ny; i++) z.push(Array.from(q.slice(i * s.nx, (i + 1) * s.nx), value));
  const [[x0, x1], [y0, y1]] = s.bounds;
  const xs = Array.from({{length: s.nx}}, (_, j) => x0 + j * (x1 - x0) / (s.nx - 1));
  const ys = Array.from({{length: s.ny}}, (_, i) => y0 + i * (y1 - y0) / (s.ny - 1));
  const paths = race.paths.map(p => new Float32Array(bytes(p.xy)));
  const contour = {{
    type: "contour", x: xs, y: ys, z, colorscale: s.colorscale, ncontours: 24, showscale: false,
  }};
  const traces = step => {{
    const n = Math.floor(step) + 1;
    const out = [contour];
    paths.forEach((xy, k) => {{
      const x = [], y = [];
      for (let i = 0; i < n; i++) {{ x.push(xy[2 * i]); y.push(xy[2 * i + 1]); }}
      const colour = race.paths[k].colour;
      out.push({{type: "scatter", mode: "lines", x, y, line: {{color: colour}}}});
      const head = {{size: 12, color: colour}};
      out.push({{type: "scatter", mode: "markers", x: [x[n - 1]], y: [y[n - 1]], marker: head}});
    }});
    return out;
  }};
  const layout = {{
    width: 900, height: 520, showlegend: false, xaxis: {{range: [x0, x1]}}, yaxis: {{range: [y0, y1]}},
  }};
  await Plotly.newPlot("chart", traces(0), layout);
  const indices = Array.from({{length: 2 * paths.length}}, (_, i) => i + 1);
  window.drawStep = "{mode}" === "react"
    ? step => Plotly.react("chart", traces(step), layout)
    : step => {{
        const t = traces(step).slice(1);
        Plotly.restyle("chart", {{x: t.map(d => d.x), y: t.map(d => d.y)}}, indices);
      }};
  window.ready = true;
}})();
</script></body></html>"""


def _race_data() -> dict:
    """The lab's default race as the page sends it to the chart (6 optimizers, 500 steps)."""
    from optviz.lab.config import DEFAULT_OPTIMIZERS, RaceConfig
    from optviz.lab.race import colouring, race, surface_grid
    from optviz.lab.race_data import race_data, signature
    from surfaces import SURFACES

    surface = SURFACES["rosenbrock"]
    config = RaceConfig.create(surface, DEFAULT_OPTIMIZERS, steps=500)
    grid = surface_grid(surface)
    packed = race_data(surface, grid, colouring(surface, grid), race(config), settings=signature(config.key))
    return {"race": packed, "answer": 0, "speed": STEPS_PER_SECOND, "panels": False, "presenter": False,
            "height": 560, "error": None}  # fmt: skip


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        data = _race_data()
        (root / "data.json").write_text(json.dumps(data))
        shutil.copy(CHART_DIR / "race_chart.js", root)
        shutil.copy(PLOTLY_JS, root)
        (root / "canvas.html").write_text(
            CANVAS_PAGE.format(
                css=(CHART_DIR / "race_chart.css").read_text(),
                html=(CHART_DIR / "race_chart.html").read_text(),
            )
        )
        (root / "idle.html").write_text("<!doctype html><script>window.ready = true</script>")
        for mode in ("react", "restyle"):
            (root / f"plotly_{mode}.html").write_text(PLOTLY_PAGE.format(mode=mode))
        server, url = _serve(root)
        size_kb = len(json.dumps(data["race"])) / 1000
        print(f"race chart layers: 6 x 500 steps at {STEPS_PER_SECOND} steps/s, {args.seconds:g} s each")
        print(f"  the race's data: {size_kb:.1f} KB of JSON")
        results = {}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for name, page_name in (
                    ("idle page", "idle.html"),
                    ("canvas", "canvas.html"),
                    ("plotly react", "plotly_react.html"),
                    ("plotly restyle", "plotly_restyle.html"),
                ):
                    page = browser.new_page(viewport={"width": 1000, "height": 700})
                    page.goto(f"{url}/{page_name}")
                    page.wait_for_function("() => window.ready === true", timeout=60_000)
                    if name == "canvas":
                        page.locator("[data-testid=race-chart] button").click()  # Play
                    results[name] = page.evaluate(MEASURE, [args.seconds, STEPS_PER_SECOND, name])
                    if name == "canvas":
                        results[name]["step"] = int(
                            page.locator("[data-testid=race-chart]").get_attribute("data-step")
                        )
                    page.close()
                browser.close()
        finally:
            server.shutdown()
        for name, r in results.items():
            reached = f", reached step {r['step']}" if "step" in r else ""
            print(f"  {name:15s} {r['fps']:5.1f} painted frames/s, p95 frame gap {r['p95']:5.1f} ms{reached}")
        canvas = results["canvas"]["fps"]
        print(f"  canvas / plotly react: {canvas / results['plotly react']['fps']:.1f}x, "
              f"canvas / plotly restyle: {canvas / results['plotly restyle']['fps']:.1f}x")  # fmt: skip
        ok = canvas >= BUDGET_FPS
        print(f"  RESULT: canvas {'meets' if ok else 'BREAKS'} the budget of {BUDGET_FPS} painted frames/s")
        return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
