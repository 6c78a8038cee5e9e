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
    monkeypatch.setattr(serving, "read_theme_once", lambda: calls.append("theme read once"))
    serving.prepare_process.cache_clear()
    try:
        serving.prepare_process()
        serving.prepare_process()  # app.py calls it on every page run
    finally:
        serving.prepare_process.cache_clear()
    assert calls == ["compilation cache", "malloc arenas", "gc frozen", "theme read once"]


def test_the_theme_is_read_once_and_handed_out_as_copies(monkeypatch):
    from streamlit import config

    reads = []
    original = config.get_options_for_section

    def counted(section):
        reads.append(section)
        return original(section)

    monkeypatch.setattr(config, "get_options_for_section", counted)
    serving.read_theme_once()
    serving.read_theme_once()  # not wrapped twice
    first = config.get_options_for_section("theme")
    first["base"] = "changed by a caller"
    again = config.get_options_for_section("theme")
    assert again == original("theme") and again is not first
    config.get_options_for_section("server")
    config.get_options_for_section("server")
    assert reads == ["theme", "server", "server"]  # other sections are read each time, as before


def test_figures_are_built_one_at_a_time():
    assert serving.figure_slots.acquire(blocking=False)
    try:
        assert not serving.figure_slots.acquire(blocking=False), "a second figure would wait"
    finally:
        serving.figure_slots.release()


def test_streamlit_runs_no_full_garbage_collection_after_every_page_run():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
