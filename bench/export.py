"""Export benchmark: the standalone HTML's size, and the time and size of a 100-frame GIF and a PNG.

Run from the repository root:  python -m bench.export
Budgets (issue: classroom use), on 2 cores: HTML of 6 optimizers x 300 steps <= 6 MB including
plotly.js; GIF of 100 frames built in <= 20 s and <= 5 MB. Baselines, measured in the same process:
plotly.py's default `write_html` of the same figure (whose contour map vanishes once it plays), and
a frame drawn by Kaleido's own API (`kaleido.calc_fig`, a fresh browser page per image).
"""

import asyncio
import io

import plotly.io as pio
from PIL import Image

from bench._timing import median_seconds, timed
from optviz.lab import export, figures, race
from optviz.lab.config import RaceConfig
from optviz.lab.export.browser import _still_figure
from optviz.lab.export.figure import as_dict
from surfaces import SURFACES

SIX = ["gd", "sgd", "momentum", "adagrad", "rmsprop", "adam"]
SURFACE, STEPS = SURFACES["beale"], 300
HTML_BUDGET_MB, GIF_BUDGET_S, GIF_BUDGET_MB = 6.0, 20.0, 5.0
REPEATS = 3


def race_figure():
    grid = race.surface_grid(SURFACE)
    runs = race.race(RaceConfig.create(SURFACE, SIX, SURFACE.default_start, STEPS))
    return figures.race_figure(SURFACE, grid, race.colouring(SURFACE, grid), runs, frame_ms=66)


def kaleido_frames(fig, steps, width, height):
    """The same stills through Kaleido's API: one browser, a reloaded page per image."""
    import kaleido

    figure = as_dict(fig)  # its surfaces are pictures already (figures.race_figure)
    by_step = {int(frame["name"]): frame for frame in figure["frames"]}
    stills = []
    for step in steps:
        still = _still_figure(figure, width, height)
        still["data"] = list(still["data"])
        for index, data in zip(by_step[step]["traces"], by_step[step]["data"], strict=True):
            still["data"][index] = {**still["data"][index], **data}
        stills.append(still)

    async def draw():
        async with kaleido.Kaleido(n=1, mathjax=False) as k:
            return [await k.calc_fig(still, opts={"format": "png"}) for still in stills]

    return asyncio.run(draw())


def main() -> None:
    fig = race_figure()
    print(f"optviz export benchmark: {SURFACE.name}, {len(SIX)} optimizers x {STEPS} steps (medians)\n")

    html_s, html = timed(lambda _: export.to_html(fig), REPEATS)
    plain = pio.to_html(fig, include_plotlyjs=True, full_html=True, auto_play=True)
    html_mb, plain_mb = len(html) / 1e6, len(plain.encode()) / 1e6
    print(
        f"HTML   {html_mb:.2f} MB (budget {HTML_BUDGET_MB:g} MB: {html_mb / HTML_BUDGET_MB:.0%}) in "
        f"{html_s * 1e3:.0f} ms; plotly.py's write_html of the same figure: {plain_mb:.2f} MB "
        f"(x{html_mb / plain_mb:.3f}: the surface picture)"
    )

    png_s, png = timed(lambda _: export.to_png(fig, width=1280, height=720), REPEATS)
    print(f"PNG    1280 x 720, {len(png) / 1e3:.0f} kB in {png_s:.2f} s (browser start included)")

    steps = export.gif_steps(fig, 100)
    gif_s, gif = timed(lambda _: export.to_gif(fig, frames=100, fps=15), REPEATS)
    image = Image.open(io.BytesIO(gif))
    gif_mb = len(gif) / 1e6
    print(
        f"GIF    {image.n_frames} frames {image.width} x {image.height}: {gif_s:.1f} s "
        f"(budget {GIF_BUDGET_S:g} s: {gif_s / GIF_BUDGET_S:.0%}), {gif_mb:.2f} MB "
        f"(budget {GIF_BUDGET_MB:g} MB: {gif_mb / GIF_BUDGET_MB:.0%})"
    )

    sample = steps[:: len(steps) // 10][:10]
    one_s = median_seconds(lambda _: export.render_steps(fig, sample[:1], width=960, height=540), REPEATS)
    ten_s = median_seconds(lambda _: export.render_steps(fig, sample, width=960, height=540), REPEATS)
    ours = (ten_s - one_s) / (len(sample) - 1)
    try:
        k_one = median_seconds(lambda _: kaleido_frames(fig, sample[:1], 960, 540))
        k_ten = median_seconds(lambda _: kaleido_frames(fig, sample, 960, 540))
    except Exception as problem:  # a baseline that cannot run is reported, not fatal
        print(f"baseline: kaleido.calc_fig failed: {problem!r}")
        return
    theirs = (k_ten - k_one) / (len(sample) - 1)
    print(
        f"per frame: {ours * 1e3:.0f} ms (one page, heads moved) vs {theirs * 1e3:.0f} ms with "
        f"kaleido.calc_fig (x{theirs / ours:.1f}); browser start: {one_s:.1f} s vs {k_one:.1f} s"
    )


if __name__ == "__main__":
    main()
