"""Settings for serving a class: made once per process, and the one Streamlit reads from its config."""

import threading
import time
import tomllib
from pathlib import Path

from optviz import serving

REPO = Path(__file__).resolve().parents[1]


def test_the_process_is_prepared_once(monkeypatch):
    calls = []
    monkeypatch.setattr("optviz.warmup.enable_compilation_cache", lambda: calls.append("compilation cache"))
    monkeypatch.setattr(serving, "limit_malloc_arenas", lambda: calls.append("malloc arenas"))
    monkeypatch.setattr(serving.gc, "freeze", lambda: calls.append("gc frozen"))
    monkeypatch.setattr(serving, "read_theme_once", lambda: calls.append("theme read once"))
    monkeypatch.setattr(
        "optviz.ui.dropped_sessions.shut_down_dropped_sessions",
        lambda: calls.append("sessions shut down") or "drop_expired",
    )
    monkeypatch.setattr(
        serving,
        "return_freed_memory_every",
        lambda s, before: calls.append(f"trim every {s} s, after {before}"),
    )
    serving.prepare_process.cache_clear()
    try:
        serving.prepare_process()
        serving.prepare_process()  # app.py calls it on every page run
    finally:
        serving.prepare_process.cache_clear()
    assert calls == [
        "compilation cache",
        "malloc arenas",
        "gc frozen",
        "theme read once",
        "sessions shut down",
        f"trim every {serving.TRIM_EVERY_S} s, after drop_expired",
    ]


def test_freed_memory_goes_back_to_the_system():
    """A large freed block that malloc kept is returned by the trimming thread (glibc)."""
    import ctypes

    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]

    def rss_kb() -> int:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))

    # Many small blocks (below mmap's threshold: they come from the heap), touched, then freed but
    # one in a hundred: the heap cannot shrink from its top, its freed pages stay resident.
    blocks = [libc.malloc(64 * 1024) for _ in range(2000)]
    for block in blocks:
        ctypes.memset(block, 1, 64 * 1024)
    for i, block in enumerate(blocks):
        if i % 100:
            libc.free(block)
    before = rss_kb()
    stop = threading.Event()
    dropped = []
    thread = serving.return_freed_memory_every(0.05, stop, before=lambda: dropped.append("sessions"))
    assert thread is not None and thread.daemon
    time.sleep(0.5)
    assert dropped, "what frees memory is called before each trim"
    after = rss_kb()
    stop.set()
    thread.join(timeout=5)
    for i, block in enumerate(blocks):
        if not i % 100:
            libc.free(block)
    assert before - after > 50_000, f"RSS {before} kB before the trim, {after} kB after"


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


def test_no_parent_page_may_steer_the_app():
    """Streamlit trusts its cloud's sites to steer an embedded app by postMessage; optviz trusts none,
    and its page then opens no host channel at all (no echo of every run's events to itself)."""
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["client"]["allowedOrigins"] == []
