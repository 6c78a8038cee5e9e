"""Settings for serving the app to a class, each checked with `python -m bench.load` (a classroom of
sessions changing the lab's controls; its output has the numbers). `prepare_process()` makes all but
two of them, once, at the first page run; of those two, `figure_slots` is taken around each big
figure, and `postScriptGC` is in .streamlit/config.toml.

- JAX's persistent compilation cache (`optviz.warmup`): the first student does not wait for a compile.
- One malloc arena for all threads. Streamlit runs every session's script on a thread of its own, and
  glibc's malloc gives threads arenas of their own (up to 8 per core), each keeping the memory its
  thread freed. So after a classroom the server holds more than after one session, though nothing
  stayed with the sessions (a second classroom does not add to it): it is freed memory kept per
  arena. One arena shared by all keeps most of that from piling up. The Python code of every thread
  runs under one GIL anyway, so sharing the arena costs no measurable time. (MALLOC_ARENA_MAX=1
  would do it from outside, but `streamlit run app.py` is the command people type.)
- Big blocks always from the system (a fixed mmap threshold of 64 KiB). glibc hands out a block of
  at least the threshold by mmap and returns it whole when it is freed, but by default the
  threshold rises to the size of every such block freed (up to 32 MiB): after the first page runs,
  a race chart's message (~90 KB), a cached race (~170 KB) and their arrays are cut from the heap,
  between small objects that outlive them, and after a class those freed pages stay held. Fixed,
  they never enter the heap. After 200 students through two workers each worker stayed 8.4-9.2 %
  above its one-session level in three runs, against 10.0 % and 10.4 % without, at the same CPU per
  page run (python -m bench.load --workers 2 --sessions 200). What remains is Python's own small-object
  arenas (1 MiB each, handed back only when empty): the class's peak adds about 25 of them, which
  the few objects that outlive it (caches, the race route's registry) keep.
- The garbage collector's view of everything loaded at start, frozen (`gc.freeze()`): the objects of
  JAX, Plotly and Streamlit, far more than a page run makes, live as long as the process, so a
  collection that visits them finds nothing. A full collection's cost grows with the objects it
  visits, and these are most of them; everything made later (sessions, figures, caches) is still
  collected.
- One big figure built and sent at a time (`with figure_slots:`, never nested). Building a race chart
  and turning it into JSON makes many short-lived Python objects; page runs interleaved under the
  GIL make them for every session at once, so the peak grows with the class, and the memory they
  were made in stays with the process (fragmented) after the class has gone. Taking turns, the peak
  is one figure's whatever the class size. Under the GIL the threads gain no speed by building them
  together anyway; taking turns, the first to ask gets its chart first.
- No full collection after every page run (`runner.postScriptGC = false`). Streamlit's default
  collects after each run, and a full collection walks every object of every open session: even
  with the frozen start it is a large share of a run for one session, and it grows with the class,
  so with a class it costs more than the page itself, on every run of every session. Python's own
  generational collector still runs.
- Freed memory handed back to the system (`return_freed_memory_every`). A class's sessions free
  what they held when they close, but malloc keeps the freed pages between the ones still in use
  for the process's next requests: after 200 sessions through two workers, each worker stayed 13 %
  above its one-session level (python -m bench.load --workers 2 --sessions 200). glibc's
  `malloc_trim(0)` gives those pages back (it also returns pages inside the heap, not only its
  top); a daemon thread calls it every few seconds, outside the GIL.
- Dropped sessions shut down (`optviz.ui.dropped_sessions`). Streamlit keeps a student's session
  for `server.disconnectedSessionTTL` after the tab closes, in case it reconnects, in a TTL cache of
  128. When that cache drops one (it expired, or 128 newer ones came), nothing shuts it down, so its
  media files stay, and an expired one is only dropped by the cache's next write: after the last
  student of a class left, up to 128 of them stay in each worker, with their state and their last
  messages (a race chart's are ~80 KB). Here dropping shuts the session down, the expired ones are
  dropped every few seconds, and what they held is collected at the next of those calls.
- The theme's settings read once (`read_theme_once`). At the start of every run, a fragment's too,
  Streamlit sends the theme again, reading each of its seven sections by scanning every config
  option: about 1.5 ms of the event loop's time a run, more than a quarter of the CPU of a rerun of
  the lab's race chart (python -m bench.race_chart). The config does not change while the app
  serves (no file watcher, .streamlit/config.toml), so each section is read once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import threading
from collections.abc import Callable

M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # glibc's <malloc.h>
ARENAS = 1
MMAP_THRESHOLD_BYTES = 64 * 1024
TRIM_EVERY_S = 5.0  # how often freed memory goes back to the system
FIGURE_SLOTS = 1

# `with figure_slots:` around building and sending a page's big figure (never nested).
figure_slots = threading.BoundedSemaphore(FIGURE_SLOTS)

log = logging.getLogger(__name__)


@functools.cache
def prepare_process() -> None:
    """The compilation cache, malloc's settings and a frozen start, once per process; call it after the
    app's imports (app.py does, on every page run)."""
    from optviz.ui.dropped_sessions import shut_down_dropped_sessions  # Streamlit's internals: in ui/
    from optviz.warmup import enable_compilation_cache  # imports JAX, which this module's constants need not

    enable_compilation_cache()  # before the first compile
    tune_malloc()
    gc.freeze()  # after the imports: what exists now lives as long as the process
    read_theme_once()
    drop_expired = shut_down_dropped_sessions()
    return_freed_memory_every(TRIM_EVERY_S, before=drop_expired)


def return_freed_memory_every(
    seconds: float, stop: threading.Event | None = None, before: Callable[[], object] | None = None
) -> threading.Thread | None:
    """Start a daemon thread that asks glibc's malloc to give freed pages back every `seconds`, until
    `stop` is set (never, by default), calling `before` first each time (what frees them). Returns
    it; None where there is no `malloc_trim` (macOS, musl, Windows)."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    stop = stop or threading.Event()

    def keep_trimming() -> None:
        while not stop.wait(seconds):
            if before is not None:
                before()
            trim(0)

    thread = threading.Thread(target=keep_trimming, name="optviz-malloc-trim", daemon=True)
    thread.start()
    return thread


def read_theme_once() -> None:
    """Make Streamlit's `config.get_options_for_section` read each theme section once (a copy is
    returned each time, as the original makes a new dict); other sections are read as before."""
    from streamlit import config

    read = config.get_options_for_section
    if getattr(read, "reads_theme_once", False):
        return
    sections: dict[str, dict] = {}

    def get_options_for_section(section: str) -> dict:
        if not section.startswith("theme"):
            return read(section)
        if section not in sections:
            sections[section] = read(section)
        return dict(sections[section])

    get_options_for_section.reads_theme_once = True
    config.get_options_for_section = get_options_for_section


def tune_malloc(arenas: int = ARENAS, mmap_threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Ask glibc's malloc, from now on, to share at most `arenas` arenas among all threads and to
    serve every block of at least `mmap_threshold` bytes by mmap (a fixed threshold).

    Returns whether both took; elsewhere (macOS, musl, Windows) it does nothing and returns False."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    took = mallopt(M_ARENA_MAX, arenas) == 1 and mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1
    if not took:
        log.info("optviz: malloc's settings left as they are (mallopt refused)")
    return took
