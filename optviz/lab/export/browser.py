"""One headless Chromium per process, started on first use, kept running and shared by every export
that draws a picture.

Starting Chromium and loading its page takes a second or two (the first picture of
`python -m bench.export`), while drawing a picture on a page loaded already takes a fraction of it; a
browser per click, as exports had before, spent most of its time starting, and thirty clicks started
thirty browsers. Here one browser runs on a thread of its own with its own event loop (choreographer,
Kaleido's browser layer, is asyncio). Any thread hands it work with `Browser.run`, which lends the
work a `Page`, a tab with the given HTML (the chart's page) loaded, for as long as the work takes;
at most `pages` tabs exist, so at most that many drawings go on at once, and a tab is reused afterwards.
Each tab has a window of its own: in one window only the front tab draws, and a screenshot of
another waits for a frame that never comes (measured: two renders at once, one screenshot stuck
until its time limit).

What goes wrong raises `ExportError` saying why, and the next call works:
- no Chromium: say how to get one (the browser is the one Kaleido would use: $BROWSER_PATH, else a
  `chromium` or `chrome` on the PATH; nothing is ever downloaded);
- the browser dies (killed, out of memory) or stops answering: the work fails at once, or at its time
  limit; the browser is thrown away and the next call starts a new one. A page whose work failed is
  closed, never reused.
Unused for `IDLE_CLOSE_S`, the browser closes (its memory goes back to the machine) and starts again
when next needed. It is also closed when the process exits; if the process is killed, Chromium
exits with it (its DevTools pipe closes).
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import concurrent.futures
import functools
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
COMMAND_TIMEOUT_S = 20.0  # one DevTools command; a page that never answers fails instead of hanging
IDLE_CLOSE_S = 600.0  # the browser closes after this long unused
WATCH_S = 0.1  # how often `Browser.run` calls its `watch`
NO_BROWSER = (
    "no Chromium or Chrome found for drawing images: install one (Debian: apt-get install chromium) "
    "or set BROWSER_PATH to its executable"
)

# Chromium's pipe now and then sends a message choreographer cannot decode; it ignores it and goes
# on, but logs a full traceback (and a warning when the browser is closed). What matters raises
# ExportError instead.
logging.getLogger("choreographer").setLevel(logging.CRITICAL)


class ExportError(RuntimeError):
    """The export could not be made (no browser, the browser failed, it took too long): the message
    says why, in words for the person who asked."""


def browser_available() -> bool:
    """Whether a Chromium or Chrome is there to draw PNGs and GIFs (HTML needs none)."""
    return _browser_found(os.environ.get("BROWSER_PATH"))


@functools.lru_cache(maxsize=8)
def _browser_found(chosen: str | None) -> bool:
    """Looked up once per $BROWSER_PATH: every lab page run asks (searching PATH each time was 3% of
    a page run's CPU under a class's load), and a browser installed while the server runs is seen
    after a restart."""
    names = ("chromium", "chromium-browser", "google-chrome", "chrome")
    return Path(chosen).is_file() if chosen else any(shutil.which(name) for name in names)


class Page:
    """A tab with the browser's page loaded: DevTools commands with a time limit, and their errors
    as `ExportError`."""

    def __init__(self, tab, generation: int) -> None:
        self.tab = tab
        self.generation = generation  # which browser start it belongs to

    async def command(self, method: str, params: dict | None = None) -> dict:
        response = await asyncio.wait_for(self.tab.send_command(method, params=params), COMMAND_TIMEOUT_S)
        if "error" in response:
            raise ExportError(f"the browser could not {method}: {response['error'].get('message', response)}")
        return response["result"]

    async def call(self, function: str, *args):
        """`window.<function>(...args)` in the page, awaited; args and the result go as JSON."""
        expression = f"{function}({', '.join(json.dumps(a, separators=(',', ':')) for a in args)})"
        result = await self.command(
            "Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            message = details.get("exception", {}).get("description") or details.get("text", "")
            raise ExportError(f"the figure could not be drawn: {message}")
        return result["result"].get("value")

    async def resize(self, width: int, height: int, scale: float) -> None:
        """The viewport: width x height CSS pixels, `scale` device pixels each way per CSS pixel."""
        await self.command(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": False},
        )

    async def screenshot(self, *, transparent: bool = False) -> bytes:
        """The viewport as PNG bytes; `transparent`: where the page paints nothing, alpha 0 (else white)."""
        if transparent:
            await self.command("Emulation.setDefaultBackgroundColorOverride", {"color": _CLEAR})
        try:
            shot = await self.command(
                "Page.captureScreenshot",
                {"format": "png", "optimizeForSpeed": True, "captureBeyondViewport": False},
            )
        finally:
            if transparent:
                await self.command("Emulation.setDefaultBackgroundColorOverride")
        return base64.b64decode(shot["data"])


_CLEAR = {"r": 0, "g": 0, "b": 0, "a": 0}


class Browser:
    """The shared headless Chromium: `run(work)` lends `work` a `Page` with `html` loaded."""

    def __init__(self, html: str, pages: int) -> None:
        self.html = html
        self.pages = pages
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._chromium = None  # choreographer.Browser, while one runs
        self._generation = 0
        self._idle: list[Page] = []
        self._slots: asyncio.Semaphore | None = None
        self._starting: asyncio.Lock | None = None
        self._busy = 0
        self._idle_timer: asyncio.TimerHandle | None = None
        self._folder: tempfile.TemporaryDirectory | None = None

    # --- from any thread ---------------------------------------------------------------------------

    def run(
        self, work: Callable[[Page], Awaitable[T]], *, timeout: float, watch: Callable[[], None] | None = None
    ) -> T:
        """`await work(page)` on a page of the browser (started if need be) and its result; ExportError
        if the browser fails or the work takes longer than `timeout` seconds (it is then stopped).
        `watch` is called on this thread every `WATCH_S` while the work runs (to tell its progress);
        what it raises stops the work and is raised here."""
        future = asyncio.run_coroutine_threadsafe(self._run(work), self._event_loop())
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    return future.result(max(0.0, min(WATCH_S, deadline - time.monotonic())))
                except concurrent.futures.TimeoutError:
                    if time.monotonic() >= deadline:
                        raise
                if watch is not None:
                    watch()
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ExportError(f"the browser took longer than {timeout:g} s to draw the picture") from None
        except concurrent.futures.CancelledError:
            raise ExportError("the browser was closed while drawing the picture") from None
        except BaseException:  # from `watch`: stop the work
            future.cancel()
            raise

    @property
    def pid(self) -> int | None:
        """The browser's process (group) id while it runs, else None."""
        chromium = self._chromium
        process = getattr(chromium, "subprocess", None)
        return process.pid if process is not None and process.poll() is None else None

    def close(self) -> None:
        """Close the browser now (it starts again when next needed)."""
        if self._loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(15)
        except (concurrent.futures.TimeoutError, RuntimeError):
            process = getattr(self._chromium, "subprocess", None)
            if process is not None:
                _kill(process)

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="optviz-browser", daemon=True).start()
                self._loop = loop
                atexit.register(self.close)
            return self._loop

    # --- on the browser's own thread ---------------------------------------------------------------

    async def _run(self, work: Callable[[Page], Awaitable[T]]) -> T:
        if self._slots is None:
            self._slots, self._starting = asyncio.Semaphore(self.pages), asyncio.Lock()
        async with self._slots:
            self._busy += 1
            page = None
            try:
                page = await self._page()
                result = await work(page)
            except (Exception, asyncio.CancelledError) as problem:  # choreographer's, or a timeout
                dead = not self._alive()
                await self._after_failure(page)
                if isinstance(problem, ExportError):
                    raise
                if dead:
                    raise ExportError(
                        "the browser stopped while drawing the picture (it was closed or ran out of memory)"
                    ) from problem
                if isinstance(problem, asyncio.CancelledError):  # `run` gave up waiting
                    raise
                if isinstance(problem, TimeoutError):
                    raise ExportError("the browser stopped answering while drawing the picture") from None
                raise ExportError(f"the browser failed while drawing the picture: {problem!r}") from problem
            finally:
                self._busy -= 1
                self._arm_idle_timer()
            self._idle.append(page)
            return result

    def _alive(self) -> bool:
        return self.pid is not None

    async def _page(self) -> Page:
        async with self._starting:  # two works at once start one browser, not two
            if not self._alive():
                await self._start()
        while self._idle:
            page = self._idle.pop()
            if page.generation == self._generation:
                return page
        tab = await asyncio.wait_for(self._chromium.create_tab("", window=True), COMMAND_TIMEOUT_S)
        page = Page(tab, self._generation)
        await page.command("Page.enable")
        loaded = tab.subscribe_once("Page.loadEventFired")
        await page.command("Page.navigate", {"url": (Path(self._folder.name) / "page.html").as_uri()})
        await asyncio.wait_for(loaded, COMMAND_TIMEOUT_S)
        return page

    async def _start(self) -> None:
        import choreographer  # Kaleido's browser layer: imported when a picture is first drawn
        from choreographer.errors import BrowserFailedError, ChromeNotFoundError

        await self._close()
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="optviz-export-")
            (Path(self._folder.name) / "page.html").write_text(self.html, encoding="utf-8")
        try:
            chromium = choreographer.Browser(headless=True)
        except ChromeNotFoundError as problem:
            raise ExportError(NO_BROWSER) from problem
        try:
            await asyncio.wait_for(chromium.open(), COMMAND_TIMEOUT_S)
        except (BrowserFailedError, TimeoutError) as problem:
            if getattr(chromium, "subprocess", None) is not None:
                _kill(chromium.subprocess)
            raise ExportError(f"the browser did not start: {problem}") from problem
        self._chromium = chromium
        self._generation += 1

    async def _after_failure(self, page: Page | None) -> None:
        """A page whose work failed is closed; a browser that died is let go (the next call starts one)."""
        if not self._alive():
            await self._close()
        elif page is not None:
            try:
                await asyncio.wait_for(self._chromium.close_tab(page.tab.target_id), COMMAND_TIMEOUT_S)
            except Exception:  # a tab that will not close goes with its browser later
                pass

    def _arm_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._idle_timer = asyncio.get_running_loop().call_later(IDLE_CLOSE_S, self._close_if_idle)

    def _close_if_idle(self) -> None:
        if not self._busy:
            asyncio.get_running_loop().create_task(self._close())

    async def _close(self) -> None:
        self._idle.clear()
        chromium, self._chromium = self._chromium, None
        process = getattr(chromium, "subprocess", None)
        if process is None:
            return
        try:
            await asyncio.wait_for(chromium.close(), 10)
        except Exception:  # whatever choreographer raises, the processes are killed below
            pass
        _kill(process)


def _kill(process) -> None:
    """Kill a browser's processes (the process group choreographer started it in), if any are left."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(5)
    except Exception:  # a process that will not be reaped now is reaped by choreographer's watchdog
        pass
