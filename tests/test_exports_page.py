"""The lab's download buttons (optviz/ui/exports.py), through Streamlit's AppTest: asking for a
picture, seeing where it stands, downloading it, and a failure that says why and can be retried.

AppTest does not run a fragment's timer (`run_every`) nor click downloads: tests/e2e/
test_links_browser.py does, in Chromium. Each test gets a fresh queue of renders.
"""

from __future__ import annotations

import threading
import time

import pytest

from optviz.lab import export
from optviz.lab.export.jobs import DONE, RUNNING, Renders
from optviz.lab.export.limits import LIMITS, Limits
from optviz.lab.export.view import RaceExport
from optviz.ui import exports
from tests.apptest import shown, with_files


@pytest.fixture
def renders(monkeypatch):
    fresh = Renders(LIMITS)
    monkeypatch.setattr(exports, "RENDERS", fresh)
    return fresh


def _labels(at) -> list[str]:
    buttons = [b.label for b in at.button] + [b.proto.label for b in at.get("download_button")]
    return [label.split(": ", 1)[-1] for label in buttons]


def _errors(at) -> str:
    return " ".join(shown(e.value) for e in at.error)


def test_make_png_then_download_it(lab_session, renders):
    at = with_files(lab_session())
    assert {"HTML animation", "Make GIF", "Make PNG"} <= set(_labels(at))
    at.button(key="make_png").click().run()
    job = at.session_state["export_png"]
    assert job.wait(60).startswith(b"\x89PNG")
    at.run()
    assert "Download PNG" in _labels(at) and "Make GIF" in _labels(at)
    assert not at.exception and not _errors(at)


def test_a_waiting_picture_says_how_many_are_ahead(lab_session, monkeypatch):
    gate = threading.Event()
    blocked = Renders(Limits(workers=1, cache_bytes=10**7, timeout_s=30, queue=10))
    monkeypatch.setattr(exports, "RENDERS", blocked)
    held = [
        blocked.request(("someone else's view", i), lambda progress: gate.wait(30) and b"x") for i in range(3)
    ]
    while held[0].state != RUNNING:  # one drawing, two waiting, all held until the gate opens
        time.sleep(0.01)
    at = with_files(lab_session())
    at.button(key="make_gif").click().run()
    texts = [p.proto.text for p in at.get("progress")]
    assert texts == ["GIF: waiting for a free renderer, 2 ahead of you"], texts
    assert at.button(key="make_gif").disabled, "asked once is enough"
    gate.set()
    assert at.session_state["export_gif"].wait(60).startswith(b"GIF89a")
    at.run()
    assert "Download GIF" in _labels(at) and not at.get("progress")


def test_a_failed_picture_says_why_and_can_be_tried_again(lab_session, renders, monkeypatch):
    make = RaceExport.make_apart

    def broken(self, progress):
        raise export.ExportError("the browser stopped while drawing the picture [x](http://evil.example)")

    monkeypatch.setattr(RaceExport, "make_apart", broken)
    at = with_files(lab_session())
    at.button(key="make_png").click().run()
    assert "The PNG could not be made: the browser stopped while drawing the picture" in _errors(at)
    assert "[x](http://evil.example)" in _errors(at), "the reason is shown as text, never as a link"
    assert "Try the PNG again" in _labels(at) and not at.exception
    monkeypatch.setattr(RaceExport, "make_apart", make)
    at.button(key="make_png").click().run()
    at.session_state["export_png"].wait(60)
    at.run()
    assert "Download PNG" in _labels(at) and not _errors(at)


def test_a_full_queue_is_refused_with_a_message(lab_session, monkeypatch):
    gate = threading.Event()
    full = Renders(Limits(workers=1, cache_bytes=10**7, timeout_s=30, queue=1))
    monkeypatch.setattr(exports, "RENDERS", full)
    drawing = full.request(("busy", 0), lambda progress: gate.wait(30) and b"x")
    while drawing.state != RUNNING:
        time.sleep(0.01)
    full.request(("busy", 1), lambda progress: gate.wait(30) and b"x")  # the one place in the queue
    at = with_files(lab_session())
    at.button(key="make_gif").click().run()
    gate.set()
    assert "The GIF could not be made: the queue is full (1 pictures waiting)" in _errors(at)
    assert "Make GIF" in _labels(at) and not at.exception


def test_a_file_someone_else_made_is_there_to_download(lab_session, renders):
    at = with_files(lab_session())
    at.button(key="make_png").click().run()
    job = at.session_state["export_png"]
    job.wait(60)
    other = with_files(lab_session())  # another student, same view
    assert "Download PNG" in _labels(other), "made once for everyone"
    assert renders.job(job.key).state == DONE
