"""Hostile links in real Chromium: no text from a link ever becomes a link, an image or markup.

A shared link is the app's front door, so a crafted one must not be able to put a phishing link or a
tracking image inside the course tool. Every link parameter of every page, and a name no page knows,
is given each payload below (Markdown and HTML links and images, autolinks, a reference-style link,
an event handler, KaTeX's `\\href` / `\\url` / `\\includegraphics`, Plotly's `<a href>` pseudo-HTML).
After each load nothing in the page may link to or load another host, the browser may send it no
request (every request is intercepted), no dialog may open, and nothing may raise.

Which parameters: the pages' own. Each page is run once per *view* (a tab, or the lab's formula
surface: settings that only exist there) through AppTest, and `PageState` leaves, in session state,
the name of every parameter the page read (`_url_restored_<page>`); a new parameter is therefore
covered without editing this file. The browser loads are batched: in load i, parameter j gets
payload (i + j) mod P, so P loads give every parameter every payload; load i opens view i mod
(views + 1), and the extra slot leaves the view's own keys hostile too. Parameters that exist only in
one view get the payloads of the loads that open it.
"""

from __future__ import annotations

import functools
from urllib.parse import urlencode, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from optviz.lab import export
from optviz.lab.config import RaceConfig
from optviz.lab.export.view import RaceExport
from optviz.text import WORD_JOINER
from optviz.ui import conv, diagnose, lab
from surfaces import from_formula
from tests.conftest import APP, PAGES
from tests.e2e.browser import LOAD_TIMEOUT_MS, READY

PAYLOADS = [
    "[Log in again](http://evil.example/login)",
    "![x](http://evil.example/p.png)",
    "<http://evil.example>",
    "http://evil.example",
    "www.evil.example",
    "[x][r]\n\n[r]: http://evil.example",
    "<img src=x onerror=alert(1)>",
    r"$\href{http://evil.example}{x}$",
    r"$\url{http://evil.example}$",
    r"$\includegraphics{http://evil.example/p.png}$",
    '<a href="http://evil.example">x</a>',
]
# page: (path, the settings that open each of its views). The MLP page's tabs do not rerun the page:
# every run draws all of them, so one view holds all its parameters.
PAGE_VIEWS = {
    "lab": ("/", [{"view": view} for view in lab.VIEWS] + [{"surface": "custom"}]),
    "mlp": ("/mlp", [{}]),
    "conv": ("/conv", [{"conv_view": view} for view in conv.VIEWS]),
    "lecture": ("/lecture", [{}]),
    "diagnose": ("/diagnose", [{"diag_view": view} for view in diagnose.VIEWS]),
}
NOTICE = "Some settings in this link were not used"
LOCAL_HOSTS = {"127.0.0.1", "localhost", ""}

# Every address an element links to or loads ("TAG address"): href, src, xlink:href, style url(...).
ADDRESSES = """() => {
    const found = [];
    for (const el of document.querySelectorAll('a[href], [src], [style*="url"], image, use, link[href]')) {
        const styled = [...(el.getAttribute('style') || '').matchAll(/url\\(\\s*['"]?([^'")]*)/g)];
        for (const value of [el.href && (el.href.baseVal ?? el.href), el.src, el.getAttribute('xlink:href'),
                             ...styled.map(match => match[1])]) {
            if (value) found.push(el.tagName + ' ' + String(value));
        }
    }
    return found;
}"""


@functools.cache
def page_parameters(page: str) -> tuple[str, ...]:
    """The names of the link parameters `page` reads, in any of its views (AppTest, one run each)."""
    names = set()
    for opened in PAGE_VIEWS[page][1]:
        at = (
            AppTest.from_file(APP, default_timeout=120)
            if PAGES[page] is None
            else AppTest.from_string(PAGES[page], default_timeout=120)
        )
        for key, value in opened.items():
            at.query_params[key] = value
        at.run()
        names |= at.session_state[f"_url_restored_{page}"]
    return tuple(sorted(names))


def hostile_query(page: str, load: int) -> dict[str, str]:
    """Load `load` of `page`: a view opened (or none), every other parameter given a payload, and an
    unknown key that is itself a payload."""
    views = PAGE_VIEWS[page][1]
    opened = views[load % (len(views) + 1)] if load % (len(views) + 1) < len(views) else {}
    query = {
        name: PAYLOADS[(load + j) % len(PAYLOADS)]
        for j, name in enumerate(page_parameters(page))
        if name not in opened
    }
    query[PAYLOADS[load % len(PAYLOADS)]] = "1"
    return {**query, **opened}


def is_foreign(address: str) -> bool:
    """An address on another host, or one that runs or sends something (javascript:, mailto:). The
    app is served from 127.0.0.1; data:, blob: and (for the export) file: stay on this machine."""
    url = address.split(" ", 1)[-1]
    if url.startswith(("data:", "blob:", "file:", "about:blank", "#")):
        return False
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "ws", "wss") or url.startswith("//"):
        return parts.hostname not in LOCAL_HOSTS
    return bool(parts.scheme)  # any other scheme; a relative path stays on the app's host


class Watch:
    """What a page did that a link must never make it do: requests to other hosts (aborted) and
    dialogs (dismissed)."""

    def __init__(self, page):
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        page.route("**/*", self._route)
        page.on("dialog", self._dialog)

    def _route(self, route):
        if is_foreign("x " + route.request.url):
            self.requests.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def shows_literally(page, payload: str) -> bool:
    """Whether the notice reads 'unknown setting "<payload>" ignored', character for character (line
    breaks become spaces; the word joiners that break autolinks are invisible)."""
    notice = page.locator("[data-testid=stAlert]", has_text=NOTICE).first.inner_text()
    seen = " ".join(notice.replace(WORD_JOINER, "").split())
    return f'unknown setting "{" ".join(payload.split())}" ignored' in seen


def problems(page, watch: Watch) -> list[str]:
    """What went wrong since the last look (the watch is emptied): foreign elements, requests, dialogs."""
    found = [f"element {a}" for a in page.evaluate(ADDRESSES) if is_foreign(a)]
    found += [f"request {url}" for url in watch.requests] + [f"dialog {text!r}" for text in watch.dialogs]
    watch.requests.clear()
    watch.dialogs.clear()
    return found


@pytest.mark.parametrize("page_name", list(PAGE_VIEWS))
def test_no_link_parameter_becomes_a_link_an_image_or_markup(page_name, page, app_url, browser_log):
    watch = Watch(page)
    path = PAGE_VIEWS[page_name][0]
    failed = {}
    for load in range(len(PAYLOADS)):
        page.goto(f"{app_url}{path}?{urlencode(hostile_query(page_name, load))}", timeout=LOAD_TIMEOUT_MS)
        # The unknown key always gets a notice: once it is drawn, the run has read the link.
        page.get_by_text(NOTICE).wait_for(timeout=LOAD_TIMEOUT_MS)
        page.wait_for_selector(READY, timeout=LOAD_TIMEOUT_MS)
        page.wait_for_timeout(150)  # an image inserted by the run has asked for its file by now
        found = problems(page, watch)
        if page.query_selector("[data-testid=stException]"):
            found.append("an exception is shown")
        if not shows_literally(page, PAYLOADS[load % len(PAYLOADS)]):
            found.append("the notice does not show the unknown key as typed")
        if found:
            failed[load] = found
    assert not failed, f"{len(failed)} of {len(PAYLOADS)} hostile loads of {path} went wrong: {failed}"
    browser_log.assert_clean()


def test_the_html_export_of_a_crafted_view_loads_nothing_from_elsewhere(browser, tmp_path):
    """A formula surface exported with payloads where text enters (its title, the optimizers'
    labels), and, as if a payload had slipped into the page as markup, a foreign image inserted
    after it loads: the page's Content-Security-Policy must stop the request."""
    surface = from_formula("x^2 + 3*y^2")
    data = RaceExport(RaceConfig.create(surface, ["gd", "adam"], steps=30), "html").chart_data()
    for path, payload in zip(data["race"]["paths"], PAYLOADS, strict=False):
        path["label"] = payload
    data["race"]["surface"]["label"] = PAYLOADS[-1]
    html_file = tmp_path / "race.html"
    html_file.write_bytes(export.to_html(data, title=" ".join(PAYLOADS)))

    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        watch = Watch(page)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(html_file.as_uri())
        page.wait_for_function("() => document.querySelector('[data-testid=race-chart]')?.dataset.signature")
        page.evaluate("""() => document.body.insertAdjacentHTML(
            'beforeend', '<img src="http://evil.example/p.png">')""")
        page.wait_for_timeout(500)
        # The planted image is in the page (as if by a slip); loading it is what must not happen.
        found = [p for p in problems(page, watch) if p != "element IMG http://evil.example/p.png"]
        assert not found and not errors, (found, errors)
    finally:
        context.close()
