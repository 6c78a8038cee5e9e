"""Shared by every test folder: the measurements a test reports, listed in the run's terminal summary
(the browser tests' timings, the classroom load test's figures); and fresh AppTest sessions of the
app's pages (what a session sent is read with the functions in tests/apptest.py)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

_MEASUREMENTS_KEY = pytest.StashKey[list]()


@pytest.fixture
def measurement(request):
    """`measurement(text)` prints `text` and lists it in the run's terminal summary."""

    def record(text: str) -> None:
        print(text)
        request.config.stash.setdefault(_MEASUREMENTS_KEY, []).append(f"{request.node.name}: {text}")

    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = config.stash.get(_MEASUREMENTS_KEY, [])
    if lines:
        terminalreporter.section("optviz measurements")
        for line in lines:
            terminalreporter.write_line(line)


# --- AppTest sessions --------------------------------------------------------------------------------

APP = str(Path(__file__).resolve().parents[1] / "script.py")
# How each page is run on its own: the lab through script.py, the others by their render function.
PAGES = {
    "lab": None,
    "mlp": "from optviz.ui.mlp import render\nrender()",
    "conv": "from optviz.ui.conv import render\nrender()",
    "lecture": "from optviz.ui.lecture import render\nrender()",
    "diagnose": "from optviz.ui.diagnose import render\nrender()",
}


@pytest.fixture
def lab_session():
    """`lab_session(view=None)`: the lab in a fresh session, with the tab `view` open (the first tab
    if None), run once without an exception."""

    def open_lab(view: str | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        if view is not None:
            at.session_state["view"] = view
        at.run()
        assert not at.exception, at.exception
        return at

    return open_lab


@pytest.fixture
def page_session():
    """`page_session(page, query=None)`: a fresh session of `page` (a key of PAGES: the lab through
    script.py, the others on their own) opened with the link parameters `query`, run once without an
    exception."""

    def open_page(page: str, query: dict | None = None) -> AppTest:
        at = (
            AppTest.from_file(APP, default_timeout=90)
            if PAGES[page] is None
            else AppTest.from_string(PAGES[page], default_timeout=90)
        )
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
        assert not at.exception, at.exception
        return at

    return open_page


def use_own_trainer(monkeypatch) -> None:
    """The MLP page and the offline deck's snapshots train in a trainer of their own, so the runs they
    finish are not another test's (the process's TRAINER keeps finished runs for everyone)."""
    from optviz.mlp.training_jobs import Trainer
    from optviz.ui import mlp, scene_snapshot

    trainer = Trainer()
    monkeypatch.setattr(mlp, "TRAINER", trainer)
    monkeypatch.setattr(scene_snapshot, "TRAINER", trainer)
