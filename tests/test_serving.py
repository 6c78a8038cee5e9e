"""Settings for serving a class: made once per process, and the one Streamlit reads from its config."""

import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

from optviz import serving

REPO = Path(__file__).resolve().parents[1]


def test_the_process_is_prepared_once(monkeypatch):
    calls = []
    monkeypatch.setattr("optviz.warmup.enable_compilation_cache", lambda: calls.append("compilation cache"))
    monkeypatch.setattr(serving, "tune_malloc", lambda: calls.append("malloc tuned"))
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
        "malloc tuned",
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

    # Many small blocks (below mmap's threshold, glibc's default or `tune_malloc`'s, which an app run
    # in this process may have set: they come from the heap), touched, then freed but one in a
    # hundred: the heap cannot shrink from its top, its freed pages stay resident.
    size = serving.MMAP_THRESHOLD_BYTES // 2
    blocks = [libc.malloc(size) for _ in range(4000)]
    for block in blocks:
        ctypes.memset(block, 1, size)
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


# A fresh process allocates 400 blocks of 100 KiB (below glibc's default mmap threshold of 128 KiB),
# each followed by a small block that stays, then frees the big ones; prints how many kB of RSS that
# gave back at once (no malloc_trim). Run apart: the policy would stay with the test process.
FREE_BIG_BLOCKS = """
import ctypes, sys
from optviz import serving
if sys.argv[1] == "tuned":
    assert serving.tune_malloc()
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def rss_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
big, small = [], []
for _ in range(400):
    big.append(libc.malloc(100 * 1024))
    ctypes.memset(big[-1], 1, 100 * 1024)
    small.append(libc.malloc(64))
before = rss_kb()
for block in big:
    libc.free(block)
print(before - rss_kb())
"""


def test_big_blocks_go_back_to_the_system_when_freed():
    """With malloc tuned, a freed 100 KiB block is returned at once, even with small blocks that stay
    allocated around it; with glibc's defaults it stays in the heap (40 MB held here)."""

    def given_back_kb(mode: str) -> int:
        command = [sys.executable, "-c", FREE_BIG_BLOCKS, mode]
        return int(subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True).stdout)

    assert given_back_kb("tuned") > 35_000
    assert given_back_kb("default") < 5_000


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
