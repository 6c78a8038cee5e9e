"""Headless Chromium drawing the race figure at chosen steps, as PNG bytes.

Stills are drawn by the browser Kaleido 1.x drives, found the same way (the `BROWSER_PATH`
environment variable, else a `chromium`/`chrome` on the PATH); nothing is ever downloaded. Kaleido's
own API draws each image on a freshly reloaded page, so a GIF would pay a page load per frame. The
frames are drawn here through Kaleido's browser layer (choreographer) instead: one browser, one page,
the figure plotted once, and per frame only the head markers move (as when the slider moves) before
a screenshot. `python -m bench.export` measures both ways.

A still has no Play button or slider (they do nothing in a picture); a caption "step N" sits where
they were. Whatever goes wrong in the browser raises `ExportError`, whose message says why.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import plotly

from optviz.lab.export.figure import FrameDict, animation_frames, as_dict
from optviz.lab.pictures import surfaces_as_pictures

RENDER_TIMEOUT_S = 60.0  # per browser command: a page that never draws fails instead of hanging


# Chromium's pipe now and then sends a message choreographer cannot decode; it ignores it and
# goes on, but logs a full traceback. A failure that matters raises ExportError instead.
logging.getLogger("choreographer").setLevel(logging.CRITICAL)


class ExportError(RuntimeError):
    """The export could not be made (no browser found, the browser failed): the message says why."""


def browser_available() -> bool:
    """Whether a Chromium or Chrome is there to draw PNGs and GIFs (HTML needs none)."""
    names = ("chromium", "chromium-browser", "google-chrome", "chrome")
    chosen = os.environ.get("BROWSER_PATH")
    return Path(chosen).is_file() if chosen else any(shutil.which(name) for name in names)


def render_steps(fig, steps: Sequence[int], *, width: int, height: int, scale: float = 1) -> list[bytes]:
    """PNG bytes of the figure at each of `steps` (each must be a frame's step, see `frame_steps`)."""
    figure = as_dict(fig)
    by_step = {int(frame["name"]): frame for frame in animation_frames(figure)}
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


def _shot(frame: FrameDict) -> dict:
    return {"traces": frame["traces"], "data": frame["data"], "caption": f"step {frame['name']}"}


# --- the page and the DevTools commands that draw it ---------------------------------------------

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
// As the step slider does: move only the head markers (a restyle would redraw the contours too).
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
