"""Real-browser end-to-end tests: one Streamlit server per session, driven through Debian's Chromium.

The browser is Debian's `chromium` (apt-get install chromium), launched by Playwright's Python package;
never run `playwright install`. Screenshots go to <repo>/artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from optviz.serve.processes import stop
from tests.e2e.browser import LOAD_TIMEOUT_MS, READY, wait_until_drawn

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("OPTVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 720}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}  # new_page(**PHONE)
SERVER_START_TIMEOUT_S = 120
# Chromium logs this when a resource host (e.g. fonts.gstatic.com for a Material page icon) cannot be
# resolved on an offline machine. Every other console error fails the tests that check for errors.
IGNORED_CONSOLE_ERRORS = ("net::ERR_NAME_NOT_RESOLVED",)
# Opening a page by its own URL (/mlp), Streamlit's frontend first probes /mlp/_stcore/health and
# /mlp/_stcore/host-config, then falls back to the app root: two 404s that are Streamlit's, not the
# app's (streamlit/streamlit#7074, open).
STREAMLIT_DEEP_LINK_PROBE = re.compile(r"^https?://[^/]+/[^/_][^/]*/_stcore/(health|host-config)$")
# Pausing a playing Plotly animation rejects the interrupted Plotly.animate promise, which plotly.js's
# own Play/Pause buttons never handle: plotly.js logs this trace, then the page sees an unhandled
# rejection whose reason is `undefined` (plotly/plotly.js#5613). Harmless: the animation pauses.
PLOTLY_PAUSE_TRACE = "API call to Plotly.animate rejected"

_REPORT_KEY = pytest.StashKey[dict]()


# --- the app server --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "<no log>"


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """Start `streamlit run app.py` on a free loopback port; yield its base URL; stop it afterwards."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so teardown can stop all of it
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"streamlit exited with code {proc.returncode} before answering /_stcore/health:\n"
                    + _log_tail(log_path),
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit did not answer {url}/_stcore/health within {SERVER_START_TIMEOUT_S} s:\n"
                    + _log_tail(log_path),
                    pytrace=False,
                )
            time.sleep(0.25)
        yield url
    finally:
        stop(proc)  # the server and everything it started (its own process group)


# --- the browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. The browser tests need Debian's chromium "
            "(apt-get install chromium; or set OPTVIZ_CHROMIUM to its path). "
            "Do not run `playwright install`.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class BrowserLog:
    """What the test's page reported: console errors and uncaught page errors (failures), and
    console warnings/traces (context only). Errors matching IGNORED_CONSOLE_ERRORS are dropped."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.undefined_rejections = 0

    def on_console(self, message) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            known = any(ignored in message.text for ignored in IGNORED_CONSOLE_ERRORS) or (
                "404" in message.text and STREAMLIT_DEEP_LINK_PROBE.match(where)
            )
            if not known:
                self.errors.append(f"console error: {message.text}" + (f" [{where}]" if where else ""))
        elif message.type in ("warning", "trace"):  # plotly.js warns through console.trace
            self.warnings.append(f"console {message.type}: {message.text}")

    def on_page_error(self, error) -> None:
        """An uncaught exception, or an unhandled promise rejection (its reason may be `undefined`)."""
        if error.message in ("", "undefined"):
            self.undefined_rejections += 1  # judged in assert_clean, once plotly's trace has arrived too
            return
        text = f"{error.name}: {error.message}" if error.name else error.message
        stack = f"\n{error.stack}" if error.stack and error.stack != text else ""
        self.errors.append(f"page error (uncaught exception or unhandled rejection): {text}{stack}")

    def assert_clean(self) -> None:
        paused_animation = any(PLOTLY_PAUSE_TRACE in warning for warning in self.warnings)
        if self.undefined_rejections and not paused_animation:
            self.errors.append(
                f"page error: {self.undefined_rejections} unhandled rejection(s) with reason undefined"
            )
        if self.errors:
            counts = Counter(self.warnings)
            context = "".join(f"\n  {text}" + (f"  (x{n})" if n > 1 else "") for text, n in counts.items())
            raise AssertionError(
                "the browser reported errors:\n  "
                + "\n  ".join(self.errors)
                + (f"\nconsole warnings, for context:{context}" if context else "")
            )


@pytest.fixture
def browser_log() -> BrowserLog:
    """The test's page's console and page errors (filled by the `page` fixture)."""
    return BrowserLog()


@pytest.fixture
def page(browser, browser_log, request, app_url):
    """A fresh 1280x720 page (new context: a new Streamlit session) that records console errors."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("console", browser_log.on_console)
    page.on("pageerror", browser_log.on_page_error)
    screenshot_path(request.node.name, "failure").unlink(missing_ok=True)  # not last run's
    yield page
    report = request.node.stash.get(_REPORT_KEY, {}).get("call")
    if report is not None and report.failed:
        try:
            save_screenshot(page, request.node.name, "failure")
        except Exception:  # a failure screenshot is a courtesy; never mask the real failure
            pass
    context.close()


@pytest.fixture
def new_page(browser, browser_log):
    """`new_page(**context_options)`: a page in a new context (e.g. another viewport, touch), whose
    console and page errors go to `browser_log`; closed after the test."""
    contexts = []

    def make(**options):
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("console", browser_log.on_console)
        page.on("pageerror", browser_log.on_page_error)
        return page

    yield make
    for context in contexts:
        context.close()


# --- opening the app's pages ----------------------------------------------------------------------


@pytest.fixture
def open_page(page, app_url):
    """`open_page(path)`: go to the app's `path` (e.g. "/mlp?mlp_hidden=64") in the test's page and
    wait until the script run is over and what it sent is drawn (browser.wait_until_drawn)."""

    def open_(path: str) -> None:
        page.goto(app_url + path, timeout=LOAD_TIMEOUT_MS)
        wait_until_drawn(page, LOAD_TIMEOUT_MS)

    return open_


@pytest.fixture
def open_lab(page, open_page):
    """`open_lab(path="/")`: open the lab and wait until the race chart has drawn its race and the
    script is idle."""

    def open_(path: str = "/") -> None:
        open_page(path)
        page.wait_for_function(
            """() => { const chart = document.querySelector('[data-testid=race-chart]');
                       return chart && Number(chart.dataset.revision) > 0 && chart.dataset.startPx; }""",
            timeout=LOAD_TIMEOUT_MS,
        )
        page.wait_for_selector(READY, timeout=LOAD_TIMEOUT_MS)

    return open_


# --- screenshots and measurements ------------------------------------------------------------------


def screenshot_path(test_name: str, label: str = "") -> Path:
    """artifacts/screenshots/<test name>[-<label>].png"""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name).strip("_")
    return SCREENSHOTS / (f"{stem}-{label}.png" if label else f"{stem}.png")


def save_screenshot(page, test_name: str, label: str = "") -> Path:
    """Save a screenshot of the viewport to screenshot_path(...), creating the folder."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = screenshot_path(test_name, label)
    page.screenshot(path=str(path))
    return path


@pytest.fixture
def screenshot(request):
    """`screenshot(page, label="")` saves a screenshot named after the running test."""

    def save(page, label: str = "") -> Path:
        return save_screenshot(page, request.node.name, label)

    return save


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(_REPORT_KEY, {})[report.when] = report
    return report
