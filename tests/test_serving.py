"""Settings for serving a class: made once per process, and the one Streamlit reads from its config."""

import tomllib
from pathlib import Path

from optviz import serving

REPO = Path(__file__).resolve().parents[1]


def test_the_process_is_prepared_once(monkeypatch):
    calls = []
    monkeypatch.setattr(serving, "enable_compilation_cache", lambda: calls.append("compilation cache"))
    monkeypatch.setattr(serving, "limit_malloc_arenas", lambda: calls.append("malloc arenas"))
    monkeypatch.setattr(serving.gc, "freeze", lambda: calls.append("gc frozen"))
    serving.prepare_process.cache_clear()
    try:
        serving.prepare_process()
        serving.prepare_process()  # app.py calls it on every page run
    finally:
        serving.prepare_process.cache_clear()
    assert calls == ["compilation cache", "malloc arenas", "gc frozen"]


def test_figures_are_built_one_at_a_time():
    assert serving.figure_slots.acquire(blocking=False)
    try:
        assert not serving.figure_slots.acquire(blocking=False), "a second figure would wait"
    finally:
        serving.figure_slots.release()


def test_streamlit_runs_no_full_garbage_collection_after_every_page_run():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
