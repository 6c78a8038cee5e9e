"""The render process (optviz.lab.export.process): the app's pictures drawn in a process of their own,
the same as drawn in the app's process; a process that dies or a render that runs too long fails with
a reason, and the next render works."""

from __future__ import annotations

import io
import os
import signal
import threading
import time

import numpy as np
import pytest
from PIL import Image

from optviz.lab import export
from optviz.lab.config import RaceConfig
from optviz.lab.export.process import RENDER_PROCESS, STOPPED, RenderProcess
from optviz.lab.export.view import RaceExport
from surfaces import from_formula

PNG = RaceExport(RaceConfig.create("booth", ["gd", "adam"], steps=40), "png", width=320, height=180)


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_a_picture_drawn_apart_is_the_one_drawn_here():
    shares = []
    apart = PNG.make_apart(shares.append)
    assert np.array_equal(_pixels(apart), _pixels(PNG.make()))
    assert shares and shares == sorted(shares), "progress arrives, in order"
    assert RENDER_PROCESS.pid is not None and RENDER_PROCESS.pid != os.getpid()
    assert os.sched_getscheduler(RENDER_PROCESS.pid) == os.SCHED_IDLE, "the app's page runs come first"


def test_a_formula_surface_travels_by_its_name():
    """A formula's record holds a function, which does not pickle: the render process rebuilds it."""
    formula = from_formula("sin(x)*cos(y) + 0.1*(x^2 + y^2)")
    png = RaceExport(RaceConfig.create(formula, ["adam"], steps=30), "png", width=320, height=180)
    assert np.array_equal(_pixels(png.make_apart()), _pixels(png.make()))


def test_a_killed_render_process_fails_what_it_was_drawing_and_the_next_render_works():
    PNG.make_apart()  # the process runs
    gif = RaceExport(RaceConfig.create("beale", ["gd", "adam"], steps=300), "gif", width=640, height=360)
    started = threading.Event()

    def kill_when_drawing(share):
        if not started.is_set():
            started.set()
            os.kill(RENDER_PROCESS.pid, signal.SIGKILL)

    with pytest.raises(export.ExportError) as failed:
        gif.make_apart(kill_when_drawing)
    assert str(failed.value) == STOPPED
    assert _pixels(PNG.make_apart()).shape == (180, 320, 3)


def test_a_render_past_its_time_is_given_up_and_the_process_goes_on():
    gif = RaceExport(RaceConfig.create("beale", ["gd", "adam"], steps=300), "gif", width=640, height=360)
    with pytest.raises(export.ExportError, match=r"took longer than 0\.05 s"):
        RENDER_PROCESS.render(gif.make, lambda share: None, timeout=0.05)
    assert _pixels(PNG.make_apart()).shape == (180, 320, 3)


def test_a_bad_option_comes_back_as_its_message():
    wrong = RaceExport(RaceConfig.create("booth", ["gd"], steps=40), "png", width=50, height=180)
    with pytest.raises(export.ExportError, match=r"100\.\.4096"):
        wrong.make_apart()


def test_an_unused_render_process_ends_and_the_next_render_starts_another():
    renders = RenderProcess(workers=1, idle_s=0.5)
    try:
        first = renders.render(PNG.make, lambda share: None, timeout=120)
        pid = renders.pid
        assert pid is not None
        deadline = time.monotonic() + 20
        while renders.pid is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert renders.pid is None, "the idle process ended"
        assert renders.render(PNG.make, lambda share: None, timeout=120) == first
        assert renders.pid not in (None, pid)
    finally:
        renders.close()
