"""The race as images for slide decks: a PNG of one step, an animated GIF of evenly spaced steps.

PowerPoint, Keynote and Google Slides cannot embed a live page (`export.html`), but every one of
them plays a GIF. This module chooses the steps among the figure's frames (a long race has a frame
every few steps, see figures.MAX_FRAMES), has the browser draw the figure's layers once
(`export.layers`), makes each step's picture from them (`export.compose`) and encodes it, a GIF
with a palette built from the figure (`figure_palette`). GIF delays are whole centiseconds and
browsers slow down the shortest ones, hence `MIN_GIF_DELAY_MS` and the cap on frames per second.
`draw` makes any of the three formats by name (the page's render process and the command line).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageColor

from optviz.lab.export import compose, layers
from optviz.lab.export.figure import (
    NO_FRAMES,
    animation_frames,
    as_dict,
    frame_steps,
    moving_traces,
    still_figure,
)
from optviz.lab.export.html import to_html
from optviz.lab.export.limits import LIMITS

GIF_HOLD_LAST_S = 1.5  # the last frame stays this long before the GIF loops
MIN_GIF_DELAY_MS = 20  # browsers play shorter GIF delays (< 2 centiseconds) at 10 fps
PALETTE_COLOURS = 255  # one index of the 256 stays free: Pillow stores unchanged pixels as transparent
COLOURFUL_CHROMA = 24  # a pixel whose channels span more than this is "colourful" (a path, not the surface)
COLOURFUL_SHARE = 0.5  # of the fitted palette colours, the share for colourful pixels
Progress = Callable[[float], None]  # told the share done, 0..1; may raise to stop the render
FORMATS = ("html", "gif", "png")


# --- the steps -----------------------------------------------------------------------------------


def nearest_step(fig, step: int | None) -> int:
    """The frame's step closest to `step` (None: the last step). Races longer than 500 steps have a
    frame every few steps (figures.MAX_FRAMES)."""
    steps = frame_steps(fig)
    if not steps:
        raise ValueError(NO_FRAMES)
    if step is None:
        return steps[-1]
    if not steps[0] <= step <= steps[-1]:
        raise ValueError(f"step must be between {steps[0]} and {steps[-1]}, got {step}")
    return min(steps, key=lambda s: abs(s - step))


def gif_steps(fig, frames: int) -> list[int]:
    """`frames` evenly spaced steps among the figure's frames, always the first and the last."""
    steps = frame_steps(fig)
    if not 2 <= frames <= len(steps):
        raise ValueError(f"a GIF of this race takes 2 to {len(steps)} frames (one per step), got {frames}")
    return [steps[i] for i in np.linspace(0, len(steps) - 1, frames).round().astype(int)]


# --- pictures ------------------------------------------------------------------------------------


def _check_size(width: int, height: int, scale: float) -> None:
    if not (100 <= width <= 4096 and 100 <= height <= 4096):
        raise ValueError(f"image size must be 100..4096 pixels each way, got {width} x {height}")
    if not 0.5 <= scale <= 4:
        raise ValueError(f"scale must be between 0.5 and 4, got {scale}")


def _pictures(figure: dict, steps: Sequence[int], width: int, height: int, scale: float, progress: Progress):
    """The figure's layers and, one step at a time, that step's picture (height, width, 3) uint8
    with the boxes where it differs from the layers' background (`compose.picture`): a generator,
    so that a long GIF never holds all its pictures in full colour. `steps` are frames' steps."""
    by_step = {int(frame["name"]): frame for frame in animation_frames(figure)}
    _check_size(width, height, scale)
    still = still_figure(figure, width, height)
    captions = list(dict.fromkeys(f"step {step}" for step in steps))
    drawn = layers.draw(still, moving_traces(figure), captions, scale=scale, timeout=LIMITS.timeout_s)
    progress(0.1)
    for i, step in enumerate(steps):
        yield drawn, compose.picture(drawn, by_step[step])
        progress(0.1 + 0.8 * (i + 1) / len(steps))


def no_progress(_: float) -> None:
    """A `Progress` that listens to nothing (the default)."""


def to_png(
    fig,
    step: int | None = None,
    *,
    width: int = 1280,
    height: int = 720,
    scale: float = 1,
    progress: Progress = no_progress,
) -> bytes:
    """A PNG of the race at `step` (default: the last step, every path complete), width x height
    pixels times `scale`. The Play button and slider are left out; a caption says "step N". A step
    without its own frame (races over 500 steps) shows the nearest frame's step."""
    figure = as_dict(fig)
    _, (picture, _) = next(_pictures(figure, [nearest_step(figure, step)], width, height, scale, progress))
    out = io.BytesIO()
    Image.fromarray(picture).save(out, format="PNG", compress_level=3)
    progress(1.0)
    return out.getvalue()


def to_gif(
    fig,
    *,
    frames: int = 100,
    fps: float = 15,
    width: int = 960,
    height: int = 540,
    scale: float = 1,
    progress: Progress = no_progress,
) -> bytes:
    """An animated GIF of the race: `frames` evenly spaced steps (the first and the last included),
    `fps` frames per second (at most 50: GIF delays are whole centiseconds and browsers slow down
    shorter ones), looping forever, the last frame held for 1.5 s.

    One palette serves every frame (`figure_palette`: the figure's marker colours exactly, the rest
    fitted to its picture), without dithering, so only the pixels that change (the moving head
    markers and the caption) are stored after the first frame. Each pixel takes its nearest palette
    colour; the background is mapped once, and each frame only where it differs from it.
    """
    if not 0 < fps <= 1000 / MIN_GIF_DELAY_MS:
        raise ValueError(f"fps must be above 0 and at most {1000 // MIN_GIF_DELAY_MS}, got {fps}")
    figure = as_dict(fig)
    steps = gif_steps(figure, frames)
    palette = background = None
    indexed = []
    for drawn, (picture, changed) in _pictures(figure, steps, width, height, scale, progress):
        if palette is None:
            palette = figure_palette(figure, drawn.background)
            background = palette.indices(drawn.background)
        index = background.copy()
        patches = [picture[y0:y1, x0:x1].reshape(-1, 3) for x0, y0, x1, y1 in changed]
        if patches:  # one look-up for all of this frame's changed boxes
            found = palette.indices(np.concatenate(patches))
            for (x0, y0, x1, y1), end in zip(changed, np.cumsum([len(p) for p in patches]), strict=True):
                index[y0:y1, x0:x1] = found[end - (x1 - x0) * (y1 - y0) : end].reshape(y1 - y0, x1 - x0)
        image = Image.fromarray(index, "P")
        image.putpalette(palette.colours.ravel().tolist())
        indexed.append(image)
    out = io.BytesIO()
    indexed[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=indexed[1:],
        duration=_durations_ms(len(indexed), fps),
        loop=0,
        optimize=True,
        disposal=1,
    )
    progress(1.0)
    return out.getvalue()


@dataclass(frozen=True)
class Palette:
    """A GIF's colours, and each pixel's nearest one."""

    colours: np.ndarray  # (n, 3) uint8, n <= PALETTE_COLOURS

    def indices(self, rgb: np.ndarray) -> np.ndarray:
        """The index of each pixel's nearest colour (least squared RGB distance, ties to the lower
        index), for (..., 3) uint8 pixels. Exact, where Pillow's own mapping looks colours up in a
        coarser cache (it turns white into 252, 253, 253 when the palette also holds that).

        Over the distinct colours c of the pixels: argmin_p |c - p|^2 = argmin_p (|p|^2 - 2 c.p), one
        matrix product; whole numbers below 2^24, so float32 holds them exactly."""
        packed = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
        unique, inverse = np.unique(packed.ravel(), return_inverse=True)
        colours = np.stack([unique >> 16, (unique >> 8) & 255, unique & 255], axis=-1).astype(np.float32)
        palette = self.colours.astype(np.float32)
        nearest = ((palette**2).sum(axis=1) - 2 * colours @ palette.T).argmin(axis=1).astype(np.uint8)
        return nearest[inverse].reshape(rgb.shape[:-1])


def figure_palette(fig, picture: np.ndarray) -> Palette:
    """The GIF's palette, built from the figure: first every colour its opaque markers are drawn in,
    exactly (each optimizer's head marker, its outline, the minima), then colours fitted to
    `picture` (the still figure) by median cut, `COLOURFUL_SHARE` of them to its colourful pixels
    (the paths and the legend) and the rest to its greys (the surface, axes and text). A palette
    fitted to the picture as a whole spends nearly every colour on the grey surface, which fills
    most of it, and merges the optimizers' path colours with their neighbours (measured on six
    optimizers' paths: 9 levels off on average and 28 at the 95th percentile, against 3 and 14
    with the split; the greys lose nothing measurable, 0.08 levels on average either way)."""
    named = np.asarray(list(dict.fromkeys(_marker_colours(as_dict(fig))))[: PALETTE_COLOURS // 2], np.uint8)
    pixels = picture.reshape(-1, 3)
    colourful = pixels.max(axis=1).astype(int) - pixels.min(axis=1) > COLOURFUL_CHROMA
    room = PALETTE_COLOURS - len(named)
    vivid = _median_cut(pixels[colourful], round(room * COLOURFUL_SHARE))
    greys = _median_cut(pixels[~colourful], room - len(vivid))
    return Palette(np.concatenate([named.reshape(-1, 3), vivid, greys]))


def _median_cut(pixels: np.ndarray, count: int) -> np.ndarray:
    """At most `count` colours (k, 3) uint8 standing for `pixels` (n, 3): Pillow's median cut."""
    if count < 1 or not len(pixels):
        return np.zeros((0, 3), np.uint8)
    fitted = Image.fromarray(pixels[None, :, :]).quantize(
        count, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    used = sorted(index for _, index in fitted.getcolors(256))
    return np.asarray(fitted.getpalette(), np.uint8).reshape(-1, 3)[used]


def _marker_colours(figure: dict) -> list[tuple[int, int, int]]:
    """The colours that opaque scatter markers of `figure` are drawn in (and their outlines)."""
    found = []
    for trace in figure["data"]:
        marker = trace.get("marker") or {}
        if (
            trace.get("type", "scatter") != "scatter"
            or min(trace.get("opacity", 1), marker.get("opacity", 1)) < 1
        ):
            continue
        for value in (marker.get("color"), (marker.get("line") or {}).get("color")):
            for colour in value if isinstance(value, list) else [value]:
                try:
                    found.append(ImageColor.getrgb(colour)[:3])
                except (ValueError, TypeError, AttributeError):  # not a plain colour (a number, rgba)
                    continue
    return found


def draw(kind: str, fig, options: dict, progress: Progress = no_progress) -> bytes:
    """The file of `kind` (one of FORMATS) made from `fig` with `options` (the keyword arguments of
    `to_html`, `to_gif` or `to_png`)."""
    if kind == "gif":
        return to_gif(fig, **options, progress=progress)
    if kind == "png":
        return to_png(fig, **options, progress=progress)
    if kind == "html":
        return to_html(fig, **options)
    raise ValueError(f"unknown export format {kind!r}; choose one of: {', '.join(FORMATS)}")


def gif_seconds(frames: int, fps: float) -> float:
    """How long one loop of `to_gif(frames=..., fps=...)` plays."""
    return sum(_durations_ms(frames, fps)) / 1000


def _durations_ms(frames: int, fps: float) -> list[int]:
    """How long each of `frames` GIF frames shows at `fps`: whole centiseconds, the last one held."""
    delay = max(MIN_GIF_DELAY_MS, 10 * round(100 / fps))
    return [delay] * (frames - 1) + [max(delay, int(GIF_HOLD_LAST_S * 1000))]
