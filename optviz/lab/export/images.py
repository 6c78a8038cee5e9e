"""The race as images for slide decks: a PNG of one step, an animated GIF of evenly spaced steps.

PowerPoint, Keynote and Google Slides cannot embed a live page (`export.html`), but every one of
them plays a GIF. This module chooses the steps among the figure's frames (a long race has a frame
every few steps, see figures.MAX_FRAMES), has the browser draw them (`browser.render_steps`) and
stitches the GIF. GIF delays are whole centiseconds and browsers slow down the shortest ones, hence
`MIN_GIF_DELAY_MS` and the cap on frames per second.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

from optviz.lab.export.browser import render_steps
from optviz.lab.export.figure import NO_FRAMES, frame_steps

GIF_HOLD_LAST_S = 1.5  # the last frame stays this long before the GIF loops
MIN_GIF_DELAY_MS = 20  # browsers play shorter GIF delays (< 2 centiseconds) at 10 fps


# --- PNG -----------------------------------------------------------------------------------------


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


def to_png(fig, step: int | None = None, *, width: int = 1280, height: int = 720, scale: float = 1) -> bytes:
    """A PNG of the race at `step` (default: the last step, every path complete), width x height
    pixels times `scale`. The Play button and slider are left out; a caption says "step N". A step
    without its own frame (races over 500 steps) shows the nearest frame's step."""
    return render_steps(fig, [nearest_step(fig, step)], width=width, height=height, scale=scale)[0]


# --- GIF -----------------------------------------------------------------------------------------


def gif_steps(fig, frames: int) -> list[int]:
    """`frames` evenly spaced steps among the figure's frames, always the first and the last."""
    steps = frame_steps(fig)
    if not 2 <= frames <= len(steps):
        raise ValueError(f"a GIF of this race takes 2 to {len(steps)} frames (one per step), got {frames}")
    return [steps[i] for i in np.linspace(0, len(steps) - 1, frames).round().astype(int)]


def to_gif(
    fig, *, frames: int = 100, fps: float = 15, width: int = 960, height: int = 540, scale: float = 1
) -> bytes:
    """An animated GIF of the race: `frames` evenly spaced steps (the first and the last included),
    `fps` frames per second (at most 50: GIF delays are whole centiseconds and browsers slow down
    shorter ones), looping forever, the last frame held for 1.5 s.

    One adaptive palette (256 colours, from the first and last frames, which hold every colour of
    the race) serves every frame, without dithering, so only the pixels that change (the moving
    head markers and the caption) are stored after the first frame.
    """
    if not 0 < fps <= 1000 / MIN_GIF_DELAY_MS:
        raise ValueError(f"fps must be above 0 and at most {1000 // MIN_GIF_DELAY_MS}, got {fps}")
    pngs = render_steps(fig, gif_steps(fig, frames), width=width, height=height, scale=scale)
    return stitch_gif(pngs, fps=fps)


def stitch_gif(pngs: Sequence[bytes], *, fps: float) -> bytes:
    """PNG frames (all the same size) as a looping GIF sharing one adaptive palette."""
    images = [Image.open(io.BytesIO(png)).convert("RGB") for png in pngs]
    first, last = images[0], images[-1]
    sample = Image.new("RGB", (first.width, first.height * 2))
    sample.paste(first, (0, 0))
    sample.paste(last, (0, first.height))
    palette = sample.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    indexed = [image.quantize(palette=palette, dither=Image.Dither.NONE) for image in images]
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
    return out.getvalue()


def gif_seconds(frames: int, fps: float) -> float:
    """How long one loop of `to_gif(frames=..., fps=...)` plays."""
    return sum(_durations_ms(frames, fps)) / 1000


def _durations_ms(frames: int, fps: float) -> list[int]:
    """How long each of `frames` GIF frames shows at `fps`: whole centiseconds, the last one held."""
    delay = max(MIN_GIF_DELAY_MS, 10 * round(100 / fps))
    return [delay] * (frames - 1) + [max(delay, int(GIF_HOLD_LAST_S * 1000))]
