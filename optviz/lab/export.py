"""Offline exports of the lab's race: a standalone HTML page, PNG stills and an animated GIF.

Every function takes the race figure the page shows (`figures.race_figure`, or any figure with the
same frames, as a figure or its dict) and returns bytes; nothing here imports Streamlit.

- `to_html`: one file that plays with no server and no network: plotly.js (~4.7 MB) is inlined. It
  starts playing when opened, at the figure's own frame rate (the Play button's), once through to
  the last step, and stops there with every path drawn; Play replays it, the slider scrubs.
- `to_png`: one step as a still. `to_gif`: `frames` evenly spaced steps as an animated GIF for
  slide decks (PowerPoint, Keynote and Google Slides cannot embed a live page). Stills have no
  Play button or slider (they do nothing in a picture); a caption "step N" sits where they were.

Stills are drawn by headless Chromium, the browser Kaleido 1.x drives, found the same way (the
`BROWSER_PATH` environment variable, else a `chromium`/`chrome` on the PATH); nothing is ever
downloaded. Kaleido's own API renders each image on a freshly reloaded page (measured: 0.44-0.6 s a
frame, so 45-60 s for a 100-frame GIF), so the frames are drawn here through Kaleido's browser
layer (choreographer) instead: one browser, one page, the figure plotted once, and per frame only
the head markers move (as when the slider moves) before a screenshot: ~0.08 s a frame.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import copy
import html
import io
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import plotly
import plotly.io as pio
from PIL import Image

from optviz.lab.pictures import surfaces_as_pictures

FrameDict = dict
RENDER_TIMEOUT_S = 60.0  # per browser command: a page that never draws fails instead of hanging
GIF_HOLD_LAST_S = 1.5  # the last frame stays this long before the GIF loops
MIN_GIF_DELAY_MS = 20  # browsers play shorter GIF delays (< 2 centiseconds) at 10 fps


# Chromium's pipe now and then sends a message choreographer cannot decode; it ignores it and
# goes on, but logs a full traceback. A failure that matters raises ExportError instead.
logging.getLogger("choreographer").setLevel(logging.CRITICAL)


class ExportError(RuntimeError):
    """The export could not be made (no browser found, the browser failed): the message says why."""


# --- the figure as plain data --------------------------------------------------------------------


def _as_dict(fig) -> dict:
    """The figure as plain JSON-ready data (frames included), without touching the caller's figure."""
    data = fig.to_dict() if hasattr(fig, "to_dict") else copy.deepcopy(fig)
    return json.loads(json.dumps(data, cls=plotly.utils.PlotlyJSONEncoder))


def frame_steps(fig) -> list[int]:
    """The steps the figure's animation frames show (frame names are step numbers), in order."""
    return [int(frame["name"]) for frame in _as_dict(fig).get("frames", [])]


def _frames(figure: dict) -> list[FrameDict]:
    frames = figure.get("frames") or []
    if not frames:
        raise ValueError("the figure has no animation frames: pass the race figure (figures.race_figure)")
    return frames


def _frame_duration_ms(figure: dict) -> int:
    """The Play button's frame duration (the page's animation speed)."""
    for menu in figure["layout"].get("updatemenus", []):
        for button in menu.get("buttons", []):
            args = button.get("args") or []
            if button.get("method") == "animate" and len(args) > 1 and args[0] is None:
                return int(args[1]["frame"]["duration"])
    return 66


def _still_figure(figure: dict, width: int, height: int) -> dict:
    """The figure for a picture: no Play button nor slider (the page adds a "step N" caption in
    their place), and a fixed size."""
    still = {key: value for key, value in figure.items() if key != "frames"}
    layout = still["layout"] = dict(still["layout"])
    layout.pop("updatemenus", None)
    layout.pop("sliders", None)
    margin = dict(layout.get("margin", {}))
    margin["b"] = 60
    layout.update(margin=margin, width=width, height=height, dragmode=False)
    return still


# --- HTML ----------------------------------------------------------------------------------------


def browser_available() -> bool:
    """Whether a Chromium or Chrome is there to draw PNGs and GIFs (HTML needs none)."""
    names = ("chromium", "chromium-browser", "google-chrome", "chrome")
    chosen = os.environ.get("BROWSER_PATH")
    return Path(chosen).is_file() if chosen else any(shutil.which(name) for name in names)


def to_html(fig, *, title: str = "optviz race") -> bytes:
    """A standalone HTML page of the animated figure: plotly.js inlined, no network, no server.

    It plays once on opening, at the Play button's frame duration (the page's animation speed), and
    stops at the last step; the figure's own ▶ Play / ❚❚ Pause and step slider stay. UTF-8 bytes.
    """
    figure = surfaces_as_pictures(_as_dict(fig))
    _frames(figure)
    play = {
        "frame": {"duration": _frame_duration_ms(figure), "redraw": False},
        "transition": {"duration": 0},
        "fromcurrent": True,
        "mode": "immediate",
    }
    page = pio.to_html(
        figure,
        include_plotlyjs=True,
        full_html=True,
        auto_play=True,
        animation_opts=play,
        config={"displaylogo": False, "responsive": True},
        validate=False,
        div_id="race",
    )
    head = f'<head>\n<title>{html.escape(title)}</title>\n<meta name="viewport" content="width=device-width">'
    return page.replace("<head>", head, 1).encode("utf-8")


# --- stills: the browser -------------------------------------------------------------------------

_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<style>
html, body {{margin: 0; padding: 0; overflow: hidden; background: white}}
#caption {{position: absolute; right: {right}px; bottom: 10px; font: 16px "Open Sans", verdana, arial,
  sans-serif; color: #2a3f5f}}
</style>
<script src="{plotly}"></script></head>
<body><div id="figure"></div><div id="caption"></div>
<script>
const FIGURE = {figure};
const SHOTS = {shots};
const gd = document.getElementById("figure");
const caption = document.getElementById("caption");
window.ready = Plotly.newPlot(gd, FIGURE.data, FIGURE.layout, {{staticPlot: true}}).then(() => true);
// As the step slider does: move only the head markers (18 ms a frame; a restyle redraws the contours).
window.show = async (i) => {{
  const shot = SHOTS[i];
  await Plotly.animate(gd, {{data: shot.data, traces: shot.traces}}, {{
    mode: "immediate", frame: {{duration: 0, redraw: false}}, transition: {{duration: 0}}}});
  caption.textContent = shot.caption;
  return true;
}};
</script></body></html>
"""


def _plotly_js() -> Path:
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _script_json(value) -> str:
    """JSON that is safe inside a <script> element."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")


async def _command(tab, method: str, params: dict | None = None) -> dict:
    response = await asyncio.wait_for(tab.send_command(method, params=params), RENDER_TIMEOUT_S)
    if "error" in response:
        raise ExportError(f"the browser could not {method}: {response['error'].get('message', response)}")
    return response["result"]


async def _evaluate(tab, expression: str):
    result = await _command(tab, "Runtime.evaluate", {"expression": expression, "awaitPromise": True})
    if "exceptionDetails" in result:
        details = result["exceptionDetails"]
        message = details.get("exception", {}).get("description") or details.get("text", "")
        raise ExportError(f"the figure could not be drawn: {message}")
    return result["result"].get("value")


async def _screenshots(still: dict, shots: list[dict], width: int, height: int, scale: float) -> list[bytes]:
    """PNG bytes of `still` with each of `shots` applied in turn, from one browser and one page."""
    import choreographer  # Kaleido's browser layer
    from choreographer.errors import BrowserFailedError, ChromeNotFoundError

    with tempfile.TemporaryDirectory(prefix="optviz-export-") as folder:
        page = Path(folder) / "figure.html"
        page.write_text(
            _PAGE.format(
                plotly=_plotly_js().as_uri(),
                figure=_script_json(still),
                shots=_script_json(shots),
                right=still["layout"]["margin"].get("r", 10),
            ),
            encoding="utf-8",
        )
        try:
            browser = choreographer.Browser(headless=True)
        except ChromeNotFoundError as problem:
            raise ExportError(
                "no Chromium or Chrome found for drawing images: install one (Debian: apt-get install "
                "chromium) or set BROWSER_PATH to its executable"
            ) from problem
        try:
            async with browser:
                tab = await browser.create_tab("")
                await _command(
                    tab,
                    "Emulation.setDeviceMetricsOverride",
                    {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": False},
                )
                await _command(tab, "Page.enable")
                loaded = tab.subscribe_once("Page.loadEventFired")
                await _command(tab, "Page.navigate", {"url": page.as_uri()})
                await asyncio.wait_for(loaded, RENDER_TIMEOUT_S)
                await _evaluate(tab, "window.ready")
                images = []
                for index in range(len(shots)):
                    await _evaluate(tab, f"window.show({index})")
                    shot = await _command(
                        tab,
                        "Page.captureScreenshot",
                        {"format": "png", "optimizeForSpeed": len(shots) > 1, "captureBeyondViewport": False},
                    )
                    images.append(base64.b64decode(shot["data"]))
                return images
        except (BrowserFailedError, TimeoutError) as problem:
            raise ExportError(f"the browser failed while drawing the figure: {problem!r}") from problem


def _run(coroutine):
    """Run a coroutine to completion from synchronous code, also when the caller runs an event loop
    (a notebook): then in a worker thread with its own loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _shot(frame: FrameDict) -> dict:
    return {"traces": frame["traces"], "data": frame["data"], "caption": f"step {frame['name']}"}


def render_steps(fig, steps: Sequence[int], *, width: int, height: int, scale: float = 1) -> list[bytes]:
    """PNG bytes of the figure at each of `steps` (each must be a frame's step, see `frame_steps`)."""
    figure = _as_dict(fig)
    by_step = {int(frame["name"]): frame for frame in _frames(figure)}
    missing = [step for step in steps if step not in by_step]
    if missing:
        raise ValueError(f"no frame for step {missing[0]}; the figure's frames show steps {_span(by_step)}")
    _check_size(width, height, scale)
    still = _still_figure(surfaces_as_pictures(figure), width, height)
    shots = [_shot(by_step[step]) for step in steps]
    return _run(_screenshots(still, shots, width, height, scale))


def _span(by_step) -> str:
    steps = sorted(by_step)
    return f"{steps[0]}..{steps[-1]}" if len(steps) > 1 else str(steps[0])


def _check_size(width: int, height: int, scale: float) -> None:
    if not (100 <= width <= 4096 and 100 <= height <= 4096):
        raise ValueError(f"image size must be 100..4096 pixels each way, got {width} x {height}")
    if not 0.5 <= scale <= 4:
        raise ValueError(f"scale must be between 0.5 and 4, got {scale}")


# --- PNG -----------------------------------------------------------------------------------------


def nearest_step(fig, step: int | None) -> int:
    """The frame's step closest to `step` (None: the last step). Races longer than 500 steps have a
    frame every few steps (figures.MAX_FRAMES)."""
    steps = frame_steps(fig)
    if not steps:
        raise ValueError("the figure has no animation frames: pass the race figure (figures.race_figure)")
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
    delay = max(MIN_GIF_DELAY_MS, 10 * round(100 / fps))  # whole centiseconds
    durations = [delay] * (len(indexed) - 1) + [max(delay, int(GIF_HOLD_LAST_S * 1000))]
    out = io.BytesIO()
    indexed[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=indexed[1:],
        duration=durations,
        loop=0,
        optimize=True,
        disposal=1,
    )
    return out.getvalue()


def gif_seconds(frames: int, fps: float) -> float:
    """How long one loop of `to_gif(frames=..., fps=...)` plays."""
    delay = max(MIN_GIF_DELAY_MS, 10 * round(100 / fps))
    return ((frames - 1) * delay + max(delay, int(GIF_HOLD_LAST_S * 1000))) / 1000


__all__ = [
    "ExportError",
    "frame_steps",
    "gif_seconds",
    "gif_steps",
    "nearest_step",
    "render_steps",
    "stitch_gif",
    "to_gif",
    "to_html",
    "to_png",
]
