"""Export benchmark: how a GIF and a PNG are drawn, for one student and for a class.

Run from the repository root:  python -m bench.export [--sessions 50 --within 10]
Budgets (issue: exports for a whole class), on this 2-core machine, warm (the shared browser
running): a 100-frame GIF of the race at 1280 x 720 <= 3 s and a PNG <= 1 s; 50 sessions asking for
GIFs within 10 s, half of them for the same view, all have their file within 60 s, and the renders
add at most 1.5 GB at peak (the process and its browser). The HTML of 6 optimizers x 300 steps <=
6 MB. Exits 1 if a budget is broken.

The candidates for drawing a GIF, measured in the same process on the same race (the issue's:
Beale, 3 optimizers, 300 steps, 100 frames, 1280 x 720), both the live race chart's own picture
(race_chart.js in the chart's page, `export.html.chart_page`, in the shared browser):
- a screenshot per frame: the chart draws the step, DevTools takes a screenshot, Pillow stitches
  the frames (one palette fitted to the first);
- what `optviz.lab.export` does: one screenshot (the static layer), then the page composites each
  frame on a canvas, maps it to the GIF's palette and deflates it; Python inflates and encodes.
The Plotly compositor these replaced (the figure's layers drawn once, the heads stamped with NumPy:
full paths and moving heads, no growing trails) made the same GIF in 0.7 s.

Memory is the proportional set size (PSS, shared pages split between the processes sharing them)
of this process and every process it started (the browser's), sampled every 0.1 s.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import threading
import time

from PIL import Image

from bench._server import tree_pss_mb
from bench._timing import timed
from optviz.lab import export
from optviz.lab.config import DEFAULT_OPTIMIZERS, RaceConfig
from optviz.lab.export import frames
from optviz.lab.export.jobs import Renders
from optviz.lab.export.limits import LIMITS
from optviz.lab.export.process import RENDER_PROCESS
from optviz.lab.export.view import RaceExport
from surfaces import SURFACES

SURFACE, STEPS = SURFACES["beale"], 300
THREE, SIX = ["gd", "momentum", "adam"], ["gd", "sgd", "momentum", "adagrad", "rmsprop", "adam"]
WIDTH, HEIGHT, FRAMES = 1280, 720, 100
GIF_BUDGET_S, PNG_BUDGET_S, HTML_BUDGET_MB = 3.0, 1.0, 6.0
CLASS_BUDGET_S, CLASS_MEMORY_BUDGET_MB = 60.0, 1500.0
REPEATS = 3


# --- memory ---------------------------------------------------------------------------------------


class PeakMemory:
    """The highest `tree_pss_mb()` while the `with` block runs (sampled every 0.1 s)."""

    def __enter__(self) -> PeakMemory:
        self.before = self.peak = tree_pss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, tree_pss_mb())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_pss_mb())

    @property
    def added(self) -> float:
        return self.peak - self.before


# --- the candidates -------------------------------------------------------------------------------


def screenshot_per_frame(data: dict) -> bytes:
    """A GIF of the chart's picture with a DevTools screenshot per frame (the chart draws each step,
    `drawStep`), stitched with Pillow (one palette fitted to the first frame)."""
    steps = export.gif_steps(data, FRAMES)

    async def draw(page):
        await frames._show(page, data, steps[-1], WIDTH, HEIGHT, 1)
        shots = []
        for step in steps:
            await page.command(
                "Runtime.evaluate",
                {"expression": f"document.querySelector('[data-testid=race-chart]').drawStep({step})"},
            )
            shots.append(await page.screenshot())
        return shots

    images = [Image.open(io.BytesIO(png)).convert("RGB") for png in frames.BROWSER.run(draw, timeout=300)]
    palette = images[0].quantize(255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    indexed = [image.quantize(palette=palette, dither=Image.Dither.NONE) for image in images]
    out = io.BytesIO()
    indexed[0].save(out, format="GIF", save_all=True, append_images=indexed[1:], duration=66, loop=0)
    return out.getvalue()


def _chart_data(optimizers, start=None) -> dict:
    return RaceExport(RaceConfig.create(SURFACE, optimizers, start, STEPS), "gif").chart_data()


def _gif_size(gif: bytes) -> str:
    image = Image.open(io.BytesIO(gif))
    return f"{image.n_frames} frames {image.width} x {image.height}, {len(gif) / 1e6:.2f} MB"


# --- a class --------------------------------------------------------------------------------------


def classroom(sessions: int, within_s: float, seed: int = 0) -> dict:
    """`sessions` students ask for the page's GIF at random moments within `within_s` seconds, half
    of them for the lecturer's view (the lab's defaults), the others each for a view of their own
    (another start point): through a fresh shared queue and the render process, as the page asks.
    Returns the figures."""
    renders = Renders(LIMITS)
    rng = random.Random(seed)
    waited, failures = [], []

    def view(i: int) -> RaceExport:
        start = None if i % 2 == 0 else (round(rng.uniform(-4.0, 4.0), 3), round(rng.uniform(-4.0, 4.0), 3))
        return RaceExport(RaceConfig.create(SURFACE, DEFAULT_OPTIMIZERS, start), "gif")

    def student(delay: float, wanted: RaceExport) -> None:
        time.sleep(delay)
        asked = time.perf_counter()
        try:
            renders.request(wanted.key, wanted.make_apart).wait(CLASS_BUDGET_S * 2)
            waited.append(time.perf_counter() - asked)
        except export.ExportError as problem:
            failures.append(str(problem))

    plans = [(rng.uniform(0, within_s), view(i)) for i in range(sessions)]
    threads = [threading.Thread(target=student, args=plan) for plan in plans]
    t0 = time.perf_counter()
    with PeakMemory() as memory:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return {
        "wall_s": time.perf_counter() - t0,
        "waited": sorted(waited),
        "failures": failures,
        "renders": renders.made,
        "distinct": len({wanted.key for _, wanted in plans}),
        "most_at_once": renders.most_at_once,
        "added_mb": memory.added,
    }


# --- the report -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=50, help="students asking for GIFs (1-200)")
    parser.add_argument("--within", type=float, default=10.0, help="seconds over which they ask")
    args = parser.parse_args(argv)
    if not (1 <= args.sessions <= 200 and 0 <= args.within <= 120):
        parser.error("--sessions must be 1-200 and --within 0-120")
    broken = []
    print(
        f"optviz export benchmark: {SURFACE.name}, {STEPS} steps, {LIMITS.workers} render workers (medians)\n"
    )

    data6 = _chart_data(SIX)  # as a page does first: JAX compiles and runs a race
    html_s, html = timed(lambda _: export.to_html(data6), REPEATS)
    html_mb = len(html) / 1e6
    print(
        f"HTML   6 optimizers: {html_mb:.2f} MB (budget {HTML_BUDGET_MB:g} MB: "
        f"{html_mb / HTML_BUDGET_MB:.0%}) in {html_s * 1e3:.0f} ms: the chart's files and the packed race"
    )
    broken += [f"HTML {html_mb:.2f} MB"] if html_mb > HTML_BUDGET_MB else []

    # First, from a server that has drawn races (JAX at work) but no picture yet (no browser running).
    room = classroom(args.sessions, args.within)
    waited = room["waited"]
    print(
        f"\nclass: {args.sessions} sessions ask for the page's GIF (6 optimizers, 960 x 540, 100 frames) "
        f"within {args.within:g} s, half of them the lecturer's view; no browser running before\n"
        f"  {room['renders']} renders for {room['distinct']} distinct views (each made once), at most "
        f"{room['most_at_once']} at once ({LIMITS.workers} workers); all done in {room['wall_s']:.1f} s\n"
        f"  request -> file: median {waited[len(waited) // 2]:.1f} s, slowest {waited[-1]:.1f} s "
        f"(budget {CLASS_BUDGET_S:g} s); failures: {len(room['failures'])}\n"
        f"  memory added at peak, the browser's included: {room['added_mb']:.0f} MB (budget "
        f"{CLASS_MEMORY_BUDGET_MB:g} MB: {room['added_mb'] / CLASS_MEMORY_BUDGET_MB:.0%})"
    )
    if room["failures"] or len(waited) < args.sessions or waited[-1] > CLASS_BUDGET_S:
        broken.append(
            f"class: slowest {waited[-1] if waited else float('nan'):.1f} s, {room['failures'][:3]}"
        )
    if room["added_mb"] > CLASS_MEMORY_BUDGET_MB:
        broken.append(f"class memory +{room['added_mb']:.0f} MB")

    data = _chart_data(THREE)
    export.to_png(data, width=WIDTH, height=HEIGHT)  # the shared browser runs: the times are warm
    print(f"\nGIF of {len(THREE)} optimizers, {FRAMES} frames, {WIDTH} x {HEIGHT}, warm: the candidates")
    shots_s, shots_gif = timed(lambda _: screenshot_per_frame(data), 1)
    print(f"  a screenshot per frame: {shots_s:5.2f} s ({_gif_size(shots_gif)})")
    gif_s, gif = timed(lambda _: export.to_gif(data, frames=FRAMES, width=WIDTH, height=HEIGHT), REPEATS)
    print(
        f"  frames composited, palette-mapped, deflated in the page (the exports'): {gif_s:5.2f} s "
        f"(x{shots_s / gif_s:.1f}; "
        f"budget {GIF_BUDGET_S:g} s: {gif_s / GIF_BUDGET_S:.0%}; {_gif_size(gif)})"
    )
    wanted = RaceExport(
        RaceConfig.create(SURFACE, THREE, steps=STEPS), "gif", frames=FRAMES, width=WIDTH, height=HEIGHT
    )
    page_s, _ = timed(lambda _: wanted.make_apart(), REPEATS)
    print(f"  the same as the page has it made (race, packing and GIF in the render process): {page_s:.2f} s")
    broken += [f"GIF {gif_s:.1f} s"] if max(gif_s, page_s) > GIF_BUDGET_S else []

    png_s, png = timed(lambda i: export.to_png(data, step=100 + i, width=WIDTH, height=HEIGHT), REPEATS)
    still = RaceExport(RaceConfig.create(SURFACE, THREE, steps=STEPS), "png", step=100)
    page_png_s, _ = timed(lambda _: still.make_apart(), REPEATS)
    print(
        f"\nPNG    {WIDTH} x {HEIGHT}, {len(png) / 1e3:.0f} kB: {png_s:.2f} s warm "
        f"(budget {PNG_BUDGET_S:g} s: {png_s / PNG_BUDGET_S:.0%}); "
        f"as the page has it made: {page_png_s:.2f} s"
    )
    broken += [f"PNG {png_s:.2f} s"] if max(png_s, page_png_s) > PNG_BUDGET_S else []
    print("\nRESULT: " + ("every budget met" if not broken else "BROKEN: " + "; ".join(broken)))
    frames.BROWSER.close()
    RENDER_PROCESS.close()
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
