"""The race as images for slide decks: a PNG of one step, an animated GIF of evenly spaced steps.

PowerPoint, Keynote and Google Slides cannot embed a live page (`export.html`), but every one of
them plays a GIF. Both are the live race chart's own picture: the browser draws them from the
chart's page (`export.frames`); this module chooses the steps, checks the options, builds the GIF's
palette from the race (`race_palette`) and encodes the GIF. GIF delays are whole centiseconds and
browsers slow down the shortest ones, hence `MIN_GIF_DELAY_MS` and the cap on frames per second.
`draw` makes any of the three formats by name (the page's render process and the command line).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageColor

from optviz.lab.export import frames as browser_frames
from optviz.lab.export.html import to_html
from optviz.lab.export.limits import LIMITS

GIF_HOLD_LAST_S = 1.5  # the last frame stays this long before the GIF loops
MIN_GIF_DELAY_MS = 20  # browsers play shorter GIF delays (< 2 centiseconds) at 10 fps
PALETTE_COLOURS = 255  # one index of the 256 stays free: Pillow stores unchanged pixels as transparent
COLOURFUL_CHROMA = 24  # a pixel whose channels span more than this is "colourful" (a path, not the surface)
COLOURFUL_SHARE = 0.5  # of the fitted palette colours, the share for colourful pixels
MARK_COLOURS = ("#ffffff", "#000000")  # the heads' outline, the start ring and the landmarks (race_chart.js)
Progress = Callable[[float], None]  # told the share done, 0..1; may raise to stop the render
FORMATS = ("html", "gif", "png")


# --- the steps -----------------------------------------------------------------------------------


def race_steps(data: dict) -> int:
    """The number of steps of the chart's race (`data`: the chart's data, `RaceExport.chart_data`)."""
    return int(data["race"]["steps"])


def picture_step(data: dict, step: int | None) -> int:
    """The step a PNG shows: `step`, or the last one if None; a ValueError outside the race."""
    last = race_steps(data)
    if step is None:
        return last
    if not 0 <= step <= last:
        raise ValueError(f"step must be between 0 and {last}, got {step}")
    return step


def gif_steps(data: dict, frames: int) -> list[int]:
    """`frames` evenly spaced steps of the race, always the first and the last (distinct: at most
    one frame per step)."""
    last = race_steps(data)
    if not 2 <= frames <= last + 1:
        raise ValueError(f"a GIF of this race takes 2 to {last + 1} frames (one per step), got {frames}")
    return np.linspace(0, last, frames).round().astype(int).tolist()


# --- pictures ------------------------------------------------------------------------------------


def _check_size(width: int, height: int, scale: float) -> None:
    if not (100 <= width <= 4096 and 100 <= height <= 4096):
        raise ValueError(f"image size must be 100..4096 pixels each way, got {width} x {height}")
    if not 0.5 <= scale <= 4:
        raise ValueError(f"scale must be between 0.5 and 4, got {scale}")


def no_progress(_: float) -> None:
    """A `Progress` that listens to nothing (the default)."""


def to_png(
    data: dict,
    step: int | None = None,
    *,
    width: int = 1280,
    height: int = 720,
    scale: float = 1,
    progress: Progress = no_progress,
) -> bytes:
    """A PNG of the race chart with `data` (`RaceExport.chart_data`) at `step` (default: the last
    step, every path complete), width x height pixels times `scale`: the chart's legend and maps as
    the page draws them, with a "step N / T" caption instead of its controls."""
    step = picture_step(data, step)
    _check_size(width, height, scale)
    png = browser_frames.png(data, step, width, height, scale, timeout=LIMITS.timeout_s)
    progress(1.0)
    return png


def to_gif(
    data: dict,
    *,
    frames: int = 100,
    fps: float = 15,
    width: int = 960,
    height: int = 540,
    scale: float = 1,
    progress: Progress = no_progress,
) -> bytes:
    """An animated GIF of the race chart with `data`: `frames` evenly spaced steps (the first and the
    last included), the trails growing as in the page, `fps` frames per second (at most 50: GIF
    delays are whole centiseconds and browsers slow down shorter ones), looping forever, the last
    frame held for 1.5 s.

    One palette serves every frame (`race_palette`: the optimizers' colours exactly, the rest fitted
    to the last frame, where every path is drawn), without dithering, so only the pixels that change
    are stored after the first frame.
    """
    if not 0 < fps <= 1000 / MIN_GIF_DELAY_MS:
        raise ValueError(f"fps must be above 0 and at most {1000 // MIN_GIF_DELAY_MS}, got {fps}")
    steps = gif_steps(data, frames)
    _check_size(width, height, scale)
    colours = [path["colour"] for path in data["race"]["paths"]] + list(MARK_COLOURS)

    palette, indexed = browser_frames.gif_frames(
        data,
        steps,
        width,
        height,
        scale,
        lambda picture: race_palette(colours, picture),
        timeout=LIMITS.timeout_s,
        watch=lambda share: progress(0.05 + 0.85 * share),
    )
    images = []
    for index in indexed:
        image = Image.fromarray(index, "P")
        image.putpalette(palette.ravel().tolist())
        images.append(image)
    out = io.BytesIO()
    images[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=_durations_ms(len(images), fps),
        loop=0,
        optimize=True,
        disposal=1,
    )
    progress(1.0)
    return out.getvalue()


def race_palette(colours: list[str], picture: np.ndarray) -> np.ndarray:
    """The GIF's palette, (n <= 255, 3) uint8: first `colours` exactly (each optimizer's colour,
    the heads' white outline, the black start ring), then colours fitted to `picture` (the chart
    with every path drawn) by median cut, `COLOURFUL_SHARE` of them to its colourful pixels (the
    paths and the legend) and the rest to its greys (the surface, axes and text). A palette fitted
    to the picture as a whole spends nearly every colour on the grey surface, which fills most of
    it, and merges the optimizers' path colours with their neighbours (measured on six optimizers'
    paths: 9 levels off on average and 28 at the 95th percentile, against 3 and 14 with the split;
    the greys lose nothing measurable, 0.08 levels on average either way)."""
    named = np.asarray(
        list(dict.fromkeys(ImageColor.getrgb(c)[:3] for c in colours))[: PALETTE_COLOURS // 2], np.uint8
    )
    pixels = picture.reshape(-1, 3)
    colourful = pixels.max(axis=1).astype(int) - pixels.min(axis=1) > COLOURFUL_CHROMA
    room = PALETTE_COLOURS - len(named)
    vivid = _median_cut(pixels[colourful], round(room * COLOURFUL_SHARE))
    greys = _median_cut(pixels[~colourful], room - len(vivid))
    return np.concatenate([named.reshape(-1, 3), vivid, greys])


def _median_cut(pixels: np.ndarray, count: int) -> np.ndarray:
    """At most `count` colours (k, 3) uint8 standing for `pixels` (n, 3): Pillow's median cut."""
    if count < 1 or not len(pixels):
        return np.zeros((0, 3), np.uint8)
    fitted = Image.fromarray(pixels[None, :, :]).quantize(
        count, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    used = sorted(index for _, index in fitted.getcolors(256))
    return np.asarray(fitted.getpalette(), np.uint8).reshape(-1, 3)[used]


def draw(kind: str, data: dict, options: dict, progress: Progress = no_progress) -> bytes:
    """The file of `kind` (one of FORMATS) of the chart with `data` (`RaceExport.chart_data`) made
    with `options` (the keyword arguments of `to_html`, `to_gif` or `to_png`)."""
    if kind == "gif":
        return to_gif(data, **options, progress=progress)
    if kind == "png":
        return to_png(data, **options, progress=progress)
    if kind == "html":
        return to_html(data, **options)
    raise ValueError(f"unknown export format {kind!r}; choose one of: {', '.join(FORMATS)}")


def gif_seconds(frames: int, fps: float) -> float:
    """How long one loop of `to_gif(frames=..., fps=...)` plays."""
    return sum(_durations_ms(frames, fps)) / 1000


def _durations_ms(frames: int, fps: float) -> list[int]:
    """How long each of `frames` GIF frames shows at `fps`: whole centiseconds, the last one held."""
    delay = max(MIN_GIF_DELAY_MS, 10 * round(100 / fps))
    return [delay] * (frames - 1) + [max(delay, int(GIF_HOLD_LAST_S * 1000))]
