"""Pictures of the race drawn by the live chart itself, in the shared headless Chromium.

The browser's page is the exported HTML page (`export.html.chart_page`) without a race and laid
out for pictures: the chart alone, its controls hidden. A render mounts the chart with its race at
the picture's size, then:
1. the static layer: one screenshot with the chart's foreground canvas hidden (the white page, the
   legend, the map with its axes, colour bar and landmarks), which no step changes;
2. each step's picture, in the page: the chart draws the step (`drawStep`, race_chart.js: trails up
   to the step, heads, start ring), and a canvas composites the static layer, the foreground canvas
   over it where the page shows it, and a "step N / T" caption at the right of the legend's line.

A PNG is that canvas's PNG. A GIF's frames are mapped to its palette in the page: each pixel takes
its nearest palette colour (least squared RGB distance, ties to the lower index), found once per
colour and then looked up. Only the boxes where a frame differs from the one before are sent (the
trails grow, the heads and the caption change; the map stays), for a chunk of frames at a time,
deflated together with the browser's own CompressionStream (one stream costs ~7 ms however little
it holds) and as base64; Python inflates them (zlib) and patches each frame from the one before.
So frames never cross DevTools as screenshots: one screenshot per render, where a screenshot per
frame costs ~80 ms (`python -m bench.export` measures both).
"""

from __future__ import annotations

import asyncio
import base64
import io
import zlib
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from optviz.lab.export.browser import Browser, Page
from optviz.lab.export.html import chart_page
from optviz.lab.export.limits import LIMITS

CHUNK = 20  # GIF frames per call into the page (progress is told between chunks)

_PICTURES = """
const state = {};
// The step's picture on state.canvas: the static layer, the foreground canvas where the page shows
// it, and the caption at the right of the legend's line.
function composite(step) {
  const root = state.root;
  root.drawStep(step);
  const dpr = window.devicePixelRatio || 1;
  const context = state.context;
  context.setTransform(1, 0, 0, 1, 0, 0);
  context.drawImage(state.layer, 0, 0);
  const foreground = root.querySelector(".optviz-race__foreground");
  const box = foreground.getBoundingClientRect();
  context.drawImage(foreground, Math.round(box.left * dpr), Math.round(box.top * dpr));
  const legend = root.querySelector(".optviz-race__legend").getBoundingClientRect();
  const style = getComputedStyle(root);
  const line = parseFloat(getComputedStyle(root.querySelector(".optviz-race__legend")).lineHeight) || 18;
  context.setTransform(dpr, 0, 0, dpr, 0, 0);
  context.font = `${style.fontSize} ${style.fontFamily}`;
  context.fillStyle = style.color;
  context.textAlign = "right";
  context.textBaseline = "middle";
  const caption = `step ${Number(root.dataset.step)} / ${state.steps}`;
  context.fillText(caption, legend.right - 8, legend.top + line / 2);
}
function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}
function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
async function deflate(blob) {
  const stream = blob.stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
// The palette index of each pixel of `pixels` (RGBA as Uint32, little-endian) in `box`, into `out` from
// `at`: the nearest colour, found once per colour (lookup: 255 = not yet).
function indices(pixels, width, [x0, y0, x1, y1], out, at) {
  const { lookup, palette } = state;
  for (let y = y0; y < y1; y++) {
    for (let x = x0, i = y * width + x0; x < x1; x++, i++) {
      const key = pixels[i] & 0xffffff; // r | g << 8 | b << 16
      let k = lookup[key];
      if (k === 255) {
        const r = key & 255, g = (key >> 8) & 255, b = key >> 16;
        let best = Infinity;
        for (let p = 0; p < palette.length; p += 3) {
          const d = (r - palette[p]) ** 2 + (g - palette[p + 1]) ** 2 + (b - palette[p + 2]) ** 2;
          if (d < best) { best = d; k = p / 3; }
        }
        lookup[key] = k;
      }
      out[at++] = k;
    }
  }
  return at;
}
// The boxes [x0, y0, x1, y1] (ends excluded) outside which `now` equals `before` (Uint32 pixels):
// rows with a change, grouped into one box while fewer than 8 unchanged rows part them.
function changed(now, before, width, height) {
  if (!before) return [[0, 0, width, height]];
  const boxes = [];
  let box = null, gap = 0;
  for (let y = 0; y < height; y++) {
    let x0 = -1, x1 = -1;
    for (let x = 0, i = y * width; x < width; x++, i++) {
      if (now[i] !== before[i]) { if (x0 < 0) x0 = x; x1 = x + 1; }
    }
    if (x0 < 0) {
      if (box && ++gap >= 8) { boxes.push(box); box = null; }
      continue;
    }
    gap = 0;
    if (!box) box = [x0, y, x1, y + 1];
    else { box[0] = Math.min(box[0], x0); box[2] = Math.max(box[2], x1); box[3] = y + 1; }
  }
  if (box) boxes.push(box);
  return boxes;
}
window.optvizExport = {
  // Mount the chart with `data`, drawn at `step`, its foreground hidden for the static layer's
  // screenshot; returns the race's step count.
  show(data, step) {
    state.root = window.optvizMount(data);
    state.steps = data.race.steps;
    state.root.drawStep(step);
    document.documentElement.classList.add("hide-foreground");
    return state.steps;
  },
  // The static layer (PNG bytes, base64); the foreground shows again.
  async layer(png) {
    state.layer = await createImageBitmap(new Blob([fromBase64(png)], { type: "image/png" }));
    state.canvas = new OffscreenCanvas(state.layer.width, state.layer.height);
    state.context = state.canvas.getContext("2d", { willReadFrequently: true });
    document.documentElement.classList.remove("hide-foreground");
    return [state.layer.width, state.layer.height];
  },
  // The picture of `step` as a PNG (base64).
  async png(step) {
    composite(step);
    const blob = await state.canvas.convertToBlob({ type: "image/png" });
    return toBase64(new Uint8Array(await blob.arrayBuffer()));
  },
  // The GIF's palette: [r, g, b, r, g, b, ...] of at most 255 colours. The next frame is the first.
  palette(colours) {
    state.palette = Uint8Array.from(colours);
    state.lookup = new Uint8Array(1 << 24).fill(255);
    state.before = null;
  },
  // Each step's picture as palette indices where it differs from the frame before: [each frame's
  // boxes, all their indices (frame after frame, box after box, row by row), deflated, base64]. One
  // deflate for all: a CompressionStream costs ~7 ms however little it is given.
  async frames(steps) {
    const { width, height } = state.canvas;
    const boxes = [], parts = [];
    for (const step of steps) {
      composite(step);
      const now = new Uint32Array(state.context.getImageData(0, 0, width, height).data.buffer);
      const mine = changed(now, state.before, width, height);
      const bytes = new Uint8Array(mine.reduce((n, [x0, y0, x1, y1]) => n + (x1 - x0) * (y1 - y0), 0));
      mine.reduce((at, box) => indices(now, width, box, bytes, at), 0);
      boxes.push(mine);
      parts.push(bytes);
      state.before = now;
    }
    return [boxes, toBase64(await deflate(new Blob(parts)))];
  },
};
"""

BROWSER = Browser(chart_page(None, title="optviz pictures", pictures=_PICTURES), pages=LIMITS.workers)
Watch = Callable[[float], None]  # told the share done while the browser draws


async def _show(page: Page, data: dict, step: int, width: int, height: int, scale: float) -> tuple[int, int]:
    """Mount the chart with `data` at width x height CSS pixels (`scale` device pixels each), take the
    static layer; returns the pictures' size in device pixels."""
    await page.resize(width, height, scale)
    await page.call(
        "(() => new Promise((ready) => { const wait = () => window.optvizExport ? ready(true) "
        ": setTimeout(wait, 10); wait(); }))"
    )
    await page.call("optvizExport.show", {**data, "height": height, "interactive": False}, step)
    layer = await page.screenshot()
    size = await page.call("optvizExport.layer", base64.b64encode(layer).decode("ascii"))
    return size[0], size[1]


def png(data: dict, step: int, width: int, height: int, scale: float, *, timeout: float) -> bytes:
    """The chart with `data` at `step`, width x height CSS pixels times `scale`, as PNG bytes."""

    async def work(page: Page) -> bytes:
        await _show(page, data, step, width, height, scale)
        return base64.b64decode(await page.call("optvizExport.png", step))

    return BROWSER.run(work, timeout=timeout)


def gif_frames(
    data: dict,
    steps: Sequence[int],
    width: int,
    height: int,
    scale: float,
    palette_of: Callable[[np.ndarray], np.ndarray],
    *,
    timeout: float,
    watch: Watch,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The GIF's palette and its frames, one per step of `steps`: (height, width) uint8 palette indices
    (device pixels). `palette_of` makes the (n <= 255, 3) uint8 palette from the last step's picture,
    (height, width, 3) uint8 (the one with every path drawn); `watch` is told the share done."""
    done = [0.0]

    async def work(page: Page):
        w, h = await _show(page, data, steps[-1], width, height, scale)
        last = base64.b64decode(await page.call("optvizExport.png", steps[-1]))
        rgb = np.asarray(Image.open(io.BytesIO(last)).convert("RGB"))
        palette = await asyncio.to_thread(palette_of, rgb)
        await page.call("optvizExport.palette", palette.ravel().tolist())
        frames, index = [], np.zeros((h, w), np.uint8)
        for start in range(0, len(steps), CHUNK):
            boxes, packed = await page.call("optvizExport.frames", list(steps[start : start + CHUNK]))
            values = np.frombuffer(zlib.decompress(base64.b64decode(packed)), np.uint8)
            for frame_boxes in boxes:
                index, values = _patched(index, frame_boxes, values)
                frames.append(index)
            done[0] = len(frames) / len(steps)
        return palette, frames

    return BROWSER.run(work, timeout=timeout, watch=lambda: watch(done[0]))


def _patched(before: np.ndarray, boxes: list[list[int]], values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The frame `before` (palette indices) with each box [x0, y0, x1, y1] filled, in turn, from the
    start of `values` (row by row), and the values left over."""
    frame, at = before.copy(), 0
    for x0, y0, x1, y1 in boxes:
        size = (x1 - x0) * (y1 - y0)
        frame[y0:y1, x0:x1] = values[at : at + size].reshape(y1 - y0, x1 - x0)
        at += size
    return frame, values[at:]
