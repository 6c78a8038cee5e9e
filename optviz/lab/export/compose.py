"""A picture of the race at one step, made from its layers (`export.layers`) with NumPy.

The background (the figure without its moving markers) is copied, each head marker's stamp is laid
over it where the frame puts that head, and the frame's "step N" caption goes in the corner; the
boxes where the picture differs from the background come with it (a GIF re-codes only those). Laying
a stamp over the picture is the "over" operation of alpha compositing, per channel:
out = (stamp * alpha + picture * (255 - alpha)) / 255, in whole numbers rounded to nearest, where
alpha is the stamp's (not premultiplied, as Chromium's screenshots are). The stamp chosen for a
marker is the one drawn at the nearest quarter-pixel offset, so a marker lands within an eighth of a
pixel of where Plotly puts it; a marker is clipped to its plot area, as Plotly clips it.
"""

from __future__ import annotations

import math

import numpy as np

from optviz.lab.export.figure import FrameDict
from optviz.lab.export.layers import PHASES, Layers, Mover
from optviz.lab.pictures import as_array

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in device pixels, ends excluded


def picture(layers: Layers, frame: FrameDict) -> tuple[np.ndarray, list[Box]]:
    """The (height, width, 3) uint8 picture of `frame` (one of the figure's animation frames), and
    the boxes outside which it is the background."""
    out, changed = layers.background.copy(), []
    scale = layers.scale
    for index, data in zip(frame["traces"], frame["data"], strict=True):
        mover = layers.movers[index]
        clip = _plot_area(mover, scale)
        for member, (x, y) in enumerate(zip(as_array(data["x"]), as_array(data["y"]), strict=True)):
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            px, py = mover.x.pixel(x) * scale, mover.y.pixel(y) * scale
            phase_x, phase_y = round((px % 1) * PHASES) % PHASES, round((py % 1) * PHASES) % PHASES
            stamp = mover.stamps[member][PHASES * phase_y + phase_x]
            corner = round(px - stamp.anchor[0]), round(py - stamp.anchor[1])
            changed.append(over(out, stamp.rgba, corner, clip))
    caption = layers.captions.get(f"step {frame['name']}")
    if caption is not None:
        changed.append(over(out, *caption, (0, 0, out.shape[1], out.shape[0])))
    return out, [box for box in changed if box is not None]


def _plot_area(mover: Mover, scale: float) -> Box:
    """Where a trace's markers may show: its plot area (Plotly clips markers to it)."""
    x, y = mover.x, mover.y
    return (
        round(x.offset * scale),
        round(y.offset * scale),
        round((x.offset + x.length) * scale),
        round((y.offset + y.length) * scale),
    )


def over(out: np.ndarray, rgba: np.ndarray, corner: tuple[int, int], clip: Box) -> Box | None:
    """Lay the RGBA picture `rgba` over `out` (RGB, changed in place) with its top-left pixel at
    `corner` (x, y), only within `clip`; returns the box it changed (None: none)."""
    left, top = corner
    x0, y0 = max(left, clip[0]), max(top, clip[1])
    x1, y1 = min(left + rgba.shape[1], clip[2]), min(top + rgba.shape[0], clip[3])
    if x0 >= x1 or y0 >= y1:
        return None
    part = rgba[y0 - top : y1 - top, x0 - left : x1 - left].astype(np.uint32)
    alpha = part[..., 3:]
    under = out[y0:y1, x0:x1].astype(np.uint32)
    out[y0:y1, x0:x1] = (part[..., :3] * alpha + under * (255 - alpha) + 127) // 255
    return x0, y0, x1, y1
